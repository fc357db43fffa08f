"""Autoencoder and DenoisingAutoencoder estimators."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from aekit.data.corruption import NOISES, Corruption
from aekit.estimators._base import COMMON_CONSTRAINTS, BaseAutoencoder
from aekit.estimators._params import is_float, one_of
from aekit.exceptions import ParameterError
from aekit.nn.autoencoder import MLPAutoencoder
from aekit.training import resolve_device
from aekit.training.losses import ReconstructionLoss


class Autoencoder(BaseAutoencoder):
    """Autoencoder with an MLP encoder and decoder, trained to minimise MSE.

    Parameters
    ----------
    latent_dim : int, default=8
        Width of the bottleneck. Compare with ``PCA(n_components=latent_dim)``: a linear
        autoencoder (``linear=True``) reaches the same reconstruction error.
    hidden_dims : sequence of int, default=(64, 32)
        Encoder widths from the input down; the decoder mirrors them.
    linear : bool, default=False
        Single affine encoder and decoder, no activation: the PCA-equivalent model.
    init : {"pca", "random"}, default="pca"
        "pca": the network starts as PCA with ``latent_dim`` components (a linear path
        initialised from PCA plus non-linear branches that start at zero), so training
        begins at the linear optimum and can only improve on it; the starting weights are
        kept if training never beats them on held-out rows. "random": ordinary random
        initialisation (use it to see a linear autoencoder rediscover PCA on its own).
    activation : str, default="relu"
        One of relu, leaky_relu, elu, gelu, silu, tanh, sigmoid, identity.
    scaling : {"standard", "robust", "minmax", "none"}, default="standard"
        Per-feature preprocessing fitted on the training data and saved with the model.
    max_epochs : int, default=200
        Upper bound; early stopping on the validation loss usually ends training sooner.
    batch_size : int or "auto", default="auto"
        "auto" uses about n/32 rows, a power of two between 32 and 1024.
    lr : float, default=3e-3
        Adam learning rate, halved whenever the validation loss plateaus.
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

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network, on CPU, in eval mode.
    history_ : aekit.training.History
        Train and validation loss per epoch, best epoch, seconds.
    scaler_ : aekit.data.preprocessing.AffineScaler
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (only when X was a DataFrame with string names).

    Examples
    --------
    >>> import numpy as np
    >>> from aekit import Autoencoder
    >>> X = np.random.default_rng(0).normal(size=(200, 6))
    >>> ae = Autoencoder(latent_dim=2, max_epochs=5, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (200, 2)
    """

    _constraints = {**COMMON_CONSTRAINTS, "linear": (lambda v: isinstance(v, bool), "a bool"),
                    "init": (one_of("pca", "random"), "one of ('pca', 'random')")}

    def __init__(self, latent_dim=8, *, hidden_dims=(64, 32), linear=False, init="pca",
                 activation="relu", scaling="standard", max_epochs=200, batch_size="auto", lr=3e-3,
                 weight_decay=0.0, optimizer="adam", lr_schedule="plateau", patience=10,
                 validation_fraction=0.1, grad_clip=5.0, random_state=None, verbose=0,
                 device="auto"):
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
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

    def _build_module(self, n_features: int) -> nn.Module:
        return MLPAutoencoder(n_features, int(self.latent_dim), tuple(self.hidden_dims),
                              self.activation, linear=bool(self.linear),
                              linear_path=self.init == "pca")

    def _init_module(self, module: nn.Module, X_train: torch.Tensor, seed: int) -> None:
        if self.init != "pca":
            return
        X = X_train.double().numpy()
        k = min(int(self.latent_dim), X.shape[0], X.shape[1])
        pca = PCA(n_components=k, random_state=seed).fit(X)
        module.init_from_pca(torch.from_numpy(pca.components_).float(),
                             torch.from_numpy(pca.mean_).float())

    def _loss_fn(self):
        return ReconstructionLoss()


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

    The other parameters are those of :class:`Autoencoder`.
    """

    _constraints = {
        **Autoencoder._constraints,
        "noise": (one_of(*NOISES), f"one of {NOISES}"),
        "noise_level": (is_float(0, lo_open=True), "a float > 0 (at most 1 for masking and salt_pepper)"),
    }

    def __init__(self, latent_dim=8, *, noise="gaussian", noise_level=0.3, hidden_dims=(64, 32),
                 linear=False, init="pca", activation="relu", scaling="standard", max_epochs=200,
                 batch_size="auto", lr=3e-3, weight_decay=0.0, optimizer="adam",
                 lr_schedule="plateau", patience=10, validation_fraction=0.1, grad_clip=5.0,
                 random_state=None, verbose=0, device="auto"):
        super().__init__(
            latent_dim, hidden_dims=hidden_dims, linear=linear, init=init, activation=activation,
            scaling=scaling, max_epochs=max_epochs, batch_size=batch_size, lr=lr,
            weight_decay=weight_decay, optimizer=optimizer, lr_schedule=lr_schedule,
            patience=patience, validation_fraction=validation_fraction, grad_clip=grad_clip,
            random_state=random_state, verbose=verbose, device=device)
        self.noise = noise
        self.noise_level = noise_level

    def _corruption(self, X_scaled: np.ndarray) -> Corruption:
        if self.noise in ("masking", "salt_pepper") and self.noise_level > 1:
            raise ParameterError(
                f"The 'noise_level' parameter of {type(self).__name__} must be a probability "
                f"in (0, 1] for noise={self.noise!r}. Got {self.noise_level!r} instead.")
        device = resolve_device(self.device)
        low = torch.from_numpy(X_scaled.min(axis=0).astype(np.float32)).to(device)
        high = torch.from_numpy(X_scaled.max(axis=0).astype(np.float32)).to(device)
        return Corruption(self.noise, float(self.noise_level), low, high)
