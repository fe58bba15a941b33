from .contrast_head import ContrastHead, ContrastHeadMixin, contrast_head_class
from .projection_head import ProjectionHead

__all__ = ['ContrastHead', 'ContrastHeadMixin', 'ProjectionHead', 'contrast_head_class']
