"""Label-efficiency benchmark: CE alone vs contrastive pretraining + CE, over label budgets and seeds.

For each label budget K (a greedy class-coverage split of tools/make_split.py; 'all' = the whole
training set) and each seed s (the split's seed and the training seed), trains, through
tools/train.py and tools/test.py as a user would:

- CE only, for T1 + T2 iterations (``--ce-iters``, never fewer), validated at 25/50/75/100 % of
  its schedule so that the table shows whether it converged (its mIoU at 75 % next to the end);
- the recipe: stage 1 (contrastive, T1 iterations, its prototype mIoU logged) and stage 2 (CE
  fine-tuning from stage 1, T2 iterations), then tested.

    python tools/benchmark_label_efficiency.py                        # built-in synthetic Cityscapes
    python tools/benchmark_label_efficiency.py --dataset voc --out benchmarks/label_efficiency_voc
    python tools/benchmark_label_efficiency.py --data-root data/cityscapes \\
        --pretrain-config configs/pixcon/deeplabv3plus_cityscapes_pretrain.py \\
        --finetune-config configs/pixcon/deeplabv3plus_cityscapes_finetune.py \\
        --budgets 100 372 744 all --pretrain-iters 40000 --finetune-iters 40000

Writes <out>.json (``{"command", "iters", "settings": [{"labeled", "seed", "ce_miou",
"pixcon_miou", ...}]}``), <out>.md (the table) and <out>.png (mIoU against labelled images, both
curves, every seed). Each finished run is appended to the JSON at once; a restart skips the runs
already there (and refuses a JSON made with other settings). Each run's logs stay under
``--work-dir``.
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tools'))

import run_recipe  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

from mmseg_pixcon.datasets.splits import DATASETS  # noqa: E402
from mmseg_pixcon.utils.benchmark_report import cpu_signature  # noqa: E402

FRACTIONS = (0.25, 0.5, 0.75, 1.0)  # of the CE / stage-2 schedule, where val mIoU is logged
RUN_KEYS = ('ce', 'pixcon')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--dataset', choices=sorted(run_recipe.SYNTHETIC), default='cityscapes')
    parser.add_argument('--data-root', help='dataset root (default: the built-in synthetic set, '
                        'generated if missing)')
    parser.add_argument('--budgets', nargs='+', default=['8', '16', '32', 'all'],
                        help="label budgets K, or 'all'")
    parser.add_argument('--seeds', type=int, default=2, help='seeds per budget')
    parser.add_argument('--seeds-smallest', type=int, default=3,
                        help='seeds at the smallest budget')
    parser.add_argument('--pretrain-config')
    parser.add_argument('--finetune-config')
    parser.add_argument('--ce-config', help='CE-only config (default: the synthetic CE config; '
                        'for other data the fine-tuning config without its stage-1 hook)')
    parser.add_argument('--pretrain-iters', type=int,
                        help="default: what the dataset's synthetic stage-1 config trains for")
    parser.add_argument('--finetune-iters', type=int,
                        help="default: what the dataset's synthetic stage-2 config trains for")
    parser.add_argument('--ce-iters', type=int,
                        help='CE-only iterations (default and minimum: pretrain + finetune)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides for every run')
    parser.add_argument('--pretrain-options', nargs='+', default=[],
                        help='key=value overrides for stage 1 only')
    parser.add_argument('--finetune-options', nargs='+', default=[],
                        help='key=value overrides for stage 2 only')
    parser.add_argument('--skip-ce', action='store_true', help='run the recipe only')
    parser.add_argument('--skip-pixcon', action='store_true', help='run CE only')
    parser.add_argument('--out', default='benchmarks/label_efficiency',
                        help='output path without suffix (.json, .md, .png)')
    parser.add_argument('--work-dir', default='work_dirs/label_efficiency')
    args = parser.parse_args(argv)
    run_recipe.fill_default_iters(args)
    total = args.pretrain_iters + args.finetune_iters
    if args.ce_iters is None:
        args.ce_iters = total
    if args.ce_iters < total:
        parser.error(f'--ce-iters {args.ce_iters} < pretrain + finetune = {total}: the baseline '
                     'must have at least the compute of the recipe')
    for budget in args.budgets:
        if budget != 'all' and not (budget.isdigit() and int(budget) > 0):
            parser.error(f"budgets are positive integers or 'all', got {budget!r}")
    if args.skip_ce and args.skip_pixcon:
        parser.error('--skip-ce and --skip-pixcon leave nothing to run')
    for option in args.cfg_options + args.finetune_options:
        if option.split('=', 1)[0] == 'train_cfg.val_interval':
            parser.error(f'{option}: the benchmark validates CE and stage 2 at each of '
                         f'{FRACTIONS} of their schedules (its convergence column needs the '
                         'value at 75 %); leave val_interval out')
    return args


def check_runs(args: argparse.Namespace, configs: Dict, root: str) -> None:
    """Builds every kind of run's options before the first run, with the builders the runs call
    (stage1_run_options, stage2_run_options, ce_run_options) and the data root's options (the
    split left out: no check reads it): an option that sets a length (run_recipe.schedule_options)
    or a stage-2 config without its one LoadStageOneHook (run_recipe.stage_one_options; CE alone
    too where it is the stage-2 config without the hook) stops the benchmark before it trains
    anything, not after the runs that come before the one that needs it."""
    common = run_options(args, root, None, seed=0)  # the builders are called for their checks
    if not args.skip_pixcon:
        stage1_run_options(args, configs, common)
        stage2_run_options(args, configs, common, Path('stage1'))
    if not args.skip_ce:
        with tempfile.TemporaryDirectory() as work:  # where a CE-only config would be written
            ce_run_options(args, configs, common, Path(work))


def plan(args: argparse.Namespace) -> List[Dict]:
    """The (labeled, seed) settings: ``--seeds-smallest`` seeds at the smallest budget."""
    numeric = [int(b) for b in args.budgets if b != 'all']
    smallest = min(numeric) if numeric else None
    settings = []
    for budget in args.budgets:
        labeled = budget if budget == 'all' else int(budget)
        count = args.seeds_smallest if labeled == smallest else args.seeds
        settings += [dict(labeled=labeled, seed=seed) for seed in range(count)]
    return settings


def identity(args: argparse.Namespace, configs: Dict[str, str], root: str) -> Dict:
    """What a JSON's results depend on; a restart must match it."""
    configs = {stage: configs[stage] for stage in ('pretrain', 'finetune', 'ce')
               if stage in configs}
    return dict(dataset=args.dataset, data_root=root, configs=configs,
                iters=dict(pretrain=args.pretrain_iters, finetune=args.finetune_iters,
                           ce=args.ce_iters),
                cfg_options=args.cfg_options, pretrain_options=args.pretrain_options,
                finetune_options=args.finetune_options)


