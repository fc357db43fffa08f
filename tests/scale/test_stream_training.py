"""Training on Parquet larger than memory: one statistics pass, then row groups streamed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aekit.cli.main import main
from aekit.data.parquet_rows import HoldOut, ParquetRows, iter_chunks, scan
from aekit.data.preprocessing import AffineScaler, RunningMoments
from aekit.estimators import VAE, AnomalyDetector, Autoencoder, DenoisingAutoencoder
from aekit.exceptions import DataError
from aekit.persistence import load
from aekit.training.batches import StreamBatches
from aekit.training.checkpoint import Checkpoint

N_FEATURES = 6


def low_rank(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) @ rng.normal(size=(2, N_FEATURES)) + 0.05 * rng.normal(
        size=(n, N_FEATURES))
    return pd.DataFrame(X * [1, 10, 100, 0.1, 1, 5] + [0, 50, -3, 0, 1e3, 0],
                        columns=[f"f{j}" for j in range(N_FEATURES)])


def write(frame: pd.DataFrame, path, row_group_size: int) -> None:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path,
                   row_group_size=row_group_size)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return low_rank(3000)


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory, frame):
    """The frame split over two files (one in a subfolder), 250-row row groups."""
    root = tmp_path_factory.mktemp("pq")
    (root / "b").mkdir()
    write(frame.iloc[:1800], root / "a.parquet", 250)
    write(frame.iloc[1800:], root / "b" / "c.parquet", 250)
    return root


def test_running_moments_equal_numpy_over_chunks():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10_001, 3)) * [1, 1e-3, 50] + [1e6, -2, 0]  # large offset: stability
    moments = RunningMoments(3)
    for chunk in np.array_split(X, 7):
        moments.update(chunk)
    moments.update(X[:0])
    assert moments.count == len(X)
    np.testing.assert_allclose(moments.mean, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(moments.variance, X.var(axis=0), rtol=1e-9)
    np.testing.assert_array_equal(moments.min, X.min(axis=0))
    np.testing.assert_array_equal(moments.max, X.max(axis=0))


@pytest.mark.parametrize("kind", ["standard", "minmax", "none", "robust"])
def test_scaler_from_moments_equals_the_in_memory_scaler(frame, kind):
    X = frame.to_numpy().copy()
    X[:, 3] = 7.0  # a constant column keeps scale 1 either way
    moments = RunningMoments(X.shape[1])
    for chunk in np.array_split(X, 5):
        moments.update(chunk)
    streamed = AffineScaler.from_moments(moments, kind, sample=X)
    direct = AffineScaler.fit(X, kind)
    np.testing.assert_allclose(streamed.center, direct.center, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(streamed.scale, direct.scale, rtol=1e-10)


def test_open_finds_files_row_groups_and_columns(parquet_dir):
    rows = ParquetRows.open(parquet_dir)
    assert rows.columns == tuple(f"f{j}" for j in range(N_FEATURES))
    assert rows.n_rows == 3000
    assert len(rows.pieces) == 8 + 5  # 1800/250 -> 8 groups, 1200/250 -> 5
    assert ParquetRows.open(parquet_dir, exclude=["f0"]).columns[0] == "f1"


def test_held_out_rows_and_streamed_rows_partition_the_data(parquet_dir, frame):
    rows = ParquetRows.open(parquet_dir)
    hold = HoldOut(seed=3, fraction=0.2)
    found = scan(rows, hold_out=hold, sample_fraction=0.5, sample_seed=1)
    train_rows = rows.without(hold)
    streamed = np.concatenate([X for i in range(len(rows.pieces)) for X in train_rows.read(i)])
    assert found.n_rows == len(streamed) and 450 < len(found.held_out) < 750
    together = np.concatenate([streamed, found.held_out])
    order = np.lexsort(together.T)
    expected = frame.to_numpy()
    np.testing.assert_array_equal(together[order], expected[np.lexsort(expected.T)])
    assert found.moments.count == 3000  # statistics over every row
    assert 0.4 * found.n_rows < len(found.sample) < 0.6 * found.n_rows


def test_stream_epochs_give_every_row_once_in_a_new_order(parquet_dir, frame):
    rows = ParquetRows.open(parquet_dir)
    source = StreamBatches(rows, 3000, seed=0, device=torch.device("cpu"), buffer_rows=600)
    epochs = [torch.cat(list(source.epoch(128, e))).double().numpy() for e in (0, 1)]
    again = torch.cat(list(source.epoch(128, 0))).double().numpy()
    expected = frame.to_numpy().astype(np.float32).astype(np.float64)
    for seen in epochs:
        np.testing.assert_array_equal(seen[np.lexsort(seen.T)], expected[np.lexsort(expected.T)])
    assert not np.array_equal(epochs[0], epochs[1])
    np.testing.assert_array_equal(epochs[0], again)  # (seed, epoch) fixes the order
    # the buffer mixes row groups: the first batch holds rows from more than one group
    first = next(source.epoch(128, 0)).double().numpy()
    groups = {int(np.flatnonzero((expected == row).all(axis=1))[0]) // 250 for row in first}
    assert len(groups) > 1


def test_streamed_fit_matches_in_memory_quality_and_is_deterministic(parquet_dir, frame):
    params = dict(hidden_dims=(16,), max_epochs=15, random_state=0)
    rows = ParquetRows.open(parquet_dir)
    streamed = Autoencoder(2, **params).fit(rows)
    again = Autoencoder(2, **params).fit(rows)
    in_memory = Autoencoder(2, **params).fit(frame)
    test = low_rank(500, seed=0)  # same generator: same structure, its first rows
    assert streamed.n_train_samples_ == 3000
    assert list(streamed.feature_names_in_) == list(frame.columns)
    err_stream = streamed.reconstruction_error(test).mean()
    err_memory = in_memory.reconstruction_error(test).mean()
    assert err_stream <= 1.05 * err_memory
    np.testing.assert_array_equal(streamed.transform(test), again.transform(test))


@pytest.mark.parametrize("cls", [DenoisingAutoencoder, VAE])
def test_denoising_and_variational_models_stream_too(parquet_dir, frame, cls):
    model = cls(2, hidden_dims=(16,), max_epochs=3, random_state=0).fit(ParquetRows.open(parquet_dir))
    assert model.history_.n_epochs == 3
    assert np.isfinite(model.reconstruction_error(frame)).all()


def test_streamed_fit_resumes_bit_identically(parquet_dir, tmp_path):
    class Crash(Exception):
        pass

    class CrashAfter(Checkpoint):
        def save(self, state, module, fingerprint):
            super().save(state, module, fingerprint)
            if state.epoch == 3:
                raise Crash

    def make():
        return Autoencoder(2, hidden_dims=(8,), init="random", max_epochs=7, batch_size=64,
                           patience=0, random_state=0)

    rows = ParquetRows.open(parquet_dir)
    reference = make().fit(rows)
    with pytest.raises(Crash):
        make().fit(rows, checkpoint=CrashAfter(tmp_path / "ckpt", every=2))
    resumed = make().fit(rows, checkpoint=Checkpoint(tmp_path / "ckpt", every=2, resume=True))
    for k, v in reference.module_.state_dict().items():
        assert torch.equal(v, resumed.module_.state_dict()[k]), k


def test_streamed_detector_flags_what_the_in_memory_one_flags(tmp_path):
    clean = low_rank(4000, seed=5)
    outliers = low_rank(40, seed=6) * 4
    write(pd.concat([clean, outliers], ignore_index=True), tmp_path / "d.parquet", 500)
    detector = AnomalyDetector(n_estimators=2, max_epochs=5, random_state=0).fit(
        ParquetRows.open(tmp_path / "d.parquet"))
    scores = detector.anomaly_score(pd.concat([clean.iloc[:400], outliers]))
    assert scores[400:].min() > np.quantile(scores[:400], 0.95)
    # the default rule (median + 2 robust std) flags every outlier, and about a tenth of
    # clean rows (BENCHMARKS.md section 9)
    assert 0 < detector.predict_labels(clean.iloc[:400]).mean() < 0.15
    assert detector.predict_labels(outliers).mean() == 1


def test_bad_cell_is_named_by_file_and_row(tmp_path, frame):
    bad = frame.copy()
    bad.iloc[1234, 2] = np.nan  # 0-based; messages count rows from 1
    write(bad, tmp_path / "bad.parquet", 500)
    with pytest.raises(DataError, match=r"bad\.parquet.*f2.*row 1235"):
        Autoencoder(2, max_epochs=1).fit(ParquetRows.open(tmp_path / "bad.parquet"))


def test_files_with_other_columns_are_refused(tmp_path, frame):
    write(frame, tmp_path / "a.parquet", 1000)
    write(frame.rename(columns={"f0": "g0"}), tmp_path / "b.parquet", 1000)
    with pytest.raises(DataError, match="b.parquet.*same columns"):
        ParquetRows.open(tmp_path)


def test_reader_errors_reach_the_consumer_and_early_close_stops_the_thread(parquet_dir):
    rows = ParquetRows.open(parquet_dir)

    def boom(X):
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError, match="disk gone"):
        list(iter_chunks(rows.map(boom), np.arange(len(rows.pieces))))
    chunks = iter_chunks(rows, np.arange(len(rows.pieces)), depth=1)
    next(chunks)
    chunks.close()  # returns: the reader thread saw the stop and ended


def test_cli_fit_streams_a_parquet_directory_and_scores_with_the_model(parquet_dir, tmp_path,
                                                                         capsys):
    out = tmp_path / "model"
    assert main(["fit", str(parquet_dir), "--latent-dim", "2", "--epochs", "3", "--seed", "0",
                 "--out", str(out), "--quiet"]) == 0
    model = load(out)
    assert model.n_train_samples_ == 3000 and model.n_features_in_ == N_FEATURES
    detector_dir = tmp_path / "detector"
    assert main(["fit", str(parquet_dir), "--detector", "--epochs", "2", "--seed", "0",
                 "--out", str(detector_dir), "--quiet"]) == 0
    assert main(["score", str(detector_dir), str(parquet_dir / "a.parquet"),
                 "--out", str(tmp_path / "scores.csv"), "--quiet"]) == 0
    assert len(pd.read_csv(tmp_path / "scores.csv")) == 1800


def test_cli_stream_needs_parquet(tmp_path, frame, capsys):
    frame.to_csv(tmp_path / "d.csv", index=False)
    assert main(["fit", str(tmp_path / "d.csv"), "--stream", "--out", str(tmp_path / "m")]) == 2
    assert "--stream trains from Parquet" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_under_torchrun_each_rank_streams_its_own_row_groups(parquet_dir, monkeypatch):
    from aekit.training import distributed

    rows = ParquetRows.open(parquet_dir).without(HoldOut(seed=1, fraction=0.1))
    monkeypatch.setattr(distributed, "world_size", lambda: 2)
    per_rank = []
    for r in (0, 1):
        monkeypatch.setattr(distributed, "rank", lambda r=r: r)
        source = StreamBatches(rows, 0, seed=0, device=torch.device("cpu"), buffer_rows=500)
        assert source.sharded
        per_rank.append(list(source.epoch(128, 0)))
    assert len(per_rank[0]) == len(per_rank[1]) > 0  # same step count: DDP stays in step
    assert all(b.shape[0] == 64 for batches in per_rank for b in batches)  # 128 / 2 ranks
    seen = [torch.cat(b).numpy() for b in per_rank]
    shared = {tuple(r) for r in seen[0]} & {tuple(r) for r in seen[1]}
    assert not shared  # disjoint shares of the data
    assert len(seen[0]) + len(seen[1]) > 0.9 * rows.n_rows * 0.9  # few rows wait for later


def test_streamed_detector_keeps_a_density_reference_of_training_rows(parquet_dir, frame):
    detector = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(
        ParquetRows.open(parquet_dir))
    assert detector.scorer_.reference is not None and len(detector.scorer_.reference) == 4 * 64
    assert detector.scorer_.reference.shape[1] == N_FEATURES
    in_memory = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(frame)
    assert len(in_memory.scorer_.part_weights) == len(detector.scorer_.part_weights)  # same three views


def test_files_are_matched_by_column_name_not_position(tmp_path, frame):
    write(frame.iloc[:1000], tmp_path / "a.parquet", 500)
    write(frame.iloc[1000:2000][list(reversed(frame.columns))], tmp_path / "b.parquet", 500)
    rows = ParquetRows.open(tmp_path)
    read = np.concatenate([X for i in range(len(rows.pieces)) for X in rows.read(i)])
    np.testing.assert_array_equal(read, frame.iloc[:2000].to_numpy())


def test_column_names_with_dots_are_kept_whole(tmp_path, frame):
    write(frame.rename(columns={"f0": "sensor.temp"}), tmp_path / "d.parquet", 1000)
    assert ParquetRows.open(tmp_path / "d.parquet").columns[0] == "sensor.temp"


def test_ranks_scans_of_their_row_groups_add_up_to_the_whole_scan(parquet_dir):
    """What each torchrun rank reads in the statistics pass, merged, is the single pass."""
    rows = ParquetRows.open(parquet_dir)
    hold = HoldOut(seed=4, fraction=0.15)
    whole = scan(rows, hold_out=hold, sample_fraction=0.3, sample_seed=2)
    shares = [scan(rows, hold_out=hold, sample_fraction=0.3, sample_seed=2,
                   pieces=range(r, len(rows.pieces), 3)) for r in range(3)]
    merged = RunningMoments.from_array(shares[0].moments.to_array())
    for share in shares[1:]:
        merged.merge(RunningMoments.from_array(share.moments.to_array()))
    assert merged.count == whole.moments.count == 3000
    np.testing.assert_allclose(merged.mean, whole.moments.mean, rtol=1e-12)
    np.testing.assert_allclose(merged.variance, whole.moments.variance, rtol=1e-10)
    np.testing.assert_array_equal(merged.min, whole.moments.min)
    assert sum(s.n_rows for s in shares) == whole.n_rows
    for part in ("held_out", "sample"):
        together = np.concatenate([getattr(s, part) for s in shares])
        expected = getattr(whole, part)
        np.testing.assert_array_equal(together[np.lexsort(together.T)],
                                      expected[np.lexsort(expected.T)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_rows=st.integers(1, 700), group=st.integers(1, 300), fraction=st.floats(0, 0.5),
       batch=st.integers(1, 200), buffer=st.integers(1, 900), seed=st.integers(0, 10))
def test_every_row_is_either_held_out_or_streamed_once_per_epoch(tmp_path, n_rows, group,
                                                                 fraction, batch, buffer, seed):
    path = tmp_path / f"p{n_rows}_{group}.parquet"
    values = np.arange(n_rows * 2, dtype=np.float64).reshape(n_rows, 2)
    write(pd.DataFrame(values, columns=["a", "b"]), path, group)
    rows = ParquetRows.open(path)
    hold = HoldOut(seed, fraction)
    found = scan(rows, hold_out=hold, sample_fraction=1.0)
    source = StreamBatches(rows.without(hold), found.n_rows, seed, torch.device("cpu"), buffer)
    batches = list(source.epoch(batch, 0))
    assert all(len(b) == batch for b in batches[:-1]) and all(len(b) <= batch for b in batches)
    streamed = torch.cat(batches).double().numpy() if batches else np.empty((0, 2))
    seen = np.sort(np.concatenate([streamed[:, 0], found.held_out[:, 0]]))
    np.testing.assert_array_equal(seen, values[:, 0])  # each row exactly once
    assert len(streamed) == found.n_rows == len(found.sample)
