"""AnomalyDetector: the tutorial's scene, sign conventions, determinism, persistence."""

import numpy as np
import pandas as pd
import pytest
import torch

import aekit
from aekit import AnomalyDetector
from aekit.exceptions import DataError, ParameterError


@pytest.fixture(scope="module")
def tutorial_scene():
    """The tutorial's anomaly scene: train on N(0, 1) in 10-d; anomalies are N(10, 5^2)."""
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(2000, 10))
    X_normal = rng.normal(size=(2000, 10))
    X_anomalous = rng.normal(10, 5, size=(100, 10))
    detector = AnomalyDetector(threshold="mean_std", random_state=0).fit(X_train)
    return detector, X_normal, X_anomalous


def test_mean_std_flags_every_tutorial_anomaly_with_under_one_percent_false_positives(tutorial_scene):
    detector, X_normal, X_anomalous = tutorial_scene
    assert detector.predict_labels(X_anomalous).all()
    assert detector.predict_labels(X_normal).mean() < 0.01


def test_sign_conventions_follow_scikit_learn(tutorial_scene):
    detector, X_normal, X_anomalous = tutorial_scene
    X = np.vstack([X_normal[:50], X_anomalous[:10]])
    score = detector.anomaly_score(X)
    np.testing.assert_array_equal(detector.score_samples(X), -score)
    np.testing.assert_allclose(detector.decision_function(X), -score + detector.threshold_)
    pred = detector.predict(X)
    assert set(np.unique(pred)) <= {-1, 1}
    np.testing.assert_array_equal(pred == -1, score > detector.threshold_)
    np.testing.assert_array_equal(detector.predict_labels(X), (pred == -1).astype(int))
    assert detector.offset_ == -detector.threshold_


def test_scores_are_identical_across_calls_and_after_save_and_load(tutorial_scene, tmp_path):
    detector, X_normal, _ = tutorial_scene
    first = detector.anomaly_score(X_normal)
    np.testing.assert_array_equal(first, detector.anomaly_score(X_normal))
    detector.save(tmp_path / "det")
    loaded = aekit.load(tmp_path / "det")
    assert isinstance(loaded, AnomalyDetector)
    np.testing.assert_array_equal(loaded.anomaly_score(X_normal), first)
    assert loaded.threshold_ == detector.threshold_
    np.testing.assert_array_equal(loaded.predict(X_normal), detector.predict(X_normal))


def test_same_seed_gives_bit_identical_scores():
    X = np.random.default_rng(1).normal(size=(300, 5))
    a = AnomalyDetector(n_estimators=2, max_epochs=5, random_state=3).fit(X).anomaly_score(X)
    b = AnomalyDetector(n_estimators=2, max_epochs=5, random_state=3).fit(X).anomaly_score(X)
    np.testing.assert_array_equal(a, b)


def test_feature_contributions_point_at_the_broken_feature():
    rng = np.random.default_rng(0)
    columns = [f"f{i}" for i in range(6)]
    z = rng.normal(size=(800, 2))
    X = pd.DataFrame(z @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(800, 6)), columns=columns)
    detector = AnomalyDetector(n_estimators=2, random_state=0).fit(X)
    broken = X.iloc[:5].copy()
    broken["f4"] += 8 * X["f4"].std()
    shares = detector.feature_contributions(broken)
    assert shares.shape == (5, 6)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    # An autoencoder partly "explains" a broken value through the features correlated with
    # it, so the blame is shared; the broken feature still carries the most of it.
    assert shares.mean(axis=0).argmax() == 4
    assert (shares.argmax(axis=1) == 4).mean() >= 0.8
    top = detector.top_features(broken, n=3)
    assert all(len(row) == 3 for row in top)
    assert sum(row[0][0] == "f4" for row in top) >= 4


@pytest.mark.parametrize("threshold", ["mean_std", "quantile", "mad", "pot"])
def test_every_threshold_can_be_chosen_by_name(threshold):
    X = np.random.default_rng(2).normal(size=(400, 4))
    det = AnomalyDetector(n_estimators=1, max_epochs=3, threshold=threshold, random_state=0).fit(X)
    assert np.isfinite(det.threshold_)
    assert det.threshold_obj_.to_dict()["name"] == threshold


def test_vae_detector_scores_deterministically_by_reconstruction_and_by_elbo():
    X = np.random.default_rng(3).normal(size=(300, 4))
    for scoring in ("reconstruction", "elbo"):
        det = AnomalyDetector(model="vae", scoring=scoring, n_estimators=1, max_epochs=3,
                              random_state=0).fit(X)
        np.testing.assert_array_equal(det.anomaly_score(X), det.anomaly_score(X))


@pytest.mark.parametrize("params, match", [
    ({"contamination": 0.7}, "contamination"),
    ({"contamination": 0.0}, "contamination"),
    ({"threshold": "bogus"}, "threshold"),
    ({"scoring": "elbo"}, "model='vae'"),
])
def test_bad_parameters_are_refused_with_the_parameter_named(params, match):
    with pytest.raises(ParameterError, match=match):
        AnomalyDetector(**params).fit(np.random.default_rng(0).normal(size=(50, 3)))


