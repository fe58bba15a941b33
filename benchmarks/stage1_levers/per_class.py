"""Per-class val IoU of the 7,500 + 9,000 comparison (stage2_9000.md): on which classes the paper's
recipe gains or loses against CE alone, set beside how thin each class is at the stage-1 loss's
grid (per_class.md).

The stage-1 loss runs on a 12 x 24 grid of the 96 x 192 crops (loss_resolution): one loss cell is
8 x 8 pixels at the crop's scale. A class whose pixels rarely fill such a cell (a pole, a sign) is
contrasted through features blended with its neighbours', so stage 1 may serve it worse than a
wide class; if so, the recipe's gain over CE alone should rise with the class's width. This script
measures it: for each class of the val set, its share of the labelled pixels and its purity at the
cell (the share of its pixels whose cell x cell window holds that class only; pure_share); for each
seed of a budget (the seeds of stage2_9000_table.py, every arm on one machine), the per-class IoU of
CE alone for 9,000 and 16,500 iterations, the stage-1 readout (nearest class prototype) and the
paper's 7,500 + 9,000, read from the last per-class table of each run's log in its lever work dir
(lever_runs.sh's run_dir and stage1_dir), each checked against its record's mIoU; then, per seed,
Spearman's rank correlation across the classes between purity and each difference.

Usage (the .venv's Python: numpy, Pillow, scipy):
  .venv/bin/python benchmarks/stage1_levers/per_class.py [--labeled 16 32 all]
      [--work-dirs work_dirs/levers] [--data-root data/synthetic/cityscapes] [--cell 8]
      [--json benchmarks/stage1_levers/per_class.json]
Prints markdown to stdout and writes the per-class values of every run to --json.
"""
import argparse
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image
from scipy import ndimage, stats

from stage1_10x_then_10x_table import records_suffix, seeds_text
from stage2_9000_table import ARMS, budgets_with_records, seed_rows

# column title of stage2_9000_table.ARMS → (lever work dir name, the log with its per-class table,
# the mIoU the log prints after that table, the title here)
LOGS = {
    'CE 9,000': ('ce_10x_rerun', 'test.log', 'mIoU', 'CE 9,000'),
    'CE 16,500': ('ce_10x_then_10x', 'test.log', 'mIoU', 'CE 16,500'),
    'readout 10x': ('stage1_10x', 'stage1/train.log', 'proto/mIoU', 'readout'),
    "paper's 7,500 + 9,000": ('stage2_10x_stage2_9000', 'test.log', 'mIoU', 'recipe'),
}
RECIPE, CE_LONG, CE_SHORT, READOUT = "paper's 7,500 + 9,000", 'CE 16,500', 'CE 9,000', 'readout 10x'
# (minuend, subtrahend) of each difference correlated with purity
DIFFERENCES = [(RECIPE, CE_LONG), (RECIPE, CE_SHORT), (CE_LONG, CE_SHORT), (READOUT, CE_LONG)]
# A class whose IoU is at most this in both runs of a difference is left out of that difference's
# correlation: neither run finds it, so its difference (about 0) says nothing about the class.
MIN_IOU = 1.0
TABLE_ROW = re.compile(r'^\|\s*([^|]+?)\s*\|\s*([0-9.]+|nan)\s*\|\s*([0-9.]+|nan)\s*\|$')


def log_path(work_dirs: Path, title: str, labeled: str, seed: int) -> Path:
    """The log of the arm ``title`` for ``seed`` at the budget ``labeled``: lever_runs.sh's
    run_dir (<name>/<K>_seed<s>), the stage 1's under stage1_dir (<name>_k<K>/<K>_seed<s>/stage1)."""
    name, log, _, _ = LOGS[title]
    if title == READOUT:
        name = f'{name}_k{labeled}'
    return work_dirs / name / f'{labeled}_seed{seed}' / log


def per_class_iou(path: Path, miou_key: str) -> Tuple[Dict[str, float], float]:
    """The last per-class table of an MMEngine log (class → IoU, in the table's order: the
    dataset's classes) and the ``miou_key`` value the log prints after it."""
    lines = path.read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.endswith('per class results:')]
    if not starts:
        raise ValueError(f'{path}: no per-class table')
    table, miou = {}, None
    for line in lines[starts[-1] + 1:]:
        row = TABLE_ROW.match(line.strip())
        if row and row[1] != 'Class':
            table[row[1]] = float(row[2])
        found = re.search(rf'\s{re.escape(miou_key)}: ([0-9.]+)', line)
        if found:
            miou = float(found[1])
            break
    if not table or miou is None:
        raise ValueError(f'{path}: no {miou_key} after its last per-class table')
    return table, miou


