"""Bit-exact resume: RandomStateHook saves every random state a stage-1 run draws from and
restores it on --resume, source by source, and a resumed run ends with the uninterrupted run's
weights."""
import random
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Dict, Iterator, Optional

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop, Runner
from tiny_segmentors import dataset_cfg, head_cfg, runner_kwargs, segmentor_cfg, write_dataset

from mmseg_pixcon.datasets import generate_cityscapes
from mmseg_pixcon.engine.hooks import RandomStateHook, random_state_hook
from mmseg_pixcon.models.data_preprocessors import PixConDataPreProcessor

RESUMED_AT = 3


class Model(nn.Module):
    """Stands in for a segmentor: the seeded preprocessor's generator draws the distortions."""

    def __init__(self) -> None:
        super().__init__()
        self.data_preprocessor = PixConDataPreProcessor(seed=0)


def fake_runner(model: nn.Module, iter: int) -> SimpleNamespace:
    """What the hook reads: the model, the iteration, an iteration-based loop's data iterator."""
    loop = IterBasedTrainLoop.__new__(IterBasedTrainLoop)  # the loop's attributes, no dataloader
    loop.dataloader_iterator = replayed_batches()
    return SimpleNamespace(model=model, iter=iter, train_loop=loop)


def replayed_batches() -> Iterator[None]:
    """Fetching a batch with num_workers=0 draws from every global generator (crops, flips)."""
    while True:
        torch.rand(1), np.random.rand(), random.random()
        yield None


SOURCES: Dict[str, Callable[[Model], object]] = {
    'torch (dropout, cross-image partners)': lambda model: torch.rand(4).tolist(),
    'numpy (pipeline transforms)': lambda model: np.random.rand(4).tolist(),
    'python random': lambda model: [random.random() for _ in range(4)],
    'distortions of the seeded preprocessor': lambda model: model.data_preprocessor.second_view
    .sample(4, model.data_preprocessor.generator)['brightness'].tolist(),
}


def reseed(model: Model) -> None:
    """What a fresh process does before resuming: the runner's seed, a new preprocessor."""
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    model.data_preprocessor = PixConDataPreProcessor(seed=0)


def through_file(checkpoint: dict, tmp_path: Path) -> dict:
    """The checkpoint as --resume reads it: saved, then loaded with weights_only=True."""
    torch.save(checkpoint, tmp_path / 'ckpt.pth')
    return torch.load(tmp_path / 'ckpt.pth', weights_only=True)


@pytest.mark.parametrize('source', SOURCES)
def test_each_random_source_continues_after_resume(source, tmp_path):
    draw = SOURCES[source]
    model = Model()
    reseed(model)
    draw(model), draw(model)  # iterations 1-3 of the first run
    runner = fake_runner(model, RESUMED_AT)
    hook, checkpoint = RandomStateHook(), {}
    hook.before_save_checkpoint(runner, checkpoint)
    uninterrupted = draw(model)  # iteration 4 of an uninterrupted run

    reseed(model)  # the resumed process
    hook = RandomStateHook()
    hook.after_load_checkpoint(runner, through_file(checkpoint, tmp_path))
    hook.before_train_epoch(runner)
    wrapper = runner.train_loop.dataloader_iterator
    for _ in range(RESUMED_AT):  # IterBasedTrainLoop replays the batches already trained on
        next(runner.train_loop.dataloader_iterator)
    assert runner.train_loop.dataloader_iterator is wrapper.iterator  # unwrapped after the replay
    assert draw(model) == uninterrupted
    reseed(model)
    assert draw(model) != uninterrupted  # what a resume without the hook draws


@pytest.mark.parametrize('source', SOURCES)
def test_validation_leaves_the_training_sequence_alone(source, tmp_path):
    """Validation (its dataloaders, PrototypeHook) draws from the global generators; training
    continues as if it had not run, and a checkpoint saved during it (the best one) holds the
    states training continues from."""
    draw = SOURCES[source]
    model = Model()
    reseed(model)
    hook, runner = RandomStateHook(), fake_runner(model, RESUMED_AT)
    hook.before_val(runner)
    saved = {}
    hook.before_save_checkpoint(runner, saved)
    draw(model)  # what validation draws
    hook.after_val(runner)
    after_validation = draw(model)
    reseed(model)
    assert draw(model) == after_validation

    reseed(model)
    hook = RandomStateHook()
    hook.after_load_checkpoint(runner, through_file(saved, tmp_path))
    hook.before_train_epoch(runner)
    for _ in range(RESUMED_AT):
        next(runner.train_loop.dataloader_iterator)
    assert draw(model) == after_validation


