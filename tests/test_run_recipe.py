"""tools/run_recipe.py: each run's output streamed to the console and its log, unchanged and in
order; every scheduler rescaled (or refused); the CE baseline drops the stage-1 hook by type."""
import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import List

import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.optim.scheduler import PolyLR  # noqa: F401  (registers the schedulers)
from mmengine.registry import PARAM_SCHEDULERS
from script_modules import load_script

from mmseg_pixcon.utils.schedule import as_cfg_options, rescaled_schedule

REPO = Path(__file__).resolve().parents[1]
PRETRAIN = 'configs/pixcon/synthetic/deeplabv3plus_r18_syncity_pretrain.py'
FINETUNE = 'configs/pixcon/synthetic/deeplabv3plus_r18_syncity_finetune.py'


@pytest.fixture(scope='module')
def recipe():
    """tools/run_recipe.py as a module."""
    return load_script(REPO / 'tools' / 'run_recipe.py')


class Console:
    """sys.stdout stand-in recording the bytes written to its buffer, with their arrival time."""

    def __init__(self) -> None:
        self.chunks: List[tuple] = []
        self.buffer = SimpleNamespace(write=self._write_bytes, flush=lambda: None)

    def _write_bytes(self, data: bytes) -> None:
        self.chunks.append((time.monotonic(), bytes(data)))

    def write(self, text: str) -> None:  # the recipe's own [recipe] lines
        pass

    def flush(self) -> None:
        pass

    @property
    def data(self) -> bytes:
        return b''.join(chunk for _, chunk in self.chunks)

    def arrival(self, marker: bytes) -> float:
        seen = b''
        for when, chunk in self.chunks:
            seen += chunk
            if marker in seen:
                return when
        raise AssertionError(f'{marker!r} never reached the console')


# stdout and stderr interleaved, a progress bar redrawn with carriage returns, multi-byte
# characters, a pause: no explicit flush, the child relies on the runner making it unbuffered.
CHILD = r"""
import sys, time
print('out 1')
print('err 1', file=sys.stderr)
print('progress 1/2', end='\r')
print('progress 2/2')
sys.stdout.buffer.write('mIoU \u00e9\u00d7\n'.encode())
print('err 2', file=sys.stderr)
time.sleep(1.5)
print('last')
"""
EXPECTED = ('out 1\nerr 1\nprogress 1/2\rprogress 2/2\nmIoU \u00e9\u00d7\nerr 2\nlast\n').encode()


def test_output_reaches_console_and_log_unchanged_in_order_as_it_comes(recipe, tmp_path,
                                                                       monkeypatch):
    console = Console()
    monkeypatch.setattr(sys, 'stdout', console)
    log = tmp_path / 'stage' / 'train.log'
    recipe.run([sys.executable, '-c', CHILD], log)
    assert log.read_bytes() == EXPECTED
    assert console.data == EXPECTED
    # streamed: the first lines were on the console while the child was still sleeping
    assert console.arrival(b'last') - console.arrival(b'err 2') > 1.0


def test_quiet_writes_the_log_only(recipe, tmp_path, monkeypatch):
    console = Console()
    monkeypatch.setattr(sys, 'stdout', console)
    recipe.run([sys.executable, '-c', CHILD.replace('1.5', '0')], tmp_path / 'train.log',
               quiet=True)
    assert console.data == b'' and (tmp_path / 'train.log').read_bytes() == EXPECTED


@pytest.mark.parametrize('quiet', [False, True])
def test_failure_names_the_log_and_quiet_shows_its_tail(recipe, tmp_path, monkeypatch, quiet):
    monkeypatch.setattr(sys, 'stdout', Console())
    log = tmp_path / 'train.log'
    with pytest.raises(SystemExit) as error:
        recipe.run([sys.executable, '-c', 'import sys; print("boom"); sys.exit(3)'], log, quiet)
    message = str(error.value)
    assert 'failed (3)' in message and str(log) in message
    assert ('boom' in message) == quiet  # the console has shown it already otherwise


# --- the schedule --------------------------------------------------------------------------

def schedule(*schedulers: dict, max_iters: int = 80000) -> Config:
    return Config(dict(train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
                       param_scheduler=list(schedulers)))


WARMUP = dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1500)
POLY = dict(type='PolyLR', eta_min=1e-4, power=1.0, by_epoch=False, begin=1500, end=80000)


def test_a_warm_up_keeps_its_share_and_meets_the_poly_decay():
    options = rescaled_schedule(schedule(WARMUP, POLY), 20000)
    assert options == {
        'train_cfg.max_iters': 20000, 'train_cfg.val_interval': 20000,
        'default_hooks.checkpoint.interval': 20000,
        'param_scheduler.0.begin': 0, 'param_scheduler.0.end': 375,
        'param_scheduler.1.begin': 375, 'param_scheduler.1.end': 20000}


