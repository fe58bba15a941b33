"""The whole recipe in one command: contrastive pretraining, CE fine-tuning, test - and a CE-only
run of the same total iterations on the same labelled images, so the two mIoUs stand side by side.

Each stage runs tools/train.py / tools/test.py in a subprocess, exactly as a user would:

    python tools/run_recipe.py                      # built-in synthetic Cityscapes, 8 labelled images
    python tools/run_recipe.py --dataset voc        # built-in synthetic VOC
    python tools/run_recipe.py --data-root data/cityscapes --labeled 100 \
        --pretrain-config configs/pixcon/deeplabv3plus_cityscapes_pretrain.py \
        --finetune-config configs/pixcon/deeplabv3plus_cityscapes_finetune.py \
        --pretrain-iters 20000 --finetune-iters 20000

The synthetic set is generated on first use. Each run's output goes to its log
(<work-dir>/<run>/train.log, test/test.log) and, as it comes, to the console (--quiet: the log
only). Every parameter scheduler of a config is rescaled to the requested iterations (a warm-up
keeps its share of the run); a scheduler that cannot be rescaled, or a cfg-option that sets a
run's length or a scheduler's iterations itself, stops the recipe before its first run starts.
The summary is printed and written to <work-dir>/summary.json.
"""
import argparse
import glob
import json
import os
import os.path as osp
import pprint
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mmengine.config import Config, DictAction  # noqa: E402

from mmseg_pixcon.datasets import (default_split_path, generate_cityscapes,  # noqa: E402
                                   generate_voc, make_split, write_split)
from mmseg_pixcon.utils.data_root import how_to_get_the_data  # noqa: E402
from mmseg_pixcon.utils.schedule import as_cfg_options, rescaled_schedule  # noqa: E402

SYNTHETIC = {
    'cityscapes': dict(root='data/synthetic/cityscapes', generate=generate_cityscapes,
                       dataset_type='CityscapesDataset',
                       configs='configs/pixcon/synthetic/deeplabv3plus_r18_syncity_{}.py'),
    'voc': dict(root='data/synthetic/VOCdevkit/VOC2012', generate=generate_voc,
                dataset_type='PascalVOCDataset',
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
    parser.add_argument('--pretrain-iters', type=int,
                        help="default: what the dataset's synthetic stage-1 config trains for")
    parser.add_argument('--finetune-iters', type=int,
                        help="default: what the dataset's synthetic stage-2 config trains for")
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
    parser.add_argument('--quiet', action='store_true',
                        help="write each run's output to its log only (default: also to the "
                        'console, as it comes)')
    args = parser.parse_args()
    fill_default_iters(args)
    if args.skip_contrastive and args.skip_ce:
        parser.error('--skip-contrastive and --skip-ce leave nothing to run')
    return args


def fill_default_iters(args: argparse.Namespace) -> None:
    """Unset ``pretrain_iters`` / ``finetune_iters`` take the length ``args.dataset``'s synthetic
    stage config trains for (its train_cfg.max_iters, configs/pixcon/synthetic)."""
    for stage in ('pretrain', 'finetune'):
        if getattr(args, f'{stage}_iters') is None:
            config = SYNTHETIC[args.dataset]['configs'].format(stage)
            setattr(args, f'{stage}_iters', load(config).train_cfg.max_iters)


def prepare_data(args: argparse.Namespace) -> str:
    """Returns the data root; generates the built-in set when it is the (missing) default."""
    synthetic = SYNTHETIC[args.dataset]
    root = args.data_root or synthetic['root']
    if args.data_root is None and not osp.isdir(root):
        print(f'[recipe] generating the built-in synthetic {args.dataset} set in {root}', flush=True)
        synthetic['generate'](root, seed=0)
    elif not osp.isdir(root):
        raise SystemExit(f'[recipe] --data-root {root} does not exist. '
                         + how_to_get_the_data(synthetic['dataset_type'], root))
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


def run(cmd: List[str], log: Path, quiet: bool = False) -> None:
    """Runs one tool, its output (stdout and stderr, in the order written) streamed to log and,
    unless quiet, to the console as it comes; a failure stops the recipe.

    The child runs unbuffered (PYTHONUNBUFFERED=1), so its stdout and stderr reach the one pipe
    in program order, and the bytes are passed on unchanged (progress bars' carriage returns,
    multi-byte characters split across reads), so console and log hold the same text.
    """
    print('[recipe] $ ' + shlex.join(cmd), flush=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    console = sys.stdout.buffer
    with open(log, 'wb') as out, subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONUNBUFFERED='1')) as proc:
        # read1 returns what the pipe holds (at least one byte), so nothing waits for a newline.
        for chunk in iter(lambda: proc.stdout.read1(1 << 16), b''):
            out.write(chunk)
            out.flush()
            if not quiet:
                console.write(chunk)
                console.flush()
    minutes = (time.time() - started) / 60
    if proc.returncode != 0:
        tail = ''.join(open(log, errors='replace').readlines()[-30:]) if quiet else ''
        raise SystemExit(f'[recipe] failed ({proc.returncode}) after {minutes:.1f} min: '
                         f'see {log}\n{tail}')
    print(f'[recipe] done in {minutes:.1f} min; log: {log}', flush=True)


def load(config: str, options: Sequence[str] = ()) -> Config:
    """The config as tools/train.py would read it with ``--cfg-options *options``."""
    cfg = Config.fromfile(str(REPO / config) if not osp.isabs(config) else config)
    if options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--cfg-options', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--cfg-options', *options]).cfg_options)
    return cfg


