"""read_data and write_table: round-trips per format, labels, and refusals that name the file."""

import gzip
import pickle

import numpy as np
import pandas as pd
import pytest

from aekit.data.io import read_data, write_table
from aekit.exceptions import DataError


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(12, 3)).round(6), columns=["a", "b", "c"])


# ----------------------------------------------------------------------------- round-trips


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.parquet"])
def test_a_table_round_trips_through_write_table_and_read_data(tmp_path, frame, name):
    path = write_table(tmp_path / name, frame)
    assert path == tmp_path / name
    data = read_data(path)
    assert data.y is None
    assert data.source == str(path)
    pd.testing.assert_frame_equal(data.X, frame, check_exact=False, rtol=1e-12)


def test_an_npy_round_trip_gives_an_unnamed_array_matched_by_width(tmp_path, frame):
    data = read_data(write_table(tmp_path / "t.npy", frame))
    assert isinstance(data.X, np.ndarray) and not hasattr(data.X, "columns")
    np.testing.assert_array_equal(data.X, frame.to_numpy())


def test_an_npz_file_gives_features_from_X_and_labels_from_y(tmp_path, frame):
    y = np.arange(12) % 2
    np.savez(tmp_path / "t.npz", X=frame.to_numpy(), y=y)
    data = read_data(tmp_path / "t.npz")
    np.testing.assert_array_equal(data.X, frame.to_numpy())
    np.testing.assert_array_equal(data.y, y)


@pytest.mark.parametrize("suffix", ["gz", "bz2", "xz"])
def test_a_compressed_csv_is_read_in_memory_and_streamed(tmp_path, frame, suffix):
    from aekit import AnomalyDetector
    from aekit.streaming import score_file

    frame.to_csv(tmp_path / f"t.csv.{suffix}", index=False)  # pandas compresses by name
    pd.testing.assert_frame_equal(read_data(tmp_path / f"t.csv.{suffix}").X, frame)
    det = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(frame)
    if suffix == "xz":  # pyarrow's reader has no xz: aekit score reads it in memory
        with pytest.raises(DataError, match=r"\(plain, \.gz or \.bz2\)"):
            score_file(det, tmp_path / f"t.csv.{suffix}", tmp_path / "s.csv", progress=False)
        return
    score_file(det, tmp_path / f"t.csv.{suffix}", tmp_path / "s.csv", progress=False)
    np.testing.assert_allclose(pd.read_csv(tmp_path / "s.csv")["score"],
                               det.anomaly_score(frame), rtol=1e-6)


def test_a_gzipped_csv_is_read(tmp_path, frame):
    with gzip.open(tmp_path / "t.csv.gz", "wt") as fh:
        frame.to_csv(fh, index=False)
    pd.testing.assert_frame_equal(read_data(tmp_path / "t.csv.gz").X, frame)


def test_a_directory_of_parquet_files_is_read_as_one_table(tmp_path, frame):
    (tmp_path / "parts").mkdir()
    write_table(tmp_path / "parts" / "0.parquet", frame.iloc[:5])
    write_table(tmp_path / "parts" / "1.parquet", frame.iloc[5:])
    data = read_data(tmp_path / "parts")
    assert data.X.shape == (12, 3)
    np.testing.assert_allclose(np.sort(data.X.to_numpy(), axis=0),
                               np.sort(frame.to_numpy(), axis=0))


def test_write_table_accepts_a_plain_array(tmp_path):
    data = read_data(write_table(tmp_path / "t.csv", np.eye(2)))
    assert list(data.X.columns) == ["0", "1"]
    np.testing.assert_array_equal(data.X.to_numpy(), np.eye(2))


