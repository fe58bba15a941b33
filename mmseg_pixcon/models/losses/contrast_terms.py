"""The two formulations of the pixel contrastive loss, over flattened views.

Every function here takes the views already flattened: ``feats`` / ``feats_aug`` (B, N, D)
embeddings of the images I and of their distorted versions Î (float32 or float64), and
``labels`` / ``labels_aug`` (B, N) int64 class ids in ``[0, num_classes)`` or ``IGNORED``.
Equations: docs of :class:`PixelContrastLoss` and DESIGN.md. The tiled kernels of
:mod:`.tiled_contrast` do every reduction over contrast pixels.
"""
from functools import reduce
from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from .tiled_contrast import official_anchor_loss, pair_logsumexp

MODES = ('within', 'cross', 'batch')
PARTNER_RULES = ('shuffle', 'roll', 'identity')


def select_partners(batch_size: int, rule: str, device: torch.device) -> Tensor:
    """Partner image J = partners[b] of every image b, for the cross-image loss.

    'roll': J = (b + 1) mod B. 'identity': J = b. 'shuffle': a random derangement — the
    images in a random order (drawn from torch's global RNG, so ``torch.manual_seed`` fixes
    it and equally seeded processes agree) each take the next one as partner, i.e. a
    uniformly random B-cycle. With B = 1 every rule gives the only image itself.

    Returns:
        (B,) int64 on ``device``.
    """
    if rule not in PARTNER_RULES:
        raise ValueError(f'partner must be one of {PARTNER_RULES}, got {rule!r}')
    order = torch.arange(batch_size)
    if rule == 'shuffle' and batch_size > 1:
        order = torch.randperm(batch_size)
    if rule == 'identity':
        return order.to(device)
    partners = torch.empty_like(order)
    partners[order] = order.roll(-1)
    return partners.to(device)


def class_counts(labels: Tensor, num_classes: int) -> Tensor:
    """Labelled pixels per class of each bag: (G, N) -> (G, num_classes), int64."""
    bins = torch.where(labels >= 0, labels, num_classes)  # ignored -> a spare bin
    counts = labels.new_zeros((labels.shape[0], num_classes + 1))
    counts.scatter_add_(1, bins, torch.ones_like(bins))
    return counts[:, :num_classes]


