"""A stage-1 lever against the unchanged stage 1, seed by seed on one machine: the readout and
the paper's 9,000-iteration stage 2 from each, and their gains over CE alone given 16,500
iterations (stage1_batch8.md for the tag _b8).

A lever is stage1_10x.sh run with STAGE1_TAG / STAGE1_OPTIONS (lever_runs.sh), then
STAGE2_ITERS=9000 stage2_10x.sh from it: records stage1_10x<tag><suffix>.jsonl and
stage2_10x<tag>_stage2_9000<suffix>.jsonl. A seed enters when its lever's stage 2 has a record
and its lever's stage 1, the unchanged arms (stage1_10x, stage2_10x_stage2_9000) and CE alone at
16,500 iterations (ce_10x_then_10x) each have one made on that stage 2's machine.

With --control NAME (a stage 1 of lever_runs.sh without a tag, STAGE1, such as stage1_20x: 15,000
iterations), a second control joins: its readout and its 9,000-iteration stage 2
(stage2_20x_stage2_9000), for a lever that also changes stage 1's compute (batch 8 against
batch 4 for twice the iterations). Where CE_GIVEN_CONTROL names CE alone given the control
recipe's iterations (stage1_20x + 9,000: CE 24,000, ce_10x_then_10x_then_10x.sh), it joins too,
and a seed then enters only with that record as well.

Usage: python benchmarks/stage1_levers/stage1_lever_table.py --tag _b8 [--labeled 8]
                                                             [--control stage1_20x]
Prints markdown: per seed the arms, then each difference per seed with mean ± sd and, from three
seeds, the paired t test (cosine_prototypes_table.gain_cell).
"""
import argparse
from typing import Dict, List, Optional

from cosine_prototypes_table import gain_cell, records
from stage1_10x_then_10x_table import records_suffix, seeds_text

CE = ('ce_10x_then_10x', 'ce_miou')
CE_TITLE = 'CE 16,500'
# control → its column of CE alone given the control recipe's iterations, as in arms()
CE_GIVEN_CONTROL = {'stage1_20x': {'CE 24,000': ('ce_10x_then_10x_then_10x', 'ce_miou')}}


def readout(arm: str) -> str:
    """Column title of the readout of stage 1 ``arm``: 'unchanged', the lever's tag or a control."""
    return f'readout, {arm}'


def recipe(arm: str) -> str:
    """Column title of the 9,000-iteration stage 2 from the 7,500-iteration stage 1 ``arm``
    ('unchanged' or the lever's tag)."""
    return f'7,500 + 9,000, {arm}'


def control_recipe(control: str) -> str:
    """Column title of the 9,000-iteration stage 2 from the control's stage 1."""
    return f'{control} + 9,000'


def arms(tag: str, control: Optional[str] = None) -> Dict[str, tuple]:
    """Column title → (record file name without the budget's suffix, mIoU key)."""
    columns = {
        CE_TITLE: CE,
        readout('unchanged'): ('stage1_10x', 'proto_miou'),
        readout(tag): (f'stage1_10x{tag}', 'proto_miou'),
        recipe('unchanged'): ('stage2_10x_stage2_9000', 'pixcon_miou'),
        recipe(tag): (f'stage2_10x{tag}_stage2_9000', 'pixcon_miou'),
    }
    if control:  # stage2_from_10x names a stage 2 from stage1_20x as stage2_20x_stage2_9000
        columns[readout(control)] = (control, 'proto_miou')
        columns[control_recipe(control)] = (
            f"stage2_{control.removeprefix('stage1_')}_stage2_9000", 'pixcon_miou')
        columns.update(CE_GIVEN_CONTROL.get(control, {}))
    return columns


def seed_rows(tag: str, suffix: str,
              control: Optional[str] = None) -> Dict[int, Dict[str, dict]]:
    """seed → column title → record, for the seeds whose lever stage 2 has a record and every
    other arm a record made on that stage 2's machine."""
    columns = arms(tag, control)
    lever = records(columns[recipe(tag)][0] + suffix)
    rows = {}
    for seed, run in sorted(lever.items()):
        row = {title: records(name + suffix, run['machine']).get(seed)
               for title, (name, _) in columns.items()}
        if all(row.values()):
            rows[seed] = row
    return rows