def test_writing_over_an_existing_file_replaces_it(tmp_path, frame):
    write_table(tmp_path / "t.csv", frame)
    write_table(tmp_path / "t.csv", frame.iloc[:2])
    assert read_data(tmp_path / "t.csv").X.shape == (2, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


# ----------------------------------------------------------------------------- labels


def test_a_labels_column_is_extracted_and_removed_from_the_features(tmp_path, frame):
    write_table(tmp_path / "t.csv", frame.assign(label=np.arange(12) % 2))
    data = read_data(tmp_path / "t.csv", labels="label")
    assert list(data.X.columns) == ["a", "b", "c"]
    np.testing.assert_array_equal(data.y, np.arange(12) % 2)


def test_an_unknown_labels_column_lists_the_columns(tmp_path, frame):
    write_table(tmp_path / "t.csv", frame)
    with pytest.raises(DataError, match=r"no labels column 'label'; columns are \['a', 'b', 'c'\]"):
        read_data(tmp_path / "t.csv", labels="label")


def test_labels_cannot_be_named_in_an_npy_file(tmp_path, frame):
    write_table(tmp_path / "t.npy", frame)
    with pytest.raises(DataError, match="a .npy file has no named columns"):
        read_data(tmp_path / "t.npy", labels="label")


def test_npz_labels_must_have_one_value_per_row(tmp_path):
    np.savez(tmp_path / "t.npz", X=np.zeros((4, 2)), y=np.zeros(3))
    with pytest.raises(DataError, match=r"'y' has shape \(3,\); expected \(4,\)"):
        read_data(tmp_path / "t.npz")


# ----------------------------------------------------------------------------- refusals


def test_a_non_numeric_cell_in_a_file_names_file_column_row_and_value(tmp_path):
    from aekit.data.validation import check_features

    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,oops\n")
    data = read_data(path)
    with pytest.raises(DataError, match=r"t\.csv: column 'b', row 2: 'oops' is not a number"):
        check_features(data.X, source=data.source)


def test_npz_with_object_arrays_is_refused_without_unpickling(tmp_path, monkeypatch):
    np.savez(tmp_path / "t.npz", X=np.array([[1, "a"]], dtype=object))

    def refuse(*args, **kwargs):
        raise AssertionError("aekit unpickled data")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    with pytest.raises(DataError, match=r"array 'X' holds Python objects; aekit never unpickles"):
        read_data(tmp_path / "t.npz")


def test_npy_with_an_object_array_is_refused(tmp_path):
    np.save(tmp_path / "t.npy", np.array([[1, "a"]], dtype=object))
    with pytest.raises(DataError, match=r"holds Python objects \(an object array\)"):
        read_data(tmp_path / "t.npy")


def test_npz_without_an_X_array_lists_what_it_holds(tmp_path):
    np.savez(tmp_path / "t.npz", features=np.zeros((2, 2)))
    with pytest.raises(DataError, match=r"no array named 'X' \(found \['features'\]\)"):
        read_data(tmp_path / "t.npz")


def test_a_bz2_file_that_is_not_bz2_is_refused(tmp_path):
    (tmp_path / "t.csv.bz2").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"t\.csv\.bz2: the name ends in \.bz2 but the file is "
                                        r"not bz2-compressed"):
        read_data(tmp_path / "t.csv.bz2")


def test_a_gz_file_that_is_not_gzip_is_refused(tmp_path):
    (tmp_path / "t.csv.gz").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"t\.csv\.gz: the name ends in \.gz but the file is not "
                                        r"gzip-compressed"):
        read_data(tmp_path / "t.csv.gz")


@pytest.mark.parametrize("content", [b"a,\xe9\n1,2\n", b"a,b\n1,2\n\xff\xfe,3\n"],
                         ids=["in the header", "in a row"])
def test_non_utf8_bytes_are_refused(tmp_path, content):
    (tmp_path / "t.csv").write_bytes(content)
    with pytest.raises(DataError, match=r"t\.csv: not valid UTF-8 text .*Save the file as UTF-8"):
        read_data(tmp_path / "t.csv")


