"""Per-seed and mean ± sd tables of the 16,500 iterations of the 20x recipe spent the other way:
the 10x stage 1 and a 9,000-iteration stage 2, against CE alone given the same iterations
(stage2_9000.md).

The 20x recipe of stage1_10x_then_10x.md keeps the 1,500-iteration stage 2 and gives the extra
compute to stage 1 (15,000 + 1,500); here stage 1 stays at 7,500 iterations and stage 2 takes the
rest (7,500 + 9,000; STAGE2_ITERS=9000 in lever_runs.sh: stage2_10x.sh and
cosine_prototypes_lr0.005_10x.sh, records *_stage2_9000<suffix>.jsonl). Per budget (unless named,
each with a record file of the paper's 7,500 + 9,000: 8, 16, 32 images, all 300), per seed, from the
lever scripts' JSON-lines records: CE alone for 9,000 iterations (ce_10x_rerun) and continued to
16,500 (ce_10x_then_10x), the 10x stage-1 readout (stage1_10x), and the paper's and the cosine stage
2 as 7,500 + 1,500, 15,000 + 1,500 and 7,500 + 9,000. A seed enters when it has the arms of the
paper's 7,500 + 9,000 comparisons (REQUIRED: CE alone at both lengths, the readout and the paper's
7,500 + 1,500) made on the machine of its 7,500 + 9,000 paper's recipe; an arm it lacks among the
others (the cosine stage 2s, the 15,000 + 1,500 runs, the 24,000-iteration arms) shows as '—', and
the means and gains of that arm are over the seeds that have it (a gain cell over fewer seeds than
its row names them). The 24,000-iteration arms: the paper's stage 2 for 9,000 after one
15,000-iteration stage 1 (STAGE1_ITERS=15000 stage1_10x.sh, then STAGE1_ITERS=15000
STAGE2_ITERS=9000 stage2_10x.sh) and CE alone given the same 24,000
(ce_10x_then_10x_then_10x.sh): the recipe's gain with stage 1 doubled under the long stage 2, and
its shift over the 7,500 + 9,000 gain.

Usage: python benchmarks/stage1_levers/stage2_9000_table.py [--labeled 8 16 32 all]
Prints markdown to stdout: per budget, the mIoUs, then the gains (each with the paired t test over
its seeds from three seeds on: cosine_prototypes_table.gain_cell): both 16,500-iteration recipes
against CE alone given the same 16,500 iterations, 7,500 + 9,000 against CE alone given the stage
2's 9,000 (what stage 1 is worth as a start when its own iterations are not counted) and against
7,500 + 1,500 (what the longer stage 2 adds), the last quarter of each 9,000-iteration stage 2
(its val at 9,000 minus its val at 6,750), 15,000 + 9,000 against CE alone given 24,000, and that
gain minus the 7,500 + 9,000 one (doubling stage 1's shift).
"""
import argparse
import re
from typing import Dict, List, Optional, Tuple

import cosine_prototypes_table  # its HERE read at call time (tests point it elsewhere)
from cosine_prototypes_table import gain_cell, mean_sd, record_on, records
from stage1_10x_then_10x_table import records_suffix, seeds_text

# column title → (JSON-lines file without the budget's suffix, mIoU key); a recipe's title is
# its stage 2 and its stage-1 + stage-2 iterations
ARMS = {
    'CE 9,000': ('ce_10x_rerun', 'ce_miou'),
    'CE 16,500': ('ce_10x_then_10x', 'ce_miou'),
    'readout 10x': ('stage1_10x', 'proto_miou'),
    "paper's 7,500 + 1,500": ('stage2_10x', 'pixcon_miou'),
    "paper's 15,000 + 1,500": ('stage2_10x_then_10x', 'pixcon_miou'),
    "paper's 7,500 + 9,000": ('stage2_10x_stage2_9000', 'pixcon_miou'),
    'cosine 7,500 + 1,500': ('cosine_prototypes_lr0.005_10x', 'pixcon_miou'),
    'cosine 15,000 + 1,500': ('cosine_prototypes_lr0.005_10x_then_10x', 'pixcon_miou'),
    'cosine 7,500 + 9,000': ('cosine_prototypes_lr0.005_10x_stage2_9000', 'pixcon_miou'),
    # 24,000 iterations: stage 1 as one 15,000-iteration schedule (stage1_20x, not the 7,500
    # continued), the paper's 9,000; and CE alone given them (ce_10x_then_10x_then_10x.sh)
    "paper's 15,000 + 9,000": ('stage2_20x_stage2_9000', 'pixcon_miou'),
    'CE 24,000': ('ce_10x_then_10x_then_10x', 'ce_miou'),
}
REQUIRED = ['CE 9,000', 'CE 16,500', 'readout 10x', "paper's 7,500 + 1,500",
            "paper's 7,500 + 9,000"]
STAGE2S = ["paper's", 'cosine']
CURVE_9000 = 'val_2250_4500_6750_9000'


def seed_rows(suffix: str) -> Dict[int, Dict[str, dict]]:
    """seed → column title → record, for the seeds whose every arm of REQUIRED has a record (in
    the files with ``suffix``, records_suffix) made on the machine of its 9,000-iteration paper's
    stage 2; each other arm of ARMS is in a seed's row where it has one from there."""
    rows = {}
    for seed, run in sorted(records(ARMS["paper's 7,500 + 9,000"][0] + suffix).items()):
        row: Dict[str, Optional[dict]] = {
            title: record_on([name + suffix], seed, [run['machine']], {})
            for title, (name, _) in ARMS.items()}
        if all(row[title] for title in REQUIRED):
            rows[seed] = {title: record for title, record in row.items() if record}
    return rows