def load_results(path: Path, expected: Dict) -> Dict:
    """The JSON written so far (its identity checked), or a new one."""
    if not path.is_file():
        return dict(expected, settings=[])
    results = json.loads(path.read_text())
    differing = [key for key in expected if results.get(key) != expected[key]]
    if differing:
        raise SystemExit(f'{path} was made with other settings ({", ".join(differing)} differ); '
                         'pass another --out or delete it')
    for entry in results['settings']:  # written by a version that read round(0.75 x iters)
        if entry.get('ce_miou_75') is None and 'ce_curve' in entry:
            entry['ce_miou_75'] = value_at_75(entry['ce_curve'], results['iters']['ce'])
    return results


def find(results: Dict, setting: Dict) -> Dict:
    """The entry of ``results['settings']`` for (labeled, seed), created if absent."""
    for entry in results['settings']:
        if entry['labeled'] == setting['labeled'] and entry['seed'] == setting['seed']:
            return entry
    entry = dict(setting)
    results['settings'].append(entry)
    return entry


def val_curve(work_dir: Path) -> Dict[int, float]:
    """{iteration: val mIoU} from the training run's scalar log."""
    curve = {}
    for path in sorted(work_dir.glob('*/vis_data/*.json')):
        for line in path.read_text().splitlines():
            record = json.loads(line) if line.strip() else {}
            if 'mIoU' in record:
                curve[int(record['step'])] = record['mIoU']
    return curve


