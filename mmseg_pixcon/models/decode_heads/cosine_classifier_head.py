"""CosineClassifierHead: a stage-2 head that keeps stage 1's projection and classifies by cosine.

The paper's stage 2 drops the projection head and trains a fresh softmax classifier on the
decoder features. This head is the alternative its stage-1 prototype readout suggests: keep the
projection φ, and classify each pixel by the cosine of its unit embedding to a learnt unit vector
per class, scaled by 1/τ (a "cosine classifier"), so cross-entropy trains the same normalised
embedding space the contrastive loss built. With :class:`PrototypeClassifierInitHook` the class
vectors start at the stage-1 class prototypes, so the first stage-2 prediction is the prototype
readout. Not in the paper: report it as a departure.

Config (stage 2 from a stage-1 ContrastHead checkpoint; every stage-1 tensor loads, the class
vectors start fresh)::

    decode_head=dict(type='CosineClassifierHead', base_type='DepthwiseSeparableASPPHead',
                     proj_channels=256, num_proj_convs=3, temperature=0.07)
    custom_hooks=[dict(type='LoadStageOneHook', checkpoint=...,
                       fresh=('decode_head.conv_seg.class_vectors', 'auxiliary_head')),
                  dict(type='PrototypeClassifierInitHook')]
"""
from contextlib import contextmanager
from typing import Iterator, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from ..losses.pixel_contrast_loss import check_temperature
from .head_class import mixed_head_class
from .projection_head import ProjectionHead, class_cosines

CLASS_PREFIX = 'CosineClassifier'


class CosineClassifier(ProjectionHead):
    """Projection head φ, then cosine scores: (N, in_channels, h, w) → (N, C, h, w) logits
    ``cos(φ(x), v_c) / τ``.

    Its convs carry the names of :class:`ProjectionHead`'s (``convs.*``), so a stage-1
    projection loads into it; the class vectors (``class_vectors``, (C, D)) are new.

    Args:
        in_channels: channels of the decoder features.
        num_classes: C.
        channels: D, the embedding channels.
        num_convs: 1×1 convs of the projection.
        temperature: τ; the stage-1 loss's τ keeps the logit scale the embeddings were
            trained at (cos 1 vs cos 0 is a logit gap of 1/τ).
        **kwargs: :class:`ProjectionHead`'s (norm_cfg, act_cfg, init_cfg).
    """

    def __init__(self, in_channels: int, num_classes: int, channels: int = 256,
                 num_convs: int = 3, temperature: float = 0.07, **kwargs) -> None:
        super().__init__(in_channels, channels, num_convs, **kwargs)
        check_temperature(temperature)
        self.temperature = temperature
        # Random unit directions until PrototypeClassifierInitHook sets the prototypes.
        self.class_vectors = nn.Parameter(F.normalize(torch.randn(num_classes, channels), dim=1))
        self._embedding_only = False

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, h, w) → (N, C, h, w) logits; inside :meth:`embedding_only`,
        (N, D, h, w) unit embeddings."""
        embeddings = F.normalize(super().forward(x), dim=1)
        if self._embedding_only:
            return embeddings
        return class_cosines(embeddings, F.normalize(self.class_vectors, dim=1)) / self.temperature

    @contextmanager
    def embedding_only(self) -> Iterator[None]:
        """Within the block, :meth:`forward` returns the unit embeddings, not the logits."""
        self._embedding_only = True
        try:
            yield
        finally:
            self._embedding_only = False

    def set_class_vectors(self, vectors: Tensor) -> None:
        """Overwrites the (C, D) class vectors with ``vectors`` normalised, except its all-zero
        rows (a class without pixels has no prototype): those classes keep their vector, as a
        zero vector would take a ~1e12 gradient through the normalisation."""
        if vectors.shape != self.class_vectors.shape:
            raise ValueError(f'class vectors must be {tuple(self.class_vectors.shape)} '
                             f'(num_classes, channels), got {tuple(vectors.shape)}')
        vectors = vectors.to(self.class_vectors)
        given = vectors.abs().sum(dim=1) > 0
        with torch.no_grad():
            self.class_vectors[given] = F.normalize(vectors[given], dim=1)


class CosineClassifierHeadMixin:
    """Turns a :class:`BaseDecodeHead` subclass into a head whose ``conv_seg`` is a
    :class:`CosineClassifier`; the stock forward, losses (cross-entropy) and prediction are
    unchanged, they just read cosine logits.

    Args:
        proj_channels: D, the embedding channels.
        num_proj_convs: 1×1 convs of the projection.
        proj_norm_cfg: norm after the projection's hidden convs (as in stage 1).
        temperature: τ of the cosine logits.
        **kwargs: the stock head's arguments.
    """

    def __init__(self, proj_channels: int = 256, num_proj_convs: int = 3,
                 proj_norm_cfg: Optional[dict] = None, temperature: float = 0.07,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if self.out_channels != self.num_classes:
            raise ValueError(f'CosineClassifierHead scores each of the {self.num_classes} '
                             f'classes with a softmax; out_channels={self.out_channels} (a '
                             'sigmoid head) is not supported')
        self.proj_channels = proj_channels
        self.conv_seg = CosineClassifier(self.channels, self.num_classes, proj_channels,
                                         num_proj_convs, temperature, norm_cfg=proj_norm_cfg,
                                         act_cfg=self.act_cfg)

    def embed(self, inputs: Tuple[Tensor, ...]) -> Tensor:
        """Backbone features → (N, D, h, w) unit embeddings at the decoder's grid."""
        with self.conv_seg.embedding_only():
            return self.forward(inputs)

    def set_prototypes(self, prototypes: Tensor) -> None:
        """Starts the class vectors at (C, D) class prototypes (all-zero rows, classes without
        pixels, keep their vector)."""
        self.conv_seg.set_class_vectors(prototypes)


@MODELS.register_module(name='CosineClassifierHead')
def CosineClassifierHead(base_type: Union[str, type], **kwargs) -> BaseDecodeHead:  # noqa: N802
    """Builds ``CosineClassifier<base_type>`` (e.g. CosineClassifierDepthwiseSeparableASPPHead).

    Args:
        base_type: a decode head registered in mmseg's MODELS (name) or the class itself.
        **kwargs: :class:`CosineClassifierHeadMixin`'s arguments and the stock head's.
    """
    return mixed_head_class(CosineClassifierHeadMixin, base_type, CLASS_PREFIX,
                            globals())(**kwargs)


__all__ = ['CosineClassifier', 'CosineClassifierHead', 'CosineClassifierHeadMixin']
