"""The paired t test the stage-1 lever tables print beside their gains
(benchmarks/stage1_levers/cosine_prototypes_table.py: stdlib only, so checked here against
closed forms, published critical values and scipy), and the 20x table's correlation of CE alone
with the recipes and their gains (stage1_10x_then_10x_table.py), against hand-computed values,
and which seeds that table takes (those with every arm in one draw)."""
import json
import math
import re
import sys
from pathlib import Path

import pytest
from script_modules import load_script

TABLE = Path(__file__).parents[1] / 'benchmarks' / 'stage1_levers' / 'cosine_prototypes_table.py'
table = load_script(TABLE)


@pytest.mark.parametrize('t', [0.3, 1.0, 2.5, 12.7])
def test_one_degree_of_freedom_is_the_cauchy_tail(t):
    assert table.two_sided_p(t, 1) == pytest.approx(1 - 2 * math.atan(t) / math.pi, abs=1e-12)


@pytest.mark.parametrize('t', [0.5, 2.0, 4.303])
def test_two_degrees_of_freedom_closed_form(t):
    # P(|T| < t) = t / sqrt(t^2 + 2) for 2 degrees of freedom
    assert table.two_sided_p(t, 2) == pytest.approx(1 - t / math.sqrt(t * t + 2), abs=1e-12)


@pytest.mark.parametrize('df, t_975, t_995', [(2, 4.303, 9.925), (3, 3.182, 5.841),
                                              (4, 2.776, 4.604), (5, 2.571, 4.032),
                                              (10, 2.228, 3.169), (29, 2.045, 2.756)])
def test_published_critical_values_give_five_and_one_percent(df, t_975, t_995):
    assert table.two_sided_p(t_975, df) == pytest.approx(0.05, abs=5e-4)
    assert table.two_sided_p(-t_995, df) == pytest.approx(0.01, abs=2e-4)


def test_agrees_with_scipy():
    stats = pytest.importorskip('scipy.stats')
    for df in range(1, 31):
        for t in (0.0, 0.1, 0.9, 1.7, 3.3, 8.0):
            assert table.two_sided_p(t, df) == pytest.approx(2 * stats.t.sf(t, df), abs=1e-10)


def test_zero_t_is_p_one_and_bad_degrees_of_freedom_raise():
    assert table.two_sided_p(0.0, 4) == pytest.approx(1.0)
    with pytest.raises(ValueError, match='degrees of freedom'):
        table.two_sided_p(1.0, 0)
    with pytest.raises(ValueError, match='degrees of freedom'):
        table.two_sided_p(1.0, 2.5)


def test_paired_t_by_hand():
    # mean 2, sd 1, n 3: t = 2 / (1 / sqrt 3); p = 1 - t / sqrt(t^2 + 2) on 2 degrees of freedom
    t, df, p = table.paired_t([1.0, 2.0, 3.0])
    assert t == pytest.approx(2 * math.sqrt(3))
    assert df == 2
    assert p == pytest.approx(1 - t / math.sqrt(t * t + 2))
    t, _, p_flipped = table.paired_t([-1.0, -2.0, -3.0])
    assert t == pytest.approx(-2 * math.sqrt(3)) and p_flipped == pytest.approx(p)


def test_paired_t_refuses_what_has_no_t():
    with pytest.raises(ValueError, match='at least two'):
        table.paired_t([1.0])
    with pytest.raises(ValueError, match='no spread'):
        table.paired_t([0.5, 0.5, 0.5])


def test_gain_cell_adds_the_test_from_three_seeds():
    assert table.gain_cell([1.0, -0.5]) == '+1.00, -0.50; **+0.25 ± 1.06**'
    three = table.gain_cell([1.0, 2.0, 3.0])
    assert three.startswith('+1.00, +2.00, +3.00; **+2.00 ± 1.00** (t = 3.46, 2 df, p = 0.074)')


def test_t_test_text_is_empty_without_a_test():
    assert table.t_test_text([1.0, 2.0]) == ''
    assert table.t_test_text([0.5, 0.5, 0.5]) == ''
    assert table.t_test_text([1.0, 2.0, 3.0]) == 't = 3.46, 2 df, p = 0.074'