def differences(tag: str, control: Optional[str] = None) -> Dict[str, tuple]:
    """Title → (arm, arm subtracted) of the differences printed per seed."""
    titles = {
        f'gain, unchanged (7,500 + 9,000 − {CE_TITLE})': (recipe('unchanged'), CE_TITLE),
        f'gain, {tag}': (recipe(tag), CE_TITLE),
        f'{tag} − unchanged, 7,500 + 9,000': (recipe(tag), recipe('unchanged')),
        f'{tag} − unchanged, readout': (readout(tag), readout('unchanged')),
    }
    if control:
        titles.update({
            f'{control_recipe(control)} − {CE_TITLE} (more iterations than CE)': (
                control_recipe(control), CE_TITLE),
            f'{control} − unchanged, each + 9,000': (control_recipe(control),
                                                      recipe('unchanged')),
            f'{tag} − {control}, each + 9,000': (recipe(tag), control_recipe(control)),
            f'{tag} − {control}, readout': (readout(tag), readout(control)),
        })
        for ce in CE_GIVEN_CONTROL.get(control, {}):
            titles[f'{control_recipe(control)} − {ce} (the same iterations)'] = (
                control_recipe(control), ce)
            titles[f'{ce} − {CE_TITLE}'] = (ce, CE_TITLE)
    return titles


def print_tables(tag: str, labeled: str, control: Optional[str] = None) -> None:
    suffix = records_suffix(labeled)
    rows = seed_rows(tag, suffix, control)
    print(f'## {labeled} labelled images, stage-1 lever {tag}'
          + (f', second control {control}' if control else ''))
    print()
    columns = arms(tag, control)
    if not rows:
        empty = [name + suffix for name, _ in columns.values() if not records(name + suffix)]
        print(f"No records in {', '.join(empty)}." if empty
              else 'No seed has every arm on one machine.')
        return
    miou: Dict[int, Dict[str, float]] = {
        seed: {title: row[title][columns[title][1]] for title in columns}
        for seed, row in rows.items()}
    print('| seed | ' + ' | '.join(columns) + ' | lever stage-1 options, minutes | machine |')
    print('|---' * (len(columns) + 3) + '|')
    stage1 = {'unchanged': readout('unchanged'), 'lever': readout(tag)}  # title → column
    if control:
        stage1[control] = readout(control)
    for seed, values in miou.items():
        lever = rows[seed][readout(tag)]
        minutes = ' / '.join(str(rows[seed][column]['minutes']) for column in stage1.values())
        print(f'| {seed} | ' + ' | '.join(f'{values[t]:.2f}' for t in columns)
              + f" | {lever.get('options', '')}; stage 1 {minutes} min ({' / '.join(stage1)}) | "
              f"{lever['machine']} |")
    print()
    print(f'Differences, {seeds_text(list(rows))}; per seed, then **mean ± sd**:')
    print()
    print('| difference | per seed; mean ± sd |')
    print('|---|---|')
    for title, (arm, base) in differences(tag, control).items():
        gains: List[float] = [values[arm] - values[base] for values in miou.values()]
        print(f'| {title} | {gain_cell(gains)} |')
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--tag', required=True, help="the lever's STAGE1_TAG, e.g. _b8")
    parser.add_argument('--labeled', nargs='+', default=['8'],
                        help="label budgets (lever_runs.sh's LABELED); default 8")
    parser.add_argument('--control', help='another unchanged stage 1 as a second control, '
                        'with its 9,000-iteration stage 2: stage1_20x (15,000 iterations)')
    args = parser.parse_args()
    if args.control and not args.control.startswith('stage1_'):
        parser.error(f'--control {args.control}: a stage 1 of lever_runs.sh (STAGE1), such as '
                     'stage1_20x')
    for labeled in args.labeled:
        print_tables(args.tag, labeled, args.control)


if __name__ == '__main__':
    main()
