"""Per-class val IoU of the 7,500 + 9,000 comparison (stage2_9000.md): on which classes the paper's
recipe gains or loses against CE alone, set beside how thin each class is at the stage-1 loss's
grid (per_class.md).

The stage-1 loss runs on a 12 x 24 grid of the 96 x 192 crops (loss_resolution): one loss cell is
8 x 8 pixels at the crop's scale (the crops are cut after a random resize by 0.5 to 2, so 4 to 16
pixels of the 128 x 256 images; --cell 8 is the resize's ratio 1, measured on the val label maps,
which are like the training ones). A class whose pixels rarely fill such a cell (a pole, a sign) is
contrasted through features blended with its neighbours', so stage 1 may serve it worse than a
wide class; if so, the recipe's gain over CE alone should rise with the class's width. This script
measures it: for each class of the val set, its share of the labelled pixels and its purity at the
cell (the share of its pixels whose cell x cell window holds that class only; pure_share); for each
seed of a budget (the seeds of stage2_9000_table.py, every arm on one machine), the per-class IoU of
CE alone for 9,000 and 16,500 iterations, the stage-1 readout (nearest class prototype) and the
paper's 7,500 + 9,000, read from the last per-class table of each run's log in its lever work dir
(lever_runs.sh's run_dir and stage1_dir), each checked against its record's mIoU; then, per seed,
Spearman's rank correlation across the classes between purity and each difference. A recorded seed
without the logs of every arm here (its work dirs on another machine) is named, not counted.

Usage (the .venv's Python: numpy, scipy, mmseg_pixcon's label reader):
  .venv/bin/python benchmarks/stage1_levers/per_class.py [--labeled 8 16 32 all]
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
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from scipy import ndimage, stats

from mmseg_pixcon.datasets.splits import read_checked_label

from stage1_10x_then_10x_table import records_suffix, seeds_text
from stage2_9000_table import ARMS, budgets_with_records, seed_rows


class RunLog(NamedTuple):
    """Where an arm's per-class table is: its log under the run's work dir, and the key of the
    mIoU the log prints after that table; and the arm's column title here."""
    log: str
    miou_key: str
    title: str


# column title of stage2_9000_table.ARMS (its records name the work dirs) → RunLog
LOGS = {
    'CE 9,000': RunLog('test.log', 'mIoU', 'CE 9,000'),
    'CE 16,500': RunLog('test.log', 'mIoU', 'CE 16,500'),
    'readout 10x': RunLog('stage1/train.log', 'proto/mIoU', 'readout'),
    "paper's 7,500 + 9,000": RunLog('test.log', 'mIoU', 'recipe'),
}
RECIPE, CE_LONG, CE_SHORT, READOUT = "paper's 7,500 + 9,000", 'CE 16,500', 'CE 9,000', 'readout 10x'
# (minuend, subtrahend) of each difference correlated with purity
DIFFERENCES = [(RECIPE, CE_LONG), (RECIPE, CE_SHORT), (CE_LONG, CE_SHORT), (READOUT, CE_LONG)]
# A class whose IoU is at most this in both runs of a difference is left out of that difference's
# correlation: neither run finds it, so its difference (about 0) says nothing about the class.
MIN_IOU = 1.0
# Fewer classes than this in a correlation give no rho ('—'), as does a constant difference.
MIN_CLASSES = 3
IGNORE_INDEX = 255
# class → IoU (a per-class table); seed → arm title → table; budget → those
Table = Dict[str, float]
Runs = Dict[int, Dict[str, Table]]
TABLE_ROW = re.compile(r'^\|\s*([^|]+?)\s*\|\s*([0-9.]+|nan)\s*\|\s*([0-9.]+|nan)\s*\|$')


def log_path(work_dirs: Path, title: str, labeled: str, seed: int) -> Path:
    """The log of the arm ``title`` for ``seed`` at the budget ``labeled``: lever_runs.sh's
    run_dir (<name>/<K>_seed<s>), the stage 1's under stage1_dir (<name>_k<K>/<K>_seed<s>/stage1);
    <name> is the arm's record file name in stage2_9000_table.ARMS."""
    name = ARMS[title][0] + (f'_k{labeled}' if title == READOUT else '')
    return work_dirs / name / f'{labeled}_seed{seed}' / LOGS[title].log


