"""Turn user input (arrays, pandas or polars DataFrames) into a clean float64 matrix.

Every rejection is a :class:`~aekit.exceptions.DataError` (a ``ValueError``) whose message
names what is wrong, where (source, column, row) and how to fix it. Rows are reported
1-based as a person counts them; for a file with a header, row 1 is the first data line.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import issparse

from aekit.exceptions import DataError

INDEX_NAMES = ("Unnamed: 0", "", "__index_level_0__")  # pandas' unnamed index, saved

# float32 is what the networks compute in; larger magnitudes would become inf there.
FLOAT32_LIMIT = float(np.finfo(np.float32).max) / 16


class DataTypeError(DataError, TypeError):
    """A cell holds an object that is not a number at all (a dict, a list, ...)."""


def shown(value: Any) -> str:
    """A cell's value as a message shows it: 1e+300, 'abc', not np.float64(1e+300)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _column_label(columns: Sequence[Any] | None, j: int) -> str:
    if columns is None:
        return f"column {j}"
    if len(columns) == 1:  # one column checked alone: its position here means nothing
        return f"column {columns[0]!r}"
    return f"column {columns[j]!r} (position {j})"


def _to_pandas(X: Any) -> Any:
    """Convert a polars DataFrame to pandas; leave everything else alone."""
    module = type(X).__module__
    if module.startswith("polars") and hasattr(X, "to_pandas"):
        return X.to_pandas()
    return X


def _frame_to_float(df: pd.DataFrame, source: str, row_offset: int = 0) -> np.ndarray:
    """Convert every column to float64, naming the first offending cell otherwise."""
    columns = [str(c) for c in df.columns]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise DataError(
            f"{source}: duplicated column names {duplicated}. "
            "Give every column a unique name."
        )
    out = np.empty(df.shape, dtype=np.float64)
    for j, name in enumerate(df.columns):
        col = df.iloc[:, j]
        if pd.api.types.is_bool_dtype(col.dtype):
            out[:, j] = col.to_numpy(dtype=np.float64)
            continue
        if pd.api.types.is_complex_dtype(col.dtype):
            raise DataError(f"{source}: column {name!r}: Complex data not supported.")
        if pd.api.types.is_numeric_dtype(col.dtype):
            out[:, j] = col.to_numpy(dtype=np.float64, na_value=np.nan)
            continue
        converted = pd.to_numeric(col, errors="coerce")
        bad = converted.isna() & col.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{source}: column {name!r}, row {row_offset + row + 1}: {col.iloc[row]!r} "
                "is not a number "
                f"({int(bad.sum())} non-numeric cell(s) in this column). "
                "Fix or drop those cells, or drop the column, before fitting."
            )
        out[:, j] = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _array_to_float(X: Any, source: str) -> np.ndarray:
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise DataError(f"{source}: Complex data not supported. Pass real numbers.")
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64, copy=False)
    if arr.dtype.kind in "OUS" and arr.ndim == 2:
        out = np.empty(arr.shape, dtype=np.float64)
        for j in range(arr.shape[1]):
            for i, value in enumerate(arr[:, j]):
                try:
                    out[i, j] = float(value)
                except (TypeError, ValueError) as err:
                    kind = DataTypeError if isinstance(err, TypeError) else DataError
                    raise kind(
                        f"{source}: column {j}, row {i + 1}: {shown(value)} is not a number; "
                        "float() argument must be a string or a real number. "
                        "Convert or drop that cell before fitting."
                    ) from None
        return out
    if arr.dtype.kind in "OUS":
        return _array_to_float(arr.reshape(arr.shape[0], -1) if arr.ndim > 2 else arr, source)
    raise DataError(f"{source}: unsupported dtype {arr.dtype}. Pass numeric data.")


def check_finite(X: np.ndarray, columns: Sequence[str] | None, source: str,
                 row_offset: int = 0) -> None:
    """Reject NaN, +/-inf and values too large for float32, naming column, count and row.

    ``row_offset``: rows before ``X`` in its file, so a chunk's errors name the file's row.
    """
    if X.size == 0:
        return
    # Fast path without temporaries (each would be as large as X): NaN propagates through
    # min and max, so two reductions settle the common, clean case.
    low, high = X.min(), X.max()
    if np.isfinite(low) and np.isfinite(high) and max(-low, high) <= FLOAT32_LIMIT:
        return
    finite = np.isfinite(X)
    if not finite.all():
        j = int(np.flatnonzero(~finite.all(axis=0))[0])
        bad = ~finite[:, j]
        i = int(np.flatnonzero(bad)[0])
        what = "NaN" if np.isnan(X[i, j]) else "inf"
        raise DataError(
            f"{source}: {_column_label(columns, j)} holds {int(bad.sum())} NaN or inf value(s); "
            f"the first is {what} at row {row_offset + i + 1}. "
            + ("Leave such cells empty (a missing value) or drop those rows; inf is no "
               "number to learn from." if what == "inf" else
               "Impute or drop those rows (for example DataFrame.dropna()) before fitting "
               "or scoring.")
        )
    too_big = np.abs(X) > FLOAT32_LIMIT
    if too_big.any():
        j = int(np.flatnonzero(too_big.any(axis=0))[0])
        i = int(np.flatnonzero(too_big[:, j])[0])
        raise DataError(
            f"{source}: {_column_label(columns, j)}, row {row_offset + i + 1}: {shown(X[i, j])} "
            "is too large "
            "to compute with in float32 (overflows to inf). Rescale the column (e.g. log or "
            "divide by a constant) before fitting."
        )


