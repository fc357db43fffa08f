"""Training on rows with missing cells (NaN): the network never sees them, the loss skips them.

The network sees 0 where a cell is missing, the scaled column's centre; the loss is the
mean squared error over the observed cells only, so a row with missing cells pulls the
weights only through what was observed.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from aekit.nn.outputs import AEOutput


class FillMissing(nn.Module):
    """``module`` fed its input with missing cells (NaN) set to 0, the scaled centre."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.inner = module

    def forward(self, x: Tensor) -> AEOutput:
        return self.inner(torch.nan_to_num(x, nan=0.0))

    def reconstruction_nll(self, out: AEOutput, target: Tensor) -> Tensor:
        """A VAE's likelihood, which leaves missing cells out itself."""
        return self.inner.reconstruction_nll(out, target)


class MaskedReconstructionLoss:
    """Mean squared error over the observed (non-NaN) cells of the target."""

    def __call__(self, module: nn.Module, out: AEOutput, target: Tensor,
                 epoch: int | None) -> Tensor:
        observed = ~torch.isnan(target)
        diff = (out.recon - torch.nan_to_num(target, nan=0.0)) * observed
        return diff.pow(2).sum() / observed.sum().clamp(min=1)

    def per_sample(self, module: nn.Module, out: AEOutput, target: Tensor) -> Tensor:
        observed = ~torch.isnan(target)
        diff = (out.recon - torch.nan_to_num(target, nan=0.0)) * observed
        return diff.pow(2).flatten(1).sum(dim=1) / observed.flatten(1).sum(dim=1).clamp(min=1)


def observed_mse(recon: Tensor, x: Tensor) -> Tensor:
    """Per-row mean squared error over the observed cells of ``x`` (NaN: missing)."""
    observed = ~torch.isnan(x)
    diff = (recon - torch.nan_to_num(x, nan=0.0)) * observed
    return diff.pow(2).flatten(1).sum(dim=1) / observed.flatten(1).sum(dim=1).clamp(min=1)


def filled(x: Tensor) -> Tensor:
    """``x`` with missing cells at 0 (``x`` itself when none is missing)."""
    return torch.nan_to_num(x, nan=0.0) if torch.isnan(x).any() else x


__all__ = ["FillMissing", "MaskedReconstructionLoss", "filled", "observed_mse"]
