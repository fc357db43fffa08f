import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from aekit.anomaly.metrics import detection_metrics, format_metrics
from aekit.exceptions import DataError, ParameterError

# Four samples. By descending score: 0.8 (anomaly), 0.4 (normal), 0.35 (anomaly), 0.1 (normal).
Y = [0, 0, 1, 1]
SCORES = [0.1, 0.4, 0.35, 0.8]
FLAGS = [0, 0, 0, 1]  # a threshold between 0.4 and 0.8


def test_ranking_metrics_match_hand_computation_and_sklearn():
    m = detection_metrics(Y, SCORES)
    # ROC-AUC: of the 4 (anomaly, normal) pairs, only (0.35, 0.4) is ranked wrongly -> 3/4.
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(Y, SCORES))
    # AP: recall steps to 1/2 at precision 1/1, then to 2/2 at precision 2/3.
    assert m["average_precision"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert m["average_precision"] == pytest.approx(average_precision_score(Y, SCORES))


def test_threshold_metrics_match_hand_computation():
    m = detection_metrics(Y, SCORES, FLAGS)
    assert m["precision"] == 1.0  # the one flag is an anomaly
    assert m["recall"] == 0.5  # one of two anomalies flagged
    assert m["f1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert list(m) == [
        "roc_auc", "average_precision", "precision", "recall", "f1", "precision_at_n"
    ]  # fmt: skip


def test_without_flags_only_ranking_metrics_are_returned():
    assert list(detection_metrics(Y, SCORES)) == ["roc_auc", "average_precision", "precision_at_n"]


@pytest.mark.parametrize(
    "n, expected", [(None, 1 / 2), (1, 1.0), (2, 1 / 2), (3, 2 / 3), (4, 1 / 2)]
)
def test_precision_at_n_by_hand(n, expected):
    # Default n is the number of anomalies (2): top two are 0.8 (anomaly) and 0.4 (normal).
    assert detection_metrics(Y, SCORES, n=n)["precision_at_n"] == pytest.approx(expected)


def test_precision_at_n_breaks_ties_by_order():
    # Both 0.5s tie for the top place; the earlier sample (a normal) wins the one slot.
    assert detection_metrics([0, 1, 0], [0.5, 0.5, 0.1], n=1)["precision_at_n"] == 0.0
    assert detection_metrics([1, 0, 0], [0.5, 0.5, 0.1], n=1)["precision_at_n"] == 1.0


def test_flagging_nothing_scores_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = detection_metrics(Y, SCORES, [0, 0, 0, 0])
    assert (m["precision"], m["recall"], m["f1"]) == (0.0, 0.0, 0.0)


def test_accepts_bool_and_float_labels():
    m = detection_metrics(np.array(Y, dtype=bool), SCORES, np.array(FLAGS, dtype=float))
    assert m == detection_metrics(Y, SCORES, FLAGS)
    assert all(type(v) is float for v in m.values())


@pytest.mark.parametrize("y", [[0, 0, 0, 0], [1, 1, 1, 1]])
def test_single_class_labels_explain_why_both_are_needed(y):
    with pytest.raises(DataError, match=r"contains only class .* need both classes"):
        detection_metrics(y, SCORES)


@pytest.mark.parametrize(
    "y, scores, flags, match",
    [
        ([-1, 1, 1, -1], SCORES, None, r"scikit-learn outlier labels .*\(y_true == -1\)"),
        ([0, 2, 1, 0], SCORES, None, r"y_true must hold only 0 \(normal\) and 1 \(anomaly\)"),
        (["a", "b", "a", "b"], SCORES, None, r"y_true must hold 0 \(normal\) and 1"),
        ([0, np.nan, 1, 0], SCORES, None, r"y_true contains NaN"),
        ([[0, 1], [1, 0]], SCORES, None, r"y_true must be a 1-D array"),
        (Y, SCORES[:3], None, r"y_true has 4 samples but scores has 3"),
        (Y, [0.1, np.nan, 0.3, 0.4], None, r"non-finite"),
        (Y, SCORES, [0, 1, 1], r"y_true has 4 samples but flags has 3"),
        (Y, SCORES, [0, 0.5, 1, 1], r"flags must hold only 0"),
    ],
)
def test_bad_inputs_raise_data_error(y, scores, flags, match):
    with pytest.raises(DataError, match=rf"^detection_metrics: .*{match}"):
        detection_metrics(y, scores, flags)


@pytest.mark.parametrize("n", [0, 5, 1.5, True])
def test_bad_n_raises_parameter_error(n):
    with pytest.raises(
        ParameterError,
        match=rf"The 'n' parameter of detection_metrics must be an int in \[1, 4\].*Got {n!r}",
    ):
        detection_metrics(Y, SCORES, n=n)


def test_format_metrics_is_one_ordered_line():
    text = format_metrics(detection_metrics(Y, SCORES, FLAGS))
    assert text == (
        "ROC-AUC=0.750  AP=0.833  precision=1.000  recall=0.500  F1=0.667  precision@n=0.500"
    )
    assert "\n" not in text


def test_format_metrics_keeps_unknown_keys_and_ints():
    text = format_metrics({"n_samples": 4, "f1": 0.5, "note": "x"}, digits=1)
    assert text == "F1=0.5  n_samples=4  note=x"
