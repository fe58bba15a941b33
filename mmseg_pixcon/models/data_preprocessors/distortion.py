"""Batched photometric distortions of RGB images on the 0–255 scale.

Every function takes ``img`` of shape (N, 3, H, W), float, channels in RGB order, values in
[0, 255], and per-image parameters of shape (N,); it returns a new (N, 3, H, W) tensor on the
same device, clamped to [0, 255]. The semantics follow torchvision's ``ColorJitter`` /
``Grayscale`` / ``GaussianBlur`` (the transforms SimCLR uses), with one factor per image so a
whole batch is distorted in a few kernels.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

MAX_VALUE = 255.0
# ITU-R 601-2 luma, the weights of torchvision's rgb_to_grayscale and PIL's convert('L').
LUMA_RGB = (0.299, 0.587, 0.114)


def _per_image(values: Tensor) -> Tensor:
    """(N,) -> (N, 1, 1, 1), to broadcast one value per image."""
    return values.view(-1, 1, 1, 1)


def _blend(img: Tensor, other: Tensor, ratio: Tensor) -> Tensor:
    """ratio * img + (1 - ratio) * other, clamped; ratio (N,), other broadcastable to img."""
    ratio = _per_image(ratio)
    return (ratio * img + (1 - ratio) * other).clamp(0, MAX_VALUE)


def rgb_to_grayscale(img: Tensor) -> Tensor:
    """Luma of (N, 3, H, W) RGB -> (N, 1, H, W)."""
    weights = img.new_tensor(LUMA_RGB).view(1, 3, 1, 1)
    return (img * weights).sum(dim=1, keepdim=True)


def to_grayscale(img: Tensor) -> Tensor:
    """(N, 3, H, W) RGB -> (N, 3, H, W) with the luma in all three channels."""
    return rgb_to_grayscale(img).expand_as(img).contiguous()


def adjust_brightness(img: Tensor, factor: Tensor) -> Tensor:
    """Scales intensities by factor (N,); 1 is the identity, 0 gives black."""
    return (img * _per_image(factor)).clamp(0, MAX_VALUE)


def adjust_contrast(img: Tensor, factor: Tensor) -> Tensor:
    """Blends with the image's mean luma (one grey level per image); 1 is the identity."""
    mean = rgb_to_grayscale(img).mean(dim=(1, 2, 3), keepdim=True)
    return _blend(img, mean, factor)


def adjust_saturation(img: Tensor, factor: Tensor) -> Tensor:
    """Blends with the per-pixel luma; 1 is the identity, 0 gives grey."""
    return _blend(img, rgb_to_grayscale(img), factor)


def rgb_to_hsv(img: Tensor) -> Tensor:
    """(N, 3, H, W) RGB -> (N, 3, H, W) HSV; H in [0, 1) (fraction of the circle), S in [0, 1],
    V on the input's scale. Grey pixels (max == min) get H = 0."""
    r, g, b = img.unbind(dim=1)
    maxc, _ = img.max(dim=1)
    minc, _ = img.min(dim=1)
    delta = maxc - minc
    grey = delta == 0
    # Safe denominators: the grey and black pixels they would divide by zero are masked below.
    safe_delta = torch.where(grey, torch.ones_like(delta), delta)
    sat = torch.where(maxc > 0, delta / torch.where(maxc > 0, maxc, torch.ones_like(maxc)),
                      torch.zeros_like(maxc))
    # The sector formula: which channel is the maximum decides the offset on the hue circle.
    hue_r = ((g - b) / safe_delta) % 6
    hue_g = (b - r) / safe_delta + 2
    hue_b = (r - g) / safe_delta + 4
    hue = torch.where(maxc == r, hue_r, torch.where(maxc == g, hue_g, hue_b))
    hue = torch.where(grey, torch.zeros_like(hue), hue) / 6
    return torch.stack((hue, sat, maxc), dim=1)


def hsv_to_rgb(hsv: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_hsv`: (N, 3, H, W) HSV -> (N, 3, H, W) RGB on V's scale."""
    hue, sat, val = hsv.unbind(dim=1)
    # Closed form f(n) = V - V S clamp(min(k, 4 - k), 0, 1), k = (n + 6 H) mod 6, with n = 5, 3, 1
    # for R, G, B: one expression per channel instead of six sector cases.
    n = hsv.new_tensor((5.0, 3.0, 1.0)).view(1, 3, 1, 1)
    k = (n + 6 * hue.unsqueeze(1)) % 6
    ramp = torch.minimum(k, 4 - k).clamp(0, 1)
    return val.unsqueeze(1) * (1 - sat.unsqueeze(1) * ramp)


def adjust_hue(img: Tensor, shift: Tensor) -> Tensor:
    """Rotates the hue by shift (N,), a fraction of the circle in [-0.5, 0.5] (torchvision's
    ``hue_factor``); 1/3 turns red into green. Done exactly in HSV, so S and V are kept."""
    hsv = rgb_to_hsv(img)
    hue = (hsv[:, 0] + shift.view(-1, 1, 1)) % 1.0
    hsv = torch.cat((hue.unsqueeze(1), hsv[:, 1:]), dim=1)
    return hsv_to_rgb(hsv).clamp(0, MAX_VALUE)


def gaussian_blur(img: Tensor, sigma: Tensor, kernel_size: int) -> Tensor:
    """Separable Gaussian blur with one sigma (N,) per image and an odd kernel_size; borders are
    replicated (reflection would fail on images smaller than the kernel)."""
    num, channels, height, width = img.shape
    radius = kernel_size // 2
    offsets = torch.arange(-radius, radius + 1, device=img.device, dtype=img.dtype)
    kernel = torch.exp(-offsets.square() / (2 * sigma.view(-1, 1).square()))
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    # One group per (image, channel) lets a single conv use a different kernel per image.
    kernel = kernel.repeat_interleave(channels, dim=0)
    flat = img.reshape(1, num * channels, height, width)
    flat = F.pad(flat, (radius, radius, radius, radius), mode='replicate')
    flat = F.conv2d(flat, kernel.view(-1, 1, 1, kernel_size), groups=num * channels)
    flat = F.conv2d(flat, kernel.view(-1, 1, kernel_size, 1), groups=num * channels)
    return flat.view(num, channels, height, width).clamp(0, MAX_VALUE)