def test_correlation_with_ce_by_hand(monkeypatch):
    table_20x = load_table_20x(monkeypatch)
    assert table_20x.MIN_SEEDS_CORRELATION == 5
    # CE 1..5 (deviations -2, -1, 0, 1, 2); readout 2·CE (r +1; gain = CE: +1); paper's 5..1
    # (r -1; gain 4, 2, 0, -2, -4: -1); cosine 1, 3, 2, 5, 4 (deviations -2, 0, -1, 2, 1:
    # r = 8/10; gain 0, 1, -1, 1, -1: r = -2/√(10·4) = -0.32)
    columns = {'CE 16,500': [1, 2, 3, 4, 5], 'readout 20x': [2, 4, 6, 8, 10],
               "paper's stage 2 20x": [5, 4, 3, 2, 1], 'cosine stage 2 20x': [1, 3, 2, 5, 4]}
    rows = {seed: {title: float(v[seed]) for title, v in columns.items()} for seed in range(5)}
    text = table_20x.correlation_text(rows)
    assert text.endswith("readout 20x +1.00 / +1.00, paper's stage 2 20x -1.00 / -1.00, "
                         'cosine stage 2 20x +0.80 / -0.32.')
    for seed in range(5):  # readout = CE + 1: its gain has no spread, so no correlation
        rows[seed]['readout 20x'] = rows[seed]['CE 16,500'] + 1
    assert 'readout 20x +1.00 / —,' in table_20x.correlation_text(rows)
    assert table_20x.correlation_text({seed: rows[seed] for seed in range(4)}) == ''


def test_curve_rounds_the_recorded_decimals_half_up():
    # 24.65 and 21.95 are stored as binary floats just below the half; the records' text is exact
    assert f'{24.65:.1f}' == '24.6'
    assert table.curve('24.6500 21.9500 26.1500 15.5100 ') == '24.7, 22.0, 26.2, 15.5'


def load_table_20x(monkeypatch):
    """stage1_10x_then_10x_table.py, importing the module above by name as the script does."""
    monkeypatch.setitem(sys.modules, 'cosine_prototypes_table', table)
    return load_script(TABLE.with_name('stage1_10x_then_10x_table.py'))


def test_a_seed_enters_with_every_arm_in_its_draw(monkeypatch, tmp_path):
    table_20x = load_table_20x(monkeypatch)
    monkeypatch.setattr(table, 'HERE', tmp_path)
    amd_23, amd_25 = table_20x.ONE_DRAW
    intel = 'Intel(R) Xeon(R) Processor (family 6, model 167, stepping 1; torch AVX512)'
    # seed 0: split over the two machines of ONE_DRAW; seed 8: all on one Intel machine;
    # seed 9: its paper's stage 2 20x on another machine than the rest, so not one draw
    machine_of = {0: lambda name: amd_23 if 'then' in name else amd_25,
                  8: lambda name: intel, 9: lambda name: amd_25 if name == 'stage2_10x_then_10x'
                  else intel}
    arms = {**table_20x.ARMS, **table_20x.COSINE_HEAD}
    for n, (names, key) in enumerate(arms.values()):
        lines = [json.dumps({'seed': seed, key: 20.0 + n + seed / 10,
                             'machine': machine_of[seed](names[0])}) for seed in (0, 8, 9)]
        (tmp_path / f'{names[0]}.jsonl').write_text('\n'.join(lines) + '\n')
    draws = table_20x.seed_draws()
    assert draws[8] == (intel,) and draws[0] == table_20x.ONE_DRAW
    rows = table_20x.seed_values({}, draws)
    assert sorted(rows) == [0, 8]
    assert rows[8]['CE 9,000'] == pytest.approx(20.8) and rows[0]['CE 16,500'] == 21.0


def test_a_budget_reads_only_its_own_records(monkeypatch, tmp_path):
    # --labeled all reads the _kall files lever_runs.sh writes with LABELED=all, never the
    # 8-image files of the same seed, and the 8-image table never the _kall ones
    table_20x = load_table_20x(monkeypatch)
    monkeypatch.setattr(table, 'HERE', tmp_path)
    intel = 'Intel(R) Xeon(R) Processor (family 6, model 167, stepping 1; torch AVX512)'
    assert table_20x.records_suffix('8') == '' and table_20x.records_suffix('all') == '_kall'
    for suffix, base in (('', 20.0), ('_kall', 30.0)):
        for n, (names, key) in enumerate(table_20x.ARMS.values()):
            record = {'seed': 0, key: base + n, 'machine': intel}
            (tmp_path / f'{names[0]}{suffix}.jsonl').write_text(json.dumps(record) + '\n')
    (tmp_path / 'ce_10x_then_10x_kall.jsonl').unlink()  # seed 0 lacks an arm with all labels
    assert table_20x.seed_values({}, table_20x.seed_draws('_kall'), '_kall') == {}
    eight = table_20x.seed_values({}, table_20x.seed_draws())
    assert eight[0]['CE 9,000'] == 20.0 and eight[0]['CE 16,500'] == 21.0
    record = {'seed': 0, 'ce_miou': 31.5, 'machine': intel}
    (tmp_path / 'ce_10x_then_10x_kall.jsonl').write_text(json.dumps(record) + '\n')
    rows = table_20x.seed_values({}, table_20x.seed_draws('_kall'), '_kall')
    assert rows[0]['CE 9,000'] == 30.0 and rows[0]['CE 16,500'] == 31.5