def pure_share(labels: np.ndarray, num_classes: int, cell: int) -> Tuple[np.ndarray, np.ndarray]:
    """Per class c < num_classes, of the label map ``labels`` (H, W; other values, e.g. 255, are
    no class): its pixel count, and the count of its pixels whose cell x cell window (centred as
    scipy's erosion centres an even window) holds only c, the window's part outside the image not
    counting against it. Both (num_classes,) int64."""
    counts = np.zeros(num_classes, np.int64)
    pure = np.zeros(num_classes, np.int64)
    window = np.ones((cell, cell), bool)
    for c in range(num_classes):
        mask = labels == c
        counts[c] = mask.sum()
        if counts[c]:
            pure[c] = ndimage.binary_erosion(mask, window, border_value=1).sum()
    return counts, pure


def val_classes(data_root: Path, num_classes: int, cell: int) -> Tuple[np.ndarray, np.ndarray]:
    """Each class's share of the val set's labelled pixels and its purity at ``cell``
    (pure_share summed over the val label maps): two (num_classes,) float arrays."""
    paths = sorted((data_root / 'gtFine' / 'val').glob('*/*_gtFine_labelTrainIds.png'))
    if not paths:
        raise FileNotFoundError(f'no *_gtFine_labelTrainIds.png under {data_root}/gtFine/val')
    counts = np.zeros(num_classes, np.int64)
    pure = np.zeros(num_classes, np.int64)
    for path in paths:
        image_counts, image_pure = pure_share(np.array(Image.open(path)), num_classes, cell)
        counts += image_counts
        pure += image_pure
    return counts / counts.sum(), pure / np.maximum(counts, 1)


def budget_runs(work_dirs: Path, labeled: str) -> Dict[int, Dict[str, Dict[str, float]]]:
    """seed → arm title of LOGS → class → IoU, for the seeds of stage2_9000_table.seed_rows at
    the budget whose every arm has its log; a log whose mIoU is not its record's raises (the work
    dir holds another run than the one recorded)."""
    runs = {}
    for seed, row in seed_rows(records_suffix(labeled)).items():
        paths = {title: log_path(work_dirs, title, labeled, seed) for title in LOGS}
        if not all(path.exists() for path in paths.values()):
            continue
        runs[seed] = {}
        for title, path in paths.items():
            table, miou = per_class_iou(path, LOGS[title][2])
            recorded = row[title][ARMS[title][1]]
            if abs(miou - recorded) > 0.005:
                raise ValueError(f'{path}: {LOGS[title][2]} {miou} but its record says {recorded}')
            runs[seed][title] = table
    return runs


def class_order(runs: Dict[str, Dict[int, Dict[str, Dict[str, float]]]]) -> List[str]:
    """The classes of the per-class tables of ``runs`` (budget → budget_runs), in the tables'
    order (the dataset's: train id 0, 1, ...); raises if two tables differ in it."""
    orders = {tuple(table) for seeds in runs.values() for run in seeds.values()
              for table in run.values()}
    if len(orders) != 1:
        raise ValueError(f'the per-class tables list different classes: {sorted(orders)}')
    return list(orders.pop())


def rank_correlation(purity: Dict[str, float], minuend: Dict[str, float],
                     subtrahend: Dict[str, float]) -> Tuple[float, int]:
    """Spearman's rho across the classes between purity and minuend − subtrahend, over the
    classes with an IoU above MIN_IOU in either run; and their count."""
    classes = [c for c in purity if max(minuend[c], subtrahend[c]) > MIN_IOU]
    rho = stats.spearmanr([purity[c] for c in classes],
                          [minuend[c] - subtrahend[c] for c in classes]).statistic
    return float(rho), len(classes)


def signed(value: float) -> str:
    return f'{value:+.2f}'


def short(title: str) -> str:
    """The column title of an arm here (LOGS)."""
    return LOGS[title][3]


