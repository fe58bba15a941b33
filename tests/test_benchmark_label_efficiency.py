"""tools/benchmark_label_efficiency.py: the plan, the resumable JSON, the table and the plot, and
one tiny sweep through tools/train.py / tools/test.py."""
import json
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools'))

import benchmark_label_efficiency as bench  # noqa: E402

from mmseg_pixcon.datasets import generate_cityscapes  # noqa: E402

SYNTHETIC_ROOT = 'data/synthetic/cityscapes'  # the checks read no data


def test_plan_gives_the_smallest_budget_more_seeds():
    args = bench.parse_args(['--budgets', '16', '8', 'all', '--seeds', '2',
                             '--seeds-smallest', '3'])
    assert [(s['labeled'], s['seed']) for s in bench.plan(args)] == [
        (16, 0), (16, 1), (8, 0), (8, 1), (8, 2), ('all', 0), ('all', 1)]
    assert args.ce_iters == args.pretrain_iters + args.finetune_iters


def test_baseline_never_gets_less_compute_than_the_recipe():
    with pytest.raises(SystemExit):
        bench.parse_args(['--pretrain-iters', '10', '--finetune-iters', '10', '--ce-iters', '19'])
    assert bench.parse_args(['--pretrain-iters', '10', '--finetune-iters', '10',
                             '--ce-iters', '30']).ce_iters == 30
    with pytest.raises(SystemExit):
        bench.parse_args(['--budgets', '0'])


@pytest.mark.parametrize('flag', ['--cfg-options', '--finetune-options'])
def test_a_val_interval_of_ce_or_stage_2_is_refused(flag):
    # the convergence column needs the validation at 75 % that the benchmark sets
    with pytest.raises(SystemExit):
        bench.parse_args([flag, 'train_cfg.val_interval=50'])
    bench.parse_args(['--pretrain-options', 'train_cfg.val_interval=50'])  # stage 1: its own


@pytest.mark.parametrize('argv, run', [
    (['--pretrain-options', 'train_cfg.max_iters=100'], 'pretrain'),
    (['--finetune-options', 'param_scheduler.0.end=100'], 'finetune'),
    (['--cfg-options', 'train_cfg.max_iters=100', '--skip-pixcon'], 'ce'),
])
def test_an_option_setting_a_length_stops_the_benchmark_before_any_run(tmp_path, argv, run):
    args = bench.parse_args(argv + ['--work-dir', str(tmp_path)])
    configs = bench.resolve_configs(args)
    with pytest.raises(SystemExit, match=f'the run of {configs[run]} for'):
        bench.check_runs(args, configs, SYNTHETIC_ROOT)
    args = bench.parse_args(['--pretrain-options', 'train_dataloader.batch_size=2'])
    bench.check_runs(args, bench.resolve_configs(args), SYNTHETIC_ROOT)  # nothing to refuse


def test_a_stage_two_config_without_the_hook_stops_the_benchmark_before_any_run(tmp_path):
    # the CE config has no LoadStageOneHook: as --finetune-config it would fail only at the
    # first stage 2, after that setting's CE run
    ce = 'configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py'
    args = bench.parse_args(['--finetune-config', ce])
    with pytest.raises(SystemExit, match='exactly one LoadStageOneHook .* it has 0'):
        bench.check_runs(args, bench.resolve_configs(args), SYNTHETIC_ROOT)
    args = bench.parse_args(['--finetune-config', ce, '--skip-pixcon'])
    bench.check_runs(args, bench.resolve_configs(args), SYNTHETIC_ROOT)  # no stage 2 to run
    # the stage-2 options apply: here they turn the config's one hook into another
    args = bench.parse_args(['--finetune-options', 'custom_hooks.0.type=PrototypeHook'])
    with pytest.raises(SystemExit, match='exactly one LoadStageOneHook .* it has 0'):
        bench.check_runs(args, bench.resolve_configs(args), SYNTHETIC_ROOT)
    # real data: CE alone is the stage-2 config without the hook, so it needs the hook too
    args = bench.parse_args(['--data-root', str(tmp_path), '--finetune-config', ce,
                             '--skip-pixcon'])
    with pytest.raises(SystemExit, match='exactly one LoadStageOneHook .* it has 0'):
        bench.check_runs(args, bench.resolve_configs(args), str(tmp_path))
    # ... and with the default stage-2 config it passes: its CE-only config is written and loaded
    args = bench.parse_args(['--data-root', str(tmp_path), '--skip-pixcon'])
    bench.check_runs(args, bench.resolve_configs(args), str(tmp_path))


