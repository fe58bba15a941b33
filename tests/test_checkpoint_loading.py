"""Runner checkpoints round-trip under torch >= 2.6 (weights_only=True) for load_from and resume."""
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import mmseg_pixcon  # noqa: F401  (installs the checkpoint loader)
from mmseg_pixcon.utils.checkpoint import history_buffer_statistic


class LinearModel(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x, y=None, mode='tensor'):
        out = self.fc(x).squeeze(-1)
        if mode == 'loss':
            return dict(loss=((out - y) ** 2).mean())
        return out


class LineDataset(Dataset):
    metainfo = dict(classes=('a', 'b'), palette=[[1, 2, 3], [4, 5, 6]])

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> dict:
        return dict(x=torch.tensor([float(i), 1.0]), y=torch.tensor(2.0 * i))


def make_runner(work_dir, max_iters: int, **kwargs) -> Runner:
    return Runner(
        model=LinearModel(), work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=LineDataset(), batch_size=2, collate_fn=dict(type='default_collate'),
            sampler=dict(type='InfiniteSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.001, momentum=0.9)),
        param_scheduler=dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=6),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
        randomness=dict(seed=0), **kwargs)


def test_plain_torch_load_refuses_runner_checkpoint(tmp_path):
    """The premise: without the plugin's loader, torch>=2.6 refuses these files."""
    make_runner(tmp_path / 'a', max_iters=2).train()
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / 'a' / 'iter_2.pth')


def test_load_from_and_resume_round_trip(tmp_path):
    first = make_runner(tmp_path / 'a', max_iters=4)
    first.train()
    saved = {k: v.clone() for k, v in first.model.state_dict().items()}

    loaded = make_runner(tmp_path / 'b', max_iters=4, load_from=str(tmp_path / 'a' / 'iter_4.pth'))
    loaded.load_or_resume()
    for name, value in loaded.model.state_dict().items():
        torch.testing.assert_close(value, saved[name], rtol=0, atol=0)
    assert loaded.iter == 0  # load_from restores weights only

    resumed = make_runner(tmp_path / 'a', max_iters=6, resume=True)
    resumed.train()
    assert resumed.iter == 6
    buffer = resumed.message_hub.log_scalars['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert len(buffer.data[0]) > 2  # the history from before the resume came back


def test_getattr_stand_in_only_resolves_history_buffer_statistics():
    assert history_buffer_statistic(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError, match='only the HistoryBuffer statistics'):
        history_buffer_statistic(HistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_statistic(torch, 'load')
