"""The projection head φ that maps decoder features to the contrastive embedding space, and the
cosine of its unit embeddings to per-class unit vectors (prototypes or learnt class vectors)."""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

# Kaiming for the convs, 1/0 for norms. It runs after the decode head's own init_cfg (Normal,
# std 0.01 over the whole of ``conv_seg``, norm weights included), because BaseModule
# initialises a parent before its children.
DEFAULT_INIT = [
    dict(type='Kaiming', layer='Conv2d'),
    dict(type='Constant', val=1, bias=0, layer=['_BatchNorm', 'GroupNorm', 'LayerNorm']),
]


class ProjectionHead(BaseModule):
    """Stack of 1×1 convs: (N, in_channels, h, w) → (N, channels, h, w), not normalised.

    Every conv but the last is followed by the optional norm and the activation; the last conv
    is linear. The paper uses 3 layers of 256 without norm; the authors' released code puts
    BatchNorm + ReLU in the hidden layers (``norm_cfg=dict(type='BN')`` or ``'SyncBN'``).

    Args:
        in_channels: channels of the decoder features.
        channels: D, the embedding channels (width of every layer).
        num_convs: number of 1×1 convs, at least 1.
        norm_cfg: norm after each hidden conv; None for none.
        norm_per_view: in training, normalise the two halves of the batch — I and Î of
            ``PixConDataPreProcessor`` — with statistics of their own (the hidden layers run
            on each half), so that batch statistics carry nothing from one view to the other;
            eval mode (running statistics) is unchanged.
        act_cfg: activation after each hidden conv.
        init_cfg: see ``DEFAULT_INIT``.
    """

    def __init__(self, in_channels: int, channels: int = 256, num_convs: int = 3,
                 norm_cfg: Optional[dict] = None, norm_per_view: bool = False,
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Union[dict, List[dict], None] = DEFAULT_INIT) -> None:
        super().__init__(init_cfg)
        if num_convs < 1:
            raise ValueError(f'the projection head needs at least one conv, got {num_convs}')
        if norm_per_view and norm_cfg is None:
            raise ValueError('norm_per_view needs a norm_cfg: without norm there are no '
                             'statistics to keep per view')
        self.norm_per_view = norm_per_view
        hidden = [
            ConvModule(in_channels if i == 0 else channels, channels, 1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg) for i in range(num_convs - 1)
        ]
        last_in = in_channels if num_convs == 1 else channels
        self.convs = nn.Sequential(*hidden, nn.Conv2d(last_in, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, h, w) → (N, channels, h, w); with ``norm_per_view`` in training,
        N = 2B and rows [0, B) and [B, 2B) are normalised apart."""
        if not (self.norm_per_view and self.training):
            return self.convs(x)
        if x.shape[0] % 2:
            raise ValueError(f'norm_per_view needs the batch [I; Î], got an odd batch of '
                             f'{x.shape[0]}')
        hidden = torch.cat([self.convs[:-1](half) for half in x.chunk(2)])
        return self.convs[-1](hidden)


def class_cosines(embeddings: Tensor, class_vectors: Tensor) -> Tensor:
    """(N, D, h, w) unit embeddings and (C, D) unit class vectors → (N, C, h, w) cosines (the
    class vectors are cast to the embeddings' dtype)."""
    return torch.einsum('ndhw,cd->nchw', embeddings, class_vectors.to(embeddings.dtype))
