"""The command line end to end, in-process through ``main([...])``."""

import json

import numpy as np
import pandas as pd
import pytest

from aekit.cli.main import main


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 2))
    X = z @ rng.normal(size=(2, 5)) + 0.1 * rng.normal(size=(300, 5))
    df = pd.DataFrame(X, columns=["a", "b", "c", "d", "e"])
    df["label"] = 0
    df.loc[:9, ["a", "b"]] += 12
    df.loc[:9, "label"] = 1
    path = tmp_path_factory.mktemp("data") / "data.csv"
    df.to_csv(path, index=False)
    return path


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("model", ["ae", "linear", "dae", "vae"])
def test_fit_embed_reconstruct_info_end_to_end(model, table, tmp_path, capsys):
    model_dir = tmp_path / "model"
    code, out, _ = run(["fit", table, "--model", model, "--latent-dim", 2, "--hidden", "16",
                        "--epochs", 3, "--seed", 0, "--labels", "label", "--out", model_dir, "-q"], capsys)
    assert code == 0 and "saved to" in out
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "estimator.json", "history.json", "weights.safetensors"]
    code, _, _ = run(["embed", model_dir, table, "--labels", "label", "--out", tmp_path / "z.parquet"], capsys)
    assert code == 0
    assert pd.read_parquet(tmp_path / "z.parquet").columns.tolist() == ["z0", "z1"]
    code, _, _ = run(["reconstruct", model_dir, table, "--labels", "label", "--out", tmp_path / "r.csv"], capsys)
    recon = pd.read_csv(tmp_path / "r.csv")
    assert code == 0 and recon.columns.tolist() == ["a", "b", "c", "d", "e"] and len(recon) == 300
    code, out, _ = run(["info", model_dir], capsys)
    assert code == 0 and "input: 5 features: a, b, c, d, e" in out


def test_every_command_that_writes_a_file_takes_q_and_then_prints_nothing(table, tmp_path,
                                                                          capsys):
    model_dir = tmp_path / "vae"
    assert run(["fit", table, "--model", "vae", "--latent-dim", 2, "--epochs", 2,
                "--labels", "label", "--out", model_dir, "-q"], capsys)[0] == 0
    for argv in (["embed", model_dir, table, "--labels", "label", "--out", tmp_path / "z.csv"],
                 ["reconstruct", model_dir, table, "--labels", "label",
                  "--out", tmp_path / "r.csv"],
                 ["sample", model_dir, "-n", 4, "--out", tmp_path / "s.csv"],
                 ["interpolate", model_dir, table, "--labels", "label", "--from", 0, "--to", 5,
                  "--out", tmp_path / "i.csv"],
                 ["export", model_dir, "--out", tmp_path / "m.onnx"],
                 ["report", model_dir, table, "--labels", "label",
                  "--out", tmp_path / "r.html"]):
        loud = run(argv, capsys)
        assert loud[0] == 0 and loud[1].startswith("wrote"), argv[0]
        code, out, _ = run([*argv, "-q"], capsys)
        assert (code, out) == (0, ""), argv[0]


@pytest.mark.parametrize("lr, start", [("auto", "0.003"), ("0.01", "0.01")])
def test_fit_takes_a_learning_rate_or_auto_and_info_shows_the_one_used(lr, start, table,
                                                                      tmp_path, capsys):
    code, _, _ = run(["fit", table, "--lr", lr, "--epochs", 2, "--labels", "label",
                      "--out", tmp_path / "m", "-q"], capsys)
    assert code == 0
    code, out, _ = run(["info", tmp_path / "m"], capsys)
    assert code == 0 and f"learning rate {start} at the start" in out


def test_fit_refuses_a_learning_rate_that_is_not_a_number(table, tmp_path, capsys):
    code, _, err = run(["fit", table, "--lr", "fast", "--out", tmp_path / "m", "-q"], capsys)
    assert code != 0 and "The 'lr' parameter of Autoencoder must be 'auto' or a float > 0" in err
    assert not (tmp_path / "m").exists()