def class_sums(feats: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """Σ of the embeddings of each class: (G, N, D), (G, N) -> (G, num_classes, D)."""
    bins = torch.where(labels >= 0, labels, num_classes)
    sums = feats.new_zeros((feats.shape[0], num_classes + 1, feats.shape[2]))
    sums = sums.scatter_add(1, bins.unsqueeze(2).expand_as(feats), feats)
    return sums[:, :num_classes]


def _mean_over_valid(losses: Tensor, valid: Tensor) -> Tuple[Tensor, Tensor]:
    """Per-bag mean over valid anchors: (G, Na) -> (G,), and whether a bag has any.

    ``losses`` is 0 at invalid anchors, so an empty bag sums to a 0 that stays connected
    to the graph.
    """
    return losses.sum(1) / valid.sum(1).clamp_min(1), valid.any(1)


def _paper_direction(anchors: Tensor, anchor_labels: Tensor,
                     log_denominators: Sequence[Tensor], positive_sums: Tensor,
                     positive_counts: Tensor, temperature: float) -> Tuple[Tensor, Tensor]:
    """One direction of the paper loss: mean over bags with a valid anchor.

    Per anchor p of class y: log D_p − (f_p · S(y)) / (τ N(y)), i.e. the mean over its
    positives q of −log(e_pq / D_p), where S(y), N(y) are the sum and count of the
    positive contrast pixels of class y.

    Args:
        anchors: (G, Na, D). anchor_labels: (G, Na).
        log_denominators: (G, Na) log-sum-exps whose log-add-exp is log D_p.
        positive_sums: (G, K, D). positive_counts: (G, K).
        temperature: τ.

    Returns:
        The scalar loss (0 without valid anchors) and whether any anchor was valid.
    """
    index = anchor_labels.clamp_min(0)
    count = positive_counts.gather(1, index).to(anchors.dtype)
    valid = (anchor_labels >= 0) & (count > 0)
    positive = (anchors * positive_sums.gather(1, index.unsqueeze(2).expand_as(anchors))
                ).sum(2) / (temperature * count.clamp_min(1))
    # Invalid anchors may have two empty (-inf) sets; logaddexp's gradient there is NaN.
    log_denominator = reduce(torch.logaddexp,
                             [torch.where(valid, lse, 0.) for lse in log_denominators])
    per_bag, has_anchor = _mean_over_valid(
        torch.where(valid, log_denominator - positive, 0.), valid)
    return per_bag.sum() / has_anchor.sum().clamp_min(1), has_anchor.any()


def _one_bag(x: Tensor) -> Tensor:
    """Merge the images of a batch into one bag: (B, N, ...) -> (1, B·N, ...)."""
    return x.reshape(1, -1, *x.shape[2:])


def paper_loss(feats: Tensor, labels: Tensor, feats_aug: Tensor, labels_aug: Tensor, *,
               mode: str, partners: Tensor, symmetric: bool, temperature: float,
               tile_size: int, num_classes: int) -> Tensor:
    """The paper's loss (DESIGN.md): anchors of I against the contrast set Î.

    within: per image, contrast set Î. cross: positives (only) also from Ĵ, the
    distorted view of J = partners[b]. batch: within, with the minibatch as one image.
    ``symmetric`` averages with the reverse direction (anchors Î; contrast I, and in cross
    mode positives from J, the undistorted partner) over the directions with a valid
    anchor.

    Returns:
        Scalar loss, 0 (connected to the inputs) when no anchor is valid.
    """
    if mode == 'batch':
        feats, labels, feats_aug, labels_aug = map(
            _one_bag, (feats, labels, feats_aug, labels_aug))
    log_sums = pair_logsumexp(feats, feats_aug, labels, labels_aug, temperature,
                              tile_size, columns=symmetric)
    forward_lse, reverse_lse = log_sums if symmetric else (log_sums, None)
    directions = [(feats, labels, feats_aug, labels_aug, [forward_lse])]
    if symmetric:
        directions.append((feats_aug, labels_aug, feats, labels, [reverse_lse]))
    terms: List[Tuple[Tensor, Tensor]] = []
    for anchors, anchor_labels, contrast, contrast_labels, log_dens in directions:
        sums = class_sums(contrast, contrast_labels, num_classes)
        counts = class_counts(contrast_labels, num_classes)
        if mode == 'cross':
            log_dens.append(pair_logsumexp(anchors, contrast[partners], anchor_labels,
                                           contrast_labels[partners], temperature,
                                           tile_size, same_class=True))
            sums = sums + sums[partners]
            counts = counts + counts[partners]
        terms.append(_paper_direction(anchors, anchor_labels, log_dens, sums, counts,
                                      temperature))
    losses, defined = map(torch.stack, zip(*terms))
    return losses.sum() / defined.sum().clamp_min(1)


def official_loss(feats: Tensor, labels: Tensor, feats_aug: Tensor, labels_aug: Tensor, *,
                  mode: str, partners: Tensor, symmetric: bool, temperature: float,
                  tile_size: int, num_classes: int) -> Tensor:
    """The authors' released loss (google-research supervised_pixel_contrastive_loss).

    Per bag: every labelled anchor i scores the mean over its positives j (same class,
    i itself included) of −log(e_ij / (e_ij + Σ_{k negative} e_ik)); the bag's loss is the
    mean over anchors with a positive. within: bags I_b and Î_b, the loss the sum of
    their two means over the batch (as released). cross: bags I_b ∪ Ĵ_b with negatives
    only inside I_b or inside Ĵ_b, mean over the batch (released: partners by shuffle).
    batch: one bag of all pixels of both views. Released code takes anchors from the
    whole bag: ``symmetric=True``. ``symmetric=False`` keeps only anchors from I (within:
    the I_b term alone), against the same bag.

    Returns:
        Scalar loss; a bag without a labelled anchor adds 0 (its batch mean still counts
        it, as released).
    """
    batch_size, num_pixels = labels.shape
    anchor_parts = contrast_parts = None
    if mode == 'within':
        bags = (feats, feats_aug) if symmetric else (feats,)
        bag = torch.cat(bags)
        bag_labels = torch.cat((labels, labels_aug)[:len(bags)])
        num_anchors = num_pixels
    elif mode == 'cross':
        bag = torch.cat((feats, feats_aug[partners]), 1)
        bag_labels = torch.cat((labels, labels_aug[partners]), 1)
        contrast_parts = (num_pixels, num_pixels)
        anchor_parts = contrast_parts if symmetric else contrast_parts[:1]
        num_anchors = sum(anchor_parts)
    else:
        bag = torch.cat((_one_bag(feats), _one_bag(feats_aug)), 1)
        bag_labels = torch.cat((_one_bag(labels), _one_bag(labels_aug)), 1)
        num_anchors = bag.shape[1] if symmetric else labels.numel()
    anchor_labels = bag_labels[:, :num_anchors]
    summed = official_anchor_loss(bag[:, :num_anchors], bag, anchor_labels, bag_labels,
                                  temperature, tile_size, anchor_parts=anchor_parts,
                                  contrast_parts=contrast_parts)
    positives = class_counts(bag_labels, num_classes).gather(
        1, anchor_labels.clamp_min(0)).to(summed.dtype)
    valid = (anchor_labels >= 0) & (positives > 0)
    per_bag, _ = _mean_over_valid(
        torch.where(valid, summed / positives.clamp_min(1), 0.), valid)
    return per_bag.sum() / (1 if mode == 'batch' else batch_size)
