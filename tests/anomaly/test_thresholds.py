import json
import logging
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from aekit.anomaly.thresholds import (
    MADThreshold,
    MeanStdThreshold,
    POTThreshold,
    QuantileThreshold,
    make_threshold,
    threshold_from_dict,
)
from aekit.exceptions import AekitError, DataError, NotFittedError, ParameterError

ALL_NAMES = ["mean_std", "quantile", "mad", "pot"]


# --- hand-computed thresholds --------------------------------------------------------------


def test_mean_std_is_mean_plus_k_population_std():
    # mean 5; squared deviations 9,1,1,1,0,0,4,16 sum to 32, 32 / 8 = 4, so the std is 2.
    scores = [2, 4, 4, 4, 5, 5, 7, 9]
    thr = MeanStdThreshold(k=3.0).fit(scores)
    assert thr.mean_ == 5.0
    assert thr.std_ == 2.0  # ddof=0; the sample std would be sqrt(32 / 7)
    assert thr.threshold_ == 11.0
    assert MeanStdThreshold(k=0.5).fit(scores).threshold_ == 6.0


def test_quantile_uses_linear_interpolation():
    # 0.75 quantile of 5 sorted values sits at position 0.75 * 4 = 3, i.e. exactly 30.
    assert QuantileThreshold(contamination=0.25).fit([40, 0, 30, 10, 20]).threshold_ == 30.0
    # 0.9 quantile of 1..10 sits at position 8.1: 9 + 0.1 * (10 - 9).
    thr = QuantileThreshold(contamination=0.1).fit(np.arange(1, 11))
    assert thr.threshold_ == pytest.approx(9.1, abs=1e-12)
    np.testing.assert_array_equal(thr.predict([9.1, 9.2, 10, 1]), [0, 1, 1, 0])


def test_mad_is_median_plus_k_scaled_mad():
    # median 2; |x - 2| = 1,1,0,0,2,4,7 with median 1.
    thr = MADThreshold(k=3.5).fit([1, 1, 2, 2, 4, 6, 9])
    assert (thr.median_, thr.mad_) == (2.0, 1.0)
    assert thr.scale_ == pytest.approx(1.4826)
    assert thr.threshold_ == pytest.approx(2 + 3.5 * 1.4826)


def test_mad_of_zero_falls_back_to_mean_absolute_deviation():
    # Most scores equal: MAD = median(0,0,0,0,2) = 0, mean |x - 5| = 2 / 5 = 0.4.
    thr = MADThreshold(k=3.5).fit([5, 5, 5, 5, 7])
    assert thr.mad_ == 0.0
    assert thr.scale_ == pytest.approx(math.sqrt(math.pi / 2) * 0.4)
    assert thr.threshold_ == pytest.approx(5 + 3.5 * math.sqrt(math.pi / 2) * 0.4)
    np.testing.assert_array_equal(thr.predict([5, 6, 6.7, 6.8]), [0, 0, 0, 1])  # cut at 6.75


@pytest.mark.parametrize("value", [3.0, 0.0, -2.5])
def test_mad_of_constant_scores_flags_only_real_increases(value):
    thr = MADThreshold().fit([value] * 4)
    assert thr.scale_ > 0
    assert thr.threshold_ > value
    np.testing.assert_array_equal(thr.predict([value, value, value + 0.01]), [0, 0, 1])


@pytest.mark.parametrize("name", ALL_NAMES)
def test_predict_flags_strictly_above_threshold_as_int(name):
    scores = np.random.default_rng(0).normal(size=1000)
    thr = make_threshold(name).fit(scores)
    flags = thr.predict(np.r_[scores, thr.threshold_])
    assert flags.dtype == np.int64
    np.testing.assert_array_equal(flags[:-1], (scores > thr.threshold_).astype(int))
    assert flags[-1] == 0  # equal to the threshold is not an anomaly


def test_quantile_flags_about_contamination_of_training_scores():
    scores = np.random.default_rng(0).normal(size=1000)
    flags = QuantileThreshold(contamination=0.05).fit(scores).predict(scores)
    assert flags.sum() == 50


