"""Variational autoencoder estimator."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn

from aekit.estimators._base import COMMON_CONSTRAINTS, IMAGE_CONSTRAINTS, BaseAutoencoder
from aekit.estimators._params import is_float, is_int, one_of
from aekit.exceptions import ParameterError
from aekit.nn.conv import ConvVAE, channels_last
from aekit.nn.outputs import AEOutput
from aekit.nn.vae import MLPVAE, elbo_terms
from aekit.training.losses import ELBOLoss
from aekit.training.missing import filled

ACTIVE_UNIT_KL = 0.01  # nats: a latent dimension carrying less than this is "inactive"


class VAE(BaseAutoencoder):
    """Variational autoencoder: an encoder to (mu, logvar), a decoder, and an ELBO objective.

    Loss per sample = reconstruction negative log-likelihood + beta * KL(q(z|x) || N(0, I)),
    the KL summed over latent dimensions, averaged over the batch. Training samples z with
    the reparameterisation trick; ``transform``, ``reconstruct`` and scores use the posterior
    mean, so they are deterministic.

    Parameters
    ----------
    latent_dim : int, default=8
    beta : float, default=1.0
        Weight of the KL term (beta-VAE, Higgins et al. 2017); 1 gives the true ELBO.
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Gaussian with a learned per-feature scale for real-valued data; Bernoulli for data in
        [0, 1] (requires ``scaling`` "none" or "minmax").
    kl_warmup_epochs : int, default=0
        Ramp beta linearly from beta/kl_warmup_epochs to beta over these epochs.
    architecture : {"auto", "mlp", "conv"}, default="auto"
        "auto": convolutional encoder and decoder for images, MLP for tables. For images
        in [0, 1], ``likelihood="bernoulli"`` is the usual choice.

    The other parameters are those of :class:`aekit.Autoencoder` (except ``linear``,
    ``init`` and ``loss``). Images go in as for :class:`aekit.Autoencoder`; ``sample``
    and ``inverse_transform`` return images shaped ``(n, *image_shape_)``.

    Attributes
    ----------
    kl_per_dim_ : ndarray of shape (latent_dim,)
        Average KL (nats) each latent dimension carries on the training data.
    active_units_ : int
        Number of dimensions with ``kl_per_dim_`` above 0.01 nats.
    """

    # A VAE learns more slowly (its latent code is noisy) and larger rates worsen its ELBO,
    # so it keeps a larger "auto" budget and a constant 3e-3 (BENCHMARKS.md section 1).
    _epoch_budget_rows = 2_000_000

    def _auto_lr(self, batch_size: int) -> float:
        return 3e-3

    _constraints = {
        **COMMON_CONSTRAINTS,
        **IMAGE_CONSTRAINTS,
        "beta": (is_float(0), "a float >= 0"),
        "likelihood": (one_of("gaussian", "bernoulli"), "one of ('gaussian', 'bernoulli')"),
        "kl_warmup_epochs": (is_int(0), "an int >= 0"),
    }

    def __init__(self, latent_dim=8, *, beta=1.0, likelihood="gaussian", kl_warmup_epochs=0,
                 hidden_dims=(64, 32), architecture="auto", channels=(32, 64), activation="relu",
                 scaling="auto", max_epochs="auto", batch_size="auto", lr=3e-3, weight_decay=0.0,
                 optimizer="adam", lr_schedule="plateau", patience=10, validation_fraction=0.1,
                 grad_clip=5.0, random_state=None, verbose=0, device="auto", column_roles=None):
        self.latent_dim = latent_dim
        self.beta = beta
        self.likelihood = likelihood
        self.kl_warmup_epochs = kl_warmup_epochs
        self.hidden_dims = hidden_dims
        self.architecture = architecture
        self.channels = channels
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

    def _build_module(self, n_features: int) -> nn.Module:
        if self._use_conv():
            return channels_last(ConvVAE(self._image_chw(), int(self.latent_dim),
                                         tuple(self.channels), self.activation,
                                         likelihood=self.likelihood))
        return MLPVAE(n_features, int(self.latent_dim), tuple(self.hidden_dims), self.activation,
                      likelihood=self.likelihood, heads=self.cell_layout_)

    def _loss_fn(self):
        return ELBOLoss(self.beta, self.kl_warmup_epochs)

    def _has_heads(self) -> bool:
        return self.likelihood == "gaussian"

    def _handles_missing(self) -> bool:
        return self.likelihood == "gaussian"  # its likelihood leaves missing cells out

    def _training_loss(self, missing: bool):
        return self._loss_fn()  # the likelihood covers categorical heads itself

    def _corruption(self, X_scaled: np.ndarray):
        if self.likelihood == "bernoulli" and (X_scaled.min() < 0 or X_scaled.max() > 1):
            raise ParameterError(
                "likelihood='bernoulli' needs data in [0, 1] after scaling, but the scaled data "
                f"spans [{X_scaled.min():.3g}, {X_scaled.max():.3g}]. Use scaling='minmax' or "
                "scaling='none' with [0, 1] data, or likelihood='gaussian'.")
        return None

    def encode_scaled(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean of scaled rows ``x``."""
        return self.module_.encode(x)[0]

    def _after_fit(self, X_train: torch.Tensor) -> None:
        with torch.inference_mode():
            self.module_.eval()
            kl = torch.zeros(int(self.latent_dim), dtype=torch.float64)
            step = self.inference_rows
            for i in range(0, X_train.shape[0], step):
                mu, logvar = self.module_.encode(X_train[i:i + step])
                kl += (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)).double().sum(dim=0)
        self.kl_per_dim_ = (kl / X_train.shape[0]).numpy()
        self.active_units_ = int((self.kl_per_dim_ > ACTIVE_UNIT_KL).sum())

    def _fitted_extras(self) -> dict[str, Any]:
        return {"kl_per_dim_": self.kl_per_dim_.tolist()}

    def _restore_extras(self, extras: dict[str, Any]) -> None:
        self.kl_per_dim_ = np.asarray(extras["kl_per_dim_"], dtype=np.float64)
        self.active_units_ = int((self.kl_per_dim_ > ACTIVE_UNIT_KL).sum())

    def negative_elbo(self, X: Any, *, n_samples: int = 1, random_state: Any = 0) -> np.ndarray:
        """Negative ELBO per sample in nats (an upper bound on -log p(x)), shape (n,).

        With ``n_samples=0`` z is the posterior mean (deterministic, cheap); otherwise the
        reconstruction term is averaged over that many posterior samples drawn with
        ``random_state``. For the Gaussian likelihood the log-Jacobian of the scaling is
        added, so values are densities of the data in its original units.
        """
        x = self._scaled_tensor(X)
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        module = self.module_

        def per_row(chunk: torch.Tensor) -> torch.Tensor:
            mu, logvar = module.encode(filled(chunk))
            draws = max(n_samples, 1)
            nll = torch.zeros(chunk.shape[0])
            for _ in range(draws):
                z = mu if n_samples == 0 else mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
                out = AEOutput(recon=module.decoder(z), z=z, mu=mu, logvar=logvar)
                rec, kl = elbo_terms(module, out, chunk)
                nll += rec
            return nll / draws + kl.sum(dim=1)

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            values = self._map_chunks(per_row, x)
        if self.likelihood == "gaussian":
            values = values + float(np.log(self.scaler_.scale).sum())
        return values

    def sample(self, n_samples: int = 1, *, random_state: Any = None,
               include_noise: bool = False) -> Any:
        """Draw ``n_samples`` rows from the generative model, in the original units.

        z ~ N(0, I) from the prior, decoded to the likelihood's mean (for Bernoulli data, the
        pixel probabilities). With ``include_noise=True`` rows are drawn from p(x|z) itself:
        the Gaussian likelihood adds its learned per-feature noise, Bernoulli draws 0/1,
        so sample moments match the data's. Shape (n_samples, n_features), or
        ``(n_samples, *image_shape_)`` for a model fitted on images, or a DataFrame of its
        feature columns for a table with text, dates or identifiers (categories, booleans
        and dates in their own form: :meth:`~aekit.data.schema.InputSpec.decoded_table`).
        """
        self._check_is_fitted()
        if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ParameterError(f"n_samples must be an int >= 1. Got {n_samples!r} instead.")
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)
        z = torch.randn(int(n_samples), int(self.latent_dim), generator=generator)
        if not include_noise:
            return self.inverse_transform(z.numpy())
        with torch.inference_mode():
            mean = self.module_.decode(z)
            if self.likelihood == "bernoulli":
                x = torch.bernoulli(mean, generator=generator)
            else:
                sigma = self.module_.log_sigma.clamp(min=float(np.log(1e-3))).exp()
                x = mean + sigma * torch.randn(mean.shape, generator=generator)
        return self._decoded_form(self.scaler_.inverse_transform(x.double().numpy()))