# Keys of the rescaled schedule that a user's cfg-option may still set (how often to validate
# and save): the user's value stands. Every other one (max_iters, each scheduler's begin/end and
# iteration-valued arguments) is the length that the iteration arguments give.
USER_SETTABLE = ('train_cfg.val_interval', 'default_hooks.checkpoint.interval')


def schedule_options(config: str, iters: int, options: Sequence[str] = ()) -> List[str]:
    """cfg-options that make config (with options applied) train iters iterations: every
    parameter scheduler scaled to the new length (a warm-up keeps its share), validation and
    checkpoint at the end unless options set their intervals (USER_SETTABLE; those entries are
    left out, so the user's value stands wherever it comes in the command line). SystemExit
    naming a scheduler that cannot be rescaled, or an option that sets the length or a
    scheduler's iterations itself."""
    try:
        schedule = rescaled_schedule(load(config, options), iters)
    except ValueError as error:
        raise SystemExit(f'[recipe] cannot run {config} for {iters} iterations: {error}')
    user_keys = {option.split('=', 1)[0] for option in options}
    conflicts = {key: value for key, value in schedule.items()
                 if key in user_keys and key not in USER_SETTABLE}
    if conflicts:
        raise SystemExit(
            f'[recipe] the cfg-options set {", ".join(conflicts)}, '
            f'which the run of {config} for {iters} iterations sets itself '
            f'({" ".join(as_cfg_options(conflicts))}): '
            'the length and the schedulers\' iterations come from the iteration arguments '
            '(--pretrain-iters, --finetune-iters; the benchmark\'s --ce-iters). Give the length '
            "there and leave these cfg-options out (a scheduler's other arguments, val_interval "
            'and the checkpoint interval may be set)')
    return as_cfg_options({key: value for key, value in schedule.items() if key not in user_keys})


def stage_one_hook_index(cfg: Config, config: str) -> int:
    """Position of the one LoadStageOneHook in custom_hooks; SystemExit if there is none or
    several."""
    hooks = cfg.get('custom_hooks') or []
    found = [i for i, hook in enumerate(hooks)
             if isinstance(hook, dict) and hook.get('type') == 'LoadStageOneHook']
    if len(found) != 1:
        raise SystemExit(f'[recipe] {config} must have exactly one LoadStageOneHook in '
                         f'custom_hooks to start stage 2 from stage 1; it has {len(found)}')
    return found[0]


def stage_one_options(config: str, checkpoint: Path, options: Sequence[str] = ()) -> List[str]:
    """The cfg-option pointing the stage-2 config's LoadStageOneHook at checkpoint, found by
    type (the config's other custom hooks are left as they are)."""
    index = stage_one_hook_index(load(config, options), config)
    return [f'custom_hooks.{index}.checkpoint={checkpoint}']


