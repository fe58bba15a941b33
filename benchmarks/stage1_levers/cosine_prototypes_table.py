"""Per-seed and mean ± sd tables of the cosine-prototype stage 2 against its controls, every arm of a
seed from one machine (cosine_prototypes_10x.md).

A seed's arm is read from the lever scripts' JSON-lines records (stage1_10x, stage2_10x, ce_10x
else ce_10x_rerun, ce_cosine_head_10x else ce_cosine_head_10x_rerun,
cosine_prototypes_lr0.005_10x); where a seed has no record there from the machine of its cosine
stage 2, from the 10x sweep's own run (stage1_10x_k8.json), if that ran on that machine. Only
arms from that one machine count; a seed enters when it has the cosine stage 2 and CE alone with
the stock head; an arm a seed lacks shows as '—' and its means are over the
seeds that have it.

Usage: python benchmarks/stage1_levers/cosine_prototypes_table.py
Prints markdown to stdout. Each gain comes with the paired t test over its seeds (paired_t,
two-sided p, uncorrected for the number of comparisons).
"""
import json
import math
import statistics
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).parent
# column title → (JSON-lines files, most preferred first; mIoU key, curve key). The _rerun files
# hold the same 9,000-iteration CE runs, made again by ce_10x_then_10x.sh before it continues them.
ARMS = {
    'stage-1 proto': (['stage1_10x'], 'proto_miou', None),
    "paper's stage 2 (lr 0.05)": (['stage2_10x'], 'pixcon_miou', 'val_375_750_1125_1500'),
    'cosine at the prototypes (lr 0.005)':
        (['cosine_prototypes_lr0.005_10x'], 'pixcon_miou', 'val_375_750_1125_1500'),
    'CE alone, stock head': (['ce_10x', 'ce_10x_rerun'], 'ce_miou', 'val_2250_4500_6750_9000'),
    'CE alone, cosine head': (['ce_cosine_head_10x', 'ce_cosine_head_10x_rerun'], 'ce_miou',
                              'val_2250_4500_6750_9000'),
}
COSINE = 'cosine at the prototypes (lr 0.005)'


def records(name: str, machine: Optional[str] = None) -> Dict[int, dict]:
    """seed → the last record of seed in HERE/<name>.jsonl (of those made on ``machine``, if
    given: a seed rerun on another machine keeps its record of this one)."""
    path = HERE / f'{name}.jsonl'
    lines = path.read_text().splitlines() if path.exists() else []
    return {r['seed']: r for r in map(json.loads, filter(None, lines))
            if machine is None or r['machine'] == machine}


def sweep_arm(run: dict, name: str) -> Optional[dict]:
    """The 10x sweep's run of a seed as a record of the lever file name, or None if the sweep
    has no such arm (the cosine head arms). Its mIoUs are rounded to the two decimals that
    mmseg logs and the lever records hold (the sweep kept them as float32, 20.959999...)."""
    if name == 'stage1_10x':
        return {'proto_miou': round(run['proto_miou'], 2), 'machine': run['pixcon_machine']}
    if name == 'stage2_10x':
        return {'pixcon_miou': round(run['pixcon_miou'], 2), 'machine': run['pixcon_machine'],
                'val_375_750_1125_1500': ' '.join(map(str, run['pixcon_curve'].values()))}
    if name == 'ce_10x':
        return {'ce_miou': round(run['ce_miou'], 2), 'machine': run['ce_machine'],
                'val_2250_4500_6750_9000': ' '.join(map(str, run['ce_curve'].values()))}
    return None


def sweep_runs() -> Dict[int, dict]:
    """seed → the 10x sweep's run (stage1_10x_k8.json)."""
    settings = json.loads((HERE / 'stage1_10x_k8.json').read_text())['settings']
    return {run['seed']: run for run in settings}


def record_on(names: List[str], seed: int, machines: Sequence[str],
              sweep: Dict[int, dict]) -> Optional[dict]:
    """The seed's record from the first of ``names`` that has one made on one of ``machines``,
    else the 10x sweep's run of the first of ``names`` it has (``sweep``: sweep_runs()) if that
    ran on one of them, else None."""
    for name in names:
        for machine in machines:
            record = records(name, machine).get(seed)
            if record is not None:
                return record
    fallbacks = (sweep_arm(sweep[seed], name) for name in names) if seed in sweep else ()
    fallback = next(filter(None, fallbacks), None)
    return fallback if fallback is not None and fallback['machine'] in machines else None


def seed_rows() -> Dict[int, Dict[str, dict]]:
    """seed → column title → record (the arms on the machine of the seed's cosine stage 2), for
    the seeds with the cosine stage 2 and CE alone, stock head."""
    sweep = sweep_runs()
    rows = {}
    for seed, cosine in sorted(records('cosine_prototypes_lr0.005_10x').items()):
        row = {}
        for title, (names, _, _) in ARMS.items():
            record = record_on(names, seed, [cosine['machine']], sweep)
            if record is not None:
                row[title] = record
        if 'CE alone, stock head' in row:
            rows[seed] = row
    return rows


