from .checkpoint import allow_mmengine_checkpoint_globals
from .config import load_config
from .data_root import check_data_roots

__all__ = ['allow_mmengine_checkpoint_globals', 'check_data_roots', 'load_config']