def test_main_checks_every_run_before_training_anything(tmp_path, monkeypatch):
    # a stage-2 option that sets its length: refused before the first setting's CE run trains
    root = tmp_path / 'cityscapes'
    generate_cityscapes(str(root), seed=0, num_train=2, num_val=1, size=(32, 64))

    def train(config, *args, **kwargs):
        raise AssertionError(f'{config} trained before the check')

    monkeypatch.setattr(bench.run_recipe, 'train', train)
    with pytest.raises(SystemExit, match='param_scheduler.0.end'):
        bench.main(['--data-root', str(root), '--budgets', 'all', '--seeds', '1',
                    '--finetune-options', 'param_scheduler.0.end=100',
                    '--out', str(tmp_path / 'bench'), '--work-dir', str(tmp_path / 'work')])


def test_a_json_of_other_settings_is_refused(tmp_path):
    args = bench.parse_args([])
    identity = bench.identity(args, dict(ce='a.py'), 'data/x')
    path = tmp_path / 'r.json'
    path.write_text(json.dumps(dict(identity, settings=[dict(labeled=8, seed=0, ce_miou=1.0)])))
    assert bench.load_results(path, identity)['settings'][0]['ce_miou'] == 1.0
    other = bench.identity(bench.parse_args(['--pretrain-iters', '7']), dict(ce='a.py'), 'data/x')
    with pytest.raises(SystemExit, match='iters'):
        bench.load_results(path, other)


def test_table_gives_mean_sd_gain_and_convergence():
    results = dict(dataset='cityscapes', data_root='r', command='c', machine='m',
                   iters=dict(pretrain=5, finetune=5, ce=10), settings=[
                       dict(labeled=8, seed=0, ce_miou=10.0, ce_miou_75=9.5, pixcon_miou=14.0,
                            proto_miou=8.0, ce_minutes=1.0, pixcon_minutes=2.0),
                       dict(labeled=8, seed=1, ce_miou=12.0, ce_miou_75=11.0, pixcon_miou=13.0,
                            proto_miou=9.0, ce_minutes=1.0, pixcon_minutes=2.0)])
    row = [line for line in bench.markdown(results).splitlines() if line.startswith('| 8 ')][0]
    cells = [cell.strip() for cell in row.strip('|').split('|')]
    assert cells[1] == '0, 1'
    assert cells[2] == '11.00 ± 1.41 [10.0, 12.0]'
    assert cells[3] == '9.5→10.0, 11.0→12.0'
    assert cells[4] == '13.50 ± 0.71 [14.0, 13.0]'
    assert cells[6] == '2.50 ± 2.12'  # gains 4 and 1


def test_table_names_the_machine_of_each_run_when_they_differ():
    results = dict(machine='B', settings=[
        dict(labeled=8, seed=0, ce_miou=1.0, pixcon_miou=2.0, ce_machine='A', pixcon_machine='A'),
        dict(labeled=8, seed=1, ce_miou=1.0, pixcon_miou=2.0, ce_machine='B', pixcon_machine='B'),
        dict(labeled=8, seed=2, ce_miou=1.0)])  # written before runs recorded their machine
    assert bench.machines(results) == 'A: ce 8/0, pixcon 8/0; B: ce 8/1, pixcon 8/1, ce 8/2'
    results['settings'] = results['settings'][1:]
    assert bench.machines(results) == 'B'


def test_an_entry_without_its_75_value_gets_it_from_its_curve(tmp_path):
    identity = bench.identity(bench.parse_args(['--pretrain-iters', '750', '--finetune-iters',
                                                '1500']), dict(ce='a.py'), 'data/x')
    curve = {'562': 9.9, '1124': 13.4, '1686': 14.9, '2248': 15.0, '2250': 15.2}
    path = tmp_path / 'r.json'
    path.write_text(json.dumps(dict(identity, settings=[
        dict(labeled=8, seed=0, ce_miou=15.2, ce_miou_75=None, ce_curve=curve)])))
    assert bench.load_results(path, identity)['settings'][0]['ce_miou_75'] == 14.9