def mean_sd(values: List[float], sign: str = '') -> str:
    """'mean ± sd' (sample sd), or the mean alone for one value; sign '+' prints the mean's sign."""
    mean = format(statistics.mean(values), sign + '.2f')
    return mean if len(values) == 1 else f'{mean} ± {statistics.stdev(values):.2f}'


def two_sided_p(t: float, df: int) -> float:
    """P(|T| >= |t|) for Student's T with ``df`` (an integer >= 1) degrees of freedom, by the
    finite series of Abramowitz & Stegun 26.7.3 (odd df) and 26.7.4 (even df): exact, stdlib
    only."""
    if not isinstance(df, int) or df < 1:
        raise ValueError(f'degrees of freedom must be a positive integer, got {df}')
    theta = math.atan(abs(t) / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2:  # P(|T| < t) = 2/pi (theta + sin cos (1 + 2/3 cos^2 + ...)), (df - 1) / 2 terms
        term, total = 1.0, 0.0
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= cos2 * 2 * k / (2 * k + 1)
        inside = 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
    else:  # P(|T| < t) = sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...), df / 2 terms
        term, total = 1.0, 0.0
        for k in range(1, df // 2 + 1):
            total += term
            term *= cos2 * (2 * k - 1) / (2 * k)
        inside = math.sin(theta) * total
    return min(1.0, max(0.0, 1.0 - inside))


def paired_t(gains: Sequence[float]) -> Tuple[float, int, float]:
    """One-sample t test of mean(gains) = 0 (the paired test of two arms over the same seeds):
    (t, degrees of freedom n - 1, two-sided p)."""
    if len(gains) < 2:
        raise ValueError(f'a t test needs at least two gains, got {len(gains)}')
    sd = statistics.stdev(gains)
    if sd == 0:
        raise ValueError(f'the gains {list(gains)} have no spread: t is undefined')
    t = statistics.mean(gains) / (sd / math.sqrt(len(gains)))
    return t, len(gains) - 1, two_sided_p(t, len(gains) - 1)


def t_test_text(gains: List[float]) -> str:
    """'t = 3.46, 2 df, p = 0.074': the paired t test of ``gains`` (paired_t), or '' below three
    gains or without spread."""
    if len(gains) < 3 or statistics.stdev(gains) == 0:
        return ''
    t, df, p = paired_t(gains)
    return f't = {t:.2f}, {df} df, p = {p:.3f}'


def gain_cell(gains: List[float]) -> str:
    """'+1.00, +2.00, +3.00; **+2.00 ± 1.00** (t = 3.46, 2 df, p = 0.074)': per seed, mean ± sd in
    bold, then the paired t test (t_test_text; left out where that is empty)."""
    cell = ', '.join(f'{g:+.2f}' for g in gains) + f'; **{mean_sd(gains, "+")}**'
    test = t_test_text(gains)
    return f'{cell} ({test})' if test else cell


def curve(text: str) -> str:
    """'18.2100 24.6500 ...' → '18.2, 24.7, ...': each recorded decimal to one place, halves
    up, as the md sections write them (formatting the float would give 24.6: 24.65 is stored
    as 24.6499...)."""
    return ', '.join(str(Decimal(v).quantize(Decimal('0.1'), ROUND_HALF_UP)) for v in text.split())


def main() -> None:
    rows = seed_rows()
    titles = list(ARMS)
    print('| seed | ' + ' | '.join(titles) + ' |')
    print('|---' * (len(titles) + 1) + '|')
    for seed, row in rows.items():
        cells = []
        for title, (_, key, curve_key) in ARMS.items():
            if title not in row:
                cells.append('—')
                continue
            cell = f'{row[title][key]:.2f}'
            if curve_key:
                cell += f' ({curve(row[title][curve_key])})'
            cells.append(cell)
        print(f'| {seed} | ' + ' | '.join(cells) + ' |')
    means = []
    for title in titles:
        values = [row[title][ARMS[title][1]] for row in rows.values() if title in row]
        count = f' ({len(values)} seeds)' if len(values) < len(rows) else ''
        means.append(mean_sd(values) + count)
    print(f'| mean ± sd ({len(rows)} seeds) | ' + ' | '.join(means) + ' |')
    print()
    print('Gains per seed (in seed order, over the seeds with both arms); mean ± sd; paired t '
          'test, two-sided p, uncorrected for the number of comparisons:')
    print()
    baselines = ['CE alone, stock head', 'CE alone, cosine head']
    print('| recipe | ' + ' | '.join(f'− {b}' for b in baselines) + ' |')
    print('|---|---|---|')
    for recipe in ['stage-1 proto', "paper's stage 2 (lr 0.05)", COSINE]:
        cells = []
        for base in baselines:
            gains = [row[recipe][ARMS[recipe][1]] - row[base][ARMS[base][1]]
                     for row in rows.values() if base in row]
            cells.append(gain_cell(gains))
        print(f'| {recipe} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
