"""Per-seed and mean ± sd tables of a 9,000-iteration stage 2 after the 10x stage 1 against CE
alone given the same 16,500 iterations (stage2_9000.md).

The recipe of stage1_10x_then_10x.md keeps the 1,500-iteration stage 2 and gives the extra
compute to stage 1; here stage 1 stays at 7,500 iterations and stage 2 takes the rest
(STAGE2_ITERS=9000 in lever_runs.sh: stage2_10x.sh and cosine_prototypes_lr0.005_10x.sh, records
*_stage2_9000<suffix>.jsonl). Per budget (8 images, all 300), per seed, from the lever scripts'
JSON-lines records: CE alone for 9,000 iterations (ce_10x_rerun) and continued to 16,500
(ce_10x_then_10x), the stage-1 readout
(stage1_10x), and the paper's and the cosine stage 2 for 1,500 and for 9,000 iterations from that
stage 1. A seed enters when it has every arm made on the machine of its 9,000-iteration paper's
stage 2.

Usage: python benchmarks/stage1_levers/stage2_9000_table.py [--labeled 8 all]
Prints markdown to stdout: per budget, the mIoUs, then the gains (each with the paired t test over
its seeds from three seeds on: cosine_prototypes_table.gain_cell): against CE alone given the same
16,500 iterations, against CE alone given the stage 2's 9,000 (what stage 1 is worth as a start
when its own iterations are not counted), against the 1,500-iteration stage 2, and the last
quarter of each 9,000-iteration stage 2 (its val at 9,000 minus its val at 6,750).
"""
import argparse
from typing import Dict, List, Optional

from cosine_prototypes_table import gain_cell, mean_sd, record_on, records
from stage1_10x_then_10x_table import records_suffix

# column title → (JSON-lines file without the budget's suffix, mIoU key)
ARMS = {
    'CE 9,000': ('ce_10x_rerun', 'ce_miou'),
    'CE 16,500': ('ce_10x_then_10x', 'ce_miou'),
    'readout 10x': ('stage1_10x', 'proto_miou'),
    "paper's stage 2 1,500": ('stage2_10x', 'pixcon_miou'),
    "paper's stage 2 9,000": ('stage2_10x_stage2_9000', 'pixcon_miou'),
    'cosine stage 2 1,500': ('cosine_prototypes_lr0.005_10x', 'pixcon_miou'),
    'cosine stage 2 9,000': ('cosine_prototypes_lr0.005_10x_stage2_9000', 'pixcon_miou'),
}
STAGE2S = ["paper's stage 2", 'cosine stage 2']
CURVE_9000 = 'val_2250_4500_6750_9000'


def seed_rows(suffix: str) -> Dict[int, Dict[str, dict]]:
    """seed → column title → record, for the seeds whose every arm of ARMS has a record (in the
    files with ``suffix``, records_suffix) made on the machine of its 9,000-iteration paper's
    stage 2."""
    rows = {}
    for seed, run in sorted(records(ARMS["paper's stage 2 9,000"][0] + suffix).items()):
        row: Dict[str, Optional[dict]] = {
            title: record_on([name + suffix], seed, [run['machine']], {})
            for title, (name, _) in ARMS.items()}
        if all(row.values()):
            rows[seed] = row
    return rows


def last_quarter(record: dict) -> float:
    """A 9,000-iteration stage 2's val mIoU at its end minus at 6,750 iterations."""
    values = [float(v) for v in record[CURVE_9000].split()]
    return values[3] - values[2]


def print_budget(labeled: str) -> None:
    """The tables of the budget ``labeled`` (8 or all), or a line saying no seed has every arm."""
    suffix = records_suffix(labeled)
    rows = seed_rows(suffix)
    print(f'### {labeled} labelled images')
    print()
    if not rows:
        print(f'No seed has every arm (benchmarks/stage1_levers/*{suffix}.jsonl).')
        print()
        return
    miou = {seed: {title: row[title][ARMS[title][1]] for title in ARMS}
            for seed, row in rows.items()}
    print('| seed | ' + ' | '.join(ARMS) + ' |')
    print('|---' * (len(ARMS) + 1) + '|')
    for seed, values in miou.items():
        print(f'| {seed} | ' + ' | '.join(f'{v:.2f}' for v in values.values()) + ' |')
    print('| mean ± sd | ' + ' | '.join(mean_sd([values[title] for values in miou.values()])
                                         for title in ARMS) + ' |')
    print()
    machines = sorted({row["paper's stage 2 9,000"]['machine'] for row in rows.values()})
    print(f'Gains, seeds {", ".join(map(str, rows))} (every arm of a seed on one machine: '
          f'{"; ".join(machines)}); per seed, then **mean ± sd**:')
    print()
    print('| stage 2 | 9,000 − CE 16,500 (the same iterations) | 9,000 − CE 9,000 (the same CE '
          'iterations, stage 1 not counted) | 9,000 − 1,500 (what the longer stage 2 adds) | '
          'last quarter of the 9,000 |')
    print('|---|---|---|---|---|')
    for stage2 in STAGE2S:
        gains: List[List[float]] = [
            [values[f'{stage2} 9,000'] - values['CE 16,500'] for values in miou.values()],
            [values[f'{stage2} 9,000'] - values['CE 9,000'] for values in miou.values()],
            [values[f'{stage2} 9,000'] - values[f'{stage2} 1,500'] for values in miou.values()],
            [last_quarter(row[f'{stage2} 9,000']) for row in rows.values()]]
        print(f'| {stage2} | ' + ' | '.join(gain_cell(g) for g in gains) + ' |')
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--labeled', nargs='+', default=['8', 'all'],
                        help="the label budgets of the records (lever_runs.sh's LABELED)")
    for labeled in parser.parse_args().labeled:
        print_budget(labeled)


if __name__ == '__main__':
    main()
