"""Dense reference of :class:`PixelContrastLoss`, for tests and benchmarks only.

Builds every similarity matrix in full, image by image, straight from the equations of
DESIGN.md — memory O(N²) per image, which is what the tiled kernel avoids. Inputs as in
:mod:`.views`: views flattened to (B, N, D), labels (B, N) with ``IGNORED`` (-1), and the
partner of every image, (B,) int64; the whole batch is scored.
"""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def _masked_logsumexp(logits: Tensor, keep: Tensor) -> Tensor:
    """Row log-sum-exp over kept entries: (Na, Nc) -> (Na,), -inf for empty rows.

    Empty rows are summed over zeros instead, then set to -inf, because
    ``torch.logsumexp`` of an all -inf row has a NaN gradient.
    """
    has_any = keep.any(1, keepdim=True)
    filled = logits.masked_fill(~keep, float('-inf')).masked_fill(~has_any, 0.)
    return torch.where(has_any[:, 0], torch.logsumexp(filled, 1), float('-inf'))


def _paper_image(logits: Tensor, anchor_labels: Tensor, contrast_labels: Tensor,
                 partner_logits: Optional[Tensor],
                 partner_labels: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
    """One image, one direction of the paper loss.

    Args:
        logits: (Na, Nc) anchors against the contrast view (negatives and positives).
        anchor_labels: (Na,). contrast_labels: (Nc,).
        partner_logits: (Na, Np) anchors against the partner's view (positives only), or
            None outside cross mode. partner_labels: (Np,) or None.

    Returns:
        Mean over valid anchors (0 if none) and whether any anchor is valid.
    """
    labelled = (anchor_labels >= 0).unsqueeze(1)
    keep = labelled & (contrast_labels >= 0).unsqueeze(0)
    positive = keep & (anchor_labels.unsqueeze(1) == contrast_labels.unsqueeze(0))
    if partner_logits is not None:
        partner_positive = (labelled & (partner_labels >= 0).unsqueeze(0)
                            & (anchor_labels.unsqueeze(1) == partner_labels.unsqueeze(0)))
        logits = torch.cat((logits, partner_logits), 1)
        keep = torch.cat((keep, partner_positive), 1)
        positive = torch.cat((positive, partner_positive), 1)
    log_prob = logits - _masked_logsumexp(logits, keep).unsqueeze(1)
    num_positive = positive.sum(1)
    valid = num_positive > 0
    anchor_loss = -log_prob.masked_fill(~positive, 0.).sum(1) / num_positive.clamp_min(1)
    return (torch.where(valid, anchor_loss, 0.).sum() / valid.sum().clamp_min(1),
            valid.any())


def dense_paper_loss(feats: Tensor, labels: Tensor, feats_aug: Tensor, labels_aug: Tensor,
                     *, mode: str, partners: Tensor, symmetric: bool,
                     temperature: float) -> Tensor:
    """Paper formulation (:func:`.paper.paper_loss`), from the equations."""
    if mode == 'batch':
        feats, labels, feats_aug, labels_aug = (
            x.reshape(1, -1, *x.shape[2:]) for x in (feats, labels, feats_aug, labels_aug))
    directions: List[List[Tuple[Tensor, Tensor]]] = [[], []]
    for b in range(feats.shape[0]):
        logits = feats[b] @ feats_aug[b].T / temperature
        partner = int(partners[b])
        cross = mode == 'cross'
        directions[0].append(_paper_image(
            logits, labels[b], labels_aug[b],
            feats[b] @ feats_aug[partner].T / temperature if cross else None,
            labels_aug[partner] if cross else None))
        if symmetric:
            directions[1].append(_paper_image(
                logits.T, labels_aug[b], labels[b],
                feats_aug[b] @ feats[partner].T / temperature if cross else None,
                labels[partner] if cross else None))
    losses, defined = [], []
    for images in directions[:1 + symmetric]:
        means, has = map(torch.stack, zip(*images))
        losses.append(means.sum() / has.sum().clamp_min(1))
        defined.append(has.any())
    return torch.stack(losses).sum() / torch.stack(defined).sum().clamp_min(1)


def _official_bag(anchors: Tensor, anchor_labels: Tensor, anchor_parts: Tensor,
                  bag: Tensor, bag_labels: Tensor, bag_parts: Tensor,
                  temperature: float) -> Tensor:
    """Released-code loss of one bag: (Na, D) anchors taken from the (M, D) bag."""
    logits = anchors @ bag.T / temperature
    labelled = (anchor_labels >= 0).unsqueeze(1) & (bag_labels >= 0).unsqueeze(0)
    same = anchor_labels.unsqueeze(1) == bag_labels.unsqueeze(0)
    positive = same & labelled
    negative = ~same & labelled & (anchor_parts.unsqueeze(1) == bag_parts.unsqueeze(0))
    # −log(e_ij / (e_ij + Σ_neg e_ik)) written stably.
    nll = F.softplus(_masked_logsumexp(logits, negative).unsqueeze(1) - logits)
    num_positive = positive.sum(1)
    valid = num_positive > 0
    anchor_loss = nll.masked_fill(~positive, 0.).sum(1) / num_positive.clamp_min(1)
    return torch.where(valid, anchor_loss, 0.).sum() / valid.sum().clamp_min(1)


def dense_official_loss(feats: Tensor, labels: Tensor, feats_aug: Tensor,
                        labels_aug: Tensor, *, mode: str, partners: Tensor, symmetric: bool,
                        temperature: float) -> Tensor:
    """Released-code formulation (:func:`.official.official_loss`), from the equations."""
    batch_size, num_pixels = labels.shape
    bags = []
    if mode == 'within':
        for b in range(batch_size):
            bags.append((feats[b], labels[b], torch.zeros_like(labels[b]), num_pixels))
            if symmetric:
                bags.append((feats_aug[b], labels_aug[b], torch.zeros_like(labels[b]),
                             num_pixels))
    elif mode == 'cross':
        for b in range(batch_size):
            partner = int(partners[b])
            bags.append((torch.cat((feats[b], feats_aug[partner])),
                         torch.cat((labels[b], labels_aug[partner])),
                         torch.cat((torch.zeros_like(labels[b]),
                                    torch.ones_like(labels[b]))),
                         2 * num_pixels if symmetric else num_pixels))
    else:
        all_labels = torch.cat((labels.flatten(), labels_aug.flatten()))
        bags.append((torch.cat((feats.flatten(0, 1), feats_aug.flatten(0, 1))), all_labels,
                     torch.zeros_like(all_labels),
                     all_labels.numel() if symmetric else labels.numel()))
    total = sum(_official_bag(bag[:n], bag_labels[:n], parts[:n], bag, bag_labels, parts,
                              temperature) for bag, bag_labels, parts, n in bags)
    return total / (1 if mode == 'batch' else batch_size)
