"""Shared machinery of the autoencoder estimators: validation, scaling, fitting, inference.

Subclasses say which network to build (``_build_module``), which objective to train
(``_loss_fn``) and, for denoising, how to corrupt inputs (``_corruption``). Everything else -
the scikit-learn contract, reproducibility, chunked inference - lives here once.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from torch import nn

from aekit.data.images import to_image_array
from aekit.data.parquet_rows import HoldOut, ParquetRows, keep_fraction, scan
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
from aekit.exceptions import DataError, NotFittedError, ParameterError
from aekit.nn.layers import ACTIVATIONS
from aekit.training import History, TrainConfig, distributed, resolve_device, train
from aekit.training.batches import StreamBatches
from aekit.training.loop import cpu_threads, step_threads

INFERENCE_CHUNK = 65536  # rows per forward pass at inference: large, but bounded memory
# Images per forward pass for convolutional networks: their activations are ~100x larger
# than the input, and on CPU 2k-image chunks ran ~2x faster per image than 8k ones.
CONV_INFERENCE_CHUNK = 2048

COMMON_CONSTRAINTS: dict[str, Constraint] = {
    "latent_dim": (is_int(1), "an int >= 1"),
    "hidden_dims": (int_sequence, "a sequence of ints >= 1, e.g. (64, 32)"),
    "activation": (one_of(*ACTIVATIONS), f"one of {sorted(ACTIVATIONS)}"),
    "scaling": (one_of("auto", *SCALINGS), f"one of {('auto', *SCALINGS)}"),
    "max_epochs": (lambda v: v == "auto" or is_int(1)(v), "'auto' or an int >= 1"),
    "batch_size": (lambda v: v == "auto" or is_int(1)(v), "'auto' or an int >= 1"),
    "lr": (lambda v: v == "auto" or is_float(0, lo_open=True)(v), "'auto' or a float > 0"),
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

# Parameters of the estimators that can take images (Autoencoder, DenoisingAutoencoder, VAE).
IMAGE_CONSTRAINTS: dict[str, Constraint] = {
    "architecture": (one_of("auto", "mlp", "conv"), "one of ('auto', 'mlp', 'conv')"),
    "channels": (lambda v: int_sequence(v) and len(v) > 0,
                 "a non-empty sequence of ints >= 1, e.g. (32, 64)"),
}


def looks_like_images(X: Any) -> bool:
    """3-D (N, H, W) or 4-D (N, C, H, W) arrays (or nested lists) are images.

    Reads ``X.ndim`` rather than calling ``np.ndim``, so array-likes that only convert on
    request (``__array__``) are not converted here.
    """
    if isinstance(X, (list, tuple)):
        return np.ndim(X) in (3, 4)
    return getattr(X, "ndim", None) in (3, 4) and not hasattr(X, "columns")


def auto_batch_size(n_train: int) -> int:
    """Batch size for ``batch_size="auto"``: about n/32 rows, a power of two in [32, 1024].

    Small data still gets ~32 optimizer steps per epoch; large data gets batches big enough
    that the per-step Python overhead is amortised and both CPU cores stay busy.
    """
    if n_train <= 64:
        return max(8, n_train // 4) if n_train >= 32 else max(1, n_train)
    return int(min(1024, max(32, 2 ** math.floor(math.log2(n_train / 32)))))


# Rows seen in training (epochs x training rows) that max_epochs="auto" allows an
# autoencoder: about half a second for a small MLP on one core. Small tables (up to 3,000
# rows) keep the full 200 epochs, where early stopping decides; large ones get fewer,
# longer epochs (200,000 rows: 3) instead of hundreds of epochs of diminishing returns.
# Measured (BENCHMARKS.md section 1): with the batch-scaled learning rate, 3 epochs on
# 200,000 rows land within 9% of the held-out error of the former 11-epoch default in
# under a third of its time (4 epochs: within 5%, 30% slower than 3).
EPOCH_BUDGET_ROWS = 600_000
MIN_AUTO_EPOCHS, MAX_AUTO_EPOCHS = 3, 200


def auto_max_epochs(n_train: int, budget_rows: int = EPOCH_BUDGET_ROWS) -> int:
    """Epochs for ``max_epochs="auto"``: ``budget_rows / n_train`` within [3, 200]."""
    return int(np.clip(round(budget_rows / max(n_train, 1)), MIN_AUTO_EPOCHS,
                       MAX_AUTO_EPOCHS))


# lr="auto" for MLPs: BASE_LR up to batches of BASE_LR_BATCH rows, growing with the square
# root of the batch size above it (the square-root rule for Adam, Malladi et al. 2022),
# at most MAX_AUTO_LR: batch 1024 gets 6e-3. Larger batches mean fewer steps per epoch;
# measured on 200k x 20 rows the larger rate reaches a lower held-out error at every epoch
# budget tried (3 to 11), on ADBench campaign too. Convolutional networks keep BASE_LR:
# on MNIST at batch 1024, 6e-3 ended 13% above 3e-3's held-out error (conv AE, 8 epochs).
BASE_LR, BASE_LR_BATCH, MAX_AUTO_LR = 3e-3, 256, 1e-2


def auto_learning_rate(batch_size: int) -> float:
    """Adam learning rate for ``lr="auto"``: 3e-3, times sqrt(batch / 256) above 256 rows,
    at most 1e-2."""
    return min(MAX_AUTO_LR, BASE_LR * math.sqrt(max(1.0, batch_size / BASE_LR_BATCH)))


# Fewest rows a forward pass at inference gets (fewer are zero-padded): BLAS takes another
# path for a matrix of one or two rows (matrix-vector kernels), whose rounding differs from
# the matrix-matrix kernels' in the last bits. With the padding a row's outputs do not
# depend on how many rows it was scored with (a 1-row request, the short last chunk of a
# stream, or the whole table at once).
MIN_INFERENCE_ROWS = 16


def at_least_rows(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``fn(x)`` for a batch of rows, computed on at least ``MIN_INFERENCE_ROWS`` rows."""
    n = x.shape[0]
    if n >= MIN_INFERENCE_ROWS:
        return fn(x)
    padding = x.new_zeros((MIN_INFERENCE_ROWS - n, *x.shape[1:]))
    return fn(torch.cat([x, padding]))[:n]


