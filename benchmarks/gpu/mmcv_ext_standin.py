"""Stand-in for mmcv's compiled ops module (``mmcv._ext``) on the lent GPU machine.

That machine has CUDA torch but no OpenMMLab packages and no network, and compiling mmcv's ops
there would cost most of its lease; mmcv-lite (no compiled ops) is carried instead. mmseg imports
``mmcv.ops`` at import time, and each ``mmcv.ops`` module checks that ``mmcv._ext`` has the
functions it wraps, so this module answers for every name. None of the models run there
(DeepLabV3+ / PSPNet / FCN heads on ResNet) calls a compiled op: a call would raise, naming it.
device_env.sh copies this file to ``mmcv/_ext.py`` of the carried mmcv-lite.
"""
from typing import Any, Callable


def __getattr__(name: str) -> Callable[..., Any]:
    if name.startswith('__'):
        raise AttributeError(name)
    if name.startswith('get_'):  # version queries of mmcv's environment report
        return lambda *args, **kwargs: 'not compiled (mmcv-lite stand-in)'

    def not_compiled(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f'mmcv op {name!r} is not compiled on this machine (mmcv-lite)')
    return not_compiled