def test_an_epoch_loop_gets_its_states_back_at_once():
    """An epoch-based loop fetches its first batch after before_train_epoch: no replay to wait
    for."""
    model = Model()
    reseed(model)
    torch.rand(4)
    runner = fake_runner(model, RESUMED_AT)
    checkpoint = {}
    RandomStateHook().before_save_checkpoint(runner, checkpoint)
    uninterrupted = torch.rand(4)
    reseed(model)
    runner.train_loop = SimpleNamespace()  # not an IterBasedTrainLoop
    hook = RandomStateHook()
    hook.after_load_checkpoint(runner, checkpoint)
    hook.before_train_epoch(runner)
    assert torch.equal(torch.rand(4), uninterrupted)


def test_load_from_is_not_a_resume():
    """A checkpoint loaded with load_from starts a run at iteration 0: its states stay unused."""
    model = Model()
    reseed(model)
    runner = fake_runner(model, RESUMED_AT)
    hook, checkpoint = RandomStateHook(), {}
    hook.before_save_checkpoint(runner, checkpoint)
    reseed(model)
    runner = fake_runner(model, 0)
    hook.after_load_checkpoint(runner, checkpoint)
    hook.before_train_epoch(runner)
    assert not isinstance(runner.train_loop.dataloader_iterator, random_state_hook.RestoreAfterSkip)
    first = torch.rand(4)
    reseed(model)
    assert torch.equal(torch.rand(4), first)


@pytest.mark.parametrize('checkpoint, problem', [
    ({}, 'holds no random state'),
    ('two ranks', 'the states of 2 processes, this run has 1'),
    ('no preprocessor seed', 'generator data_preprocessor.generator of the checkpoint not in'),
])
def test_resume_that_cannot_be_exact_says_why(checkpoint, problem, monkeypatch):
    logged = []
    monkeypatch.setattr(random_state_hook, 'print_log', lambda msg, **kw: logged.append(msg))
    model = Model()
    runner = fake_runner(model, RESUMED_AT)
    if checkpoint == 'two ranks':
        checkpoint = {}
        RandomStateHook().before_save_checkpoint(runner, checkpoint)
        checkpoint['random_state']['ranks'] *= 2
    elif checkpoint == 'no preprocessor seed':
        checkpoint = {}
        RandomStateHook().before_save_checkpoint(runner, checkpoint)
        model.data_preprocessor = PixConDataPreProcessor(seed=None)
    hook = RandomStateHook()
    hook.after_load_checkpoint(runner, checkpoint)
    hook.before_train_epoch(runner)
    for _ in range(RESUMED_AT):
        next(runner.train_loop.dataloader_iterator)
    assert len(logged) == 1 and problem in logged[0] and 'differs from an uninterrupted' in \
        logged[0], logged


# --- end to end: a tiny stage-1 run through mmengine's Runner --------------------------------

class Interrupted(Exception):
    pass


class StopAfterCheckpoint(Hook):
    """Kills the run right after the checkpoint of iteration ``at`` is written (before the
    validation of that iteration), as a job killed between two iterations."""

    priority = 'LOWEST'  # after CheckpointHook (VERY_LOW)

    def __init__(self, at: int) -> None:
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 == self.at:
            raise Interrupted


# Random crops and flips (numpy), dropout and shuffled partners (torch), the seeded distortions.
TRAIN_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='RandomCrop', crop_size=(24, 24)),
                  dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]
STAGE_ONE = segmentor_cfg(head_cfg('DepthwiseSeparableASPPHead', contrast=True, loss_decode=dict(
    type='PixelContrastLoss', mode='cross', partner='shuffle', temperature=0.1)))


def stage_one_run(work_dir: Path, data: Path, resume: bool = False, hook: bool = True,
                  stop_at: Optional[int] = None) -> Runner:
    """Six iterations with a validation (PrototypeHook) every three, a checkpoint every three."""
    train = dict(dataset_cfg(data / 'train'), pipeline=TRAIN_PIPELINE)
    val = dict(batch_size=1, num_workers=0, dataset=dataset_cfg(data / 'val', test=True),
               sampler=dict(type='DefaultSampler', shuffle=False))
    hooks = [dict(type='PrototypeHook', max_images=2)] + (
        [dict(type='RandomStateHook')] if hook else [])
    kwargs = runner_kwargs(
        work_dir, data, STAGE_ONE, max_iters=6, custom_hooks=hooks, resume=resume,
        val_dataloader=val, val_cfg=dict(type='ValLoop'),
        val_evaluator=dict(type='PrototypeIoUMetric'),
        param_scheduler=[dict(type='PolyLR', power=0.9, begin=0, end=6, by_epoch=False)],
        randomness=dict(seed=0, deterministic=True))
    kwargs['train_dataloader']['dataset'] = train
    kwargs['train_cfg']['val_interval'] = 3
    kwargs['default_hooks']['checkpoint']['interval'] = 3
    runner = Runner.from_cfg(Config(kwargs))
    if stop_at is not None:
        runner.register_hook(StopAfterCheckpoint(stop_at))
    return runner


