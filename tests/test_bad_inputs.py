"""The bad-input catalogue: every case gets a clear message, exit code 2 from the CLI, no
traceback, and no output file left behind; the Python API raises the matching ValueError.

Each case builds its input in a fresh directory, runs one CLI command, and checks the
message names what is wrong (and where) with a regular expression.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aekit import AnomalyDetector, Autoencoder, load
from aekit.cli.main import main
from aekit.data.io import read_data
from aekit.exceptions import DataError, ModelFileError, ParameterError

GOOD = "a,b,c\n" + "".join(f"{i % 7},{(i * 3) % 11},{(i * 5) % 13}\n" for i in range(60))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A small model fitted on columns a, b, c."""
    root = tmp_path_factory.mktemp("model")
    data = root / "good.csv"
    data.write_text(GOOD)
    assert main(["fit", str(data), "--epochs", "2", "--seed", "0", "--out", str(root / "m"), "-q"]) == 0
    return root / "m"


def write(path: Path, content) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def corrupt_model(src: Path, dst: Path, how: str) -> Path:
    import shutil

    shutil.copytree(src, dst)
    weights, config = dst / "weights.safetensors", dst / "estimator.json"
    if how == "missing_weights":
        weights.unlink()
    elif how == "truncated_weights":
        weights.write_bytes(weights.read_bytes()[:100])
    elif how == "tampered_weights":
        raw = bytearray(weights.read_bytes())
        raw[-1] ^= 0xFF
        weights.write_bytes(bytes(raw))
    elif how == "pickle_weights":
        import pickle

        weights.write_bytes(pickle.dumps({"w": [1, 2, 3]}))
    elif how in ("wrong_types", "future_version", "not_json", "missing_config"):
        cfg = json.loads(config.read_text())
        if how == "wrong_types":
            cfg["params"]["latent_dim"] = "eight"
        elif how == "future_version":
            cfg["format_version"] = 99
        config.write_text(json.dumps(cfg) if how != "not_json" else "{not json")
        if how == "missing_config":
            config.unlink()
    return dst


