from .checkpoint import allow_mmengine_checkpoint_globals
from .config import add_random_state_hook, load_config
from .cpu_amp import CPUAmpOptimWrapper
from .cpu_distributed import CPUDistributedDataParallel, end_process_group, prepare_cpu_launch
from .data_root import check_data_roots

__all__ = [
    'CPUAmpOptimWrapper', 'CPUDistributedDataParallel', 'add_random_state_hook',
    'allow_mmengine_checkpoint_globals',
    'check_data_roots', 'end_process_group', 'load_config', 'prepare_cpu_launch'
]
