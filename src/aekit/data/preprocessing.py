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
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from aekit.exceptions import ParameterError

Scaling = Literal["standard", "minmax", "robust", "none"]
SCALINGS = ("standard", "minmax", "robust", "none")


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
        if kind == "none":
            center, scale = np.zeros(n_features), np.ones(n_features)
        elif kind == "standard":
            s = StandardScaler().fit(X)
            center, scale = s.mean_, s.scale_
        elif kind == "robust":
            s = RobustScaler().fit(X)
            center, scale = s.center_, s.scale_
        else:  # minmax: x * scale_ + min_  ==  (x - data_min) / data_range
            s = MinMaxScaler().fit(X)
            center, scale = s.data_min_, 1.0 / s.scale_
        center = np.asarray(center, dtype=np.float64).copy()
        scale = np.asarray(scale, dtype=np.float64).copy()
        # Near-constant columns: sklearn guards exact zeros; we also guard round-off residue.
        tiny = scale <= 1e-9 * np.maximum(1.0, np.abs(center))
        scale[tiny] = 1.0
        return cls(kind, center, scale)

    def transform(self, X: np.ndarray) -> np.ndarray:
        return (X - self.center) / self.scale

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
