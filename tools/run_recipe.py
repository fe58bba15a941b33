"""The whole recipe in one command: contrastive pretraining, CE fine-tuning, test - and a CE-only
run of the same total iterations on the same labelled images, so the two mIoUs stand side by side.

Each stage runs tools/train.py / tools/test.py in a subprocess, exactly as a user would:

    python tools/run_recipe.py                      # built-in synthetic Cityscapes, 8 labelled images
    python tools/run_recipe.py --dataset voc        # built-in synthetic VOC
    python tools/run_recipe.py --data-root data/cityscapes --labeled 100 \
        --pretrain-config configs/pixcon/deeplabv3plus_cityscapes_pretrain.py \
        --finetune-config configs/pixcon/deeplabv3plus_cityscapes_finetune.py \
        --pretrain-iters 20000 --finetune-iters 20000

The synthetic set is generated on first use. The summary is printed and written to
<work-dir>/summary.json.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mmseg_pixcon.datasets import (default_split_path, generate_cityscapes,  # noqa: E402
                                   generate_voc, make_split, write_split)

SYNTHETIC = {
    'cityscapes': dict(root='data/synthetic/cityscapes', generate=generate_cityscapes,
                       configs='configs/pixcon/synthetic/deeplabv3plus_r18_syncity_{}.py'),
    'voc': dict(root='data/synthetic/VOCdevkit/VOC2012', generate=generate_voc,
                configs='configs/pixcon/synthetic/deeplabv3plus_r18_synvoc_{}.py'),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--dataset', choices=sorted(SYNTHETIC), default='cityscapes')
    parser.add_argument('--data-root', help='dataset root (default: the built-in synthetic set, '
                        'generated if missing)')
    parser.add_argument('--labeled', default='8',
                        help="label budget K (a greedy class-coverage split) or 'all'")
    parser.add_argument('--split-seed', type=int, default=0)
    parser.add_argument('--pretrain-config', help='stage-1 config (default: synthetic DeepLabV3+)')
    parser.add_argument('--finetune-config', help='stage-2 config; run without its stage-1 hook '
                        'it is also the CE-only baseline')
    parser.add_argument('--pretrain-iters', type=int, default=200)
    parser.add_argument('--finetune-iters', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0, help='training seed of every run')
    parser.add_argument('--skip-contrastive', action='store_true',
                        help='run the CE-only baseline alone')
    parser.add_argument('--skip-ce', action='store_true',
                        help='run the contrastive recipe alone (no CE-only baseline)')
    parser.add_argument('--work-dir', default='work_dirs/recipe')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='extra key=value overrides passed to every train/test run')
    parser.add_argument('--pretrain-options', nargs='+', default=[],
                        help='key=value overrides for the stage-1 run only (e.g. '
                        'model.decode_head.loss_decode.temperature=0.1)')
    parser.add_argument('--finetune-options', nargs='+', default=[],
                        help='key=value overrides for the stage-2 run only')
    args = parser.parse_args()
    if args.skip_contrastive and args.skip_ce:
        parser.error('--skip-contrastive and --skip-ce leave nothing to run')
    return args


def prepare_data(args: argparse.Namespace) -> str:
    """Returns the data root; generates the built-in set when it is the (missing) default."""
    synthetic = SYNTHETIC[args.dataset]
    root = args.data_root or synthetic['root']
    if args.data_root is None and not osp.isdir(root):
        print(f'[recipe] generating the built-in synthetic {args.dataset} set in {root}', flush=True)
        synthetic['generate'](root, seed=0)
    return root


def prepare_split(args: argparse.Namespace, root: str) -> Optional[str]:
    """Writes (or reuses) the K-image split; returns its ann_file path relative to root."""
    if args.labeled == 'all':
        return None
    k = int(args.labeled)
    path = default_split_path(root, 'train', k, args.split_seed, 'greedy')
    if not path.is_file():
        split = make_split(args.dataset, root, k, seed=args.split_seed)
        write_split(split.lines, path)
        print(f'[recipe] {k} labelled images covering {len(split.covered)} of '
              f'{len(split.available)} classes -> {path}', flush=True)
    return osp.relpath(path, root)


def run(cmd: List[str], log: Path) -> None:
    """Runs one tool, teeing its output to log; a failure stops the recipe with the log's tail."""
    print('[recipe] $ ' + ' '.join(cmd), flush=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, 'w') as out:
        proc = subprocess.run(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = ''.join(open(log).readlines()[-30:])
        raise SystemExit(f'[recipe] failed ({proc.returncode}): see {log}\n{tail}')


def schedule_options(iters: int) -> List[str]:
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
            f'param_scheduler.0.end={iters}', f'default_hooks.checkpoint.interval={iters}']


