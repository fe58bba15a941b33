"""Config loading shared by tools/train.py and tools/test.py."""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from .data_root import check_data_roots


def add_random_state_hook(cfg: Config) -> None:
    """Appends RandomStateHook to ``custom_hooks`` unless the config lists one, so that
    ``--resume`` continues every random sequence (tools/train.py calls it for every config)."""
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(isinstance(hook, dict) and hook.get('type') == 'RandomStateHook'
               for hook in hooks):
        cfg.custom_hooks = hooks + [dict(type='RandomStateHook')]


def load_config(path: str, cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None, launcher: str = 'none') -> Config:
    """Reads a config the way mmseg's own tools do and checks that its data exists.

    work_dir precedence: the command line, then the config, then ./work_dirs/<config name>.
    """
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    check_data_roots(cfg)
    return cfg