def test_budgets_are_tabled_in_increasing_order_all_last():
    results = dict(settings=[dict(labeled=label, seed=0) for label in ('all', 32, 8, 16)])
    assert list(bench.by_budget(results)) == [8, 16, 32, 'all']


def test_value_at_75_reads_the_third_validation():
    # 2250 iterations validate every round(562.5) = 562: at 562, 1124, 1686, 2248 and the end;
    # round(0.75 * 2250) = 1688 is never validated
    curve = {'562': 9.9, '1124': 13.4, '1686': 14.9, '2248': 15.0, '2250': 15.2}
    assert bench.value_at_75(curve, 2250) == 14.9
    assert bench.value_at_75({1125: 1.0}, 1500) == 1.0  # int keys too; 1500: every 375
    assert bench.value_at_75({1: 1.0}, 2) is None  # interval 1: the third validation is past 2


def test_output_paths_keep_a_dot_in_the_stem():
    paths = bench.output_paths('benchmarks/levers/temperature_0.1')
    assert [str(paths[s]) for s in ('json', 'md', 'png')] == [
        'benchmarks/levers/temperature_0.1.json', 'benchmarks/levers/temperature_0.1.md',
        'benchmarks/levers/temperature_0.1.png']


def test_tiny_sweep_end_to_end_and_resume(tmp_path):
    root = tmp_path / 'cityscapes'
    generate_cityscapes(str(root), seed=0, num_train=4, num_val=2, size=(64, 128))
    out = tmp_path / 'bench'
    # A split file (the path real budgets take) and 'all' (no split: the config's whole train
    # set); each budget costs three tools/train.py runs; the table's order is tested above.
    argv = ['--data-root', str(root), '--budgets', '2', 'all', '--seeds', '1',
            '--seeds-smallest', '1', '--pretrain-iters', '2', '--finetune-iters', '2',
            '--ce-config', 'configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py',
            '--pretrain-config', 'configs/pixcon/synthetic/deeplabv3plus_r18_syncity_pretrain.py',
            '--finetune-config', 'configs/pixcon/synthetic/deeplabv3plus_r18_syncity_finetune.py',
            '--cfg-options', 'train_dataloader.batch_size=2',
            '--out', str(out), '--work-dir', str(tmp_path / 'work')]
    bench.main(argv + ['--skip-pixcon'])
    results = json.loads(out.with_suffix('.json').read_text())
    assert [(e['labeled'], e['seed']) for e in results['settings']] == [(2, 0), ('all', 0)]
    for entry in results['settings']:
        assert set(entry['ce_curve']) == {'1', '2', '3', '4'}  # val at 25/50/75/100 % of 4
        assert entry['ce_miou_75'] == entry['ce_curve']['3']
        assert 'pixcon_miou' not in entry
    assert [e['split'] for e in results['settings']] == ['splits/train_2_seed0.txt', 'all']
    # what tools/train.py ran with (the config it dumps into its work dir): the 2-image split,
    # and for 'all' the CE config's own setting, untouched (none: every image of the train dir)
    ce_config = Config.fromfile(REPO / 'configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py')
    ran = [Config.fromfile(tmp_path / 'work' / run / 'ce' / 'deeplabv3plus_r18_syncity_ce.py')
           for run in ('2_seed0', 'all_seed0')]
    assert [cfg.train_dataloader.dataset.get('ann_file', '') for cfg in ran] == [
        'splits/train_2_seed0.txt', ce_config.train_dataloader.dataset.get('ann_file', '')]
    bench.main(argv)  # resumes: runs only the recipe
    results = json.loads(out.with_suffix('.json').read_text())
    for entry in results['settings']:
        assert 0 <= entry['pixcon_miou'] <= 100 and entry['proto_miou'] is not None
        assert set(entry['pixcon_curve']) == {'1', '2'}
        assert entry['ce_machine'] == entry['pixcon_machine'] == results['machine']
    assert out.with_suffix('.png').stat().st_size > 0
    table = out.with_suffix('.md').read_text()
    assert '| 2 | 0 |' in table and '| all | 0 |' in table
