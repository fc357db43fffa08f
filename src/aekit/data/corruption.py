"""Input corruption for denoising autoencoders, applied to mini-batches during training only.

Each function takes a batch ``x`` of shape (B, D) in the model's (scaled) space and returns a
corrupted copy; the clean ``x`` stays the training target. Randomness comes from torch's
global generator, which the training loop forks and seeds, so runs are reproducible without
leaking state to the caller.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

Noise = Literal["gaussian", "masking", "salt_pepper"]


def gaussian(x: Tensor, std: float) -> Tensor:
    """Add N(0, std^2) noise. With standard scaling, ``std`` is in units of feature std."""
    return x + std * torch.randn_like(x)


def masking(x: Tensor, p: float, fill: Tensor | float = 0.0) -> Tensor:
    """Replace each entry by ``fill`` with probability ``p`` (0 = the mean after scaling)."""
    mask = torch.rand_like(x) < p
    return torch.where(mask, torch.as_tensor(fill, dtype=x.dtype, device=x.device), x)


def salt_and_pepper(x: Tensor, p: float, low: Tensor | float, high: Tensor | float) -> Tensor:
    """Set a fraction ``p`` of entries to the feature's minimum or maximum, half each."""
    u = torch.rand_like(x)
    low = torch.as_tensor(low, dtype=x.dtype, device=x.device).expand_as(x)
    high = torch.as_tensor(high, dtype=x.dtype, device=x.device).expand_as(x)
    out = torch.where(u < p / 2, low, x)
    return torch.where((u >= p / 2) & (u < p), high, out)


class Corruption:
    """A configured corruption: ``Corruption("masking", 0.3)(x)``."""

    def __init__(self, kind: Noise, level: float, low: Tensor | float = 0.0,
                 high: Tensor | float = 1.0) -> None:
        self.kind, self.level, self.low, self.high = kind, float(level), low, high

    def __call__(self, x: Tensor) -> Tensor:
        if self.kind == "gaussian":
            return gaussian(x, self.level)
        if self.kind == "masking":
            return masking(x, self.level)
        return salt_and_pepper(x, self.level, self.low, self.high)