def align_columns(df: pd.DataFrame, expected: Sequence[str], source: str) -> pd.DataFrame:
    """Reorder ``df``'s columns to ``expected`` by name, or explain what is missing/extra."""
    names = [str(c) for c in df.columns]
    if names == list(expected):
        return df
    missing = [c for c in expected if c not in names]
    # a saved DataFrame's index (to_csv's "Unnamed: 0") is no feature, never one fit lacks
    unexpected = [c for c in names if c not in expected and c not in INDEX_NAMES]
    if not missing and not unexpected:
        if len(names) != len(set(names)):
            raise DataError(f"{source}: duplicated column names. Give every column a unique name.")
        # Select by the str names compared above: a label 0 (int) must match the name "0".
        return df.set_axis(names, axis=1).loc[:, list(expected)]
    message = f"{source}: The feature names should match those that were passed during fit.\n"
    if unexpected:
        message += "Feature names unseen at fit time:\n"
        message += "".join(f"- {c}\n" for c in unexpected[:20])
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n"
        message += "".join(f"- {c}\n" for c in missing[:20])
    message += "Pass the same columns as in fit (their order may differ)."
    if unexpected:
        message += (" Leave the others out (DataFrame.drop(columns=...), or aekit score "
                    f"--ignore {shlex.quote(','.join(map(str, unexpected[:20])))}).")
    raise DataError(message)


def check_features(
    X: Any,
    *,
    source: str = "input",
    feature_names: Sequence[str] | None = None,
    n_features: int | None = None,
    estimator_name: str = "the model",
    min_samples: int = 1,
    row_offset: int = 0,
    allow_missing: bool = False,
) -> tuple[np.ndarray, list[str] | None]:
    """Validate a feature matrix and return it as float64 with its column names.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), pandas or polars DataFrame
    source : str
        Where the data came from (a file path, ``"X"``), used in messages.
    feature_names, n_features : optional
        What ``fit`` saw. DataFrame columns are reordered by name when all are present;
        otherwise the message lists missing and unexpected names.
    min_samples : int
        2 for ``fit`` (a scaler and a validation split need more than one row).
    row_offset : int
        Rows of the file before ``X`` (a chunk of a larger file): messages name the
        file's row, ``row_offset + i + 1``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64, finite
    columns : list of str or None
        The DataFrame's column names, or None for arrays.
    """
    X = _to_pandas(X)
    columns: list[str] | None = None
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        if feature_names is not None:
            X = align_columns(X, feature_names, source)
        columns = [str(c) for c in X.columns]
        if X.shape[1] == 0:
            raise DataError(f"{source}: no columns: 0 feature(s) (shape={X.shape}) while a "
                            "minimum of 1 is required. Pass at least one numeric feature.")
        if X.shape[0] == 0:
            raise DataError(f"{source}: empty input (0 rows). Pass at least {max(min_samples, 1)} rows.")
        values = _frame_to_float(X, source, row_offset)
    elif issparse(X):
        raise DataError(
            f"{source}: sparse input ({type(X).__name__}) is not supported. Convert it to a "
            "dense array with X.toarray() first."
        )
    else:
        if hasattr(X, "__array__") or isinstance(X, (list, tuple)):
            arr = np.asarray(X) if not isinstance(X, np.ndarray) else X
        else:
            raise DataError(
                f"{source}: expected an array or DataFrame, got {type(X).__name__}."
            )
        if arr.ndim == 1:
            raise DataError(
                f"{source}: Expected a 2-D array, got a 1-D array of shape {arr.shape}. "
                "Reshape your data with X.reshape(-1, 1) for one feature or "
                "X.reshape(1, -1) for one sample."
            )
        if arr.ndim != 2:
            raise DataError(
                f"{source}: Expected a 2-D array (n_samples, n_features), got shape {arr.shape}."
            )
        if arr.shape[0] == 0:
            raise DataError(f"{source}: empty input (0 rows). Pass at least {max(min_samples, 1)} rows.")
        if arr.shape[1] == 0:
            raise DataError(f"{source}: no columns: 0 feature(s) (shape={arr.shape}) while a "
                            "minimum of 1 is required. Pass at least one feature.")
        values = _array_to_float(arr, source)
    if n_features is not None and values.shape[1] != n_features:
        raise DataError(
            f"{source}: X has {values.shape[1]} features, but {estimator_name} is expecting "
            f"{n_features} features as input. Pass the same columns as in fit."
        )
    if values.shape[0] < min_samples:
        raise DataError(
            f"{source}: got {values.shape[0]} row(s) (n_samples={values.shape[0]}); at least "
            f"{min_samples} samples are needed to fit. Pass more rows."
        )
    # missing cells (NaN) pass where the model leaves them out of its error
    check_finite(np.where(np.isnan(values), 0.0, values) if allow_missing else values,
                 columns, source, row_offset)
    return values, columns
