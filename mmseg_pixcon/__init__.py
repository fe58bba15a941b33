"""mmseg-pixcon: pixel-wise label-based contrastive learning for MMSegmentation 1.x.

Importing this package registers every module it defines in mmseg's registries, so a config
only needs ``custom_imports = dict(imports=['mmseg_pixcon'], allow_failed_imports=False)``.
It imports nothing else: the data tools' helpers (splits, synthetic sets) live in
:mod:`mmseg_pixcon.datasets`, which registers nothing and is imported only by them.
"""
from . import engine, evaluation, models, utils  # noqa: F401  (registration side effects)

utils.allow_mmengine_checkpoint_globals()

__version__ = '0.1.0'
