"""benchmarks/stage1_levers/lever_runs.sh's label budget (LABELED): the train split each run
gets, the record files' suffix, the budget written into each record and the work dirs; and its
stage-2 length (STAGE2_ITERS): the schedule, work dir and record file of stage2_from_10x. Read by
sourcing the script in bash as the lever scripts do."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LEVER_RUNS = Path(__file__).parents[1] / 'benchmarks' / 'stage1_levers' / 'lever_runs.sh'
# The variables that change a lever run's budget, name, length or options: a shell that
# exported one must not change what the tests read.
LEVER_VARIABLES = ('LABELED', 'STAGE2_ITERS', 'STAGE1_INIT', 'STAGE1_ITERS', 'STAGE1_TAG',
                   'STAGE1_OPTIONS')


def lever_env(variables):
    """This process's environment without LEVER_VARIABLES, then ``variables``."""
    env = {k: v for k, v in os.environ.items() if k not in LEVER_VARIABLES}
    return {**env, **variables}


def sourced_with(variables, *commands):
    """The finished ``bash -c`` of ``commands`` after sourcing lever_runs.sh with the lever
    ``variables`` (and no other lever variable) set."""
    script = '; '.join([f'source {LEVER_RUNS}', *commands])
    return subprocess.run(['bash', '-c', script], env=lever_env(variables), capture_output=True,
                          text=True)


def sourced(labeled, *commands):
    """The stdout lines of ``commands`` run after sourcing lever_runs.sh with LABELED=``labeled``
    (unset for None)."""
    result = sourced_with({} if labeled is None else {'LABELED': labeled}, *commands)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def options(line):
    """key → value of a line of --cfg-options."""
    return dict(option.split('=', 1) for option in line.split())


@pytest.mark.parametrize('labeled, split', [(None, 'splits/train_8_seed3.txt'),
                                            ('16', 'splits/train_16_seed3.txt')])
def test_a_number_trains_on_its_split_of_the_seed(labeled, split):
    suffix, budget, data = sourced(labeled, 'echo "[$RECORDS]"', 'labeled_json',
                                   'data_options 3')
    assert suffix == ('[]' if labeled is None else '[_k16]')
    assert json.loads(budget) == (8 if labeled is None else 16)
    data = options(data)
    assert data['train_dataloader.dataset.ann_file'] == split
    assert data['randomness.seed'] == '3'


def test_all_trains_on_every_image_and_records_apart():
    suffix, budget, data = sourced('all', 'echo "[$RECORDS]"', 'labeled_json', 'data_options 3')
    assert suffix == '[_kall]' and json.loads(budget) == 'all'
    data = options(data)
    assert 'train_dataloader.dataset.ann_file' not in data  # the config's own: every image
    assert data['randomness.seed'] == '3'
    assert data['train_dataloader.dataset.data_root'] == 'data/synthetic/cityscapes'


@pytest.mark.parametrize('labeled, budget', [(None, '8'), ('all', 'all')])
def test_work_dirs_name_the_budget(labeled, budget):
    # unset: the paths of every earlier 8-image run, where their checkpoints still are
    stage1, run = sourced(labeled, 'stage1_dir stage1_10x 3', 'run_dir ce_10x_rerun 3')
    assert stage1 == f'work_dirs/levers/stage1_10x_k{budget}/{budget}_seed3/stage1'
    assert run == f'work_dirs/levers/ce_10x_rerun/{budget}_seed3'


# A stage-2 config with a warm-up before its poly decay: 150 of its 1,500 iterations.
WARMUP = LEVER_RUNS.with_name('configs') / 'finetune_warmup.py'