def per_class_iou(path: Path, miou_key: str) -> Tuple[Table, float]:
    """The last per-class table of an MMEngine log (class → IoU, in the table's order: the
    dataset's classes) and the ``miou_key`` value the log prints after it."""
    lines = path.read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.endswith('per class results:')]
    if not starts:
        raise ValueError(f'{path}: no per-class table')
    table, miou = {}, None
    for line in lines[starts[-1] + 1:]:
        row = TABLE_ROW.match(line.strip())
        if row:  # the header's cells are not numbers
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
        labels, _ = read_checked_label(path, num_classes, IGNORE_INDEX)
        image_counts, image_pure = pure_share(labels, num_classes, cell)
        counts += image_counts
        pure += image_pure
    return counts / counts.sum(), pure / np.maximum(counts, 1)


def budget_runs(work_dirs: Path, labeled: str) -> Tuple[Runs, List[int]]:
    """The per-class tables of the seeds of stage2_9000_table.seed_rows at the budget whose every
    arm has its log under ``work_dirs``, and the recorded seeds that lack one. A log whose mIoU is
    not its record's raises (the work dir holds another run than the one recorded)."""
    runs, missing = {}, []
    for seed, row in seed_rows(records_suffix(labeled)).items():
        paths = {title: log_path(work_dirs, title, labeled, seed) for title in LOGS}
        if not all(path.exists() for path in paths.values()):
            missing.append(seed)
            continue
        runs[seed] = {}
        for title, path in paths.items():
            table, miou = per_class_iou(path, LOGS[title].miou_key)
            recorded = row[title][ARMS[title][1]]
            if abs(miou - recorded) > 0.005:
                raise ValueError(
                    f'{path}: {LOGS[title].miou_key} {miou} but its record says {recorded}')
            runs[seed][title] = table
    return runs, missing


def class_order(runs: Dict[str, Runs]) -> List[str]:
    """The classes of the per-class tables of ``runs`` (budget → budget_runs), in the tables'
    order (the dataset's: train id 0, 1, ...); raises if two tables differ in it."""
    orders = {tuple(table) for seeds in runs.values() for run in seeds.values()
              for table in run.values()}
    if len(orders) != 1:
        raise ValueError(f'the per-class tables list different classes: {sorted(orders)}')
    return list(orders.pop())


def rank_correlation(purity: Dict[str, float], minuend: Table,
                     subtrahend: Table) -> Tuple[Optional[float], int]:
    """Spearman's rho across the classes between purity and minuend − subtrahend, over the
    classes with an IoU in both runs (not nan) and above MIN_IOU in either; and their count. The
    rho is None below MIN_CLASSES classes or where purity or the difference is constant."""
    classes = [c for c in purity if not (np.isnan(minuend[c]) or np.isnan(subtrahend[c]))
               and max(minuend[c], subtrahend[c]) > MIN_IOU]
    x = [purity[c] for c in classes]
    y = [minuend[c] - subtrahend[c] for c in classes]
    if len(classes) < MIN_CLASSES or len(set(x)) < 2 or len(set(y)) < 2:
        return None, len(classes)
    return float(stats.spearmanr(x, y).statistic), len(classes)


def signed(value: float) -> str:
    return f'{value:+.2f}'


def short(title: str) -> str:
    """The column title of an arm here (LOGS)."""
    return LOGS[title].title


