"""Tables with text, categories, dates and identifiers are read as what their columns are."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import aekit
from aekit import AnomalyDetector, Autoencoder
from aekit.cli.main import main
from aekit.data.columns import MISSING_LEVEL, Column, encode_column, infer_column
from aekit.data.io import read_data
from aekit.data.schema import InputSpec
from aekit.exceptions import DataError, ParameterError
from aekit.streaming import score_file, score_table


def mixed_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = rng.normal(10, 2, n)
    colour = rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2])
    return pd.DataFrame({
        "Unnamed: 0": np.arange(n),  # pandas' default index, written by to_csv()
        "order": [f"ord-{i:05d}" for i in range(n)],
        "when": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "colour": colour,
        "express": rng.choice(["yes", "no"], n),
        "size": size,
        "price": size * np.where(colour == "red", 3.0, 5.0) + rng.normal(0, 0.5, n),
    })


def test_fit_counts_the_feature_columns_and_their_encoded_width(tmp_path, capsys):
    mixed_table().to_csv(tmp_path / "t.csv", index=False)
    for kind, said in (("--model=ae", "rows x 5 features ("), ("--detector", "on 5 features (")):
        assert main(["fit", str(tmp_path / "t.csv"), kind, "--epochs", "1",
                     "--out", str(tmp_path / kind.strip("-=")), "-q"]) == 0
        out = capsys.readouterr().out
        # 7 columns, of which an index and an order number name rows; colour is 3 wide
        assert said in out, out
        encoded = int(out.split(said)[1].split(" ")[0])
        assert encoded > 5


def test_roles_are_inferred_from_the_values():
    spec, _ = InputSpec.from_training_data(mixed_table())
    roles = {c.name: c.role for c in spec.columns}
    assert roles == {"Unnamed: 0": "identifier", "order": "identifier", "when": "datetime",
                     "colour": "categorical", "express": "boolean", "size": "numeric",
                     "price": "numeric"}
    assert spec.feature_names == ("when", "colour", "express", "size", "price")
    assert spec.identifiers == ["Unnamed: 0", "order"]
    assert spec.n_features == 4 + 4 + 1 + 1 + 1  # two cyclic pairs, three levels + other, ...
    assert "colour      categorical, one-hot over 3 values (blue, green, red)" in spec.describe()


def test_a_category_with_one_common_value_is_described_in_the_singular():
    country = pd.Series(["USA"] * 400 + ["Guam", "Palau", "Samoa", "Fiji"])
    column = infer_column("country", country, None, "X")
    assert column.describe() == ("categorical, one-hot over 1 value (USA); 4 rare values as "
                                 "(other)")


def test_a_date_is_its_calendar_never_an_epoch_number():
    column = infer_column("d", pd.Series(["2020-03-02", "2021-03-01", "2021-05-04"]), None, "X")
    assert column.role == "datetime" and column.parts == ("dayofweek", "month")
    both = encode_column(column, pd.Series(["2020-03-02", "2021-03-01"]), "X")
    np.testing.assert_allclose(both[0], both[1], atol=1e-12)  # both a Monday in March
    timed = infer_column("t", pd.Series(pd.to_datetime(["2024-01-01 10:00", "2024-02-02"],
                                                        format="ISO8601")), None, "X")
    assert timed.parts == ("hour", "dayofweek", "month")


def test_declared_roles_override_the_inferred_ones():
    table = mixed_table()
    det = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0, column_roles={
        "size": "ignore", "express": "categorical", "when": "id"}).fit(table)
    roles = {c.name: c.role for c in det.input_spec_.columns}
    assert roles["size"] == "ignored" and roles["express"] == "categorical"
    assert roles["when"] == "identifier"
    with pytest.raises(ParameterError, match=r"column 'size' has role 'weird'"):
        AnomalyDetector(column_roles={"size": "weird"}).fit(table)
    with pytest.raises(DataError, match=r"names columns \['nope'\] that X does not have"):
        AnomalyDetector(column_roles={"nope": "id"}).fit(table)


@pytest.mark.parametrize("table, message", [
    (pd.DataFrame({"a": ["1", "2", "3", "x"], "b": [1.0, 2, 3, 4]}),
     r"column 'a', row 4: 'x' is not a number \(1 such cell"),
    (pd.DataFrame({"a": [None, None, None], "b": [None, None, None]}),
     r"no feature columns: 'a' is empty, 'b' is empty"),
])
def test_columns_that_cannot_be_read_correctly_are_refused_by_name(table, message):
    with pytest.raises(DataError, match=message):
        AnomalyDetector(n_estimators=1, max_epochs=1).fit(table)


def test_placeholders_of_missing_numbers_are_missing_and_the_schema_says_so():
    rng = np.random.default_rng(0)
    group = rng.integers(1, 19, 60).astype(str).astype(object)
    group[[3, 9, 20]] = ["-", "?", " n/a "]
    table = pd.DataFrame({"group": group, "x": rng.normal(size=60)})
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(table)
    (column,) = [c for c in det.input_spec_.columns if c.name == "group"]
    assert column.role == "numeric" and column.n_as_missing == 3
    assert "3 cell(s) of text" in column.describe() and "'-'" in column.describe()
    rows = det.input_spec_.rows(table.assign(group=table["group"].replace("-", "--")))
    assert np.isnan(rows[[3, 9, 20], 0]).all() and not np.isnan(np.delete(rows[:, 0], [3, 9, 20])).any()
    assert np.isfinite(det.anomaly_score(table)).all()


def test_every_column_of_numbers_and_other_text_is_named_in_one_message(capsys, tmp_path):
    table = pd.DataFrame({"mass": ["1.0", "[98]", "3.5", "4.1"] * 10,
                          "year discovered": ["1766", "Ancient", "1868", "1898"] * 10,
                          "x": np.arange(40.0) % 7})
    with pytest.raises(DataError) as caught:
        AnomalyDetector(n_estimators=1, max_epochs=1).fit(table)
    message = str(caught.value)
    assert "2 columns hold numbers and some other text" in message
    assert "column 'mass', row 2: '[98]' is not a number (10 such cell(s)" in message
    assert "column 'year discovered', row 2: 'Ancient'" in message
    assert "--numeric 'mass,year discovered'" in message
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    assert main(["detect", str(path), "--out", str(tmp_path / "s.csv"), "-q"]) == 2
    assert not (tmp_path / "s.csv").exists()
    # declared numeric, the other text is read as missing, and reported
    assert main(["detect", str(path), "--out", str(tmp_path / "s.csv"), "-q",
                 "--numeric", "mass,year discovered"]) == 0
    out = capsys.readouterr().out
    assert "10 cell(s) of text ('[98]') as missing" in out
    assert "10 cell(s) of text ('Ancient') as missing" in out
    det = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0,
                          column_roles={"mass": "numeric"}).fit(table.drop(columns="year discovered"))
    det.save(tmp_path / "m")
    again = aekit.load(tmp_path / "m")
    (column,) = [c for c in again.input_spec_.columns if c.name == "mass"]
    assert column.lenient and column.as_missing == ("[98]",)
    scored = again.anomaly_score(pd.DataFrame({"mass": ["2.0", "unknown"], "x": [1.0, 2.0]}))
    assert np.isfinite(scored).all()


def test_a_column_whose_kind_changes_after_fit_is_refused():
    det = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(mixed_table())
    changed = mixed_table().assign(size="big")
    with pytest.raises(DataError, match=r"column 'size', row 1: 'big' is not a number, but the "
                                        r"column was numeric in fit"):
        det.anomaly_score(changed)


def test_planted_anomalies_raise_the_score_and_are_explained_by_their_column():
    det = AnomalyDetector(random_state=0).fit(mixed_table(600, 0))
    new = mixed_table(200, 1)
    before = det.anomaly_score(new)
    new.loc[5, "colour"] = "purple"  # never seen in fit
    new.loc[9, "price"] = new["price"].max() * 6
    scores = det.anomaly_score(new)
    rank = np.argsort(np.argsort(-scores))
    assert rank[9] == 0 and rank[5] < 10  # the top 5%
    top = det.top_features(new.iloc[[5, 9]], n=1)
    assert top[0][0][0] == "colour" and top[1][0][0] == "price"
    assert scores[5] > before[5] + 1
    assert det.feature_contributions(new).shape == (200, 5)  # per input column


def test_pandas_pyarrow_polars_and_object_versions_score_alike():
    polars = pytest.importorskip("polars")
    table = mixed_table()
    det = AnomalyDetector(n_estimators=2, max_epochs=2, random_state=0).fit(table)
    expected = det.anomaly_score(table)
    arrow = table.astype({c: "string[pyarrow]" for c in ("order", "when", "colour", "express")})
    for version in (arrow, polars.from_pandas(table), table.astype(object)):
        np.testing.assert_array_equal(det.anomaly_score(version), expected)


def test_every_path_reads_the_table_alike(tmp_path):
    table = mixed_table()
    det = AnomalyDetector(n_estimators=2, max_epochs=2, random_state=0).fit(table)
    expected = score_table(det, table)
    assert list(expected.columns[:2]) == ["Unnamed: 0", "order"]  # identifiers first
    table.to_csv(tmp_path / "t.csv", index=False)
    table.to_parquet(tmp_path / "t.parquet", row_group_size=100)
    for name in ("t.csv", "t.parquet"):
        score_file(det, tmp_path / name, tmp_path / "s.parquet", chunk_rows=64, progress=False)
        got = pd.read_parquet(tmp_path / "s.parquet")
        assert list(got.columns) == list(expected.columns)
        np.testing.assert_array_equal(got.score, expected.score)
        assert got["order"].tolist() == table["order"].tolist()
    aekit.save(det, tmp_path / "m")
    np.testing.assert_array_equal(aekit.load(tmp_path / "m").anomaly_score(table), expected.score)
    streamed = AnomalyDetector(n_estimators=2, max_epochs=2, random_state=0).fit(
        aekit.ParquetRows.open(tmp_path / "t.parquet"))
    # the same roles and levels (a streamed fit learns them from the files' first rows,
    # so its most frequent value may differ)
    same = lambda spec: [(c.name, c.role, c.levels, c.parts) for c in spec.columns]  # noqa: E731
    assert same(streamed.input_spec_) == same(det.input_spec_)
    assert np.isfinite(streamed.anomaly_score(table)).all()


def test_autoencoders_take_mixed_tables_and_export_refuses_them_by_name(tmp_path):
    table = mixed_table()
    ae = Autoencoder(3, max_epochs=3, random_state=0).fit(table)
    assert ae.transform(table).shape == (400, 3)
    assert ae.reconstruct(table).shape == table.shape  # a DataFrame like the input
    assert ae.feature_contributions(table).shape == (400, 5)
    pytest.importorskip("onnx")
    from aekit.export import to_onnx

    with pytest.raises(ParameterError, match=r"'when' \(datetime\), 'colour' \(categorical\)"):
        to_onnx(ae, tmp_path / "m.onnx")


def test_a_raw_mixed_csv_goes_through_the_cli(tmp_path, capsys):
    table = mixed_table()
    table.to_csv(tmp_path / "t.csv", index=False)
    data = str(tmp_path / "t.csv")
    assert main(["detect", data, "--n-estimators", "2", "--epochs", "2", "--seed", "0",
                 "--out", str(tmp_path / "d.csv"), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "colour" in printed and "categorical, one-hot over 3 values" in printed
    detected = pd.read_csv(tmp_path / "d.csv")
    assert len(detected) == len(table) and np.isfinite(detected.score).all()
    assert detected["order"].tolist() == table["order"].tolist()
    assert main(["fit", data, "--detector", "--n-estimators", "2", "--epochs", "2", "--seed",
                 "0", "--id", "when", "--out", str(tmp_path / "det"), "-q"]) == 0
    assert main(["score", str(tmp_path / "det"), data, "--out", str(tmp_path / "s.csv"),
                 "-q"]) == 0
    assert list(pd.read_csv(tmp_path / "s.csv").columns[:3]) == ["Unnamed: 0", "order", "when"]
    assert main(["info", str(tmp_path / "det")]) == 0
    assert "when" in capsys.readouterr().out
    assert main(["fit", data, "--latent-dim", "2", "--epochs", "2", "--seed", "0",
                 "--out", str(tmp_path / "ae"), "-q"]) == 0
    for command in ("embed", "reconstruct"):
        out = tmp_path / f"{command}.csv"
        assert main([command, str(tmp_path / "ae"), data, "--out", str(out)]) == 0
        assert len(pd.read_csv(out)) == len(table)
    assert main(["report", str(tmp_path / "det"), data, "--out", str(tmp_path / "r.html")]) == 0


def test_reconstruct_gives_the_table_back_in_its_own_columns_and_kinds():
    table = mixed_table().assign(count=lambda t: (t["size"] * 10).round().astype(int))
    table["colour"] = table["colour"].astype("category")
    ae = Autoencoder(4, max_epochs=30, random_state=0).fit(table)
    new = table.copy()
    new.loc[3, "colour"] = "red"
    out = ae.reconstruct(new)
    assert list(out.columns) == list(table.columns)
    assert out["count"].dtype == table["count"].dtype
    assert out["colour"].dtype == table["colour"].dtype
    assert set(out["colour"]) <= {"blue", "green", "red"}
    assert set(out["express"]) <= {"yes", "no"}
    assert out["order"].tolist() == table["order"].tolist()  # identifiers as they were
    assert (out["colour"] == table["colour"]).mean() > 0.9  # price tells the colour


def test_n_features_in_counts_input_columns_and_the_contract_counts_encoded_ones():
    det = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(mixed_table())
    assert det.n_features_in_ == len(det.feature_names_in_) == 5
    assert det.input_spec_.n_features == 11


def with_holes(table: pd.DataFrame, share: float, seed: int, columns=("size", "price")):
    holes = table.copy()
    rng = np.random.default_rng(seed)
    for name in columns:
        holes.loc[rng.random(len(holes)) < share, name] = np.nan
    return holes


def test_a_missing_category_is_no_level_and_does_not_make_its_row_an_anomaly():
    from scipy.stats import spearmanr

    train = with_holes(mixed_table(800, 0), 0.05, 0, columns=("colour",))
    det = AnomalyDetector(random_state=0).fit(train)
    colour = next(c for c in det.input_spec_.columns if c.name == "colour")
    assert MISSING_LEVEL not in colour.levels
    complete = mixed_table(400, 1)
    holes = with_holes(complete, 0.1, 1, columns=("colour",))
    gap = holes["colour"].isna().to_numpy()
    full, partial = det.anomaly_score(complete), det.anomaly_score(holes)
    assert spearmanr(full, partial).statistic > 0.9  # one scale with a gap or not
    ranks = pd.Series(partial).rank(pct=True).to_numpy()
    assert ranks[gap].mean() < 0.65  # not pushed to the top by the gap (0.5: like any row)
    assert det.predict_labels(holes)[gap].mean() <= det.predict_labels(holes).mean() + 0.05


def test_missing_numbers_are_left_out_of_the_loss_and_of_each_rows_error():
    table = with_holes(mixed_table(), 0.2, 0)
    ae = Autoencoder(3, max_epochs=20, random_state=0).fit(table)
    assert np.isfinite(ae.history_.train_loss).all()
    errors, cells = ae.reconstruction_error(table), ae.error_map(table)
    assert np.isfinite(errors).all()
    size = ae.input_spec_.column_names().index("size")
    missing = table["size"].isna().to_numpy()
    assert (cells[missing, size] == 0).all()  # a missing cell has no error
    observed = ~np.isnan(ae.input_spec_.encode(ae.input_spec_.rows(table)))
    in_blocks = np.zeros(observed.shape[1], bool)
    for start, stop in ae.input_spec_.categorical_blocks():  # colour: one column, not 4 slots
        in_blocks[start:stop] = True
    units = observed[:, ~in_blocks].sum(axis=1) + len(ae.input_spec_.categorical_blocks())
    np.testing.assert_allclose(errors, cells.sum(axis=1) / units, rtol=1e-5)


def test_missing_cells_at_score_time_keep_the_ranking_of_the_complete_rows():
    from scipy.stats import spearmanr

    train = with_holes(mixed_table(600, 0), 0.05, 0)  # a table with some holes in fit
    det = AnomalyDetector(random_state=0).fit(train)
    complete = mixed_table(300, 1)
    holes = with_holes(complete, 0.2, 1, columns=("price",))
    full, partial = det.anomaly_score(complete), det.anomaly_score(holes)
    assert np.isfinite(partial).all()
    assert spearmanr(full, partial).statistic > 0.8


def test_models_that_cannot_leave_cells_out_say_so(tmp_path):
    table = with_holes(mixed_table(), 0.2, 0)
    with pytest.raises(ParameterError, match=r"VAE with these parameters cannot train on missing"):
        aekit.VAE(2, max_epochs=1, likelihood="bernoulli", scaling="minmax").fit(table)


def test_a_vae_trains_on_missing_cells_scores_every_row_and_fills_them():
    from scipy.stats import spearmanr

    table = with_holes(mixed_table(600, 0), 0.1, 0)
    vae = aekit.VAE(2, max_epochs=30, random_state=0).fit(table)
    complete = mixed_table(300, 1)
    holes = with_holes(complete, 0.2, 1, columns=("price",))
    full = vae.negative_elbo(complete, n_samples=0)
    partial = vae.negative_elbo(holes, n_samples=0)
    assert np.isfinite(partial).all()
    assert spearmanr(full, partial).statistic > 0.8  # one scale with and without gaps
    filled = vae.impute(holes)
    assert filled["price"].notna().all()
    kept = holes["price"].notna()
    assert (filled.loc[kept, "price"] == holes.loc[kept, "price"]).all()


def test_samples_of_a_whole_number_column_are_whole_numbers_after_saving_too(tmp_path):
    table = mixed_table(300, 0)
    table["visits"] = np.random.default_rng(0).poisson(4, len(table))  # int64
    table["floors"] = table["visits"].astype(float).where(table.index % 9 > 0)  # 3.0, NaN
    vae = aekit.VAE(2, max_epochs=3, random_state=0).fit(table)
    for model in (vae, aekit.load(aekit.save(vae, tmp_path / "m"))):
        drawn = model.sample(50, random_state=0)
        assert drawn["visits"].dtype == np.int64 and drawn["floors"].dtype == np.int64
        assert drawn["price"].dtype == np.float64 and (drawn["price"] % 1 != 0).any()
    walk = vae.inverse_transform(np.zeros((2, 2)))
    assert walk["visits"].dtype == np.int64


def test_a_streamed_fit_leaves_missing_numbers_out_as_the_in_memory_one_does(tmp_path):
    from scipy.stats import spearmanr

    table = with_holes(mixed_table(800, 0), 0.15, 0)
    table.to_parquet(tmp_path / "t.parquet", row_group_size=200)
    rows = aekit.ParquetRows.open(tmp_path / "t.parquet")
    streamed = AnomalyDetector(random_state=0).fit(rows)
    in_memory = AnomalyDetector(random_state=0).fit(table)
    new = with_holes(mixed_table(300, 1), 0.15, 1)
    new.loc[7, "price"] = new["price"].max() * 6
    new.loc[8, "colour"] = "purple"
    scores = streamed.anomaly_score(new)
    assert np.isfinite(scores).all()
    assert set(np.argsort(-scores)[:2]) == {7, 8}  # the planted rows top the ranking
    # two fits with different shuffles and a sampled scaling: alike, not identical
    assert spearmanr(scores, in_memory.anomaly_score(new)).statistic > 0.7
    ae = Autoencoder(3, max_epochs=5, random_state=0).fit(rows)
    assert np.isfinite(ae.history_.train_loss).all()
    assert not ae.impute(new).isna()[["size", "price"]].to_numpy().any()


def test_a_real_table_with_missing_ages_goes_through():
    from pathlib import Path

    path = Path("/work/shared/datasets/tables/titanic.csv")
    if not path.exists():
        pytest.skip("the shared tables are not here")
    from aekit.data.io import read_data

    table = read_data(path).X
    assert table["age"].isna().any()
    det = AnomalyDetector(n_estimators=2, max_epochs=3, random_state=0).fit(table)
    assert np.isfinite(det.anomaly_score(table)).all()


def test_impute_fills_every_missing_cell_and_leaves_the_observed_ones_alone():
    table = mixed_table().assign(count=lambda t: (t["size"] * 10).round().astype(int))
    holes = with_holes(table, 0.2, 0)
    holes.loc[holes.index[::9], "colour"] = None
    ae = Autoencoder(4, max_epochs=20, random_state=0).fit(holes)
    filled = ae.impute(holes)
    assert not filled.isna().any().any()
    assert list(filled.columns) == list(holes.columns)
    assert (filled.dtypes == holes.dtypes).all()
    observed = holes.notna()
    for name in holes.columns:
        assert (filled[name][observed[name]] == holes[name][observed[name]]).all()
    assert set(filled["colour"]) <= {"blue", "green", "red"}
    # numbers come from the row's other cells: far better than no information
    missing = holes["price"].isna()
    error = (filled["price"][missing] - table["price"][missing]).abs().mean()
    assert error < (table["price"] - table["price"].mean()).abs().mean()


def test_impute_on_arrays_and_from_the_cli(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3)) @ rng.normal(size=(3, 5))
    holes = X.copy()
    holes[rng.random(holes.shape) < 0.1] = np.nan
    ae = Autoencoder(3, max_epochs=20, random_state=0).fit(holes, allow_missing=True)
    filled = ae.impute(holes)
    assert not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[~np.isnan(holes)], holes[~np.isnan(holes)])
    table = with_holes(mixed_table(), 0.2, 0)
    table.to_csv(tmp_path / "t.csv", index=False)
    assert main(["impute", str(tmp_path / "t.csv"), "--epochs", "5", "--seed", "0",
                 "--out", str(tmp_path / "f.csv"), "-q"]) == 0
    assert "filled" in capsys.readouterr().out
    out = pd.read_csv(tmp_path / "f.csv")
    assert len(out) == len(table) and not out[["size", "price"]].isna().any().any()
    assert main(["fit", str(tmp_path / "t.csv"), "--latent-dim", "2", "--epochs", "3",
                 "--seed", "0", "--out", str(tmp_path / "m"), "-q"]) == 0
    assert main(["impute", str(tmp_path / "m"), str(tmp_path / "t.csv"),
                 "--out", str(tmp_path / "g.parquet")]) == 0
    assert not pd.read_parquet(tmp_path / "g.parquet")[["size", "price"]].isna().any().any()


def test_an_empty_file_with_identifiers_is_refused_without_output(tmp_path):
    det = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(mixed_table())
    mixed_table().iloc[:0].to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match=r"empty input \(0 rows\)"):
        score_file(det, tmp_path / "t.csv", tmp_path / "s.parquet", progress=False)
    assert not (tmp_path / "s.parquet").exists()


def test_polars_input_carries_its_identifiers_too():
    polars = pytest.importorskip("polars")
    table = mixed_table()
    det = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(table)
    out = score_table(det, polars.from_pandas(table))
    assert out["order"].tolist() == table["order"].tolist()


def test_a_model_fitted_on_complete_numbers_scores_rows_with_missing_cells():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(500, 4)) @ rng.normal(size=(4, 6)),
                         columns=[f"c{j}" for j in range(6)])
    det = AnomalyDetector(n_estimators=2, max_epochs=3, random_state=0).fit(frame)
    assert det.input_spec_.columns is None  # the plain numeric contract
    holes = with_holes(frame, 0.15, 1, columns=("c0", "c3"))
    assert np.isfinite(det.anomaly_score(holes)).all()
    np.testing.assert_array_equal(det.anomaly_score(holes.to_numpy()), det.anomaly_score(holes))


def test_a_saved_dataframe_with_its_index_column_scores_streamed_as_it_was_fitted(tmp_path):
    path = tmp_path / "saved.csv"
    mixed_table().drop(columns="Unnamed: 0").to_csv(path)  # an unnamed index column first
    assert main(["fit", str(path), "--detector", "--out", str(tmp_path / "det"), "-q"]) == 0
    assert main(["score", str(tmp_path / "det"), str(path), "--out", str(tmp_path / "s.csv"),
                 "-q"]) == 0
    scores = pd.read_csv(tmp_path / "s.csv")
    assert scores.columns[0] == "Unnamed: 0" and "score" in scores
    assert scores["Unnamed: 0"].tolist() == list(range(len(mixed_table())))


def test_imputing_nullable_booleans_gives_booleans_that_parquet_can_hold(tmp_path):
    table = mixed_table()
    table["heavy"] = pd.Series([True, False] * (len(table) // 2), dtype=object)
    table.loc[[1, 4], "heavy"] = None  # as a nullable column reads: bools and None
    filled = Autoencoder(2, max_epochs=2, random_state=0).fit(table).impute(table)
    assert filled["heavy"].map(type).eq(bool).all() or filled["heavy"].dtype == bool
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    assert main(["impute", str(path), "--out", str(tmp_path / "f.parquet"), "-q"]) == 0
    assert pd.read_parquet(tmp_path / "f.parquet")["heavy"].dtype == bool


def test_plain_numbers_as_a_dataframe_come_back_as_a_dataframe_with_their_names(tmp_path):
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 3)), columns=["id", "b", "c"])
    X["id"] = np.arange(1001, 1201) * 3  # integral, not a counter
    ae = Autoencoder(2, max_epochs=2, random_state=0).fit(X)
    for out in (ae.reconstruct(X), ae.impute(X)):
        assert isinstance(out, pd.DataFrame) and list(out.columns) == ["id", "b", "c"]
    assert ae.impute(X)["id"].dtype == X["id"].dtype
    assert ae.reconstruct(X).dtypes.to_dict() == X.dtypes.to_dict()  # ints stay ints
    path = tmp_path / "plain.tsv"
    X.to_csv(path, sep="\t", index=False)
    assert main(["impute", str(path), "--out", str(tmp_path / "f.csv"), "-q"]) == 0
    assert pd.read_csv(tmp_path / "f.csv").columns.tolist() == ["id", "b", "c"]


def test_a_trailing_delimiter_or_an_empty_column_is_reported_not_refused(tmp_path, capsys):
    path = tmp_path / "trailing.csv"
    table = mixed_table().drop(columns="Unnamed: 0").assign(notes=None)
    path.write_text("\n".join(line + "," for line in table.to_csv(index=False).splitlines()))
    assert main(["detect", str(path), "--out", str(tmp_path / "s.csv"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "notes" in out and out.count("entirely missing, not a feature") == 2
    assert len(pd.read_csv(tmp_path / "s.csv")) == len(table)


def test_a_parquet_files_saved_index_is_a_column_in_memory_as_streamed(tmp_path):
    table = mixed_table().drop(columns=["Unnamed: 0", "order"])
    table.index = [f"row-{i}" for i in range(len(table))]
    table.index.name = "name"
    table.to_parquet(tmp_path / "named.parquet")  # the index is stored as a column
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0)
    det.fit(read_data(tmp_path / "named.parquet").X)
    assert "name" in det.input_spec_.identifiers
    out = score_file(det, tmp_path / "named.parquet", tmp_path / "s.parquet", progress=False)
    scores = pd.read_parquet(tmp_path / "s.parquet")
    assert out.n_rows == len(table) and scores["name"].tolist() == list(table.index)
    table.iloc[::2].reset_index(drop=True).set_axis(list(range(0, len(table), 2))) \
        .to_parquet(tmp_path / "unnamed.parquet")  # a non-range index, unnamed
    roles = {c.name: c.role for c in AnomalyDetector(n_estimators=1, max_epochs=1).fit(
        read_data(tmp_path / "unnamed.parquet").X).input_spec_.columns}
    assert roles.get("__index_level_0__") == "identifier"


@pytest.mark.parametrize("index", ["named", "every other row"])
def test_impute_and_reconstruct_give_a_parquet_frame_its_saved_index_back(tmp_path, index):
    table = mixed_table().drop(columns=["Unnamed: 0", "order"])
    if index == "named":
        table.index = pd.Index([f"row-{i}" for i in range(len(table))], name="name")
    else:
        table = table.iloc[::2]  # a range index 0, 2, 4, ... that pandas saves as metadata
    table.to_parquet(tmp_path / "in.parquet")
    assert main(["impute", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "f.parquet"),
                 "--epochs", "2", "-q"]) == 0
    assert main(["fit", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "m"),
                 "--latent-dim", "2", "--epochs", "2", "-q"]) == 0
    assert main(["reconstruct", str(tmp_path / "m"), str(tmp_path / "in.parquet"),
                 "--out", str(tmp_path / "r.parquet"), "-q"]) == 0
    for out in ("f.parquet", "r.parquet"):
        back = pd.read_parquet(tmp_path / out)
        pd.testing.assert_index_equal(back.index, table.index, exact=False)
        assert list(back.columns) == list(table.columns)
    filled = pd.read_parquet(tmp_path / "f.parquet")
    held = table.notna()  # observed cells come back as they were
    pd.testing.assert_frame_equal(filled.where(held), table.where(held), check_dtype=False)


def test_years_written_as_dates_are_their_year_and_constant_calendar_parts_are_dropped():
    rng = np.random.default_rng(0)
    years = rng.integers(1970, 1983, 300)
    table = pd.DataFrame({"Year": pd.to_datetime([f"{y}-01-01" for y in years]),
                          "mpg": 20 + (years - 1970) + rng.normal(0, 1, 300),
                          "day": pd.to_datetime([f"2024-03-{d:02d}" for d in rng.integers(1, 29, 300)])})
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(table)
    columns = {c.name: c for c in det.input_spec_.columns}
    assert columns["Year"].parts == ("year",) and columns["Year"].encoded_names == ["Year:year"]
    assert columns["day"].parts == ("dayofweek",)  # every date in March: no month
    rows = det.input_spec_.rows(table.iloc[:3])
    np.testing.assert_array_equal(rows[:, 0], years[:3].astype(float))
    odd = table.iloc[[0]].assign(Year=pd.Timestamp("2150-01-01"))
    assert det.anomaly_score(odd)[0] > det.anomaly_score(table).max()
    assert det.top_features(odd, n=1)[0][0][0] == "Year"


@pytest.mark.parametrize("written, fmt", [
    ("{y}/{m:02d}/{d:02d} 10:30:00", "%Y/%m/%d %H:%M:%S"), ("{d:02d}.{m:02d}.{y}", "%d.%m.%Y"),
    ("{m:02d}/{d:02d}/{y}", "%m/%d/%Y"), ("{mon} {d} {y}", "%b %d %Y"),
    ("{d}/{m}/{yy:02d}", "%d/%m/%y")])
def test_dates_written_other_than_iso_are_dates(tmp_path, written, fmt):
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, 1400, 300), unit="D")
    text = [written.format(y=t.year, yy=t.year % 100, m=t.month, d=t.day, mon=t.strftime("%b"))
            for t in days]
    table = pd.DataFrame({"when": text, "x": rng.normal(size=300)})
    column = infer_column("when", table["when"], None, "X")
    assert (column.role, column.date_format) == ("datetime", fmt)
    assert ("dayofweek" in column.parts) == ("%y" not in fmt)  # a guessed century: no weekday
    path = tmp_path / "dates.csv"
    table.to_csv(path, index=False)
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(read_data(path).X)
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(read_data(path).X))


def test_day_month_order_that_no_cell_decides_is_not_taken_for_dates():
    ambiguous = pd.Series(["01/02/2012", "03/04/2012", "05/06/2013", "11/12/2014"] * 5)
    assert infer_column("d", ambiguous, None, "X").role != "datetime"
    monthly = pd.Series(pd.to_datetime([f"20{y:02d}-{m:02d}-01" for y in range(10, 14)
                                        for m in range(1, 13)]))
    assert infer_column("m", monthly, None, "X").parts == ("month",)


def test_numbers_with_thousands_commas_are_numbers_in_memory_and_streamed(tmp_path):
    rng = np.random.default_rng(0)
    population = rng.integers(500, 90_000_000, 200)
    text = np.array([f"{p:,}" for p in population], dtype=object)
    text[7] = "?"
    table = pd.DataFrame({"population": text, "x": rng.normal(size=200)})
    path = tmp_path / "us.csv"
    table.to_csv(path, index=False)
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(read_data(path).X)
    (column,) = [c for c in det.input_spec_.columns if c.name == "population"]
    assert column.role == "numeric" and column.thousands == "," and column.n_as_missing == 1
    rows = det.input_spec_.rows(read_data(path).X)
    assert rows[0, 0] == population[0] and np.isnan(rows[7, 0])
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(read_data(path).X))


def test_an_infinite_number_in_a_mixed_table_names_its_column_without_a_wrong_position():
    table = mixed_table().assign(price=lambda t: t["price"].where(t.index != 11, np.inf))
    with pytest.raises(DataError, match=r"column 'price' holds 1 NaN or inf value\(s\); the "
                                        r"first is inf at row 12") as caught:
        AnomalyDetector(n_estimators=1, max_epochs=1).fit(table)
    assert "position" not in str(caught.value)


def test_money_and_percentages_are_numbers_with_their_unit_in_memory_and_streamed(tmp_path):
    rng = np.random.default_rng(0)
    price = rng.lognormal(7, 1, 200)
    table = pd.DataFrame({"price": [f"${p:,.2f}" for p in price],
                          "rate": [f"{r:.1f}%" for r in rng.uniform(0, 30, 200)],
                          "x": rng.normal(size=200)})
    table.loc[5, "price"], table.loc[6, "rate"] = "-$12.50", "?"
    path = tmp_path / "money.csv"
    table.to_csv(path, index=False)
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(read_data(path).X)
    price_col, rate_col = det.input_spec_.columns[:2]
    assert (price_col.role, price_col.unit, price_col.thousands) == ("numeric", "${}", ",")
    assert (rate_col.role, rate_col.unit, rate_col.n_as_missing) == ("numeric", "{}%", 1)
    assert "with unit '$'" in price_col.describe()
    rows = det.input_spec_.rows(read_data(path).X)
    assert rows[0, 0] == round(price[0], 2) and rows[5, 0] == -12.5 and np.isnan(rows[6, 1])
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(read_data(path).X))


@pytest.mark.parametrize("written", ["€ {}", "{} €", "€{}"])
def test_euro_amounts_with_decimal_commas_are_numbers_in_memory_and_streamed(tmp_path, written):
    rng = np.random.default_rng(0)
    price = np.round(rng.lognormal(7, 1, 200), 2)
    euro = [written.format(f"{p:,.2f}".replace(",", " ").replace(".", ",").replace(" ", "."))
            for p in price]
    table = pd.DataFrame({"price": euro, "x": rng.normal(size=200)})
    path = tmp_path / "euros.csv"
    table.to_csv(path, index=False)
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(read_data(path).X)
    column = det.input_spec_.columns[0]
    assert (column.role, column.thousands, column.unit) == ("numeric", ".", written)
    np.testing.assert_allclose(det.input_spec_.rows(read_data(path).X)[:, 0], price)
    holes = read_data(path).X
    holes.loc[[3, 8], "price"] = None
    fills = Autoencoder(1, max_epochs=3, random_state=0).fit(holes).impute(holes)["price"]
    form = "^" + re.escape(written).replace(re.escape("{}"), r"[\d.]+,\d\d") + "$"
    assert fills[[3, 8]].str.match(form).all()  # written as the column is: 1.699,00 €
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(read_data(path).X))


def test_decimal_points_are_not_taken_for_thousands_dots():
    with pytest.raises(DataError, match="'3,25' is not a number"):  # two marks: refused
        infer_column("ratio", pd.Series(["1.699", "2.5", "3,25", "4"]), None, "t")
    column = infer_column("ratio", pd.Series(["1.699", "2.5", "3.25", "4"]), None, "t")
    assert column.thousands == ""
    assert encode_column(column, pd.Series(["1.699"]), "t")[0, 0] == 1.699


def test_negatives_in_parentheses_are_negative_numbers_and_are_written_so():
    amounts = pd.Series(["($1,699.00)", "$2,450.50", "$999.99", "($12.00)", None] * 20)
    column = infer_column("amount", amounts, None, "t")
    assert (column.role, column.unit, column.negative) == ("numeric", "${}", "()")
    assert "negatives in parentheses" in column.describe()
    assert encode_column(column, amounts[:4], "t")[:, 0].tolist() == [-1699.0, 2450.5,
                                                                      999.99, -12.0]
    assert Column.from_dict(column.to_dict()) == column
    table = pd.DataFrame({"amount": amounts, "x": np.linspace(0, 1, 100)})
    filled = Autoencoder(1, max_epochs=5, random_state=0).fit(table).impute(table)
    assert filled["amount"].str.match(r"^\(?\$[\d,]+\.\d\d\)?$").all()


def test_two_units_in_one_column_are_no_numbers():
    column = infer_column("mixed", pd.Series(["$5", "7%", "$5", "7%"]), None, "t")
    assert column.role == "categorical"


def test_codes_with_leading_zeros_keep_them_from_csv_and_are_no_numbers(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"zip": rng.choice(["02134", "02139", "10001", "60614"], 300),
                          "x": rng.normal(size=300)})
    path = tmp_path / "zips.csv"
    table.to_csv(path, index=False)
    frame = read_data(path).X
    assert frame["zip"].tolist() == table["zip"].tolist()
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(frame)
    (zip_col,) = [c for c in det.input_spec_.columns if c.name == "zip"]
    assert zip_col.role == "categorical" and "02134" in zip_col.levels
    # a file to score whose codes happen to have no leading zero reads as numbers: the
    # codes still match fit's, also where a missing cell made the column floats
    later = pd.DataFrame({"zip": [10001.0, np.nan, 60614.0], "x": [0.0, 0.1, 0.2]})
    rows = det.input_spec_.rows(later)
    slots = [j for j, n in enumerate(det.input_spec_.column_names()) if n.startswith("zip=")]
    assert rows[0, slots].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert rows[2, slots].tolist() == [0.0, 0.0, 0.0, 1.0, 0.0]


def test_impute_fills_text_read_as_missing_and_writes_numbers_as_the_column_does():
    rng = np.random.default_rng(0)
    size = rng.normal(10, 2, 300)
    table = pd.DataFrame({"size": size, "price": [f"${v * 100:,.2f}" for v in size],
                          "share": [f"{v:.1f}%" for v in size * 3]})
    holes = table.copy()
    holes.loc[[3, 9], "price"] = None
    holes.loc[[4], "share"] = "-"
    ae = Autoencoder(2, max_epochs=30, random_state=0).fit(holes)
    filled = ae.impute(holes)
    assert filled.loc[4, "share"] != "-" and filled.loc[4, "share"].endswith("%")
    assert all(v.startswith("$") and "." in v for v in filled.loc[[3, 9], "price"])
    keep = ~holes.index.isin([3, 4, 9])
    assert (filled[keep] == holes[keep]).all().all()


def test_a_column_declared_numeric_reads_units_and_thousands_and_only_the_rest_as_missing():
    cells = pd.Series(["$1,200", "oops", "$5", "7"])
    column = infer_column("amount", cells, "numeric", "t")
    assert (column.n_as_missing, column.as_missing) == (1, ("oops",))
    np.testing.assert_array_equal(encode_column(column, cells, "t")[:, 0], [1200, np.nan, 5, 7])


@pytest.mark.parametrize("dates", [
    pd.Series(["2024-01-01T00:00:00+02:00", "2024-01-02T00:00:00+02:00",
               "2024-03-05T00:00:00+01:00", "2024-03-06T00:00:00Z"]),
    pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-07-05"])).dt.tz_localize(
        "Europe/Berlin"),
])
def test_a_dates_calendar_is_its_local_time_as_written_not_utc(dates):
    column = infer_column("when", dates, None, "t")
    assert column.parts == ("dayofweek", "month")  # midnight everywhere: no hour
    monday = encode_column(column, dates, "t")[0, :2]
    np.testing.assert_allclose(monday, [0.0, 1.0], atol=1e-12)  # 2024-01-01 was a Monday


def test_a_duration_is_a_number_of_seconds_and_imputes_as_a_duration():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"took": pd.to_timedelta(rng.integers(60, 3600, 200), unit="s"),
                          "x": rng.normal(size=200)})
    table.loc[3, "took"] = pd.NaT
    ae = Autoencoder(1, max_epochs=3, random_state=0).fit(table)
    assert ae.input_spec_.columns[0].role == "numeric"
    assert ae.input_spec_.rows(table)[0, 0] == table["took"][0].total_seconds()
    filled = ae.impute(table)
    assert filled["took"].dtype == table["took"].dtype and pd.notna(filled.loc[3, "took"])


def test_thousands_in_spaces_and_text_with_commas_read_alike_in_memory_and_streamed(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["ville;population;surface"]
    for i in range(300):
        population = f"{int(rng.integers(10, 2_000_000)):,}".replace(
            ",", "\u202f" if i % 2 else " ")
        town = ("Paris, France", "Lyon, France", "Gent, Belgique")[i % 3]
        lines.append(f"{town};{population};{rng.uniform(1, 500):.2f}".replace(".", ","))
    path = tmp_path / "villes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = read_data(path).X
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(frame)
    town, population, _ = det.input_spec_.columns
    assert town.levels == ("Gent, Belgique", "Lyon, France", "Paris, France")
    assert population.role == "numeric" and population.thousands == " "
    assert det.input_spec_.rows(frame)[0, 4] == int(lines[1].split(";")[1].replace(" ", ""))
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(frame))


def test_a_count_with_gaps_in_a_csv_is_filled_with_whole_numbers_written_as_integers(tmp_path):
    rng = np.random.default_rng(0)
    size = rng.normal(10, 2, 200)
    table = pd.DataFrame({"size": size, "count": (size * 3).round()})
    table.loc[[4, 9], "count"] = np.nan
    path = tmp_path / "counts.csv"
    table.astype({"count": "Int64"}).to_csv(path, index=False)  # 11 and empty cells
    assert main(["impute", str(path), "--out", str(tmp_path / "filled.csv"), "--epochs", "5",
                 "-q"]) == 0
    written = (tmp_path / "filled.csv").read_text().splitlines()
    counts = [line.split(",")[1] for line in written[1:]]
    assert all(c.isdigit() for c in counts) and counts[0] == f"{table['count'][0]:.0f}"
    # a float column in memory keeps the best estimate (the conditional mean), a float
    assert not float(Autoencoder(1, max_epochs=5, random_state=0).fit(table).impute(
        table)["count"][4]).is_integer()


@pytest.mark.parametrize("gap", [".", "?", "-"])
def test_whole_numbers_with_gaps_written_as_a_dot_are_filled_whole_and_stay_numbers(
        tmp_path, gap):
    rng = np.random.default_rng(0)
    age = rng.normal(50, 10, 200).round()
    table = pd.DataFrame({"age": age, "score": (2 * age + rng.normal(0, 3, 200)).round()})
    table.loc[::10, "age"] = np.nan
    path = tmp_path / "dot.csv"
    table.to_csv(path, index=False, na_rep=gap, float_format="%.1f")  # 71.0 and "."
    assert main(["impute", str(path), "--out", str(tmp_path / "f.csv"), "--epochs", "3",
                 "-q"]) == 0
    lines = (tmp_path / "f.csv").read_text().splitlines()[1::10]
    assert all(line.split(",")[0].endswith(".0") for line in lines)  # 64.0, as the column
    assert main(["impute", str(path), "--out", str(tmp_path / "f.parquet"), "--epochs", "3",
                 "-q"]) == 0
    filled = pd.read_parquet(tmp_path / "f.parquet")
    assert filled["age"].dtype == np.float64 and (filled["age"] % 1 == 0).all()
    np.testing.assert_array_equal(filled["age"][table["age"].notna()],
                                  table["age"].dropna())


def test_impute_fills_alike_whatever_columns_beside_the_features(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    table = pd.DataFrame({"a": x.round(3), "b": (2 * x + rng.normal(0, .1, 300)).round(3),
                          "c": rng.normal(size=300).round(3), "d": (x - 1).round(3)})
    table.loc[:29, "b"] = np.nan
    table.to_csv(tmp_path / "plain.csv", index=False)
    table.assign(note=None, code=[f"r{i}" for i in range(300)]).to_csv(tmp_path / "more.csv")
    for name in ("plain", "more"):  # "more": an index column, an empty one, row codes
        assert main(["impute", str(tmp_path / f"{name}.csv"), "--out",
                     str(tmp_path / f"{name}_f.csv"), "--epochs", "3", "--seed", "0",
                     "-q"]) == 0
    more = pd.read_csv(tmp_path / "more_f.csv")[["a", "b", "c", "d"]]
    pd.testing.assert_frame_equal(more, pd.read_csv(tmp_path / "plain_f.csv"))


def test_times_of_day_are_their_hour_on_the_clock_in_memory_and_streamed(tmp_path):
    rng = np.random.default_rng(0)
    hours = rng.integers(8, 18, 300)
    table = pd.DataFrame({"time": [f"{h:02d}:{m:02d}" for h, m in
                                   zip(hours, rng.integers(0, 60, 300))],
                          "sales": hours * 10 + rng.normal(0, 3, 300)})
    table.loc[0, "time"] = "03:10"  # a sale at night
    spec, _ = InputSpec.from_training_data(table)
    assert spec.columns[0].describe() == "datetime (written %H:%M), cyclic hour"
    table.to_csv(tmp_path / "t.csv", index=False)
    det = AnomalyDetector(n_estimators=1, max_epochs=3, random_state=0).fit(
        read_data(tmp_path / "t.csv").X)
    score_file(det, tmp_path / "t.csv", tmp_path / "s.csv", progress=False)
    streamed = pd.read_csv(tmp_path / "s.csv")["score"].to_numpy()
    np.testing.assert_allclose(streamed, det.anomaly_score(table), rtol=1e-9)
    assert np.argmax(streamed) == 0
    assert infer_column("ratio", pd.Series(["1:5", "2:7"] * 10), None, "t").role != "datetime"


def test_a_streamed_score_shows_an_unseen_category_and_a_time_as_written_as_in_memory(tmp_path):
    rng = np.random.default_rng(1)
    hours = rng.integers(8, 18, 300)
    table = pd.DataFrame({"time": [f"{h:02d}:{m:02d}" for h, m in
                                   zip(hours, rng.integers(0, 60, 300))],
                          "shop": rng.choice(["north", "south", "east"], 300),
                          "sales": hours * 10 + rng.normal(0, 3, 300)})
    det = AnomalyDetector(n_estimators=1, max_epochs=3, random_state=0).fit(table)
    new = table.copy()
    new.loc[7, ["time", "shop", "sales"]] = ["03:10", "harbour", 900.0]
    new.to_csv(tmp_path / "new.csv", index=False)
    summary = score_file(det, tmp_path / "new.csv", tmp_path / "s.csv", chunk_rows=64,
                         progress=False)
    streamed = det.explain_rows(*summary.top, cells=summary.top_cells)
    in_memory = det.explain(new, n=len(summary.top[0]))
    pd.testing.assert_frame_equal(streamed, in_memory, rtol=1e-9)
    row = streamed[streamed["row"] == 7].set_index("feature")["value"]
    assert row.get("shop", "harbour") == "harbour" and row.get("time", "03:10") == "03:10"
    assert set(streamed["value"]) & {"harbour", "03:10"}


def test_a_time_series_dates_are_a_feature_and_carried_first_into_the_scores(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=300).strftime("%Y-%m-%d"),
                          "close": np.cumsum(rng.normal(size=300)) + 100,
                          "volume": rng.lognormal(10, 1, 300)})
    spec, _ = InputSpec.from_training_data(table)
    assert spec.feature_names == ("date", "close", "volume") and spec.carried == ["date"]
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(table)
    in_memory = score_table(det, table)
    assert list(in_memory.columns) == ["date", "score", "flag", "top_features"]
    for name in ("t.csv", "t.parquet"):
        write = table.to_csv if name.endswith(".csv") else table.to_parquet
        write(tmp_path / name, index=False)
        score_file(det, tmp_path / name, tmp_path / f"s_{name}", progress=False)
        out = read_data(tmp_path / f"s_{name}").X
        assert out["date"].astype(str).tolist() == table["date"].tolist()
        np.testing.assert_allclose(out["score"], in_memory["score"], rtol=1e-9)
    repeated = table.assign(date=np.repeat(table["date"][:150].to_numpy(), 2))
    assert InputSpec.from_training_data(repeated)[0].carried == []  # dates of many rows
    zoned = table.assign(date=pd.date_range("2024-01-01", periods=300, tz="Europe/Paris"))
    zoned.to_parquet(tmp_path / "z.parquet")
    det = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(zoned)
    score_table(det, zoned).to_csv(tmp_path / "in_memory.csv", index=False)
    for out in ("z_s.parquet", "z_s.csv"):  # the zone kept, as in memory: no shifted day
        score_file(det, tmp_path / "z.parquet", tmp_path / out, progress=False)
    assert pd.read_parquet(tmp_path / "z_s.parquet")["date"].equals(zoned["date"])
    assert (tmp_path / "z_s.csv").read_text() == (tmp_path / "in_memory.csv").read_text()


def test_unique_sentences_or_mostly_empty_unique_text_are_text_not_row_names():
    notes = pd.Series([f"called back about order {i} on Monday" for i in range(300)])
    assert infer_column("note", notes, None, "t").role == "text"
    sparse = pd.Series([f"ord-{i}" if i % 3 else None for i in range(300)])
    assert infer_column("ref", sparse, None, "t").role == "text"
    assert infer_column("order", pd.Series([f"ord-{i}" for i in range(300)]), None,
                        "t").role == "identifier"


def test_a_schema_line_quotes_the_values_that_hold_a_comma():
    names = pd.Series(["Abbott, John", "Bennett, Richard", "Smith"] * 10)
    assert infer_column("senator", names, None, "t").describe() == (
        "categorical, one-hot over 3 values ('Abbott, John', 'Bennett, Richard', Smith)")


def test_an_identifier_named_like_a_score_column_is_carried_under_its_own_label(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"name": [f"c{i}" for i in range(60)],
                          "flag": [f"F{i:02d}" for i in range(60)],
                          "x": rng.normal(size=60), "y": rng.normal(size=60)})
    table.to_csv(tmp_path / "countries.csv", index=False)
    assert main(["detect", str(tmp_path / "countries.csv"), "--out", str(tmp_path / "s.csv"),
                 "--epochs", "2", "-q"]) == 0
    assert main(["fit", str(tmp_path / "countries.csv"), "--detector", "--epochs", "2",
                 "--out", str(tmp_path / "model"), "-q"]) == 0
    assert main(["score", str(tmp_path / "model"), str(tmp_path / "countries.csv"),
                 "--out", str(tmp_path / "s2.csv"), "-q"]) == 0
    for out in ("s.csv", "s2.csv"):
        scores = pd.read_csv(tmp_path / out)
        assert list(scores.columns) == ["name", "flag (input)", "score", "flag", "top_features"]
        assert scores["flag (input)"].tolist() == table["flag"].tolist()
        assert set(scores["flag"]) <= {0, 1}


def test_impute_writes_a_csv_back_in_its_own_text_with_only_the_filled_cells_new(tmp_path,
                                                                                  capsys):
    rng = np.random.default_rng(0)
    n = 120
    x = rng.normal(10, 2, n)
    rows = [["", "size", "weight", "ok", "town"]]
    for i in range(n):
        rows.append([f"r{i}", f"{x[i]:.2f}" if i % 7 else f"{x[i]:.1f}0",
                     "NA" if i == 5 else f"{3 * x[i]:.3f}" if i != 3 else "3e-04",
                     "NA" if i == 8 else ("TRUE" if x[i] > 10 else "FALSE"),
                     "NA" if i == 9 else ("Gent", "Lyon")[i % 2]])
    text = "\n".join(",".join(f'"{c}"' if j == 0 else c for j, c in enumerate(row))
                     for row in rows) + "\n"
    path = tmp_path / "r_table.csv"
    path.write_text(text)
    assert main(["impute", str(path), "--out", str(tmp_path / "filled.csv"), "--epochs", "5",
                 "-q"]) == 0
    import csv
    with open(tmp_path / "filled.csv", newline="") as fh:
        out = list(csv.reader(fh))
    assert out[0] == rows[0]  # R's unnamed row-name header stays unnamed
    changed = {(i, j) for i in range(len(rows)) for j in range(5) if out[i][j] != rows[i][j]}
    assert changed == {(6, 2), (9, 3), (10, 4)}  # only the missing cells, each filled
    assert len(out[6][2].split(".")[1]) == 3 and out[9][3] in ("TRUE", "FALSE")
    assert out[10][4] in ("Gent", "Lyon")
    assert "filled 3 missing cells of 120 rows" in capsys.readouterr().out


def test_imputed_numbers_stay_within_the_range_their_column_holds():
    rng = np.random.default_rng(0)
    a = rng.normal(size=300)
    table = pd.DataFrame({"a": a, "b": a + rng.normal(0, 0.05, 300),
                          "c": a + rng.normal(0, 0.05, 300)})
    table.loc[0, ["a", "b"]] = [8.0, 8.0]  # far beyond: the network alone extrapolates
    table.loc[0:10, "c"] = np.nan
    ae = Autoencoder(1, max_epochs=30, random_state=0).fit(table)
    assert ae.reconstruct(table)["c"][0] > table["c"].max() + 1
    filled = ae.impute(table)["c"]
    assert filled.between(table["c"].min(), table["c"].max()).all()
    assert filled[0] == table["c"].max()


def test_many_repeated_values_are_text_with_a_hint_unless_the_dtype_says_category():
    countries = pd.Series([f"country {i}" for i in range(142)] * 12)
    text = infer_column("country", countries, None, "t")
    assert text.role == "text" and "--categorical country makes it one" in text.describe()
    assert infer_column("country", countries.astype("category"), None, "t").role == "categorical"
    assert Column.from_dict(text.to_dict()) == text  # saved with the model


def test_nullable_dtypes_come_back_as_they_went_in_from_reconstruct_and_impute():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({
        "count": pd.array(rng.integers(0, 10, 100), dtype="Int64"),
        "size": pd.array(rng.normal(size=100), dtype="Float64"),
        "kind": pd.array(rng.choice(["x", "y"], 100), dtype="string"),
        "ok": pd.array(rng.choice([True, False], 100), dtype="boolean")})
    table.loc[3, "count"], table.loc[4, "size"] = pd.NA, pd.NA
    table.loc[5, "kind"], table.loc[6, "ok"] = pd.NA, pd.NA
    ae = Autoencoder(2, max_epochs=3, random_state=0).fit(table)
    for out in (ae.reconstruct(table), ae.impute(table)):
        assert out.dtypes.to_dict() == table.dtypes.to_dict()
    filled = ae.impute(table)
    assert not filled.isna().any().any()
    assert (filled.drop(index=[3, 4, 5, 6]) == table.drop(index=[3, 4, 5, 6])).all().all()


def test_a_parquet_files_integers_and_booleans_with_gaps_keep_their_kind(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"count": pd.array(rng.integers(0, 10, 100), dtype="Int64"),
                          "size": rng.normal(size=100),
                          "ok": pd.array(rng.choice([True, False], 100), dtype="boolean"),
                          "weight": pd.array(rng.normal(size=100), dtype="Float64"),
                          "site": pd.array(rng.choice(["a", "b"], 100), dtype="string")})
    table.loc[3, "count"], table.loc[5, "ok"] = pd.NA, pd.NA
    table.loc[6, "weight"], table.loc[7, "site"] = pd.NA, pd.NA
    table.to_parquet(tmp_path / "t.parquet")
    frame = read_data(tmp_path / "t.parquet").X
    assert frame.dtypes.to_dict() == table.dtypes.to_dict()
    assert main(["impute", str(tmp_path / "t.parquet"), "--out", str(tmp_path / "f.parquet"),
                 "--epochs", "3", "-q"]) == 0
    filled = pd.read_parquet(tmp_path / "f.parquet")
    assert filled.dtypes.to_dict() == table.dtypes.to_dict() and not filled.isna().any().any()
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(frame)
    score_file(det, tmp_path / "t.parquet", tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(frame))


def test_a_header_of_single_quoted_names_reads_without_the_quotes_in_memory_and_streamed(
        tmp_path):
    rng = np.random.default_rng(0)
    lines = ["'popul'\t'age'\t'vote'"] + [f"{rng.integers(0, 900)}\t{rng.integers(18, 90)}\t"
                                         f"{rng.integers(0, 2)}" for _ in range(200)]
    path = tmp_path / "anes.tsv"
    path.write_text("\n".join(lines) + "\n")
    frame = read_data(path).X
    assert list(frame.columns) == ["popul", "age", "vote"]
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(frame)
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(frame))


def test_a_pyarrow_backed_table_fits_and_comes_back_in_its_own_dtypes(tmp_path):
    rng = np.random.default_rng(0)
    pd.DataFrame({"n": rng.integers(0, 5, 100), "x": rng.normal(size=100),
                  "s": rng.choice(["a", "b"], 100), "ok": rng.choice([True, False], 100)}
                 ).to_csv(tmp_path / "t.csv", index=False)
    table = pd.read_csv(tmp_path / "t.csv", dtype_backend="pyarrow")
    complete = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(table)
    assert complete.input_spec_.columns is not None  # strings: not taken for NaN numbers
    table.loc[4, "x"], table.loc[5, "s"], table.loc[6, "ok"] = None, None, None
    ae = Autoencoder(1, max_epochs=2, random_state=0).fit(table)
    for out in (ae.reconstruct(table), ae.impute(table)):
        assert out.dtypes.to_dict() == table.dtypes.to_dict()
    assert not ae.impute(table).isna().any().any()


def test_impute_writes_fills_in_a_semicolon_files_own_marks_and_spellings(tmp_path):
    rng = np.random.default_rng(1)
    size = rng.normal(10, 2, 150)
    lines = ["size;weight;member"] + [
        f"{s:.1f};{'' if i % 10 == 3 else f'{3 * s:.2f}'};"
        f"{'' if i % 10 == 4 else ('Yes' if s > 10 else 'No')}".replace(".", ",")
        for i, s in enumerate(size)]
    path = tmp_path / "semi.csv"
    path.write_text("\n".join(lines) + "\n")
    assert main(["impute", str(path), "--out", str(tmp_path / "filled.csv"), "--epochs", "5",
                 "-q"]) == 0
    out = (tmp_path / "filled.csv").read_text().splitlines()
    assert out[0] == lines[0] and out[1] == lines[1]  # the file's own delimiter and text
    weights = [line.split(";")[1] for line in out[1:]]
    members = [line.split(";")[2] for line in out[1:]]
    assert all("," in w and len(w.split(",")[1]) == 2 for w in weights)  # 30,15
    assert set(members) == {"Yes", "No"}


def test_a_polars_table_comes_back_as_a_polars_table_from_reconstruct_and_impute():
    polars = pytest.importorskip("polars")
    holes = with_holes(mixed_table(), 0.1, 0)
    ae = Autoencoder(2, max_epochs=2, random_state=0).fit(holes)
    given = polars.from_pandas(holes)
    for out in (ae.reconstruct(given), ae.impute(given)):
        assert isinstance(out, polars.DataFrame) and out.columns == given.columns
    filled = ae.impute(given).to_pandas()
    pd.testing.assert_frame_equal(filled, ae.impute(holes), check_dtype=False)
    plain = polars.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0) * 2})
    assert isinstance(Autoencoder(1, max_epochs=2).fit(plain).reconstruct(plain),
                      polars.DataFrame)


@pytest.mark.parametrize("name", ["id", "customer_id", "OrderID", "userId", "ID_code", "key"])
def test_distinct_integers_named_as_identifiers_name_rows_and_are_no_feature(name):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({name: rng.permutation(90_000)[:300] + 10_000,
                          "a": rng.normal(size=300), "b": rng.normal(size=300)})
    spec, _ = InputSpec.from_training_data(table)
    assert spec.identifiers == [name] and spec.feature_names == ("a", "b")
    with_gaps = table.astype({name: float})
    with_gaps.loc[[3, 7], name] = np.nan  # as missing cells make an integer column
    assert InputSpec.from_training_data(with_gaps)[0].identifiers == [name]


def test_a_sample_code_named_id_repeated_for_replicates_is_an_identifier_not_a_number():
    rng = np.random.default_rng(0)
    codes = rng.integers(1_000_000, 9_999_999, 640)
    ids = np.concatenate([codes, codes[:60]])  # 60 samples measured twice
    table = pd.DataFrame({"ID": ids, "a": rng.normal(size=700), "b": rng.normal(size=700)})
    spec, _ = InputSpec.from_training_data(table)
    assert spec.identifiers == ["ID"] and spec.feature_names == ("a", "b")
    # a small set of repeated values under such a name is a feature still, as categories
    # (a musical key 0-11, a site_id): never an amount
    key = pd.DataFrame({"key": rng.integers(0, 12, 700), "a": rng.normal(size=700)})
    spec = InputSpec.from_training_data(key)[0]
    assert spec.feature_names == ("key", "a") and spec.columns[0].role == "categorical"


def test_a_subject_id_repeated_on_each_visit_names_rows():
    rng = np.random.default_rng(0)
    visits = pd.DataFrame({"ID": np.repeat(np.arange(1, 401), 3),  # a third distinct
                           "visit": np.tile([1, 2, 3], 400), "a": rng.normal(size=1200)})
    spec, _ = InputSpec.from_training_data(visits)
    assert spec.identifiers == ["ID"] and spec.feature_names == ("visit", "a")
    few = pd.DataFrame({"Subject": np.repeat(np.arange(1, 11), 5), "pH": rng.normal(size=50)})
    assert InputSpec.from_training_data(few)[0].columns[0].role == "categorical"


def test_distinct_integers_under_other_names_are_measurements_and_a_counter_is_not():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"population": rng.permutation(90_000)[:300] + 10_000,
                          "paid": rng.permutation(900)[:300], "row": np.arange(1, 301),
                          "a": rng.normal(size=300)})
    spec, _ = InputSpec.from_training_data(table)
    assert spec.identifiers == ["row"]  # a counter, even among plain numbers
    assert spec.feature_names == ("population", "paid", "a")
    repeated = table.assign(store_id=rng.integers(0, 5, 300))  # not distinct: a value
    assert "store_id" in InputSpec.from_training_data(repeated)[0].feature_names
    sample = pd.DataFrame({"pidnum": rng.permutation(600) + 5001, "a": rng.normal(size=600)})
    assert InputSpec.from_training_data(sample)[0].identifiers == ["pidnum"]  # numbered


@pytest.mark.parametrize("name, values", [
    ("week", np.random.default_rng(0).permutation(52) + 1), ("month", np.arange(1, 13)),
    ("dose_mg", np.arange(0, 8)), ("year", np.arange(1960, 2020))])
def test_a_short_run_of_integers_is_a_measurement_not_a_row_counter(name, values):
    assert infer_column(name, pd.Series(values), None, "t").role == "numeric"


def test_names_that_merely_contain_a_code_word_or_dt_keep_their_numbers():
    counts = pd.Series(np.random.default_rng(0).choice([3, 5, 12, 20101010], 300))
    for name in ("lines_of_code", "errors_per_code", "n_zip", "cost_per_zip", "bandwidth"):
        assert infer_column(name, counts, None, "t").role == "numeric"
    assert infer_column("area_code", counts, None, "t").role == "categorical"


def test_codes_in_parentheses_and_ambiguous_dots_are_not_made_numbers():
    area = pd.Series(["(415)", "(212)", "(312)", "(415)"] * 10)
    assert infer_column("area", area, None, "t").role == "categorical"
    ratio = infer_column("ratio", pd.Series(["8.904", "6,88", "7,5", "9,1"] * 10), None, "t")
    assert ratio.thousands != "."  # 8.904 beside 6,88 could be either: never made 8904
    euro = infer_column("price", pd.Series(["8.904", "6,88", "1.234,50"] * 10), None, "t")
    assert euro.thousands == "."  # a cell with both marks settles it


def test_a_row_of_delimiters_is_left_out_of_fit_and_gets_no_score(tmp_path, capsys):
    table = mixed_table().drop(columns=["Unnamed: 0", "order"])
    lines = table.to_csv(index=False).splitlines()
    blank = "," * (len(table.columns) - 1)
    lines[6:6] = [blank]  # data row 6, as a spreadsheet exports an empty row
    lines.append(blank)
    path = tmp_path / "blank.csv"
    path.write_text("\n".join(lines) + "\n")
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(
        pd.read_csv(path))
    colour = next(c for c in det.input_spec_.columns if c.name == "colour")
    assert MISSING_LEVEL not in colour.levels  # the blank rows made no category level
    scores = det.anomaly_score(pd.read_csv(path))
    assert np.isnan(scores).nonzero()[0].tolist() == [5, len(table) + 1]
    assert np.isfinite(np.delete(scores, [5, len(table) + 1])).all()
    assert det.predict_labels(pd.read_csv(path))[[5, len(table) + 1]].tolist() == [0, 0]
    det.save(tmp_path / "m")
    for out in ("s.csv", "s.parquet"):  # streamed, and in memory by detect
        assert main(["score", str(tmp_path / "m"), str(path), "--out", str(tmp_path / out),
                     "-q"]) == 0
        assert "2 with no value in any feature column, not scored" in capsys.readouterr().out
        written = (pd.read_csv if out.endswith("csv") else pd.read_parquet)(tmp_path / out)
        assert written["score"].isna().tolist() == np.isnan(scores).tolist()
        assert written["flag"].iloc[5] == 0
    assert main(["detect", str(path), "--out", str(tmp_path / "d.csv"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "not scored: score left empty, not flagged; row 6, 402" in out
    assert pd.read_csv(tmp_path / "d.csv")["score"].isna().sum() == 2


def test_r_style_true_false_fitted_in_memory_scores_streamed_from_the_same_file(tmp_path):
    table = mixed_table().drop(columns=["Unnamed: 0", "order"])
    table["express"] = np.where(table["express"] == "yes", "TRUE", "FALSE")  # as R writes
    path = tmp_path / "r.csv"
    table.to_csv(path, index=False)
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(
        read_data(str(path)).X)
    summary = score_file(det, path, tmp_path / "s.csv", progress=False)
    assert summary.n_rows == len(table)
    streamed = pd.read_csv(tmp_path / "s.csv")["score"].to_numpy()
    np.testing.assert_allclose(streamed, det.anomaly_score(read_data(str(path)).X))


def test_fills_of_counts_written_3_0_are_whole_and_a_quoted_na_stays_text(tmp_path):
    rng = np.random.default_rng(0)
    size = rng.normal(10, 2, 200)
    continent = rng.choice(["NA", "EU", "AS"], 200)
    lines = ["size,visits,continent"] + [
        f"{s:.3f},{'' if i in (4, 9) else f'{round(s * 3):.1f}'},\"{c}\""
        for i, (s, c) in enumerate(zip(size, continent))]
    path = tmp_path / "visits.csv"
    path.write_text("\n".join(lines) + "\n")
    assert main(["impute", str(path), "--out", str(tmp_path / "filled.csv"), "--epochs", "5",
                 "-q"]) == 0
    filled = read_data(tmp_path / "filled.csv").X
    visits = (tmp_path / "filled.csv").read_text().splitlines()[5].split(",")[1]
    assert visits.strip('"').endswith(".0")  # in the column's form, a whole number
    assert (filled["visits"] % 1 == 0).all()
    assert filled["continent"].tolist() == continent.tolist()  # "NA" read back as text


def test_a_mostly_empty_note_is_not_filled_with_made_up_notes_but_numbers_are(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"x": rng.normal(size=200).round(2), "y": rng.normal(size=200)})
    table["note"] = None
    table.loc[:29, "note"] = rng.choice(["Sample lost.", "Re-measured next day."], 30)
    table.loc[150:160, "x"] = np.nan
    table["grade"] = rng.choice(["a", "b", "c"], 200).astype(object)
    table.loc[::7, "grade"] = None  # a category with some gaps: filled
    ae = Autoencoder(2, max_epochs=3, random_state=0).fit(table)
    filled = ae.impute(table)
    assert filled["note"].isna().sum() == 170 and filled["x"].notna().all()
    assert filled["grade"].notna().all()
    pd.testing.assert_series_equal(filled.loc[:29, "note"], table.loc[:29, "note"])
    table.to_csv(tmp_path / "notes.csv", index=False)
    assert main(["impute", str(tmp_path / "notes.csv"), "--out", str(tmp_path / "f.csv"),
                 "--epochs", "2", "-q"]) == 0
    assert read_data(tmp_path / "f.csv").X["note"].isna().sum() == 170


def test_a_question_mark_in_a_text_column_is_a_gap_as_in_a_column_of_numbers(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"work": rng.choice(["Private", "Gov", "Self"], 300).astype(object),
                          "smoker": rng.choice(["yes", "no"], 300).astype(object),
                          "age": rng.normal(40, 10, 300).round(),
                          "damage": rng.choice(["None", "Minor"], 300).astype(object)})
    table.loc[1::15, "work"] = "?"  # as UCI's tables write a gap
    table.loc[2::20, "smoker"] = "-"
    table["age"] = table["age"].astype(object)
    table.loc[3::25, "age"] = "?"
    table.to_csv(tmp_path / "q.csv", index=False)
    ae = Autoencoder(2, max_epochs=3, random_state=0).fit(read_data(tmp_path / "q.csv").X)
    work, smoker, _, damage = ae.input_spec_.columns
    assert work.levels == ("Gov", "Private", "Self") and smoker.role == "boolean"
    assert work.describe().endswith("20 cell(s) of '?' as missing")
    assert damage.levels == ("Minor", "None")  # a word that can be a value stays one
    assert damage.describe().endswith("'None' read as a value, not as a missing cell")
    strand = infer_column("strand", pd.Series(["+", "-", "+", "?"] * 30), None, "t.csv")
    assert strand.levels == ("+", "-") and strand.placeholders == ("?",)  # a sign stays
    loaded = aekit.load(aekit.save(ae, tmp_path / "m"))
    assert loaded.input_spec_.columns == ae.input_spec_.columns  # placeholders saved too
    assert main(["impute", str(tmp_path / "q.csv"), "--out", str(tmp_path / "f.csv"),
                 "--epochs", "2", "-q"]) == 0
    filled = read_data(tmp_path / "f.csv").X
    assert not filled.isin(["?", "-"]).any().any() and filled.notna().all().all()
    assert (filled["work"][table["work"] != "?"] == table["work"][table["work"] != "?"]).all()


def test_placeholders_fit_never_saw_are_gaps_at_score_time_too(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"grade": rng.choice(["I", "II", "III"], 300).astype(object),
                          "smoker": rng.choice(["yes", "no"], 300).astype(object),
                          "x": rng.normal(size=300).round(3)})
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(table)
    blank = table.iloc[:6].copy()
    blank.loc[[1, 4], "grade"] = None
    blank.loc[[2, 4], "smoker"] = None
    dotted = blank.fillna({"grade": ".", "smoker": "?"})  # another file's way to write gaps
    np.testing.assert_array_equal(det.anomaly_score(dotted), det.anomaly_score(blank))
    assert det.input_spec_.cell_counts(det.input_spec_.rows(dotted)).tolist() == [
        [0, 2], [0, 2], [0, 0]]
    ae = Autoencoder(2, max_epochs=2, random_state=0).fit(table)
    filled = ae.impute(dotted)
    assert filled["grade"].isin(["I", "II", "III"]).all()
    assert filled["smoker"].isin(["yes", "no"]).all()
    kept = infer_column("strand", pd.Series(["+", "-"] * 30), None, "t.csv")
    sign, gap = encode_column(kept, pd.Series(["-", "?"]), "t")  # one-hot rows
    assert kept.levels == ("+", "-") and sign.tolist() == [0, 1, 0] and gap.sum() == 0


def test_integer_categories_are_categories_and_come_back_as_those_categories():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"month": pd.Categorical(rng.choice([5, 6, 7, 8, 9], 300)),
                          "ozone": rng.normal(40, 10, 300), "temp": rng.normal(70, 5, 300)})
    table.loc[::17, "month"] = np.nan
    ae = Autoencoder(1, max_epochs=3, random_state=0).fit(table)
    month = ae.input_spec_.columns[0]
    assert (month.role, month.levels) == ("categorical", ("5", "6", "7", "8", "9"))
    rebuilt = ae.reconstruct(table)["month"]
    assert rebuilt.dtype == table["month"].dtype and rebuilt.isin([5, 6, 7, 8, 9]).all()
    filled = ae.impute(table)["month"]
    assert filled.notna().all() and filled.dtype == table["month"].dtype
    kept = table["month"].notna()
    assert (filled[kept] == table["month"][kept]).all()


def test_a_saved_index_column_fit_never_saw_is_ignored_when_scoring(tmp_path):
    table = mixed_table()
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(table)
    expected = det.anomaly_score(table)
    table.drop(columns="Unnamed: 0").to_csv(tmp_path / "t.csv")  # a new default index
    again = read_data(tmp_path / "t.csv").X
    np.testing.assert_array_equal(det.anomaly_score(again), expected)
    numeric = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(
        table[["size", "price"]])
    with_index = table[["size", "price"]].reset_index().rename(columns={"index": "Unnamed: 0"})
    np.testing.assert_array_equal(numeric.anomaly_score(with_index),
                                  numeric.anomaly_score(table[["size", "price"]]))


def test_yes_and_no_in_two_spellings_each_are_one_boolean():
    answers = pd.Series(["yes", "Yes", "no", "No", "no", "yes", "no"] * 10)
    column = infer_column("smoker", answers, None, "t")
    assert (column.role, column.levels) == ("boolean", ("no", "yes"))
    np.testing.assert_array_equal(
        encode_column(column, pd.Series(["Yes", "NO", None]), "t")[:, 0], [1.0, 0.0, np.nan])


def test_a_missing_boolean_adds_no_error_and_the_network_sees_its_midpoint():
    table = mixed_table()
    model = Autoencoder(latent_dim=2, max_epochs=3, random_state=0).fit(table)
    gaps = table.iloc[:30].assign(express=None)
    express = model.input_spec_.column_names().index("express")
    assert np.isnan(model.input_spec_.rows(gaps)[:, express]).all()
    assert model.scaler_.center[express] == 0.5  # no = -0.5, yes = 0.5; a gap the centre 0
    cells = model.error_map(gaps)
    assert (cells[:, express] == 0).all()
    # 8 units of error (4 cyclic parts, the category once, three plain cells), one missing
    np.testing.assert_allclose(model.reconstruction_error(gaps), cells.sum(axis=1) / 7,
                               rtol=1e-6)
    shares = model.feature_contributions(gaps)
    column = list(model.input_spec_.feature_names).index("express")
    assert (shares[:, column] == 0).all() and np.allclose(shares.sum(axis=1), 1.0)


def test_a_missing_date_adds_no_error_and_is_explained_as_missing():
    table = mixed_table()
    model = Autoencoder(latent_dim=2, max_epochs=3, random_state=0).fit(table)
    gaps = table.iloc[:30].assign(when=None)
    parts = [j for j, name in enumerate(model.input_spec_.column_names())
             if name.startswith("when:")]
    assert np.isnan(model.input_spec_.rows(gaps)[:, parts]).all()
    cells = model.error_map(gaps)
    assert (cells[:, parts] == 0).all()
    # 8 units of error (4 cyclic parts, the category once, three plain cells), 4 missing
    np.testing.assert_allclose(model.reconstruction_error(gaps), cells.sum(axis=1) / 4,
                               rtol=1e-6)
    assert model.input_spec_.cell_counts(model.input_spec_.rows(gaps))[0].tolist() == [0, 30]
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(table)
    assert np.isfinite(det.anomaly_score(gaps)).all()
    assert len(det.explain(gaps, n=3)) > 0


def test_a_model_saved_when_a_missing_boolean_was_a_half_keeps_that_encoding():
    old = Column.from_dict({"name": "smoker", "role": "boolean", "levels": ["no", "yes"]})
    assert old.gap_at_half and old.fixed_centre == 0.0
    assert encode_column(old, pd.Series(["yes", None]), "t")[:, 0].tolist() == [1.0, 0.5]
    new = Column.from_dict(infer_column("smoker", pd.Series(["yes", "no"] * 10), None,
                                        "t").to_dict())
    assert not new.gap_at_half and new.fixed_centre == 0.5


def test_dates_written_as_yyyymmdd_numbers_are_dates_and_never_filled_as_numbers(tmp_path):
    rng = np.random.default_rng(0)
    days = pd.date_range("2019-01-01", periods=300, freq="D")[rng.permutation(300)]
    table = pd.DataFrame({"obs_date": days.strftime("%Y%m%d").astype(float),
                          "rain": rng.gamma(2, 2, 300).round(1)})
    table.loc[[4, 9], "obs_date"] = np.nan
    path = tmp_path / "weather.csv"
    table.to_csv(path, index=False)
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(read_data(path).X)
    column = det.input_spec_.columns[0]
    assert (column.role, column.date_format) == ("datetime", "%Y%m%d")
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(read_data(path).X))
    filled = Autoencoder(1, max_epochs=2, random_state=0).fit(table).impute(table)
    assert filled["obs_date"].isna().sum() == 2  # a date is not made up from a number
    readings = pd.Series(np.arange(20000101, 20000401, 3))  # 20000132 is no date
    assert infer_column("reading", readings, None, "t").role == "numeric"


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_an_integer_id_with_gaps_is_carried_as_integers_in_memory_and_streamed(tmp_path, suffix):
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"order_id": pd.array(range(1000, 1300), dtype="Int64"),
                          "x": rng.normal(size=300), "c": rng.choice(["a", "b", "c"], 300)})
    table.loc[[3, 7], "order_id"] = pd.NA
    path = tmp_path / f"orders{suffix}"
    table.to_parquet(path) if suffix == ".parquet" else table.to_csv(path, index=False)
    frame = read_data(path).X
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(frame)
    assert det.input_spec_.columns[0].role == "identifier"
    in_memory = score_table(det, frame)
    assert in_memory["order_id"].dtype == "Int64"
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    assert str(pq.read_schema(tmp_path / "s.parquet").field("order_id").type) in (
        "int64", "string")  # a CSV's cells are text as read
    score_file(det, path, tmp_path / "s.csv", progress=False)
    streamed = pd.read_csv(tmp_path / "s.csv")["order_id"]
    assert streamed.isna().sum() == 2 and (streamed.dropna() % 1 == 0).all()
    assert (tmp_path / "s.csv").read_text().splitlines()[1].startswith("1000,")


@pytest.mark.parametrize("name", ["Postal Code", "zip", "ZipCode", "fips_code", "Hospital Code"])
def test_whole_numbers_named_as_codes_are_categories_not_amounts(tmp_path, name):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({name: rng.choice([10001, 94105, 60614, 2134], 300),
                          "x": rng.normal(size=300)})
    spec, _ = InputSpec.from_training_data(table)
    column = spec.columns[0]
    assert column.role == "categorical" and set(column.levels) == {"10001", "94105", "60614",
                                                                   "2134"}
    path = tmp_path / "codes.parquet"
    table.to_parquet(path)
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(table)
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(table))
    assert infer_column("barcode", table[name], None, "t").role == "numeric"
    for measure in ("zip_distance_km", "code_length"):  # the code word must end the name
        assert infer_column(measure, table[name], None, "t").role == "numeric"


def test_integer_keys_in_camel_case_name_rows():
    rng = np.random.default_rng(0)
    keys = pd.Series(rng.permutation(90_000)[:300] + 10_000)
    assert infer_column("PassengerKey", keys, None, "t").role == "identifier"
    assert infer_column("monkey", keys, None, "t").role == "numeric"


def test_the_schema_says_when_a_feature_is_mostly_missing_and_what_a_constant_holds():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"size": rng.normal(size=300), "rare": np.nan, "note": None})
    table.loc[[1, 2], "rare"] = [1.5, 2.5]
    table.loc[:59, "note"] = "late delivery"
    spec, _ = InputSpec.from_training_data(table)
    lines = dict(zip(["size", "rare", "note"], spec.describe()))
    assert lines["rare"].endswith("99.3% of its cells missing")
    assert "missing" not in lines["size"]
    assert "constant ('late delivery' wherever it has a value)" in lines["note"]
    assert [Column.from_dict(c.to_dict()) for c in spec.columns] == list(spec.columns)