def test_embed_writes_npy(table, tmp_path, capsys):
    run(["fit", table, "--latent-dim", 3, "--epochs", 2, "--labels", "label", "--out", tmp_path / "m", "-q"], capsys)
    code, _, _ = run(["embed", tmp_path / "m", table, "--labels", "label", "--out", tmp_path / "z.npy"], capsys)
    assert code == 0 and np.load(tmp_path / "z.npy").shape == (300, 3)


def test_detect_keeps_row_order_flags_and_explains_with_labels_excluded(table, tmp_path, capsys):
    out_path = tmp_path / "scores.csv"
    code, out, _ = run(["detect", table, "--labels", "label", "--threshold", "quantile",
                        "--contamination", 0.05, "--seed", 0, "--out", out_path, "-q"], capsys)
    assert code == 0
    scores = pd.read_csv(out_path, keep_default_na=False)
    assert scores.columns.tolist() == ["score", "flag", "top_features"]
    assert len(scores) == 300
    assert scores["score"].iloc[:10].mean() > scores["score"].iloc[10:].quantile(0.95)
    flagged = scores[scores["flag"] == 1]
    assert (flagged["top_features"].str.count(":") == 3).all()
    assert (scores.loc[scores["flag"] == 0, "top_features"] == "").all()
    assert "label" not in ";".join(flagged["top_features"])
    assert "rows: 300" in out and "ROC-AUC=" in out


def test_fit_detector_then_score_new_data(table, tmp_path, capsys):
    code, out, _ = run(["fit", table, "--detector", "--threshold", "pot", "--labels", "label",
                        "--seed", 0, "--epochs", 5, "--out", tmp_path / "det", "-q"], capsys)
    assert code == 0 and "threshold pot" in out
    config = json.loads((tmp_path / "det" / "estimator.json").read_text())
    assert config["class"] == "AnomalyDetector"
    code, out, _ = run(["score", tmp_path / "det", table, "--labels", "label",
                        "--out", tmp_path / "s.parquet"], capsys)
    assert code == 0 and len(pd.read_parquet(tmp_path / "s.parquet")) == 300
    assert "ROC-AUC=" in out


def test_score_refuses_a_model_that_is_not_a_detector(table, tmp_path, capsys):
    run(["fit", table, "--epochs", 2, "--labels", "label", "--out", tmp_path / "m", "-q"], capsys)
    code, _, err = run(["score", tmp_path / "m", table, "--labels", "label", "--out", tmp_path / "s.csv"], capsys)
    assert code == 2 and "holds an Autoencoder" in err and "needs an anomaly detector" in err
    assert not (tmp_path / "s.csv").exists()


def test_a_detector_embeds_and_every_command_it_cannot_serve_says_what_it_needs(
        table, tmp_path, capsys):
    run(["fit", table, "--detector", "--epochs", 2, "--labels", "label", "--out",
         tmp_path / "det", "-q"], capsys)
    code, out, _ = run(["embed", tmp_path / "det", table, "--labels", "label", "--out",
                        tmp_path / "z.csv"], capsys)
    assert code == 0 and len(pd.read_csv(tmp_path / "z.csv")) == 300  # its widest member's
    for command in (["reconstruct", tmp_path / "det", table], ["impute", tmp_path / "det", table],
                    ["interpolate", tmp_path / "det", table, "--from", 0, "--to", 1],
                    ["sample", tmp_path / "det"]):
        code, _, err = run([*command, "--out", tmp_path / "x.csv"], capsys)
        assert code == 2 and "holds an AnomalyDetector" in err and "Traceback" not in err
        assert not (tmp_path / "x.csv").exists()