def _two_clusters(n, seed):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(-3, 0.3, size=(n // 2, 4)), rng.normal(3, 0.3, size=(n - n // 2, 4))])


def test_density_view_holds_two_thirds_of_the_weight_and_can_be_switched_off():
    X = _two_clusters(300, 0)  # 240 rows fit the members: four bags of 64 of them
    det = AnomalyDetector(n_estimators=2, max_epochs=3, random_state=0).fit(X)
    assert det.scorer_.reference.shape == (4 * 64, 4) and det.scorer_.n_bags == 4
    assert det.scorer_.n_neighbors == 3
    tiny = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(_two_clusters(60, 0))
    # 60 rows, too few to hold out calibration rows: one bag holds all of them
    assert tiny.scorer_.n_bags == 1 and len(tiny.scorer_.reference) == 60
    # density 2/3; reconstruction and latent 1/6 each, split over the 2 members
    np.testing.assert_allclose(det.scorer_.part_weights, [1 / 12] * 4 + [2 / 3])
    images = np.random.default_rng(0).random((120, 8, 8))
    # images score by reconstruction by default; asked for "combined", three equal views
    by_default = AnomalyDetector(n_estimators=2, max_epochs=1, random_state=0).fit(images)
    assert by_default.scorer_.views == ("reconstruction",)
    combined = AnomalyDetector(n_estimators=2, max_epochs=1, scoring="combined",
                               random_state=0).fit(images)
    np.testing.assert_allclose(combined.scorer_.part_weights, [1 / 6] * 4 + [1 / 3])
    off = AnomalyDetector(n_estimators=2, max_epochs=3, n_neighbors=None, random_state=0).fit(X)
    assert off.scorer_.reference is None
    np.testing.assert_allclose(off.scorer_.part_weights, [1 / 4] * 4)
    other = AnomalyDetector(n_estimators=2, max_epochs=3, scoring="reconstruction", random_state=0)
    assert other.fit(X).scorer_.reference is None  # the density view belongs to "combined"


def test_density_view_scores_rows_independently_of_the_batch_and_survives_save(tmp_path):
    X = _two_clusters(700, 1)
    det = AnomalyDetector(n_estimators=2, max_epochs=3, random_state=0).fit(X)
    Y = np.random.default_rng(2).normal(0, 3, size=(600, 4))
    full = det.anomaly_score(Y)
    for start, stop in [(0, 1), (5, 305), (299, 600), (17, 18)]:
        np.testing.assert_array_equal(det.anomaly_score(Y[start:stop]), full[start:stop])
    det.save(tmp_path / "det")
    loaded = aekit.load(tmp_path / "det")
    np.testing.assert_array_equal(loaded.scorer_.reference, det.scorer_.reference)
    np.testing.assert_array_equal(loaded.anomaly_score(Y), full)


def test_density_view_flags_a_row_between_clusters_that_the_members_reconstruct():
    # a row halfway between two clusters lies on their line (the 1-d latent space reaches
    # it) but far from every training row: the density part sees it
    X = _two_clusters(600, 3)
    det = AnomalyDetector(n_estimators=2, latent_dim=1, max_epochs=20, random_state=0).fit(X)
    between = np.zeros((1, 4))
    assert det.anomaly_score(between)[0] > np.quantile(det.anomaly_score(X), 0.99)


def test_in_sample_calibration_also_holds_the_density_reference():
    X = _two_clusters(40, 4)
    det = AnomalyDetector(n_estimators=1, max_epochs=2, calibration_fraction=0.0,
                          random_state=0).fit(X)
    assert len(det.scorer_.reference) == 40
    np.testing.assert_array_equal(det.calibration_scores_, det.anomaly_score(X))


def test_density_view_is_the_mean_over_bags_of_the_mean_distance_to_the_nearest_rows():
    from sklearn.neighbors import NearestNeighbors

    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(_two_clusters(400, 0))
    scorer = det.scorer_
    xs = det.scaled(_two_clusters(50, 1))
    bags = scorer.reference.reshape(scorer.n_bags, -1, 4)
    assert len({bag.tobytes() for bag in bags}) == scorer.n_bags  # different subsamples
    expected = np.mean([NearestNeighbors(n_neighbors=3).fit(bag).kneighbors(xs)[0].mean(axis=1)
                        for bag in bags], axis=0)
    np.testing.assert_allclose(scorer.parts(xs)[-1], expected, rtol=1e-9)
    # the density attribution still adds up to the density part
    np.testing.assert_allclose(scorer._density_terms(xs).sum(axis=1), expected, rtol=1e-9)


def test_the_k_nearest_are_picked_nearest_first_and_ties_by_the_first_index():
    from aekit.estimators._scorer import _k_smallest

    values = np.random.default_rng(0).integers(0, 5, size=(50, 4, 16)).astype(float)
    expected = np.argsort(values, axis=-1, kind="stable")[..., :3]
    np.testing.assert_array_equal(_k_smallest(values, 3), expected)
    before = values.copy()
    _k_smallest(values, 3)
    np.testing.assert_array_equal(values, before)  # the input is left as it was


def test_a_table_where_every_row_has_a_missing_cell_fits_and_explains_its_outlier():
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6))
    X[np.arange(500), rng.integers(0, 6, 500)] = np.nan  # no complete row at all
    X[7, 2] = 9.0
    X = pd.DataFrame(X, columns=list("abcdef"))
    det = AnomalyDetector(n_estimators=2, max_epochs=3, random_state=0).fit(X)
    scores = det.anomaly_score(X)
    assert np.isfinite(scores).all() and scores.argmax() == 7
    assert not np.isnan(det.scorer_.reference).any()  # missing cells at the centre
    assert det.top_features(X.iloc[[7]], n=1)[0][0][0] == "c"


