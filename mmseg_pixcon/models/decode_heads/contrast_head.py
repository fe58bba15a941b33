"""ContrastHead: any stock decode head with its classifier replaced by a projection head.

Stage 1 of the recipe (Zhao et al., "Contrastive Learning for Label Efficient Semantic
Segmentation", ICCV 2021) trains backbone + decoder with the pixel contrastive loss on unit-norm
embeddings; stage 2 is the stock model fine-tuned with cross-entropy. The stock head's layers
keep their names (``decode_head.aspp_modules...``, ``decode_head.bottleneck...``), so every
stage-1 tensor but ``conv_seg`` loads into the stage-2 model unchanged.

Config (a stage-1 config inherits the stock decode head and changes three things)::

    decode_head=dict(type='ContrastHead', base_type='DepthwiseSeparableASPPHead',
                     proj_channels=256, num_proj_convs=3, proj_norm_cfg=None,
                     loss_resolution=None,
                     loss_decode=dict(_delete_=True, type='PixelContrastLoss', ...))

``ContrastHead`` builds ``Contrast<base_type>``, the stock class with :class:`ContrastHeadMixin`
in front: the stock heads of the recipe's models are classes of their own below (registered, so
``type='ContrastASPPHead'`` works too), and any other BaseDecodeHead gets the same subclass made
on first use.
"""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.models.decode_heads import ASPPHead, DepthwiseSeparableASPPHead, FCNHead, PSPHead
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from ..grid_resize import resize_features, resize_labels
from ..losses import PixelContrastLoss
from .head_class import mixed_head_class
from .projection_head import ProjectionHead, class_cosines

CLASS_PREFIX = 'Contrast'


