"""Train a segmentor with mmseg-pixcon registered; the flags are those of mmseg's tools/train.py."""
import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmseg_pixcon  # noqa: E402,F401  (registers the plugin's modules)
from mmseg_pixcon.utils import (add_random_state_hook, end_process_group,  # noqa: E402
                                load_config, prepare_cpu_launch)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor (mmseg-pixcon)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', action='store_true', default=False,
        help='resume from the latest checkpoint in the work_dir automatically')
    parser.add_argument(
        '--amp', action='store_true', default=False,
        help='enable automatic-mixed-precision training (on a machine without CUDA: '
        'bfloat16 autocast on the CPU)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value pairs, e.g. '
        'train_cfg.max_iters=100 train_dataloader.batch_size=2')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    if args.amp:
        if cfg.optim_wrapper.type in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
            print_log('AMP training is already enabled in your config.', logger='current')
        elif cfg.optim_wrapper.type != 'OptimWrapper':
            raise ValueError(
                f'--amp needs optim_wrapper.type OptimWrapper, got {cfg.optim_wrapper.type}')
        elif torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
        else:  # AmpOptimWrapper needs a GPU; bf16 on the CPU needs no loss scaling
            cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
            print_log('--amp without CUDA: bfloat16 autocast on the CPU', logger='current')
    cfg.resume = args.resume
    add_random_state_hook(cfg)  # --resume continues the random sequences where they stopped
    prepare_cpu_launch(cfg)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()
    end_process_group()


if __name__ == '__main__':
    main()
