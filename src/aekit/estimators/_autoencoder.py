"""Autoencoder and DenoisingAutoencoder estimators."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from aekit.choices import NOISES
from aekit.data.corruption import Corruption
from aekit.estimators._base import COMMON_CONSTRAINTS, IMAGE_CONSTRAINTS, BaseAutoencoder
from aekit.estimators._params import is_float, one_of
from aekit.exceptions import ParameterError
from aekit.nn.autoencoder import MLPAutoencoder
from aekit.nn.conv import ConvAutoencoder, channels_last
from aekit.training import resolve_device
from aekit.training.losses import BCELoss, ReconstructionLoss

logger = logging.getLogger(__name__)


class Autoencoder(BaseAutoencoder):
    """Autoencoder with an MLP (tables) or convolutional (images) encoder and decoder.

    ``X`` is a table (n_samples, n_features) or images (n_samples, height, width) /
    (n_samples, channels, height, width) with 1 or 3 channels, uint8 or floats in [0, 1].
    Images get a convolutional network by default, and ``reconstruct`` returns them in
    the input's shape.

    Parameters
    ----------
    latent_dim : int, default=8
        Width of the bottleneck. Compare with ``PCA(n_components=latent_dim)``: a linear
        autoencoder (``linear=True``) reaches the same reconstruction error.
    hidden_dims : sequence of int, default=(64, 32)
        Encoder widths from the input down; the decoder mirrors them.
    linear : bool, default=False
        Single affine encoder and decoder, no activation: the PCA-equivalent model.
    architecture : {"auto", "mlp", "conv"}, default="auto"
        "auto": convolutional for image input (3-D or 4-D arrays), MLP for tables. "conv"
        requires images; "mlp" flattens images into rows of pixels.
    channels : sequence of int, default=(32, 64)
        Convolutional networks only: output channels of each stride-2 convolution (each
        halves height and width); the decoder mirrors them with transposed convolutions.
    loss : {"mse", "bce"}, default="mse"
        "bce": binary cross-entropy with a sigmoid output, for data in [0, 1] after scaling
        (pixels, binary features); often sharper on images than MSE.
    init : {"pca", "random"}, default="pca"
        For loss="mse" (ignored with "bce"). "pca": the network (MLP or convolutional)
        starts as PCA with ``latent_dim`` components (a linear path initialised from PCA
        plus non-linear branches that start at zero), so training
        begins at the linear optimum and can only improve on it; the starting weights are
        kept if training never beats them on held-out rows. "random": ordinary random
        initialisation (use it to see a linear autoencoder rediscover PCA on its own).
    activation : str, default="relu"
        One of relu, leaky_relu, elu, gelu, silu, tanh, sigmoid, identity.
    scaling : {"auto", "standard", "robust", "minmax", "none"}, default="auto"
        Per-feature preprocessing fitted on the training data and saved with the model.
        "auto": "none" for images (pixels are already in [0, 1]), "standard" otherwise.
    max_epochs : int or "auto", default="auto"
        Upper bound; early stopping on the validation loss usually ends training sooner.
        "auto": a budget of about 600,000 rows seen, i.e. 200 epochs for up to 3,000
        training rows and ``600,000 / n`` for more (at least 3), so large data trains a
        few long epochs rather than hundreds (BENCHMARKS.md section 1). Pass an int
        (e.g. 200) to train large data to full convergence.
    batch_size : int or "auto", default="auto"
        "auto" uses about n/32 rows, a power of two between 32 and 1024.
    lr : float or "auto", default="auto"
        Adam learning rate, halved whenever the validation loss plateaus. "auto": 3e-3
        for batches up to 256 rows, times ``sqrt(batch_size / 256)`` for larger ones
        (6e-3 at 1024, at most 1e-2): fewer, larger steps per epoch take larger steps.
        Convolutional networks keep 3e-3, which trains them better.
    weight_decay : float, default=0.0
    optimizer : {"adam", "adamw"}, default="adam"
    lr_schedule : {"plateau", "cosine", "constant"}, default="plateau"
    patience : int, default=10
        Epochs without validation improvement before stopping; the best weights are kept.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping (none when fewer than 20 rows).
    grad_clip : float, default=5.0
        Maximum global gradient norm (0 disables clipping).
    random_state : int, RandomState or None, default=None
        Seed for weights, shuffling and the validation split. With an int, results are
        bit-identical on CPU; the global torch and NumPy random states are left untouched.
    verbose : int, default=0
        1 shows a progress bar with the live loss.
    device : str, default="auto"
        "auto" trains on CUDA when available, else CPU. The fitted module is kept on CPU.
    column_roles : dict or None, default=None
        For DataFrames: column name -> role, overriding the inferred ones: "numeric",
        "categorical", "boolean", "datetime", "id" (names rows; carried into outputs, no
        feature) or "ignore". See :mod:`aekit.data.columns` for what each role encodes.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network, on CPU, in eval mode.
    history_ : aekit.training.History
        Train and validation loss per epoch, best epoch, seconds.
    input_spec_ : aekit.data.schema.InputSpec
        The input contract (columns or image shape, scaling); the attributes below are
        read from it.
    scaler_ : aekit.data.preprocessing.AffineScaler
    n_features_in_ : int
        Features, or pixels per image (channels * height * width).
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (only when X was a DataFrame with string names).
    image_shape_ : tuple of int or None
        Shape of one training image as passed to ``fit``, (H, W) or (C, H, W); None for
        tables.

    Examples
    --------
    >>> import numpy as np
    >>> from aekit import Autoencoder
    >>> X = np.random.default_rng(0).normal(size=(200, 6))
    >>> ae = Autoencoder(latent_dim=2, max_epochs=5, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (200, 2)
    """

    _constraints = {**COMMON_CONSTRAINTS, **IMAGE_CONSTRAINTS,
                    "linear": (lambda v: isinstance(v, bool), "a bool"),
                    "init": (one_of("pca", "random"), "one of ('pca', 'random')"),
                    "loss": (one_of("mse", "bce"), "one of ('mse', 'bce')")}

    def __init__(self, latent_dim=8, *, hidden_dims=(64, 32), architecture="auto",
                 channels=(32, 64), loss="mse", linear=False, init="pca", activation="relu",
                 scaling="auto", max_epochs="auto", batch_size="auto", lr="auto", weight_decay=0.0,
                 optimizer="adam", lr_schedule="plateau", patience=10, validation_fraction=0.1,
                 grad_clip=5.0, random_state=None, verbose=0, device="auto", column_roles=None):
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.architecture = architecture
        self.channels = channels
        self.loss = loss
        self.linear = linear
        self.init = init
        self.activation = activation
        self.scaling = scaling
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.lr_schedule = lr_schedule
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.grad_clip = grad_clip
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.column_roles = column_roles

    def _handles_missing(self) -> bool:
        return self.loss == "mse"

    def _warn_if_it_can_copy(self, spec: Any) -> None:
        # a bottleneck as wide as the input lets the network pass every cell straight
        # through: it reconstructs anything, detects nothing and fills gaps with the centre
        if not spec.is_images and int(self.latent_dim) >= spec.n_features > 1:
            logger.warning(
                "%s: latent_dim=%d is at least the %d encoded input columns, so the network "
                "can learn to copy its input: errors say little, and impute fills each gap "
                "with its column's centre. Use a narrower bottleneck (latent_dim=%d, half "
                "the columns; --latent-dim in the CLI), or a masking denoising autoencoder "
                "to fill gaps (DenoisingAutoencoder(noise='masking'), as aekit impute DATA "
                "fits).",
                type(self).__name__, int(self.latent_dim), spec.n_features,
                max(1, spec.n_features // 2))

    def _has_heads(self) -> bool:
        return self.loss == "mse"

    def _pca_init(self) -> bool:
        return self.init == "pca" and self.loss == "mse"

    def _build_module(self, n_features: int) -> nn.Module:
        if self._use_conv():
            return channels_last(ConvAutoencoder(
                self._image_chw(), int(self.latent_dim), tuple(self.channels), self.activation,
                logits=self.loss == "bce", linear_path=self._pca_init()))
        return MLPAutoencoder(n_features, int(self.latent_dim), tuple(self.hidden_dims),
                              self.activation, linear=bool(self.linear),
                              linear_path=self._pca_init(), logits=self.loss == "bce",
                              heads=self.cell_layout_)

    def _init_module(self, module: nn.Module, X_train: torch.Tensor, seed: int) -> None:
        if not self._pca_init():
            return
        X = X_train.double().numpy()
        k = min(int(self.latent_dim), X.shape[0], X.shape[1])
        pca = PCA(n_components=k, random_state=seed).fit(X)
        module.init_from_pca(torch.from_numpy(pca.components_).float(),
                             torch.from_numpy(pca.mean_).float())

    def _loss_fn(self):
        return BCELoss() if self.loss == "bce" else ReconstructionLoss()

    def _corruption(self, X_scaled: np.ndarray):
        if self.loss == "bce" and (X_scaled.min() < 0 or X_scaled.max() > 1):
            raise ParameterError(
                "loss='bce' needs data in [0, 1] after scaling, but the scaled data spans "
                f"[{X_scaled.min():.3g}, {X_scaled.max():.3g}]. Use scaling='minmax', or "
                "scaling='none' (the default for images) with [0, 1] data, or loss='mse'.")
        return None


class DenoisingAutoencoder(Autoencoder):
    """Autoencoder trained to map corrupted inputs back to the clean ones.

    Corruption is applied to each training batch only; ``reconstruct`` and ``transform``
    never add noise, so ``reconstruct(X_noisy)`` is the denoised data.

    Parameters
    ----------
    noise : {"gaussian", "masking", "salt_pepper"}, default="gaussian"
        Gaussian: add N(0, noise_level^2) in the scaled space (units of feature std with
        standard scaling). Masking: set each entry to the feature mean (0 after scaling) with
        probability noise_level. Salt-and-pepper: set a fraction noise_level of entries to the
        feature's training minimum or maximum.
    noise_level : float, default=0.3
        Std (gaussian) or probability (masking, salt_pepper), in (0, 1] for the latter two.

    For images, corrupted pixels are clipped to the training data's range (a noisy image
    is still an image), and masking sets pixels to 0 (black) with the default scaling.

    The other parameters are those of :class:`Autoencoder`.
    """

    _constraints = {
        **Autoencoder._constraints,
        "noise": (one_of(*NOISES), f"one of {NOISES}"),
        "noise_level": (is_float(0, lo_open=True), "a float > 0 (at most 1 for masking and salt_pepper)"),
    }

    def __init__(self, latent_dim=8, *, noise="gaussian", noise_level=0.3, hidden_dims=(64, 32),
                 architecture="auto", channels=(32, 64), loss="mse", linear=False, init="pca",
                 activation="relu", scaling="auto", max_epochs="auto", batch_size="auto", lr="auto",
                 weight_decay=0.0, optimizer="adam", lr_schedule="plateau", patience=10,
                 validation_fraction=0.1, grad_clip=5.0, random_state=None, verbose=0,
                 device="auto", column_roles=None):
        super().__init__(
            latent_dim, hidden_dims=hidden_dims, architecture=architecture, channels=channels,
            loss=loss, linear=linear, init=init, activation=activation,
            scaling=scaling, max_epochs=max_epochs, batch_size=batch_size, lr=lr,
            weight_decay=weight_decay, optimizer=optimizer, lr_schedule=lr_schedule,
            patience=patience, validation_fraction=validation_fraction, grad_clip=grad_clip,
            random_state=random_state, verbose=verbose, device=device, column_roles=column_roles)
        self.noise = noise
        self.noise_level = noise_level

    def _warn_if_it_can_copy(self, spec: Any) -> None:
        """Corrupted input cannot be copied: a wide bottleneck is fine (no warning)."""

    def _corruption(self, X_scaled: np.ndarray):
        super()._corruption(X_scaled)
        if self.noise in ("masking", "salt_pepper") and self.noise_level > 1:
            raise ParameterError(
                f"The 'noise_level' parameter of {type(self).__name__} must be a probability "
                f"in (0, 1] for noise={self.noise!r}. Got {self.noise_level!r} instead.")
        device = resolve_device(self.device)
        low = torch.from_numpy(X_scaled.min(axis=0).astype(np.float32)).to(device)
        high = torch.from_numpy(X_scaled.max(axis=0).astype(np.float32)).to(device)
        corruption = Corruption(self.noise, float(self.noise_level), low, high)
        if self._is_image_model():
            lo, hi = float(X_scaled.min()), float(X_scaled.max())
            return lambda x: corruption(x).clamp(lo, hi)
        return corruption
