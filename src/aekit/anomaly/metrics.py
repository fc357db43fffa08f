"""Detection quality when ground-truth anomaly labels exist.

Two questions need different metrics:

- *Does the score rank anomalies above normal samples?* ``roc_auc`` and
  ``average_precision`` (area under the precision-recall curve) answer this for every
  possible threshold at once. Average precision is the more telling of the two when anomalies
  are rare, because ROC-AUC rewards correctly ranking the many easy normals.
- *Is the chosen threshold any good?* ``precision``, ``recall`` and ``f1`` of the 0/1 flags a
  threshold produced (see :mod:`aekit.anomaly.thresholds`).

``precision_at_n`` lies between the two: the share of true anomalies among the ``n``
highest-scored samples, which is what an analyst who inspects the top ``n`` alerts sees.

Labels follow the anomaly-detection convention: 1 = anomaly (the positive class), 0 = normal.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from aekit.anomaly.thresholds import _check_scores
from aekit.exceptions import DataError, ParameterError

__all__ = ["detection_metrics", "format_metrics"]

# Display labels of format_metrics, in display order.
_LABELS = {
    "roc_auc": "ROC-AUC",
    "average_precision": "AP",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "precision_at_n": "precision@n",
}


def _check_binary(values: ArrayLike, *, name: str, where: str) -> np.ndarray:
    """Return 0/1 ``values`` as an int64 array of shape (n_samples,), or raise DataError."""
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: {name} could not be read as an array ({exc}).") from None
    if arr.ndim != 1:
        raise DataError(
            f"{where}: {name} must be a 1-D array of shape (n_samples,); got shape {arr.shape}."
        )
    if arr.dtype.kind == "b":
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        raise DataError(
            f"{where}: {name} must hold 0 (normal) and 1 (anomaly); got an array of dtype "
            f"{arr.dtype}. Encode the labels as 0/1 integers."
        )
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise DataError(f"{where}: {name} contains NaN; every sample needs a 0/1 label.")
    seen = np.unique(arr)
    extra = seen[(seen != 0) & (seen != 1)]
    if extra.size:
        shown = ", ".join(f"{v:g}" for v in seen[:6]) + (", ..." if seen.size > 6 else "")
        hint = (
            " These look like scikit-learn outlier labels (-1 = outlier, +1 = inlier); "
            f"convert them with ({name} == -1).astype(int)."
            if set(seen.tolist()) <= {-1, 1}
            else ""
        )
        raise DataError(
            f"{where}: {name} must hold only 0 (normal) and 1 (anomaly); got values "
            f"[{shown}].{hint}"
        )
    return arr.astype(np.int64)


def detection_metrics(
    y_true: ArrayLike,
    scores: ArrayLike,
    flags: ArrayLike | None = None,
    *,
    n: int | None = None,
) -> dict[str, float]:
    """Score an anomaly detector against known labels.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, 1 = anomaly, 0 = normal. Both classes must be present: with one class
        there is nothing to rank against, so ROC-AUC is undefined.
    scores : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous (e.g. reconstruction errors, or the negated
        ``score_samples`` of a scikit-learn-style detector).
    flags : array-like of shape (n_samples,), default=None
        0/1 predictions at a chosen threshold, e.g. from a threshold's ``predict``. When
        given, ``precision``, ``recall`` and ``f1`` are added.
    n : int, default=None
        How many top-scored samples ``precision_at_n`` looks at. Defaults to the number of
        true anomalies. Then a perfect ranking scores 1 and precision@n equals recall@n
        (R-precision).

    Returns
    -------
    dict of str to float
        In this order:

        - ``roc_auc``: probability that a random anomaly scores above a random normal sample;
          0.5 is chance level.
        - ``average_precision``: area under the precision-recall curve; chance level is the
          anomaly share.
        - ``precision``, ``recall``, ``f1``: only when ``flags`` is given. They are 0, not
          NaN, when no sample is flagged (``zero_division=0``), so that a threshold that
          flags nothing scores badly and does not break an average.
        - ``precision_at_n``: share of true anomalies among the ``n`` highest scores. Ties
          at the cut-off go to the sample that comes first, so the result does not depend
          on the sort algorithm.

    Raises
    ------
    DataError
        If the arrays differ in length, labels or flags are not 0/1, ``y_true`` lacks a class,
        or scores are not finite.
    ParameterError
        If ``n`` is not an int in [1, n_samples].

    Examples
    --------
    >>> from aekit.anomaly.metrics import detection_metrics
    >>> m = detection_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], flags=[0, 0, 0, 1])
    >>> m["roc_auc"], m["recall"], m["precision_at_n"]
    (0.75, 0.5, 0.5)
    """
    where = "detection_metrics"
    y = _check_binary(y_true, name="y_true", where=where)  # (n_samples,)
    s = _check_scores(scores, where=where, min_samples=2)  # (n_samples,)
    n_samples = y.shape[0]
    if s.shape[0] != n_samples:
        raise DataError(
            f"{where}: y_true has {n_samples} samples but scores has {s.shape[0]}; pass one "
            "score per labelled sample."
        )
    n_anomalies = int(y.sum())
    if n_anomalies in (0, n_samples):
        only = "1 (anomaly)" if n_anomalies else "0 (normal)"
        raise DataError(
            f"{where}: y_true contains only class {only}. ROC-AUC and average precision "
            "rank anomalies against normal samples, so they need both classes: include at "
            "least one sample labelled 0 and one labelled 1."
        )

    result = {
        "roc_auc": float(roc_auc_score(y, s)),
        "average_precision": float(average_precision_score(y, s)),
    }

    if flags is not None:
        f = _check_binary(flags, name="flags", where=where)
        if f.shape[0] != n_samples:
            raise DataError(
                f"{where}: y_true has {n_samples} samples but flags has {f.shape[0]}; pass "
                "one flag per labelled sample."
            )
        result["precision"] = float(precision_score(y, f, zero_division=0))
        result["recall"] = float(recall_score(y, f, zero_division=0))
        result["f1"] = float(f1_score(y, f, zero_division=0))

    n_top = n_anomalies if n is None else n
    if not (
        isinstance(n_top, numbers.Integral)
        and not isinstance(n_top, (bool, np.bool_))
        and 1 <= n_top <= n_samples
    ):
        raise ParameterError(
            f"The 'n' parameter of detection_metrics must be an int in [1, {n_samples}] "
            f"(the number of samples) or None. Got {n!r} instead."
        )
    top = np.argsort(-s, kind="stable")[: int(n_top)]  # (n,) indices of the highest scores
    result["precision_at_n"] = float(y[top].mean())
    return result


def format_metrics(metrics: Mapping[str, Any], *, digits: int = 3) -> str:
    """Summarise a metrics dict in one line, for logs and the CLI.

    Parameters
    ----------
    metrics : mapping of str to number
        Typically the output of :func:`detection_metrics`. Known keys are shown in a fixed
        order under short labels, so that lines from different runs line up. Other keys
        follow under their own names.
    digits : int, default=3
        Decimals shown for float values.

    Returns
    -------
    str
        For example ``"ROC-AUC=0.912  AP=0.754  precision=0.800  recall=0.667  F1=0.727
        precision@n=0.750"`` (one line).

    Examples
    --------
    >>> from aekit.anomaly.metrics import format_metrics
    >>> format_metrics({"roc_auc": 0.75, "average_precision": 0.8333333})
    'ROC-AUC=0.750  AP=0.833'
    """
    keys = [k for k in _LABELS if k in metrics] + [k for k in metrics if k not in _LABELS]
    parts = []
    for key in keys:
        value = metrics[key]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            text = str(value)
        elif isinstance(value, numbers.Integral):
            text = str(int(value))
        else:
            text = f"{float(value):.{digits}f}"
        parts.append(f"{_LABELS.get(key, key)}={text}")
    return "  ".join(parts)
