"""LoadStageOneHook: start stage 2 from a stage-1 checkpoint, refusing any bad fit."""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor

from mmseg.registry import HOOKS
from .runner_model import bare_model

SHOWN_NAMES = 20


@HOOKS.register_module()
class LoadStageOneHook(Hook):
    """Loads every tensor of the model but the ``fresh`` ones from a stage-1 checkpoint.

    Runs in ``before_train``, after the runner has initialised the weights and handled
    ``load_from`` / ``resume``: a resumed run (``runner.iter > 0``) keeps its own weights; a
    config that also sets ``load_from`` (read from ``runner.cfg``, which ``Runner.from_cfg``
    fills, as tools/train.py builds the runner) is refused as ambiguous. The fit is strict:
    every model tensor (parameters, persistent buffers) outside the ``fresh`` prefixes must be
    in the checkpoint with the same shape, and every checkpoint tensor the model lacks must lie
    under a ``fresh`` prefix (such as the projection head ``decode_head.conv_seg.convs...``);
    otherwise a RuntimeError lists the offending names. Tensors under ``fresh`` keep their
    initialisation.

    Args:
        checkpoint: a checkpoint file, or a stage-1 work_dir whose ``last_checkpoint`` file
            names one.
        fresh: name prefixes (whole dotted components) not taken from the checkpoint.
        map_location: passed to the checkpoint loader.

    Attributes:
        loaded_count: number of tensors loaded (None until loaded).
    """

    priority = 'VERY_HIGH'

    def __init__(self, checkpoint: str,
                 fresh: Sequence[str] = ('decode_head.conv_seg', 'auxiliary_head'),
                 map_location: str = 'cpu') -> None:
        self.checkpoint = checkpoint
        self.fresh = tuple(fresh)
        self.map_location = map_location
        self.loaded_count: Optional[int] = None

    def before_train(self, runner: Runner) -> None:
        if runner.iter > 0:
            print_log(f'LoadStageOneHook: resumed at iter {runner.iter}; not loading '
                      f'{self.checkpoint}', logger='current')
            return
        if runner.cfg.get('load_from'):
            raise ValueError(f'both load_from={runner.cfg.load_from!r} and LoadStageOneHook('
                             f'checkpoint={self.checkpoint!r}) are set; keep one')
        model = bare_model(runner)
        path = resolve_checkpoint(self.checkpoint)
        state = checkpoint_state_dict(read_checkpoint(path, self.map_location), path)
        target = model.state_dict()
        check_fit(target, state, self.fresh)
        loaded = {name: value for name, value in state.items() if not self.is_fresh(name)}
        model.load_state_dict({**target, **loaded}, strict=True)
        self.loaded_count = len(loaded)
        fresh_names = [name for name in target if self.is_fresh(name)]
        print_log(f'LoadStageOneHook: loaded {len(loaded)} tensors from {path}; freshly '
                  f'initialised: {fresh_names}', logger='current')

    def is_fresh(self, name: str) -> bool:
        return is_under(name, self.fresh)


def is_under(name: str, prefixes: Sequence[str]) -> bool:
    """True if ``name`` is one of ``prefixes`` or inside one (``a.b`` covers ``a.b.c``, not
    ``a.bc``)."""
    return any(name == prefix or name.startswith(prefix + '.') for prefix in prefixes)


FIX = ('run stage 1 first, or point the hook at a stage-1 .pth file or work_dir (tools/train.py '
       '... --cfg-options custom_hooks.<index of LoadStageOneHook>.checkpoint=PATH)')


def resolve_checkpoint(checkpoint: str) -> str:
    """A checkpoint file itself, or the file named in a work_dir's ``last_checkpoint``;
    FileNotFoundError saying which is missing and how to fix it."""
    if osp.isdir(checkpoint):
        pointer = osp.join(checkpoint, 'last_checkpoint')
        if not osp.isfile(pointer):
            raise FileNotFoundError(f'LoadStageOneHook: {checkpoint} is a directory without a '
                                    'last_checkpoint file (a stage-1 run that saved no '
                                    f'checkpoint?); give the stage-1 .pth file itself, or {FIX}')
        with open(pointer) as f:
            named = f.read().strip()
        if not osp.isfile(named):
            raise FileNotFoundError(f'LoadStageOneHook: stage-1 checkpoint {named} (named in '
                                    f'{pointer}) does not exist; {FIX}')
        return named
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'LoadStageOneHook: stage-1 checkpoint {checkpoint} does not '
                                f'exist; {FIX}')
    return checkpoint


def read_checkpoint(path: str, map_location: str) -> Any:
    """The unpickled file; RuntimeError naming it if it cannot be read (a truncated save, not a
    checkpoint at all)."""
    try:
        return _load_checkpoint(path, map_location=map_location)
    except Exception as error:  # torch raises several types for a damaged file
        raise RuntimeError(f'LoadStageOneHook: cannot read the stage-1 checkpoint {path} '
                           f'({type(error).__name__}: {error}); is it a complete .pth file '
                           'saved by the stage-1 run?') from error


def checkpoint_state_dict(checkpoint: Any, path: str = 'the checkpoint') -> Dict[str, Tensor]:
    """The ``state_dict`` of a runner checkpoint (or the dict itself), ``module.`` stripped;
    RuntimeError if it holds no dict of tensors."""
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise RuntimeError(f'LoadStageOneHook: {path} holds no state_dict of tensors '
                           f'(found {type(checkpoint).__name__}); give a checkpoint saved by '
                           'the stage-1 run')
    return {name[len('module.'):] if name.startswith('module.') else name: value
            for name, value in state.items()}


def check_fit(target: Dict[str, Tensor], source: Dict[str, Tensor],
              fresh: Sequence[str]) -> None:
    """RuntimeError naming the missing, unexpected and shape-mismatched tensors, if any.

    Args:
        target: the model's state dict.
        source: the checkpoint's.
        fresh: prefixes exempt from the check on both sides.
    """
    missing = [n for n in target if not is_under(n, fresh) and n not in source]
    unexpected = [n for n in source if not is_under(n, fresh) and n not in target]
    mismatched = [
        f'{n}: checkpoint {tuple(source[n].shape)} vs model {tuple(target[n].shape)}'
        for n in target
        if not is_under(n, fresh) and n in source and source[n].shape != target[n].shape
    ]
    problems = [_listing(kind, names) for kind, names in
                (('missing from the checkpoint', missing),
                 ('in the checkpoint but not in the model (and not fresh)', unexpected),
                 ('of a different shape', mismatched)) if names]
    if problems:
        raise RuntimeError(f'the stage-1 checkpoint does not fit the model (fresh prefixes: '
                           f'{list(fresh)}):\n' + '\n'.join(problems))


def _listing(kind: str, names: List[str]) -> str:
    more = f' ... and {len(names) - SHOWN_NAMES} more' if len(names) > SHOWN_NAMES else ''
    return f'{len(names)} tensors {kind}: {names[:SHOWN_NAMES]}{more}'
