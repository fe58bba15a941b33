"""PixelContrastLoss: label-based pixel contrastive loss between an image and its distortion.

Zhao et al., "Contrastive Learning for Label Efficient Semantic Segmentation", ICCV 2021.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..grid_resize import resize_labels
from .contrast_terms import (MODES, PARTNER_RULES, official_loss, paper_loss,
                             select_partners)
from .distributed import (broadcast_from_first, gather_batch, gather_rows, own_slice,
                          world)
from .pixel_sampling import balanced_sample_index
from .tiled_contrast import IGNORED

FORMULATIONS = {'paper': paper_loss, 'official': official_loss}
_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


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

    Distributed training (``gather=True`` and a process group of W > 1 processes): in
    modes 'cross' and 'batch' the images are those of the global batch — every process's
    embeddings and labels, gathered in rank order (:mod:`.distributed`), gradients flowing
    back to the process that owns each pixel; partners are drawn over the global batch on
    rank 0 and broadcast. Each process scores the anchors of its own images against the
    global contrast sets and returns W × their share of the global loss (normalised by
    counts over the global batch), so the mean over processes — what DDP's gradient
    averaging optimises — is exactly the loss of one process holding the whole batch; the
    gradient a process gets for its own embeddings is W × that loss's gradient for them.
    (The loss mmengine logs is rank 0's: W × its share, which scatters around the global
    loss.) Memory: every process holds the gathered embeddings, 2 × global batch × pixels
    × D floats (after any ``max_pixels_per_image`` sampling), and the kernel's tiles —
    never a similarity matrix. Mode 'within' never communicates: each process returns the loss of its own images, as
    stock losses average over the GPU's own batch. The mean over processes is the global
    loss when the processes hold equally many images ('official', which counts every
    image) or equally many images with a valid anchor ('paper'; so whenever every image
    has a labelled pixel with a positive).

    Precision: the kernel's matmuls run in IEEE float32 (float64 for float64 inputs)
    whatever the global TF32 / ``torch.set_float32_matmul_precision`` setting (TF32 keeps
    10 mantissa bits: ~1e-3 relative error per logit, 0.014 absolute at τ = 0.07);
    :func:`.tiled_contrast.ieee_matmuls` sets the CUDA and MKLDNN matmul precision to
    ``'ieee'`` while they run. There is no option to allow TF32.

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
            torch's global RNG), before any gathering: the cap is per image, so the global
            contrast set has at most 2 × global batch × this many pixels whatever the
            number of processes. Default: None (all pixels, exact).
        gather (bool): in a distributed run, give modes 'cross' and 'batch' the global
            batch (see above); False keeps each process to its own images. Default: True.
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
                 max_pixels_per_image: Optional[int] = None,
                 gather: bool = True) -> None:
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
        self.gather = gather
        self._loss_name = loss_name

    def forward(self, feats: Tensor, labels: Tensor, feats_aug: Tensor,
                labels_aug: Tensor) -> Tensor:
        """Loss between the two views.

        Args:
            feats: (B, D, H, W) embeddings of I, unit-normalised by the caller.
            labels: (B, H', W') integer labels of I, H' >= H, W' >= W (larger maps are
                downsampled to the nearest pixel of each cell under mmseg's default
                ``align_corners=False``, see :func:`resize_labels`).
            feats_aug: (B, D, H, W) embeddings of Î.
            labels_aug: (B, H'', W'') labels of Î.

        Returns:
            Scalar: ``loss_weight`` × the loss, in the embeddings' compute dtype; in a
            distributed run of mode 'cross' or 'batch', ``loss_weight`` × W × this
            process's share of the global-batch loss (see the class docs).
        """
        _check_feats(feats, feats_aug)
        labels = self._prepare_labels(labels, feats, 'labels')
        labels_aug = self._prepare_labels(labels_aug, feats, 'labels_aug')
        rank, world_size = world() if self.gather and self.mode != 'within' else (0, 1)
        stats = _local_stats(feats, feats_aug, labels, labels_aug, self.ignore_index)
        # Every process checks every process's stats, so all raise together (none is left
        # waiting in a collective).
        batch_sizes, num_classes = _check_stats(
            (gather_rows(stats) if world_size > 1 else stats[None]).tolist())
        labels, labels_aug = (torch.where(y == self.ignore_index, IGNORED, y)
                              for y in (labels, labels_aug))
        dtype = torch.float64 if feats.dtype == torch.float64 else torch.float32
        with torch.autocast(device_type=feats.device.type, enabled=False):
            partners = select_partners(sum(batch_sizes), self.partner, feats.device)
            if world_size > 1 and self.partner == 'shuffle':
                broadcast_from_first(partners)
            (x, y), (x_aug, y_aug) = (self._flatten(*view, dtype) for view in (
                (feats, labels), (feats_aug, labels_aug)))
            own = slice(None)
            if world_size > 1:
                x, x_aug = gather_batch(torch.stack((x, x_aug), 1), batch_sizes).unbind(1)
                y, y_aug = gather_batch(torch.stack((y, y_aug), 1), batch_sizes).unbind(1)
                own = own_slice(batch_sizes, rank)
            loss = FORMULATIONS[self.formulation](
                x, y, x_aug, y_aug, mode=self.mode, partners=partners,
                symmetric=self.symmetric, temperature=self.temperature,
                tile_size=self.tile_size or _default_tile_size(feats.device),
                num_classes=num_classes, own=own)
        # DDP averages the processes' gradients: W × each share makes that average the
        # gradient of the global-batch loss.
        return self.loss_weight * world_size * loss

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


_STATS = ('finite', 'finite_aug', 'bad_label', 'max_label', 'batch', 'channels', 'height',
          'width')


def _local_stats(feats: Tensor, feats_aug: Tensor, labels: Tensor, labels_aug: Tensor,
                 ignore_index: int) -> Tensor:
    """What the checks of :func:`_check_stats` need, as one (8,) int64 tensor (``_STATS``).

    Stays on the device: one host synchronisation (or one small gather) reads it.
    """
    all_labels = torch.cat((labels.flatten(), labels_aug.flatten()))
    ignored = all_labels == ignore_index
    # torch.full, not torch.tensor: a fill kernel, where a copy from the host would wait
    # for the device.
    return torch.stack((
        feats.isfinite().all().long(), feats_aug.isfinite().all().long(),
        ((all_labels < 0) & ~ignored).any().long(),
        torch.where(ignored, -1, all_labels).max(),
        *(torch.full((), size, device=feats.device) for size in feats.shape)))


def _check_stats(per_process: Sequence[Sequence[int]]) -> Tuple[List[int], int]:
    """Finite embeddings, valid labels and matching shapes in every process.

    Args:
        per_process: one row of ``_STATS`` per process, in rank order.

    Returns:
        The batch size of every process, and the number of classes to reserve: 1 + the
        largest class id of any process (at least 1).
    """
    rows = [dict(zip(_STATS, row)) for row in per_process]
    for rank, row in enumerate(rows):
        where = f' (rank {rank})' if len(rows) > 1 else ''
        if not row['finite'] or not row['finite_aug']:
            raise ValueError(f'feats and feats_aug must be finite (found NaN or Inf){where}')
        if row['bad_label']:
            raise ValueError(f'labels must be non-negative class ids or ignore_index{where}')
    shapes = [(row['channels'], row['height'], row['width']) for row in rows]
    if len(set(shapes)) > 1:
        raise ValueError(f'to gather the global batch every process needs embeddings of one '
                         f'(D, H, W); got {shapes} in rank order')
    return ([row['batch'] for row in rows],
            max(max(row['max_label'] for row in rows) + 1, 1))