def validation_interval(iters: int) -> int:
    """Iterations between validations: a quarter of the schedule (FRACTIONS), at least 1."""
    return max(1, round(iters * FRACTIONS[0]))


def validation_options(iters: int) -> List[str]:
    """Validate at each of FRACTIONS of the schedule."""
    return [f'train_cfg.val_interval={validation_interval(iters)}']


def value_at_75(curve: Dict, iters: int) -> Optional[float]:
    """The val mIoU logged at the third validation, 75 % of a schedule of ``iters`` (its step is
    3 x the rounded interval: 1686 of 2250, not round(0.75 x 2250) = 1688, which is never
    validated); ``curve`` maps steps (int, or str as read back from JSON) to mIoU."""
    step = 3 * validation_interval(iters)
    return {int(k): v for k, v in curve.items()}.get(step) if step < iters else None


def run_options(args: argparse.Namespace, root: str, ann_file: Optional[str],
                seed: int) -> List[str]:
    """The cfg-options every run of a setting gets: its data (root, split), its seed and
    ``--cfg-options``."""
    return run_recipe.data_options(root, ann_file) + [f'randomness.seed={seed}'] \
        + args.cfg_options


def ce_run_options(args: argparse.Namespace, configs: Dict, common: List[str],
                   work: Path) -> Tuple[str, List[str]]:
    """CE alone's config and cfg-options: ``--ce-iters`` iterations, validated at FRACTIONS.
    Where CE alone is the stage-2 config, the config is that one without its LoadStageOneHook,
    written beside work/ce (run_recipe.ce_only_config)."""
    config, options = configs['ce'], list(common)
    if configs['ce_from_finetune']:
        config = run_recipe.ce_only_config(config, work / 'ce', options)
        options = run_recipe.without_hook_options(options)
    return config, (options + run_recipe.schedule_options(config, args.ce_iters, options)
                    + validation_options(args.ce_iters))


def stage1_run_options(args: argparse.Namespace, configs: Dict, common: List[str]) -> List[str]:
    """Stage 1's cfg-options: ``--pretrain-options``, ``--pretrain-iters`` iterations."""
    options = common + args.pretrain_options
    return options + run_recipe.schedule_options(configs['pretrain'], args.pretrain_iters, options)


def stage2_run_options(args: argparse.Namespace, configs: Dict, common: List[str],
                       stage1: Path) -> List[str]:
    """Stage 2's cfg-options: ``--finetune-options``, ``--finetune-iters`` iterations validated
    at FRACTIONS, its LoadStageOneHook pointed at the stage-1 work dir ``stage1``."""
    finetune = configs['finetune']
    options = common + args.finetune_options
    return (options + run_recipe.schedule_options(finetune, args.finetune_iters, options)
            + validation_options(args.finetune_iters)
            + run_recipe.stage_one_options(finetune, stage1, options))


def run_ce(args, configs, root, ann_file, seed, work: Path) -> Dict:
    config, options = ce_run_options(args, configs, run_options(args, root, ann_file, seed), work)
    started = time.time()
    run_recipe.train(config, work / 'ce', options, quiet=True)
    miou = run_recipe.test(config, work / 'ce', options, quiet=True)['mIoU']
    curve = val_curve(work / 'ce')
    return dict(ce_miou=miou, ce_miou_75=value_at_75(curve, args.ce_iters), ce_curve=curve,
                ce_minutes=round((time.time() - started) / 60, 2))


def run_pixcon(args, configs, root, ann_file, seed, work: Path) -> Dict:
    common = run_options(args, root, ann_file, seed)
    started = time.time()
    run_recipe.train(configs['pretrain'], work / 'stage1',
                     stage1_run_options(args, configs, common), quiet=True)
    proto = run_recipe.last_metrics(work / 'stage1')
    stage1_minutes = (time.time() - started) / 60
    finetune = configs['finetune']
    options = stage2_run_options(args, configs, common, work / 'stage1')
    run_recipe.train(finetune, work / 'stage2', options, quiet=True)
    miou = run_recipe.test(finetune, work / 'stage2', options, quiet=True)['mIoU']
    return dict(pixcon_miou=miou, proto_miou=proto.get('proto/mIoU', proto.get('mIoU')),
                pixcon_curve=val_curve(work / 'stage2'),
                stage1_minutes=round(stage1_minutes, 2),
                pixcon_minutes=round((time.time() - started) / 60, 2))


