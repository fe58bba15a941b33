"""tools/resolution_ceiling.py: what a stride-s logit grid can represent."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tools'))

from resolution_ceiling import ceilings  # noqa: E402


def test_a_one_pixel_line_vanishes_on_a_stride_four_grid_while_a_block_stays():
    label = np.zeros((16, 16), np.uint8)
    label[:, 5] = 1            # a pole one pixel wide
    label[8:16, 8:16] = 2      # a block of whole 4x4 cells: only its corner pixel is rounded off
    label[0, 0] = 255          # ignored pixels count for no class
    table = ceilings([label], num_classes=3, strides=[1, 4])
    np.testing.assert_allclose(table[1], [1, 1, 1])
    assert table[4][1] == 0
    assert table[4][2] == 63 / 64
    background = (label == 0).sum()  # 175; it gains the 16 line pixels and the block's corner
    assert table[4][0] == background / (background + 16 + 1)


def test_a_class_never_seen_nor_predicted_is_nan():
    table = ceilings([np.zeros((8, 8), np.uint8)], num_classes=2, strides=[2])
    assert table[2][0] == 1 and np.isnan(table[2][1])
