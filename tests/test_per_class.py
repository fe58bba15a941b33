"""benchmarks/stage1_levers/per_class.py: the per-class table it reads from a log, each class's
purity at the loss cell against hand counts, which classes its rank correlation takes, and the
check of every log against its record."""
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from script_modules import load_script

LEVERS = Path(__file__).parents[1] / 'benchmarks' / 'stage1_levers'

LOG = """\
12/07 05:20:14 - mmengine - INFO - per class results:
12/07 05:20:14 - mmengine - INFO -
+---------------+-------+-------+
|     Class     |  IoU  |  Acc  |
+---------------+-------+-------+
|      road     | {road} | 97.04 |
| traffic light |  0.0  |  0.0  |
|     person    |  nan  |  nan  |
+---------------+-------+-------+
12/07 05:20:14 - mmengine - INFO - Iter(val) [60/60]    aAcc: 84.7000  mIoU: {miou}  mAcc: 41.3300
"""


@pytest.fixture
def per_class(monkeypatch):
    """The script as a module, its sibling table scripts importable (as running it from its
    folder makes them), and those siblings out of sys.modules again afterwards."""
    before = set(sys.modules)
    monkeypatch.syspath_prepend(str(LEVERS))
    yield load_script(LEVERS / 'per_class.py')
    for name in set(sys.modules) - before:
        if name in ('cosine_prototypes_table', 'stage1_10x_then_10x_table', 'stage2_9000_table'):
            del sys.modules[name]


def test_reads_the_last_per_class_table_and_the_miou_after_it(per_class, tmp_path):
    log = tmp_path / 'test.log'
    log.write_text(LOG.format(road='11.00', miou='5.5000') + 'training goes on\n' +
                   LOG.format(road='93.17', miou='34.1100'))
    table, miou = per_class.per_class_iou(log, 'mIoU')
    assert list(table) == ['road', 'traffic light', 'person']
    assert table['road'] == 93.17 and table['traffic light'] == 0.0 and np.isnan(table['person'])
    assert miou == 34.11
    with pytest.raises(ValueError, match='no proto/mIoU after its last per-class table'):
        per_class.per_class_iou(log, 'proto/mIoU')
    # the stage-1 logs print proto/mIoU: not the mIoU a test log prints, nor the other way round
    proto = tmp_path / 'train.log'
    proto.write_text(LOG.format(road='50.00', miou='7.0000').replace(' mIoU', ' proto/mIoU'))
    assert per_class.per_class_iou(proto, 'proto/mIoU')[1] == 7.0
    with pytest.raises(ValueError, match='no mIoU after its last per-class table'):
        per_class.per_class_iou(proto, 'mIoU')
    log.write_text('12/07 05:20:14 - mmengine - INFO - Iter(val) [60/60]  mIoU: 5.5000\n')
    with pytest.raises(ValueError, match='no per-class table'):
        per_class.per_class_iou(log, 'mIoU')


def test_purity_counts_the_pixels_whose_window_holds_their_class_only(per_class):
    labels = np.zeros((10, 10), np.uint8)
    labels[:, 4:7] = 1  # a stripe 3 pixels wide
    counts, pure = per_class.pure_share(labels, 3, cell=3)
    # stripe: only its middle column's 3-wide windows hold the stripe alone; the field: columns
    # 0-2 and 8-9 (3 and 7 touch the stripe); rows never count against it (the window's part
    # outside the image does not); class 2 is absent
    assert counts.tolist() == [70, 30, 0] and pure.tolist() == [50, 10, 0]
    _, pure = per_class.pure_share(labels, 3, cell=4)
    assert pure[1] == 0  # no 4-wide window fits in the stripe
    # an even window spans offsets -2 to +1: at the left edge, columns 0 and 1 of a 3-wide stripe
    # are pure (offsets -1 to +2 would leave column 0 only), of the field columns 5 to 9
    edge = np.zeros((6, 10), np.uint8)
    edge[:, :3] = 1
    counts, pure = per_class.pure_share(edge, 2, cell=4)
    assert counts.tolist() == [42, 18] and pure.tolist() == [30, 12]
    field = np.zeros((10, 10), np.uint8)
    field[0, 0] = 255  # no class, and against the purity of its neighbours' windows
    counts, pure = per_class.pure_share(field, 1, cell=3)
    assert counts.tolist() == [99] and pure.tolist() == [96]


def test_rank_correlation_leaves_out_the_classes_neither_run_finds(per_class):
    purity = {'a': 0.1, 'b': 0.5, 'c': 0.9, 'd': 1.0}
    minuend = {'a': 2.0, 'b': 3.0, 'c': 5.0, 'd': 0.9}
    subtrahend = {'a': 1.0, 'b': 1.0, 'c': 1.0, 'd': 0.0}
    # d (IoU ≤ MIN_IOU in both runs) would be the purest class with the smallest difference
    assert per_class.rank_correlation(purity, minuend, subtrahend) == (pytest.approx(1.0), 3)
    minuend['d'] = 1.5  # found by one run: it counts, and breaks the order
    rho, count = per_class.rank_correlation(purity, minuend, subtrahend)
    assert count == 4 and rho == pytest.approx(0.4)
    minuend['d'] = subtrahend['d'] = per_class.MIN_IOU  # at the threshold: left out
    assert per_class.rank_correlation(purity, minuend, subtrahend) == (pytest.approx(1.0), 3)
    minuend['c'] = float('nan')  # a class a table has no IoU for: left out, in either run
    assert per_class.rank_correlation(purity, minuend, subtrahend)[1] == 2
    assert per_class.rank_correlation(purity, subtrahend, minuend)[1] == 2


