"""Typed model outputs, so callers never index into tuples."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass
class AEOutput:
    recon: Tensor  # (B, *input_shape) reconstruction in the model's (scaled) space; logits for Bernoulli
    z: Tensor  # (B, L) latent code: the sample while a VAE trains, the mean at inference
    mu: Tensor | None = None  # (B, L) VAE posterior mean
    logvar: Tensor | None = None  # (B, L) VAE posterior log-variance
