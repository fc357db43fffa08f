"""The CLI on image inputs: IDX, .npy and image folders in; .npy arrays and PNG grids out."""

import numpy as np
import pytest
from PIL import Image

from aekit.cli.main import main
from aekit.data.images import write_idx


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    X = np.zeros((48, 8, 8), dtype=np.uint8)
    for i in range(48):
        r, c = rng.integers(0, 6, size=2)
        X[i, r:r + 3, c:c + 3] = 255
    write_idx(d / "train-images-idx3-ubyte", X)
    np.save(d / "x.npy", X[:10])
    return d, X


@pytest.fixture(scope="module")
def vae_dir(data):
    d, _ = data
    assert main(["fit", str(d / "train-images-idx3-ubyte"), "--model", "vae", "--likelihood",
                 "bernoulli", "--latent-dim", "3", "--channels", "4,8", "--epochs", "1",
                 "--seed", "0", "--out", str(d / "vae"), "-q"]) == 0
    return d / "vae"


def png_size(path):
    with Image.open(path) as png:
        assert png.format == "PNG"
        return png.size


def test_fit_reconstruct_and_grid_end_to_end(data, vae_dir, capsys):
    d, X = data
    assert main(["reconstruct", str(vae_dir), str(d / "x.npy"), "--out", str(d / "r.npy"),
                 "--grid", str(d / "r.png")]) == 0
    assert np.load(d / "r.npy").shape == (10, 8, 8)
    assert png_size(d / "r.png") == (4 * (8 * 10 + 2), 4 * (2 * 10 + 2))
    assert main(["reconstruct", str(vae_dir), str(d / "x.npy"), "--out", str(d / "r.csv")]) == 0
    assert (d / "r.csv").read_text().splitlines()[0].startswith("x0,x1,")
    assert main(["embed", str(vae_dir), str(d / "x.npy"), "--out", str(d / "z.npy")]) == 0
    assert np.load(d / "z.npy").shape == (10, 3)
    assert main(["info", str(vae_dir)]) == 0
    assert "images of shape (8, 8)" in capsys.readouterr().out


def test_sample_and_interpolate_write_images_and_grids(data, vae_dir):
    d, _ = data
    assert main(["sample", str(vae_dir), "-n", "12", "--seed", "0", "--out", str(d / "s.npy"),
                 "--grid", str(d / "s.png")]) == 0
    assert np.load(d / "s.npy").shape == (12, 8, 8)
    assert png_size(d / "s.png") == (4 * (8 * 10 + 2), 4 * (2 * 10 + 2))
    assert main(["interpolate", str(vae_dir), str(d / "x.npy"), "--from", "0", "--to", "3",
                 "--steps", "4", "--out", str(d / "i.npy"), "--grid", str(d / "i.png")]) == 0
    assert np.load(d / "i.npy").shape == (4, 8, 8)
    assert png_size(d / "i.png") == (4 * (6 * 10 + 2), 4 * 12)


def test_an_image_folder_trains_a_conv_autoencoder(tmp_path):
    folder = tmp_path / "pngs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray((rng.random((6, 6, 3)) * 255).astype(np.uint8)).save(folder / f"{i}.png")
    assert main(["fit", str(folder), "--latent-dim", "2", "--channels", "4", "--epochs", "1",
                 "--out", str(tmp_path / "m"), "-q"]) == 0
    assert main(["reconstruct", str(tmp_path / "m"), str(folder), "--out",
                 str(tmp_path / "r.npy")]) == 0
    assert np.load(tmp_path / "r.npy").shape == (12, 3, 6, 6)