BAD_CASES = {
    "non_numeric": ("a,b\n1,2\n3,oops\n", "column 'b', row 2: 'oops' is not a number"),
    "inf": ("a,b\n1,2\ninf,4\n3,5\n", "NaN or inf"),
    "empty": ("", "empty"),
    "header_only": ("a,b\n", "0 rows"),
    "one_row": ("a,b\n1,2\n", "1 row"),
    "duplicate_columns": ("a,a\n1,2\n3,4\n", "duplicated column names"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
@pytest.mark.parametrize("command", ["fit", "detect"])
def test_bad_input_exits_2_with_a_clear_message_and_no_output(case, command, tmp_path, capsys):
    text, match = BAD_CASES[case]
    data = tmp_path / "bad.csv"
    data.write_text(text)
    out = tmp_path / ("model" if command == "fit" else "scores.csv")
    code, _, err = run([command, data, "--out", out, "-q", "--epochs", 2], capsys)
    assert code == 2
    assert err.startswith("aekit: error:") and "Traceback" not in err
    assert pytest.importorskip("re").search(match, err), err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.csv"]


def test_wrong_columns_at_score_time_exit_2(table, tmp_path, capsys):
    run(["fit", table, "--epochs", 2, "--labels", "label", "--out", tmp_path / "m", "-q"], capsys)
    other = tmp_path / "other.csv"
    pd.DataFrame({"a": [1.0, 2.0], "zzz": [3.0, 4.0]}).to_csv(other, index=False)
    code, _, err = run(["embed", tmp_path / "m", other, "--out", tmp_path / "z.csv"], capsys)
    assert code == 2 and "unseen at fit time" in err and "- zzz" in err and "missing" in err
    assert not (tmp_path / "z.csv").exists()


def test_missing_labels_column_and_bad_output_directory_exit_2(table, tmp_path, capsys):
    code, _, err = run(["detect", table, "--labels", "nope", "--out", tmp_path / "s.csv"], capsys)
    assert code == 2 and "no labels column 'nope'" in err
    code, _, err = run(["fit", table, "--labels", "label", "--out", tmp_path / "no" / "such" / "m"], capsys)
    assert code == 2 and "does not exist" in err


def test_usage_errors_and_help(capsys):
    assert main(["fit"]) == 2
    assert main(["--help"]) == 0
    assert "example:" in capsys.readouterr().out
    assert main(["detect", "--help"]) == 0
    assert "example:" in capsys.readouterr().out


def test_yes_no_labels_give_the_same_metrics_as_0_1_labels(table, tmp_path, capsys):
    words = pd.read_csv(table).assign(label=lambda t: t["label"].map({1: "Yes", 0: "no"}))
    words.to_csv(tmp_path / "words.csv", index=False)
    outputs = []
    for path in (table, tmp_path / "words.csv"):
        code, out, _ = run(["detect", path, "--labels", "label", "--epochs", 2, "--seed", 0,
                            "--out", tmp_path / "s.csv", "-q"], capsys)
        assert code == 0
        outputs.append([line for line in out.splitlines() if line.startswith("metrics:")])
    assert outputs[0] == outputs[1] and outputs[0]
    words.assign(label=lambda t: t["label"].where(t.index != 4, "maybe")).to_csv(
        tmp_path / "odd.csv", index=False)
    code, _, err = run(["detect", tmp_path / "odd.csv", "--labels", "label", "--epochs", 2,
                        "--out", tmp_path / "s2.csv", "-q"], capsys)
    assert code == 2 and "found ['maybe']" in err and not (tmp_path / "s2.csv").exists()


def test_detect_shows_how_a_table_of_plain_numbers_was_read_too(table, tmp_path, capsys):
    code, out, _ = run(["detect", table, "--epochs", 2, "--out", tmp_path / "s.csv"], capsys)
    assert code == 0
    assert "columns:\n  6 numeric columns, scaled: a, b, c, d, e, label" in out


def test_embed_carries_the_identifier_columns_first(tmp_path, capsys):
    rng = np.random.default_rng(0)
    pd.DataFrame({"id": [f"u{i:03d}" for i in range(120)], "a": rng.normal(size=120),
                  "b": rng.normal(size=120)}).to_csv(tmp_path / "t.csv", index=False)
    assert run(["fit", tmp_path / "t.csv", "--epochs", 2, "--latent-dim", 1, "--out",
                tmp_path / "m", "-q"], capsys)[0] == 0
    assert run(["embed", tmp_path / "m", tmp_path / "t.csv", "--out", tmp_path / "z.csv"],
               capsys)[0] == 0
    codes = pd.read_csv(tmp_path / "z.csv")
    assert list(codes.columns) == ["id", "z0"] and codes["id"][5] == "u005"


def test_score_leaves_out_ignored_columns_and_writes_scores_alone_to_npy(tmp_path, capsys):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"id": [f"u{i:03d}" for i in range(150)], "a": rng.normal(size=150),
                          "b": rng.normal(size=150)})
    table.to_csv(tmp_path / "t.csv", index=False)
    assert run(["fit", tmp_path / "t.csv", "--detector", "--epochs", 2, "--out",
                tmp_path / "m", "-q"], capsys)[0] == 0
    table.assign(note="later").to_csv(tmp_path / "later.csv", index=False)
    code, _, err = run(["score", tmp_path / "m", tmp_path / "later.csv", "--out",
                        tmp_path / "s.csv", "-q"], capsys)
    assert code == 2 and "--ignore note" in err
    for out in ("s.csv", "s.npy"):  # streamed, and in memory
        assert run(["score", tmp_path / "m", tmp_path / "later.csv", "--ignore", "note",
                    "--out", tmp_path / out, "-q"], capsys)[0] == 0
    streamed = pd.read_csv(tmp_path / "s.csv")
    assert list(streamed.columns) == ["id", "score", "flag", "top_features"]
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), streamed["score"].to_numpy())


