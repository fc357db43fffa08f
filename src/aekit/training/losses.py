"""Training objectives. Each is called as ``loss_fn(module, output, target, epoch)``.

``epoch`` is the 0-based training epoch, or ``None`` for evaluation, where schedules such as
the KL warm-up are at their final value so validation losses stay comparable across epochs.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from aekit.nn.heads import CellLayout
from aekit.nn.outputs import AEOutput
from aekit.nn.vae import elbo_terms


class ReconstructionLoss:
    """Mean squared error per entry: what PCA minimises, so the two compare directly."""

    def __call__(self, module: nn.Module, out: AEOutput, target: Tensor,
                 epoch: int | None) -> Tensor:
        return F.mse_loss(out.recon, target)

    def per_sample(self, module: nn.Module, out: AEOutput, target: Tensor) -> Tensor:
        return (out.recon - target).pow(2).flatten(1).mean(dim=1)


class CellLoss:
    """A table's loss with categorical heads: squared error of the plain cells and the
    deviance of each categorical column (see :mod:`aekit.nn.heads`), over the observed
    columns; missing cells (NaN) count in neither."""

    def __init__(self, layout: CellLayout) -> None:
        self.layout = layout

    def __call__(self, module: nn.Module, out: AEOutput, target: Tensor,
                 epoch: int | None) -> Tensor:
        total, units = self.layout.row_losses(out.recon, target)
        return total.sum() / units.sum()

    def per_sample(self, module: nn.Module, out: AEOutput, target: Tensor) -> Tensor:
        total, units = self.layout.row_losses(out.recon, target)
        return total / units


class BCELoss:
    """Binary cross-entropy per entry, for a deterministic autoencoder on [0, 1] data."""

    def __call__(self, module: nn.Module, out: AEOutput, target: Tensor,
                 epoch: int | None) -> Tensor:
        return F.binary_cross_entropy_with_logits(out.recon, target)

    def per_sample(self, module: nn.Module, out: AEOutput, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(out.recon, target, reduction="none").flatten(1).mean(dim=1)


class ELBOLoss:
    """Negative ELBO per sample: reconstruction NLL + beta * KL (KL summed over latent dims).

    With ``warmup_epochs`` > 0, beta rises linearly from ``beta / warmup_epochs`` to ``beta``,
    which keeps the KL term from collapsing the posterior before the decoder learns anything.
    """

    def __init__(self, beta: float = 1.0, warmup_epochs: int = 0) -> None:
        self.beta, self.warmup_epochs = float(beta), int(warmup_epochs)

    def beta_at(self, epoch: int | None) -> float:
        if epoch is None or self.warmup_epochs <= 0:
            return self.beta
        return self.beta * min(1.0, (epoch + 1) / self.warmup_epochs)

    def __call__(self, module: nn.Module, out: AEOutput, target: Tensor,
                 epoch: int | None) -> Tensor:
        nll, kl = elbo_terms(module, out, target)
        return (nll + self.beta_at(epoch) * kl.sum(dim=1)).mean()

    def per_sample(self, module: nn.Module, out: AEOutput, target: Tensor) -> Tensor:
        nll, kl = elbo_terms(module, out, target)
        return nll + self.beta * kl.sum(dim=1)
