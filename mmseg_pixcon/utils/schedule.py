"""Rescale a config's iteration schedule to another length: every parameter scheduler keeps its
share of the run (a warm-up of 5% stays 5%), or the rescaling is refused with a clear error.

tools/run_recipe.py runs stock configs (80k iterations) for a few hundred; setting only
``max_iters`` would leave a PolyLR ending at 80k (the learning rate barely decays) and a warm-up
of 1.5k iterations longer than the run. Each scheduler's ``begin``/``end`` and its other
iteration-valued arguments are scaled by ``iters / max_iters`` and rounded, so schedulers that
met at an iteration still meet after the rescaling.
"""
from typing import Any, Dict, Iterator, List, Tuple

from mmengine.config import Config

# mmengine's "until the end of training" (the default ``end``).
from mmengine.optim.scheduler.param_scheduler import INF

# Scheduler families whose curve is fixed by begin/end and the iteration-valued arguments
# listed (scaled alike); each name exists with the suffixes LR, Momentum and ParamScheduler.
FAMILIES = {'Constant': (), 'Linear': (), 'Poly': (), 'CosineAnnealing': ('T_max', ),
            'Step': ('step_size', ), 'MultiStep': ('milestones', )}
RESCALABLE = {f'{family}{suffix}': extra for family, extra in FAMILIES.items()
              for suffix in ('LR', 'Momentum', 'ParamScheduler')}
RESCALABLE['PolyLRRatio'] = ()  # mmseg's PolyLR with a ratio floor


def _scale(value: int, iters: int, old: int) -> int:
    """round(value * iters / old), half up, in integers so that ``old`` maps to ``iters``."""
    return (2 * value * iters + old) // (2 * old)


def _schedulers(schedulers: Any, key: str) -> Iterator[Tuple[str, dict]]:
    """(dotted cfg-options key, scheduler config) of a scheduler, a list of them, or a dict of
    lists per optimizer."""
    if isinstance(schedulers, dict) and 'type' in schedulers:
        yield key, schedulers
    elif isinstance(schedulers, dict):
        for name, value in schedulers.items():
            yield from _schedulers(value, f'{key}.{name}')
    else:
        for index, scheduler in enumerate(schedulers):
            yield f'{key}.{index}', scheduler


def rescale_scheduler(scheduler: dict, iters: int, old: int, where: str) -> Dict[str, Any]:
    """The scaled arguments of one iteration-based scheduler config; ValueError if it cannot be
    rescaled (unknown shape, counted in epochs, or an interval rounded away)."""
    kind = str(scheduler.get('type'))
    if kind not in RESCALABLE:
        raise ValueError(
            f'{where} is a {kind}, whose curve does not follow from begin/end alone; '
            f'rescaling supports {sorted(RESCALABLE)}. Give a config whose schedule has the '
            'length you want, or replace that scheduler')
    if scheduler.get('by_epoch', True):  # mmengine's default
        raise ValueError(f'{where} ({kind}) counts epochs (by_epoch=True): only '
                         'iteration-based schedulers (by_epoch=False) can be rescaled')
    begin, end = scheduler.get('begin', 0), scheduler.get('end', INF)
    scaled = {'begin': _scale(begin, iters, old)}
    if end < INF:  # INF keeps meaning "until the end"
        scaled['end'] = _scale(end, iters, old)
        if scaled['end'] <= scaled['begin']:
            raise ValueError(
                f'{where} ({kind}) spans iterations {begin}-{end} of {old}; at {iters} '
                f"iterations it would span {scaled['begin']}-{scaled['end']}, i.e. vanish. "
                'Give more iterations or a config without it')
    for name in RESCALABLE[kind]:
        value = scheduler.get(name)
        if isinstance(value, (list, tuple)):
            scaled[name] = [_scale(v, iters, old) for v in value]
            if len(set(scaled[name])) < len(value) or min(scaled[name]) < 1:
                raise ValueError(f'{where} ({kind}): {name}={list(value)} of {old} iterations '
                                 f'collapse to {scaled[name]} at {iters}')
        elif value is not None:
            scaled[name] = max(1, _scale(value, iters, old))
    return scaled


def rescaled_schedule(cfg: Config, iters: int) -> Dict[str, Any]:
    """cfg-options (dotted key -> value) that make ``cfg`` train ``iters`` iterations with every
    scheduler scaled to the new length; validation and checkpoint at the end only.

    Raises:
        ValueError: the config is not iteration-based, or a scheduler cannot be rescaled.
    """
    if iters < 1:
        raise ValueError(f'the number of iterations must be positive, got {iters}')
    train_cfg = cfg.get('train_cfg') or {}
    old = train_cfg.get('max_iters')
    if old is None or 'Epoch' in str(train_cfg.get('type', '')):
        raise ValueError(f'train_cfg {dict(train_cfg)} is not iteration-based (no max_iters); '
                         'the schedule can only be rescaled in iterations')
    options: Dict[str, Any] = {'train_cfg.max_iters': iters, 'train_cfg.val_interval': iters,
                               'default_hooks.checkpoint.interval': iters}
    for key, scheduler in _schedulers(cfg.get('param_scheduler') or [], 'param_scheduler'):
        scaled = rescale_scheduler(scheduler, iters, old, where=key)
        options.update({f'{key}.{name}': value for name, value in scaled.items()})
    return options


def as_cfg_options(options: Dict[str, Any]) -> List[str]:
    """``key=value`` strings for ``--cfg-options`` (lists as ``[a,b]``, which DictAction
    parses back)."""
    return [f"{key}=[{','.join(map(str, value))}]" if isinstance(value, list) else
            f'{key}={value}' for key, value in options.items()]
