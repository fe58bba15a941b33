"""PixelContrastLoss: label-based pixel contrastive loss between an image and its distortion.

Zhao et al., "Contrastive Learning for Label Efficient Semantic Segmentation", ICCV 2021.
"""
from typing import Dict, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from ..grid_resize import resize_labels
from .distributed import (broadcast_from_first, gather_rows, gather_views, sum_over_processes,
                          world)
from .input_checks import check_rows, input_problem, local_stats, problem_row
from .official import official_loss
from .paper import paper_loss
from .partners import PARTNER_RULES, select_partners
from .pixel_sampling import balanced_sample_index
from .tiled_contrast import IGNORED
from .views import View, Views

MODES = ('within', 'cross', 'batch')
FORMULATIONS = {'paper': paper_loss, 'official': official_loss}


class _Result(NamedTuple):
    loss: Tensor        # what this process backpropagates
    anchors: Tensor     # valid anchors it scored
    world_size: int     # processes of the group (1 without one)


@MODELS.register_module()
class PixelContrastLoss(nn.Module):
    """Supervised pixel contrastive loss between images I and their distorted views Î.

    Exact over all labelled pixels by default: the similarity matrix is never held whole;
    the kernel (:mod:`.tiled_contrast`) streams it in ``tile_size``² tiles and recomputes
    them in backward, in float32 (float64 inputs stay float64; autocast is switched off
    inside, so fp16/bf16 embeddings cannot overflow ``exp(1/τ)``). Bad input — NaN or Inf
    embeddings, wrong types or shapes, labels outside [0, num_classes) other than
    ``ignore_index``, logits too large for float32 (|f|²/τ > 1e20) — raises a ValueError
    naming it, on every process of a distributed launch together.

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

    Distributed training (a process group of W > 1 processes): every process checks every
    process's input statistics (one small all-gather per call, in every mode), so bad input
    on one process raises the same ValueError on all of them, none left waiting in a
    collective. With ``gather=True``, in modes 'cross' and 'batch' the images are those of
    the global batch — every process's embeddings and labels, gathered in rank order
    (:mod:`.distributed`), gradients flowing back to the process that owns each pixel;
    partners are drawn over the global batch on rank 0 and broadcast. Each process scores
    the anchors of its own images against the global contrast sets and returns W × their
    share of the global loss (normalised by counts over the global batch), so the mean over
    processes — what DDP's gradient averaging optimises — is exactly the loss of one process
    holding the whole batch; the gradient a process gets for its own embeddings is W × that
    loss's gradient for them. Memory: every process holds the gathered embeddings, 2 ×
    global batch × pixels × D floats (after any ``max_pixels_per_image`` sampling), and the
    kernel's tiles — never a similarity matrix. Mode 'within' (and ``gather=False``) gathers
    no embeddings: each process returns the loss of its own images, as stock losses average
    over the GPU's own batch. The mean over processes is the global loss when the processes
    hold equally many images ('official', which counts every image) or equally many images
    with a valid anchor ('paper'; so whenever every image has a labelled pixel with a
    positive). :meth:`loss_items`, what ContrastHead logs, gives every process that mean
    over processes (in modes 'cross' and 'batch' the global loss) and the global count of
    valid anchors.

    Precision: the kernel's matmuls run in IEEE float32 (float64 for float64 inputs)
    whatever the global TF32 / ``torch.set_float32_matmul_precision`` setting (TF32 keeps
    10 mantissa bits: ~1e-3 relative error per logit, 0.014 absolute at τ = 0.07);
    :func:`.tiled_contrast.ieee_matmuls` sets the CUDA and MKLDNN matmul precision to
    ``'ieee'`` while they run. There is no option to allow TF32.

    Host synchronisation: one read per call (the input statistics), none elsewhere. With
    ``num_classes`` given (ContrastHead passes its own) every shape is fixed by the input
    shapes; without it the class count is the largest label of the call.

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
        num_classes (int, optional): labels lie in [0, num_classes); a larger one raises
            ValueError. ContrastHead sets its own. None: the largest label of each call + 1.
            Default: None.
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
                 gather: bool = True,
                 num_classes: Optional[int] = None) -> None:
        super().__init__()
        _check_choice('mode', mode, MODES)
        _check_choice('formulation', formulation, tuple(FORMULATIONS))
        _check_choice('partner', partner, PARTNER_RULES)
        check_temperature(temperature)
        if tile_size is not None and tile_size < 1:
            raise ValueError(f'tile_size must be >= 1, got {tile_size}')
        if max_pixels_per_image is not None and max_pixels_per_image < 1:
            raise ValueError(
                f'max_pixels_per_image must be >= 1 or None, got {max_pixels_per_image}')
        if num_classes is not None and num_classes < 1:
            raise ValueError(f'num_classes must be >= 1 or None, got {num_classes}')
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
        self.num_classes = num_classes
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
        return self._contrast(feats, labels, feats_aug, labels_aug).loss

    def loss_items(self, feats: Tensor, labels: Tensor, feats_aug: Tensor,
                   labels_aug: Tensor) -> Dict[str, Tensor]:
        """The loss and what to log beside it; arguments as :meth:`forward`.

        Returns:
            ``{loss_name: loss, anchors_name: valid anchors}``. The loss has the gradient of
            :meth:`forward`'s value; under a distributed launch its value is the mean of
            that over the processes (what DDP's averaging optimises: in modes 'cross' and
            'batch' the global-batch loss) and the anchors are counted over all of them —
            one all-reduce, for logging only. The count (a float) has no 'loss' in its name,
            so mmengine logs it without adding it to the total loss.
        """
        loss, anchors, world_size = self._contrast(feats, labels, feats_aug, labels_aug)
        anchors = anchors.double()
        if world_size > 1:
            mean, anchors = sum_over_processes(
                torch.stack((loss.detach().double() / world_size, anchors)))
            loss = loss + (mean.to(loss.dtype) - loss).detach()  # the value only
        return {self.loss_name: loss, self.anchors_name: anchors.float()}

    def _contrast(self, feats: Tensor, labels: Tensor, feats_aug: Tensor,
                  labels_aug: Tensor) -> _Result:
        """Checks (with every process), then this process's loss and its valid anchors."""
        rank, world_size = world()
        gather = self.gather and self.mode != 'within' and world_size > 1
        problem = input_problem(feats, labels, feats_aug, labels_aug)
        if problem is not None:
            if world_size == 1:
                raise ValueError(problem)
            # The others must hear of it: it travels in this process's row.
            row = problem_row(problem, getattr(feats, 'device', torch.device('cpu')))
        else:
            labels, labels_aug = (resize_labels(y, tuple(feats.shape[2:]))
                                  for y in (labels, labels_aug))
            row = local_stats(feats, feats_aug, labels, labels_aug, self.ignore_index,
                              self.temperature)
        # The one host read of the call; every process checks every process's row.
        checked = check_rows((gather_rows(row) if world_size > 1 else row[None]).tolist(),
                             num_classes=self.num_classes, ignore_index=self.ignore_index,
                             temperature=self.temperature, same_shape=gather)
        num_classes = self.num_classes or max(checked.max_label + 1, 1)
        labels, labels_aug = (torch.where(y == self.ignore_index, IGNORED, y)
                              for y in (labels, labels_aug))
        dtype = torch.float64 if feats.dtype == torch.float64 else torch.float32
        with torch.autocast(device_type=feats.device.type, enabled=False):
            partners = None
            if self.mode == 'cross':
                partners = select_partners(
                    sum(checked.batch_sizes) if gather else feats.shape[0], self.partner,
                    feats.device)
                if gather and self.partner == 'shuffle':
                    broadcast_from_first(partners)
            batch = Views(View(*self._flatten(feats, labels, dtype)),
                          View(*self._flatten(feats_aug, labels_aug, dtype)))
            mine = slice(None)
            if gather:
                batch, mine = gather_views(batch, checked.batch_sizes, rank)
            batch = batch._replace(partners=partners)
            # The formulations score the anchors of ``own`` against contrast sets of ``batch``.
            own = batch.part(mine) if gather else batch
            result = FORMULATIONS[self.formulation](
                own, batch, mode=self.mode, symmetric=self.symmetric,
                temperature=self.temperature, num_classes=num_classes,
                tile_size=self.tile_size or _default_tile_size(feats.device))
        # DDP averages the processes' gradients: W × each share makes that average the
        # gradient of the global-batch loss.
        scale = world_size if gather else 1
        return _Result(self.loss_weight * scale * result.loss, result.anchors, world_size)

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

    @property
    def anchors_name(self) -> str:
        """Name of the logged count of valid anchors: 'pixcon_anchors' for 'loss_pixcon'."""
        return self._loss_name[len('loss_'):] + '_anchors'


def _default_tile_size(device: torch.device) -> int:
    return 512 if device.type == 'cpu' else 2048


def _check_choice(name: str, value: str, choices: Tuple[str, ...]) -> None:
    """ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')


def check_temperature(temperature: float) -> None:
    """ValueError unless τ is finite and > 0 (the logits are cosines ÷ τ)."""
    if not 0 < temperature < float('inf'):
        raise ValueError(f'temperature must be finite and > 0, got {temperature}')
