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


def test_cli_export_writes_score_encoder_and_decoder(tmp_path, X, capsys):
    Autoencoder(2, hidden_dims=(8,), max_epochs=2, random_state=0).fit(X).save(tmp_path / "m")
    assert main(["export", str(tmp_path / "m"), "--out", str(tmp_path / "m.onnx")]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.onnx")) == [
        "m.decoder.onnx", "m.encoder.onnx", "m.onnx"]
    assert "wrote encoder graph" in capsys.readouterr().out