def mean_sd(values: Sequence[float]) -> str:
    if not values:
        return ''
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}'


def by_budget(results: Dict) -> Dict:
    """{labeled: entries}, budgets in increasing order, 'all' last (whatever order they ran in)."""
    groups: Dict = {}
    for entry in results['settings']:
        groups.setdefault(entry['labeled'], []).append(entry)
    order = sorted(groups, key=lambda labeled: (labeled == 'all',
                                                0 if labeled == 'all' else labeled))
    return {labeled: groups[labeled] for labeled in order}


def machines(results: Dict) -> str:
    """Which CPU ran which runs: the one machine, or each machine with its runs when a resumed
    sweep ran on several (each run records its own, ``ce_machine`` / ``pixcon_machine``; runs
    written before that are the JSON's ``machine``, the last one to write it)."""
    runs: Dict[str, List[str]] = {}
    for entry in results['settings']:
        for key in RUN_KEYS:
            if f'{key}_miou' in entry:
                machine = entry.get(f'{key}_machine', results['machine'])
                runs.setdefault(machine, []).append(f"{key} {entry['labeled']}/{entry['seed']}")
    if len(runs) <= 1:
        return next(iter(runs), results['machine'])
    return '; '.join(f"{machine}: {', '.join(names)}" for machine, names in runs.items())


