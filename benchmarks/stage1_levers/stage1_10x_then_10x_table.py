"""Per-seed and mean ± sd tables of twice the 10x stage 1 against CE alone given the same
iterations (stage1_10x_then_10x.md).

Per seed, from the lever scripts' JSON-lines records: CE alone for 9,000 iterations (ce_10x_rerun,
else ce_10x, else the 10x sweep's run in stage1_10x_k8.json) and continued to 16,500
(ce_10x_then_10x); the stage-1 prototype readout, the paper's stage 2 and the cosine stage 2 after
the 10x stage 1 (stage1_10x, stage2_10x, cosine_prototypes_lr0.005_10x, else the sweep's run) and
after the 10x-then-10x one (the same names with _then_10x). A seed enters when it has every arm,
all made on machines of one draw: those of ONE_DRAW if its 20x stage 1 ran on one of them, else
that one machine (seed_draws); the reproductions that put the ONE_DRAW machines in one draw are
printed below the tables. The cosine stage 2's own control, CE alone with the cosine-classifier
head given the same iterations (ce_cosine_head_10x_rerun, else ce_cosine_head_10x; and
ce_cosine_head_10x_then_10x), gets a table of its own over the seeds that have it.

Usage: python benchmarks/stage1_levers/stage1_10x_then_10x_table.py [--labeled all]
Prints markdown to stdout. --labeled K reads the records lever_runs.sh writes for LABELED=K (the
files with the suffix _k<K>; 8, the default, has none) and has no 10x-sweep fallback (the sweep ran
8 images only). Each gain comes with the paired t test over its seeds
(cosine_prototypes_table.t_test_text); under the gains, the correlation over the seeds of CE alone
given 16,500 iterations with each 20x arm and with its gain (correlation_text; from
MIN_SEEDS_CORRELATION seeds).
"""
import argparse
import statistics
from typing import Dict, List, Optional, Sequence

from cosine_prototypes_table import (gain_cell, mean_sd, record_on, records, sweep_runs,
                                     t_test_text)

# Machines whose runs of a seed reproduce each other to the digit (printed by reproductions()):
# their runs are one draw and compare as if made on one machine.
ONE_DRAW = (
    'AMD EPYC (family 23, model 1, stepping 2; torch AVX2)',
    'AMD EPYC (family 25, model 1, stepping 1; torch AVX2)',
)
# column title → (JSON-lines files, most preferred first; mIoU key)
ARMS = {
    'CE 9,000': (['ce_10x_rerun', 'ce_10x'], 'ce_miou'),
    'CE 16,500': (['ce_10x_then_10x'], 'ce_miou'),
    'readout 10x': (['stage1_10x'], 'proto_miou'),
    'readout 20x': (['stage1_10x_then_10x'], 'proto_miou'),
    "paper's stage 2 10x": (['stage2_10x'], 'pixcon_miou'),
    "paper's stage 2 20x": (['stage2_10x_then_10x'], 'pixcon_miou'),
    'cosine stage 2 10x': (['cosine_prototypes_lr0.005_10x'], 'pixcon_miou'),
    'cosine stage 2 20x': (['cosine_prototypes_lr0.005_10x_then_10x'], 'pixcon_miou'),
}
RECIPES = ['readout', "paper's stage 2", 'cosine stage 2']
# The cosine stage 2's control: CE alone with the cosine-classifier head (ce_cosine_head_10x.sh,
# then ce_10x_then_10x.sh with CE_HEAD=cosine), title → (files, mIoU key) as in ARMS.
COSINE_HEAD = {
    'CE cosine head 9,000': (['ce_cosine_head_10x_rerun', 'ce_cosine_head_10x'], 'ce_miou'),
    'CE cosine head 16,500': (['ce_cosine_head_10x_then_10x'], 'ce_miou'),
}

# Fewer seeds give no correlation line: to differ from none at p = 0.05 (two-sided), r must pass
# 0.997 over three seeds and 0.950 over four (0.878 over five); over three, with no correlation at
# all, |r| > 0.99 comes about one time in eleven, so the all-label tables' ±1.00 said nothing.
MIN_SEEDS_CORRELATION = 5


def records_suffix(labeled: str) -> str:
    """The suffix lever_runs.sh gives the record files of the label budget ``labeled`` (its
    RECORDS): none for 8, the budget of every earlier record, else _k<labeled> (_kall)."""
    return '' if labeled == '8' else f'_k{labeled}'


