"""Deterministic autoencoders: an MLP encoder/decoder, or a purely linear one."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from aekit.nn.layers import mlp
from aekit.nn.outputs import AEOutput


class MLPAutoencoder(nn.Module):
    """``x -> encoder -> z -> decoder -> recon``, symmetric hidden widths.

    With ``linear=True`` the encoder and decoder are single affine maps (hidden widths and
    activation ignored): trained with MSE its decoder spans the top principal subspace, the
    classic result that a linear autoencoder is PCA (Baldi & Hornik, 1989).
    """

    def __init__(self, n_features: int, latent_dim: int, hidden_dims: Sequence[int] = (64, 32),
                 activation: str = "relu", linear: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        hidden = [] if linear else list(hidden_dims)
        self.encoder = mlp([n_features, *hidden, latent_dim], activation, dropout=dropout)
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features], activation, dropout=dropout)

    def encode(self, x: Tensor) -> Tensor:  # (B, D) -> (B, L)
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:  # (B, L) -> (B, D)
        return self.decoder(z)

    def forward(self, x: Tensor) -> AEOutput:
        z = self.encode(x)
        return AEOutput(recon=self.decode(z), z=z)
