"""Loading MMEngine Runner checkpoints under torch >= 2.6 without turning weights_only off.

torch.load defaults to ``weights_only=True`` since torch 2.6. An mmengine 0.10.7 Runner checkpoint
pickles more than tensors: the message hub's ``HistoryBuffer`` objects and the numpy arrays and
scalars inside them. Loading it for ``load_from`` or ``--resume`` then fails with an
``UnpicklingError``. Rather than passing ``weights_only=False`` (which would run arbitrary pickled
code from any checkpoint), every load that goes through MMEngine's ``CheckpointLoader`` is run
inside ``torch.serialization.safe_globals`` with exactly the classes such checkpoints hold.
"""
import functools
import pickle
from typing import Any, Callable, List

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


# Registered by every HistoryBuffer's __init__, so absent from the class before the first instance.
BUILTIN_STATISTICS = {'min', 'max', 'current', 'mean'}


def history_buffer_statistic(owner: Any, name: str) -> Callable:
    """Stands in for ``builtins.getattr`` while unpickling, resolving only what mmengine pickles.

    A HistoryBuffer pickles its statistics methods (``min``, ``max``, ``mean``, ``current`` and
    any registered with ``HistoryBuffer.register_statistics``) as ``getattr(HistoryBuffer, name)``.
    Allowing the real getattr would let a checkpoint reach any attribute of any allowed class.
    """
    allowed = BUILTIN_STATISTICS | set(HistoryBuffer._statistics_methods)
    if owner is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({owner!r}, {name!r}); only the HistoryBuffer statistics '
        f'methods {sorted(allowed)} are allowed')


def mmengine_checkpoint_globals() -> List[Any]:
    """The non-tensor globals an mmengine 0.10.7 Runner checkpoint pickles (numpy 1.x or 2.x)."""
    # numpy 2 pickles arrays through numpy._core, numpy 1 through numpy.core.
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    return [
        HistoryBuffer,
        (history_buffer_statistic, 'builtins.getattr'),
        multiarray._reconstruct,
        multiarray.scalar,
        np.ndarray,
        np.dtype,
        *{type(np.dtype(name)) for name in ('float64', 'float32', 'int64', 'int32', 'bool')},
    ]


def _with_safe_globals(load: Callable) -> Callable:
    @functools.wraps(load)
    def load_checkpoint(cls, filename, map_location=None, logger='current'):
        with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
            return load(cls, filename, map_location, logger)

    load_checkpoint.allows_mmengine_globals = True
    return load_checkpoint


def allow_mmengine_checkpoint_globals() -> None:
    """Makes CheckpointLoader (load_from, resume, init_cfg Pretrained) accept Runner checkpoints.

    Idempotent; called when mmseg_pixcon is imported.
    """
    current = CheckpointLoader.__dict__['load_checkpoint'].__func__
    if not getattr(current, 'allows_mmengine_globals', False):
        CheckpointLoader.load_checkpoint = classmethod(_with_safe_globals(current))
