"""The authors' released loss (google-research ``supervised_pixel_contrastive_loss``).

Per bag, every labelled anchor i scores the mean over its positives j (same class, i itself
included) of −log(e_ij / (e_ij + Σ_{k negative} e_ik)), e_ik = exp(f_i·f_k / τ); the bag's loss
is the mean over its anchors with a positive, and a bag without one counts 0. Bags:

- within: I_b and Î_b, each with itself; the loss is the sum of their two batch means.
- cross: I_b ∪ Ĵ_b (Ĵ the distorted view of the partner J), negatives kept inside I_b or
  inside Ĵ_b; the batch mean.
- batch: one bag of every pixel of both views.

The released code takes anchors from the whole bag (``symmetric=True``); ``symmetric=False``
takes them from I only (within: the I_b bags alone), against the same bags. The per-anchor
sums over positives are the tiled kernel :func:`.tiled_contrast.official_anchor_loss`.
"""
from typing import Optional, Sequence

import torch
from torch import Tensor

from .tiled_contrast import official_anchor_loss
from .views import Contrast, View, Views, class_counts, valid_anchors


def _bag_means(anchors: View, bag: View, every_anchor: Tensor, temperature: float,
               tile_size: int, num_classes: int, anchor_parts: Optional[Sequence[int]] = None,
               bag_parts: Optional[Sequence[int]] = None) -> Contrast:
    """Σ over bags of the mean loss of their valid anchors, for the scored ``anchors``.

    Args:
        anchors: (G, Na, D) scored anchors, members of ``bag`` (G, M, D).
        every_anchor: (G, Na') labels of all anchors of each bag, scored here or not (the
            means divide by their valid count).
        anchor_parts, bag_parts: sizes of the consecutive parts of the anchors and of the
            bag, part i of one facing part i of the other (negatives stay inside a part);
            None: one part.

    Returns:
        The sum of the scored anchors' terms of the bag means, and their count.
    """
    summed = official_anchor_loss(anchors.feats, bag.feats, anchors.labels, bag.labels,
                                  temperature, tile_size, anchor_parts=anchor_parts,
                                  contrast_parts=bag_parts)
    counts = class_counts(bag.labels, num_classes)
    valid = valid_anchors(anchors.labels, counts)
    positives = counts.gather(1, anchors.labels.clamp_min(0)).to(summed.dtype)
    losses = torch.where(valid, summed / positives.clamp_min(1), 0.)
    bag_sizes = valid_anchors(every_anchor, counts).sum(1)
    return Contrast((losses.sum(1) / bag_sizes.clamp_min(1)).sum(), valid.sum())


def official_loss(own: Views, batch: Views, *, mode: str, symmetric: bool,
                  temperature: float, tile_size: int, num_classes: int) -> Contrast:
    """The released loss of the anchors of ``own``, normalised over ``batch``.

    Arguments as :func:`.paper.paper_loss`. Returns the loss when ``own`` is the batch,
    otherwise ``own``'s share of it.
    """
    kernel = dict(temperature=temperature, tile_size=tile_size, num_classes=num_classes)
    if mode == 'within':
        views = (own.image, own.distorted)[:1 + symmetric]
        bags = View(torch.cat([v.feats for v in views]), torch.cat([v.labels for v in views]))
        total = _bag_means(bags, bags, bags.labels, **kernel)
    elif mode == 'cross':
        bag = own.image.join(batch.distorted.select(own.partners))
        parts = (own.image.labels.shape[1], ) * 2  # I_b, Ĵ_b
        anchors, anchor_parts = (bag, parts) if symmetric else (own.image, parts[:1])
        total = _bag_means(anchors, bag, anchors.labels, anchor_parts=anchor_parts,
                           bag_parts=parts, **kernel)
    else:
        bag = batch.image.join(batch.distorted).one_bag()  # image by image, [I_b; Î_b]
        if symmetric:
            anchors, every_anchor = own.image.join(own.distorted).one_bag(), bag.labels
        else:
            anchors, every_anchor = own.image.one_bag(), batch.image.one_bag().labels
        total = _bag_means(anchors, bag, every_anchor, **kernel)
    return Contrast(total.loss / (1 if mode == 'batch' else batch.size), total.anchors)
