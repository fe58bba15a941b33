"""Same-class log-sum-exps computed class by class, skipping every cross-class pair.

The cross-image loss needs, for each anchor p, log Σ_{k ∈ Ĵ, y_k = y_p} e_pk: a reduction over
positives only. Masking the full anchor × contrast matrix wastes the Σ_c N_a N_c − Σ_c N_a(c)
N_c(c) cross-class products; grouping the pixels of each bag by class and reducing one class
at a time costs only Σ_c max_b N_a(b, c) · max_b N_c(b, c) products per bag (the max over the
bags pads the groups to one batched matmul per class). The values and gradients are those of
the masked computation: the same pairs, through the same tiled kernel.

Shapes as in :mod:`.tiled_contrast`: anchors (G, Na, D), contrast (G, Nc, D), labels (G, N)
int64 in [0, num_classes) or ``IGNORED``.

Not called by :class:`PixelContrastLoss`: its loop over classes reads the group sizes on the
host on every call, and the loss makes one host read per call at most (the input check); the
cross-image term uses the masked kernel (``pair_logsumexp(..., same_class=True)``). Kept until
``benchmarks/class_grouped_vs_masked.py`` has measured whether grouping pays (issue 11).
"""
from typing import Tuple

import torch
from torch import Tensor

from .tiled_contrast import IGNORED, pair_logsumexp
from .views import class_counts


def _class_groups(labels: Tensor, num_classes: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Pixels of each bag sorted by class.

    Returns:
        order: (G, N) pixel positions, class by class (ignored pixels last).
        counts: (G, num_classes) pixels of each class.
        starts: (G, num_classes) where each class's run begins in ``order``.
    """
    keys = torch.where(labels >= 0, labels, num_classes)
    order = torch.argsort(keys, dim=1, stable=True)
    counts = class_counts(labels, num_classes)
    starts = counts.cumsum(1) - counts
    return order, counts, starts


def _gather_group(x: Tensor, order: Tensor, start: Tensor, count: Tensor,
                  size: int) -> Tuple[Tensor, Tensor, Tensor]:
    """The pixels of one class in each bag, padded to ``size``.

    Args:
        x: (G, N, D). order: (G, N) from :func:`_class_groups`.
        start, count: (G, 1) the class's run in ``order``.
        size: the padded group length (the largest count over the bags).

    Returns:
        (G, size, D) members, (G, size) their positions in x, (G, size) bool real member.
    """
    rank = torch.arange(size, device=x.device).unsqueeze(0)
    member = rank < count
    positions = order.gather(1, (start + rank).clamp_max(order.shape[1] - 1))
    members = x.gather(1, positions.unsqueeze(2).expand(-1, -1, x.shape[2]))
    return members, positions, member


def same_class_logsumexp(anchors: Tensor, contrast: Tensor, anchor_labels: Tensor,
                         contrast_labels: Tensor, temperature: float, tile_size: int,
                         num_classes: int) -> Tensor:
    """log Σ_{k: y_k = y_p} exp(a_p · c_k / τ) per anchor, class by class.

    Equal to ``pair_logsumexp(..., same_class=True)`` in value and gradient.

    Args:
        anchors: (G, Na, D). contrast: (G, Nc, D).
        anchor_labels: (G, Na). contrast_labels: (G, Nc).
        temperature: τ > 0.
        tile_size: side of the logit tiles within a class.
        num_classes: labels lie in [0, num_classes).

    Returns:
        (G, Na); -inf for an ignored anchor or one whose class has no contrast pixel.
    """
    num_bags, num_anchors = anchor_labels.shape
    anchor_order, anchor_counts, anchor_starts = _class_groups(anchor_labels, num_classes)
    contrast_order, contrast_counts, contrast_starts = _class_groups(contrast_labels,
                                                                     num_classes)
    # The largest group of each class over the bags; one host sync for all classes.
    sizes = torch.stack((anchor_counts.amax(0), contrast_counts.amax(0))).tolist()
    # Column num_anchors collects the padding of every group and is dropped at the end.
    out = anchors.new_full((num_bags, num_anchors + 1), float('-inf'))
    for cls, (anchor_size, contrast_size) in enumerate(zip(*sizes)):
        if anchor_size == 0 or contrast_size == 0:
            continue
        group = slice(cls, cls + 1)
        members, positions, member = _gather_group(
            anchors, anchor_order, anchor_starts[:, group], anchor_counts[:, group],
            anchor_size)
        mates, _, mate = _gather_group(contrast, contrast_order, contrast_starts[:, group],
                                       contrast_counts[:, group], contrast_size)
        lse = pair_logsumexp(members, mates, _group_labels(member), _group_labels(mate),
                             temperature, tile_size)
        out = out.scatter(1, positions.masked_fill(~member, num_anchors), lse)
    return out[:, :num_anchors]


def _group_labels(member: Tensor) -> Tensor:
    """(G, size) labels of a padded group: 0 for members, IGNORED for padding."""
    return torch.where(member, 0, IGNORED)
