"""Feature scaling fitted on training data and stored with the model as plain numbers.

Every option reduces to ``(x - center) / scale`` per feature, so it serialises as two
float lists in JSON and exports to ONNX as two constants. scikit-learn's scalers compute the
statistics; a constant (or near-constant) column gets ``scale = 1`` so new data can never be
divided by ~0 and blow up the reconstruction error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.preprocessing import RobustScaler

from aekit.choices import SCALINGS
from aekit.exceptions import ParameterError

Scaling = Literal["standard", "minmax", "robust", "none"]

# Rows per block where whole-matrix work is done in blocks: 16,384 rows of 20 float64
# features are 2.5 MiB, small enough for the allocator to reuse between blocks.
BLOCK_ROWS = 16_384


@dataclass
class AffineScaler:
    """``transform(x) = (x - center) / scale`` with per-feature ``center`` and ``scale``."""

    kind: str
    center: np.ndarray  # (n_features,) float64
    scale: np.ndarray  # (n_features,) float64, strictly positive

    @classmethod
    def fit(cls, X: np.ndarray, kind: str = "standard") -> AffineScaler:
        if kind not in SCALINGS:
            raise ParameterError(
                f"The 'scaling' parameter must be one of {SCALINGS}. Got {kind!r} instead."
            )
        n_features = X.shape[1]
        if kind != "none" and np.isnan(X).any():  # statistics of the observed cells
            return cls._of_observed(X, kind)
        if kind == "none":
            center, scale = np.zeros(n_features), np.ones(n_features)
        elif kind == "robust":
            s = RobustScaler().fit(X)
            center, scale = s.center_, s.scale_
        else:  # standard, minmax: the streaming statistics, a block of rows at a time
            return cls.from_moments(RunningMoments.of(X), kind)
        return cls._guarded(kind, center, scale)

    @classmethod
    def _of_observed(cls, X: np.ndarray, kind: str) -> AffineScaler:
        """The statistics of each column's observed (non-NaN) cells."""
        if kind == "robust":
            s = RobustScaler().fit(X)  # scikit-learn ignores NaN
            return cls._guarded(kind, s.center_, s.scale_)
        if kind == "standard":
            return cls._guarded(kind, np.nan_to_num(np.nanmean(X, axis=0)),
                                np.nan_to_num(np.nanstd(X, axis=0)))
        low, high = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
        return cls._guarded(kind, np.nan_to_num(low), np.nan_to_num(high - low))

    @classmethod
    def _guarded(cls, kind: str, center: np.ndarray, scale: np.ndarray) -> AffineScaler:
        center = np.asarray(center, dtype=np.float64).copy()
        scale = np.asarray(scale, dtype=np.float64).copy()
        # Near-constant columns: sklearn guards exact zeros; we also guard round-off residue.
        tiny = ~(scale > 1e-9 * np.maximum(1.0, np.abs(center)))
        scale[tiny] = 1.0
        return cls(kind, center, scale)

    @classmethod
    def from_moments(cls, moments: RunningMoments, kind: str = "standard",
                     sample: np.ndarray | None = None) -> AffineScaler:
        """The scaler :meth:`fit` would give, from statistics gathered in one streaming pass.

        standard and minmax are exact (mean and population std, as StandardScaler; min and
        max). robust needs quantiles, which a single pass cannot give exactly: the median
        and IQR are those of ``sample``, a uniform sample of the rows (with 10^5 rows their
        standard error is under 1% of the IQR for smooth distributions).
        """
        if kind == "robust":
            if sample is None or len(sample) == 0:
                raise ValueError("robust scaling from moments needs a sample of rows")
            return cls.fit(sample, "robust")
        if kind not in SCALINGS:
            return cls.fit(np.zeros((1, moments.n_features)), kind)  # raises the usual error
        n = moments.n_features
        if kind == "none":
            return cls(kind, np.zeros(n), np.ones(n))
        if kind == "standard":
            return cls._guarded(kind, moments.mean, np.sqrt(moments.variance))
        return cls._guarded(kind, moments.min, moments.max - moments.min)

    def transform(self, X: np.ndarray) -> np.ndarray:
        out = np.subtract(X, self.center)  # one array as large as X, divided in place
        out /= self.scale
        return out

    def transform_float32(self, X: np.ndarray) -> np.ndarray:
        """``transform(X).astype(np.float32)`` (the same values: computed in float64, then
        rounded), a block of rows at a time, so no float64 copy of all of ``X`` is made."""
        out = np.empty(X.shape, dtype=np.float32)
        for start in range(0, X.shape[0], BLOCK_ROWS):
            out[start:start + BLOCK_ROWS] = self.transform(X[start:start + BLOCK_ROWS])
        return out

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        return X * self.scale + self.center

    def to_dict(self) -> dict:
        return {"kind": self.kind, "center": self.center.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> AffineScaler:
        center = np.asarray(d["center"], dtype=np.float64)
        scale = np.asarray(d["scale"], dtype=np.float64)
        if center.shape != scale.shape or center.ndim != 1 or not (scale > 0).all():
            raise ValueError("scaler center/scale must be 1-D, equal length, scale > 0")
        return cls(str(d["kind"]), center, scale)


class RunningMoments:
    """Count, mean, variance, min and max per feature, updated chunk by chunk.

    Chunks are merged with Chan et al.'s pairwise update in float64, which stays accurate
    over billions of rows where a running sum of squares would lose its digits.
    """

    def __init__(self, n_features: int) -> None:
        self.n_features = int(n_features)
        self.count = 0  # rows
        self.observed = np.zeros(n_features)  # non-missing cells per feature
        self.mean = np.zeros(n_features)
        self._m2 = np.zeros(n_features)
        self.min = np.full(n_features, np.inf)
        self.max = np.full(n_features, -np.inf)

    @classmethod
    def of(cls, X: np.ndarray) -> RunningMoments:
        """The statistics of all rows of ``X``, gathered a block of rows at a time (the
        temporaries stay small: fresh memory as large as ``X`` costs its page faults)."""
        moments = cls(X.shape[1])
        for start in range(0, X.shape[0], BLOCK_ROWS):
            moments.update(X[start:start + BLOCK_ROWS])
        return moments

    @property
    def has_missing(self) -> bool:
        """Whether some cell was missing (NaN); the statistics are of the observed ones."""
        return bool((self.observed < self.count).any())

    def update(self, X: np.ndarray) -> None:
        n = X.shape[0]
        if n == 0:
            return
        X = np.asarray(X, dtype=np.float64)
        missing = np.isnan(X)
        if missing.any():  # each feature's statistics over its observed cells
            seen = (~missing).sum(axis=0).astype(np.float64)
            mean = np.divide(np.nansum(X, axis=0), seen, out=np.zeros(X.shape[1]),
                             where=seen > 0)
            m2 = np.nansum((X - mean) ** 2, axis=0)
            low = np.where(seen > 0, np.nanmin(np.where(missing, np.inf, X), axis=0), np.inf)
            high = np.where(seen > 0, np.nanmax(np.where(missing, -np.inf, X), axis=0), -np.inf)
        else:
            seen = np.full(X.shape[1], float(n))
            mean = X.mean(axis=0)
            m2 = ((X - mean) ** 2).sum(axis=0)
            low, high = X.min(axis=0), X.max(axis=0)
        self._combine(seen, mean, m2, low, high)
        self.count += n

    def _combine(self, n: np.ndarray, mean: np.ndarray, m2: np.ndarray, low: np.ndarray,
                 high: np.ndarray) -> None:
        """Chan et al.'s parallel update, feature by feature (each has its own count)."""
        total = self.observed + n
        ratio = np.divide(n, total, out=np.zeros_like(total), where=total > 0)
        delta = mean - self.mean
        self.mean = self.mean + delta * ratio
        self._m2 = self._m2 + m2 + delta ** 2 * np.divide(
            self.observed * n, total, out=np.zeros_like(total), where=total > 0)
        self.observed = total
        self.min = np.minimum(self.min, low)
        self.max = np.maximum(self.max, high)

    def merge(self, other: RunningMoments) -> None:
        """Add the rows ``other`` summarised (Chan et al.'s parallel update)."""
        if other.count == 0:
            return
        self._combine(other.observed, other.mean, other._m2, other.min, other.max)
        self.count += other.count

    def to_array(self) -> np.ndarray:
        """``[count, mean, m2, min, max, observed]`` as one float64 row (to send between
        processes)."""
        return np.concatenate([[float(self.count)], self.mean, self._m2, self.min, self.max,
                               self.observed])

    @classmethod
    def from_array(cls, row: np.ndarray) -> RunningMoments:
        d = (len(row) - 1) // 5
        moments = cls(d)
        moments.count = int(row[0])
        moments.mean, moments._m2, moments.min, moments.max, moments.observed = (
            row[1 + k * d:1 + (k + 1) * d].copy() for k in range(5))
        return moments

    @property
    def variance(self) -> np.ndarray:
        """Population variance (ddof=0), as StandardScaler uses."""
        return self._m2 / np.maximum(self.observed, 1)
