"""Convolutional autoencoders for small images (MNIST-sized and smaller).

Encoder: stride-2 3x3 convolutions, each halving height and width (rounding up, so odd
sizes work), then one linear layer to the latent code. Decoder: the mirror image, a linear
layer and stride-2 transposed convolutions, each doubling the size, then a crop back to
exactly H x W (28 -> 14 -> 7 -> 14 -> 28; 7 -> 4 -> 2 -> 4 -> 8 -> crop 7).

The modules take images ``(B, C, H, W)`` *or* the same pixels flattened ``(B, C*H*W)``:
``forward`` returns the reconstruction in the input's layout, while ``decode`` and
``decoder`` return flat rows, like the MLP modules. That is what lets the estimators,
losses, scalers and the VAE's ELBO code serve both architectures unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from aekit.nn.autoencoder import set_affine_to_pca
from aekit.nn.layers import ACTIVATIONS
from aekit.nn.outputs import AEOutput
from aekit.nn.vae import MLPVAE, reparameterize


def downsampled(size: int, n_layers: int) -> int:
    """Side length after ``n_layers`` stride-2 convolutions (kernel 3, padding 1)."""
    for _ in range(n_layers):
        size = (size + 1) // 2  # floor((size + 2 - 3) / 2) + 1 == ceil(size / 2)
    return size


def channels_last(module: nn.Module) -> nn.Module:
    """Store ``module``'s convolution weights channels-last (NHWC); return it.

    PyTorch's convolutions then run in that layout whatever the input's (NCHW input is
    converted once per layer), oneDNN's preferred one on CPU, which makes epochs a little
    faster (BENCHMARKS.md section 4); the estimators build every convolutional network this
    way. Saved weights are made contiguous (safetensors), and loading copies them back into
    the channels-last parameters.
    """
    return module.to(memory_format=torch.channels_last)


class ToImage(nn.Module):
    """Reshape flat rows ``(B, C*H*W)`` to ``(B, C, H, W)``; pass images through."""

    def __init__(self, image_shape: Sequence[int]) -> None:
        super().__init__()
        self.image_shape = tuple(int(s) for s in image_shape)

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], *self.image_shape)


class CropFlatten(nn.Module):
    """Crop ``(B, C, H', W')`` to the top-left ``H x W`` and flatten to ``(B, C*H*W)``."""

    def __init__(self, height: int, width: int) -> None:
        super().__init__()
        self.height, self.width = int(height), int(width)

    def forward(self, x: Tensor) -> Tensor:
        return x[:, :, : self.height, : self.width].flatten(1)


def conv_encoder(image_shape: Sequence[int], channels: Sequence[int],
                 activation: str = "relu") -> tuple[nn.Sequential, int]:
    """Stride-2 convolutions, then flatten; returns the trunk and its output width."""
    c, h, w = (int(s) for s in image_shape)
    act = ACTIVATIONS[activation]
    layers: list[nn.Module] = [ToImage((c, h, w))]
    prev = c
    for width in channels:
        layers += [nn.Conv2d(prev, int(width), 3, stride=2, padding=1), act()]
        prev = int(width)
    layers.append(nn.Flatten(1))
    n = len(channels)
    return nn.Sequential(*layers), prev * downsampled(h, n) * downsampled(w, n)


def conv_decoder(image_shape: Sequence[int], latent_dim: int, channels: Sequence[int],
                 activation: str = "relu") -> nn.Sequential:
    """Linear up from the code, stride-2 transposed convolutions, crop; ``(B, L) -> (B, D)``.

    The last layer is linear (no activation): a mean for MSE or Gaussian likelihoods,
    logits for Bernoulli ones.
    """
    c, h, w = (int(s) for s in image_shape)
    act = ACTIVATIONS[activation]
    n = len(channels)
    h0, w0 = downsampled(h, n), downsampled(w, n)
    widths = [int(v) for v in reversed(channels)]  # e.g. (64, 32)
    layers: list[nn.Module] = [nn.Linear(latent_dim, widths[0] * h0 * w0), act(),
                               nn.Unflatten(1, (widths[0], h0, w0))]
    for i, width in enumerate(widths):
        out = widths[i + 1] if i + 1 < n else c
        # kernel 3, stride 2, padding 1, output_padding 1: exactly doubles the side
        layers.append(nn.ConvTranspose2d(width, out, 3, stride=2, padding=1, output_padding=1))
        if i + 1 < n:
            layers.append(act())
    layers.append(CropFlatten(h, w))
    return nn.Sequential(*layers)


class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder ``x -> conv encoder -> z -> conv decoder -> recon``.

    Parameters
    ----------
    image_shape : (C, H, W)
    latent_dim : int
    channels : sequence of int, default=(32, 64)
        Output channels of each stride-2 convolution, from the input down.
    activation : str, default="relu"
    logits : bool, default=False
        The decoder's raw output is a logit (train with binary cross-entropy on [0, 1]
        pixels): ``forward`` returns the logits in ``recon``, ``decode`` the probabilities.
    linear_path : bool, default=False
        Add an affine map beside each convolutional side, ``z = A x + f(x)`` and
        ``recon = B z + g(z)``, with the last layers of ``f`` and ``g`` starting at zero.
        After :meth:`init_from_pca` the untrained network is PCA, and training adds
        convolutional structure on top (as in :class:`aekit.nn.MLPAutoencoder`).
    """

    def __init__(self, image_shape: Sequence[int], latent_dim: int,
                 channels: Sequence[int] = (32, 64), activation: str = "relu",
                 logits: bool = False, linear_path: bool = False) -> None:
        super().__init__()
        self.image_shape = tuple(int(s) for s in image_shape)
        trunk, width = conv_encoder(self.image_shape, channels, activation)
        self.encoder = nn.Sequential(*trunk, nn.Linear(width, latent_dim))
        self.decoder = conv_decoder(self.image_shape, latent_dim, channels, activation)
        self.logits = bool(logits)
        self.linear_path = bool(linear_path)
        if self.linear_path:
            n_pixels = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
            self.encoder_linear = nn.Linear(n_pixels, latent_dim)
            self.decoder_linear = nn.Linear(latent_dim, n_pixels)
            last_conv = self.decoder[-2]  # the last transposed convolution, before the crop
            for layer in (self.encoder[-1], last_conv):
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)

    @torch.no_grad()
    def init_from_pca(self, components: Tensor, mean: Tensor) -> None:
        """Set the affine maps beside the convolutions to PCA (see
        :meth:`aekit.nn.MLPAutoencoder.init_from_pca`); needs ``linear_path``."""
        enc, dec = self.encoder_linear, self.decoder_linear
        set_affine_to_pca(enc.weight, enc.bias, dec.weight, dec.bias, components, mean)

    def encode(self, x: Tensor) -> Tensor:  # (B, C, H, W) or (B, D) -> (B, L)
        z = self.encoder(x)
        return z + self.encoder_linear(x.flatten(1)) if self.linear_path else z

    def _decoder_output(self, z: Tensor) -> Tensor:  # (B, L) -> (B, D); logits if self.logits
        out = self.decoder(z)
        return out + self.decoder_linear(z) if self.linear_path else out

    def decode(self, z: Tensor) -> Tensor:  # (B, L) -> (B, D), pixel space
        out = self._decoder_output(z)
        return torch.sigmoid(out) if self.logits else out

    def forward(self, x: Tensor) -> AEOutput:
        z = self.encode(x)
        recon = self._decoder_output(z).reshape(x.shape)  # logits when self.logits
        return AEOutput(recon=recon, z=z)