def last_quarter(record: dict) -> float:
    """A 9,000-iteration stage 2's val mIoU at its end minus at 6,750 iterations."""
    values = [float(v) for v in record[CURVE_9000].split()]
    return values[3] - values[2]


def gain_column(miou: Dict[int, Dict[str, float]], seeds: List[int], arm: str, base: str,
                less: Optional[Tuple[str, str]] = None) -> str:
    """gain_cell of ``arm`` − ``base`` (minus ``less``'s arm − base where given: a shift of one
    gain over another) over those of ``seeds`` whose row has every arm named, led by
    'seeds …: ' where they are fewer than ``seeds``; '—' where none has."""
    titles = (arm, base, *less) if less else (arm, base)
    have = [seed for seed in seeds if all(title in miou[seed] for title in titles)]
    if not have:
        return '—'
    cell = gain_cell([miou[seed][arm] - miou[seed][base]
                      - (miou[seed][less[0]] - miou[seed][less[1]] if less else 0)
                      for seed in have])
    return cell if len(have) == len(seeds) else f'{seeds_text(have)}: {cell}'


def budgets_with_records() -> List[str]:
    """The label budgets (lever_runs.sh's LABELED: '8', '16', …, 'all') whose record file of the
    paper's 7,500 + 9,000 exists under the name records_suffix gives it, fewest labels first."""
    name = ARMS["paper's 7,500 + 9,000"][0]
    counts, every_image = set(), False
    for path in cosine_prototypes_table.HERE.glob(f'{name}*.jsonl'):
        suffix = path.stem[len(name):]
        budget = re.fullmatch(r'_k([1-9][0-9]*|all)', suffix)
        labeled = budget[1] if budget else '8'
        if records_suffix(labeled) != suffix:
            continue  # another file whose name starts like it (_backup, _k8: not lever_runs.sh's)
        if labeled == 'all':
            every_image = True
        else:
            counts.add(int(labeled))
    budgets = [str(count) for count in sorted(counts)]
    if every_image:
        budgets.append('all')
    return budgets


def print_budget(labeled: str) -> None:
    """The tables of the budget ``labeled`` ('8', '16', …, 'all'), or a line saying no seed has
    the REQUIRED arms."""
    suffix = records_suffix(labeled)
    rows = seed_rows(suffix)
    print(f'## {labeled} labelled images')
    print()
    if not rows:
        print(f'No seed has the arms {REQUIRED} (benchmarks/stage1_levers/*{suffix}.jsonl).')
        print()
        return
    miou = {seed: {title: row[title][ARMS[title][1]] for title in row}
            for seed, row in rows.items()}
    print('| seed | ' + ' | '.join(ARMS) + ' |')
    print('|---' * (len(ARMS) + 1) + '|')
    for seed, values in miou.items():
        print(f'| {seed} | ' + ' | '.join(f'{values[t]:.2f}' if t in values else '—'
                                          for t in ARMS) + ' |')
    means = []
    for title in ARMS:
        column = [values[title] for values in miou.values() if title in values]
        count = f' ({len(column)} seed{"s" * (len(column) > 1)})' if len(column) < len(miou) else ''
        means.append(mean_sd(column) + count if column else '—')
    print('| mean ± sd | ' + ' | '.join(means) + ' |')
    print()
    machines = sorted({row["paper's 7,500 + 9,000"]['machine'] for row in rows.values()})
    print(f'Gains, {seeds_text(list(rows))} (every arm of a seed on one machine: '
          f'{"; ".join(machines)}); per seed, then **mean ± sd**:')
    print()
    print('| stage 2 | 7,500 + 9,000 − CE 16,500 (the same iterations) | 15,000 + 1,500 − CE '
          '16,500 (the same, stage 1 taking them) | 7,500 + 9,000 − CE 9,000 (the same CE '
          'iterations, stage 1 not counted) | 7,500 + 9,000 − 7,500 + 1,500 (what the longer '
          'stage 2 adds) | last quarter of the 9,000 | 15,000 + 9,000 − CE 24,000 (the same '
          'iterations) | doubling stage 1 under a 9,000 stage 2: (15,000 + 9,000 − CE 24,000) − '
          '(7,500 + 9,000 − CE 16,500) |')
    print('|---|---|---|---|---|---|---|---|')
    for stage2 in STAGE2S:
        arm = f'{stage2} 7,500 + 9,000'
        have = [seed for seed in rows if arm in rows[seed]]
        if not have:
            continue
        cells = [gain_column(miou, have, arm, 'CE 16,500'),
                 gain_column(miou, have, f'{stage2} 15,000 + 1,500', 'CE 16,500'),
                 gain_column(miou, have, arm, 'CE 9,000'),
                 gain_column(miou, have, arm, f'{stage2} 7,500 + 1,500'),
                 gain_cell([last_quarter(rows[seed][arm]) for seed in have]),
                 gain_column(miou, have, f'{stage2} 15,000 + 9,000', 'CE 24,000'),
                 gain_column(miou, have, f'{stage2} 15,000 + 9,000', 'CE 24,000',
                             less=(arm, 'CE 16,500'))]
        seeds = '' if len(have) == len(rows) else f' ({seeds_text(have)})'
        print(f'| {stage2}{seeds} | ' + ' | '.join(cells) + ' |')
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--labeled', nargs='+',
                        help="the label budgets of the records (lever_runs.sh's LABELED); "
                             "default: every budget with records of the paper's 7,500 + 9,000")
    for labeled in parser.parse_args().labeled or budgets_with_records():
        print_budget(labeled)


if __name__ == '__main__':
    main()