def test_stage2_9000_table_takes_one_machine_and_the_last_quarter(monkeypatch, tmp_path):
    # stage2_9000_table.py: a seed enters with every arm on the machine of its 7,500 + 9,000
    # paper's recipe, read from its budget's files; the last quarter is the curve's 4th - 3rd
    monkeypatch.setitem(sys.modules, 'cosine_prototypes_table', table)
    monkeypatch.setitem(sys.modules, 'stage1_10x_then_10x_table', load_table_20x(monkeypatch))
    table_9000 = load_script(TABLE.with_name('stage2_9000_table.py'))
    monkeypatch.setattr(table, 'HERE', tmp_path)
    intel, amd = 'Intel Xeon', 'AMD EPYC'
    for n, (name, key) in enumerate(table_9000.ARMS.values()):
        lines = [{'seed': 0, key: 30.0 + n, 'machine': intel,
                  table_9000.CURVE_9000: '20.0 25.5 31.25 34.0'},
                 {'seed': 1, key: 31.0 + n, 'machine': amd if key == 'ce_miou' else intel}]
        (tmp_path / f'{name}_kall.jsonl').write_text(
            '\n'.join(json.dumps(line) for line in lines) + '\n')
    assert table_9000.seed_rows('') == {}  # the 8-image files are not there
    rows = table_9000.seed_rows('_kall')
    assert list(rows) == [0]  # seed 1's CE alone ran on another machine
    assert rows[0]['CE 16,500']['ce_miou'] == 31.0
    assert rows[0]['cosine 7,500 + 9,000']['pixcon_miou'] == 38.0
    assert table_9000.last_quarter(rows[0]["paper's 7,500 + 9,000"]) == pytest.approx(2.75)
    # without its cosine stage 2s, its 15,000 + 1,500 runs and the 24,000-iteration arms a seed
    # still enters, its row without those arms
    optional = [title for title in table_9000.ARMS if title not in table_9000.REQUIRED]
    assert len(optional) == 6
    for title in optional:
        (tmp_path / f'{table_9000.ARMS[title][0]}_kall.jsonl').unlink()
    rows = table_9000.seed_rows('_kall')
    assert list(rows) == [0] and sorted(rows[0]) == sorted(table_9000.REQUIRED)
    (tmp_path / 'stage2_10x_kall.jsonl').unlink()  # but not without a REQUIRED arm
    assert table_9000.seed_rows('_kall') == {}


