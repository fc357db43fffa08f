"""The scaler: the same statistics as scikit-learn's, computed a block of rows at a time."""

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from aekit.data import preprocessing
from aekit.data.preprocessing import AffineScaler


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    return rng.normal(size=(1_000, 4)) * [1.0, 10.0, 1e-3, 5.0] + [0.0, -3.0, 1e4, 7.0]


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    # blocks of 64 rows: 1,000 rows take 16 blocks, the last one partial
    monkeypatch.setattr(preprocessing, "BLOCK_ROWS", 64)


def test_standard_scaling_equals_scikit_learns(X):
    scaler = AffineScaler.fit(X, "standard")
    reference = StandardScaler().fit(X)
    np.testing.assert_allclose(scaler.center, reference.mean_, rtol=1e-12)
    # column 2's std is 1e-7 of its mean: merging 16 blocks rounds it at ~4e-11
    np.testing.assert_allclose(scaler.scale, reference.scale_, rtol=1e-9)


def test_minmax_scaling_equals_scikit_learns(X):
    scaler = AffineScaler.fit(X, "minmax")
    reference = MinMaxScaler().fit(X)
    np.testing.assert_allclose(scaler.transform(X), reference.transform(X), atol=1e-12)


def test_a_constant_column_keeps_scale_one():
    X = np.column_stack([np.full(200, 3.0), np.arange(200.0)])
    for kind in ("standard", "minmax"):
        scaler = AffineScaler.fit(X, kind)
        assert scaler.scale[0] == 1.0
        assert np.all(scaler.transform(X)[:, 0] == 0.0)


def test_float32_transform_rounds_the_float64_result_block_by_block(X):
    scaler = AffineScaler.fit(X, "standard")
    out = scaler.transform_float32(X)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, scaler.transform(X).astype(np.float32))
    # a Fortran-ordered input gives the same C-ordered rows
    np.testing.assert_array_equal(scaler.transform_float32(np.asfortranarray(X)), out)
