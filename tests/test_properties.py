"""Property-based tests (hypothesis) for the loaders, validation and scaling.

Whatever table a user hands aekit (any shape, dtype, NaN/inf pattern or column names), the
only exceptions allowed are aekit's own ``DataError`` / ``ParameterError``; when nothing is
raised, the result is a finite float64 matrix of the input's shape. ``AffineScaler`` turns
finite data into finite data with strictly positive scales, constant columns included.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aekit.choices import SCALINGS
from aekit.data.io import read_data
from aekit.data.preprocessing import AffineScaler
from aekit.data.validation import FLOAT32_LIMIT, check_features
from aekit.exceptions import DataError, ParameterError

ALLOWED = (DataError, ParameterError)
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

# Text without surrogates (not encodable as UTF-8, so no file could hold them).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)
SCALAR = {
    "int": st.integers(-(2**62), 2**62),
    "float": FLOATS,
    "finite_float": st.floats(-1e6, 1e6),
    "numeric_strings": st.one_of(st.integers(-99, 99), st.floats(-1e3, 1e3)).map(str),
    "bool": st.booleans(),
    "object_numbers": st.one_of(st.integers(-1000, 1000), FLOATS, st.none()),
    "object_strings": st.one_of(TEXT, st.integers(-5, 5).map(str),
                                FLOATS.map(repr), st.none()),
    "object_mixed": st.one_of(st.integers(-5, 5), FLOATS, TEXT, st.none(), st.booleans()),
    "complex": st.complex_numbers(allow_nan=True, allow_infinity=True),
}
NAME = st.one_of(TEXT, st.just(""), st.integers(-3, 3), st.floats(allow_nan=False, width=32),
                 st.sampled_from(["a", "a", "é", "列", " a ", "1"]))


def _column(kind: str, values: list) -> pd.Series:
    if kind == "int":
        return pd.Series(values, dtype="int64")
    if kind in ("float", "finite_float"):
        return pd.Series(values, dtype="float64")
    if kind == "bool":
        return pd.Series(values, dtype="bool")
    if kind == "complex":
        return pd.Series(values, dtype="complex128")
    return pd.Series(values, dtype="object")


@st.composite
def tables(draw, max_rows: int = 6, max_cols: int = 5) -> pd.DataFrame:
    """A DataFrame with random shape (0 rows / 0 columns included), dtypes and names."""
    n_rows = draw(st.integers(0, max_rows))
    n_cols = draw(st.integers(0, max_cols))
    columns = {}
    for _ in range(n_cols):
        kind = draw(st.sampled_from(sorted(SCALAR)))
        values = draw(st.lists(SCALAR[kind], min_size=n_rows, max_size=n_rows))
        columns[len(columns)] = _column(kind, values)
    df = pd.DataFrame(columns, index=range(n_rows))
    df.columns = draw(st.lists(NAME, min_size=n_cols, max_size=n_cols))
    return df


def _check_result(values, expected_shape) -> None:
    assert isinstance(values, np.ndarray)
    assert values.dtype == np.float64
    assert values.ndim == 2
    assert values.shape == expected_shape
    assert np.isfinite(values).all()


def _validate(X, expected_shape, **kwargs) -> None:
    """check_features either succeeds with a clean matrix or raises an aekit error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values, _ = check_features(X, **kwargs)
    except ALLOWED:
        return
    except Exception as err:  # pragma: no cover - the property under test
        pytest.fail(f"check_features raised {type(err).__name__}: {err}")
    _check_result(values, expected_shape)


@SETTINGS
@given(df=tables(), min_samples=st.integers(1, 3))
def test_check_features_on_any_dataframe_raises_only_aekit_errors(df, min_samples):
    _validate(df, df.shape, source="df", min_samples=min_samples)


@SETTINGS
@given(df=tables(), data=st.data())
def test_check_features_with_fit_columns_raises_only_aekit_errors(df, data):
    seen = [str(c) for c in df.columns]
    names = data.draw(st.one_of(
        st.permutations(seen),  # same columns, any order: reordered by name
        st.permutations(seen).map(lambda names: names[1:]),  # one unexpected column
        st.permutations(seen).flatmap(lambda names: TEXT.map(lambda x: [*names, x])),  # missing
        st.lists(TEXT, max_size=5),
    ))
    _validate(df, (df.shape[0], len(names)), source="df", feature_names=names,
              n_features=len(names))


@SETTINGS
@given(df=tables(), as_list=st.booleans())
def test_check_features_on_any_array_raises_only_aekit_errors(df, as_list):
    arr = df.to_numpy()  # object, complex, bool, int or float depending on the columns
    X = arr.tolist() if as_list else arr
    # A list of 0 rows has no width: np.asarray gives shape (0,), which is refused anyway.
    _validate(X, arr.shape, source="X")


@SETTINGS
@given(shape=st.lists(st.integers(0, 3), min_size=0, max_size=4),
       dtype=st.sampled_from(["float64", "float32", "float16", "int8", "uint64", "bool",
                              "complex64", "U3", "S3", "object", "datetime64[s]",
                              "timedelta64[s]"]),
       fill=st.one_of(FLOATS, st.integers(-5, 5), TEXT, st.none()))