def seeds_text(seeds: Sequence[int]) -> str:
    """'seed 8' or 'seeds 8, 9'."""
    return f'seed{"s" * (len(seeds) > 1)} {", ".join(map(str, seeds))}'


def seed_draws(suffix: str = '') -> Dict[int, Sequence[str]]:
    """seed → the machines whose runs of that seed compare with each other, for every seed with
    a 20x stage 1 (in the records with ``suffix``, records_suffix): ONE_DRAW if that stage 1 (its
    last record) ran on one of them, else that machine alone (a seed whose every arm ran on one
    machine of another kind, e.g. an Intel Xeon with torch's AVX512 kernels)."""
    return {seed: ONE_DRAW if run['machine'] in ONE_DRAW else (run['machine'],)
            for seed, run in records(f'stage1_10x_then_10x{suffix}').items()}


def arm_values(arms: Dict[str, tuple], seed: int, sweep: Dict[int, dict],
               machines: Sequence[str], suffix: str = '') -> Optional[Dict[str, float]]:
    """column title → mIoU of the seed for every arm of ``arms`` (title → (files, mIoU key)), read
    from the files with ``suffix`` (records_suffix), or None if the seed lacks one of them made on
    ``machines``."""
    found = {title: record_on([name + suffix for name in names], seed, machines, sweep)
             for title, (names, _) in arms.items()}
    if not all(found.values()):
        return None
    return {title: found[title][key] for title, (_, key) in arms.items()}


def seed_values(sweep: Dict[int, dict], draws: Dict[int, Sequence[str]],
                suffix: str = '') -> Dict[int, Dict[str, float]]:
    """seed → column title → mIoU, for the seeds with every arm made in their draw (``draws``:
    seed_draws(suffix); ``sweep``: the 10x sweep's runs, sweep_runs(), or {}), in the records
    with ``suffix`` (records_suffix)."""
    rows = {seed: arm_values(ARMS, seed, sweep, draws[seed], suffix) for seed in sorted(draws)}
    return {seed: row for seed, row in rows.items() if row is not None}


def correlation_text(rows: Dict[int, Dict[str, float]], base: str = 'CE 16,500',
                     length: str = '20x') -> str:
    """Pearson correlation over the seeds of ``rows`` of CE alone (``base``) with each recipe at
    ``length`` and with its gain over that CE: 'readout 20x +0.54 / -0.80, ...' ('' below
    MIN_SEEDS_CORRELATION seeds; '—' for a column without spread). The gain's holds CE with a
    minus sign, so it leans negative by construction; the arm's own says whether the recipe
    follows CE's seed-to-seed level."""
    if len(rows) < MIN_SEEDS_CORRELATION:
        return ''
    ce = [row[base] for row in rows.values()]

    def correlation(values: List[float]) -> str:
        spread = len(set(ce)) > 1 and len(set(values)) > 1
        return f'{statistics.correlation(ce, values):+.2f}' if spread else '—'

    cells = []
    for recipe in RECIPES:
        arm = [row[f'{recipe} {length}'] for row in rows.values()]
        gain = [a - c for a, c in zip(arm, ce)]
        cells.append(f'{recipe} {length} {correlation(arm)} / {correlation(gain)}')
    return (f'Correlation over the seeds of {base} with each arm / with its gain over {base}: '
            + ', '.join(cells) + '.')