def test_stage2_9000_gains_over_the_seeds_that_have_the_arm(monkeypatch, tmp_path, capsys):
    # a gain column over fewer seeds than its row names them first (the seeds with both of its
    # arms); a row's seeds are those with its 7,500 + 9,000; an arm no seed has prints '—'
    monkeypatch.setitem(sys.modules, 'cosine_prototypes_table', table)
    monkeypatch.setitem(sys.modules, 'stage1_10x_then_10x_table', load_table_20x(monkeypatch))
    table_9000 = load_script(TABLE.with_name('stage2_9000_table.py'))
    monkeypatch.setattr(table, 'HERE', tmp_path)
    curve = {table_9000.CURVE_9000: '20.0 25.5 31.25 34.0'}
    seeds_with = {"paper's 15,000 + 1,500": [0, 2], 'cosine 7,500 + 9,000': [1, 2],
                  'cosine 7,500 + 1,500': [2], 'cosine 15,000 + 1,500': [],
                  "paper's 15,000 + 9,000": [0, 1], 'CE 24,000': [1, 2]}
    for n, (title, (name, key)) in enumerate(table_9000.ARMS.items()):
        lines = [{'seed': seed, key: 30.0 + n + seed, 'machine': 'Intel Xeon', **curve}
                 for seed in seeds_with.get(title, [0, 1, 2])]
        (tmp_path / f'{name}.jsonl').write_text(''.join(json.dumps(x) + '\n' for x in lines))
    table_9000.print_budget('8')
    lines = capsys.readouterr().out.splitlines()
    paper = next(line for line in lines if line.startswith("| paper's |"))
    cosine = next(line for line in lines if line.startswith('| cosine (seeds 1, 2) |'))
    # paper's 7,500 + 9,000 (column 5) - CE 16,500 (column 1) = +4 on every seed
    assert paper.split(' | ')[1].startswith('+4.00, +4.00, +4.00; **+4.00 ± 0.00**')
    # paper's 15,000 + 1,500 (column 4) - CE 16,500 on the two seeds that have it
    assert paper.split(' | ')[2] == 'seeds 0, 2: +3.00, +3.00; **+3.00 ± 0.00**'
    assert cosine.split(' | ')[2] == '—'
    assert cosine.split(' | ')[1] == '+7.00, +7.00; **+7.00 ± 0.00**'
    # cosine 7,500 + 9,000 - cosine 7,500 + 1,500: only seed 2 has both
    assert cosine.split(' | ')[4] == 'seed 2: +2.00; **+2.00**'
    # paper's 15,000 + 9,000 (column 9) - CE 24,000 (column 10), on seed 1 alone, and its shift
    # over paper's 7,500 + 9,000 - CE 16,500 (+4): -1 - 4
    assert paper.split(' | ')[6] == 'seed 1: -1.00; **-1.00**'
    assert paper.split(' | ')[7] == 'seed 1: -5.00; **-5.00** |'
    assert any(line.startswith('| mean ± sd |') and '(2 seeds)' in line for line in lines)


def test_stage2_9000_default_budgets_are_the_record_files(monkeypatch, tmp_path):
    # the budgets stage2_9000_table.py prints without --labeled: those with a record file of the
    # paper's 7,500 + 9,000 under records_suffix's name (none: 8 images, _k<K>, _kall), fewest
    # labels first; another arm's file, or a name that only starts like it, is no budget
    monkeypatch.setitem(sys.modules, 'cosine_prototypes_table', table)
    monkeypatch.setitem(sys.modules, 'stage1_10x_then_10x_table', load_table_20x(monkeypatch))
    table_9000 = load_script(TABLE.with_name('stage2_9000_table.py'))
    monkeypatch.setattr(table, 'HERE', tmp_path)
    assert table_9000.budgets_with_records() == []
    for suffix in ['_kall', '_k32', '', '_k100', '_k16', '_backup', '_k8x', '_k8', '_k016']:
        (tmp_path / f'stage2_10x_stage2_9000{suffix}.jsonl').write_text('')
    (tmp_path / 'cosine_prototypes_lr0.005_10x_stage2_9000_k4.jsonl').write_text('')
    assert table_9000.budgets_with_records() == ['8', '16', '32', '100', 'all']
    (tmp_path / 'stage2_10x_stage2_9000.jsonl').unlink()  # _k8 is not the 8-image file
    assert table_9000.budgets_with_records() == ['16', '32', '100', 'all']


def load_lever_table(monkeypatch, tmp_path):
    """stage1_lever_table.py, reading its records from tmp_path."""
    monkeypatch.setitem(sys.modules, 'cosine_prototypes_table', table)
    monkeypatch.setitem(sys.modules, 'stage1_10x_then_10x_table', load_table_20x(monkeypatch))
    monkeypatch.setattr(table, 'HERE', tmp_path)
    return load_script(TABLE.with_name('stage1_lever_table.py'))


def write_arms(lever, tmp_path, values, suffix='', control=None, other_cpu=(), minutes=None):
    """A record of each arm (record name → value) for seeds 0-2: value + seed, on an AMD EPYC but
    the (seed, name) pairs in other_cpu; minutes 16 unless minutes (name → minutes) says."""
    for name, value in values.items():
        key = next(k for n, k in lever.arms('_b8', control).values() if n == name)
        lines = [{'seed': seed, key: value + seed, 'minutes': (minutes or {}).get(name, 16),
                  'machine': 'Intel Xeon' if (seed, name) in other_cpu else 'AMD EPYC'}
                 for seed in (0, 1, 2)]
        if name == 'stage1_10x_b8':
            for line in lines:
                line['options'] = 'train_dataloader.batch_size=8'
        (tmp_path / f'{name}{suffix}.jsonl').write_text(
            ''.join(json.dumps(x) + '\n' for x in lines))