# --- POT -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape",
    [pytest.param(0.1, id="genpareto-c0.1"), pytest.param(0.0, id="exponential")],
)
def test_pot_recovers_extreme_quantile_of_known_tail(shape):
    # The whole sample is GPD, so excesses over any threshold are GPD with the same shape;
    # POT must extrapolate from 2000 peaks (2%) to the 0.1% quantile.
    scores = stats.genpareto.rvs(shape, size=100_000, random_state=np.random.default_rng(42))
    true_quantile = stats.genpareto.isf(1e-3, shape)
    thr = POTThreshold(q=1e-3, init_quantile=0.98).fit(scores)
    assert thr.fit_method_ == "mle"
    assert thr.n_peaks_ == 2000
    assert thr.shape_ == pytest.approx(shape, abs=0.05)
    assert thr.threshold_ == pytest.approx(true_quantile, rel=0.05)


def test_pot_threshold_follows_spot_formula_from_fitted_tail():
    scores = np.random.default_rng(1).lognormal(size=20_000)
    thr = POTThreshold(q=1e-4, init_quantile=0.95).fit(scores)
    t, gamma, sigma = thr.init_threshold_, thr.shape_, thr.scale_
    assert t == pytest.approx(np.quantile(scores, 0.95))
    assert thr.n_peaks_ == np.sum(scores > t)
    r = 1e-4 * 20_000 / thr.n_peaks_
    assert thr.threshold_ == pytest.approx(t + sigma / gamma * (r**-gamma - 1))
    assert thr.threshold_ > t


def test_pot_mle_is_at_least_as_likely_as_scipy_fit():
    scores = stats.genpareto.rvs(0.3, size=50_000, random_state=np.random.default_rng(3))
    thr = POTThreshold().fit(scores)
    peaks = scores[scores > thr.init_threshold_] - thr.init_threshold_
    c, _, scale = stats.genpareto.fit(peaks, floc=0)
    ours = stats.genpareto.logpdf(peaks, thr.shape_, scale=thr.scale_).sum()
    theirs = stats.genpareto.logpdf(peaks, c, scale=scale).sum()
    assert ours >= theirs - 1e-6


def test_pot_with_too_few_peaks_uses_empirical_quantile_and_warns(caplog):
    scores = np.arange(100.0)  # 0.98 quantile leaves 2 peaks
    with caplog.at_level(logging.WARNING, logger="aekit.anomaly.thresholds"):
        thr = POTThreshold(q=1e-3).fit(scores)
    assert thr.fit_method_ == "empirical"
    assert (thr.n_peaks_, thr.shape_, thr.scale_) == (2, None, None)
    assert thr.threshold_ == pytest.approx(np.quantile(scores, 1 - 1e-3))
    assert "only 2 of 100 scores exceed the initial threshold" in caplog.text


def test_pot_on_constant_scores_flags_nothing_equal():
    thr = POTThreshold().fit(np.full(1000, 2.0))
    assert thr.threshold_ == 2.0
    np.testing.assert_array_equal(thr.predict([2.0, 2.5]), [0, 1])


# --- persistence ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_NAMES)
def test_to_dict_round_trips_through_json(name):
    scores = np.random.default_rng(0).gamma(2.0, size=5000).astype(np.float32)
    thr = make_threshold(name).fit(scores)
    d = thr.to_dict()
    assert d["name"] == name
    text = json.dumps(d, allow_nan=False)  # strict JSON: no NaN/inf, no NumPy scalars

    restored = threshold_from_dict(json.loads(text))
    assert type(restored) is type(thr)
    assert restored.threshold_ == thr.threshold_
    assert restored.to_dict() == d
    np.testing.assert_array_equal(restored.predict(scores), thr.predict(scores))


def test_to_dict_converts_numpy_parameters():
    thr = QuantileThreshold(contamination=np.float32(0.25)).fit([0, 10, 20, 30, 40])
    d = json.loads(json.dumps(thr.to_dict()))
    assert d["params"] == {"contamination": pytest.approx(0.25)}


