"""``aekit sweep``, ``interpolate`` and ``sample`` end to end."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from aekit.cli.main import main


@pytest.fixture(scope="module")
def low_rank_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3)) @ rng.normal(size=(3, 8)) + 0.05 * rng.normal(size=(400, 8))
    path = tmp_path_factory.mktemp("d") / "low_rank.csv"
    pd.DataFrame(X, columns=[f"c{i}" for i in range(8)]).to_csv(path, index=False)
    return path


def test_sweep_writes_table_and_plot_and_stays_at_the_pca_bound(low_rank_csv, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", str(low_rank_csv), "--latent-dims", "1,3", "--epochs", "60",
                 "--out", str(out), "-q"]) == 0
    table = pd.read_csv(out / "sweep.csv")
    assert table["latent_dim"].tolist() == [1, 3]
    assert (table["ratio"] <= 1.02).all()
    with Image.open(out / "sweep.png") as png:
        assert png.format == "PNG" and png.size[0] > 200
    assert "ratio" in capsys.readouterr().out


def test_linear_sweep_reports_the_principal_angle(low_rank_csv, tmp_path, capsys):
    assert main(["sweep", str(low_rank_csv), "--latent-dims", "3", "--model", "linear",
                 "--epochs", "150", "-q"]) == 0
    assert "max_angle_deg" in capsys.readouterr().out


def test_interpolate_and_sample_end_to_end(low_rank_csv, tmp_path, capsys):
    model = tmp_path / "vae"
    assert main(["fit", str(low_rank_csv), "--model", "vae", "--latent-dim", "2", "--epochs", "5",
                 "--seed", "0", "--out", str(model), "-q"]) == 0
    path = tmp_path / "path.csv"
    assert main(["interpolate", str(model), str(low_rank_csv), "--from", "0", "--to", "5",
                 "--steps", "6", "--method", "slerp", "--out", str(path)]) == 0
    frame = pd.read_csv(path)
    assert frame.columns.tolist()[:4] == ["step", "t", "z0", "z1"] and len(frame) == 6
    assert frame.columns.tolist()[4:] == [f"c{i}" for i in range(8)]
    samples = tmp_path / "s.parquet"
    assert main(["sample", str(model), "-n", "7", "--seed", "1", "--out", str(samples)]) == 0
    assert pd.read_parquet(samples).shape == (7, 8)


def test_interpolate_row_out_of_range_and_sample_from_non_vae_exit_2(low_rank_csv, tmp_path, capsys):
    model = tmp_path / "ae"
    main(["fit", str(low_rank_csv), "--epochs", "2", "--out", str(model), "-q"])
    assert main(["interpolate", str(model), str(low_rank_csv), "--from", "0", "--to", "999",
                 "--out", str(tmp_path / "p.csv")]) == 2
    assert "out of range" in capsys.readouterr().err
    assert main(["sample", str(model), "--out", str(tmp_path / "s.csv")]) == 2
    assert "needs a VAE" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists() and not (tmp_path / "s.csv").exists()


@pytest.fixture(scope="module")
def penguins_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 300
    species = rng.choice(["Adelie", "Gentoo", "Chinstrap"], n)
    table = pd.DataFrame({
        "id": [f"P{i:04d}" for i in range(n)],
        "species": species,
        "bill_mm": np.round(rng.normal(44, 5, n) + (species == "Gentoo") * 3, 1),
        "female": rng.choice(["yes", "no"], n),
        "seen": pd.date_range("2024-01-01", periods=n, freq="13h").astype(str)})
    path = tmp_path_factory.mktemp("p") / "penguins.csv"
    table.to_csv(path, index=False)
    return path


def test_samples_and_walks_of_a_mixed_table_are_rows_of_its_own_columns(penguins_csv, tmp_path):
    model = tmp_path / "vae"
    assert main(["fit", str(penguins_csv), "--model", "vae", "--latent-dim", "2", "--epochs",
                 "5", "--seed", "0", "--out", str(model), "-q"]) == 0
    samples = tmp_path / "s.csv"
    assert main(["sample", str(model), "-n", "9", "--seed", "1", "--out", str(samples)]) == 0
    drawn = pd.read_csv(samples)
    assert drawn.columns.tolist() == ["species", "bill_mm", "female", "seen"]
    assert set(drawn["species"]) <= {"Adelie", "Gentoo", "Chinstrap"}
    assert set(drawn["female"]) <= {"yes", "no"} and drawn["bill_mm"].between(20, 70).all()
    assert drawn["seen"].str.match(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d+h$").all()  # Wed Sep 13h
    path = tmp_path / "walk.parquet"
    assert main(["interpolate", str(model), str(penguins_csv), "--from", "0", "--to", "5",
                 "--steps", "4", "--out", str(path)]) == 0
    walk = pd.read_parquet(path)
    assert walk.columns.tolist() == ["step", "t", "z0", "z1", "species", "bill_mm", "female",
                                     "seen"]
    assert set(walk["species"]) <= {"Adelie", "Gentoo", "Chinstrap"}
