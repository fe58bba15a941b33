"""mmseg-pixcon: pixel-wise label-based contrastive learning for MMSegmentation 1.x.

Importing this package registers every module it defines in mmseg's registries, so a config
only needs ``custom_imports = dict(imports=['mmseg_pixcon'], allow_failed_imports=False)``.
"""
from . import datasets, engine, evaluation, models, utils  # noqa: F401  (registration side effects)

utils.allow_mmengine_checkpoint_globals()

__version__ = '0.1.0'
