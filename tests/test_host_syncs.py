"""Host reads of one stage-1 training step: on a GPU each would wait for the queued kernels
(and rule out CUDA graphs), so the step may make exactly one, the loss's input check.

Counted on the CPU through the Python calls that would synchronise on a GPU: ``Tensor.item``,
``tolist``, ``cpu``, ``numpy``, ``bool``/``int``/``float`` of a tensor, and ``.to`` with a
device (or a tensor) but without ``non_blocking=True``.
"""
import os
import traceback
from contextlib import contextmanager
from typing import Iterator, List

import pytest
import torch
from mmengine.optim import OptimWrapper
from tiny_segmentors import build, head_cfg, make_batch, segmentor_cfg

READS = ('item', 'tolist', 'cpu', 'numpy', '__bool__', '__int__', '__float__')


def _caller() -> str:
    """'file:function' of the code that made the call (the frame above the wrapper)."""
    frame = traceback.extract_stack()[-3]
    return f'{os.path.basename(frame.filename)}:{frame.name}'


def _names_device(args: tuple, kwargs: dict) -> bool:
    return 'device' in kwargs or any(isinstance(a, (str, torch.device, torch.Tensor))
                                     for a in args)


@contextmanager
def host_reads() -> Iterator[List[str]]:
    """Where each host read happens, in order, while active."""
    seen: List[str] = []
    saved = {name: getattr(torch.Tensor, name) for name in READS + ('to', )}

    def counted(fn):
        def read(self, *args, **kwargs):
            seen.append(_caller())
            return fn(self, *args, **kwargs)
        return read

    def to(self, *args, **kwargs):
        if _names_device(args, kwargs) and not kwargs.get('non_blocking', False):
            seen.append(_caller())
        return saved['to'](self, *args, **kwargs)

    for name in READS:
        setattr(torch.Tensor, name, counted(saved[name]))
    torch.Tensor.to = to
    try:
        yield seen
    finally:
        for name, fn in saved.items():
            setattr(torch.Tensor, name, fn)


def test_the_probe_sees_each_kind_of_read():
    x = torch.ones(2)
    with host_reads() as seen:
        x.sum().item(), x.tolist(), x.cpu(), bool(x[0]), float(x[0]), x.to('cpu')
        x.to(torch.float64), x.to('cpu', non_blocking=True)  # neither waits
    assert len(seen) == 6


@pytest.mark.parametrize('mode', ['within', 'cross'])
def test_a_stage_one_step_reads_the_host_once(mode):
    """Preprocessor (Î with colour jitter, grayscale, flip and zoom), forward, the loss,
    backward and the SGD step of a tiny DeepLabV3+: one read, the loss's statistics."""
    head = head_cfg('DepthwiseSeparableASPPHead', contrast=True,
                    loss_decode=dict(type='PixelContrastLoss', mode=mode, partner='shuffle'))
    cfg = segmentor_cfg(head)
    cfg['data_preprocessor']['distort'] = dict(
        color_jitter=dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, prob=1.0),
        grayscale=dict(prob=0.5), flip=dict(prob=0.5), scale_crop=dict(scale=(0.8, 1.2)))
    model = build(cfg)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    batch = make_batch(2)
    model.train_step(batch, optim)  # first step: lazy initialisation is not the step
    with host_reads() as seen:
        model.train_step(batch, optim)
    assert seen == ['pixel_contrast_loss.py:_contrast']
