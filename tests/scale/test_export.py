"""ONNX export: onnxruntime reproduces aekit's numbers on random inputs."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.cli.main import main
from aekit.estimators import VAE, AnomalyDetector, Autoencoder
from aekit.exceptions import ParameterError
from aekit.export import to_onnx

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    return rng.normal(loc=5.0, scale=[1, 2, 3, 4, 5, 6], size=(300, 6))


def _run(path, name, x):
    return ort.InferenceSession(str(path)).run(None, {name: x})[0]


@pytest.mark.parametrize("cls", [Autoencoder, VAE])
def test_onnx_graphs_equal_pytorch_on_random_inputs(tmp_path, X, cls):
    est = cls(3, hidden_dims=(16,), max_epochs=3, random_state=0).fit(X)
    x = np.random.default_rng(1).normal(5.0, 4.0, size=(257, 6)).astype(np.float32)
    for part in ("score", "encoder", "decoder"):
        to_onnx(est, tmp_path / f"{part}.onnx", part=part)
    np.testing.assert_allclose(_run(tmp_path / "score.onnx", "x", x),
                               est.reconstruction_error(x), rtol=1e-5, atol=1e-5)
    z = _run(tmp_path / "encoder.onnx", "x", x)
    np.testing.assert_allclose(z, est.transform(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_run(tmp_path / "decoder.onnx", "z", z),
                               est.inverse_transform(z), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scoring", ["combined", "reconstruction", "latent"])
def test_detector_score_graph_is_the_ensemble_anomaly_score(tmp_path, X, scoring):
    det = AnomalyDetector(n_estimators=3, max_epochs=3, scoring=scoring,
                          random_state=0).fit(X)
    det.save(tmp_path / "det")
    assert main(["export", str(tmp_path / "det"), "--out", str(tmp_path / "det.onnx")]) == 0
    assert not (tmp_path / "det.encoder.onnx").exists()  # an ensemble has no single encoder
    x = np.random.default_rng(2).normal(5.0, 6.0, size=(1000, 6)).astype(np.float32)
    np.testing.assert_allclose(_run(tmp_path / "det.onnx", "x", x), det.anomaly_score(x),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ParameterError, match="part='encoder' is for a single autoencoder"):
        to_onnx(det, tmp_path / "e.onnx", part="encoder")


def test_detector_score_graph_compresses_far_values_as_aekit_does(tmp_path, X):
    det = AnomalyDetector(n_estimators=2, max_epochs=3, random_state=0).fit(X)
    to_onnx(det, tmp_path / "det.onnx")
    x = np.random.default_rng(3).normal(5.0, 4.0, size=(200, 6)).astype(np.float32)
    x[::4, 2] *= 300  # far beyond the +/-20 bound of the robust scaling
    np.testing.assert_allclose(_run(tmp_path / "det.onnx", "x", x), det.anomaly_score(x),
                               rtol=1e-5, atol=1e-5)


def test_cli_export_writes_score_encoder_and_decoder(tmp_path, X, capsys):
    Autoencoder(2, hidden_dims=(8,), max_epochs=2, random_state=0).fit(X).save(tmp_path / "m")
    assert main(["export", str(tmp_path / "m"), "--out", str(tmp_path / "m.onnx")]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.onnx")) == [
        "m.decoder.onnx", "m.encoder.onnx", "m.onnx"]
    assert "wrote encoder graph" in capsys.readouterr().out


def test_numeric_columns_with_missing_cells_export_and_score_as_aekit_does(tmp_path, X):
    import pandas as pd

    frame = pd.DataFrame(X, columns=[f"c{j}" for j in range(6)])
    rng = np.random.default_rng(3)
    frame = frame.mask(rng.random(frame.shape) < 0.1)  # NaN in every column
    det = AnomalyDetector(n_estimators=2, max_epochs=3, random_state=0).fit(frame)
    ae = Autoencoder(3, hidden_dims=(16,), max_epochs=3, random_state=0).fit(frame)
    new = frame.sample(200, random_state=1)
    x = new.to_numpy(dtype=np.float32)
    assert np.isnan(x).any()
    to_onnx(det, tmp_path / "det.onnx")
    to_onnx(ae, tmp_path / "ae.onnx")
    to_onnx(ae, tmp_path / "enc.onnx", part="encoder")
    np.testing.assert_allclose(_run(tmp_path / "det.onnx", "x", x), det.anomaly_score(new),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_run(tmp_path / "ae.onnx", "x", x),
                               ae.reconstruction_error(new), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_run(tmp_path / "enc.onnx", "x", x), ae.transform(new),
                               rtol=1e-5, atol=1e-5)


def test_image_detector_score_graph_smooths_residuals_as_aekit_does(tmp_path):
    rng = np.random.default_rng(3)
    images = rng.random((120, 1, 12, 12)).astype(np.float32)
    det = AnomalyDetector(max_epochs=2, random_state=0).fit(images)
    assert det.scorer_.smoother is not None
    to_onnx(det, tmp_path / "det.onnx")
    x = rng.random((40, 144)).astype(np.float32)
    np.testing.assert_allclose(_run(tmp_path / "det.onnx", "x", x), det.anomaly_score(x),
                               rtol=1e-5, atol=1e-5)
