from .pixel_contrast_loss import PixelContrastLoss

__all__ = ['PixelContrastLoss']