def print_budget(labeled: str, runs: Runs, missing: List[int], share: Dict[str, float],
                 purity: Dict[str, float], cell: int) -> None:
    """Markdown: the budget's per-class IoU of each arm and the differences, means over its seeds,
    the classes from the thinnest to the widest (purity); a line naming the recorded seeds that
    have no logs here."""
    print(f'## {labeled} labelled images')
    print()
    if missing:
        print(f'Recorded, without the logs of every arm here: {seeds_text(missing)}.')
        print()
    if not runs:
        return
    seeds = list(runs)
    print(f'Per-class IoU, mean over {seeds_text(seeds)}:')
    print()
    columns = [CE_SHORT, CE_LONG, READOUT, RECIPE]
    print(f'| class | val pixels (%) | pure at {cell}x{cell} | ' + ' | '.join(map(short, columns))
          + ''.join(f' | {short(a)} − {short(b)}' for a, b in DIFFERENCES) + ' |')
    print('|---' * (3 + len(columns) + len(DIFFERENCES)) + '|')
    for c in sorted(purity, key=purity.get):
        mean = {title: statistics.mean(runs[s][title][c] for s in seeds) for title in columns}
        print(f'| {c} | {100 * share[c]:.2f} | {purity[c]:.3f} | ' +
              ' | '.join(f'{mean[t]:.2f}' for t in columns) +
              ''.join(f' | {signed(mean[a] - mean[b])}' for a, b in DIFFERENCES) + ' |')
    print()


def sign_summary(rhos: Sequence[Optional[float]]) -> str:
    """'positive on 10 of 11 (sign test p = 0.012), mean +0.25': how many of ``rhos`` (None: no
    rho, left out) are positive, with the two-sided sign test's p (as likely positive as negative
    if the difference does not depend on purity), and their mean; '—' where none is left."""
    rhos = [rho for rho in rhos if rho is not None]
    if not rhos:
        return '—'
    positive = sum(rho > 0 for rho in rhos)
    p = stats.binomtest(positive, len(rhos)).pvalue
    return (f'positive on {positive} of {len(rhos)} (sign test p '
            f'{"< 0.001" if p < 0.001 else f"= {p:.3f}"}), mean {signed(statistics.mean(rhos))}')


def print_correlations(runs: Dict[str, Runs], purity: Dict[str, float]) -> None:
    """Markdown: per budget and seed, Spearman's rho between purity and each difference
    (rank_correlation; '—' where there is none); over each budget's seeds and over every seed,
    sign_summary."""
    print('## Rank correlation across the classes: purity against each difference, per seed')
    print()
    print('| budget | seed | ' + ' | '.join(f'ρ(purity, {short(a)} − {short(b)}) (classes)'
                                             for a, b in DIFFERENCES) + ' |')
    print('|---|---' + '|---' * len(DIFFERENCES) + '|')
    every: List[List[Optional[float]]] = [[] for _ in DIFFERENCES]
    for labeled, seeds in runs.items():
        rhos: List[List[Optional[float]]] = [[] for _ in DIFFERENCES]
        for seed, run in seeds.items():
            cells = []
            for i, (a, b) in enumerate(DIFFERENCES):
                rho, count = rank_correlation(purity, run[a], run[b])
                rhos[i].append(rho)
                cells.append(f'{"—" if rho is None else signed(rho)} ({count})')
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
                        help='the loss cell in pixels of the val images (crop / loss_resolution: '
                             '96 / 12, at the training resize ratio 1)')
    parser.add_argument('--json', type=Path, default=Path(__file__).with_name('per_class.json'))
    args = parser.parse_args()
    found = {labeled: budget_runs(args.work_dirs, labeled)
             for labeled in args.labeled or budgets_with_records()}
    runs = {labeled: seeds for labeled, (seeds, _) in found.items() if seeds}
    if not runs:
        raise SystemExit(f'no seed has the logs of every arm under {args.work_dirs}')
    classes = class_order(runs)
    share, purity = val_classes(args.data_root, len(classes), args.cell)
    share, purity = dict(zip(classes, share.tolist())), dict(zip(classes, purity.tolist()))
    for labeled, (seeds, missing) in found.items():
        print_budget(labeled, seeds, missing, share, purity, args.cell)
    print_correlations(runs, purity)
    args.json.write_text(json.dumps({
        'command': ' '.join([Path(sys.executable).name, *sys.argv]), 'cell': args.cell,
        'min_iou': MIN_IOU, 'classes': classes,
        'val_share': [share[c] for c in classes], 'purity': [purity[c] for c in classes],
        'runs': [{'labeled': labeled, 'seed': seed,
                  **{title: [run[title][c] for c in classes] for title in LOGS}}
                 for labeled, seeds in runs.items() for seed, run in seeds.items()],
    }, indent=1) + '\n')


if __name__ == '__main__':
    main()