def markdown(results: Dict) -> str:
    """The table: per budget, each arm's mean ± sd over seeds, the seeds themselves, the gain."""
    iters = results['iters']
    lines = [
        f"# Label efficiency: {results['dataset']} ({results['data_root']})", '',
        f"`{results['command']}`", '',
        f"{machines(results)}. CE only: {iters['ce']} iterations; recipe: stage 1 "
        f"{iters['pretrain']} + stage 2 {iters['finetune']}. val mIoU (%) of the final "
        'checkpoint (tools/test.py); mean ± sample sd over seeds (seed = split seed = '
        'training seed), each seed in brackets. "CE 75 %": its val mIoU at 75 % of its '
        'schedule (converged: within 1 of the end).', '',
        '| labelled | seeds | CE only | CE 75 % → end | contrastive + CE | stage-1 proto '
        '| gain (recipe − CE) | minutes (CE / recipe) |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for labeled, entries in by_budget(results).items():
        ce = [e['ce_miou'] for e in entries if 'ce_miou' in e]
        pix = [e['pixcon_miou'] for e in entries if 'pixcon_miou' in e]
        proto = [e['proto_miou'] for e in entries if e.get('proto_miou') is not None]
        gains = [e['pixcon_miou'] - e['ce_miou'] for e in entries
                 if 'ce_miou' in e and 'pixcon_miou' in e]
        drift = [f"{e['ce_miou_75']:.1f}→{e['ce_miou']:.1f}" for e in entries
                 if e.get('ce_miou_75') is not None]
        minutes = (mean_sd([e['ce_minutes'] for e in entries if 'ce_minutes' in e]) + ' / '
                   + mean_sd([e['pixcon_minutes'] for e in entries if 'pixcon_minutes' in e]))
        seeds = ', '.join(str(e['seed']) for e in entries)
        each = lambda values: ' [' + ', '.join(f'{v:.1f}' for v in values) + ']' if values \
            else ''  # noqa: E731
        lines.append(f'| {labeled} | {seeds} | {mean_sd(ce)}{each(ce)} | {", ".join(drift)} | '
                     f'{mean_sd(pix)}{each(pix)} | {mean_sd(proto)} | {mean_sd(gains)} | '
                     f'{minutes} |')
    return '\n'.join(lines) + '\n'


def plot(results: Dict, path: Path, num_train: int) -> None:
    """mIoU against labelled images (log axis): mean curves of both arms, every seed a dot."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for key, label, colour, shift in (('ce_miou', 'CE only', 'tab:gray', 0.97),
                                      ('pixcon_miou', 'contrastive + CE', 'tab:red', 1.03)):
        xs, means = [], []
        for labeled, entries in by_budget(results).items():
            values = [e[key] for e in entries if key in e]
            if not values:
                continue
            x = num_train if labeled == 'all' else labeled
            ax.scatter([x * shift] * len(values), values, s=14, color=colour, alpha=0.6)
            xs.append(x)
            means.append(statistics.mean(values))
        if xs:
            order = sorted(range(len(xs)), key=xs.__getitem__)
            ax.plot([xs[i] for i in order], [means[i] for i in order], '-o', color=colour,
                    label=f'{label} (mean; dots: seeds)')
    ax.set_xscale('log', base=2)
    ticks = sorted({num_train if e['labeled'] == 'all' else e['labeled']
                    for e in results['settings']})
    ax.set_xlim(min(ticks) / 1.6, max(ticks) * 1.6)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f'all ({t})' if t == num_train else str(t) for t in ticks])
    ax.set_xlabel('labelled training images')
    ax.set_ylabel('val mIoU (%)')
    ax.set_title(f"{results['dataset']}: CE {results['iters']['ce']} it. vs recipe "
                 f"{results['iters']['pretrain']}+{results['iters']['finetune']} it.",
                 fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def resolve_configs(args: argparse.Namespace) -> Dict:
    pattern = run_recipe.SYNTHETIC[args.dataset]['configs']
    builtin = args.data_root is None
    pretrain = args.pretrain_config or pattern.format('pretrain')
    finetune = args.finetune_config or pattern.format('finetune')
    if args.ce_config:
        ce, from_finetune = args.ce_config, False
    elif builtin:
        ce, from_finetune = pattern.format('ce'), False
    else:  # the stage-2 config without its stage-1 hook is the CE-only baseline
        ce, from_finetune = finetune, True
    return dict(pretrain=pretrain, finetune=finetune, ce=ce, ce_from_finetune=from_finetune)


def output_paths(out: str) -> Dict[str, Path]:
    """The .json, .md and .png of the stem ``out``, appended, so that a dot in it
    (``temperature_0.1``) is kept rather than taken for a suffix."""
    return {suffix: Path(f'{out}.{suffix}') for suffix in ('json', 'md', 'png')}


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    recipe_args = argparse.Namespace(dataset=args.dataset, data_root=args.data_root)
    root = run_recipe.prepare_data(recipe_args)
    configs = resolve_configs(args)
    check_runs(args, configs, root)
    paths = output_paths(args.out)
    json_path = paths['json']
    results = load_results(json_path, identity(args, configs, root))
    results.update(command=' '.join(['python', *sys.argv]), machine=cpu_signature())
    todo = []
    for setting in plan(args):
        entry = find(results, setting)
        todo += [(setting, key) for key in RUN_KEYS
                 if f'{key}_miou' not in entry and not getattr(args, f'skip_{key}')]
    print(f'[label-efficiency] {len(todo)} runs to go ({len(results["settings"])} settings); '
          f'results in {json_path}', flush=True)
    progress = ProgressBar(len(todo)) if todo else None
    runners = dict(ce=run_ce, pixcon=run_pixcon)
    for setting, key in todo:
        split_args = argparse.Namespace(labeled=str(setting['labeled']),
                                        split_seed=setting['seed'], dataset=args.dataset)
        ann_file = run_recipe.prepare_split(split_args, root)
        work = Path(args.work_dir) / f"{setting['labeled']}_seed{setting['seed']}"
        entry = find(results, setting)
        entry['split'] = ann_file or 'all'
        entry.update(runners[key](args, configs, root, ann_file, setting['seed'], work))
        entry[f'{key}_machine'] = results['machine']
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=1))
        progress.update()
    num_train = len(DATASETS[args.dataset][0](Path(root), 'train'))
    paths['md'].write_text(markdown(results))
    plot(results, paths['png'], num_train)
    print('\n' + markdown(results))
    print(f'[label-efficiency] wrote {json_path}, {paths["md"]}, {paths["png"]}')


if __name__ == '__main__':
    main()
