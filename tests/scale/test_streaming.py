"""Streaming scoring: chunked results equal in-memory ones, errors name the file's row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aekit.cli.main import main
from aekit.estimators import AnomalyDetector
from aekit.exceptions import DataError
from aekit.streaming import iter_chunks, score_file, score_table


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(1500, 5)), columns=[f"f{i}" for i in range(5)])
    X.iloc[::40] *= 5  # some rows to flag
    return X


@pytest.fixture(scope="module")
def detector(data):
    # reconstruction scoring takes the streaming module's own fast path
    return AnomalyDetector(n_estimators=2, max_epochs=3, scoring="reconstruction",
                           random_state=0).fit(data.iloc[:600])


@pytest.fixture(scope="module")
def reference(detector, data):
    return score_table(detector, data)


def _read(path):
    if str(path).endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t" if str(path).endswith(".tsv") else ",",
                       keep_default_na=False)


@pytest.mark.parametrize("fmt,out", [("parquet", "s.parquet"), ("csv", "s.csv"),
                                     ("parquet-dir", "s.tsv")])
def test_streamed_scores_equal_in_memory_scores_exactly(tmp_path, data, detector, reference,
                                                        fmt, out):
    if fmt == "parquet":
        src = tmp_path / "x.parquet"
        data[data.columns[::-1]].to_parquet(src, row_group_size=333)  # column order may differ
    elif fmt == "csv":
        src = tmp_path / "x.csv"
        data.to_csv(src, index=False)
    else:
        src = tmp_path / "parts"
        src.mkdir()
        data.iloc[:700].to_parquet(src / "a.parquet")
        data.iloc[700:].to_parquet(src / "b.parquet")
    summary = score_file(detector, src, tmp_path / out, chunk_rows=128, progress=False)
    got = _read(tmp_path / out)
    assert summary.n_rows == len(data) and summary.n_flagged == int(reference.flag.sum()) > 0
    assert list(got.columns) == ["score", "flag", "top_features"]
    np.testing.assert_array_equal(got.score.to_numpy(), detector.anomaly_score(data))
    np.testing.assert_array_equal(got.flag.to_numpy(), reference.flag.to_numpy())
    assert got.top_features.astype(str).tolist() == reference.top_features.tolist()


def test_default_detector_streams_exactly_too(tmp_path, data):
    detector = AnomalyDetector(n_estimators=2, max_epochs=2, random_state=1).fit(data.iloc[:500])
    data.to_parquet(tmp_path / "x.parquet", row_group_size=400)
    score_file(detector, tmp_path / "x.parquet", tmp_path / "s.parquet", chunk_rows=300,
               progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet").score.to_numpy(),
                                  detector.anomaly_score(data))


def test_bad_cell_is_reported_by_file_row_and_no_output_remains(tmp_path, data, detector):
    bad = data.astype(object)
    bad.iloc[1234, 2] = "oops"
    src = tmp_path / "bad.csv"
    bad.to_csv(src, index=False)
    with pytest.raises(DataError, match=r"column 'f2', row 1235: 'oops' is not a number"):
        score_file(detector, src, tmp_path / "s.parquet", chunk_rows=100, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_missing_cells_in_a_streamed_file_score_as_in_memory(tmp_path, data, detector):
    holes = data.copy()
    holes.iloc[999, 0] = np.nan
    holes.to_parquet(tmp_path / "nan.parquet", row_group_size=250)
    score_file(detector, tmp_path / "nan.parquet", tmp_path / "s.csv", chunk_rows=100,
               progress=False)
    scores = pd.read_csv(tmp_path / "s.csv").score.to_numpy()
    assert np.isfinite(scores).all()
    np.testing.assert_allclose(scores, detector.anomaly_score(holes), rtol=1e-12)


def test_missing_column_is_named_before_reading_rows(tmp_path, data, detector):
    data.drop(columns="f3").to_parquet(tmp_path / "x.parquet")
    with pytest.raises(DataError, match=r"yet now missing:\n- f3"):
        score_file(detector, tmp_path / "x.parquet", tmp_path / "s.parquet", progress=False)


def test_iter_chunks_yields_bounded_chunks_with_extras(tmp_path, data):
    frame = data.assign(label=np.arange(len(data)) % 2)
    frame.to_parquet(tmp_path / "x.parquet", row_group_size=1000)
    chunks = list(iter_chunks(tmp_path / "x.parquet", chunk_rows=400, extra=["label"]))
    assert [c[0] for c in chunks] == [0, 400, 800, 1200]
    assert max(len(c[1]) for c in chunks) <= 400
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), data.to_numpy())
    assert np.concatenate([c[2]["label"] for c in chunks]).tolist() == frame.label.tolist()


def test_cli_score_streams_parquet_with_labels(tmp_path, data, detector, reference, capsys):
    detector.save(tmp_path / "det")
    data.assign(y=(np.arange(len(data)) % 40 == 0).astype(int)).to_parquet(tmp_path / "x.parquet")
    code = main(["score", str(tmp_path / "det"), str(tmp_path / "x.parquet"), "--labels", "y",
                 "--out", str(tmp_path / "s.parquet"), "--chunk-rows", "256", "-q"])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"rows: {len(data)}" in printed and "metrics:" in printed
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet").score.to_numpy(),
                                  reference.score.to_numpy())


def test_streamed_attribution_equals_the_detectors_own(data):
    detector = AnomalyDetector(n_estimators=3, max_epochs=2, random_state=2).fit(data.iloc[:500])
    X = data.to_numpy()[::7]
    streamed = detector.scorer_.attribution(detector.scaled(X), single_thread=True)
    np.testing.assert_array_equal(streamed, detector.feature_contributions(X))
    one_by_one = np.vstack([detector.feature_contributions(X[i:i + 1]) for i in range(5)])
    np.testing.assert_array_equal(one_by_one, detector.feature_contributions(X)[:5])


def test_the_kept_top_rows_are_the_highest_scores_across_chunks_ties_to_the_earlier_row():
    from aekit.streaming import _TopRows

    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=1000).astype(float)  # many ties
    rows = np.arange(1000)[:, None].astype(float)
    top = _TopRows(5)
    for first in range(0, 1000, 128):
        top.add(rows[first:first + 128], scores[first:first + 128], first)
    kept_rows, kept_scores, positions = top.result()
    expected = np.argsort(-scores, kind="stable")[:5]
    np.testing.assert_array_equal(positions, expected)
    np.testing.assert_array_equal(kept_scores, scores[expected])
    np.testing.assert_array_equal(kept_rows[:, 0], expected)


def test_streamed_csv_output_quotes_only_the_cells_that_need_it_as_in_memory_output_does(
        tmp_path, data):
    table = data.assign(id=[f"row {i}" if i != 3 else 'row "3", odd' for i in range(len(data))])
    table.to_parquet(tmp_path / "x.parquet", row_group_size=500)
    detector = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(table[:600])
    score_file(detector, tmp_path / "x.parquet", tmp_path / "s.csv", chunk_rows=128,
               progress=False)
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "id,score,flag,top_features"
    assert lines[200].startswith("row 199,") and '"' not in lines[200] + lines[-1]
    assert lines[4].startswith('"row ""3"", odd",')  # its chunk is quoted: valid CSV
    got = pd.read_csv(tmp_path / "s.csv", keep_default_na=False)
    assert got["id"].tolist() == table["id"].tolist()
    np.testing.assert_array_equal(got.score.to_numpy(), detector.anomaly_score(table))


def test_a_carried_text_that_spells_a_missing_value_is_quoted_in_a_streamed_csv(tmp_path):
    from aekit.data.io import read_data

    rng = np.random.default_rng(0)
    codes = [f"K{i:03d}" for i in range(200)]
    codes[5] = "NA"  # a country code (Namibia) among the row names
    table = pd.DataFrame({"code": codes, "x": rng.normal(size=200), "y": rng.normal(size=200)})
    table.to_parquet(tmp_path / "t.parquet")
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(table)
    assert det.input_spec_.identifiers == ["code"]
    score_file(det, tmp_path / "t.parquet", tmp_path / "s.csv", progress=False)
    assert read_data(tmp_path / "s.csv").X["code"].tolist() == codes