def test_duplicated_header_names_are_refused(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,a\n1,2,3\n")
    with pytest.raises(DataError, match=r"duplicated column names \['a'\] in the header"):
        read_data(tmp_path / "t.csv")


def test_an_empty_file_is_refused(tmp_path):
    (tmp_path / "t.csv").write_text("")
    with pytest.raises(DataError, match=r"t\.csv: the file is empty"):
        read_data(tmp_path / "t.csv")


def test_rows_with_too_many_fields_are_refused(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(DataError, match=r"(?s)malformed CSV .*Every row needs the same number"):
        read_data(tmp_path / "t.csv")


def test_a_file_that_is_not_parquet_is_refused(tmp_path):
    (tmp_path / "t.parquet").write_text("hello")
    with pytest.raises(DataError, match=r"t\.parquet: not a readable Parquet file"):
        read_data(tmp_path / "t.parquet")


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match=r"missing\.csv: no such file or directory"):
        read_data(tmp_path / "missing.csv")


def test_an_unknown_extension_lists_the_supported_ones(tmp_path):
    (tmp_path / "t.xlsx").write_bytes(b"PK")
    with pytest.raises(DataError, match=r"unknown file type '\.xlsx'\. Use \.csv .*, \.tsv"):
        read_data(tmp_path / "t.xlsx")


# ----------------------------------------------------------------------------- atomic output


def test_writing_into_a_missing_directory_fails_and_leaves_nothing(tmp_path, frame):
    target = tmp_path / "nope" / "out.csv"
    with pytest.raises(DataError, match=r"out\.csv: the output directory .*nope' does not exist"):
        write_table(target, frame)
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_output_format_is_refused_before_writing(tmp_path, frame):
    with pytest.raises(DataError, match=r"unknown output format '\.xlsx'"):
        write_table(tmp_path / "out.xlsx", frame)
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_half_way_leaves_no_file_or_temporary(tmp_path):
    unwritable = pd.DataFrame({"mixed": [1, "a"]})  # pyarrow cannot type this column
    # pyarrow's own ArrowInvalid (a ValueError) comes through; the point is what is left.
    with pytest.raises(ValueError, match="Conversion failed for column mixed"):
        write_table(tmp_path / "out.parquet", unwritable)
    assert list(tmp_path.iterdir()) == []


def test_a_fill_is_written_in_its_columns_decimals_and_marks_never_as_minus_zero():
    from aekit.data.dialect import CsvDialect
    from aekit.data.written_fills import _as_text

    point, comma = CsvDialect(), CsvDialect(";", ",", ".")
    assert _as_text(-0.001, 2, {}, point) == "0.00"
    assert _as_text(-0.004, 1, {}, comma) == "0,0"
    assert _as_text(-0.26, 1, {}, comma) == "-0,3"
    assert _as_text(-1.0, 0, {}, point) == "-1"
    assert _as_text(True, 0, {True: "yes", False: "no"}, point) == "yes"
    assert _as_text(12345.678, 2, {}, comma, grouped=True) == "12.345,68"
    assert _as_text(12345.678, 2, {}, comma) == "12345,68"
    assert _as_text(-1234.0, 0, {}, point, grouped=True) == "-1,234"


def test_fills_of_a_column_in_scientific_notation_keep_their_digits(tmp_path):
    from aekit.cli.main import main

    rng = np.random.default_rng(0)
    small = rng.lognormal(-12, 1, 200)
    table = pd.DataFrame({"conc": small, "twice": 2 * small, "temp": rng.normal(50, 10, 200)})
    table.loc[::10, "conc"] = np.nan
    table.to_csv(tmp_path / "sci.csv", index=False)  # pandas writes 6.967390601937536e-06
    assert main(["impute", str(tmp_path / "sci.csv"), "--out", str(tmp_path / "f.csv"),
                 "--epochs", "2", "-q"]) == 0
    filled = pd.read_csv(tmp_path / "f.csv")["conc"]
    assert filled.dtype == np.float64 and (filled[::10] > 0).all()
    assert filled[::10].between(small.min() / 10, small.max()).all()
    from aekit.data.written_fills import _decimals, _significant

    assert _significant(["6.96e-06", "1.2E-05"]) == (3, True)
    assert _significant(["1.5", "2"]) == (None, False)
    assert _significant(["1.5", "2.25", "3e-04"]) == (3, False)  # tiny fills only
    assert _decimals(["3.2260000000000004", "1.25", "3.1"], ".") == 2  # float noise
