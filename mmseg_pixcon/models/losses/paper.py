"""The paper's pixel contrastive loss (Zhao et al., ICCV 2021; the equations of DESIGN.md).

within: every anchor p of image I (label y) against the contrast set Î of the same image,

    ℓ_p = −(1/N_Î(y)) Σ_{q∈Î, y_q=y} log(e_pq / Σ_{k∈Î} e_pk),   e_pk = exp(f_p·f_k / τ),

averaged over the valid anchors of I (labelled, with a positive), then over the images with a
valid anchor. cross: positives (only) also from Ĵ, the distorted view of the partner J: the
mean runs over the positives of Î ∪ Ĵ and the denominator adds Ĵ's same-class terms. batch:
within, with the minibatch as one image. ``symmetric`` averages this direction with the
reverse one (anchors Î, contrast I, partner positives from J) over the directions with a
valid anchor.

Since the positive part is linear in the embeddings, ℓ_p = log D_p − f_p·S(y) / (τ N(y)) with
S(y), N(y) the sum and count of the positives: class sums make it cheap, and only the
log-sum-exps need the tiled kernel of :mod:`.tiled_contrast`.
"""
from functools import reduce
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .tiled_contrast import pair_logsumexp
from .views import Contrast, View, Views, class_counts, class_sums, valid_anchors


class _Direction(NamedTuple):
    """One direction of the loss, for the scored anchors: what their losses need."""

    anchors: View             # (G, Na, D) the scored anchors, in G bags
    contrast: View            # (G, Nc, D) their contrast sets (negatives and positives)
    mates: Optional[View]     # (G, Nm, D) positives-only pixels (cross: Ĵ), else None
    counts: Tensor            # (G, K) positives per class of each bag (contrast + mates)
    bag_sizes: Tensor         # (G,) valid anchors of each scored bag, all of its anchors
    bags_with_anchor: Tensor  # () bags of the whole batch with a valid anchor


def _direction(own: Views, batch: Views, mode: str, num_classes: int) -> _Direction:
    """Operands of the direction I → Î (called with ``swapped()`` views for Î → I)."""
    if mode == 'batch':
        anchors, contrast, mates = own.image.one_bag(), batch.distorted.one_bag(), None
        counts = class_counts(contrast.labels, num_classes)
        bag_sizes = valid_anchors(batch.image.one_bag().labels, counts).sum(1)
        return _Direction(anchors, contrast, mates, counts, bag_sizes, (bag_sizes > 0).sum())
    anchors, contrast = own.image, own.distorted
    counts = class_counts(contrast.labels, num_classes)
    all_counts = class_counts(batch.distorted.labels, num_classes)
    mates = None
    if mode == 'cross':
        mates = batch.distorted.select(own.partners)
        counts = counts + class_counts(mates.labels, num_classes)
        all_counts = all_counts + all_counts[batch.partners]
    with_anchor = valid_anchors(batch.image.labels, all_counts).any(1).sum()
    return _Direction(anchors, contrast, mates, counts,
                      valid_anchors(anchors.labels, counts).sum(1), with_anchor)


def _log_sums(directions: Sequence[_Direction], mirrored: bool, temperature: float,
              tile_size: int) -> List[Tensor]:
    """log Σ_{k∈contrast} e_pk of each direction's anchors: (G, Na) each.

    ``mirrored``: the second direction's anchors are the first's contrast set and the other
    way round, so its sums are the column sums of the first's tiles: one pass for both.
    """
    if mirrored:
        anchors, contrast = directions[0].anchors, directions[0].contrast
        return list(pair_logsumexp(anchors.feats, contrast.feats, anchors.labels,
                                   contrast.labels, temperature, tile_size, columns=True))
    return [pair_logsumexp(d.anchors.feats, d.contrast.feats, d.anchors.labels,
                           d.contrast.labels, temperature, tile_size) for d in directions]


def _anchor_losses(d: _Direction, log_sum: Tensor, temperature: float, tile_size: int,
                   num_classes: int) -> Tuple[Tensor, Tensor]:
    """ℓ_p = log D_p − f_p·S(y_p) / (τ N(y_p)) of the scored anchors, and which are valid.

    Returns:
        (G, Na) losses, 0 at invalid anchors; (G, Na) bool valid.
    """
    anchors, labels = d.anchors
    log_dens = [log_sum]
    sums = class_sums(d.contrast, num_classes)
    if d.mates is not None:
        log_dens.append(pair_logsumexp(anchors, d.mates.feats, labels, d.mates.labels,
                                       temperature, tile_size, same_class=True))
        sums = sums + class_sums(d.mates, num_classes)
    index = labels.clamp_min(0)
    valid = valid_anchors(labels, d.counts)
    count = d.counts.gather(1, index).to(anchors.dtype)
    positive = (anchors * sums.gather(1, index.unsqueeze(2).expand_as(anchors))).sum(2) / (
        temperature * count.clamp_min(1))
    # Invalid anchors may have two empty (-inf) sets; logaddexp's gradient there is NaN.
    log_den = reduce(torch.logaddexp, [torch.where(valid, lse, 0.) for lse in log_dens])
    return torch.where(valid, log_den - positive, 0.), valid


def paper_loss(own: Views, batch: Views, *, mode: str, symmetric: bool, temperature: float,
               tile_size: int, num_classes: int) -> Contrast:
    """The paper's loss of the anchors of ``own``, normalised over ``batch``.

    Args:
        own: the images whose anchors are scored (see :mod:`.views`).
        batch: every image: contrast sets of mode 'batch', partners' views, counts.
        mode: 'within', 'cross' or 'batch'.
        symmetric: average with the direction Î → I.
        temperature: τ. tile_size: side of the kernel's tiles.
        num_classes: labels lie in [0, num_classes).

    Returns:
        The loss when ``own`` is the batch; otherwise ``own``'s share of it (the shares of
        parts that cover the batch add up to the loss). 0, connected to the inputs, when no
        anchor is valid.
    """
    directions = [_direction(own, batch, mode, num_classes)]
    if symmetric:
        directions.append(_direction(own.swapped(), batch.swapped(), mode, num_classes))
    # The mirror holds unless 'batch' scores a part of the bag against all of it.
    mirrored = symmetric and (mode != 'batch' or own is batch)
    log_sums = _log_sums(directions, mirrored, temperature, tile_size)
    shares, defined, scored = [], [], []
    for d, log_sum in zip(directions, log_sums):
        losses, valid = _anchor_losses(d, log_sum, temperature, tile_size, num_classes)
        shares.append((losses.sum(1) / d.bag_sizes.clamp_min(1)).sum()
                      / d.bags_with_anchor.clamp_min(1))
        defined.append(d.bags_with_anchor > 0)
        scored.append(valid.sum())
    return Contrast(torch.stack(shares).sum() / torch.stack(defined).sum().clamp_min(1),
                    torch.stack(scored).sum())