LEVER_ARMS = {'ce_10x_then_10x': 20.0, 'stage1_10x': 18.0, 'stage1_10x_b8': 21.5,
              'stage2_10x_stage2_9000': 22.0, 'stage2_10x_b8_stage2_9000': 25.0}


def test_stage1_lever_table_pairs_the_lever_with_its_machine_controls(monkeypatch, tmp_path,
                                                                      capsys):
    # stage1_lever_table.py: a seed enters with its lever stage 2 and every control arm on that
    # stage 2's machine; the differences are lever - unchanged and each gain over CE 16,500
    lever = load_lever_table(monkeypatch, tmp_path)
    write_arms(lever, tmp_path, LEVER_ARMS, other_cpu={(2, 'stage1_10x')})
    assert list(lever.seed_rows('_b8', '')) == [0, 1]  # seed 2's unchanged stage 1: another CPU
    assert lever.seed_rows('_b16', '') == {}
    lever.print_tables('_b8', '8')
    out = capsys.readouterr().out
    assert '| 1 | 21.00 | 19.00 | 22.50 | 23.00 | 26.00 |' in out
    assert '| gain, _b8 | +5.00, +5.00; **+5.00 ± 0.00** |' in out
    assert '| _b8 − unchanged, 7,500 + 9,000 | +3.00, +3.00; **+3.00 ± 0.00** |' in out
    assert '| _b8 − unchanged, readout | +3.50, +3.50; **+3.50 ± 0.00** |' in out


def test_stage1_lever_table_adds_a_second_control(monkeypatch, tmp_path, capsys):
    # --control stage1_20x: its readout, its stage 2 (stage2_20x_stage2_9000) and CE alone given
    # its 24,000 iterations join as arms, on the lever's machine like the others; the lever is
    # compared with them too, and the control recipe with CE at the same iterations
    lever = load_lever_table(monkeypatch, tmp_path)
    lever.print_tables('_b8', '32', 'stage1_20x')
    assert capsys.readouterr().out.endswith(
        'No records in ce_10x_then_10x_k32, stage1_10x_k32, stage1_10x_b8_k32, '
        'stage2_10x_stage2_9000_k32, stage2_10x_b8_stage2_9000_k32, stage1_20x_k32, '
        'stage2_20x_stage2_9000_k32, ce_10x_then_10x_then_10x_k32.\n')
    write_arms(lever, tmp_path, dict(LEVER_ARMS, stage1_20x=21.0, stage2_20x_stage2_9000=26.0,
                                     ce_10x_then_10x_then_10x=27.5),
               '_k32', 'stage1_20x', other_cpu={(1, 'stage1_20x')}, minutes={'stage1_20x': 32})
    assert list(lever.seed_rows('_b8', '_k32')) == [0, 1, 2]
    assert list(lever.seed_rows('_b8', '_k32', 'stage1_20x')) == [0, 2]  # 1: another CPU
    lever.print_tables('_b8', '32', 'stage1_20x')
    out = capsys.readouterr().out
    assert out.startswith('## 32 labelled images, stage-1 lever _b8, second control stage1_20x')
    assert '| 2 | 22.00 | 20.00 | 23.50 | 24.00 | 27.00 | 23.00 | 28.00 | 29.50 |' in out
    assert 'stage 1 16 / 16 / 32 min (unchanged / lever / stage1_20x)' in out
    assert ('| stage1_20x + 9,000 − CE 16,500 (more iterations than CE) | +6.00, +6.00; '
            '**+6.00 ± 0.00** |') in out
    assert '| stage1_20x − unchanged, each + 9,000 | +4.00, +4.00; **+4.00 ± 0.00** |' in out
    assert '| _b8 − stage1_20x, each + 9,000 | -1.00, -1.00; **-1.00 ± 0.00** |' in out
    assert '| _b8 − stage1_20x, readout | +0.50, +0.50; **+0.50 ± 0.00** |' in out
    assert ('| stage1_20x + 9,000 − CE 24,000 (the same iterations) | -1.50, -1.50; '
            '**-1.50 ± 0.00** |') in out
    assert '| CE 24,000 − CE 16,500 | +7.50, +7.50; **+7.50 ± 0.00** |' in out
    # a control with no CE run given its iterations has no such column; where it has one, a
    # seed without that record leaves the control's table
    assert 'CE 24,000' not in lever.arms('_b8', 'stage1_40x')
    ce_24000 = tmp_path / 'ce_10x_then_10x_then_10x_k32.jsonl'
    ce_24000.write_text(ce_24000.read_text().splitlines(keepends=True)[0])  # seed 0 only
    assert list(lever.seed_rows('_b8', '_k32', 'stage1_20x')) == [0]


