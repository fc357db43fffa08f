"""A partitioned Parquet directory (files only in subfolders) is one table everywhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aekit import AnomalyDetector, ParquetRows, load
from aekit.cli.main import main
from aekit.data.io import read_data
from aekit.data.paths import PathKind, path_kind
from aekit.streaming import score_file


@pytest.fixture
def partitioned(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(900, 4)), columns=["a", "b", "c", "d"])
    frame.iloc[::50] *= 6
    root = tmp_path / "events"
    for k, part in enumerate(np.array_split(np.arange(len(frame)), 3)):
        folder = root / f"day={k}"
        folder.mkdir(parents=True)
        frame.iloc[part].to_parquet(folder / f"part-{k}.parquet", row_group_size=128)
    (root / "_SUCCESS").write_text("")  # writers' markers are not data
    return root, frame


def test_the_directory_is_parquet_for_every_reader(partitioned):
    root, frame = partitioned
    assert path_kind(root) is PathKind.PARQUET
    pd.testing.assert_frame_equal(read_data(root).X.reset_index(drop=True), frame)
    rows = ParquetRows.open(root)
    assert rows.n_rows == len(frame) and list(rows.columns) == list(frame.columns)


def test_a_partitioned_directory_is_trained_on_and_scored_alike(partitioned, tmp_path):
    root, frame = partitioned
    streamed = AnomalyDetector(n_estimators=2, max_epochs=2, random_state=0).fit(
        ParquetRows.open(root))
    in_memory = AnomalyDetector(n_estimators=2, max_epochs=2, random_state=0).fit(read_data(root).X)
    assert streamed.n_train_samples_ == in_memory.n_train_samples_ == len(frame)
    for detector in (streamed, in_memory):
        out = tmp_path / "scores.parquet"
        summary = score_file(detector, root, out, chunk_rows=200, progress=False)
        assert summary.n_rows == len(frame)
        np.testing.assert_array_equal(pd.read_parquet(out).score.to_numpy(),
                                      detector.anomaly_score(frame))


def test_the_cli_fits_and_scores_a_partitioned_directory(partitioned, tmp_path, capsys):
    root, frame = partitioned
    assert main(["fit", str(root), "--detector", "--n-estimators", "2", "--epochs", "2",
                 "--seed", "0", "--out", str(tmp_path / "det"), "-q"]) == 0
    assert main(["score", str(tmp_path / "det"), str(root), "--out",
                 str(tmp_path / "s.csv"), "-q"]) == 0
    assert f"rows: {len(frame)}" in capsys.readouterr().out
    scores = pd.read_csv(tmp_path / "s.csv").score.to_numpy()
    np.testing.assert_array_equal(scores, load(tmp_path / "det").anomaly_score(frame))