def ce_only_config(config: str, work_dir: Path, options: Sequence[str] = ()) -> str:
    """Writes <work_dir>_config.py beside the run's work_dir: the stage-2 config without its
    LoadStageOneHook and with the user's other custom hooks, i.e. the CE-only baseline; returns
    its path. Not inside work_dir: tools/train.py dumps the merged config there under the same
    file name, which would replace this one (with the run's val_dataloader=None, say) before
    tools/test.py reads it.

    ``custom_hooks.*`` entries of options are applied here, so the caller must not pass them to
    the run again (the positions shift by one).
    """
    cfg = load(config, options)
    index = stage_one_hook_index(cfg, config)
    hooks = cfg.to_dict()['custom_hooks']  # plain dicts, written below as Python literals
    del hooks[index]
    path = work_dir.parent / f'{work_dir.name}_config.py'
    path.parent.mkdir(parents=True, exist_ok=True)
    base = str(REPO / config) if not osp.isabs(config) else config
    path.write_text(
        f'# Written by tools/run_recipe.py: {config} without its LoadStageOneHook, the CE-only\n'
        f'# baseline of the recipe.\n_base_ = [{base!r}]\n'
        f'custom_hooks = {pprint.pformat(hooks)}\n')
    return str(path)


def without_hook_options(options: Sequence[str]) -> List[str]:
    """options without the custom_hooks.* entries (ce_only_config has applied them)."""
    return [option for option in options if not option.startswith('custom_hooks')]


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


def train(config: str, work_dir: Path, options: List[str], quiet: bool = False) -> None:
    """tools/train.py config into work_dir (log: work_dir/train.log)."""
    run([sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir),
         '--cfg-options', *options], work_dir / 'train.log', quiet)


def test(config: str, work_dir: Path, options: List[str],
         quiet: bool = False) -> Dict[str, float]:
    """tools/test.py on work_dir's last checkpoint; returns its metrics."""
    checkpoint = (work_dir / 'last_checkpoint').read_text().strip()
    test_dir = work_dir / 'test'
    run([sys.executable, 'tools/test.py', config, checkpoint, '--work-dir', str(test_dir),
         '--cfg-options', *options], test_dir / 'test.log', quiet)
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

    # Every run's options first: a bad option stops the recipe before its first iteration.
    if not args.skip_contrastive:
        stage1_options = common + args.pretrain_options
        stage1_run = (common + schedule_options(pretrain_config, args.pretrain_iters,
                                                stage1_options) + args.pretrain_options)
        stage2_options = without_val + args.finetune_options
        stage2_run = (without_val + schedule_options(finetune_config, args.finetune_iters,
                                                     stage2_options)
                      + stage_one_options(finetune_config, work / 'stage1', stage2_options)
                      + args.finetune_options)
    if not args.skip_ce:
        # The stage-2 config without its stage-1 hook (its other custom hooks kept) is the
        # CE-only baseline.
        ce_config = ce_only_config(finetune_config, work / 'ce_only', without_val)
        ce_options = without_hook_options(without_val)
        ce_run = ce_options + schedule_options(ce_config, total, ce_options)

    if not args.skip_contrastive:
        train(pretrain_config, work / 'stage1', stage1_run, args.quiet)
        stage1 = last_metrics(work / 'stage1')
        train(finetune_config, work / 'stage2', stage2_run, args.quiet)
        metrics = test(finetune_config, work / 'stage2', common, args.quiet)
        rows.append(dict(run='contrastive pretraining + CE fine-tuning',
                         iters=f'{args.pretrain_iters}+{args.finetune_iters}',
                         stage1_proto_mIoU=stage1.get('proto/mIoU', stage1.get('mIoU')),
                         mIoU=metrics['mIoU'], aAcc=metrics['aAcc']))
    if not args.skip_ce:
        train(ce_config, work / 'ce_only', ce_run, args.quiet)
        metrics = test(ce_config, work / 'ce_only', without_hook_options(common), args.quiet)
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
