"""Gaussian smoothing of image residuals, before an anomaly score squares them.

A normal image reconstructed a pixel off leaves thin residuals of opposite signs side by
side; a missing or extra stroke leaves a patch of one sign. Smoothing the residual with a
small Gaussian cancels the first and keeps the second, so the error of the smoothed
residual ranks structural differences above misalignment (BENCHMARKS.md section 13).

The width scales with the image: ``sigma = min(H, W) / 28`` pixels, one pixel at MNIST's
size, so a small (8 x 8) image is barely smoothed. Each channel is smoothed on its own,
with zero padding (outside the image the residual is nothing), by a separable kernel
truncated at two sigmas (``scipy.ndimage.gaussian_filter(..., mode="constant",
truncate=2)`` computes the same).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

REFERENCE_SIDE = 28  # the image side at which the Gaussian is one pixel wide


def chw(image_shape: Sequence[int]) -> tuple[int, int, int]:
    """(C, H, W) from an image shape (H, W) or (C, H, W)."""
    shape = tuple(int(s) for s in image_shape)
    return (1, *shape) if len(shape) == 2 else shape  # type: ignore[return-value]


def residual_sigma(image_shape: Sequence[int]) -> float:
    """The smoothing width in pixels for images of shape (H, W) or (C, H, W)."""
    _, height, width = chw(image_shape)
    return min(height, width) / REFERENCE_SIDE


def gaussian_kernel(sigma: float) -> Tensor:
    """Normalised 1-D Gaussian weights, radius ``round(2 * sigma)`` (at least 1), float64."""
    radius = max(1, int(2 * sigma + 0.5))  # scipy.ndimage's rule for truncate=2
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    weights = torch.exp(-t ** 2 / (2 * sigma ** 2))
    return weights / weights.sum()


class SmoothImages(nn.Module):
    """Flat image rows (B, C*H*W) -> the same rows, each channel smoothed by a Gaussian."""

    def __init__(self, image_shape: Sequence[int], sigma: float) -> None:
        super().__init__()
        self.image_shape = chw(image_shape)
        self.sigma = float(sigma)
        kernel = gaussian_kernel(self.sigma)
        self.radius = (len(kernel) - 1) // 2
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, rows: Tensor) -> Tensor:
        c, h, w = self.image_shape
        k = self.kernel.to(rows.dtype)
        x = rows.reshape(rows.shape[0] * c, 1, h, w)
        x = F.conv2d(x, k.view(1, 1, -1, 1), padding=(self.radius, 0))
        x = F.conv2d(x, k.view(1, 1, 1, -1), padding=(0, self.radius))
        return x.reshape(rows.shape[0], c * h * w)
