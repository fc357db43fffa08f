"""check_features: what it accepts, and error messages that say what, where and how to fix."""

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from aekit import Autoencoder
from aekit.data.validation import DataTypeError, align_columns, check_features
from aekit.exceptions import AekitError, DataError

# ----------------------------------------------------------------------------- accepted input


def test_arrays_lists_and_frames_become_float64_with_column_names():
    values, columns = check_features([[1, 2], [3, 4]])
    assert values.dtype == np.float64 and columns is None
    values, columns = check_features(pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]}))
    np.testing.assert_array_equal(values, [[1, 0.5], [2, 1.5]])
    assert columns == ["a", "b"]


def test_numeric_strings_and_booleans_are_converted():
    df = pd.DataFrame({"s": ["1.5", "2"], "flag": [True, False]})
    np.testing.assert_array_equal(check_features(df)[0], [[1.5, 1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(check_features(np.array([["1", "2e3"]]))[0], [[1.0, 2000.0]])


def test_a_series_is_one_named_column():
    values, columns = check_features(pd.Series([1.0, 2.0], name="s"))
    assert values.shape == (2, 1) and columns == ["s"]


def test_a_polars_dataframe_is_accepted_with_its_column_names():
    pl = pytest.importorskip("polars")
    values, columns = check_features(pl.DataFrame({"a": [1.0, 2.0], "b": [3, 4]}))
    np.testing.assert_array_equal(values, [[1, 3], [2, 4]])
    assert columns == ["a", "b"]


def test_an_estimator_fits_a_polars_dataframe_and_remembers_its_columns():
    pl = pytest.importorskip("polars")
    rng = np.random.default_rng(0)
    df = pl.DataFrame({name: rng.normal(size=50) for name in "abc"})
    ae = Autoencoder(latent_dim=1, hidden_dims=(4,), max_epochs=1, random_state=0).fit(df)
    assert ae.feature_names_in_.tolist() == ["a", "b", "c"]
    assert ae.transform(df).shape == (50, 1)


# ----------------------------------------------------------------------------- non-numeric cells


def test_a_non_numeric_cell_names_source_column_row_and_value():
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["1", "x", "y"]})
    with pytest.raises(DataError, match=r"^data\.csv: column 'b', row 2: 'x' is not a number "
                                        r"\(2 non-numeric cell\(s\) in this column\)\."):
        check_features(df, source="data.csv")


def test_a_non_numeric_cell_in_an_object_array_names_column_and_row():
    X = np.array([[1, "2"], ["3", "zz"]], dtype=object)
    with pytest.raises(DataError, match=r"^X: column 1, row 2: 'zz' is not a number"):
        check_features(X, source="X")


def test_a_non_number_object_is_also_a_type_error():
    X = np.array([[1.0, {}], [2.0, 3.0]], dtype=object)
    with pytest.raises(DataTypeError, match=r"column 1, row 1: \{\} is not a number") as info:
        check_features(X, source="X")
    assert isinstance(info.value, TypeError) and isinstance(info.value, DataError)


def test_data_errors_are_value_errors_and_aekit_errors():
    with pytest.raises(ValueError) as info:
        check_features(pd.DataFrame({"a": ["x"]}))
    assert isinstance(info.value, AekitError)


def test_complex_data_is_refused():
    with pytest.raises(DataError, match="Complex data not supported"):
        check_features(np.array([[1 + 1j, 2.0]]))


# ----------------------------------------------------------------------------- NaN and inf


def test_nan_names_column_count_and_first_row():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, np.nan, 3.0, np.inf]})
    with pytest.raises(DataError, match=r"^X: column 'b' \(position 1\) holds 2 NaN or inf "
                                        r"value\(s\); the first is NaN at row 2\. Impute or drop"):
        check_features(df, source="X")


def test_inf_in_an_array_names_column_position_and_row():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, -np.inf]])
    with pytest.raises(DataError, match=r"column 1 holds 1 NaN or inf value\(s\); "
                                        r"the first is inf at row 3"):
        check_features(X, source="X")


