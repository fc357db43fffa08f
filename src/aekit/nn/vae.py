"""Variational autoencoder (Kingma & Welling, 2014) and its loss terms.

The loss lives outside ``forward`` (see :func:`elbo_terms`) so the same module serves
training, scoring and sampling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aekit.nn.heads import CellLayout
from aekit.nn.layers import mlp
from aekit.nn.outputs import AEOutput

LOG_2PI = math.log(2 * math.pi)


def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I): a sample that gradients can flow through."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per latent dimension, shape (B, L)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


class MLPVAE(nn.Module):
    """MLP encoder to (mu, logvar); decoder to the likelihood's parameters.

    ``likelihood="gaussian"``: the decoder gives the mean, and a learned per-feature
    log standard deviation (``log_sigma``) makes the ELBO a calibrated log-likelihood instead
    of an MSE with an arbitrary weight. ``"bernoulli"``: the decoder gives logits, for data in
    [0, 1] (pixels, binary features). With ``heads`` (a table's
    :class:`~aekit.nn.heads.CellLayout`), each categorical column is a softmax head with a
    categorical likelihood; the other columns keep the Gaussian one.

    In training mode ``forward`` samples z; in eval mode it uses the mean, so scores and
    embeddings are deterministic.
    """

    def __init__(self, n_features: int, latent_dim: int, hidden_dims: Sequence[int] = (64, 32),
                 activation: str = "relu", likelihood: str = "gaussian",
                 heads: CellLayout | None = None) -> None:
        super().__init__()
        self.heads = heads
        hidden = list(hidden_dims)
        self.trunk = mlp([n_features, *hidden], activation, activate_last=True)
        width = hidden[-1] if hidden else n_features
        self.mu_head = nn.Linear(width, latent_dim)
        self.logvar_head = nn.Linear(width, latent_dim)
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features], activation)
        self.likelihood = likelihood
        if likelihood == "gaussian":
            self.log_sigma = nn.Parameter(torch.zeros(n_features))

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:  # (B, D) -> 2 x (B, L)
        h = self.trunk(x)
        return self.mu_head(h), self.logvar_head(h).clamp(-30.0, 20.0)

    def decode_raw(self, z: Tensor) -> Tensor:
        """The decoder's output: logits in the categorical heads (and for Bernoulli)."""
        return self.decoder(z)

    def decode(self, z: Tensor) -> Tensor:
        """Reconstruction in data space: the mean (Gaussian) or probabilities (Bernoulli)."""
        out = self.decoder(z)
        if self.heads is not None:
            return self.heads.decode(out)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def forward(self, x: Tensor) -> AEOutput:
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar) if self.training else mu
        return AEOutput(recon=self.decoder(z), z=z, mu=mu, logvar=logvar)

    def reconstruction_nll(self, out: AEOutput, target: Tensor) -> Tensor:
        """Negative log-likelihood of ``target`` per sample (nats), shape (B,).

        Missing cells (NaN, Gaussian likelihood) are left out and a row's numeric cells'
        NLL is scaled up to all of them (by numeric columns / observed ones), so rows with
        and without gaps are on one scale."""
        if self.likelihood == "bernoulli":
            nll = F.binary_cross_entropy_with_logits(out.recon, target, reduction="none")
            return nll.flatten(1).sum(dim=1)
        observed = ~torch.isnan(target)
        gaps = not bool(observed.all())
        if gaps:
            target = torch.nan_to_num(target, nan=0.0)
        log_sigma = self.log_sigma.clamp(min=math.log(1e-3))
        nll = 0.5 * ((target - out.recon) / log_sigma.exp()).pow(2) + log_sigma + 0.5 * LOG_2PI
        plain = self.heads.plain.to(nll) if self.heads is not None else torch.ones_like(nll[0])
        if gaps:
            seen = observed.to(nll) * plain
            nll = nll * seen * (plain.sum() / seen.sum(dim=1, keepdim=True).clamp(min=1))
        else:
            nll = nll * plain if self.heads is not None else nll
        total = nll.sum(dim=1)
        if self.heads is not None:  # a categorical NLL is half its deviance
            total = total + 0.5 * self.heads.logit_deviance(out.recon, target)
        return total


def elbo_terms(module: MLPVAE, out: AEOutput, target: Tensor) -> tuple[Tensor, Tensor]:
    """Per-sample reconstruction NLL (B,) and KL per latent dimension (B, L)."""
    return module.reconstruction_nll(out, target), gaussian_kl(out.mu, out.logvar)