def test_reference_rows_with_missing_cells_in_an_older_model_are_skipped_by_the_attribution_too():
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(_two_clusters(400, 0))
    scorer = det.scorer_
    scorer.reference[::3, 1] = np.nan  # as models saved before the reference was filled
    xs = det.scaled(_two_clusters(50, 1))
    terms = scorer._density_terms(xs)
    assert np.isfinite(terms).all()
    np.testing.assert_allclose(terms.sum(axis=1), scorer.parts(xs)[-1], rtol=1e-9)


def test_a_model_saved_before_bags_keeps_its_single_256_row_reference():
    from aekit.estimators._scorer import Scorer

    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(_two_clusters(400, 0))
    state = det.scorer_.state()
    del state["n_bags"]
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(256, 4))
    state["n_neighbors"] = 10
    old = Scorer.from_state(state, det.estimators_, {"reference": torch.from_numpy(reference)})
    xs = det.scaled(_two_clusters(20, 2))
    d = np.sqrt(((xs[:, None, :] - reference[None]) ** 2).sum(axis=2))
    np.testing.assert_allclose(old._density(xs), np.sort(d, axis=1)[:, :10].mean(axis=1),
                               rtol=1e-9)


def test_a_small_wide_table_keeps_its_latent_view_in_scale():
    # 111 rows, codes up to 32 wide: fewer calibration rows than twice the width; the
    # sample covariance would put every calibration row at one distance
    rng = np.random.default_rng(0)
    X = rng.normal(size=(111, 4)) @ rng.normal(size=(4, 60)) + 0.5 * rng.normal(size=(111, 60))
    table = pd.DataFrame(X, columns=[f"c{j}" for j in range(60)]).assign(
        kind=rng.choice(["a", "b"], 111))
    det = AnomalyDetector(random_state=0, max_epochs=5).fit(table)
    assert max(len(mean) for mean, _ in det.scorer_.latent_stats) == 32
    assert (det.predict(table) == -1).mean() < 0.3  # was 84%, scores in the hundreds
    assert np.median(det.anomaly_score(table)) < 1


def test_a_fit_on_a_handful_of_rows_warns_that_scores_and_flags_are_rough(caplog):
    rows = np.array([[1.0, 2.0], [3.0, 4.0], [4.0, 5.0]])
    with caplog.at_level("WARNING", logger="aekit"):
        AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(rows)
    assert "fit on 3 rows: too few" in caplog.text


def test_a_fit_on_fewer_rows_than_features_warns_that_new_rows_errors_are_rough(caplog):
    wide = np.random.default_rng(0).normal(size=(40, 60))
    with caplog.at_level("WARNING", logger="aekit"):
        AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(wide)
    assert "fit on 40 rows of 60 features each: fewer rows than features" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="aekit"):
        AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(wide[:, :30])
    assert "fewer rows than features" not in caplog.text


def test_a_streamed_fit_on_one_row_is_refused_before_training(tmp_path):
    pd.DataFrame({"a": [1.0], "b": [2.0]}).to_parquet(tmp_path / "one.parquet")
    with pytest.raises(DataError, match="got 1 row"):
        AnomalyDetector(n_estimators=1, max_epochs=2).fit(
            aekit.ParquetRows.open(tmp_path / "one.parquet"))


def test_values_far_beyond_the_bound_keep_their_order_and_old_models_their_scores(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    det = AnomalyDetector(n_estimators=2, max_epochs=3, random_state=0).fit(X)
    far = np.zeros((4, 5))
    far[:, 1] = [30.0, 100.0, 1_000.0, 10_000.0]  # all beyond 20 robust units
    scores = det.anomaly_score(far)
    assert (np.diff(scores) > 0).all()  # no tie at the bound
    assert det.top_features(far[-1:], n=1)[0][0][0] == "x1"
    det.save(tmp_path / "m")
    state = tmp_path / "m" / "estimator.json"
    text = state.read_text()
    assert '"clip_mode": "log"' in text
    # a model saved before the compression existed clips, as it did when it was saved
    state.write_text(text.replace('"clip_mode": "log",', ""))
    old = aekit.load(tmp_path / "m")
    assert old.input_spec_.clip_mode == "hard"
    tied = old.anomaly_score(far)
    assert np.ptp(tied) == 0  # every one at the bound
