"""One way to prepare training data, whatever the input: an array, a DataFrame, images, or
Parquet files larger than memory (:class:`~aekit.data.parquet_rows.ParquetRows`).

:func:`prepare_training` reads the input once through its :class:`InputSpec`, fits the
scaling, holds rows out (for early stopping or calibration) and keeps a sample of the
training rows for what needs them all at once (the PCA start, a VAE's KL per dimension, a
detector's reference rows). Estimators receive a :class:`TrainingData` and never ask what
kind of input it came from.

In memory, the held-out rows are a seeded permutation's first rows and the "sample" is
every training row. Streamed, one reading pass gathers the scaling statistics (exact mean,
std, min and max; the median and IQR from a uniform sample), the held-out rows (a seeded
per-row mask, so they never reach the training stream; at most 64 MiB) and a uniform
sample of up to 64 MiB; every epoch then streams the remaining rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state

from aekit.data.parquet_rows import HoldOut, ParquetRows, keep_fraction, scan
from aekit.data.schema import InputSpec, looks_like_images
from aekit.exceptions import DataError
from aekit.training import distributed
from aekit.training.batches import StreamBatches

# Fewest rows for which an in-memory fit holds rows out at all.
MIN_ROWS_TO_HOLD_OUT = 20


def draw_seeds(random_state: Any, n: int | None = None) -> int | list[int]:
    """One seed (``n=None``) or ``n`` seeds from ``random_state``, as scikit-learn draws them."""
    rng = check_random_state(random_state)
    if n is None:
        return int(rng.randint(np.iinfo(np.int32).max))
    return [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=n)]


@dataclass(frozen=True)
class HoldOutRule:
    """Which share of the rows to hold out, and when there are too few to spare.

    ``"validation"`` (an autoencoder's early stopping): any share of at least 20 rows.
    ``"calibration"`` (a detector's thresholds): at least 20 held-out rows and 20 left to
    train on; otherwise nothing is held out and calibration is in-sample.
    """

    fraction: float
    kind: str = "validation"

    def in_memory(self, n_rows: int) -> int:
        """Rows to hold out of ``n_rows`` in memory (0: none)."""
        if self.kind == "validation":
            return int(round(self.fraction * n_rows)) if n_rows >= MIN_ROWS_TO_HOLD_OUT else 0
        n_held = int(round(self.fraction * n_rows))
        return n_held if min(n_held, n_rows - n_held) >= MIN_ROWS_TO_HOLD_OUT else 0

    def streamed(self, n_rows: int, n_features: int, seed: int) -> HoldOut | None:
        """The mask that holds rows out of a stream (None: none)."""
        if self.kind == "validation":
            wanted = self.fraction > 0 and n_rows >= MIN_ROWS_TO_HOLD_OUT
        else:
            wanted = self.fraction > 0 and n_rows * self.fraction >= MIN_ROWS_TO_HOLD_OUT
        return HoldOut(seed, keep_fraction(self.fraction, n_rows, n_features)) if wanted else None

    def accepts(self, n_held: int, n_rest: int) -> bool:
        """Whether the rows a streamed mask held out are enough to use."""
        if self.kind == "validation":
            return n_held > 0
        return min(n_held, n_rest) >= MIN_ROWS_TO_HOLD_OUT


@dataclass
class TrainingData:
    """Encoded training input, however it was given.

    ``train`` is the encoded training rows (an array), or for files a view of them that
    encodes as it reads (a ParquetRows). ``held_out`` holds the encoded held-out rows, or
    None. ``sample`` holds training rows kept in memory: all of them in memory, a uniform
    sample when streamed. ``all_rows``: every encoded row in memory, the sample when
    streamed. ``bounds``: the encoded per-feature minimum and maximum over all rows, (2, d).
    """

    spec: InputSpec
    train: np.ndarray | ParquetRows
    held_out: np.ndarray | None
    sample: np.ndarray
    bounds: np.ndarray
    all_rows: np.ndarray
    n_rows: int
    n_train: int
    missing: bool = False  # some encoded cells are NaN (missing)

    def batches(self, seed: int, device: torch.device) -> torch.Tensor | StreamBatches:
        """What the training loop reads: a float32 tensor on ``device``, or a stream of
        reshuffled batches (see :class:`~aekit.training.batches.StreamBatches`)."""
        if isinstance(self.train, ParquetRows):
            return StreamBatches(self.train, self.n_train, seed, device)
        return torch.from_numpy(np.ascontiguousarray(self.train, dtype=np.float32)).to(device)

    def as_input(self, rows: np.ndarray | ParquetRows | None) -> Any:
        """Encoded rows in the form an estimator takes them: training-shaped float32 images
        for image input (so a member builds a convolutional network), else as they are."""
        if rows is None or not self.spec.is_images or isinstance(rows, ParquetRows):
            return rows
        return self.spec.as_images(rows).astype(np.float32)

    @property
    def calibration_rows(self) -> np.ndarray:
        """The held-out rows, or the training rows kept in memory when none were."""
        return self.held_out if self.held_out is not None else self.sample


def prepare_training(X: Any, *, scaling: Callable[[InputSpec], str], hold_out: HoldOutRule,
                     seed: int, clip: float | None = None, X_val: Any = None,
                     dtype: type = np.float32, estimator_name: str = "the model",
                     progress: bool = False, images: str = "auto",
                     column_roles: dict[str, str] | None = None,
                     allow_missing: bool = False) -> TrainingData:
    """Read training input ``X`` once and split it (see the module docstring).

    ``scaling(spec)`` names the scaling for the input's contract (it may refuse it, e.g.
    for images). ``X_val``: rows to hold out instead of drawing them. ``dtype``: of the
    encoded in-memory rows (the networks compute in float32). ``images="required"``
    refuses input that is not images (a convolutional network).
    """
    if isinstance(X, ParquetRows):
        if images == "required":
            raise DataError(f"{X.path}: streaming from Parquet trains on table rows; "
                            "architecture='conv' needs image arrays in memory.")
        return _streamed(X, scaling, hold_out, seed, clip, X_val, estimator_name, progress,
                         column_roles)
    if images == "required" and not looks_like_images(X):
        raise DataError(
            "X: architecture='conv' needs images of shape (n_samples, height, "
            "width) or (n_samples, channels, height, width); got an array of shape "
            f"{np.shape(X)}. Reshape flat pixels first, e.g. X.reshape(-1, 28, 28), "
            "or use architecture='mlp'.")
    return _in_memory(X, scaling, hold_out, seed, clip, X_val, dtype, estimator_name,
                      column_roles, allow_missing)


def _encoder(spec: InputSpec, dtype: type) -> Callable[[np.ndarray], np.ndarray]:
    return spec.encode_float32 if dtype == np.float32 else spec.encode


def _in_memory(X: Any, scaling: Callable[[InputSpec], str], hold_out: HoldOutRule, seed: int,
               clip: float | None, X_val: Any, dtype: type, estimator_name: str,
               column_roles: dict[str, str] | None, allow_missing: bool) -> TrainingData:
    spec, values = InputSpec.from_training_data(X, estimator_name=estimator_name,
                                                column_roles=column_roles,
                                                allow_missing=allow_missing)
    spec = spec.with_scaling(scaling(spec), values, clip=clip)
    encode = _encoder(spec, dtype)
    encoded = encode(values)
    n = len(encoded)
    missing = bool(spec.allow_missing and np.isnan(encoded).any())
    low, high = (np.nanmin, np.nanmax) if missing else (np.min, np.max)
    bounds = np.stack([low(encoded, axis=0), high(encoded, axis=0)])
    if X_val is not None:
        held = encode(spec.rows(X_val, source="X_val", estimator_name=estimator_name))
        train = encoded
    else:
        n_held = hold_out.in_memory(n)
        order = np.random.default_rng(seed).permutation(n)
        train = encoded[np.sort(order[n_held:])]
        held = encoded[np.sort(order[:n_held])] if n_held else None
    return TrainingData(spec, train, held, train, bounds, encoded, n, len(train), missing)


def _streamed(rows: ParquetRows, scaling: Callable[[InputSpec], str], hold_out: HoldOutRule,
              seed: int, clip: float | None, X_val: Any, estimator_name: str, progress: bool,
              column_roles: dict[str, str] | None) -> TrainingData:
    spec = InputSpec.from_columns(rows.columns)
    if rows.to_rows is not None:  # rows another contract encodes (a detector's members):
        spec = InputSpec(rows.n_features, allow_missing=True)  # it checked their cells
    else:
        # roles and categories are learned from the files' first rows
        head = rows.head_frame()
        head_spec, _ = InputSpec.from_training_data(head, source=rows.path,
                                                    estimator_name=estimator_name,
                                                    column_roles=column_roles, min_samples=1)
        if head_spec.columns is not None:
            spec = head_spec
    # The contract reads every record batch; a detector's members get rows that the
    # detector's contract already reads.
    if rows.to_rows is None:
        rows = rows.converted_by(spec.batch_rows, width=spec.n_features)
    n, d = rows.n_rows, rows.n_features
    if n < 2:
        raise DataError(f"{rows.path}: got {n} row(s); at least 2 are needed to fit. Pass more "
                        "rows.")
    mask = hold_out.streamed(n, d, seed) if X_val is None else None
    # under torchrun each rank reads its share of the row groups once, then they merge
    found = distributed.gather_scan(scan(
        rows, hold_out=mask, sample_fraction=keep_fraction(1.0, n, d), sample_seed=seed,
        progress=progress, pieces=distributed.my_pieces(len(rows.pieces))))
    # missing numbers (a table whose contract has roles, or a detector's encoded rows):
    # the statistics are of the observed cells, and training leaves the missing ones out
    missing = found.moments.has_missing
    spec = spec.with_scaling(scaling(spec), moments=found.moments, sample=found.sample,
                             clip=clip)
    if spec.columns is None and spec.feature_names is not None:
        # streamed training reads complete rows (the files' reader refuses missing cells,
        # naming file and row); the fitted model scores tables with missing cells
        spec = replace(spec, allow_missing=True)
    if X_val is not None:
        held = spec.encode(spec.rows(X_val, source="X_val", estimator_name=estimator_name))
    elif mask is not None and hold_out.accepts(len(found.held_out), found.n_rows):
        held = spec.encode(found.held_out)
    else:
        held = None
    # a calibration hold-out too small to use goes back into training
    keep_out = mask is not None and (held is not None or hold_out.kind == "validation")
    train = rows.without(mask) if keep_out else rows
    bounds = spec.encode(np.stack([found.moments.min, found.moments.max]))
    n_train = found.n_rows if keep_out else n
    sample = spec.encode(found.sample)
    return TrainingData(spec, train.map(spec.encode), held, sample, bounds, sample,
                        int(found.moments.count), n_train, missing)


__all__ = ["HoldOutRule", "TrainingData", "draw_seeds", "prepare_training"]
