"""Per-seed table of the width lever (width32_10x.sh, width32.md): the 10x recipe (7,500 + 1,500,
the paper's stage 2) and CE alone given its 9,000 iterations, at the synthetic model's widths (16)
and at twice them (32), seed by seed on one machine: each width's gain over CE alone and how much
the wider model shifts it.

A seed enters when its width-32 stage 2 has a record and every other arm one made on that stage
2's machine (the width-16 arms: ce_10x_rerun, stage1_10x, stage2_10x, 8 labelled images).

Usage: python3 benchmarks/stage1_levers/width_table.py
Prints markdown: per seed the arms and minutes, then each difference per seed with mean ± sd and,
from three seeds, the paired t test (cosine_prototypes_table.gain_cell).
"""
from typing import Dict, List

from cosine_prototypes_table import gain_cell, records
from stage1_10x_then_10x_table import seeds_text
from stage2_9000_table import last_quarter

# width → arm → (JSON-lines record file, mIoU key)
WIDTHS = {
    16: {'CE 9,000': ('ce_10x_rerun', 'ce_miou'), 'readout': ('stage1_10x', 'proto_miou'),
         '7,500 + 1,500': ('stage2_10x', 'pixcon_miou')},
    32: {'CE 9,000': ('ce_10x_w32', 'ce_miou'), 'readout': ('stage1_10x_w32', 'proto_miou'),
         '7,500 + 1,500': ('stage2_10x_w32', 'pixcon_miou')},
}


def seed_rows() -> Dict[int, Dict[int, Dict[str, dict]]]:
    """seed → width → arm → record, for the seeds whose width-32 stage 2 has a record and every
    other arm a record made on that stage 2's machine."""
    rows = {}
    for seed, run in sorted(records(WIDTHS[32]['7,500 + 1,500'][0]).items()):
        row = {width: {arm: records(name, run['machine']).get(seed)
                       for arm, (name, _) in arms.items()} for width, arms in WIDTHS.items()}
        if all(all(arms.values()) for arms in row.values()):
            rows[seed] = row
    return rows


def main() -> None:
    rows = seed_rows()
    print('## 8 labelled images: the 10x recipe and CE alone at widths 16 and 32')
    print()
    if not rows:
        print('No seed has every arm of both widths on one machine.')
        return
    titles = [f'{arm}, width {width}' for width, arms in WIDTHS.items() for arm in arms]
    print('| seed | ' + ' | '.join(titles) + ' | minutes (stage 1, stage 2, CE) | machine |')
    print('|---' * (len(titles) + 3) + '|')
    miou: Dict[int, Dict[int, Dict[str, float]]] = {}
    for seed, row in rows.items():
        miou[seed] = {width: {arm: row[width][arm][WIDTHS[width][arm][1]] for arm in arms}
                      for width, arms in WIDTHS.items()}
        minutes = '; '.join(
            f"width {width}: " + ', '.join(str(row[width][arm]['minutes'])
                                           for arm in ('readout', '7,500 + 1,500', 'CE 9,000'))
            for width in WIDTHS)
        print(f'| {seed} | ' + ' | '.join(f'{miou[seed][w][a]:.2f}' for w in WIDTHS
                                          for a in WIDTHS[w])
              + f" | {minutes} | {row[32]['7,500 + 1,500']['machine']} |")
    print()
    print(f'Differences, {seeds_text(list(rows))}; per seed, then **mean ± sd**:')
    print()
    print('| difference | per seed; mean ± sd |')
    print('|---|---|')
    gains = {width: [m[width]['7,500 + 1,500'] - m[width]['CE 9,000'] for m in miou.values()]
             for width in WIDTHS}
    lines: Dict[str, List[float]] = {
        f'gain, width {width} (7,500 + 1,500 − CE 9,000)': gains[width] for width in WIDTHS}
    lines['width 32 − width 16, gain'] = [g32 - g16 for g16, g32 in zip(gains[16], gains[32])]
    for arm in ('CE 9,000', '7,500 + 1,500', 'readout'):
        lines[f'width 32 − width 16, {arm}'] = [m[32][arm] - m[16][arm] for m in miou.values()]
    for width in WIDTHS:
        lines[f'CE 9,000 last quarter, width {width}'] = [
            last_quarter(row[width]['CE 9,000']) for row in rows.values()]
    for title, values in lines.items():
        print(f'| {title} | {gain_cell(values)} |')
    print()


if __name__ == '__main__':
    main()