# (name, files to create {name: content}, argv template, expected message regex)
# In argv, {d} is the case directory and {m} the fitted model directory.
CLI_CASES = [
    ("empty_file", {"x.csv": ""}, ["fit", "{d}/x.csv"], r"x\.csv: the file is empty"),
    ("header_only", {"x.csv": "a,b\n"}, ["fit", "{d}/x.csv"], r"empty input \(0 rows\)"),
    ("one_row", {"x.csv": "a,b\n1,2\n"}, ["fit", "{d}/x.csv"], r"1 row"),
    ("non_numeric_cell", {"x.csv": "a,b\n1,2\n3,abc\n4,5\n"}, ["fit", "{d}/x.csv"],
     r"column 'b', row 2: 'abc' is not a number"),
    ("mixed_types_column", {"x.csv": "a,b\n1,2\nx,3\n2,y\n"}, ["fit", "{d}/x.csv"],
     r"column 'a', row 2: 'x' is not a number"),
    ("plus_inf", {"x.csv": "a,b\n1,2\n3,inf\n4,5\n"}, ["fit", "{d}/x.csv"], r"column 'b'.*inf at row 2"),
    ("minus_inf", {"x.csv": "a,b\n1,2\n-inf,3\n4,5\n"}, ["fit", "{d}/x.csv"], r"column 'a'.*inf at row 2"),
    ("huge_value", {"x.csv": "a,b\n1,2\n1e308,3\n4,5\n"}, ["fit", "{d}/x.csv"],
     r"column 'a'.*row 2.*too large"),
    ("duplicated_columns", {"x.csv": "a,a\n1,2\n3,4\n"}, ["fit", "{d}/x.csv"], r"duplicated column names \['a'\]"),
    ("missing_column_at_score", {"x.csv": "a,b\n1,2\n3,4\n"}, ["embed", "{m}", "{d}/x.csv"],
     r"missing:\n- c"),
    ("extra_column_at_score", {"x.csv": "a,b,c,d\n1,2,3,4\n3,4,5,6\n"}, ["embed", "{m}", "{d}/x.csv"],
     r"unseen at fit time:\n- d"),
    ("other_columns_at_score", {"x.csv": "p,q,r\n1,2,3\n3,4,5\n"}, ["reconstruct", "{m}", "{d}/x.csv"],
     r"unseen at fit time:\n- p\n- q\n- r\n.*missing:\n- a"),
    ("wrong_width_npy", {"x.npy": np.zeros((3, 5))}, ["embed", "{m}", "{d}/x.npy"],
     r"X has 5 features, but Autoencoder is expecting 3"),
    ("labels_column_missing", {"x.csv": GOOD}, ["detect", "{d}/x.csv", "--labels", "nope"],
     r"no labels column 'nope'"),
    ("labels_not_binary", {"x.csv": GOOD.replace("a,b,c", "a,b,lab")}, ["detect", "{d}/x.csv", "--labels", "lab"],
     r"labels must be 0/1"),
    ("wrong_image_shape", {"x.npy": np.zeros((2, 1, 2, 3, 4))}, ["fit", "{d}/x.npy"], r"shape \(2, 1, 2, 3, 4\)"),
    ("one_d_npy", {"x.npy": np.zeros(5)}, ["fit", "{d}/x.npy"], r"1-D array"),
    ("corrupt_parquet", {"x.parquet": b"PAR1" + b"\x00" * 50}, ["fit", "{d}/x.parquet"],
     r"not a readable Parquet file"),
    ("truncated_csv", {"x.csv": "a,b,c\n1,2,3\n4,5,6\n7,8"}, ["fit", "{d}/x.csv"],
     r"malformed CSV: line 4 has 2 fields, the header 3"),
    ("too_many_fields", {"x.csv": "a,b\n1,2\n3,4,5,6\n"}, ["fit", "{d}/x.csv"], r"malformed CSV"),
    ("non_utf8", {"x.csv": b"a,b\n1,2\n\xff\xfe,3\n"}, ["fit", "{d}/x.csv"], r"not valid UTF-8"),
    ("gz_not_gzip", {"x.csv.gz": "a,b\n1,2\n"}, ["fit", "{d}/x.csv.gz"], r"not gzip-compressed"),
    ("npz_object_array", {"x.npz": "object"}, ["fit", "{d}/x.npz"], r"never unpickles"),
    ("npz_without_X", {"x.npz": "noX"}, ["fit", "{d}/x.npz"], r"no array named 'X'"),
    ("unknown_extension", {"x.xlsx": "a,b\n"}, ["fit", "{d}/x.xlsx"], r"unknown file type '\.xlsx'"),
    ("missing_file", {}, ["fit", "{d}/nope.csv"], r"no such file"),
    ("model_missing_weights", {"bad": "missing_weights"}, ["embed", "{d}/bad", "{d}/good.csv"],
     r"missing weights\.safetensors"),
    ("model_truncated_weights", {"bad": "truncated_weights"}, ["embed", "{d}/bad", "{d}/good.csv"],
     r"checksum does not match"),
    ("model_tampered_weights", {"bad": "tampered_weights"}, ["embed", "{d}/bad", "{d}/good.csv"],
     r"checksum does not match"),
    ("model_pickle_weights", {"bad": "pickle_weights"}, ["embed", "{d}/bad", "{d}/good.csv"],
     r"checksum does not match"),
    ("config_wrong_types", {"bad": "wrong_types"}, ["embed", "{d}/bad", "{d}/good.csv"], r"latent_dim"),
    ("config_future_version", {"bad": "future_version"}, ["embed", "{d}/bad", "{d}/good.csv"],
     r"format 99.*Upgrade aekit"),
    ("config_not_json", {"bad": "not_json"}, ["embed", "{d}/bad", "{d}/good.csv"], r"not valid JSON"),
    ("not_a_model_dir", {"bad": "missing_config"}, ["info", "{d}/bad"], r"missing estimator\.json"),
    ("latent_dim_zero", {"x.csv": GOOD}, ["fit", "{d}/x.csv", "--latent-dim", "0"],
     r"'latent_dim' parameter of Autoencoder must be an int >= 1\. Got 0"),
    ("latent_dim_negative", {"x.csv": GOOD}, ["fit", "{d}/x.csv", "--latent-dim", "-3"], r"Got -3"),
    ("batch_larger_than_data", {"x.csv": GOOD}, ["fit", "{d}/x.csv", "--batch-size", "500"],
     r"batch_size.*500, larger than the \d+ training rows"),
    ("contamination_too_big", {"x.csv": GOOD}, ["detect", "{d}/x.csv", "--threshold", "quantile",
                                               "--contamination", "0.7"], r"contamination.*\(0, 0\.5\]"),
    ("contamination_zero", {"x.csv": GOOD}, ["detect", "{d}/x.csv", "--contamination", "0"],
     r"contamination"),
    ("unknown_threshold", {"x.csv": GOOD}, ["detect", "{d}/x.csv", "--threshold", "bogus"],
     r"invalid choice: 'bogus'"),
    ("output_dir_missing", {"x.csv": GOOD}, ["detect", "{d}/x.csv", "--out", "{d}/no/such/s.csv"],
     r"does not exist"),
    ("bad_output_extension", {"x.csv": GOOD}, ["detect", "{d}/x.csv", "--out", "{d}/s.xlsx"],
     r"unknown output format"),
]