def test_a_value_beyond_float32_is_refused_before_it_overflows():
    with pytest.raises(DataError, match=r"column 0, row 2: .*too large to compute with in float32"):
        check_features(np.array([[1.0], [1e300]]))


def test_a_negative_value_beyond_float32_is_refused_too():
    with pytest.raises(DataError, match=r"column 1, row 3: .*too large to compute with in float32"):
        check_features(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, -1e300]]))


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("X", [np.zeros((0, 3)), pd.DataFrame({"a": []})],
                         ids=["array", "frame"])
def test_empty_input_is_refused(X):
    with pytest.raises(DataError, match=r"^X: empty input \(0 rows\)"):
        check_features(X, source="X")


@pytest.mark.parametrize("X", [np.zeros((4, 0)), pd.DataFrame(index=range(4))],
                         ids=["array", "frame"])
def test_input_without_columns_is_refused(X):
    with pytest.raises(DataError, match=r"no columns: 0 feature\(s\) \(shape=\(4, 0\)\)"):
        check_features(X, source="X")


def test_a_single_row_is_too_few_to_fit():
    with pytest.raises(DataError, match=r"got 1 row\(s\) \(n_samples=1\); at least 2 samples"):
        check_features(np.zeros((1, 3)), min_samples=2)


def test_fitting_an_estimator_on_one_row_says_1_sample():
    with pytest.raises(DataError, match="1 row"):
        Autoencoder(max_epochs=1).fit(np.zeros((1, 3)))


def test_a_single_row_is_fine_for_prediction():
    assert check_features(np.zeros((1, 3)), n_features=3)[0].shape == (1, 3)


def test_the_wrong_width_at_prediction_names_both_widths():
    with pytest.raises(DataError, match=r"^X: X has 3 features, but Autoencoder is expecting 4 "
                                        r"features as input\. Pass the same columns as in fit\."):
        check_features(np.zeros((2, 3)), source="X", n_features=4, estimator_name="Autoencoder")


def test_a_1d_array_suggests_a_reshape():
    with pytest.raises(DataError, match=r"Expected a 2-D array, got a 1-D array of shape \(3,\)\. "
                                        r"Reshape your data with X\.reshape\(-1, 1\)"):
        check_features(np.zeros(3))


def test_a_3d_array_is_refused_with_its_shape():
    with pytest.raises(DataError, match=r"got shape \(2, 3, 4\)"):
        check_features(np.zeros((2, 3, 4)))


@pytest.mark.parametrize("X", [sparse.csr_matrix(np.eye(3)), sparse.csr_array(np.eye(3))])
def test_sparse_input_is_refused_with_the_conversion_to_make(X):
    with pytest.raises(DataError, match=r"sparse input \(csr_\w+\) is not supported.*toarray"):
        check_features(X)


def test_something_that_is_not_an_array_is_refused():
    with pytest.raises(DataError, match="expected an array or DataFrame, got str"):
        check_features("1,2,3")


# ----------------------------------------------------------------------------- column names


def test_duplicated_column_names_are_refused():
    with pytest.raises(DataError, match=r"duplicated column names \['a'\]"):
        check_features(pd.DataFrame([[1, 2, 3]], columns=["a", "b", "a"]))


def test_columns_are_reordered_to_the_fit_order_by_name():
    df = pd.DataFrame({"b": [2.0], "a": [1.0]})
    values, columns = check_features(df, feature_names=["a", "b"])
    assert columns == ["a", "b"]
    np.testing.assert_array_equal(values, [[1.0, 2.0]])


def test_missing_and_unexpected_columns_are_listed_by_name():
    df = pd.DataFrame({"a": [1.0], "c": [2.0]})
    with pytest.raises(DataError, match=r"(?s)^X: The feature names should match those that "
                                        r"were passed during fit\.\nFeature names unseen at fit "
                                        r"time:\n- c\nFeature names seen at fit time, yet now "
                                        r"missing:\n- b\nPass the same columns"):
        align_columns(df, ["a", "b"], "X")
