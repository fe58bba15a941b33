"""benchmarks/stage1_levers/lever_runs.sh's label budget (LABELED): the train split each run
gets, the record files' suffix, the budget written into each record and the work dirs, read by
sourcing the script in bash as the lever scripts do."""
import json
import os
import subprocess
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