def print_budget(labeled: str, runs: Dict[int, Dict[str, Dict[str, float]]],
                 share: Dict[str, float], purity: Dict[str, float], cell: int) -> None:
    """The per-class means over the budget's seeds."""
    seeds = list(runs)
    print(f'### {labeled} labelled images ({seeds_text(seeds)}): per-class IoU, mean over the seeds')
    print()
    columns = [CE_SHORT, CE_LONG, READOUT, RECIPE]
    print(f'| class | val pixels (%) | pure at {cell}x{cell} | ' + ' | '.join(map(short, columns)) +
          ''.join(f' | {short(a)} − {short(b)}' for a, b in DIFFERENCES) + ' |')
    print('|---' * (3 + len(columns) + len(DIFFERENCES)) + '|')
    for c in sorted(purity, key=purity.get):
        mean = {title: statistics.mean(runs[s][title][c] for s in seeds) for title in columns}
        print(f'| {c} | {100 * share[c]:.2f} | {purity[c]:.2f} | ' +
              ' | '.join(f'{mean[t]:.2f}' for t in columns) +
              ''.join(f' | {signed(mean[a] - mean[b])}' for a, b in DIFFERENCES) + ' |')
    print()


def sign_summary(rhos: Sequence[float]) -> str:
    """'positive on 10 of 11 (sign test p = 0.012), mean +0.25': how many of ``rhos`` are
    positive, with the two-sided sign test's p (as likely positive as negative if the difference
    does not depend on purity), and their mean."""
    positive = sum(rho > 0 for rho in rhos)
    p = stats.binomtest(positive, len(rhos)).pvalue
    return (f'positive on {positive} of {len(rhos)} (sign test p '
            f'{"< 0.001" if p < 0.001 else f"= {p:.3f}"}), mean {signed(statistics.mean(rhos))}')


def print_correlations(runs: Dict[str, Dict[int, Dict[str, Dict[str, float]]]],
                       purity: Dict[str, float]) -> None:
    """Per budget and seed, Spearman's rho between purity and each difference (rank_correlation);
    over each budget's seeds and over every seed, sign_summary."""
    print('### Rank correlation across the classes: purity against each difference, per seed')
    print()
    print('| budget | seed | ' + ' | '.join(f'ρ(purity, {short(a)} − {short(b)}) (classes)'
                                             for a, b in DIFFERENCES) + ' |')
    print('|---|---' + '|---' * len(DIFFERENCES) + '|')
    every: List[List[float]] = [[] for _ in DIFFERENCES]
    for labeled, seeds in runs.items():
        rhos: List[List[float]] = [[] for _ in DIFFERENCES]
        for seed, run in seeds.items():
            cells = []
            for i, (a, b) in enumerate(DIFFERENCES):
                rho, count = rank_correlation(purity, run[a], run[b])
                rhos[i].append(rho)
                cells.append(f'{signed(rho)} ({count})')
            print(f'| {labeled} | {seed} | ' + ' | '.join(cells) + ' |')
        print(f'| {labeled} | its seeds | ' + ' | '.join(map(sign_summary, rhos)) + ' |')
        for column, budget_column in zip(every, rhos):
            column.extend(budget_column)
    print('| every budget | every seed | ' + ' | '.join(map(sign_summary, every)) + ' |')
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--labeled', nargs='+',
                        help='the label budgets; default: those of stage2_9000_table.py')
    parser.add_argument('--work-dirs', type=Path, default=Path('work_dirs/levers'))
    parser.add_argument('--data-root', type=Path, default=Path('data/synthetic/cityscapes'))
    parser.add_argument('--cell', type=int, default=8,
                        help='the loss cell in pixels (crop / loss_resolution: 96 / 12)')
    parser.add_argument('--json', type=Path, default=Path(__file__).with_name('per_class.json'))
    args = parser.parse_args()
    runs = {labeled: budget_runs(args.work_dirs, labeled)
            for labeled in args.labeled or budgets_with_records()}
    runs = {labeled: seeds for labeled, seeds in runs.items() if seeds}
    if not runs:
        raise SystemExit(f'no seed has the logs of every arm under {args.work_dirs}')
    classes = class_order(runs)
    share, purity = val_classes(args.data_root, len(classes), args.cell)
    share, purity = dict(zip(classes, share.tolist())), dict(zip(classes, purity.tolist()))
    for labeled, seeds in runs.items():
        print_budget(labeled, seeds, share, purity, args.cell)
    print_correlations(runs, purity)
    args.json.write_text(json.dumps({
        'command': ' '.join(['.venv/bin/python', *sys.argv]), 'cell': args.cell, 'min_iou': MIN_IOU, 'classes': classes,
        'val_share': [share[c] for c in classes], 'purity': [purity[c] for c in classes],
        'runs': [{'labeled': labeled, 'seed': seed,
                  **{title: [run[title][c] for c in classes] for title in LOGS}}
                 for labeled, seeds in runs.items() for seed, run in seeds.items()],
    }, indent=1) + '\n')


if __name__ == '__main__':
    main()
