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


def feature_text(feature: str, value: str, typical: str, share: float,
                 expected: str = "") -> str:
    """One explained feature as the CLI and the report write it: ``age = 63 (typical 28,
    35%)``; with the value the model expected from the rest of the row where it differs
    (``class = 3rd (typical 3rd, expected 1st, 62%)``)."""
    notes = [f"typical {typical}"] if typical != "" else []
    if expected and expected != value:
        notes.append(f"expected {expected}")
    return f"{feature} = {value} ({', '.join([*notes, f'{share:.0%}'])})"


__all__ = ["error_shares", "feature_text"]