def test_pot_fallback_round_trips_with_null_tail():
    thr = POTThreshold().fit(np.arange(50.0))
    restored = threshold_from_dict(json.loads(json.dumps(thr.to_dict())))
    assert (restored.shape_, restored.scale_, restored.fit_method_) == (None, None, "empirical")


@pytest.mark.parametrize(
    "change, match",
    [
        ({"name": "quantil"}, r"Unknown threshold 'quantil'\. Did you mean 'quantile'\?"),
        ({"threshold_": float("nan")}, r"'threshold_' entry .* must be a finite float\. Got nan"),
        ({"threshold_": "9.1"}, r"'threshold_' entry .* Got '9\.1' instead"),
        ({"n_samples_fit_": -1}, r"'n_samples_fit_' entry .* must be an int >= 0"),
        ({"params": {"contamination": 0.9}}, r"'contamination' parameter .* Got 0\.9"),
        ({"params": [0.1]}, r"'params' must be a dict"),
        ({"extra": 1}, r"unknown 'extra'"),
    ],
)
def test_threshold_from_dict_rejects_damaged_dicts(change, match):
    d = {**QuantileThreshold().fit(np.arange(10.0)).to_dict(), **change}
    with pytest.raises(ParameterError, match=match):
        threshold_from_dict(d)


def test_threshold_from_dict_names_missing_keys():
    d = MADThreshold().fit([1, 2, 3]).to_dict()
    del d["scale_"]
    with pytest.raises(ParameterError, match=r"missing 'scale_'"):
        threshold_from_dict(d)
    with pytest.raises(ParameterError, match="expects a dict"):
        threshold_from_dict("mad")


# --- registry and parameter validation -----------------------------------------------------


def test_make_threshold_builds_each_class():
    assert isinstance(make_threshold("mean_std", k=2), MeanStdThreshold)
    assert isinstance(make_threshold("quantile", contamination=0.05), QuantileThreshold)
    assert isinstance(make_threshold("mad"), MADThreshold)
    thr = make_threshold("pot", q=1e-4, init_quantile=0.99)
    assert isinstance(thr, POTThreshold)
    assert repr(thr) == "POTThreshold(q=0.0001, init_quantile=0.99)"


def test_make_threshold_unknown_name_lists_valid_names_and_suggests():
    with pytest.raises(ParameterError) as excinfo:
        make_threshold("madd")
    message = str(excinfo.value)
    assert "Unknown threshold 'madd'. Did you mean 'mad'?" in message
    assert "Valid names are: 'gap', 'mad', 'mean_std', 'pot', 'quantile'." in message
    with pytest.raises(ParameterError, match="Unknown threshold None"):
        make_threshold(None)


def test_make_threshold_unknown_parameter_suggests():
    with pytest.raises(ParameterError, match=r"'contamnation'.*Did you mean 'contamination'\?"):
        make_threshold("quantile", contamnation=0.1)


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: QuantileThreshold(contamination=0.7),
            r"The 'contamination' parameter of QuantileThreshold must be a float in "
            r"\(0, 0\.5\]\. Got 0\.7 instead\.",
        ),
        (lambda: QuantileThreshold(contamination=0), r"Got 0 instead"),
        (lambda: MeanStdThreshold(k=-1), r"'k' parameter of MeanStdThreshold .* >= 0\. Got -1"),
        (lambda: MADThreshold(k="3"), r"'k' parameter of MADThreshold .* Got '3' instead"),
        (lambda: MADThreshold(k=float("inf")), r"must be a finite float >= 0\. Got inf"),
        (lambda: POTThreshold(q=0), r"'q' parameter of POTThreshold must be a float in \(0, 1\)"),
        (lambda: POTThreshold(init_quantile=True), r"'init_quantile' .* Got True instead"),
        (
            lambda: POTThreshold(q=0.05, init_quantile=0.98),
            r"'q' parameter of POTThreshold must be smaller than 1 - init_quantile = 0\.02",
        ),
    ],
)
def test_bad_parameters_are_reported_at_fit(make, match):
    thr = make()  # __init__ only stores
    with pytest.raises(ParameterError, match=match):
        thr.fit(np.arange(100.0))