def test_no_rho_below_three_classes_or_without_spread(per_class):
    purity = {'a': 0.1, 'b': 0.5, 'c': 0.9}
    subtrahend = {'a': 1.0, 'b': 1.0, 'c': 1.0}
    constant = {'a': 3.0, 'b': 3.0, 'c': 3.0}
    assert per_class.rank_correlation(purity, constant, subtrahend) == (None, 3)
    two_found = {'a': 3.0, 'b': 4.0, 'c': 0.5}  # c at most MIN_IOU in both runs
    assert per_class.rank_correlation(purity, two_found, subtrahend) == (None, 2)
    assert per_class.sign_summary([None, None]) == '—'
    assert per_class.sign_summary([0.3, None, 0.5]).startswith('positive on 2 of 2 ')


def test_each_log_is_checked_against_its_record(per_class, monkeypatch, tmp_path):
    # each arm's record under its own key, each with its own value, as its log prints it
    mious = {'CE 9,000': 31.0, 'CE 16,500': 32.0, 'readout 10x': 33.0,
             "paper's 7,500 + 9,000": 34.11}
    rows = {0: {title: {per_class.ARMS[title][1]: miou} for title, miou in mious.items()}, 1: {}}
    monkeypatch.setattr(per_class, 'seed_rows', lambda suffix: rows if suffix == '_k32' else {})
    for title, miou in mious.items():
        path = per_class.log_path(tmp_path, title, '32', 0)
        path.parent.mkdir(parents=True)
        path.write_text(LOG.format(road='93.17', miou=f'{miou:.4f}').replace(
            ' mIoU', f' {per_class.LOGS[title].miou_key}'))
    # the stage 1's log under stage1_dir's name, the others under run_dir's
    assert per_class.log_path(tmp_path, per_class.READOUT, '32', 0) == \
        tmp_path / 'stage1_10x_k32' / '32_seed0' / 'stage1' / 'train.log'
    runs, missing = per_class.budget_runs(tmp_path, '32')
    assert list(runs) == [0] and missing == [1]  # seed 1 has no logs: named, not counted
    assert runs[0][per_class.RECIPE]['road'] == 93.17
    rows[0] = dict(rows[0], **{per_class.CE_LONG: {'ce_miou': 35.0}})
    with pytest.raises(ValueError, match=r'ce_10x_then_10x/32_seed0/test.log: mIoU 32.0 but '
                                         r'its record says 35.0'):
        per_class.budget_runs(tmp_path, '32')


def test_class_order_is_the_tables_and_must_be_one(per_class):
    table = {'road': 90.0, 'pole': 5.0}
    runs = {'16': {0: {'CE 9,000': table, 'CE 16,500': dict(table)}}, 'all': {5: {'x': table}}}
    assert per_class.class_order(runs) == ['road', 'pole']
    runs['all'][5]['x'] = {'pole': 5.0, 'road': 90.0}
    with pytest.raises(ValueError, match='list different classes'):
        per_class.class_order(runs)


def test_sign_summary_counts_positives_with_the_binomial_p(per_class):
    # 10 of 11 positive: p = 2 * (C(11, 10) + C(11, 11)) / 2^11 = 24 / 2048
    rhos = [0.5] * 10 + [-0.4]
    assert per_class.sign_summary(rhos) == (
        f'positive on 10 of 11 (sign test p = {24 / 2048:.3f}), mean +{4.6 / 11:.2f}')
    assert per_class.sign_summary([-0.1] * 12).startswith(
        'positive on 0 of 12 (sign test p < 0.001)')


def test_val_classes_sums_the_val_maps_and_refuses_stray_labels(per_class, tmp_path):
    city = tmp_path / 'gtFine' / 'val' / 'lindau'
    city.mkdir(parents=True)
    first = np.zeros((6, 10), np.uint8)
    first[:, :3] = 1
    Image.fromarray(first).save(city / 'a_gtFine_labelTrainIds.png')
    second = np.full((6, 10), 255, np.uint8)
    second[:, 5:] = 0
    Image.fromarray(second).save(city / 'b_gtFine_labelTrainIds.png')
    share, purity = per_class.val_classes(tmp_path, 3, cell=4)
    # class 0: 42 + 30 pixels, 30 + 18 pure (the 255 half counts against columns 5 and 6 of
    # the second map); class 1: 18 pixels, 12 pure; class 2: none
    assert share.tolist() == pytest.approx([72 / 90, 18 / 90, 0.0])
    assert purity.tolist() == pytest.approx([48 / 72, 12 / 18, 0.0])
    second[0, 9] = 3  # a fourth class in tables of three
    Image.fromarray(second).save(city / 'b_gtFine_labelTrainIds.png')
    with pytest.raises(ValueError, match=r'label values \[3\] are neither classes 0..2 nor '
                                         r'ignore_index 255'):
        per_class.val_classes(tmp_path, 3, cell=4)