class ContrastHeadMixin:
    """Turns a :class:`BaseDecodeHead` subclass into a contrastive embedding head.

    ``conv_seg`` becomes a :class:`ProjectionHead`, and ``cls_seg`` (stock dropout, then
    ``conv_seg``) L2-normalises its output, so ``forward`` returns embeddings
    (N, proj_channels, h, w) of unit norm per pixel. Any head whose forward ends in ``cls_seg``
    works unchanged (tested: FCNHead, PSPHead, ASPPHead, DepthwiseSeparableASPPHead). The
    stock ``dropout_ratio`` (0.1 in mmseg's configs) still drops decoder features before the
    projection; set it to 0 for the paper's plain projection.

    Training (:meth:`loss_by_feat`) expects the batch [I; Î] of ``PixConDataPreProcessor``: 2B
    embeddings and 2B samples, sample ``B + b`` the distorted view of sample ``b``. It works as
    ``decode_head`` (stage 1) and as ``auxiliary_head`` beside a cross-entropy decode head (joint
    training); EncoderDecoder prefixes the loss with ``decode.`` or ``aux.``.

    Test time (:meth:`predict_by_feat`): once class prototypes are set (by ``PrototypeHook``),
    the output is the cosine similarity of each pixel to each class prototype,
    (N, num_classes, H, W), so EncoderDecoder's post-processing and IoU metrics work as for a
    stock head. Without prototypes the output is the embeddings themselves, bilinearly resized
    (N, proj_channels, H, W), not re-normalised; ``PrototypeIoUMetric`` refuses them.

    Args:
        proj_channels: D, the embedding channels.
        num_proj_convs: 1×1 convs of the projection head.
        proj_norm_cfg: norm after its hidden convs (None: the paper; BN: the released code).
        proj_norm_per_view: normalise I and Î with statistics of their own in training (see
            :class:`ProjectionHead`).
        loss_resolution: (h', w') at which the loss is computed; None keeps the decoder's
            grid. As in the released code (its ``resize_size``), the training forward
            (:meth:`loss`) resizes the decoder features (bilinear) before the projection,
            and the labels by nearest neighbour; so both the projection and
            the loss run on h'·w' pixels per image. Test-time forwards keep the full grid.
            Embeddings given to :meth:`loss_by_feat` directly at another size are resized
            there (bilinear, then re-normalised). Features are resized under the head's
            ``align_corners`` (mmseg's rule for its logits) and each label cell takes the
            pixel nearest to its cell under the same rule
            (:mod:`mmseg_pixcon.models.grid_resize`), so a cell's embedding and its label
            describe the same place to within half a pixel. The released code resizes
            both with aligned corners, but its labels by TF's nearest rule.
        **kwargs: the stock head's arguments; ``loss_decode`` is the contrastive loss (a
            ``PixelContrastLoss`` config or a list of them), which takes the head's
            ``num_classes``.
    """

    def __init__(self, proj_channels: int = 256, num_proj_convs: int = 3,
                 proj_norm_cfg: Optional[dict] = None, proj_norm_per_view: bool = False,
                 loss_resolution: Optional[Sequence[int]] = None, **kwargs) -> None:
        if kwargs.get('sampler') is not None:
            raise ValueError('ContrastHead takes no pixel sampler: it samples cross-entropy '
                             'logits, which a contrastive head does not produce')
        super().__init__(**kwargs)
        if loss_resolution is not None and len(loss_resolution) != 2:
            raise ValueError(f'loss_resolution must be (h, w) or None, got {loss_resolution}')
        self.loss_resolution = None if loss_resolution is None else tuple(loss_resolution)
        self.proj_channels = proj_channels
        self.conv_seg = ProjectionHead(self.channels, proj_channels, num_proj_convs,
                                       norm_cfg=proj_norm_cfg,
                                       norm_per_view=proj_norm_per_view, act_cfg=self.act_cfg)
        self._bind_losses()
        # Non-persistent: prototypes are recomputed for every evaluation and must neither
        # enter checkpoints nor be expected by strict loading.
        self.register_buffer('prototypes', None, persistent=False)
        # Set only while :meth:`loss` runs forward: the size cls_seg resizes features to.
        self._projection_size: Optional[Tuple[int, int]] = None

    def _losses(self) -> List[nn.Module]:
        return list(self.loss_decode) if isinstance(self.loss_decode, nn.ModuleList) \
            else [self.loss_decode]

    def _bind_losses(self) -> None:
        """The losses share the head's ``ignore_index`` (refused if set otherwise) and
        ``num_classes`` (given to a PixelContrastLoss that has none): a fixed class count
        keeps every shape of the loss the same from step to step."""
        for loss in self._losses():
            loss_ignore = getattr(loss, 'ignore_index', self.ignore_index)
            if loss_ignore != self.ignore_index:
                raise ValueError(f'{type(loss).__name__}.ignore_index={loss_ignore} differs from '
                                 f'the head ignore_index={self.ignore_index}')
            if isinstance(loss, PixelContrastLoss):
                if loss.num_classes is None:
                    loss.num_classes = self.num_classes
                elif loss.num_classes != self.num_classes:
                    raise ValueError(f'PixelContrastLoss.num_classes={loss.num_classes} '
                                     f'differs from the head num_classes={self.num_classes}')

    def cls_seg(self, feat: Tensor) -> Tensor:
        """(N, channels, h, w) decoder features → (N, D, h, w) unit-norm embeddings;
        inside :meth:`loss` with ``loss_resolution`` set, (N, D, h', w')."""
        if self._projection_size is not None:
            feat = resize_features(feat, self._projection_size, self.align_corners)
        return F.normalize(super().cls_seg(feat), dim=1)

    def loss(self, inputs: Tuple[Tensor, ...], batch_data_samples: Sequence[SegDataSample],
             train_cfg: dict) -> Dict[str, Tensor]:
        """Stock :meth:`BaseDecodeHead.loss`, with the projection at ``loss_resolution``."""
        with self.projecting_at_loss_resolution():
            seg_logits = self.forward(inputs)
        return self.loss_by_feat(seg_logits, batch_data_samples)

    @contextmanager
    def projecting_at_loss_resolution(self) -> Iterator[None]:
        """Within the block, :meth:`cls_seg` resizes features to ``loss_resolution`` (if set)
        before projecting, as the training forward does."""
        self._projection_size = self.loss_resolution
        try:
            yield
        finally:
            self._projection_size = None

    def loss_by_feat(self, seg_logits: Tensor,
                     batch_data_samples: Sequence[SegDataSample]) -> Dict[str, Tensor]:
        """Contrastive loss between the two halves of the batch [I; Î].

        Args:
            seg_logits: (2B, D, h, w) unit-norm embeddings from :meth:`forward`.
            batch_data_samples: 2B samples with ``gt_sem_seg`` (1, H, W).

        Returns:
            ``{loss_name: scalar}`` for each loss in ``loss_decode`` (same names summed), and
            for a PixelContrastLoss also its count of valid anchors (``pixcon_anchors``,
            logged, not a loss). Under DDP the logged loss is the global one
            (:meth:`PixelContrastLoss.loss_items`).
        """
        check_two_views(seg_logits.shape[0], batch_data_samples)
        embeddings = seg_logits
        if self.loss_resolution is not None and \
                tuple(embeddings.shape[2:]) != self.loss_resolution:
            embeddings = F.normalize(
                resize_features(embeddings, self.loss_resolution, self.align_corners), dim=1)
        labels = resize_labels(self._stack_batch_gt(batch_data_samples).squeeze(1),
                               tuple(embeddings.shape[2:]), self.align_corners)
        half = embeddings.shape[0] // 2
        losses: Dict[str, Tensor] = {}
        for loss in self._losses():
            views = (embeddings[:half], labels[:half], embeddings[half:], labels[half:])
            items = loss.loss_items(*views) if isinstance(loss, PixelContrastLoss) \
                else {loss.loss_name: loss(*views)}
            for name, value in items.items():
                losses[name] = losses[name] + value if name in losses else value
        return losses

    def set_prototypes(self, prototypes: Tensor) -> None:
        """Stores (num_classes, D) class prototypes, L2-normalised (an all-zero row, a class
        without pixels, stays zero and scores 0 everywhere)."""
        expected = (self.num_classes, self.proj_channels)
        if tuple(prototypes.shape) != expected:
            raise ValueError(f'prototypes must be {expected} (num_classes, proj_channels), '
                             f'got {tuple(prototypes.shape)}')
        device = next(self.parameters()).device
        self.prototypes = F.normalize(prototypes.detach().float(), dim=1).to(device)

    def class_scores(self, embeddings: Tensor) -> Tensor:
        """(N, D, h, w) unit-norm embeddings → (N, num_classes, h, w) cosine similarities to the
        prototypes."""
        if self.prototypes is None:
            raise ValueError('no class prototypes set; add PrototypeHook to custom_hooks')
        return class_cosines(embeddings, self.prototypes)

    def embed(self, inputs: Tuple[Tensor, ...]) -> Tensor:
        """Backbone features → (N, D, h, w) unit-norm embeddings at the decoder's grid (what
        :class:`PrototypeHook` averages)."""
        return self.forward(inputs)

    def predict_by_feat(self, seg_logits: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """(N, D, h, w) embeddings → class scores (N, num_classes, H, W) if prototypes are set,
        else the embeddings (N, D, H, W); resized like the stock head."""
        if self.prototypes is not None:
            seg_logits = self.class_scores(seg_logits)
        return super().predict_by_feat(seg_logits, batch_img_metas)


def check_two_views(num_embeddings: int, samples: Sequence[SegDataSample]) -> None:
    """Raises ValueError unless the batch looks like [I; Î]: an even count of embedding maps
    equal to the sample count, and sample ``B + b`` of the same image as sample ``b`` (when
    the samples carry ``img_path``)."""
    fix = ("ContrastHead needs the batch [I; Î]: set model.data_preprocessor to "
           "dict(type='PixConDataPreProcessor', num_views=2, ...)")
    if num_embeddings != len(samples):
        raise ValueError(f'{num_embeddings} embedding maps but {len(samples)} data samples. {fix}')
    if num_embeddings % 2:
        raise ValueError(f'odd batch of {num_embeddings} images. {fix}')
    half = num_embeddings // 2
    for b in range(half):
        first, second = samples[b].get('img_path'), samples[half + b].get('img_path')
        if first is not None and second is not None and first != second:
            raise ValueError(f'samples {b} and {half + b} are different images ({first}, '
                             f'{second}), not an image and its view. {fix}')


@MODELS.register_module()
class ContrastFCNHead(ContrastHeadMixin, FCNHead):
    """FCNHead with a contrastive projection head (e.g. as ``auxiliary_head``)."""


@MODELS.register_module()
class ContrastPSPHead(ContrastHeadMixin, PSPHead):
    """PSPHead (PSPNet) with a contrastive projection head."""


@MODELS.register_module()
class ContrastASPPHead(ContrastHeadMixin, ASPPHead):
    """ASPPHead (DeepLabV3) with a contrastive projection head."""


@MODELS.register_module()
class ContrastDepthwiseSeparableASPPHead(ContrastHeadMixin, DepthwiseSeparableASPPHead):
    """DepthwiseSeparableASPPHead (DeepLabV3+) with a contrastive projection head."""


@MODELS.register_module(name='ContrastHead')
def ContrastHead(base_type: Union[str, type], **kwargs) -> BaseDecodeHead:  # noqa: N802
    """Builds ``Contrast<base_type>`` = (ContrastHeadMixin, base_type): one of the classes
    above for the stock heads, else made once per base (:func:`mixed_head_class`).

    Named like a class because configs and callers use it as one.

    Args:
        base_type: a decode head registered in mmseg's MODELS (name) or the class itself.
        **kwargs: :class:`ContrastHeadMixin`'s arguments and the stock head's.
    """
    return mixed_head_class(ContrastHeadMixin, base_type, CLASS_PREFIX, globals())(**kwargs)


__all__ = ['ContrastASPPHead', 'ContrastDepthwiseSeparableASPPHead', 'ContrastFCNHead',
           'ContrastHead', 'ContrastHeadMixin', 'ContrastPSPHead']