def final_tensors(work_dir: Path) -> Dict[str, torch.Tensor]:
    """Every tensor of the last checkpoint: the weights and buffers, the SGD momenta."""
    checkpoint = torch.load(work_dir / 'iter_6.pth', weights_only=False)
    tensors = dict(checkpoint['state_dict'])
    for index, state in checkpoint['optimizer']['state'].items():
        tensors.update({f'optimizer.{index}.{k}': v for k, v in state.items()
                        if isinstance(v, torch.Tensor)})
    return tensors


def interrupted_and_resumed(work_dir: Path, data: Path, hook: bool) -> Dict[str, torch.Tensor]:
    with pytest.raises(Interrupted):
        stage_one_run(work_dir, data, hook=hook, stop_at=RESUMED_AT).train()
    assert not (work_dir / 'iter_6.pth').exists()
    stage_one_run(work_dir, data, resume=True, hook=hook).train()
    return final_tensors(work_dir)


@pytest.fixture(scope='module')
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('resume')
    write_dataset(root / 'train', 4)
    write_dataset(root / 'val', 1, seed=1)
    return root


@pytest.fixture(scope='module')
def uninterrupted(data) -> Dict[str, torch.Tensor]:
    stage_one_run(data / 'uninterrupted', data).train()
    return final_tensors(data / 'uninterrupted')


def test_resumed_stage_one_ends_with_the_uninterrupted_weights(data, uninterrupted, tmp_path):
    resumed = interrupted_and_resumed(tmp_path, data, hook=True)
    assert resumed.keys() == uninterrupted.keys() and len(uninterrupted) > 100
    assert [name for name in uninterrupted
            if not torch.equal(resumed[name], uninterrupted[name])] == []


def test_without_the_hook_the_resumed_run_differs(data, uninterrupted, tmp_path):
    """The measurement behind the hook: mmengine alone restarts the random sequences."""
    resumed = interrupted_and_resumed(tmp_path, data, hook=False)
    differ = [name for name in uninterrupted
              if not torch.equal(resumed[name], uninterrupted[name])]
    assert len(differ) > len(uninterrupted) // 2, (len(differ), len(uninterrupted))


# --- end to end: tools/train.py --resume on the synthetic stage-1 config ---------------------

REPO = Path(__file__).resolve().parents[1]
PRETRAIN = 'configs/pixcon/synthetic/deeplabv3plus_r18_syncity_pretrain.py'


# The config's model and pipeline at a fraction of the widths and sizes (ResNet-18 of base 8,
# 48x96 crops), so that three runs fit in the suite.
SMALL = ['model.backbone.base_channels=8', 'model.backbone.stem_channels=8',
         'model.decode_head.in_channels=64', 'model.decode_head.c1_in_channels=8',
         'model.decode_head.channels=16', 'model.decode_head.c1_channels=4',
         'model.decode_head.proj_channels=16', 'model.decode_head.loss_resolution=(6,12)',
         'model.data_preprocessor.size=(48,96)',
         'train_dataloader.dataset.pipeline.2.scale=(128,64)',
         'train_dataloader.dataset.pipeline.3.crop_size=(48,96)',
         'val_dataloader.dataset.pipeline.1.scale=(128,64)', 'train_dataloader.batch_size=2']


def train_tool(work_dir: Path, root: Path, max_iters: int, resume: bool = False) -> None:
    """tools/train.py for max_iters of a 6-iteration schedule (poly end 6, validation and
    checkpoint every 3), loaders in-process (num_workers=0), deterministic."""
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    options = [f'{loader}.{key}' for loader in loaders for key in (
        f'dataset.data_root={root}', 'num_workers=0', 'persistent_workers=False')]
    options += SMALL + [f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=3',
                        'param_scheduler.0.end=6', 'default_hooks.checkpoint.interval=3',
                        'randomness.deterministic=True']
    cmd = [sys.executable, 'tools/train.py', PRETRAIN, '--work-dir', str(work_dir),
           '--cfg-options', *options] + (['--resume'] if resume else [])
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    if resume:
        assert 'random states of iteration 3 restored' in done.stdout + done.stderr


def test_train_tool_resume_is_bit_exact(tmp_path):
    """The measurement of issue 10 (6 iterations vs 3 + --resume for 3), through the tool."""
    root = tmp_path / 'cityscapes'
    generate_cityscapes(str(root), seed=0, num_train=3, num_val=1, size=(64, 128))
    train_tool(tmp_path / 'uninterrupted', root, 6)
    train_tool(tmp_path / 'resumed', root, 3)
    train_tool(tmp_path / 'resumed', root, 6, resume=True)
    expected, resumed = (final_tensors(tmp_path / run) for run in ('uninterrupted', 'resumed'))
    assert resumed.keys() == expected.keys()
    assert [name for name in expected if not torch.equal(resumed[name], expected[name])] == []
