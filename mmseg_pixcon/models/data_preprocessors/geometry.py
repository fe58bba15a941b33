"""Batched geometric transform applied identically to images and their label maps.

Images are (N, C, H, W) float, labels (N, 1, H, W) integer; outputs keep shapes, dtypes and
device. Images are resampled bilinearly, labels by nearest neighbour, so no new class appears.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def zoom(img: Tensor, label: Tensor, scale: Tensor, center: Tensor, fill: Tensor,
         ignore_index: int) -> Tuple[Tensor, Tensor]:
    """Random scale-crop at the input size: each output shows a window of 1/scale of the image.

    Args:
        img: (N, C, H, W) float images.
        label: (N, 1, H, W) integer labels.
        scale: (N,) zoom factors > 0; > 1 crops and enlarges, < 1 shrinks the image inside
            the frame, whose empty border gets ``fill`` and ``ignore_index``; 1 with a zero
            center is the identity (up to bilinear rounding).
        center: (N, 2) window center (x, y) in grid_sample's [-1, 1] coordinates.
        fill: (C,) image value outside the source image.
        ignore_index: label outside the source image.

    Returns:
        The zoomed images (N, C, H, W) and labels (N, 1, H, W).
    """
    num, _, height, width = img.shape
    inv = 1 / scale
    theta = torch.zeros(num, 2, 3, device=img.device, dtype=img.dtype)
    theta[:, 0, 0] = inv
    theta[:, 1, 1] = inv
    theta[:, :, 2] = center.to(img.dtype)
    grid = F.affine_grid(theta, [num, 1, height, width], align_corners=False)
    # Zero padding of (img - fill) puts exactly `fill` outside the source image.
    fill = fill.to(img, non_blocking=True).view(1, -1, 1, 1)
    out_img = F.grid_sample(img - fill, grid, mode='bilinear', padding_mode='zeros',
                            align_corners=False) + fill
    # Labels are shifted by one so that the zero padding marks "outside", then mapped to ignore.
    shifted = F.grid_sample(label.to(img.dtype) + 1, grid, mode='nearest', padding_mode='zeros',
                            align_corners=False)
    out_label = torch.where(shifted == 0, torch.full_like(shifted, ignore_index), shifted - 1)
    return out_img, out_label.round().to(label.dtype)
