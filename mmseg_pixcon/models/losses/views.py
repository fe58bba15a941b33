"""The two views of a batch, flattened, as both formulations read them; class statistics.

A :class:`View` is one view of B images: ``feats`` (B, N, D) float32 or float64 embeddings and
``labels`` (B, N) int64 class ids in ``[0, num_classes)`` or ``IGNORED`` (-1). :class:`Views`
pairs the images I with their distorted views Î and, in cross mode, names each image's partner J.

A formulation is called with two :class:`Views`: ``batch``, every image (the contrast sets and
the normalising counts come from it), and ``own``, the images whose anchors it scores — the
batch itself, or under a distributed launch this process's images of the gathered batch
(:mod:`.distributed`); ``own.partners`` still index ``batch``.
"""
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from .tiled_contrast import IGNORED


class View(NamedTuple):
    """One view of B images: feats (B, N, D), labels (B, N)."""

    feats: Tensor
    labels: Tensor

    def select(self, index) -> 'View':
        """The images ``index`` (a slice or a (B',) index tensor) of this view."""
        return View(self.feats[index], self.labels[index])

    def one_bag(self) -> 'View':
        """All pixels of the B images as one bag: (1, B·N, D), (1, B·N), image by image."""
        return View(self.feats.reshape(1, -1, self.feats.shape[2]), self.labels.reshape(1, -1))

    def join(self, other: 'View') -> 'View':
        """Each image's pixels followed by ``other``'s: (B, N + N', D), (B, N + N')."""
        return View(torch.cat((self.feats, other.feats), 1),
                    torch.cat((self.labels, other.labels), 1))


class Views(NamedTuple):
    """The images I, their distorted views Î and (cross mode) partners: (B,) indices of J."""

    image: View
    distorted: View
    partners: Optional[Tensor] = None

    def part(self, images: slice) -> 'Views':
        """The images ``images`` of the batch; their partners keep indexing the whole batch."""
        return Views(self.image.select(images), self.distorted.select(images),
                     None if self.partners is None else self.partners[images])

    def swapped(self) -> 'Views':
        """The reverse direction: Î in the role of I, and I in that of Î."""
        return Views(self.distorted, self.image, self.partners)

    @property
    def size(self) -> int:
        """B, the number of images."""
        return self.image.labels.shape[0]


class Contrast(NamedTuple):
    """What a formulation returns: the loss (or ``own``'s share of it), a scalar, and the
    number of valid anchors it scored, an int64 scalar."""

    loss: Tensor
    anchors: Tensor


def class_counts(labels: Tensor, num_classes: int) -> Tensor:
    """Labelled pixels per class of each bag: (G, N) -> (G, num_classes), int64."""
    bins = torch.where(labels >= 0, labels, num_classes)  # ignored -> a spare bin
    counts = labels.new_zeros((labels.shape[0], num_classes + 1))
    counts.scatter_add_(1, bins, torch.ones_like(bins))
    return counts[:, :num_classes]


def class_sums(view: View, num_classes: int) -> Tensor:
    """Σ of the embeddings of each class of each bag: (G, num_classes, D)."""
    feats, labels = view
    bins = torch.where(labels >= 0, labels, num_classes)
    sums = feats.new_zeros((feats.shape[0], num_classes + 1, feats.shape[2]))
    sums = sums.scatter_add(1, bins.unsqueeze(2).expand_as(feats), feats)
    return sums[:, :num_classes]


def valid_anchors(anchor_labels: Tensor, positive_counts: Tensor) -> Tensor:
    """Labelled anchors with at least one positive: (G, Na), (G, K) counts -> (G, Na) bool."""
    return (anchor_labels >= 0) & (positive_counts.gather(1, anchor_labels.clamp_min(0)) > 0)


__all__ = ['IGNORED', 'Contrast', 'View', 'Views', 'class_counts', 'class_sums', 'valid_anchors']
