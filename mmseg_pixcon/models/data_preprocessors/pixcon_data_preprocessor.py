"""SegDataPreProcessor that appends a distorted second view Î of every training image."""
import copy
from collections import defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.dist import get_rank
from torch import Tensor

from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from .second_view import DEFAULT_DISTORTION, SecondView

_BGR_RGB = [2, 1, 0]  # its own inverse: BGR -> RGB and RGB -> BGR


@MODELS.register_module()
class PixConDataPreProcessor(SegDataPreProcessor):
    """Builds the batch [I; Î] for the pixel contrastive loss (Zhao et al., ICCV 2021).

    In training, every image I gets a distorted copy Î, drawn on the raw 0–255 pixels in RGB
    order (after ``bgr_to_rgb`` when set) before the stock normalisation and padding, which then
    treat I and Î alike. The output is ``inputs`` (2B, 3, H, W) = cat([I, Î]) and
    ``data_samples`` = the B originals followed by B deep copies: sample ``B + b`` is the view of
    sample ``b`` and carries its labels, transformed like Î when flip/scale-crop are on (the
    frame a zoom-out leaves empty is labelled ``seg_pad_val``). Evaluation (``training=False``)
    is exactly :class:`SegDataPreProcessor`.

    Args:
        num_views: 2 appends Î; 1 turns the second view off (stock behaviour in training too).
        distort: the distortions, see :mod:`.second_view`; None means ``DEFAULT_DISTORTION``
            (SimCLR colour jitter 0.4/0.4/0.4/0.1 with p=0.8, grayscale with p=0.2); ``{}``
            makes Î an exact copy of I.
        seed: seeds this preprocessor's own CPU generator (plus the rank, so that ranks differ),
            which draws the per-image parameters; Î is then reproducible across calls and
            devices. None draws from torch's global generator (seeded by the runner's
            ``randomness``).
        non_blocking: copy the batch to the device without waiting for it (mmengine's
            ``BaseDataPreprocessor`` option, which SegDataPreProcessor does not expose). The
            parameters of Î go the same way, so building Î never blocks the host.
        **kwargs: the arguments of :class:`SegDataPreProcessor`. Raw images are taken to be
            BGR (mmcv's loader) unless ``rgb_to_bgr=True`` says they are RGB.
    """

    def __init__(self, num_views: int = 2, distort: Optional[dict] = None,
                 seed: Optional[int] = None, non_blocking: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self._non_blocking = non_blocking
        if num_views not in (1, 2):
            raise ValueError(f'num_views must be 1 or 2, got {num_views}')
        self.num_views = num_views
        self.second_view = SecondView(DEFAULT_DISTORTION if distort is None else distort)
        self.raw_is_bgr = not kwargs.get('rgb_to_bgr', False)
        self.model_is_bgr = not kwargs.get('bgr_to_rgb', False)
        self.generator = None if seed is None else torch.Generator().manual_seed(seed + get_rank())

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Returns ``dict(inputs, data_samples)``: (2B, 3, H, W) and 2B samples in training with
        the second view on, else SegDataPreProcessor's output."""
        if not training or self.num_views == 1:
            return super().forward(data, training)
        data = self.cast_data(data)
        samples = data.get('data_samples')
        if samples is None:
            raise ValueError('training needs data_samples: Î takes the labels of I')
        inputs = list(data['inputs'])
        views, view_samples = self.make_views(inputs, samples)
        return super().forward(
            dict(inputs=inputs + views, data_samples=list(samples) + view_samples), training)

    def make_views(self, inputs: List[Tensor],
                   samples: Sequence[SegDataSample]) -> Tuple[List[Tensor], List[SegDataSample]]:
        """Î of each raw image (3, H_i, W_i) — float, raw channel order, in [0, 255] — and deep
        copies of the samples carrying Î's labels. Images of equal size are distorted as one
        batch."""
        if any(img.dim() != 3 or img.shape[0] != 3 for img in inputs):
            raise ValueError('the second view needs 3-channel (3, H, W) images, got shapes '
                             f'{[tuple(img.shape) for img in inputs]}')
        copies = [copy.deepcopy(sample) for sample in samples]
        if self.second_view.geometric:
            _check_only_sem_seg(copies)
        params = self.second_view.sample(len(inputs), self.generator)
        fill = self.raw_fill().to(inputs[0].device, non_blocking=True)
        groups = defaultdict(list)
        for i, img in enumerate(inputs):
            groups[img.shape].append(i)
        views: List[Tensor] = [torch.empty(0)] * len(inputs)
        for members in groups.values():
            img = torch.stack([inputs[i] for i in members]).float()
            label = torch.stack([copies[i].gt_sem_seg.data for i in members])
            index = torch.tensor(members)
            rows = {key: value.index_select(0, index) for key, value in params.items()}
            img, label = self.second_view.apply(self._rgb(img, self.raw_is_bgr), label, rows,
                                                fill, self.seg_pad_val)
            img = self._rgb(img, self.raw_is_bgr)
            for i, view, view_label in zip(members, img, label):
                views[i] = view
                copies[i].gt_sem_seg.data = view_label
        return views, copies

    def raw_fill(self) -> Tensor:
        """(3,) RGB raw pixel value that normalises to ``pad_val``, for the border a zoom-out
        leaves, so that it looks like the stock padding; computed where ``mean`` lives (no
        copy to the host)."""
        if not self._enable_normalize:
            return torch.full((3, ), float(self.pad_val), device=self.device)
        fill = (self.mean + self.pad_val * self.std).flatten().expand(3)
        return self._rgb(fill.view(1, 3, 1, 1), self.model_is_bgr).flatten()

    @staticmethod
    def _rgb(img: Tensor, is_bgr: bool) -> Tensor:
        """(N, 3, H, W) to RGB from the given order, or back (the swap is its own inverse)."""
        return img[:, _BGR_RGB] if is_bgr else img


def _check_only_sem_seg(samples: Sequence[SegDataSample]) -> None:
    """Flip and scale-crop move only gt_sem_seg; another pixel-aligned target would silently
    stop matching Î."""
    for sample in samples:
        others = [key for key in ('gt_edge_map', 'gt_depth_map') if key in sample]
        if others:
            raise ValueError(f'geometric distortions transform only gt_sem_seg, but the samples '
                             f'also carry {others}; turn flip/scale_crop off')