def input_schema_state(estimator: Any) -> dict[str, Any]:
    """What a fitted estimator expects as input, as JSON: width, names, scaler, image shape."""
    state = {"n_features_in_": int(estimator.n_features_in_),
             "scaler_": estimator.scaler_.to_dict()}
    if hasattr(estimator, "feature_names_in_"):
        state["feature_names_in_"] = [str(c) for c in estimator.feature_names_in_]
    if getattr(estimator, "image_shape_", None) is not None:
        state["image_shape_"] = list(estimator.image_shape_)
    return state


def restore_input_schema(estimator: Any, state: dict[str, Any]) -> None:
    """Inverse of :func:`input_schema_state`, checking that the parts agree."""
    estimator.n_features_in_ = int(state["n_features_in_"])
    if "feature_names_in_" in state:
        estimator.feature_names_in_ = np.asarray(state["feature_names_in_"], dtype=object)
    estimator.scaler_ = AffineScaler.from_dict(state["scaler_"])
    if estimator.scaler_.center.shape != (estimator.n_features_in_,):
        raise ValueError("scaler size does not match n_features_in_")
    shape = state.get("image_shape_")
    estimator.image_shape_ = tuple(int(v) for v in shape) if shape is not None else None
    if shape is not None and (len(shape) not in (2, 3)
                              or math.prod(shape) != estimator.n_features_in_):
        raise ValueError("image_shape_ does not match n_features_in_")