def test_all_bad_parameters_are_reported_at_once():
    with pytest.raises(ParameterError) as excinfo:
        make_threshold("pot", q=2, init_quantile=-1)
    assert "'q' parameter" in str(excinfo.value)
    assert "'init_quantile' parameter" in str(excinfo.value)


def test_errors_are_also_builtin_value_errors():
    assert issubclass(ParameterError, ValueError) and issubclass(ParameterError, AekitError)
    assert issubclass(DataError, ValueError)


# --- score validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "scores, match",
    [
        (np.zeros((5, 2)), r"1-D array of shape \(n_samples,\); got shape \(5, 2\)"),
        ([1.0, np.nan, 2.0], r"1 non-finite value\(s\) \(NaN or inf\), first at index 1"),
        ([1.0, 2.0, np.inf, -np.inf], r"2 non-finite value\(s\).*first at index 2 \(inf\)"),
        ([1.0], r"need at least 2 score\(s\); got 1"),
        ([], r"need at least 2 score\(s\); got 0"),
        (["a", "b"], r"must be real numbers; got an array of dtype <U1"),
        ([1 + 2j, 3j], r"must be real numbers"),
        ([[1.0], [2.0, 3.0]], r"could not be read as an array"),
        (np.array([1.0, "x"], dtype=object), r"object array that cannot be converted"),
    ],
)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_bad_scores_raise_data_error_at_fit(name, scores, match):
    cls_name = type(make_threshold(name)).__name__
    with pytest.raises(DataError, match=rf"^{cls_name}\.fit: .*{match}"):
        make_threshold(name).fit(scores)


def test_bad_scores_raise_data_error_at_predict():
    thr = QuantileThreshold().fit([1.0, 2.0, 3.0])
    assert thr.predict([5.0]).tolist() == [1]  # one score is enough to predict
    with pytest.raises(DataError, match=r"^QuantileThreshold\.predict: .*non-finite"):
        thr.predict([np.nan])


@pytest.mark.parametrize("method", ["predict", "to_dict"])
def test_unfitted_threshold_says_to_call_fit(method):
    args = ([1.0],) if method == "predict" else ()
    with pytest.raises(NotFittedError, match=rf"not fitted yet\. Call 'fit' .* '{method}'"):
        getattr(POTThreshold(), method)(*args)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    scores=arrays(
        np.float64,
        st.integers(2, 300),
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    ),
    name=st.sampled_from(ALL_NAMES),
)
def test_any_finite_scores_give_a_finite_json_safe_threshold(scores, name):
    thr = make_threshold(name).fit(scores)
    assert math.isfinite(thr.threshold_)
    np.testing.assert_array_equal(thr.predict(scores), scores > thr.threshold_)
    restored = threshold_from_dict(json.loads(json.dumps(thr.to_dict(), allow_nan=False)))
    assert restored.threshold_ == thr.threshold_


def test_every_threshold_name_the_cli_offers_builds_a_threshold():
    from aekit.choices import THRESHOLDS

    scores = np.random.default_rng(0).normal(size=500)
    for name in THRESHOLDS:
        assert make_threshold(name).fit(scores).to_dict()["name"] == name


def test_the_gap_rule_cuts_between_the_bulk_and_the_upper_mode_and_falls_back_without_one():
    from aekit.anomaly.thresholds import GapThreshold

    rng = np.random.default_rng(0)
    bulk, upper = rng.normal(0, 1, 900), rng.normal(8, 1, 100)
    thr = GapThreshold().fit(np.r_[bulk, upper])
    assert not thr.fallback_ and thr.upper_weight_ == pytest.approx(0.1, abs=0.01)
    # where the two fitted densities cross: 4 for equal spreads and these weights, +- noise
    assert 3.5 < thr.threshold_ < 4.6
    assert thr.predict(upper).mean() > 0.99 and thr.predict(bulk).mean() < 0.01
    plain = GapThreshold().fit(bulk)
    assert plain.fallback_ and plain.threshold_ == MADThreshold(k=3.5).fit(bulk).threshold_
    again = threshold_from_dict(thr.to_dict())
    assert again.threshold_ == thr.threshold_ and again.fallback_ is False