def materialise(case_dir: Path, files: dict, model: Path) -> None:
    for name, content in files.items():
        path = case_dir / name
        if isinstance(content, np.ndarray):
            np.save(path, content)
        elif content == "object" and name.endswith(".npz"):
            np.savez(path, X=np.array([{"a": 1}, None], dtype=object))
        elif content == "noX" and name.endswith(".npz"):
            np.savez(path, data=np.zeros((3, 2)))
        elif name == "bad":
            corrupt_model(model, path, content)
            write(case_dir / "good.csv", GOOD)
        else:
            write(path, content)


@pytest.mark.parametrize("name, files, argv, pattern", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_bad_input_with_exit_2_and_no_output(name, files, argv, pattern, model_dir,
                                                         tmp_path, capsys):
    materialise(tmp_path, files, model_dir)
    before = set(tmp_path.rglob("*"))
    args = [a.format(d=tmp_path, m=model_dir) for a in argv]
    out_given = "--out" in args
    if not out_given and args[0] != "info":
        args += ["--out", str(tmp_path / ("out_model" if args[0] == "fit" else "out.csv"))]
    if args[0] in ("fit", "detect"):
        args += ["--epochs", "2", "-q"]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert re.search(pattern, err, re.S), err
    assert set(tmp_path.rglob("*")) == before, "output or temporary files were left behind"


def test_the_catalogue_has_at_least_30_cases():
    assert len(CLI_CASES) >= 30


# ------------------------------------------------------------------ the Python API


@pytest.mark.parametrize("X, exc, pattern", [
    (np.empty((0, 3)), DataError, "empty input"),
    (np.array([[1.0, np.nan], [2.0, 3.0]]), DataError, "NaN"),
    (np.array([[1.0, np.inf], [2.0, 3.0]]), DataError, "inf"),
    (np.array([[1.0, 1e308], [2.0, 3.0]]), DataError, "too large"),
    (np.array([["1", "x"], ["2", "3"]], dtype=object), DataError, "'x' is not a number"),
    (pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"]), DataError, "duplicated column names"),
    (np.ones((1, 3)), DataError, "1 row"),
    (np.ones(3), DataError, "Reshape your data"),
    (np.ones((4, 2)) + 1j, DataError, "Complex data not supported"),
])
def test_api_fit_refuses_bad_data(X, exc, pattern):
    with pytest.raises(exc, match=pattern):
        Autoencoder(max_epochs=1).fit(X)


@pytest.mark.parametrize("params, pattern", [
    ({"latent_dim": 0}, "latent_dim"),
    ({"latent_dim": -2}, "latent_dim"),
    ({"batch_size": 1000}, "batch_size"),
    ({"scaling": "zscore"}, "scaling"),
])
def test_api_refuses_bad_parameters(params, pattern):
    with pytest.raises(ParameterError, match=pattern):
        Autoencoder(max_epochs=1, **params).fit(np.random.default_rng(0).normal(size=(40, 3)))


@pytest.mark.parametrize("params", [{"contamination": 0.7}, {"contamination": -0.1},
                                    {"threshold": "bogus"}])
def test_api_detector_refuses_bad_parameters(params):
    with pytest.raises(ParameterError):
        AnomalyDetector(max_epochs=1, **params).fit(np.random.default_rng(0).normal(size=(40, 3)))


def test_api_load_refuses_damaged_models(model_dir, tmp_path):
    for how, pattern in [("tampered_weights", "checksum"), ("future_version", "Upgrade"),
                         ("wrong_types", "latent_dim"), ("missing_config", "estimator.json")]:
        with pytest.raises(ModelFileError, match=pattern):
            load(corrupt_model(model_dir, tmp_path / how, how))


def test_reordered_columns_at_score_time_are_matched_by_name(model_dir, tmp_path):
    df = pd.read_csv(pd.io.common.StringIO(GOOD))
    model = load(model_dir)
    np.testing.assert_array_equal(model.transform(df[["c", "a", "b"]]), model.transform(df))


def test_read_data_refuses_a_gz_that_is_not_gzip(tmp_path):
    path = write(tmp_path / "x.csv.gz", "a,b\n1,2\n")
    with pytest.raises(DataError, match="not gzip"):
        read_data(path)
    ok = tmp_path / "y.csv.gz"
    with gzip.open(ok, "wt") as fh:
        fh.write("a,b\n1,2\n3,4\n")
    assert read_data(ok).X.shape == (2, 2)