@pytest.mark.parametrize("out", ["s.parquet", "s.npy"])  # streamed, and in memory
def test_score_notes_a_column_written_otherwise_than_in_fit_or_missing_everywhere(
        tmp_path, capsys, out):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"code": rng.choice(["030001", "030002", "040001"], 300),
                          "x": rng.normal(size=300), "sex": rng.choice(["m", "f"], 300)})
    table.to_csv(tmp_path / "fit.csv", index=False)
    assert run(["fit", tmp_path / "fit.csv", "--detector", "--epochs", 2, "--out",
                tmp_path / "m", "-q"], capsys)[0] == 0
    code, printed, _ = run(["score", tmp_path / "m", tmp_path / "fit.csv", "--out",
                            tmp_path / out, "-q"], capsys)
    assert code == 0 and "note: column" not in printed
    later = table.assign(code=table["code"].str.lstrip("0"), sex=np.nan)  # zeros lost
    later.to_csv(tmp_path / "later.csv", index=False)
    code, printed, _ = run(["score", tmp_path / "m", tmp_path / "later.csv", "--out",
                            tmp_path / out, "-q"], capsys)
    assert code == 0
    assert "note: column 'code' holds values fit never saw (or saw too rarely to learn) in " \
           "100% of the rows" in printed
    assert "note: column 'sex' is missing in every row scored." in printed


@pytest.mark.parametrize("command", [["detect"], ["impute"], ["fit"]])
@pytest.mark.parametrize("out, message", [
    ("missing/out.csv", "the output directory 'missing' does not exist"),
    ("scores.xlsx", "unknown output format '.xlsx'")])
def test_an_out_path_that_cannot_be_written_is_refused_before_any_training(
        command, out, message, table, tmp_path, capsys, monkeypatch):
    if command == ["fit"] and out.endswith(".xlsx"):
        pytest.skip("a model directory takes any name")
    monkeypatch.chdir(tmp_path)
    import aekit.estimators._base as base

    def no_training(*args, **kwargs):
        raise AssertionError("trained before the --out check")

    monkeypatch.setattr(base.BaseAutoencoder, "fit", no_training)
    code, _, err = run([*command, table, "--out", out, "-q"], capsys)
    assert code == 2 and message in err
    assert not any(tmp_path.iterdir())


