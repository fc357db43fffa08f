"""Anomaly detection on images: a score per image and a per-pixel error map."""

import numpy as np
import pytest

from aekit import AnomalyDetector, load
from aekit.exceptions import ParameterError
from aekit.nn.conv import ConvAutoencoder


def squares(n, seed, size=3):
    """Dark 8x8 images with one bright square: uint8 (n, 8, 8)."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 8, 8), dtype=np.uint8)
    for i in range(n):
        r, c = rng.integers(0, 8 - size + 1, size=2)
        X[i, r:r + size, c:c + size] = 255
    return X


@pytest.fixture(scope="module")
def detector():
    return AnomalyDetector(n_estimators=2, max_epochs=15, random_state=0).fit(squares(200, 0))


def test_images_are_scored_one_score_per_image_by_conv_members(detector):
    assert all(type(m.module_) is ConvAutoencoder for m in detector.estimators_)
    normal, odd = squares(20, 1), 255 - squares(20, 2)  # inverted images are anomalies
    scores = detector.anomaly_score(np.concatenate([normal, odd]))
    assert scores.shape == (40,)
    assert scores[20:].min() > np.median(scores[:20])


def test_error_map_has_the_images_shape_and_marks_the_odd_pixels(detector):
    X = squares(4, 3)
    X[:, 0, 0] = 255  # a bright corner pixel the models never saw
    maps = detector.error_map(X)
    assert maps.shape == X.shape
    assert (maps[:, 0, 0] > np.median(maps, axis=(1, 2))).all()
    assert detector.error_map(X[:, None]).shape == (4, 1, 8, 8)


def test_saved_image_detector_scores_identically(detector, tmp_path):
    detector.save(tmp_path / "d")
    loaded = load(tmp_path / "d")
    X = squares(10, 4)
    np.testing.assert_array_equal(loaded.anomaly_score(X), detector.anomaly_score(X))
    assert loaded.predict(X).shape == (10,)


def test_standard_scaling_of_images_is_refused_with_the_fix():
    with pytest.raises(ParameterError, match="for images use scaling='auto'"):
        AnomalyDetector(scaling="standard", n_estimators=1, max_epochs=1).fit(squares(30, 0))


def test_reconstruction_view_scores_the_smoothed_residual_and_error_map_adds_up_to_it(detector):
    from scipy.ndimage import gaussian_filter

    X = squares(6, 5)
    scorer, xs = detector.scorer_, detector.scaled(X)
    sigma = 8 / 28
    assert scorer.smoothing == pytest.approx(sigma)
    assert [m.latent_dim for m in detector.estimators_] == [16, 16]
    rmse = []
    for m in detector.estimators_:
        residual = (m.reconstruct(xs) - xs).reshape(6, 8, 8)
        smoothed = gaussian_filter(residual, sigma=(0, sigma, sigma), mode="constant", truncate=2.0)
        rmse.append(np.sqrt((smoothed ** 2).mean(axis=(1, 2))))
    np.testing.assert_allclose(scorer.parts(xs), np.array(rmse), rtol=1e-4)
    np.testing.assert_allclose(detector.error_map(X).mean(axis=(1, 2)),
                               np.mean(np.array(rmse) ** 2, axis=0), rtol=1e-4)


def test_a_model_saved_before_residual_smoothing_scores_as_it_did(detector):
    from aekit.estimators._scorer import Scorer

    state = detector.scorer_.state()
    del state["smoothing"]
    old = Scorer.from_state(state, detector.estimators_, detector.scorer_.tensors())
    assert old.smoother is None
    xs = detector.scaled(squares(3, 6))
    raw = np.sqrt(np.stack([((m.reconstruct(xs) - xs) ** 2).mean(axis=1)
                            for m in detector.estimators_]))
    np.testing.assert_allclose(old.parts(xs), raw, rtol=1e-4)
