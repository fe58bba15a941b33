"""tools/demo.py: the budget it picks from a benchmark JSON and what it prints."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tools'))

import demo  # noqa: E402

RESULTS = dict(settings=[
    dict(labeled=8, seed=0, ce_miou=10.0, pixcon_miou=14.0),
    dict(labeled=8, seed=1, ce_miou=12.0, pixcon_miou=12.0),   # gains 4, 0: mean 2
    dict(labeled=16, seed=0, ce_miou=20.0, pixcon_miou=23.0),  # gain 3 (one seed)
    dict(labeled=16, seed=1, ce_miou=21.0),                    # recipe not run: left out
    dict(labeled='all', seed=0, ce_miou=30.0, pixcon_miou=29.0),
])


def test_the_budget_of_largest_mean_gain_over_complete_seeds():
    budgets = demo.gains_by_budget(RESULTS)
    assert budgets == {'8': [(10.0, 14.0), (12.0, 12.0)], '16': [(20.0, 23.0)],
                       'all': [(30.0, 29.0)]}
    assert demo.best_budget(budgets) == '16'
    with pytest.raises(ValueError, match='no budget'):
        demo.best_budget(demo.gains_by_budget(dict(settings=[dict(labeled=8, ce_miou=1.0)])))


def test_report_puts_the_run_beside_the_benchmark_spread():
    summary = dict(minutes=14.2, rows=[
        dict(run='contrastive pretraining + CE fine-tuning', mIoU=15.5),
        dict(run='CE only', mIoU=13.0)])
    text = demo.report(summary, '8', demo.gains_by_budget(RESULTS)['8'])
    assert '13.00 mIoU' in text and '15.50 mIoU' in text and '+2.50' in text
    # benchmark: CE 11 ± 1.41, recipe 13 ± 1.41, gain 2 ± 2.83 over 2 seeds
    assert 'CE 11.00 ± 1.41 (2 seeds)' in text
    assert 'recipe 13.00 ± 1.41 (2 seeds)' in text and 'gain 2.00 ± 2.83 (2 seeds)' in text
    assert demo.spread([3.0]) == '3.00 (1 seed)'