class ConvVAE(nn.Module):
    """Convolutional VAE: conv encoder to (mu, logvar), conv decoder to the likelihood.

    Same interface as :class:`aekit.nn.vae.MLPVAE` (``trunk``, ``mu_head``,
    ``logvar_head``, ``decoder``, ``log_sigma`` for the Gaussian likelihood, ``encode``,
    ``decode``, ``reconstruction_nll``), so the ELBO, sampling and scoring code is shared.
    """

    # The MLP VAE's methods only use these attributes, so they apply unchanged.
    encode = MLPVAE.encode
    decode = MLPVAE.decode
    heads = None  # images have no categorical columns

    def __init__(self, image_shape: Sequence[int], latent_dim: int,
                 channels: Sequence[int] = (32, 64), activation: str = "relu",
                 likelihood: str = "gaussian") -> None:
        super().__init__()
        self.image_shape = tuple(int(s) for s in image_shape)
        self.trunk, width = conv_encoder(self.image_shape, channels, activation)
        self.mu_head = nn.Linear(width, latent_dim)
        self.logvar_head = nn.Linear(width, latent_dim)
        self.decoder = conv_decoder(self.image_shape, latent_dim, channels, activation)
        self.likelihood = likelihood
        if likelihood == "gaussian":
            n_pixels = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
            self.log_sigma = nn.Parameter(torch.zeros(n_pixels))

    def forward(self, x: Tensor) -> AEOutput:
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar) if self.training else mu
        recon = self.decoder(z).reshape(x.shape)  # logits for Bernoulli
        return AEOutput(recon=recon, z=z, mu=mu, logvar=logvar)

    def reconstruction_nll(self, out: AEOutput, target: Tensor) -> Tensor:
        """Negative log-likelihood per sample (nats), shape (B,); any input layout."""
        # log_sigma is per flat pixel, so compare flat rows
        flat = AEOutput(recon=out.recon.flatten(1), z=out.z, mu=out.mu, logvar=out.logvar)
        return MLPVAE.reconstruction_nll(self, flat, target.flatten(1))
