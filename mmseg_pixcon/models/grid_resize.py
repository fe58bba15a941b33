"""Moving decoder features and label maps to another grid under one pixel convention.

A cell of a grid stands for a point of the image. With ``align_corners=False`` (mmseg's default,
the rule its heads use to upsample logits to the labels for cross-entropy) cell i of an h-cell
grid over H pixels sits at (i + 0.5)·H/h − 0.5 — the centre of its stride cell; with
``align_corners=True`` it sits at i·(H − 1)/(h − 1). Features are resized bilinearly under the
head's convention, and each label cell takes the pixel nearest to where its cell sits under the
same convention, so a feature and its label describe the same place to within half a pixel
(tests/test_grid_resize.py). ``F.interpolate(mode='nearest')`` instead takes pixel ⌊i·H/h⌋, the
top-left corner of the cell: (s − 1)/2 pixels off for a stride s, more after a bilinear resize
with aligned corners.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def resize_features(feats: Tensor, size: Tuple[int, int], align_corners: bool) -> Tensor:
    """(N, C, h, w) → (N, C, *size), bilinear under the given convention."""
    if tuple(feats.shape[2:]) == tuple(size):
        return feats
    return F.interpolate(feats, size=tuple(size), mode='bilinear', align_corners=align_corners)


def cell_sources(length: int, size: int, align_corners: bool, device: torch.device) -> Tensor:
    """(size,) int64 index of the source pixel nearest to each target cell's position."""
    cells = torch.arange(size, dtype=torch.float64, device=device)
    if align_corners:
        position = cells * ((length - 1) / (size - 1)) if size > 1 else cells
    else:
        position = (cells + 0.5) * (length / size) - 0.5
    # Round half up; positions lie in [-0.5, length - 0.5], so the clamp only guards rounding.
    return torch.floor(position + 0.5).long().clamp_(0, length - 1)


def resize_labels(labels: Tensor, size: Tuple[int, int], align_corners: bool = False) -> Tensor:
    """Label map on the feature grid: each cell takes the label of the pixel nearest to it.

    Args:
        labels: (B, H, W) integer labels, H >= h and W >= w.
        size: (h, w).
        align_corners: the convention of the features' grid (the head's ``align_corners``).

    Returns:
        (B, h, w) int64, exactly the source labels (an index gather, no float round trip).
    """
    if labels.shape[1] < size[0] or labels.shape[2] < size[1]:
        raise ValueError(f'labels of spatial size {tuple(labels.shape[1:])} are smaller '
                         f'than the embeddings {tuple(size)}')
    labels = labels.long()
    if tuple(labels.shape[1:]) == tuple(size):
        return labels
    rows = cell_sources(labels.shape[1], size[0], align_corners, labels.device)
    cols = cell_sources(labels.shape[2], size[1], align_corners, labels.device)
    return labels.index_select(1, rows).index_select(2, cols)
