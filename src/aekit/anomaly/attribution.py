"""Which features a row's anomaly score comes from."""

from __future__ import annotations

import numpy as np


def error_shares(squared_errors: np.ndarray) -> np.ndarray:
    """Each feature's share of its row's summed squared error, shape (n, n_features).

    Rows sum to 1; a row without error gets equal shares.
    """
    sums = squared_errors.sum(axis=1, keepdims=True)
    return np.divide(squared_errors, sums, where=sums > 0,
                     out=np.full_like(squared_errors, 1.0 / squared_errors.shape[1]))


__all__ = ["error_shares"]
