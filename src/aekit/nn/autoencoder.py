"""Deterministic autoencoders: an MLP encoder/decoder, optionally with a PCA-initialised
linear path, or a purely linear one."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from aekit.nn.layers import mlp
from aekit.nn.outputs import AEOutput


class MLPAutoencoder(nn.Module):
    """``x -> encoder -> z -> decoder -> recon``, symmetric hidden widths.

    With ``linear=True`` the encoder and decoder are single affine maps (hidden widths and
    activation ignored): trained with MSE its decoder spans the top principal subspace, the
    classic result that a linear autoencoder is PCA (Baldi & Hornik, 1989).

    With ``linear_path=True`` (and not ``linear``) each side is an affine map plus an MLP
    whose last layer starts at zero: ``z = A x + f(x)``, ``recon = B z + g(z)``. Initialised
    with :meth:`init_from_pca`, the untrained network *is* PCA, and training can only add
    non-linear structure on top of it, so the autoencoder starts at the linear optimum
    instead of having to rediscover it from random weights.

    With ``logits=True`` the decoder's raw output is a logit (train with binary
    cross-entropy on [0, 1] data): ``forward`` returns the logits in ``recon``, ``decode``
    the probabilities.
    """

    def __init__(self, n_features: int, latent_dim: int, hidden_dims: Sequence[int] = (64, 32),
                 activation: str = "relu", linear: bool = False, dropout: float = 0.0,
                 linear_path: bool = False, logits: bool = False) -> None:
        super().__init__()
        self.logits = bool(logits)
        hidden = [] if linear else list(hidden_dims)
        self.encoder = mlp([n_features, *hidden, latent_dim], activation, dropout=dropout)
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features], activation, dropout=dropout)
        self.linear_path = bool(linear_path and not linear)
        if self.linear_path:
            self.encoder_linear = nn.Linear(n_features, latent_dim)
            self.decoder_linear = nn.Linear(latent_dim, n_features)
            for branch in (self.encoder, self.decoder):
                nn.init.zeros_(branch[-1].weight)
                nn.init.zeros_(branch[-1].bias)

    @torch.no_grad()
    def init_from_pca(self, components: Tensor, mean: Tensor) -> None:
        """Set the linear maps to PCA: ``z = C (x - mean)``, ``recon = C^T z + mean``.

        ``components`` has shape (k, D) with orthonormal rows, k <= latent_dim; extra latent
        dimensions start at zero.
        """
        enc = self.encoder_linear if self.linear_path else self.encoder[0]
        dec = self.decoder_linear if self.linear_path else self.decoder[-1]
        k = components.shape[0]
        enc.weight.zero_()
        dec.weight.zero_()
        enc.weight[:k] = components
        enc.bias.zero_()
        enc.bias[:k] = -components @ mean
        dec.weight[:, :k] = components.T
        dec.bias.copy_(mean)

    def encode(self, x: Tensor) -> Tensor:  # (B, D) -> (B, L)
        z = self.encoder(x)
        return z + self.encoder_linear(x) if self.linear_path else z

    def _decoder_output(self, z: Tensor) -> Tensor:  # (B, L) -> (B, D); logits if self.logits
        recon = self.decoder(z)
        return recon + self.decoder_linear(z) if self.linear_path else recon

    def decode(self, z: Tensor) -> Tensor:  # (B, L) -> (B, D), data space
        out = self._decoder_output(z)
        return torch.sigmoid(out) if self.logits else out

    def forward(self, x: Tensor) -> AEOutput:
        z = self.encode(x)
        return AEOutput(recon=self._decoder_output(z), z=z)