def test_impute_leaves_a_mostly_empty_note_empty_and_says_which_fills_stand_on_little(
        tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 300
    table = pd.DataFrame({"size": rng.normal(10, 2, n), "visits": np.round(rng.normal(30, 5, n)),
                          "note": None, "rare": np.nan, "country": "FR"})
    table.loc[rng.choice(n, 60, replace=False), "note"] = "late delivery"
    table.loc[[1, 2], "rare"] = [1.5, 2.5]
    table.loc[[4, 9], "visits"] = np.nan
    table.loc[[5], "country"] = None
    path = tmp_path / "orders.csv"
    table.to_csv(path, index=False)
    code, out, _ = run(["impute", path, "--out", tmp_path / "filled.parquet", "--epochs", 3,
                        "-q"], capsys)
    assert code == 0
    filled = pd.read_parquet(tmp_path / "filled.parquet")
    assert filled["note"].notna().sum() == 60  # an empty note says "none": not made up
    assert filled.loc[5, "country"] == "FR"  # a column of one value fills a rare gap
    assert (filled["visits"] % 1 == 0).all()  # as a CSV writes the fills of counts
    assert "'rare': 298 cells filled from only 2 observed" in out
    small = table.iloc[:12].assign(rare=[np.nan] + [1.0, 2.0] * 5 + [3.0])  # one gap in 12
    small.to_csv(path, index=False)
    code, out, _ = run(["impute", path, "--out", tmp_path / "f.csv", "--epochs", 3, "-q"],
                       capsys)
    assert code == 0 and "'rare'" not in out


def test_a_model_fitted_with_labels_scores_and_embeds_its_own_file_and_reads_its_labels(
        table, tmp_path, capsys):
    model = tmp_path / "model"
    assert run(["fit", table, "--detector", "--labels", "label", "--epochs", 2, "--seed", 0,
                "--out", model, "-q"], capsys)[0] == 0
    code, out, err = run(["score", model, table, "--out", tmp_path / "s.csv", "-q"], capsys)
    assert code == 0, err
    assert "labels: column 'label', as in fit" in out and "ROC-AUC=" in out
    assert run(["embed", model, table, "--out", tmp_path / "z.csv"], capsys)[0] == 0
    assert len(pd.read_csv(tmp_path / "z.csv")) == 300


def test_an_unlabelled_row_is_named_and_minus_one_labels_get_the_mapping(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60),
                          "lab": [0.0] * 60})
    frame.loc[3, "lab"] = np.nan
    frame.to_csv(tmp_path / "gap.csv", index=False)
    code, _, err = run(["detect", tmp_path / "gap.csv", "--labels", "lab", "--epochs", 1,
                        "--out", tmp_path / "s.csv"], capsys)
    assert code == 2 and "1 empty cell(s), the first in row 4" in err
    frame["lab"] = np.where(np.arange(60) % 10 == 0, "yes", "no").astype(object)
    frame.loc[5, "lab"] = None  # yes/no labels with a gap: named too, not "found [nan]"
    frame.to_csv(tmp_path / "yn.csv", index=False)
    code, _, err = run(["detect", tmp_path / "yn.csv", "--labels", "lab", "--epochs", 1,
                        "--out", tmp_path / "s.csv"], capsys)
    assert code == 2 and "1 empty cell(s), the first in row 6" in err
    frame["lab"] = np.where(np.arange(60) % 10 == 0, -1, 1)
    frame.to_csv(tmp_path / "pm.csv", index=False)
    code, _, err = run(["detect", tmp_path / "pm.csv", "--labels", "lab", "--epochs", 1,
                        "--out", tmp_path / "s.csv"], capsys)
    assert code == 2 and "found values [-1, 1]" in err and "map -1 to 1" in err


def test_a_summary_that_flags_many_rows_points_to_the_stricter_rule(capsys):
    from types import SimpleNamespace

    from aekit.anomaly.thresholds import MADThreshold
    from aekit.cli.detect import summary

    rule = MADThreshold(k=2.0).fit(np.random.default_rng(0).exponential(size=500))
    detector = SimpleNamespace(threshold_obj_=rule)
    busy = summary(detector, np.r_[np.ones(15), np.zeros(85)], np.arange(100.0))
    assert "flagged: 15 (15.0%)" in busy and "--k 3.5 flags far fewer" in busy
    calm = summary(detector, np.r_[np.ones(5), np.zeros(95)], np.arange(100.0))
    assert "--k 3.5" not in calm
