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

from .class_grouped import class_counts, same_class_logsumexp
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


def class_sums(feats: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """Σ of the embeddings of each class: (G, N, D), (G, N) -> (G, num_classes, D)."""
    bins = torch.where(labels >= 0, labels, num_classes)
    sums = feats.new_zeros((feats.shape[0], num_classes + 1, feats.shape[2]))
    sums = sums.scatter_add(1, bins.unsqueeze(2).expand_as(feats), feats)
    return sums[:, :num_classes]


def _valid_anchors(anchor_labels: Tensor, positive_counts: Tensor) -> Tensor:
    """Labelled anchors with at least one positive: (G, Na), (G, K) counts -> (G, Na) bool."""
    return (anchor_labels >= 0) & (positive_counts.gather(1, anchor_labels.clamp_min(0)) > 0)


def _share_of_bag_means(anchor_losses: Tensor, bag_valid_counts: Tensor) -> Tensor:
    """Σ over bags of (Σ of the given anchors' losses) / (valid anchors of the whole bag).

    Args:
        anchor_losses: (G, Na) losses of some of each bag's anchors, 0 at invalid ones.
        bag_valid_counts: (G,) valid anchors of each bag, counting those scored elsewhere.

    Returns:
        A scalar. Over processes that split the anchors of the bags, the shares add up to
        the sum of the bags' means over valid anchors; an empty bag adds a 0 that stays
        connected to the graph.
    """
    return (anchor_losses.sum(1) / bag_valid_counts.clamp_min(1)).sum()


def _pixel_range(own: slice, batch_size: int, pixels_per_image: int) -> slice:
    """Pixels of the images ``own`` once a batch of ``pixels_per_image`` each is one bag."""
    start, stop, _ = own.indices(batch_size)
    return slice(start * pixels_per_image, stop * pixels_per_image)


def _is_whole(part: slice, length: int) -> bool:
    """Whether ``part`` covers all of ``range(length)``."""
    return part.indices(length)[:2] == (0, length)


def _paper_anchor_losses(anchors: Tensor, anchor_labels: Tensor,
                         log_denominators: Sequence[Tensor], positive_sums: Tensor,
                         positive_counts: Tensor, temperature: float) -> Tensor:
    """Paper loss of each anchor: log D_p − (f_p · S(y)) / (τ N(y)).

    That is the mean over the positives q of anchor p (class y) of −log(e_pq / D_p), where
    S(y), N(y) are the sum and count of the positive contrast pixels of class y.

    Args:
        anchors: (G, Na, D). anchor_labels: (G, Na).
        log_denominators: (G, Na) log-sum-exps whose log-add-exp is log D_p.
        positive_sums: (G, K, D). positive_counts: (G, K).
        temperature: τ.

    Returns:
        (G, Na), 0 at invalid anchors.
    """
    index = anchor_labels.clamp_min(0)
    valid = _valid_anchors(anchor_labels, positive_counts)
    count = positive_counts.gather(1, index).to(anchors.dtype)
    positive = (anchors * positive_sums.gather(1, index.unsqueeze(2).expand_as(anchors))
                ).sum(2) / (temperature * count.clamp_min(1))
    # Invalid anchors may have two empty (-inf) sets; logaddexp's gradient there is NaN.
    log_denominator = reduce(torch.logaddexp,
                             [torch.where(valid, lse, 0.) for lse in log_denominators])
    return torch.where(valid, log_denominator - positive, 0.)


def _one_bag(x: Tensor) -> Tensor:
    """Merge the images of a batch into one bag: (B, N, ...) -> (1, B·N, ...)."""
    return x.reshape(1, -1, *x.shape[2:])


def _paper_log_sums(directions: Sequence[Tuple[Tensor, Tensor, Tensor, Tensor]],
                    bags: slice, pixels: slice, temperature: float,
                    tile_size: int) -> List[Tensor]:
    """log Σ_{k ∈ contrast} e_pk of the scored anchors, per direction: (G', Na') each.

    When every anchor of the bags is scored, the reverse direction's sums are the column
    sums of the forward tiles (one pass); a part of a bag's anchors needs its own pass.
    """
    anchors, anchor_labels, contrast, contrast_labels = directions[0]
    if len(directions) == 2 and _is_whole(pixels, anchor_labels.shape[1]):
        return list(pair_logsumexp(anchors[bags], contrast[bags], anchor_labels[bags],
                                   contrast_labels[bags], temperature, tile_size,
                                   columns=True))
    return [pair_logsumexp(a[bags, pixels], c[bags], a_labels[bags, pixels], c_labels[bags],
                           temperature, tile_size)
            for a, a_labels, c, c_labels in directions]


def paper_loss(feats: Tensor, labels: Tensor, feats_aug: Tensor, labels_aug: Tensor, *,
               mode: str, partners: Tensor, symmetric: bool, temperature: float,
               tile_size: int, num_classes: int, own: slice = slice(None)) -> Tensor:
    """The paper's loss (DESIGN.md): anchors of I against the contrast set Î.

    within: per image, contrast set Î. cross: positives (only) also from Ĵ, the
    distorted view of J = partners[b]. batch: within, with the minibatch as one image.
    ``symmetric`` averages with the reverse direction (anchors Î; contrast I, and in cross
    mode positives from J, the undistorted partner) over the directions with a valid
    anchor.

    ``own`` (a slice of the batch) picks the images whose anchors this call scores, against
    contrast sets from the whole batch; the result is their share of the loss, normalised
    by counts over the whole batch, so the shares of slices that cover the batch add up to
    the loss. Default: every image (the loss itself).

    Returns:
        Scalar, 0 (connected to the inputs) when no anchor is valid.
    """
    bags, pixels = own, slice(None)
    if mode == 'batch':
        bags, pixels = slice(None), _pixel_range(own, *labels.shape)
        feats, labels, feats_aug, labels_aug = map(
            _one_bag, (feats, labels, feats_aug, labels_aug))
    directions = [(feats, labels, feats_aug, labels_aug)]
    if symmetric:
        directions.append((feats_aug, labels_aug, feats, labels))
    log_sums = _paper_log_sums(directions, bags, pixels, temperature, tile_size)
    terms: List[Tuple[Tensor, Tensor]] = []
    for (anchors, anchor_labels, contrast, contrast_labels), log_sum in zip(directions,
                                                                             log_sums):
        scored, scored_labels = anchors[bags, pixels], anchor_labels[bags, pixels]
        log_dens = [log_sum]
        sums = class_sums(contrast, contrast_labels, num_classes)
        counts = class_counts(contrast_labels, num_classes)
        if mode == 'cross':
            mates = partners[bags]
            log_dens.append(same_class_logsumexp(scored, contrast[mates], scored_labels,
                                                 contrast_labels[mates], temperature,
                                                 tile_size, num_classes))
            sums = sums + sums[partners]
            counts = counts + counts[partners]
        losses = _paper_anchor_losses(scored, scored_labels, log_dens, sums[bags],
                                      counts[bags], temperature)
        bag_valid = _valid_anchors(anchor_labels, counts).sum(1)
        has_anchor = bag_valid > 0
        terms.append((_share_of_bag_means(losses, bag_valid[bags])
                      / has_anchor.sum().clamp_min(1), has_anchor.any()))
    shares, defined = map(torch.stack, zip(*terms))
    return shares.sum() / defined.sum().clamp_min(1)


def official_loss(feats: Tensor, labels: Tensor, feats_aug: Tensor, labels_aug: Tensor, *,
                  mode: str, partners: Tensor, symmetric: bool, temperature: float,
                  tile_size: int, num_classes: int, own: slice = slice(None)) -> Tensor:
    """The authors' released loss (google-research supervised_pixel_contrastive_loss).

    Per bag: every labelled anchor i scores the mean over its positives j (same class,
    i itself included) of −log(e_ij / (e_ij + Σ_{k negative} e_ik)); the bag's loss is the
    mean over anchors with a positive. within: bags I_b and Î_b, the loss the sum of
    their two means over the batch (as released). cross: bags I_b ∪ Ĵ_b with negatives
    only inside I_b or inside Ĵ_b, mean over the batch (released: partners by shuffle).
    batch: one bag of all pixels of both views. Released code takes anchors from the
    whole bag: ``symmetric=True``. ``symmetric=False`` keeps only anchors from I (within:
    the I_b term alone), against the same bag.

    ``own``: as in :func:`paper_loss` — within and cross score the bags of the images
    ``own``; batch scores their pixels' anchors in the one bag.

    Returns:
        Scalar loss; a bag without a labelled anchor adds 0 (its batch mean still counts
        it, as released).
    """
    batch_size, num_pixels = labels.shape
    anchor_parts = contrast_parts = None
    if mode == 'within':
        views = ((feats, labels), (feats_aug, labels_aug))[:1 + symmetric]
        bag = torch.cat([x[own] for x, _ in views])
        bag_labels = all_anchor_labels = torch.cat([y[own] for _, y in views])
        anchors, anchor_labels = bag, bag_labels
    elif mode == 'cross':
        mates = partners[own]
        bag = torch.cat((feats[own], feats_aug[mates]), 1)
        bag_labels = torch.cat((labels[own], labels_aug[mates]), 1)
        contrast_parts = (num_pixels, num_pixels)
        anchor_parts = contrast_parts if symmetric else contrast_parts[:1]
        anchors, anchor_labels = bag[:, :sum(anchor_parts)], bag_labels[:, :sum(anchor_parts)]
        all_anchor_labels = anchor_labels
    else:
        # Image by image, [I_b; Î_b]: the anchors of images ``own`` are one range of pixels.
        bag = _one_bag(torch.cat((feats, feats_aug), 1))
        bag_labels = _one_bag(torch.cat((labels, labels_aug), 1))
        if symmetric:
            pixels = _pixel_range(own, batch_size, 2 * num_pixels)
            anchors, anchor_labels = bag[:, pixels], bag_labels[:, pixels]
            all_anchor_labels = bag_labels
        else:
            anchors, anchor_labels = _one_bag(feats[own]), _one_bag(labels[own])
            all_anchor_labels = _one_bag(labels)
    summed = official_anchor_loss(anchors, bag, anchor_labels, bag_labels, temperature,
                                  tile_size, anchor_parts=anchor_parts,
                                  contrast_parts=contrast_parts)
    counts = class_counts(bag_labels, num_classes)
    positives = counts.gather(1, anchor_labels.clamp_min(0)).to(summed.dtype)
    losses = torch.where(_valid_anchors(anchor_labels, counts),
                         summed / positives.clamp_min(1), 0.)
    share = _share_of_bag_means(losses, _valid_anchors(all_anchor_labels, counts).sum(1))
    return share / (1 if mode == 'batch' else batch_size)
