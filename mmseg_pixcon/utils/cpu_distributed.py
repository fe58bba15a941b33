"""Distributed training on CPU processes (gloo), e.g. tests or a CPU cluster, under mmengine 0.10.7.

Under a launcher mmengine assumes one GPU per process: its ``init_dist`` calls
``torch.cuda.set_device`` and its Runner wraps the model in DDP with ``device_ids=[LOCAL_RANK]``,
which DDP refuses for a CPU module. Without CUDA, :func:`prepare_cpu_launch` therefore opens the
gloo process group itself (the Runner then skips ``init_dist``) and selects
:class:`CPUDistributedDataParallel`. With CUDA nothing changes.
"""
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS


# The Runner looks wrappers up in mmengine's root registry (MODEL_WRAPPERS.get), not mmseg's.
@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """MMDistributedDataParallel for CPU modules: drops the ``device_ids`` the Runner adds."""

    def __init__(self, module: torch.nn.Module, device_ids: Optional[list] = None,
                 **kwargs) -> None:
        super().__init__(module=module, **kwargs)


def prepare_cpu_launch(cfg: Config) -> None:
    """Readies a CPU-only process of a ``--launcher pytorch`` run (torchrun's env:// variables)."""
    if cfg.launcher != 'pytorch' or torch.cuda.is_available():
        return
    backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo')
    if backend != 'gloo':
        raise ValueError(f"env_cfg.dist_cfg.backend={backend!r} needs GPUs; on CPU use 'gloo' "
                         "(--cfg-options env_cfg.dist_cfg.backend=gloo)")
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='CPUDistributedDataParallel', broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))


def end_process_group() -> None:
    """Destroys the default process group, if any, once a ``--launcher`` run is done, as PyTorch
    asks: left to the interpreter's exit, the backend's threads can abort a process that finished
    its work (``terminate called without an active exception``, SIGABRT, seen once in a
    2-process gloo test), failing the launch after a complete run."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
