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


def sourced(labeled, *commands):
    """The stdout lines of ``commands`` run after sourcing lever_runs.sh with LABELED=``labeled``
    (unset for None)."""
    env = {k: v for k, v in os.environ.items() if k != 'LABELED'}
    if labeled is not None:
        env['LABELED'] = labeled
    script = '; '.join([f'source {LEVER_RUNS}', *commands])
    result = subprocess.run(['bash', '-c', script], env=env, capture_output=True, text=True,
                            check=True)
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
    env = {k: v for k, v in os.environ.items() if k not in ('STAGE2_ITERS', 'STAGE1_INIT')}
    env.update(LABELED='all', PY=sys.executable)
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


def test_a_stage1_lever_names_its_runs_and_needs_a_name():
    """STAGE1_TAG names a stage-1 lever's work dirs and records (the stage 2s from it read its
    checkpoints there); STAGE1_OPTIONS without it would mix the lever into the unchanged stage 1's
    records, so sourcing refuses it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('LABELED', 'STAGE1_INIT', 'STAGE1_ITERS', 'STAGE1_TAG', 'STAGE1_OPTIONS')}
    tagged = subprocess.run(
        ['bash', '-c', f'source {LEVER_RUNS}; echo $STAGE1; stage1_dir $STAGE1 3'],
        env={**env, 'STAGE1_TAG': '_b8', 'STAGE1_OPTIONS': 'train_dataloader.batch_size=8'},
        capture_output=True, text=True, check=True)
    assert tagged.stdout.splitlines() == [
        'stage1_10x_b8', 'work_dirs/levers/stage1_10x_b8_k8/8_seed3/stage1']
    untagged = subprocess.run(['bash', '-c', f'source {LEVER_RUNS}; echo sourced'],
                              env={**env, 'STAGE1_OPTIONS': 'train_dataloader.batch_size=8'},
                              capture_output=True, text=True)
    assert untagged.returncode != 0 and 'sourced' not in untagged.stdout
    assert 'needs a STAGE1_TAG' in untagged.stderr