class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class; not for direct use. See :class:`aekit.Autoencoder`."""

    _constraints: dict[str, Constraint] = COMMON_CONSTRAINTS
    # Rows seen that max_epochs="auto" allows (see EPOCH_BUDGET_ROWS).
    _epoch_budget_rows: int = EPOCH_BUDGET_ROWS

    def _auto_lr(self, batch_size: int) -> float:
        """The learning rate ``lr="auto"`` resolves to for this batch size."""
        return BASE_LR if self._use_conv() else auto_learning_rate(batch_size)

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

    # ------------------------------------------------------------------ images
    def _is_image_model(self) -> bool:
        return getattr(self, "image_shape_", None) is not None

    def _use_conv(self) -> bool:
        """Convolutional network: ``architecture="conv"``, or "auto" with image input."""
        arch = getattr(self, "architecture", "mlp")
        return arch == "conv" or (arch == "auto" and self._is_image_model())

    def _image_chw(self) -> tuple[int, int, int]:
        """(channels, height, width) of one training image."""
        shape = tuple(self.image_shape_)
        return (1, *shape) if len(shape) == 2 else shape

    def _resolved_scaling(self) -> str:
        """``scaling="auto"``: none for images (pixels are in [0, 1]), standard otherwise."""
        if self.scaling == "auto":
            return "none" if self._is_image_model() else "standard"
        return self.scaling

    def _threads(self, device: torch.device) -> int | None:
        """Intra-op threads for a convolutional network on a small CPU (None: torch's choice).

        On the 2-core CI machine, shared with other jobs, two threads made each conv step
        about 25x slower than one (OpenMP workers spinning on oversubscribed cores), while
        one thread trains MNIST at ~45 ms per batch of 128. Larger machines keep the default.
        """
        if self._use_conv() and device.type == "cpu" and (os.cpu_count() or 1) <= 2:
            return 1
        return None

    def _inference_chunk(self) -> int:
        return CONV_INFERENCE_CHUNK if self._use_conv() else INFERENCE_CHUNK

    def _images_to_rows(self, X: Any, source: str, *, fit: bool) -> np.ndarray:
        """Check images (see :func:`aekit.data.images.to_image_array`); flatten to rows."""
        images = to_image_array(X, source=source)  # (N, C, H, W) float32 in [0, 1]
        if fit:
            self.image_shape_ = tuple(int(s) for s in np.shape(X)[1:])
        elif images.shape[1:] != self._image_chw():
            raise DataError(
                f"{source}: images of shape {tuple(np.shape(X)[1:])} (one image), but "
                f"{type(self).__name__} was fitted on images of shape {self.image_shape_}. "
                "Resize or crop them to the training size.")
        return images.reshape(images.shape[0], -1).astype(np.float64)

    def _like_input(self, rows: np.ndarray, X: Any) -> np.ndarray:
        """Per-pixel results ``(n, n_features)`` back in the layout of images ``X``."""
        if self._is_image_model() and looks_like_images(X):
            return rows.reshape(np.shape(X)[0], *np.shape(X)[1:])
        return rows

    def _validate_X(self, X: Any, *, fit: bool, source: str = "X") -> np.ndarray:
        if fit and looks_like_images(X):
            values = self._images_to_rows(X, source, fit=True)
            if values.shape[0] < 2:
                raise DataError(f"{source}: got 1 image; at least 2 are needed to fit.")
            self.n_features_in_ = values.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return values
        if fit:
            self.image_shape_ = None
            if getattr(self, "architecture", "mlp") == "conv":
                raise DataError(
                    f"{source}: architecture='conv' needs images of shape (n_samples, height, "
                    "width) or (n_samples, channels, height, width); got an array of shape "
                    f"{np.shape(X)}. Reshape flat pixels first, e.g. X.reshape(-1, 28, 28), "
                    "or use architecture='mlp'.")
            values, columns = check_features(X, source=source, min_samples=2,
                                             estimator_name=type(self).__name__)
            self.n_features_in_ = values.shape[1]
            if columns is not None and all(isinstance(c, str) for c in getattr(X, "columns", [])):
                self.feature_names_in_ = np.asarray(columns, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return values
        self._check_is_fitted()
        if self._is_image_model() and looks_like_images(X):
            return self._images_to_rows(X, source, fit=False)
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
        return torch.from_numpy(self.scaler_.transform_float32(values))

    def _train_config(self, n_train: int) -> TrainConfig:
        batch = auto_batch_size(n_train) if self.batch_size == "auto" else int(self.batch_size)
        if batch > n_train:
            raise ParameterError(
                f"The 'batch_size' parameter of {type(self).__name__} is {batch}, larger than the "
                f"{n_train} training rows (after holding out validation rows). Use a batch size "
                f"<= {n_train}, or 'auto'.")
        return TrainConfig(
            max_epochs=(auto_max_epochs(n_train, self._epoch_budget_rows)
                        if self.max_epochs == "auto" else int(self.max_epochs)),
            batch_size=batch, lr=self._auto_lr(batch) if self.lr == "auto" else float(self.lr),
            weight_decay=float(self.weight_decay), optimizer=self.optimizer,
            lr_schedule=self.lr_schedule, grad_clip=float(self.grad_clip),
            patience=int(self.patience), verbose=int(self.verbose), desc=type(self).__name__,
        )

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, *, X_val: Any = None,
            checkpoint: Any = None) -> BaseAutoencoder:
        """Learn to reconstruct ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), or ParquetRows
            A :class:`aekit.data.parquet_rows.ParquetRows` (Parquet files larger than
            memory) is streamed: see :meth:`_fit_stream`.
        y : ignored
            Present for API consistency (pipelines pass it).
        X_val : array-like, optional
            Rows for early stopping instead of a random ``validation_fraction`` of ``X``.
        checkpoint : aekit.training.checkpoint.Checkpoint, optional
            Save the training state every ``checkpoint.every`` epochs; with
            ``checkpoint.resume``, continue an interrupted fit of the same data and
            parameters. On CPU the result is bit-identical to an uninterrupted fit.

        Returns
        -------
        self
        """
        validate_params(self, self._constraints)
        if isinstance(X, ParquetRows):
            return self._fit_stream(X, X_val=X_val, checkpoint=checkpoint)
        started = time.perf_counter()
        values = self._validate_X(X, fit=True)
        self.scaler_ = AffineScaler.fit(values, self._resolved_scaling())
        scaled = self.scaler_.transform_float32(values)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        n = scaled.shape[0]
        device = resolve_device(self.device)
        if X_val is not None:
            if self._is_image_model() and looks_like_images(X_val):
                val_values = self._images_to_rows(X_val, "X_val", fit=False)
            else:
                val_values, _ = check_features(X_val, source="X_val", n_features=self.n_features_in_,
                                               estimator_name=type(self).__name__)
            X_train = torch.from_numpy(scaled).to(device)
            X_val = torch.from_numpy(self.scaler_.transform_float32(val_values)).to(device)
        else:
            n_val = int(round(self.validation_fraction * n)) if n >= 20 else 0
            order = np.random.default_rng(seed).permutation(n)
            train_rows, val_rows = order[n_val:], order[:n_val]
            X_train = torch.from_numpy(scaled[np.sort(train_rows)]).to(device)
            X_val = torch.from_numpy(scaled[np.sort(val_rows)]).to(device) if n_val else None
        module, history = self._train_module(X_train, X_val, X_train.cpu(), scaled, seed,
                                             device, checkpoint)
        if history.best_epoch < 0:
            # Training never beat the initial solution: keep it, fitted on every row.
            self._init_module(module, torch.from_numpy(scaled), seed)
        return self._finish_fit(module, history, n, torch.from_numpy(scaled), seed, started)

    def _train_module(self, data: Any, X_val: torch.Tensor | None, init_rows: torch.Tensor,
                      bounds_from: np.ndarray, seed: int, device: torch.device,
                      checkpoint: Any) -> tuple[nn.Module, History]:
        """Build the network, start it from ``init_rows`` (the PCA start) and train it on
        ``data`` (a tensor or a stream), with torch's random state forked and seeded so the
        caller's stays untouched. ``bounds_from``: rows whose per-feature min and max bound
        the corruption of denoising models (and check [0, 1] for BCE/Bernoulli)."""
        fork_devices = [device] if device.type == "cuda" else []
        n_train = data.shape[0] if isinstance(data, torch.Tensor) else data.n_rows
        with torch.random.fork_rng(devices=fork_devices), cpu_threads(self._threads(device)):
            torch.manual_seed(seed)
            module = self._build_module(self.n_features_in_)
            self._init_module(module, init_rows, seed)
            module = module.to(device)
            history = train(module, self._loss_fn(), data, X_val, self._train_config(n_train),
                            corrupt=self._corruption(bounds_from), checkpoint=checkpoint)
        return module.cpu(), history

    def _finish_fit(self, module: nn.Module, history: History, n_samples: int,
                    rows: torch.Tensor, seed: int, started: float) -> BaseAutoencoder:
        """Keep the trained network and compute the fitted extras on ``rows``."""
        self.module_ = module.eval()
        self.history_ = history
        self.n_train_samples_ = int(n_samples)
        with torch.random.fork_rng(devices=[]), cpu_threads(self._threads(torch.device("cpu"))):
            torch.manual_seed(seed)
            self._after_fit(rows)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _fit_stream(self, rows: ParquetRows, *, X_val: Any = None,
                    checkpoint: Any = None) -> BaseAutoencoder:
        """Fit on Parquet files larger than memory, in two kinds of pass over the files.

        One reading pass gathers the scaling statistics (exact mean/std/min/max; median and
        IQR from a uniform sample), holds out ``validation_fraction`` of the rows for early
        stopping (at most 64 MiB of them) and keeps a sample of up to 64 MiB of training
        rows. The sample stands in for the training rows where a fit needs them all at once:
        the PCA start, a VAE's KL per dimension. Every epoch then streams the remaining rows
        (row groups in random order, rows shuffled within a buffer). Held-out rows are
        chosen by a seeded per-row mask, so they never reach the training stream.
        """
        started = time.perf_counter()
        if getattr(self, "architecture", "mlp") == "conv":
            raise DataError(f"{rows.path}: streaming from Parquet trains on table rows; "
                            "architecture='conv' needs image arrays in memory.")
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        device = resolve_device(self.device)
        self.image_shape_ = None
        self.n_features_in_ = rows.n_features
        self.feature_names_in_ = np.asarray(rows.columns, dtype=object)
        hold_out = None
        if X_val is None and self.validation_fraction > 0 and rows.n_rows >= 20:
            hold_out = HoldOut(seed, keep_fraction(float(self.validation_fraction),
                                                   rows.n_rows, rows.n_features))
        sample_share = keep_fraction(1.0, rows.n_rows, rows.n_features)
        # under torchrun each rank reads its share of the row groups once, then they merge
        found = distributed.gather_scan(scan(
            rows, hold_out=hold_out, sample_fraction=sample_share, sample_seed=seed,
            progress=self.verbose > 0, pieces=distributed.my_pieces(len(rows.pieces))))
        if found.n_rows < 2:
            raise DataError(f"{rows.path}: {found.n_rows} training rows; at least 2 are "
                            "needed to fit.")
        self.scaler_ = AffineScaler.from_moments(found.moments, self._resolved_scaling(),
                                                 found.sample)
        if X_val is not None:
            val_values, _ = check_features(X_val, source="X_val", n_features=self.n_features_in_,
                                           estimator_name=type(self).__name__)
        else:
            val_values = found.held_out if len(found.held_out) else None
        to_tensor = lambda X: torch.from_numpy(self.scaler_.transform_float32(X))  # noqa: E731
        sample = to_tensor(found.sample)
        X_val_t = to_tensor(val_values).to(device) if val_values is not None else None
        # The exact scaled minimum and maximum of every feature: all that the corruption
        # and the [0, 1] checks of BCE / Bernoulli models read from the training data.
        bounds = self.scaler_.transform(np.stack([found.moments.min, found.moments.max]))
        train_rows = rows.without(hold_out) if hold_out is not None else rows
        stream = StreamBatches(train_rows.map(self.scaler_.transform), found.n_rows, seed, device)
        module, history = self._train_module(stream, X_val_t, sample, bounds, seed, device,
                                             checkpoint)
        return self._finish_fit(module, history, found.moments.count, sample, seed, started)

    # ------------------------------------------------------------------ inference
    @torch.inference_mode()
    def _map_chunks(self, fn, tensor: torch.Tensor) -> np.ndarray:
        """Apply ``fn`` to large chunks of rows; return the concatenated float64 result."""
        self.module_.eval()
        step = self._inference_chunk()
        cpu = torch.device("cpu")
        threads = self._threads(cpu)
        if threads is None:
            # Same rule as training: one thread for small work or a machine already busy
            # (measured 9x faster scoring a 65,536-row chunk of a small MLP on 2 loaded
            # cores, 30x for a few hundred rows).
            threads = step_threads(self.module_, min(step, tensor.shape[0]), cpu)
        with cpu_threads(threads):
            outs = [at_least_rows(fn, tensor[i:i + step]) for i in range(0, tensor.shape[0], step)]
        return torch.cat(outs).double().numpy()

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.module_.encode(x)

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.module_.decode(z)

    def transform(self, X: Any) -> np.ndarray:
        """Latent codes, shape (n_samples, latent_dim); the posterior mean for a VAE.

        ``X`` is a table (n_samples, n_features), or for a model fitted on images, images of
        the training shape (or the same pixels flattened).
        """
        return self._map_chunks(self._encode, self._scaled_tensor(X))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Decode latent codes back to data space (original units), shape (n, n_features).

        For a model fitted on images: shape ``(n, *image_shape_)``.
        """
        self._check_is_fitted()
        Z, _ = check_features(X, source="latent codes", n_features=int(self.latent_dim),
                              estimator_name=f"{type(self).__name__}'s decoder")
        Z = torch.from_numpy(np.ascontiguousarray(Z, dtype=np.float32))
        decoded = self.scaler_.inverse_transform(self._map_chunks(self._decode, Z))
        if self._is_image_model():
            return decoded.reshape(decoded.shape[0], *self.image_shape_)
        return decoded

    def _reconstruct_scaled(self, x: torch.Tensor) -> torch.Tensor:
        return self._decode(self._encode(x))

    def reconstruct(self, X: Any) -> np.ndarray:
        """Reconstructions in the input's units, shape (n_samples, n_features).

        For a denoising autoencoder this is the denoised data. For a model fitted on images,
        the output has the input's shape: (N, H, W) in, (N, H, W) out; (N, C, H, W) in,
        (N, C, H, W) out.
        """
        rows = self.scaler_.inverse_transform(
            self._map_chunks(self._reconstruct_scaled, self._scaled_tensor(X)))
        return self._like_input(rows, X)

    def error_map(self, X: Any) -> np.ndarray:
        """Squared reconstruction error of every pixel (feature) in the scaled space.

        Same shape as ``X``: ``(N, H, W)`` or ``(N, C, H, W)`` for images, where it shows
        *where* an image is badly reconstructed; ``(n_samples, n_features)`` for tables.
        Its mean over each sample's pixels is :meth:`reconstruction_error`.
        """
        x = self._scaled_tensor(X)
        rows = self._map_chunks(lambda c: (self._reconstruct_scaled(c) - c).pow(2), x)
        return self._like_input(rows, X)

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
        return {
            **input_schema_state(self),
            "n_train_samples_": self.n_train_samples_,
            "fit_seconds_": float(self.fit_seconds_),
            "extras": self._fitted_extras(),
        }

    def _restore_fitted_state(self, state: dict[str, Any], weights: dict[str, torch.Tensor],
                              history: dict[str, Any]) -> None:
        restore_input_schema(self, state)
        module = self._build_module(self.n_features_in_)
        module.load_state_dict(weights, strict=True)
        self.module_ = module.eval()
        self.history_ = History.from_dict(history)
        self.n_train_samples_ = int(state["n_train_samples_"])
        self.fit_seconds_ = float(state["fit_seconds_"])
        self._restore_extras(state.get("extras", {}))