def test_stage1_lever_table_refuses_a_control_that_is_no_stage_one(monkeypatch, tmp_path, capsys):
    lever = load_lever_table(monkeypatch, tmp_path)
    monkeypatch.setattr(sys, 'argv', ['stage1_lever_table.py', '--tag', '_b8', '--control', '20x'])
    with pytest.raises(SystemExit):
        lever.main()
    assert '--control 20x: a stage 1 of lever_runs.sh' in capsys.readouterr().err


def test_width_table_pairs_each_seed_on_one_machine(monkeypatch, tmp_path, capsys):
    # width_table.py: a seed enters with every arm of both widths on its width-32 stage 2's
    # machine; gain = 7,500 + 1,500 - CE 9,000 per width, and its shift from 16 to 32
    monkeypatch.setitem(sys.modules, 'cosine_prototypes_table', table)
    monkeypatch.setitem(sys.modules, 'stage1_10x_then_10x_table', load_table_20x(monkeypatch))
    monkeypatch.setattr(table, 'HERE', tmp_path)
    table_9000 = load_script(TABLE.with_name('stage2_9000_table.py'))
    monkeypatch.setitem(sys.modules, 'stage2_9000_table', table_9000)
    width_table = load_script(TABLE.with_name('width_table.py'))
    values = {16: {'CE 9,000': 20.0, 'readout': 19.0, '7,500 + 1,500': 22.5},
              32: {'CE 9,000': 21.0, 'readout': 18.0, '7,500 + 1,500': 27.0}}
    for width, arms in width_table.WIDTHS.items():
        for arm, (name, key) in arms.items():
            lines = [{'seed': seed, key: values[width][arm] + seed, 'minutes': 10 + width,
                      'machine': 'Intel Xeon' if (seed, width, arm) != (1, 16, 'readout')
                      else 'AMD EPYC', table_9000.CURVE_9000: '10.0 15.0 19.5 20.0'}
                     for seed in (0, 1, 2)]
            (tmp_path / f'{name}.jsonl').write_text(''.join(json.dumps(x) + '\n' for x in lines))
    rows = width_table.seed_rows()
    assert list(rows) == [0, 2]  # seed 1's width-16 stage 1 ran on another machine
    assert width_table.last_quarter(rows[0][32]['CE 9,000']) == pytest.approx(0.5)
    width_table.main()
    out = capsys.readouterr().out
    # gains +2.5 (width 16) and +6 (width 32) on both seeds, a shift of +3.5
    assert '| gain, width 16 (7,500 + 1,500 − CE 9,000) | +2.50, +2.50; **+2.50 ± 0.00** |' in out
    assert '| gain, width 32 (7,500 + 1,500 − CE 9,000) | +6.00, +6.00; **+6.00 ± 0.00** |' in out
    assert '| width 32 − width 16, gain | +3.50, +3.50; **+3.50 ± 0.00** |' in out
    assert '| width 32 − width 16, readout | -1.00, -1.00; **-1.00 ± 0.00** |' in out
    assert '| 2 | 22.00 | 21.00 | 24.50 | 23.00 | 20.00 | 29.00 |' in out


def test_width_lever_stage1_gets_the_widths_of_its_ce_and_stage2_configs():
    # width32_10x.sh's STAGE1_OPTIONS (stage 1's widths) against configs/ce_w32.py's model, the
    # widths its stage 2 (finetune_w32.py) and CE alone train with: a stage 1 of other widths
    # would only fail at LoadStageOneHook's load, after its 7,500 iterations
    from mmengine import Config
    levers = TABLE.parent
    script = (levers / 'width32_10x.sh').read_text()
    options = re.search(r'STAGE1_OPTIONS="(.*?)"', script, re.S)[1].replace('\\\n', ' ').split()
    assert len(options) == 6
    model = Config.fromfile(str(levers / 'configs' / 'ce_w32.py')).model
    for option in options:
        key, value = option.split('=')
        node = model
        for part in key.split('.')[1:]:
            node = node[part]
        assert node == int(value), option
    finetune = Config.fromfile(str(levers / 'configs' / 'finetune_w32.py')).model
    assert finetune.backbone == model.backbone and finetune.decode_head == model.decode_head
