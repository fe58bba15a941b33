"""PixelContrastLoss: label-based pixel contrastive loss between an image and its distortion.

Zhao et al., "Contrastive Learning for Label Efficient Semantic Segmentation", ICCV 2021.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .contrast_terms import (MODES, PARTNER_RULES, official_loss, paper_loss,
                             select_partners)
from .pixel_sampling import balanced_sample_index
from .tiled_contrast import IGNORED

FORMULATIONS = {'paper': paper_loss, 'official': official_loss}
_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def resize_labels(labels: Tensor, size: Tuple[int, int]) -> Tensor:
    """Nearest-neighbour downsampling of a label map to the embedding grid.

    Output pixel (i, j) takes source pixel (⌊i·H/h⌋, ⌊j·W/w⌋) — the rule of
    ``F.interpolate(mode='nearest')``, which does the work (on float64, exact for any
    int32 label): the top-left pixel of each stride cell when H, W are multiples of h, w.

    Args:
        labels: (B, H, W) integer labels, H >= h and W >= w.
        size: (h, w).

    Returns:
        (B, h, w) int64.
    """
    if labels.shape[1] < size[0] or labels.shape[2] < size[1]:
        raise ValueError(f'labels of spatial size {tuple(labels.shape[1:])} are smaller '
                         f'than the embeddings {tuple(size)}')
    if tuple(labels.shape[1:]) == tuple(size):
        return labels.long()
    return F.interpolate(labels.unsqueeze(1).double(), size=size,
                         mode='nearest').squeeze(1).long()


@MODELS.register_module()
class PixelContrastLoss(nn.Module):
    """Supervised pixel contrastive loss between images I and their distorted views Î.

    Exact over all labelled pixels by default: the similarity matrix is never held whole;
    the kernel (:mod:`.tiled_contrast`) streams it in ``tile_size``² tiles and recomputes
    them in backward, in float32 (float64 inputs stay float64; autocast is switched off
    inside, so fp16/bf16 embeddings cannot overflow ``exp(1/τ)``).

    Formulations (equations in DESIGN.md):

    - ``'paper'``: anchors of I against the contrast set Î of the same image, the mean
      over positives of −log(e_pq / Σ_{k∈Î} e_pk); averaged over valid anchors (labelled,
      with a positive), then over images with a valid anchor. ``'cross'`` adds positives
      (only) from Ĵ, the distorted view of the partner J; ``'batch'`` treats the minibatch
      as one image. ``symmetric=True`` averages this with the reverse direction: anchors
      of Î against the contrast set I (plus, in cross mode, positives from J, the
      undistorted partner) — over the directions that have a valid anchor.
    - ``'official'``: the authors' released TF code. Bags are I_b and Î_b (within,
      summed), I_b ∪ Ĵ_b with negatives kept inside each image (cross), or all pixels
      (batch); an anchor is its own positive; per-bag means are averaged over the whole
      batch, bags without a labelled anchor counting 0. The released code takes anchors
      from the whole bag — ``symmetric=True``; ``symmetric=False`` takes anchors from I
      only (within: the released loss on I alone).

    Partners (cross mode): ``'shuffle'`` a random derangement per call (torch's global
    RNG), ``'roll'`` J = b + 1 mod B, ``'identity'`` J = b. With B = 1 the partner of the
    only image is itself for every rule (as the released code's shuffle of one index), so
    Ĵ = Î.

    A value that no anchor defines is 0, still a function of the embeddings.

    Args:
        mode (str): 'within', 'cross' or 'batch'. Default: 'within'.
        formulation (str): 'paper' or 'official'. Default: 'paper'.
        temperature (float): τ. Default: 0.07.
        ignore_index (int): label of ignored pixels. Default: 255.
        symmetric (bool): see above. Default: True.
        partner (str): 'shuffle', 'roll' or 'identity'. Default: 'shuffle'.
        loss_weight (float): factor on the loss. Default: 1.0.
        loss_name (str): name of the loss item, starting with ``loss_``.
            Default: 'loss_pixcon'.
        tile_size (int, optional): side of the similarity tiles; the extra memory is a
            few B·tile_size² floats. None: 512 on CPU, 2048 on GPU (where larger tiles
            mean fewer kernel launches). Default: None.
        max_pixels_per_image (int, optional): if set, each view of each image keeps at
            most this many pixels, class-balanced (:func:`.balanced_sample_index`,
            torch's global RNG). Default: None (all pixels, exact).
    """

    def __init__(self,
                 mode: str = 'within',
                 formulation: str = 'paper',
                 temperature: float = 0.07,
                 ignore_index: int = 255,
                 symmetric: bool = True,
                 partner: str = 'shuffle',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_pixcon',
                 tile_size: Optional[int] = None,
                 max_pixels_per_image: Optional[int] = None) -> None:
        super().__init__()
        _check_choice('mode', mode, MODES)
        _check_choice('formulation', formulation, tuple(FORMULATIONS))
        _check_choice('partner', partner, PARTNER_RULES)
        if not temperature > 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if tile_size is not None and tile_size < 1:
            raise ValueError(f'tile_size must be >= 1, got {tile_size}')
        if max_pixels_per_image is not None and max_pixels_per_image < 1:
            raise ValueError(
                f'max_pixels_per_image must be >= 1 or None, got {max_pixels_per_image}')
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must start with 'loss_', got {loss_name!r}")
        self.mode = mode
        self.formulation = formulation
        self.temperature = temperature
        self.ignore_index = ignore_index
        self.symmetric = symmetric
        self.partner = partner
        self.loss_weight = loss_weight
        self.tile_size = tile_size
        self.max_pixels_per_image = max_pixels_per_image
        self._loss_name = loss_name

    def forward(self, feats: Tensor, labels: Tensor, feats_aug: Tensor,
                labels_aug: Tensor) -> Tensor:
        """Loss between the two views.

        Args:
            feats: (B, D, H, W) embeddings of I, unit-normalised by the caller.
            labels: (B, H', W') integer labels of I, H' >= H, W' >= W (larger maps are
                downsampled, see :func:`resize_labels`).
            feats_aug: (B, D, H, W) embeddings of Î.
            labels_aug: (B, H'', W'') labels of Î.

        Returns:
            Scalar: ``loss_weight`` × the loss, in the embeddings' compute dtype.
        """
        _check_feats(feats, feats_aug)
        labels = self._prepare_labels(labels, feats, 'labels')
        labels_aug = self._prepare_labels(labels_aug, feats, 'labels_aug')
        num_classes = _check_values(feats, feats_aug, labels, labels_aug,
                                    self.ignore_index)
        labels, labels_aug = (torch.where(y == self.ignore_index, IGNORED, y)
                              for y in (labels, labels_aug))
        dtype = torch.float64 if feats.dtype == torch.float64 else torch.float32
        with torch.autocast(device_type=feats.device.type, enabled=False):
            views = [self._flatten(x, y, dtype)
                     for x, y in ((feats, labels), (feats_aug, labels_aug))]
            partners = select_partners(feats.shape[0], self.partner, feats.device)
            loss = FORMULATIONS[self.formulation](
                *views[0], *views[1], mode=self.mode, partners=partners,
                symmetric=self.symmetric, temperature=self.temperature,
                tile_size=self.tile_size or _default_tile_size(feats.device),
                num_classes=num_classes)
        return self.loss_weight * loss

    def _prepare_labels(self, labels: Tensor, feats: Tensor, name: str) -> Tensor:
        """Check type and shape, resize to the embedding grid: (B, h, w) int64."""
        if not isinstance(labels, Tensor) or labels.dtype not in _INTEGER_DTYPES:
            raise ValueError(f'{name} must be an integer tensor, got '
                             f'{getattr(labels, "dtype", type(labels))}')
        if labels.dim() != 3 or labels.shape[0] != feats.shape[0]:
            raise ValueError(f'{name} must be (B, H, W) with B = {feats.shape[0]}, got '
                             f'shape {tuple(labels.shape)}')
        return resize_labels(labels, tuple(feats.shape[2:]))

    def _flatten(self, feats: Tensor, labels: Tensor,
                 dtype: torch.dtype) -> Tuple[Tensor, Tensor]:
        """(B, D, H, W), (B, H, W) -> (B, N, D) in ``dtype``, (B, N); sampled if asked."""
        feats = feats.flatten(2).transpose(1, 2).to(dtype).contiguous()
        labels = labels.flatten(1)
        if self.max_pixels_per_image is None:
            return feats, labels
        index = balanced_sample_index(labels, self.max_pixels_per_image)
        return (feats.gather(1, index.unsqueeze(2).expand(-1, -1, feats.shape[2])),
                labels.gather(1, index))

    @property
    def loss_name(self) -> str:
        """Name of the loss item; the ``loss_`` prefix puts it in the backward graph."""
        return self._loss_name


def _default_tile_size(device: torch.device) -> int:
    return 512 if device.type == 'cpu' else 2048


def _check_choice(name: str, value: str, choices: Tuple[str, ...]) -> None:
    """ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')


def _check_feats(feats: Tensor, feats_aug: Tensor) -> None:
    """Types and shapes of the two embedding maps (no host synchronisation)."""
    for name, x in (('feats', feats), ('feats_aug', feats_aug)):
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise ValueError(f'{name} must be a floating-point tensor, got '
                             f'{getattr(x, "dtype", type(x))}')
        if x.dim() != 4 or x.numel() == 0:
            raise ValueError(f'{name} must be a non-empty (B, D, H, W), got shape '
                             f'{tuple(x.shape)}')
    if feats.shape != feats_aug.shape or feats.dtype != feats_aug.dtype:
        raise ValueError(f'feats {tuple(feats.shape)} {feats.dtype} and feats_aug '
                         f'{tuple(feats_aug.shape)} {feats_aug.dtype} must match')


def _check_values(feats: Tensor, feats_aug: Tensor, labels: Tensor, labels_aug: Tensor,
                  ignore_index: int) -> int:
    """Finite embeddings and valid labels, in one host synchronisation.

    Returns:
        The number of classes to reserve: 1 + the largest class id (at least 1).
    """
    all_labels = torch.cat((labels.flatten(), labels_aug.flatten()))
    ignored = all_labels == ignore_index
    finite, finite_aug, bad_label, max_label = torch.stack((
        feats.isfinite().all().long(), feats_aug.isfinite().all().long(),
        ((all_labels < 0) & ~ignored).any().long(),
        torch.where(ignored, -1, all_labels).max())).tolist()
    if not finite or not finite_aug:
        raise ValueError('feats and feats_aug must be finite (found NaN or Inf)')
    if bad_label:
        raise ValueError('labels must be non-negative class ids or ignore_index')
    return max(max_label + 1, 1)