def print_cosine_head(rows: Dict[int, Dict[str, float]], draws: Dict[int, Sequence[str]],
                      suffix: str = '') -> None:
    """The cosine stage 2 against CE alone with the cosine head given the same iterations, per
    seed and mean ± sd, for the seeds of ``rows`` that have that control made in their draw
    (``draws``: seed_draws(suffix); records with ``suffix``); nothing if none has."""
    controls = {seed: arm_values(COSINE_HEAD, seed, {}, draws[seed], suffix) for seed in rows}
    controls = {seed: control for seed, control in controls.items() if control is not None}
    if not controls:
        return
    pairs = [('cosine stage 2 10x', 'CE cosine head 9,000'),
             ('cosine stage 2 20x', 'CE cosine head 16,500')]
    gains = {seed: [rows[seed][arm] - control[base] for arm, base in pairs]
             for seed, control in controls.items()}
    titles = list(COSINE_HEAD) + [f'{arm} − {base}' for arm, base in pairs]
    print('The cosine stage 2 against CE alone with the cosine head given the same iterations, '
          f'{seeds_text(list(controls))}:')
    print()
    print('| seed | ' + ' | '.join(titles) + ' |')
    print('|---' * (len(titles) + 1) + '|')
    for seed, control in controls.items():
        print(f'| {seed} | ' + ' | '.join([f'{v:.2f}' for v in control.values()]
                                          + [f'{g:+.2f}' for g in gains[seed]]) + ' |')
    means = [mean_sd([control[title] for control in controls.values()]) for title in COSINE_HEAD]
    columns = [[gain[i] for gain in gains.values()] for i in range(len(pairs))]
    means += [mean_sd(column, '+') for column in columns]
    print('| mean ± sd | ' + ' | '.join(means) + ' |')
    tests = [t_test_text(column) for column in columns]
    if any(tests):
        cells = [''] * len(COSINE_HEAD) + tests
        print('| paired t test (two-sided, uncorrected) | ' + ' | '.join(cells) + ' |')
    print()


def reproductions(sweep: Dict[int, dict]) -> List[str]:
    """'file, seed: value on the first machine, value on the second' for each seed that CE alone
    (9,000, either head) or the 10x stage 1 has on both machines of ONE_DRAW: the evidence for
    one draw (``sweep``: the 10x sweep's runs, sweep_runs())."""
    lines = []
    for first, second, key in [('ce_10x', 'ce_10x_rerun', 'ce_miou'),
                               ('ce_cosine_head_10x', 'ce_cosine_head_10x_rerun', 'ce_miou'),
                               ('stage1_10x', 'stage1_10x', 'proto_miou')]:
        for seed, rerun in sorted(records(second, ONE_DRAW[1]).items()):
            run = record_on([first], seed, ONE_DRAW[:1], sweep)
            if run is not None:
                lines.append(f'{second}, seed {seed}: {run[key]:.2f}, {rerun[key]:.2f}')
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--labeled', default='8',
                        help="the label budget of the records (lever_runs.sh's LABELED): 8 or all")
    labeled = parser.parse_args().labeled
    suffix = records_suffix(labeled)
    sweep = sweep_runs() if labeled == '8' else {}
    draws = seed_draws(suffix)
    rows = seed_values(sweep, draws, suffix)
    if not rows:
        raise SystemExit(f'no seed has every arm in the records of {labeled} labelled images '
                         f'(benchmarks/stage1_levers/*{suffix}.jsonl)')
    print('| seed | ' + ' | '.join(ARMS) + ' |')
    print('|---' * (len(ARMS) + 1) + '|')
    for seed, row in rows.items():
        print(f'| {seed} | ' + ' | '.join(f'{row[t]:.2f}' for t in ARMS) + ' |')
    means = [mean_sd([row[title] for row in rows.values()]) for title in ARMS]
    print('| mean ± sd | ' + ' | '.join(means) + ' |')
    print()
    print(f'Gains, {len(rows)} seeds ({", ".join(map(str, rows))}); per seed, then **mean ± sd**, '
          'then the paired t test (two-sided p, uncorrected for the number of comparisons):')
    print()
    print("| arm | − CE 9,000 (the 10x recipe's iterations) | − CE 16,500 (the 20x recipe's) |")
    print('|---|---|---|')
    for recipe in RECIPES:
        for length in ('10x', '20x'):
            cells = []
            for base in ('CE 9,000', 'CE 16,500'):
                gains = [row[f'{recipe} {length}'] - row[base] for row in rows.values()]
                cells.append(gain_cell(gains))
            print(f'| {recipe} {length} | ' + ' | '.join(cells) + ' |')
    print()
    correlations = correlation_text(rows)
    if correlations:
        print(correlations)
        print()
    print_cosine_head(rows, draws, suffix)
    others = {seed: draws[seed] for seed in rows if draws[seed] != ONE_DRAW}
    for seed, (machine,) in others.items():
        print(f'Seed {seed}: every arm on {machine}.')
    if others:
        print()
    if labeled != '8':
        return
    print('One draw: the same run on ' + ' and on '.join(ONE_DRAW) + ' (val mIoU):')
    print()
    for line in reproductions(sweep):
        print(f'    {line}')


if __name__ == '__main__':
    main()
