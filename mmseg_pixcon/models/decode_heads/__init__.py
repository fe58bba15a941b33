from .contrast_head import (ContrastASPPHead, ContrastDepthwiseSeparableASPPHead,
                            ContrastFCNHead, ContrastHead, ContrastHeadMixin, ContrastPSPHead,
                            contrast_head_class)
from .projection_head import ProjectionHead

__all__ = ['ContrastASPPHead', 'ContrastDepthwiseSeparableASPPHead', 'ContrastFCNHead',
           'ContrastHead', 'ContrastHeadMixin', 'ContrastPSPHead', 'ProjectionHead',
           'contrast_head_class']
