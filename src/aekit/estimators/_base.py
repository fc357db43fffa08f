"""Shared machinery of the autoencoder estimators: validation, scaling, fitting, inference.

Subclasses say which network to build (``_build_module``), which objective to train
(``_loss_fn``) and, for denoising, how to corrupt inputs (``_corruption``). Everything else -
the scikit-learn contract, reproducibility, chunked inference - lives here once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from torch import nn

from aekit import _threads
from aekit.anomaly.attribution import error_shares
from aekit.choices import SCALINGS
from aekit.data.columns import MOSTLY_MISSING
from aekit.data.schema import InputSpec, as_frame, in_kind_of
from aekit.data.validation import check_features
from aekit.estimators._fitting import HoldOutRule, draw_seeds, prepare_training
from aekit.estimators._inputs import FittedInputMixin
from aekit.estimators._params import (
    Constraint,
    int_sequence,
    is_float,
    is_int,
    one_of,
    random_state_like,
    validate_params,
)
from aekit.exceptions import NotFittedError, ParameterError
from aekit.model_files import write_model
from aekit.nn.heads import CellLayout
from aekit.nn.layers import ACTIVATIONS
from aekit.training import History, TrainConfig, resolve_device, train
from aekit.training.losses import CellLoss
from aekit.training.missing import FillMissing, MaskedReconstructionLoss, filled, observed_mse

CONSTANT_FILL_SHARE = 0.5  # a constant column with values in this share of rows is filled
INFERENCE_CHUNK = 65536  # rows per forward pass at inference: large, but bounded memory
# Images per forward pass for convolutional networks: their activations are ~100x larger
# than the input, so smaller chunks bound memory and run faster per image on CPU.
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
    "column_roles": (lambda v: v is None or isinstance(v, dict),
                     "None or a dict of column name -> role"),
}

# Parameters of the estimators that can take images (Autoencoder, DenoisingAutoencoder, VAE).
IMAGE_CONSTRAINTS: dict[str, Constraint] = {
    "architecture": (one_of("auto", "mlp", "conv"), "one of ('auto', 'mlp', 'conv')"),
    "channels": (lambda v: int_sequence(v) and len(v) > 0,
                 "a non-empty sequence of ints >= 1, e.g. (32, 64)"),
}


IMPUTE_REFINEMENTS = 0  # passes that feed a fill back in (BENCHMARKS.md section 8)


def auto_batch_size(n_train: int) -> int:
    """Batch size for ``batch_size="auto"``: about n/32 rows, a power of two in [32, 1024].

    Small data still gets ~32 optimizer steps per epoch; large data gets batches big enough
    that the per-step Python overhead is amortised and the CPU cores stay busy.
    """
    if n_train <= 64:
        return max(8, n_train // 4) if n_train >= 32 else max(1, n_train)
    return int(min(1024, max(32, 2 ** math.floor(math.log2(n_train / 32)))))


# Rows seen in training (epochs x training rows) that max_epochs="auto" allows: small tables
# keep 200 epochs for early stopping to end; large ones get a few long epochs, beyond which
# returns diminish (BENCHMARKS.md section 1).
EPOCH_BUDGET_ROWS = 600_000
MIN_AUTO_EPOCHS, MAX_AUTO_EPOCHS = 3, 200


def auto_max_epochs(n_train: int, budget_rows: int = EPOCH_BUDGET_ROWS) -> int:
    """Epochs for ``max_epochs="auto"``: ``budget_rows / n_train`` within [3, 200]."""
    return int(np.clip(round(budget_rows / max(n_train, 1)), MIN_AUTO_EPOCHS,
                       MAX_AUTO_EPOCHS))


# lr="auto" for MLPs: BASE_LR up to BASE_LR_BATCH rows, then growing with sqrt(batch size)
# up to MAX_AUTO_LR (Adam's square-root rule, Malladi et al. 2022): fewer, larger steps per
# epoch need a larger rate. Convolutional networks keep BASE_LR: larger ones trained worse.
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


class BaseAutoencoder(FittedInputMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
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

    def _handles_missing(self) -> bool:
        """Whether this model can train on missing cells (a masked MSE loss)."""
        return False

    def _warn_if_it_can_copy(self, spec: InputSpec) -> None:
        """Warn where the network can learn to copy its input (see Autoencoder)."""

    def _has_heads(self) -> bool:
        """Whether this model reconstructs categorical columns with softmax heads (its
        likelihood is a squared error or Gaussian; a BCE model treats every slot as a pixel)."""
        return False

    def _training_loss(self, missing: bool):
        if self.cell_layout_ is not None:
            return CellLoss(self.cell_layout_)
        return MaskedReconstructionLoss() if missing else self._loss_fn()

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

    # ------------------------------------------------------------------ the input contract
    def _is_image_model(self) -> bool:
        return self.image_shape_ is not None

    def _use_conv(self) -> bool:
        """Convolutional network: ``architecture="conv"``, or "auto" with image input."""
        arch = getattr(self, "architecture", "mlp")
        return arch == "conv" or (arch == "auto" and self._is_image_model())

    def _image_chw(self) -> tuple[int, int, int]:
        return self.input_spec_.image_chw

    def _scaling_for(self, spec: InputSpec) -> str:
        """``scaling="auto"``: none for images (pixels are in [0, 1]), standard otherwise."""
        if self.scaling == "auto":
            return "none" if spec.is_images else "standard"
        return self.scaling

    def _threads(self, device: torch.device) -> int | None:
        return _threads.conv_threads(device) if self._use_conv() else None

    @property
    def inference_rows(self) -> int:
        """Rows per forward pass at inference: large, but bounded memory."""
        return CONV_INFERENCE_CHUNK if self._use_conv() else INFERENCE_CHUNK

    def _scaled_tensor(self, X: Any, source: str = "X") -> torch.Tensor:
        """New input checked against the contract, scaled, as a float32 (n, d) tensor."""
        self._check_is_fitted()
        spec = self.input_spec_
        rows = spec.rows(X, source=source, estimator_name=type(self).__name__)
        return torch.from_numpy(spec.encode_float32(rows))

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
    def fit(self, X: Any, y: Any = None, *, X_val: Any = None, checkpoint: Any = None,
            allow_missing: bool = False, cell_layout: CellLayout | None = None) -> BaseAutoencoder:
        """Learn to reconstruct ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), images, or ParquetRows
            A :class:`aekit.ParquetRows` (Parquet files larger than memory) is streamed:
            row groups in a new random order every epoch, rows shuffled within a buffer.
        y : ignored
            Present for API consistency (pipelines pass it).
        X_val : array-like, optional
            Rows for early stopping instead of a random ``validation_fraction`` of ``X``.
        checkpoint : aekit.training.checkpoint.Checkpoint, optional
            Save the training state every ``checkpoint.every`` epochs; with
            ``checkpoint.resume``, continue an interrupted fit of the same data and
            parameters. On CPU the result is bit-identical to an uninterrupted fit.
        allow_missing : bool, default=False
            Accept missing cells (NaN) in array input too (DataFrames with roles always
            do): they are left out of the loss and of each row's error.
        cell_layout : aekit.nn.heads.CellLayout, optional
            Which encoded columns are one-hot categorical blocks, reconstructed by softmax
            heads. By default that of ``X``'s own columns; the AnomalyDetector passes its
            table's layout to its members, which it fits on encoded rows.

        Returns
        -------
        self
        """
        validate_params(self, self._constraints)
        started = time.perf_counter()
        seed = draw_seeds(self.random_state)
        device = resolve_device(self.device)
        data = prepare_training(
            X, scaling=self._scaling_for, hold_out=HoldOutRule(float(self.validation_fraction)),
            seed=seed, X_val=X_val, estimator_name=type(self).__name__,
            progress=self.verbose > 0, column_roles=self.column_roles,
            allow_missing=allow_missing,
            images="required" if getattr(self, "architecture", "mlp") == "conv" else "auto")
        self.input_spec_ = data.spec
        self._warn_if_it_can_copy(data.spec)
        if cell_layout is None:
            blocks = data.spec.categorical_blocks()
            cell_layout = CellLayout(data.spec.n_features, blocks) if blocks else None
        self.cell_layout_ = cell_layout if self._has_heads() else None
        if data.missing and not self._handles_missing():
            raise ParameterError(
                f"{type(self).__name__} with these parameters cannot train on missing cells "
                "(they need loss='mse', or for a VAE likelihood='gaussian'). Impute them, or use "
                "the default loss or likelihood.")
        as_tensor = lambda rows: torch.from_numpy(  # noqa: E731
            np.ascontiguousarray(rows, dtype=np.float32))
        X_val_t = as_tensor(data.held_out).to(device) if data.held_out is not None else None
        train_source = data.batches(seed, device)
        module, history = self._train_module(train_source, X_val_t,
                                             filled(as_tensor(data.sample)), data.bounds, seed,
                                             device, checkpoint, missing=data.missing)
        whole = filled(as_tensor(data.all_rows))
        if history.best_epoch < 0:
            # Training never beat the initial solution: keep it, fitted on every row.
            self._init_module(module, whole, seed)
        return self._finish_fit(module, history, data.n_rows, whole, seed, started)

    def _train_module(self, data: Any, X_val: torch.Tensor | None, init_rows: torch.Tensor,
                      bounds: np.ndarray, seed: int, device: torch.device,
                      checkpoint: Any, missing: bool = False) -> tuple[nn.Module, History]:
        """Build the network, start it from ``init_rows`` (the PCA start) and train it on
        ``data`` (a tensor or a stream), with torch's random state forked and seeded so the
        caller's stays untouched. ``bounds``: the scaled per-feature minimum and maximum,
        which bound the corruption of denoising models (and check [0, 1] for BCE/Bernoulli)."""
        fork_devices = [device] if device.type == "cuda" else []
        n_train = data.shape[0] if isinstance(data, torch.Tensor) else data.n_rows
        with torch.random.fork_rng(devices=fork_devices), \
                _threads.torch_threads(self._threads(device)):
            torch.manual_seed(seed)
            module = self._build_module(self.input_spec_.n_features)
            self._init_module(module, init_rows, seed)
            module = module.to(device)
            # with missing cells the network sees the scaled centre and the loss skips them
            net = FillMissing(module) if missing else module
            loss = self._training_loss(missing)
            history = train(net, loss, data, X_val, self._train_config(n_train),
                            corrupt=self._corruption(bounds), checkpoint=checkpoint)
        return module.cpu(), history

    def _finish_fit(self, module: nn.Module, history: History, n_samples: int,
                    rows: torch.Tensor, seed: int, started: float) -> BaseAutoencoder:
        """Keep the trained network and compute the fitted extras on ``rows``."""
        self.module_ = module.eval()
        self.history_ = history
        self.n_train_samples_ = int(n_samples)
        with torch.random.fork_rng(devices=[]), \
                _threads.torch_threads(self._threads(torch.device("cpu"))):
            torch.manual_seed(seed)
            self._after_fit(rows)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    # ------------------------------------------------------------------ inference
    @torch.inference_mode()
    def _map_chunks(self, fn, tensor: torch.Tensor) -> np.ndarray:
        """Apply ``fn`` to large chunks of rows; return the concatenated float64 result."""
        self.module_.eval()
        step = self.inference_rows
        cpu = torch.device("cpu")
        threads = self._threads(cpu)
        if threads is None:
            threads = _threads.step_threads(self.module_, min(step, tensor.shape[0]), cpu)
        with _threads.torch_threads(threads):
            outs = [at_least_rows(fn, tensor[i:i + step]) for i in range(0, tensor.shape[0], step)]
        return torch.cat(outs).double().numpy()

    # Scaled tensors in, tensors out: the network as the detector's scorer and ONNX export
    # compose it (``transform`` and ``reconstruct`` wrap these with the input contract).
    def encode_scaled(self, x: torch.Tensor) -> torch.Tensor:
        """Latent codes (the posterior mean for a VAE) of scaled rows ``x``."""
        return self.module_.encode(x)

    def decode_scaled(self, z: torch.Tensor) -> torch.Tensor:
        """Scaled reconstructions of latent codes ``z``."""
        return self.module_.decode(z)

    def reconstruct_scaled(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_scaled(self.encode_scaled(x))

    def decode_raw_scaled(self, z: torch.Tensor) -> torch.Tensor:
        """What the errors are measured on: the decoder's output with logits in the
        categorical heads (without heads, :meth:`decode_scaled`)."""
        if self.cell_layout_ is None:
            return self.decode_scaled(z)
        return self.module_.decode_raw(z)

    def reconstruct_raw_scaled(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_raw_scaled(self.encode_scaled(x))

    def cell_errors_scaled(self, recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Each cell's error of scaled rows ``x`` (NaN: missing) for the output ``recon``
        of :meth:`decode_raw_scaled`: squared, a categorical column's deviance in its first
        slot (:mod:`aekit.nn.heads`); 0 for a missing cell."""
        if self.cell_layout_ is not None:
            return self.cell_layout_.cell_errors(recon, x)
        f = filled(x)
        if f is x:
            return (recon - x).pow(2)
        return (recon - f).pow(2) * ~torch.isnan(x)

    def row_errors_scaled(self, recon: torch.Tensor, x: torch.Tensor, *,
                          complete: bool = False) -> torch.Tensor:
        """Each row's mean cell error over its observed columns (see cell_errors_scaled).
        ``complete``: the caller has checked that no cell of ``x`` is missing."""
        if self.cell_layout_ is not None:
            return self.cell_layout_.row_errors(recon, x)
        if not complete and torch.isnan(x).any():
            return observed_mse(recon, x)
        return (recon - x).pow(2).flatten(1).mean(dim=1)

    def transform(self, X: Any) -> np.ndarray:
        """Latent codes, shape (n_samples, latent_dim); the posterior mean for a VAE.

        ``X`` is a table (n_samples, n_features), or for a model fitted on images, images of
        the training shape (or the same pixels flattened).
        """
        return self._map_chunks(lambda c: self.encode_scaled(filled(c)), self._scaled_tensor(X))

    def inverse_transform(self, X: Any) -> Any:
        """Decode latent codes back to data space (original units), shape (n, n_features).

        For a model fitted on images: shape ``(n, *image_shape_)``. For a table with text,
        dates or identifiers: a DataFrame of its feature columns
        (:meth:`aekit.data.schema.InputSpec.decoded_table`).
        """
        self._check_is_fitted()
        Z, _ = check_features(X, source="latent codes", n_features=int(self.latent_dim),
                              estimator_name=f"{type(self).__name__}'s decoder")
        Z = torch.from_numpy(np.ascontiguousarray(Z, dtype=np.float32))
        return self._decoded_form(self.input_spec_.decode(self._map_chunks(self.decode_scaled,
                                                                           Z)))

    def _decoded_form(self, decoded: np.ndarray) -> Any:
        """Decoded rows (data units) as images, a table of feature columns, or rows."""
        if self._is_image_model():
            return self.input_spec_.as_images(decoded)
        if self.input_spec_.columns is not None:
            return self.input_spec_.decoded_table(decoded)
        return decoded

    def reconstruct(self, X: Any) -> np.ndarray:
        """Reconstructions in the input's units, shape (n_samples, n_features).

        For a denoising autoencoder this is the denoised data. For a model fitted on images,
        the output has the input's shape: (N, H, W) in, (N, H, W) out; (N, C, H, W) in,
        (N, C, H, W) out. For a table with text, dates or identifiers given as a DataFrame,
        a DataFrame with its columns: numbers, booleans and the most likely category in
        their own form, the other columns as they were.
        """
        rows = self.input_spec_.decode(self._map_chunks(
            lambda c: self.reconstruct_scaled(filled(c)), self._scaled_tensor(X)))
        return in_kind_of(self.input_spec_.output_like(rows, X), X)

    def impute(self, X: Any, *, refinements: int = IMPUTE_REFINEMENTS) -> Any:
        """``X`` with every missing cell filled and every observed cell exactly as it was.

        A missing number gets its reconstruction, within the range its column holds in
        ``X``: the network sees the column's centre there first, then, ``refinements``
        times, its own previous fill (each pass reads the other filled cells of the row
        too). A missing category or boolean gets the most likely training value, and a
        column of one value that value where it holds at least half the cells. Where most
        cells are empty (a note such as "late delivery", the answer to a follow-up
        question), an empty cell likely means "none" and stays empty. Identifiers, text
        and dates are not filled. A DataFrame comes back as a DataFrame with its columns and dtypes; an
        array as an array.
        """
        self._check_is_fitted()
        if not isinstance(refinements, (int, np.integer)) or refinements < 0:
            raise ParameterError(f"refinements must be an int >= 0. Got {refinements!r} instead.")
        spec = replace(self.input_spec_, allow_missing=True)
        rows = spec.rows(X, estimator_name=type(self).__name__)
        encoded = spec.encode_float32(spec.without_missing_levels(rows))

        def fill(chunk: torch.Tensor) -> torch.Tensor:
            gaps, x = torch.isnan(chunk), filled(chunk)
            recon = self.reconstruct_scaled(x)
            for _ in range(int(refinements) if x is not chunk else 0):
                x = torch.where(gaps, recon, x)
                recon = self.reconstruct_scaled(x)
            return recon

        recon = spec.within_observed(
            spec.decode(self._map_chunks(fill, torch.from_numpy(encoded))), rows)
        out = spec.output_like(recon, X)
        if hasattr(out, "columns"):  # a table: observed cells back from the input
            frame = as_frame(X)
            frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
            if spec.columns is None:
                out = frame.copy()
                for j, name in enumerate(spec.column_names()):
                    missing = out[name].isna().to_numpy()
                    if missing.any():
                        out.loc[missing, name] = recon[missing, j]
                return in_kind_of(out, X)
            notes = {c.name for c in spec.columns if c.role in ("categorical", "boolean")
                     and c.missing >= MOSTLY_MISSING}
            for name, missing in spec.missing_cells(rows, frame).items():
                # a category mostly empty in fit (a note, a follow-up answer): an empty
                # cell there likely means "none" or "not asked", so it stays empty
                out[name] = frame[name].where(~missing, out[name]) if missing.any() \
                    and name not in notes else frame[name]
            for column in spec.columns:
                # a constant column's one value fills its gaps where it holds most cells;
                # where most are empty (a note, a flag), an empty cell means "none"
                if column.role == "constant" and column.levels and column.name in out \
                        and out[column.name].notna().mean() >= CONSTANT_FILL_SHARE:
                    out[column.name] = out[column.name].where(
                        out[column.name].notna(), column.levels[0])
            return in_kind_of(out, X)
        values = np.asarray(X, dtype=np.float64).reshape(recon.shape)
        filled_rows = np.where(np.isnan(values), recon, values)
        return spec.shaped_like(filled_rows, X)

    def error_map(self, X: Any) -> np.ndarray:
        """Squared reconstruction error of every pixel (feature) in the scaled space.

        Same shape as ``X``: ``(N, H, W)`` or ``(N, C, H, W)`` for images, where it shows
        *where* an image is badly reconstructed; ``(n_samples, n_features)`` for tables.
        Its mean over each sample's pixels is :meth:`reconstruction_error`.
        """
        x = self._scaled_tensor(X)
        rows = self._map_chunks(self._squared_errors, x)
        return self.input_spec_.shaped_like(rows, X)

    def _squared_errors(self, c: torch.Tensor) -> torch.Tensor:
        """Each cell's error (squared; deviance for categorical heads); 0 for a missing cell."""
        return self.cell_errors_scaled(self.reconstruct_raw_scaled(filled(c)), c)

    def feature_contributions(self, X: Any) -> np.ndarray:
        """Each input column's share of each row's squared reconstruction error (scaled
        space; one-hot parts summed), shape (n_samples, n_input_columns), columns in the
        order of ``feature_names_in_``; rows sum to 1."""
        x = self._scaled_tensor(X)
        squared = self._map_chunks(self._squared_errors, x)
        return self.input_spec_.per_input_column(error_shares(squared))[1]

    def reconstruction_error(self, X: Any) -> np.ndarray:
        """Mean squared error per sample in the scaled space, shape (n_samples,).

        Measured after scaling so every feature counts alike whatever its unit. Higher means
        worse reconstructed (more anomalous). A categorical column counts once, with its
        deviance ``-2 log p(value)`` (:mod:`aekit.nn.heads`); missing cells do not count.
        """
        x = self._scaled_tensor(X)

        return self._map_chunks(
            lambda c: self.row_errors_scaled(self.reconstruct_raw_scaled(filled(c)), c), x)

    def score(self, X: Any, y: Any = None) -> float:
        """Negative mean reconstruction error (higher is better, as scikit-learn expects)."""
        return -float(np.mean(self.reconstruction_error(X)))

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Save to directory ``path`` (safetensors + JSON; atomic). Load with ``aekit.load``."""
        write_model(self, path)

    def _weights(self) -> dict[str, torch.Tensor]:
        return self.module_.state_dict()

    def _history_dict(self) -> dict[str, Any]:
        return self.history_.to_dict()

    def _fitted_state(self) -> dict[str, Any]:
        return {
            "input": self.input_spec_.to_dict(),
            "n_train_samples_": self.n_train_samples_,
            "fit_seconds_": float(self.fit_seconds_),
            "extras": self._fitted_extras(),
            "cell_layout": None if self.cell_layout_ is None else self.cell_layout_.to_dict(),
        }

    def _restore_fitted_state(self, state: dict[str, Any], weights: dict[str, torch.Tensor],
                              history: dict[str, Any]) -> None:
        self.input_spec_ = InputSpec.from_dict(state["input"])
        self.cell_layout_ = CellLayout.from_dict(state.get("cell_layout"))
        module = self._build_module(self.input_spec_.n_features)
        module.load_state_dict(weights, strict=True)
        self.module_ = module.eval()
        self.history_ = History.from_dict(history)
        self.n_train_samples_ = int(state["n_train_samples_"])
        self.fit_seconds_ = float(state["fit_seconds_"])
        self._restore_extras(state.get("extras", {}))
