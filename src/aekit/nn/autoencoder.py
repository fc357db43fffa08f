"""Deterministic autoencoders: an MLP encoder/decoder, optionally with a PCA-initialised
linear path, or a purely linear one."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice

import torch
from torch import Tensor, nn

from aekit.nn.heads import CellLayout
from aekit.nn.layers import mlp
from aekit.nn.outputs import AEOutput

HEAD_LOGIT_SCALE = 4.0  # see init_from_pca


class MLPAutoencoder(nn.Module):
    """``x -> encoder -> z -> decoder -> recon``, symmetric hidden widths.

    With ``linear=True`` the encoder and decoder are single affine maps (hidden widths and
    activation ignored): trained with MSE its decoder spans the top principal subspace, the
    classic result that a linear autoencoder is PCA (Baldi & Hornik, 1989).

    With ``linear_path=True`` (and hidden layers) each side is an affine map plus an MLP
    whose last layer starts at zero: ``z = A x + f(x)``, ``recon = B z + g(z)``. Initialised
    with :meth:`init_from_pca`, the untrained network *is* PCA, and training can only add
    non-linear structure on top of it, so the autoencoder starts at the linear optimum
    instead of having to rediscover it from random weights. ``A`` shares one matrix
    product with the first layer of ``f`` (the last ``latent_dim`` outputs of
    ``encoder[0]`` are ``A x``; likewise ``decoder[0]`` yields ``B z``): two layers fewer
    to run forward and backward. Without hidden layers the affine map alone is the network.

    With ``logits=True`` the decoder's raw output is a logit (train with binary
    cross-entropy on [0, 1] data): ``forward`` returns the logits in ``recon``, ``decode``
    the probabilities.

    With ``heads`` (a table's :class:`~aekit.nn.heads.CellLayout`) each categorical
    column's output slots are logits of a softmax head: ``forward`` returns them raw,
    ``decode`` the probabilities.
    """

    def __init__(self, n_features: int, latent_dim: int, hidden_dims: Sequence[int] = (64, 32),
                 activation: str = "relu", linear: bool = False, dropout: float = 0.0,
                 linear_path: bool = False, logits: bool = False,
                 heads: CellLayout | None = None) -> None:
        super().__init__()
        self.logits = bool(logits)
        self.heads = heads
        hidden = [] if linear else list(hidden_dims)
        self.linear_path = bool(linear_path and hidden)
        enc_widths = [n_features, *hidden, latent_dim]
        dec_widths = [latent_dim, *reversed(hidden), n_features]
        self.encoder = mlp(enc_widths, activation, dropout=dropout)
        self.decoder = mlp(dec_widths, activation, dropout=dropout)
        self._split_encoder = (enc_widths[1], latent_dim)  # encoder[0]'s outputs: (f, A x)
        self._split_decoder = (dec_widths[1], n_features)  # decoder[0]'s outputs: (g, B z)
        if self.linear_path:
            self.encoder[0] = _widened(self.encoder[0], latent_dim)
            self.decoder[0] = _widened(self.decoder[0], n_features)
            for branch in (self.encoder, self.decoder):
                nn.init.zeros_(branch[-1].weight)
                nn.init.zeros_(branch[-1].bias)

    @torch.no_grad()
    def init_from_pca(self, components: Tensor, mean: Tensor) -> None:
        """Set the linear maps to PCA: ``z = C (x - mean)``, ``recon = C^T z + mean``.

        ``components`` has shape (k, D) with orthonormal rows, k <= latent_dim; extra latent
        dimensions start at zero.
        """
        if self.linear_path:  # the affine rows of the widened first layers
            h_enc, h_dec = self._split_encoder[0], self._split_decoder[0]
            enc_w, enc_b = self.encoder[0].weight[h_enc:], self.encoder[0].bias[h_enc:]
            dec_w, dec_b = self.decoder[0].weight[h_dec:], self.decoder[0].bias[h_dec:]
        else:
            enc_w, enc_b = self.encoder[0].weight, self.encoder[0].bias
            dec_w, dec_b = self.decoder[-1].weight, self.decoder[-1].bias
        set_affine_to_pca(enc_w, enc_b, dec_w, dec_b, components, mean)
        if self.heads is not None:
            # PCA reconstructs one-hot slots as numbers near 0 and 1; read as logits they
            # would start every head near uniform, so they start sharpened instead
            for start, stop in self.heads.blocks:
                dec_w[start:stop] *= HEAD_LOGIT_SCALE
                dec_b[start:stop] *= HEAD_LOGIT_SCALE

    @staticmethod
    def _run(branch: nn.Sequential, split: tuple[int, int], x: Tensor, linear_path: bool) -> Tensor:
        if not linear_path:
            return branch(x)
        hidden, affine = branch[0](x).split(split, dim=-1)
        for layer in islice(branch, 1, None):  # the rest of the branch, after the shared layer
            hidden = layer(hidden)
        return hidden + affine

    def encode(self, x: Tensor) -> Tensor:  # (B, D) -> (B, L)
        return self._run(self.encoder, self._split_encoder, x, self.linear_path)

    def _decoder_output(self, z: Tensor) -> Tensor:  # (B, L) -> (B, D); logits if self.logits
        return self._run(self.decoder, self._split_decoder, z, self.linear_path)

    def decode_raw(self, z: Tensor) -> Tensor:  # (B, L) -> (B, D): logits in the heads
        return self._decoder_output(z)

    def decode(self, z: Tensor) -> Tensor:  # (B, L) -> (B, D), data space
        out = self._decoder_output(z)
        if self.heads is not None:
            return self.heads.decode(out)
        return torch.sigmoid(out) if self.logits else out

    def forward(self, x: Tensor) -> AEOutput:
        z = self.encode(x)
        return AEOutput(recon=self._decoder_output(z), z=z)


@torch.no_grad()
def set_affine_to_pca(enc_w: Tensor, enc_b: Tensor, dec_w: Tensor, dec_b: Tensor,
                      components: Tensor, mean: Tensor) -> None:
    """In place: encoder ``z = C (x - mean)`` (L, D), decoder ``C^T z + mean`` (D, L), for
    ``components`` C of shape (k, D), k <= L; extra latent dimensions get zeros."""
    k = components.shape[0]
    enc_w.zero_()
    dec_w.zero_()
    enc_w[:k] = components
    enc_b.zero_()
    enc_b[:k] = -components @ mean
    dec_w[:, :k] = components.T
    dec_b.copy_(mean)


def _widened(layer: nn.Linear, extra: int) -> nn.Linear:
    """``layer`` with ``extra`` more outputs (default-initialised rows appended)."""
    wide = nn.Linear(layer.in_features, layer.out_features + extra)
    with torch.no_grad():
        wide.weight[:layer.out_features] = layer.weight
        wide.bias[:layer.out_features] = layer.bias
    return wide