def test_check_features_on_any_ndarray_shape_and_dtype_raises_only_aekit_errors(shape, dtype,
                                                                                 fill):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.full(tuple(shape), fill, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        assume(False)  # numpy itself cannot build this array; nothing for aekit to check
    _validate(arr, tuple(shape), source="X")


# --- files -----------------------------------------------------------------------------


def _write(df: pd.DataFrame, path, fmt: str) -> None:
    """Write ``df`` as ``fmt``; reject the example when the writer itself cannot."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "csv":
                df.to_csv(path, index=False)
            elif fmt == "tsv":
                df.to_csv(path, index=False, sep="\t")
            elif fmt == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                arrays = [pa.array(df.iloc[:, j].tolist()) for j in range(df.shape[1])]
                names = [str(c) for c in df.columns]
                pq.write_table(pa.Table.from_arrays(arrays, names=names), path)
            elif fmt == "npy":
                np.save(path, df.to_numpy())  # object arrays are pickled: must be refused
            else:
                np.savez(path, X=df.to_numpy())
    except Exception:
        assume(False)


def _read_and_check(path, label):
    """read_data + check_features: the values, or None after an aekit error; any other
    exception fails the test (the property under test)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = read_data(path)
            values, _ = check_features(dataset.X, source=dataset.source)
    except ALLOWED:
        return None
    except Exception as err:  # pragma: no cover - the property under test
        pytest.fail(f"{label}: read_data/check_features raised {type(err).__name__}: {err}")
    return values


@SETTINGS
@given(df=tables(), fmt=st.sampled_from(["csv", "tsv", "parquet", "npy", "npz"]))
def test_read_data_then_check_features_raises_only_aekit_errors(tmp_path, df, fmt):
    path = tmp_path / f"table.{fmt}"
    path.unlink(missing_ok=True)
    _write(df, path, fmt)
    values = _read_and_check(path, fmt)
    if values is not None:
        _check_result(values, df.shape)


@SETTINGS
@given(raw=st.binary(max_size=200), suffix=st.sampled_from([".csv", ".tsv", ".csv.gz", ".parquet",
                                                             ".npy", ".npz"]))
def test_read_data_on_arbitrary_bytes_raises_only_aekit_errors(tmp_path, raw, suffix):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(raw)
    values = _read_and_check(path, suffix)
    if values is not None:
        _check_result(values, values.shape)


# --- scaling ---------------------------------------------------------------------------

FINITE = st.floats(min_value=-FLOAT32_LIMIT, max_value=FLOAT32_LIMIT, allow_nan=False,
                   allow_infinity=False, width=64)


@st.composite
def finite_matrices(draw) -> np.ndarray:
    """Finite matrices within what check_features lets through, often with constant columns."""
    n_rows = draw(st.integers(1, 8))
    n_cols = draw(st.integers(1, 4))
    cols = []
    for _ in range(n_cols):
        if draw(st.booleans()):
            cols.append(np.full(n_rows, draw(FINITE)))
        else:
            cols.append(np.array(draw(st.lists(FINITE, min_size=n_rows, max_size=n_rows))))
    return np.column_stack(cols).astype(np.float64)


@SETTINGS
@given(X=finite_matrices(), kind=st.sampled_from(SCALINGS), data=st.data())
def test_affine_scaler_is_finite_with_positive_scales_for_finite_input(X, kind, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaler = AffineScaler.fit(X, kind)
    assert scaler.center.shape == scaler.scale.shape == (X.shape[1],)
    assert np.isfinite(scaler.center).all()
    assert np.isfinite(scaler.scale).all()
    assert (scaler.scale > 0).all()
    assert np.isfinite(scaler.transform(X)).all()
    new = np.array(data.draw(st.lists(FINITE, min_size=X.shape[1], max_size=X.shape[1])))
    assert np.isfinite(scaler.transform(new[None, :])).all()
    restored = AffineScaler.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(restored.scale, scaler.scale)
    np.testing.assert_array_equal(restored.center, scaler.center)


@pytest.mark.parametrize("kind", SCALINGS)
def test_affine_scaler_gives_constant_columns_unit_scale(kind):
    X = np.column_stack([np.full(5, 3.0), np.arange(5.0)])
    scaler = AffineScaler.fit(X, kind)
    assert scaler.scale[0] == 1.0
    np.testing.assert_array_equal(scaler.transform(X)[:, 0], 3.0 - scaler.center[0])


def test_check_features_reorders_non_string_labels_by_their_names():
    # Found by test_check_features_with_fit_columns_raises_only_aekit_errors: a KeyError.
    df = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["", "00", 0])
    values, columns = check_features(df, feature_names=["", "0", "00"])
    assert columns == ["", "0", "00"]
    np.testing.assert_array_equal(values, [[1.0, 3.0, 2.0]])