def stage2_run(tmp_path, stage2_iters):
    """The train_and_test arguments (config, work dir, final iteration, cfg-options) and the
    record file → record of one stage2_from_10x run of WARMUP (seed 3, LABELED=all) in
    ``tmp_path``, with STAGE2_ITERS=``stage2_iters`` (unset for None); training, the logs' mIoU and
    the machine are stubbed."""
    env = lever_env({'LABELED': 'all', 'PY': sys.executable})
    if stage2_iters is not None:
        env['STAGE2_ITERS'] = str(stage2_iters)
    (tmp_path / 'benchmarks' / 'stage1_levers').mkdir(parents=True)
    script = '; '.join([
        f'source {LEVER_RUNS}',
        'train_and_test() { printf "%s\\n" "$1" "$2" "$3" "$4"; }',
        'run_fields() { echo "\\"$2\\": 30.0, \\"$3\\": \\"\\"}"; }',
        f"""stage2_from_10x stage2_10x {WARMUP} '"lr": 0.05, ' 3"""])
    result = subprocess.run(['bash', '-c', script], env=env, cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    config, work_dir, iters, opts = result.stdout.splitlines()
    files = {path.name: json.loads(path.read_text())
             for path in (tmp_path / 'benchmarks' / 'stage1_levers').glob('*.jsonl')}
    return (config, work_dir, iters, options(opts)), files


@pytest.mark.parametrize('stage2_iters', [None, 9000])
def test_a_stage2_length_stretches_the_schedule_and_records_apart(tmp_path, stage2_iters):
    (config, work_dir, iters, opts), files = stage2_run(tmp_path, stage2_iters)
    n = stage2_iters or 1500
    name = 'stage2_10x' if stage2_iters is None else 'stage2_10x_stage2_9000'
    assert config == str(WARMUP) and iters == str(n)
    assert work_dir == f'work_dirs/levers/{name}/all_seed3'
    assert (opts['train_cfg.max_iters'], opts['param_scheduler.0.end'],
            opts['default_hooks.checkpoint.interval']) == (str(n),) * 3
    assert opts['train_cfg.val_interval'] == str(n // 4)
    # the warm-up keeps its tenth, and the decay begins after it
    assert (opts['param_scheduler.1.begin'], opts['param_scheduler.1.end']) == ('0', str(n // 10))
    assert opts['param_scheduler.0.begin'] == str(n // 10)
    assert opts['custom_hooks.0.checkpoint'] == 'work_dirs/levers/stage1_10x_kall/all_seed3/stage1'
    record = files[f'{name}_kall.jsonl']
    assert list(files) == [f'{name}_kall.jsonl']
    assert (record['labeled'], record['seed'], record['stage1_iters'], record['stage2_iters'],
            record['lr']) == ('all', 3, 7500, n, 0.05)
    curve_key = f'val_{n // 4}_{n // 2}_{3 * n // 4}_{n}'
    assert curve_key in record and record['pixcon_miou'] == 30.0


B8 = {'STAGE1_TAG': '_b8', 'STAGE1_OPTIONS': 'train_dataloader.batch_size=8'}


def test_a_stage1_lever_names_its_runs():
    tagged = sourced_with(B8, 'echo $STAGE1', 'stage1_dir $STAGE1 3')
    assert tagged.stdout.splitlines() == [
        'stage1_10x_b8', 'work_dirs/levers/stage1_10x_b8_k8/8_seed3/stage1']


@pytest.mark.parametrize('variables, message', [
    ({'STAGE1_OPTIONS': 'train_dataloader.batch_size=8'}, 'needs a STAGE1_TAG'),
    ({'STAGE1_TAG': 'b8'}, 'must be _ then'),
    ({'STAGE1_TAG': '_b/8'}, 'must be _ then'),
    ({**B8, 'STAGE1_OPTIONS': 'model.decode_head.loss_decode.mode="within"'},
     'free of double quotes'),
    ({**B8, 'STAGE1_OPTIONS': 'train_dataloader.batch_size=8\tmodel.x=1'}, 'free of double quotes'),
])
def test_a_bad_lever_stops_the_sourcing_script(variables, message):
    # STAGE1_OPTIONS without a tag would mix the lever into the unchanged stage 1's records
    result = sourced_with(variables, 'echo sourced')
    assert result.returncode != 0 and 'sourced' not in result.stdout
    assert message in result.stderr


STUB_PYTHON = """#!/bin/bash
# tools/train.py: its arguments and one val mIoU in the log; -c (the machine): a name
if [ "$1" = -c ]; then echo STUB-CPU; else echo "ARGS $*"; echo "Iter(val) [1/1] mIoU: 12.3400"; fi
"""


def stage1_lever(tmp_path, variables):
    """Runs a copy of stage1_10x.sh for seed 3 in ``tmp_path`` with the lever ``variables`` and
    tools/train.py stubbed (STUB_PYTHON); returns the finished process."""
    levers = tmp_path / 'benchmarks' / 'stage1_levers'
    levers.mkdir(parents=True, exist_ok=True)
    for name in ('lever_runs.sh', 'stage1_10x.sh'):
        (levers / name).write_text((LEVER_RUNS.parent / name).read_text())
    stub = tmp_path / 'python'
    stub.write_text(STUB_PYTHON)
    stub.chmod(0o755)
    return subprocess.run(['bash', str(levers / 'stage1_10x.sh'), '3'],
                          env=lever_env({**variables, 'PY': str(stub)}), capture_output=True,
                          text=True)


def test_a_stage1_lever_trains_with_its_options_and_records_them(tmp_path):
    assert stage1_lever(tmp_path, B8).returncode == 0
    log = tmp_path / 'work_dirs/levers/stage1_10x_b8_k8/8_seed3/stage1/train.log'
    args = log.read_text().splitlines()[0].split()
    assert args[args.index('--cfg-options') + 1:].count('train_dataloader.batch_size=8') == 1
    assert 'train_cfg.max_iters=7500' in args
    record = json.loads((tmp_path / 'benchmarks/stage1_levers/stage1_10x_b8.jsonl').read_text())
    assert (record['seed'], record['options'], record['proto_miou'], record['machine']) == (
        3, 'train_dataloader.batch_size=8', 12.34, 'STUB-CPU')


@pytest.mark.parametrize('options', ['train_cfg.max_iters=100', 'param_scheduler.0.end=100',
                                     'load_from=x.pth', 'randomness.seed=9',
                                     'train_dataloader.batch_size=8 train_cfg.max_iters=100'])
def test_a_stage1_lever_leaves_the_data_schedule_and_start_alone(tmp_path, options):
    result = stage1_lever(tmp_path, {'STAGE1_TAG': '_x', 'STAGE1_OPTIONS': options})
    assert result.returncode != 0 and 'sets what stage1_10x.sh sets itself' in result.stderr
    assert not (tmp_path / 'benchmarks/stage1_levers/stage1_10x_x.jsonl').exists()


def test_a_key_that_only_starts_like_a_schedule_key_is_a_lever(tmp_path):
    options = 'train_cfg.max_iter=5'  # not max_iters: the script does not set it
    assert stage1_lever(tmp_path, {'STAGE1_TAG': '_x', 'STAGE1_OPTIONS': options}).returncode == 0


def test_one_tag_names_one_set_of_options(tmp_path):
    assert stage1_lever(tmp_path, B8).returncode == 0
    other = stage1_lever(tmp_path, {**B8, 'STAGE1_OPTIONS': 'train_dataloader.batch_size=16'})
    assert other.returncode != 0 and 'give them another STAGE1_TAG' in other.stderr
    # a tag alone would record the unchanged stage 1 under the lever's name
    bare = stage1_lever(tmp_path, {'STAGE1_TAG': '_b8'})
    assert bare.returncode != 0 and 'names a lever: give its STAGE1_OPTIONS' in bare.stderr
    record = tmp_path / 'benchmarks/stage1_levers/stage1_10x_b8.jsonl'
    assert len(record.read_text().splitlines()) == 1
