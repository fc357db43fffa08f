"""Shared machinery of the autoencoder estimators: validation, scaling, fitting, inference.

Subclasses say which network to build (``_build_module``), which objective to train
(``_loss_fn``) and, for denoising, how to corrupt inputs (``_corruption``). Everything else -
the scikit-learn contract, reproducibility, chunked inference - lives here once.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from torch import nn

from aekit.data.preprocessing import SCALINGS, AffineScaler
from aekit.data.validation import check_features
from aekit.estimators._params import (
    Constraint,
    int_sequence,
    is_float,
    is_int,
    one_of,
    random_state_like,
    validate_params,
)
from aekit.exceptions import NotFittedError
from aekit.nn.layers import ACTIVATIONS
from aekit.training import History, TrainConfig, resolve_device, train

INFERENCE_CHUNK = 65536  # rows per forward pass at inference: large, but bounded memory

COMMON_CONSTRAINTS: dict[str, Constraint] = {
    "latent_dim": (is_int(1), "an int >= 1"),
    "hidden_dims": (int_sequence, "a sequence of ints >= 1, e.g. (64, 32)"),
    "activation": (one_of(*ACTIVATIONS), f"one of {sorted(ACTIVATIONS)}"),
    "scaling": (one_of(*SCALINGS), f"one of {SCALINGS}"),
    "max_epochs": (is_int(1), "an int >= 1"),
    "batch_size": (lambda v: v == "auto" or is_int(1)(v), "'auto' or an int >= 1"),
    "lr": (is_float(0, lo_open=True), "a float > 0"),
    "weight_decay": (is_float(0), "a float >= 0"),
    "optimizer": (one_of("adam", "adamw"), "one of ('adam', 'adamw')"),
    "lr_schedule": (one_of("plateau", "cosine", "constant"),
                    "one of ('plateau', 'cosine', 'constant')"),
    "patience": (is_int(0), "an int >= 0 (0 disables early stopping)"),
    "validation_fraction": (is_float(0, 0.5), "a float in [0, 0.5]"),
    "grad_clip": (is_float(0), "a float >= 0 (0 disables clipping)"),
    "random_state": (random_state_like, "None, an int >= 0 or a RandomState"),
    "verbose": (lambda v: isinstance(v, (bool, int)), "an int (0 = silent)"),
    "device": (lambda v: isinstance(v, (str, torch.device)), "'auto', 'cpu', 'cuda' or a torch.device"),
}


def auto_batch_size(n_train: int) -> int:
    """Batch size for ``batch_size="auto"``: about n/32 rows, a power of two in [32, 1024].

    Small data still gets ~32 optimizer steps per epoch; large data gets batches big enough
    that the per-step Python overhead is amortised and both CPU cores stay busy.
    """
    if n_train <= 64:
        return max(8, n_train // 4) if n_train >= 32 else max(1, n_train)
    return int(min(1024, max(32, 2 ** math.floor(math.log2(n_train / 32)))))


class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class; not for direct use. See :class:`aekit.Autoencoder`."""

    _constraints: dict[str, Constraint] = COMMON_CONSTRAINTS

    # ------------------------------------------------------------------ hooks for subclasses
    def _build_module(self, n_features: int) -> nn.Module:
        raise NotImplementedError

    def _loss_fn(self):
        raise NotImplementedError

    def _init_module(self, module: nn.Module, X_train: torch.Tensor, seed: int) -> None:
        """Data-dependent initialisation (e.g. from PCA) before training; none by default."""

    def _corruption(self, X_scaled: np.ndarray):
        return None

    def _after_fit(self, X_train: torch.Tensor) -> None:
        """Compute fitted extras (e.g. the VAE's KL per dimension) from the training data."""

    def _fitted_extras(self) -> dict[str, Any]:
        return {}

    def _restore_extras(self, extras: dict[str, Any]) -> None:
        pass

    # ------------------------------------------------------------------ sklearn plumbing
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    @property
    def _n_features_out(self) -> int:
        return int(self.latent_dim)

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _validate_X(self, X: Any, *, fit: bool, source: str = "X") -> np.ndarray:
        if fit:
            values, columns = check_features(X, source=source, min_samples=2,
                                             estimator_name=type(self).__name__)
            self.n_features_in_ = values.shape[1]
            if columns is not None and all(isinstance(c, str) for c in getattr(X, "columns", [])):
                self.feature_names_in_ = np.asarray(columns, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return values
        self._check_is_fitted()
        names = getattr(self, "feature_names_in_", None)
        is_frame = hasattr(X, "columns")
        values, _ = check_features(
            X, source=source,
            feature_names=list(names) if (names is not None and is_frame) else None,
            n_features=self.n_features_in_, estimator_name=type(self).__name__,
        )
        return values

    def _scaled_tensor(self, X: Any, source: str = "X") -> torch.Tensor:
        values = self._validate_X(X, fit=False, source=source)
        # C order: a Fortran-ordered input (e.g. DataFrame.to_numpy()) would otherwise take
        # another matmul kernel and give results differing in the last bits.
        return torch.from_numpy(
            np.ascontiguousarray(self.scaler_.transform(values), dtype=np.float32))

    def _train_config(self, n_train: int) -> TrainConfig:
        batch = auto_batch_size(n_train) if self.batch_size == "auto" else int(self.batch_size)
        return TrainConfig(
            max_epochs=int(self.max_epochs), batch_size=batch, lr=float(self.lr),
            weight_decay=float(self.weight_decay), optimizer=self.optimizer,
            lr_schedule=self.lr_schedule, grad_clip=float(self.grad_clip),
            patience=int(self.patience), verbose=int(self.verbose), desc=type(self).__name__,
        )

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, *, X_val: Any = None) -> BaseAutoencoder:
        """Learn to reconstruct ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : ignored
            Present for API consistency (pipelines pass it).
        X_val : array-like, optional
            Rows for early stopping instead of a random ``validation_fraction`` of ``X``.

        Returns
        -------
        self
        """
        validate_params(self, self._constraints)
        started = time.perf_counter()
        values = self._validate_X(X, fit=True)
        self.scaler_ = AffineScaler.fit(values, self.scaling)
        scaled = self.scaler_.transform(values).astype(np.float32)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        n = scaled.shape[0]
        device = resolve_device(self.device)
        if X_val is not None:
            val_values, _ = check_features(X_val, source="X_val", n_features=self.n_features_in_,
                                           estimator_name=type(self).__name__)
            X_train = torch.from_numpy(scaled).to(device)
            X_val = torch.from_numpy(self.scaler_.transform(val_values).astype(np.float32)).to(device)
        else:
            n_val = int(round(self.validation_fraction * n)) if n >= 20 else 0
            order = np.random.default_rng(seed).permutation(n)
            train_rows, val_rows = order[n_val:], order[:n_val]
            X_train = torch.from_numpy(scaled[np.sort(train_rows)]).to(device)
            X_val = torch.from_numpy(scaled[np.sort(val_rows)]).to(device) if n_val else None
        fork_devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(seed)
            module = self._build_module(self.n_features_in_)
            self._init_module(module, X_train.cpu(), seed)
            module = module.to(device)
            history = train(module, self._loss_fn(), X_train, X_val,
                            self._train_config(X_train.shape[0]),
                            corrupt=self._corruption(scaled))
        module = module.cpu()
        if history.best_epoch < 0:
            # Training never beat the initial solution: keep it, fitted on every row.
            self._init_module(module, torch.from_numpy(scaled), seed)
        self.module_ = module.eval()
        self.history_ = history
        self.n_train_samples_ = int(n)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._after_fit(torch.from_numpy(scaled))
        self.fit_seconds_ = time.perf_counter() - started
        return self

    # ------------------------------------------------------------------ inference
    @torch.inference_mode()
    def _map_chunks(self, fn, tensor: torch.Tensor) -> np.ndarray:
        """Apply ``fn`` to large chunks of rows; return the concatenated float64 result."""
        self.module_.eval()
        outs = [fn(tensor[i:i + INFERENCE_CHUNK]) for i in range(0, tensor.shape[0], INFERENCE_CHUNK)]
        return torch.cat(outs).double().numpy()

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.module_.encode(x)

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.module_.decode(z)

    def transform(self, X: Any) -> np.ndarray:
        """Latent codes, shape (n_samples, latent_dim); the posterior mean for a VAE."""
        return self._map_chunks(self._encode, self._scaled_tensor(X))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Decode latent codes back to data space (original units), shape (n, n_features)."""
        self._check_is_fitted()
        Z, _ = check_features(X, source="latent codes", n_features=int(self.latent_dim),
                              estimator_name=f"{type(self).__name__}'s decoder")
        Z = torch.from_numpy(np.ascontiguousarray(Z, dtype=np.float32))
        decoded = self._map_chunks(self._decode, Z)
        return self.scaler_.inverse_transform(decoded)

    def _reconstruct_scaled(self, x: torch.Tensor) -> torch.Tensor:
        return self._decode(self._encode(x))

    def reconstruct(self, X: Any) -> np.ndarray:
        """Reconstructions in the input's units, shape (n_samples, n_features).

        For a denoising autoencoder this is the denoised data.
        """
        return self.scaler_.inverse_transform(
            self._map_chunks(self._reconstruct_scaled, self._scaled_tensor(X)))

    def reconstruction_error(self, X: Any) -> np.ndarray:
        """Mean squared error per sample in the scaled space, shape (n_samples,).

        Measured after scaling so every feature counts alike whatever its unit. Higher means
        worse reconstructed (more anomalous).
        """
        x = self._scaled_tensor(X)

        def per_row(chunk: torch.Tensor) -> torch.Tensor:
            return (self._reconstruct_scaled(chunk) - chunk).pow(2).flatten(1).mean(dim=1)

        return self._map_chunks(per_row, x)

    def score(self, X: Any, y: Any = None) -> float:
        """Negative mean reconstruction error (higher is better, as scikit-learn expects)."""
        return -float(np.mean(self.reconstruction_error(X)))

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Save to directory ``path`` (safetensors + JSON; atomic). Load with ``aekit.load``."""
        from aekit.persistence import save

        save(self, path)

    def _weights(self) -> dict[str, torch.Tensor]:
        return self.module_.state_dict()

    def _history_dict(self) -> dict[str, Any]:
        return self.history_.to_dict()

    def _fitted_state(self) -> dict[str, Any]:
        state = {
            "n_features_in_": int(self.n_features_in_),
            "scaler_": self.scaler_.to_dict(),
            "n_train_samples_": self.n_train_samples_,
            "fit_seconds_": float(self.fit_seconds_),
            "extras": self._fitted_extras(),
        }
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in_"] = [str(c) for c in self.feature_names_in_]
        return state

    def _restore_fitted_state(self, state: dict[str, Any], weights: dict[str, torch.Tensor],
                              history: dict[str, Any]) -> None:
        self.n_features_in_ = int(state["n_features_in_"])
        if "feature_names_in_" in state:
            self.feature_names_in_ = np.asarray(state["feature_names_in_"], dtype=object)
        self.scaler_ = AffineScaler.from_dict(state["scaler_"])
        if self.scaler_.center.shape != (self.n_features_in_,):
            raise ValueError("scaler size does not match n_features_in_")
        module = self._build_module(self.n_features_in_)
        module.load_state_dict(weights, strict=True)
        self.module_ = module.eval()
        self.history_ = History.from_dict(history)
        self.n_train_samples_ = int(state["n_train_samples_"])
        self.fit_seconds_ = float(state["fit_seconds_"])
        self._restore_extras(state.get("extras", {}))
