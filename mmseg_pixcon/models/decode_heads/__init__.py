from .contrast_head import (ContrastASPPHead, ContrastDepthwiseSeparableASPPHead,
                            ContrastFCNHead, ContrastHead, ContrastHeadMixin, ContrastPSPHead)
from .cosine_classifier_head import (CosineClassifier, CosineClassifierHead,
                                     CosineClassifierHeadMixin)
from .projection_head import ProjectionHead

__all__ = ['ContrastASPPHead', 'ContrastDepthwiseSeparableASPPHead', 'ContrastFCNHead',
           'ContrastHead', 'ContrastHeadMixin', 'ContrastPSPHead', 'CosineClassifier',
           'CosineClassifierHead', 'CosineClassifierHeadMixin', 'ProjectionHead']