def learning_rates(cfg: Config, iters: int) -> List[float]:
    """The learning rate of every iteration under cfg's schedulers (mmengine's own)."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=optimizer))
                  for s in cfg.param_scheduler]
    rates = []
    for _ in range(iters):
        rates.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return rates


def test_rescaled_warm_up_peaks_at_the_same_share_of_the_run():
    original = schedule(dict(WARMUP, end=40), dict(POLY, begin=40, end=400), max_iters=400)
    cfg = Config(original.to_dict())
    cfg.merge_from_dict(rescaled_schedule(original, 100))
    old, new = learning_rates(original, 400), learning_rates(cfg, 100)
    assert (old.index(max(old)), new.index(max(new))) == (39, 9)  # the first 10% either way
    assert max(new) == pytest.approx(0.1) and new[0] == pytest.approx(1e-4)
    # the same curve up to mmengine's discretisation of the shorter schedulers
    torch.testing.assert_close(new, old[::4], atol=0.01, rtol=0)
    # What setting param_scheduler.0.end alone did: the warm-up took the whole run.
    stretched = Config(original.to_dict())
    stretched.merge_from_dict({'param_scheduler.0.end': 100})
    stretched_rates = learning_rates(stretched, 100)
    assert stretched_rates.index(max(stretched_rates)) == 99


def test_milestones_steps_and_periods_scale_too():
    options = rescaled_schedule(schedule(
        dict(type='MultiStepLR', by_epoch=False, milestones=[200, 300], end=400),
        dict(type='StepLR', by_epoch=False, step_size=100, begin=0),
        dict(type='CosineAnnealingLR', by_epoch=False, T_max=400, begin=0, end=400),
        max_iters=400), 100)
    assert options['param_scheduler.0.milestones'] == [50, 75]
    assert options['param_scheduler.1.step_size'] == 25
    assert 'param_scheduler.1.end' not in options  # no end: until the end of training
    assert options['param_scheduler.2.T_max'] == 100


def test_a_single_scheduler_dict():
    cfg = Config(dict(train_cfg=dict(max_iters=400), param_scheduler=dict(POLY, begin=0, end=400)))
    options = rescaled_schedule(cfg, 200)
    assert options['param_scheduler.end'] == 200 and options['param_scheduler.begin'] == 0


@pytest.mark.parametrize('cfg, iters, message', [
    (schedule(WARMUP, dict(type='ExponentialLR', gamma=0.99, by_epoch=False, begin=1500)), 2000,
     r'param_scheduler.1 is a ExponentialLR, whose curve does not follow from begin/end'),
    (schedule(dict(POLY, by_epoch=True)), 2000, r'param_scheduler.0 \(PolyLR\) counts epochs'),
    (schedule(dict(WARMUP, end=10), dict(POLY, begin=10)), 20,
     r'spans iterations 0-10 of 80000; at 20 iterations it would span 0-0, i.e. vanish'),
    (schedule(dict(type='MultiStepLR', by_epoch=False, milestones=[100, 101])), 20,
     r'milestones=\[100, 101\] of 80000 iterations collapse to \[0, 0\]'),
    (Config(dict(train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=12))), 20,
     'is not iteration-based'),
])
def test_a_schedule_that_cannot_be_rescaled_is_refused(cfg, iters, message):
    with pytest.raises(ValueError, match=message):
        rescaled_schedule(cfg, iters)


def test_schedule_options_round_trip_through_the_command_line(recipe, tmp_path):
    config = tmp_path / 'warmup.py'
    config.write_text(f'_base_ = [{str(REPO / PRETRAIN)!r}]\n'
                      f'param_scheduler = [{WARMUP!r}, {POLY!r}]\n'
                      'train_cfg = dict(max_iters=80000)\n')
    options = recipe.schedule_options(str(config), 200)
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(parser.parse_args(['--cfg-options', *options]).cfg_options)
    assert [(s.type, s.begin, s.end) for s in cfg.param_scheduler] == [
        ('LinearLR', 0, 4), ('PolyLR', 4, 200)]
    assert cfg.train_cfg.max_iters == 200 and cfg.default_hooks.checkpoint.interval == 200


def test_the_synthetic_configs_rescale(recipe):
    assert recipe.schedule_options(PRETRAIN, 200) == as_cfg_options({
        'train_cfg.max_iters': 200, 'train_cfg.val_interval': 200,
        'default_hooks.checkpoint.interval': 200,
        'param_scheduler.0.begin': 0, 'param_scheduler.0.end': 200})
    with pytest.raises(SystemExit, match='cannot run .* for 0 iterations'):
        recipe.schedule_options(PRETRAIN, 0)


@pytest.mark.parametrize('option', [
    'train_cfg.max_iters=1000', 'param_scheduler.0.end=100', 'param_scheduler.0.begin=10'])
def test_an_option_that_sets_the_length_is_refused(recipe, option):
    """run_recipe.py put the user's options after the schedule's (the user's length won), the
    benchmark before (the iteration argument won): either way one input was dropped unsaid."""
    with pytest.raises(SystemExit, match=r'\[recipe\] the cfg-options set .*which the run of '
                                         r'.* for 200 iterations sets itself') as error:
        recipe.schedule_options(PRETRAIN, 200, [option])
    assert option.split('=')[0] in str(error.value)


@pytest.mark.parametrize('scheduler, option', [
    (dict(type='CosineAnnealingLR', by_epoch=False, T_max=80000), 'param_scheduler.0.T_max=50'),
    (dict(type='MultiStepLR', by_epoch=False, milestones=[40000, 60000]),
     'param_scheduler.0.milestones=[20000,60000]'),
])
def test_a_schedulers_iteration_argument_is_refused_too(recipe, tmp_path, scheduler, option):
    config = tmp_path / 'other_scheduler.py'
    config.write_text(f'_base_ = [{str(REPO / PRETRAIN)!r}]\n'
                      f'param_scheduler = [{scheduler!r}]\n'
                      'train_cfg = dict(max_iters=80000)\n')
    with pytest.raises(SystemExit, match=option.split('=')[0]):
        recipe.schedule_options(str(config), 200, [option])
    # its other arguments are the user's
    assert 'param_scheduler.0.end' not in ' '.join(
        recipe.schedule_options(str(config), 200, ['param_scheduler.0.eta_min=0.001']))


@pytest.mark.parametrize('option', ['train_cfg.val_interval=50',
                                    'default_hooks.checkpoint.interval=100'])
def test_a_users_interval_stands_wherever_it_comes(recipe, option):
    # the schedule leaves the key out, so the user's value is the only one on the command line
    key = option.split('=')[0]
    options = recipe.schedule_options(PRETRAIN, 200, [option])
    assert not any(o.startswith(key + '=') for o in options)
    assert 'train_cfg.max_iters=200' in options and 'param_scheduler.0.end=200' in options
    assert f'{key}=200' in recipe.schedule_options(PRETRAIN, 200, [])


def test_an_option_beside_the_length_is_not_refused(recipe):
    options = recipe.schedule_options(PRETRAIN, 200, ['param_scheduler.0.power=1.0',
                                                      'train_dataloader.batch_size=8'])
    assert 'train_cfg.max_iters=200' in options and 'param_scheduler.0.end=200' in options


@pytest.mark.parametrize('dataset', ['cityscapes', 'voc'])
def test_default_lengths_are_the_synthetic_configs_own(recipe, dataset):
    """Each stage's default length is what its config trains for; the two stages sum to CE's."""
    configs = recipe.SYNTHETIC[dataset]['configs']
    lengths = {stage: recipe.load(configs.format(stage)).train_cfg.max_iters
               for stage in ('pretrain', 'finetune', 'ce')}
    assert lengths['pretrain'] + lengths['finetune'] == lengths['ce']
    assert lengths['pretrain'] < lengths['finetune']  # a third and two thirds
    args = argparse.Namespace(dataset=dataset, pretrain_iters=None, finetune_iters=7)
    recipe.fill_default_iters(args)
    assert (args.pretrain_iters, args.finetune_iters) == (lengths['pretrain'], 7)


# --- the stage-1 hook ----------------------------------------------------------------------

@pytest.fixture
def finetune_with_hooks(tmp_path) -> str:
    """A stage-2 config whose LoadStageOneHook is not first, between two other custom hooks."""
    config = tmp_path / 'finetune.py'
    config.write_text(f'_base_ = [{str(REPO / FINETUNE)!r}]\n'
                      "custom_hooks = [dict(type='EmptyCacheHook', after_iter=True),\n"
                      "                dict(type='LoadStageOneHook', checkpoint='elsewhere'),\n"
                      "                dict(type='RandomStateHook')]\n")
    return str(config)


def test_stage_two_points_its_stage_one_hook_found_by_type(recipe, finetune_with_hooks,
                                                           tmp_path):
    assert recipe.stage_one_options(finetune_with_hooks, tmp_path / 'stage1') == [
        f'custom_hooks.1.checkpoint={tmp_path / "stage1"}']


def test_ce_baseline_drops_only_the_stage_one_hook(recipe, finetune_with_hooks, tmp_path):
    path = recipe.ce_only_config(finetune_with_hooks, tmp_path / 'ce_only',
                                 ['custom_hooks.0.after_iter=False', 'randomness.seed=3'])
    # outside the run's work_dir, where tools/train.py dumps its merged config by file name
    assert Path(path) == tmp_path / 'ce_only_config.py'
    cfg = Config.fromfile(path)
    assert [dict(h) for h in cfg.custom_hooks] == [
        dict(type='EmptyCacheHook', after_iter=False), dict(type='RandomStateHook')]
    assert cfg.model.decode_head.type == 'DepthwiseSeparableASPPHead'  # the rest is inherited
    assert recipe.without_hook_options(['custom_hooks.0.after_iter=False', 'a.b=1']) == ['a.b=1']


def test_a_stage_two_config_without_the_hook_is_refused(recipe):
    with pytest.raises(SystemExit, match='exactly one LoadStageOneHook .* it has 0'):
        recipe.ce_only_config('configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py',
                              Path('/nonexistent'))


def test_the_recipe_passes_each_run_its_schedule_and_hooks(recipe, tmp_path, monkeypatch):
    """main() with the runs recorded instead of executed: the stage-2 hook is pointed at stage
    1's work_dir by position found, the CE baseline runs the derived config, each run gets its
    own length."""
    runs = []

    def fake_run(cmd, log, quiet=False):
        runs.append(cmd)
        work = Path(cmd[cmd.index('--work-dir') + 1])
        stamp = work / '20260101_000000'
        if cmd[1] == 'tools/train.py':
            work.mkdir(parents=True, exist_ok=True)
            (work / 'last_checkpoint').write_text(str(work / 'iter_1.pth'))
            (stamp / 'vis_data').mkdir(parents=True)
            (stamp / 'vis_data' / 'scalars.json').write_text(json.dumps({'proto/mIoU': 1.0}))
        else:
            stamp.mkdir(parents=True)
            (stamp / 'test.json').write_text(json.dumps({'mIoU': 2.0, 'aAcc': 3.0}))

    monkeypatch.setattr(recipe, 'run', fake_run)
    (tmp_path / 'data').mkdir()
    monkeypatch.setattr(sys, 'argv', [
        'run_recipe.py', '--data-root', str(tmp_path / 'data'), '--labeled', 'all',
        '--pretrain-iters', '30', '--finetune-iters', '20', '--work-dir', str(tmp_path / 'w'),
        '--quiet'])
    recipe.main()
    tools = [(cmd[1], cmd[2]) for cmd in runs]
    assert tools == [('tools/train.py', PRETRAIN), ('tools/train.py', FINETUNE),
                     ('tools/test.py', FINETUNE),
                     ('tools/train.py', str(tmp_path / 'w' / 'ce_only_config.py')),
                     ('tools/test.py', str(tmp_path / 'w' / 'ce_only_config.py'))]
    stage1, stage2, _, ce, _ = runs
    assert 'param_scheduler.0.end=30' in stage1 and 'param_scheduler.0.end=20' in stage2
    assert 'param_scheduler.0.end=50' in ce
    assert f'custom_hooks.0.checkpoint={tmp_path / "w" / "stage1"}' in stage2
    assert not any(option.startswith('custom_hooks') for option in ce)
    summary = json.loads((tmp_path / 'w' / 'summary.json').read_text())
    assert [row['mIoU'] for row in summary['rows']] == [2.0, 2.0]


def test_a_stage_two_option_setting_a_length_stops_the_recipe_before_stage_one(
        recipe, tmp_path, monkeypatch):
    runs = []
    monkeypatch.setattr(recipe, 'run', lambda cmd, log, quiet=False: runs.append(cmd))
    (tmp_path / 'data').mkdir()
    monkeypatch.setattr(sys, 'argv', [
        'run_recipe.py', '--data-root', str(tmp_path / 'data'), '--labeled', 'all',
        '--finetune-options', 'param_scheduler.0.end=5', '--work-dir', str(tmp_path / 'w')])
    with pytest.raises(SystemExit, match='set param_scheduler.0.end, which the run of'):
        recipe.main()
    assert runs == []


def test_a_missing_data_root_says_how_to_get_the_data(recipe, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, 'argv', ['run_recipe.py', '--data-root', str(tmp_path / 'none')])
    with pytest.raises(SystemExit, match='does not exist. Real Cityscapes: register at'):
        recipe.main()