def test_a_channels_last_array_file_is_read_as_its_images_and_said_so(tmp_path, caplog):
    rng = np.random.default_rng(0)
    images = (rng.random((12, 6, 6, 3)) * 255).astype(np.uint8)  # (N, H, W, C), as Keras
    np.save(tmp_path / "hwc.npy", images)
    np.save(tmp_path / "chw.npy", images.transpose(0, 3, 1, 2))
    with caplog.at_level("WARNING"):
        assert main(["fit", str(tmp_path / "hwc.npy"), "--latent-dim", "2", "--channels", "4",
                     "--epochs", "1", "--seed", "0", "--out", str(tmp_path / "m"), "-q"]) == 0
    assert "read as channels-last (N, H, W, C)" in caplog.text
    for name in ("hwc", "chw"):  # the same images either way
        assert main(["reconstruct", str(tmp_path / "m"), str(tmp_path / f"{name}.npy"),
                     "--out", str(tmp_path / f"r_{name}.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "r_hwc.npy"), np.load(tmp_path / "r_chw.npy"))
    assert np.load(tmp_path / "r_hwc.npy").shape == (12, 3, 6, 6)


def test_bad_images_exit_2_with_a_clear_message(data, vae_dir, tmp_path, capsys):
    d, X = data
    np.save(tmp_path / "f.npy", X.astype(float))  # 0..255 floats
    assert main(["fit", str(tmp_path / "f.npy"), "--out", str(tmp_path / "m")]) == 2
    assert "float images must lie in [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()

    np.save(tmp_path / "big.npy", np.zeros((3, 9, 9), dtype=np.uint8))
    assert main(["reconstruct", str(vae_dir), str(tmp_path / "big.npy"), "--out",
                 str(tmp_path / "r.npy")]) == 2
    assert "fitted on images of shape (8, 8)" in capsys.readouterr().err
    assert not (tmp_path / "r.npy").exists()

    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(folder / "a.png")
    Image.fromarray(np.zeros((9, 8), dtype=np.uint8)).save(folder / "b.png")
    assert main(["fit", str(folder), "--out", str(tmp_path / "m")]) == 2
    assert "aekit: error:" in capsys.readouterr().err

    (folder / "b.png").write_bytes(b"not an image")
    assert main(["fit", str(folder), "--out", str(tmp_path / "m")]) == 2
    assert "b.png" in capsys.readouterr().err


def test_grid_on_a_table_model_exits_2(tmp_path, capsys):
    csv = tmp_path / "t.csv"
    csv.write_text("a,b,c\n" + "\n".join(f"{i},{i % 3},{i % 5}" for i in range(30)) + "\n")
    assert main(["fit", str(csv), "--model", "vae", "--epochs", "1", "--latent-dim", "2",
                 "--out", str(tmp_path / "m"), "-q"]) == 0
    assert main(["sample", str(tmp_path / "m"), "-n", "4", "--out", str(tmp_path / "s.csv"),
                 "--grid", str(tmp_path / "s.png")]) == 2
    assert "needs a model fitted on images" in capsys.readouterr().err


def test_scores_of_an_image_folder_name_each_file_first(tmp_path, capsys):
    import pandas as pd

    rng = np.random.default_rng(0)
    for folder, n, bright in (("good", 40, 60), ("bad", 4, 255)):
        (tmp_path / "test" / folder).mkdir(parents=True)
        for i in range(n):
            pixels = (rng.random((8, 8)) * bright).astype(np.uint8)
            pixels[2:6, 3:5] = 200
            Image.fromarray(pixels).save(tmp_path / "test" / folder / f"{i:02d}.png")
    assert main(["fit", str(tmp_path / "test" / "good"), "--detector", "--epochs", "3",
                 "--seed", "0", "--out", str(tmp_path / "det"), "-q"]) == 0
    assert main(["score", str(tmp_path / "det"), str(tmp_path / "test"), "--out",
                 str(tmp_path / "s.csv")]) == 0
    scores = pd.read_csv(tmp_path / "s.csv")
    assert scores.columns[0] == "file" and len(scores) == 44
    assert scores["file"].head(2).tolist() == ["bad/00.png", "bad/01.png"]
    assert scores.nlargest(4, "score")["file"].str.startswith("bad/").all()
    out = capsys.readouterr().out
    assert "row 1 (bad/00.png), score" in out and "pixel (" in out  # where in the image
    assert scores["top_features"].dropna().str.startswith("pixel (").all()
    assert main(["score", str(tmp_path / "det"), str(tmp_path / "test"), "--labels", "bad",
                 "--out", str(tmp_path / "l.csv")]) == 0  # the subfolder of anomalies
    assert "metrics: ROC-AUC=1.000" in capsys.readouterr().out
    assert main(["score", str(tmp_path / "det"), str(tmp_path / "test"), "--labels", "broken",
                 "--out", str(tmp_path / "l2.csv")]) == 2
    assert "subfolders are ['bad', 'good']" in capsys.readouterr().err
    assert main(["detect", str(tmp_path / "test"), "--epochs", "1", "--out",
                 str(tmp_path / "d.parquet"), "-q"]) == 0
    assert pd.read_parquet(tmp_path / "d.parquet")["file"].iloc[-1] == "good/39.png"
