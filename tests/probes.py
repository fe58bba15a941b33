"""Instruments for tests: the largest tensor any op makes, and calls of collectives."""
import torch
import torch.distributed as torch_dist
from torch.utils._python_dispatch import TorchDispatchMode

_COLLECTIVES = ('all_gather', 'all_gather_into_tensor', 'all_gather_single', 'all_reduce',
                'broadcast', 'reduce_scatter', 'reduce_scatter_tensor', 'reduce_scatter_single',
                'all_to_all', 'scatter', 'gather', 'barrier', 'all_gather_object',
                'broadcast_object_list')


class LargestTensor(TorchDispatchMode):
    """Records the largest number of elements of any tensor an op produces."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for x in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(x, torch.Tensor):
                self.largest = max(self.largest, x.numel())
        return out


class CountCollectives:
    """Counts calls of torch.distributed collectives while active, and records their names in
    order (patches the module, which mmengine.dist and the loss call through)."""

    def __enter__(self) -> 'CountCollectives':
        self.calls = 0
        self.names = []
        self._saved = {name: getattr(torch_dist, name) for name in _COLLECTIVES}
        for name, fn in self._saved.items():
            setattr(torch_dist, name, self._counted(fn))
        return self

    def _counted(self, fn):
        def counted(*args, **kwargs):
            self.calls += 1
            self.names.append(fn.__name__)
            return fn(*args, **kwargs)
        return counted

    def __exit__(self, *exc) -> None:
        for name, fn in self._saved.items():
            setattr(torch_dist, name, fn)