def data_options(root: str, ann_file: Optional[str], validate: bool = True) -> List[str]:
    """Points the loaders at root; without validate the training run skips its val loop (the run
    is evaluated once, by tools/test.py, afterwards)."""
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader') if validate else (
        'train_dataloader', 'test_dataloader')
    options = [f'{loader}.dataset.data_root={root}' for loader in loaders]
    if not validate:
        options += ['val_cfg=None', 'val_dataloader=None', 'val_evaluator=None']
    if ann_file is not None:
        options.append(f'train_dataloader.dataset.ann_file={ann_file}')
    return options


def last_metrics(work_dir: Path) -> Dict[str, float]:
    """The newest evaluation under work_dir: mmengine logs test metrics to
    <timestamp>/<timestamp>.json and validation metrics, among the training scalars, to
    <timestamp>/vis_data/<timestamp>.json."""
    files = glob.glob(str(work_dir / '*' / '*.json')) + glob.glob(
        str(work_dir / '*' / 'vis_data' / '*.json'))
    for path in sorted(files, key=os.path.getmtime, reverse=True):
        with open(path) as f:
            records = [json.loads(line) for line in f if line.strip()]
        for record in reversed(records):
            if any(key.endswith('mIoU') for key in record):
                return record
    raise SystemExit(f'[recipe] no metrics found under {work_dir}')


def train(config: str, work_dir: Path, options: List[str]) -> None:
    run([sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir),
         '--cfg-options', *options], work_dir / 'train.log')


def test(config: str, work_dir: Path, options: List[str]) -> Dict[str, float]:
    checkpoint = (work_dir / 'last_checkpoint').read_text().strip()
    test_dir = work_dir / 'test'
    run([sys.executable, 'tools/test.py', config, checkpoint, '--work-dir', str(test_dir),
         '--cfg-options', *options], test_dir / 'test.log')
    return last_metrics(test_dir)


def main() -> None:
    args = parse_args()
    root = prepare_data(args)
    ann_file = prepare_split(args, root)
    configs = SYNTHETIC[args.dataset]['configs']
    pretrain_config = args.pretrain_config or configs.format('pretrain')
    finetune_config = args.finetune_config or configs.format('finetune')
    work = Path(args.work_dir)
    run_options = [f'randomness.seed={args.seed}'] + args.cfg_options
    common = data_options(root, ann_file) + run_options
    without_val = data_options(root, ann_file, validate=False) + run_options
    total = args.pretrain_iters + args.finetune_iters
    rows = []
    started = time.time()

    if not args.skip_contrastive:
        train(pretrain_config, work / 'stage1',
              common + schedule_options(args.pretrain_iters) + args.pretrain_options)
        stage1 = last_metrics(work / 'stage1')
        train(finetune_config, work / 'stage2',
              without_val + schedule_options(args.finetune_iters)
              + [f'custom_hooks.0.checkpoint={work / "stage1"}'] + args.finetune_options)
        metrics = test(finetune_config, work / 'stage2', common)
        rows.append(dict(run='contrastive pretraining + CE fine-tuning',
                         iters=f'{args.pretrain_iters}+{args.finetune_iters}',
                         stage1_proto_mIoU=stage1.get('proto/mIoU', stage1.get('mIoU')),
                         mIoU=metrics['mIoU'], aAcc=metrics['aAcc']))
    if not args.skip_ce:
        # The stage-2 config without its stage-1 hook is the CE-only baseline.
        train(finetune_config, work / 'ce_only',
              without_val + schedule_options(total) + ['custom_hooks=[]'])
        metrics = test(finetune_config, work / 'ce_only', common)
        rows.append(dict(run='CE only', iters=str(total), stage1_proto_mIoU=None,
                         mIoU=metrics['mIoU'], aAcc=metrics['aAcc']))

    summary = dict(dataset=args.dataset, data_root=root, labeled=args.labeled, seed=args.seed,
                   pretrain_config=pretrain_config, finetune_config=finetune_config,
                   minutes=round((time.time() - started) / 60, 1), rows=rows,
                   command=' '.join([sys.executable, *sys.argv]))
    (work / 'summary.json').write_text(json.dumps(summary, indent=2))
    print(f'\n[recipe] {args.dataset} at {root}, labelled images: {args.labeled}, seed {args.seed}')
    print(f"| {'run':<42} | {'iterations':>10} | {'stage-1 proto mIoU':>18} | {'val mIoU':>8} |")
    print(f"|{'-' * 44}|{'-' * 12}|{'-' * 20}|{'-' * 10}|")
    for row in rows:
        proto = '' if row['stage1_proto_mIoU'] is None else f"{row['stage1_proto_mIoU']:.2f}"
        print(f"| {row['run']:<42} | {row['iters']:>10} | {proto:>18} | {row['mIoU']:>8.2f} |")
    print(f'[recipe] {summary["minutes"]} minutes; summary in {work / "summary.json"}')


if __name__ == '__main__':
    main()
