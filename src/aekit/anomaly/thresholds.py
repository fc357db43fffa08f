"""Thresholds that turn anomaly scores into 0/1 flags.

An autoencoder gives every sample a score, usually its reconstruction error, where higher
means more anomalous. To make a decision we also need a cut-off. Each class in this module is
a small fitted object: ``fit`` learns ``threshold_`` from the scores of (mostly) normal
training data, and ``predict`` flags new scores strictly above it::

    thr = QuantileThreshold(contamination=0.05).fit(train_errors)   # train_errors: (n_samples,)
    flags = thr.predict(test_errors)                                # 1 = anomaly, 0 = normal

The four rules differ in what they assume about the scores:

====================  ==================================  ====================================
class                 ``threshold_``                      use when
====================  ==================================  ====================================
MeanStdThreshold      mean + k * std                      scores are roughly Gaussian
QuantileThreshold     (1 - contamination) quantile        you know the anomaly rate
MADThreshold          median + k * 1.4826 * MAD           training scores contain outliers
POTThreshold          extrapolated GPD tail (SPOT)        you want a tiny, controlled rate q
====================  ==================================  ====================================

``predict`` returns 0/1 flags, not scikit-learn's +1/-1 labels. That is because it works on raw
scores (higher = more anomalous) rather than on a ``decision_function``; the detector estimator
does the conversion to +1/-1.

A fitted threshold is saved as JSON with :meth:`~MeanStdThreshold.to_dict` and rebuilt with
:func:`threshold_from_dict`, with no pickle involved. :func:`make_threshold` builds one from a
name, as a CLI flag or a config file would.
"""

from __future__ import annotations

import difflib
import logging
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from aekit.exceptions import DataError, NotFittedError, ParameterError

__all__ = [
    "MADThreshold",
    "MeanStdThreshold",
    "POTThreshold",
    "QuantileThreshold",
    "GapThreshold",
    "ThresholdName",
    "make_threshold",
    "threshold_from_dict",
]

logger = logging.getLogger(__name__)

ThresholdName = Literal["mean_std", "quantile", "mad", "pot", "gap"]

# 1 / Phi^-1(3/4): multiplying the MAD by this gives the standard deviation for Gaussian data
# (the constant R's mad() uses).
_MAD_TO_STD = 1.4826
# sqrt(pi / 2): the same correction for the mean absolute deviation, used when the MAD is 0.
_MEAN_AD_TO_STD = math.sqrt(math.pi / 2)
# Scale used by MADThreshold when all training scores are equal, relative to |median|.
_CONSTANT_RELATIVE_SCALE = 1e-6
# POTThreshold needs at least this many peaks for a GPD fit to mean anything.
_MIN_PEAKS = 10
# The GPD shape is searched in this range. Below -0.5 the maximum-likelihood estimate is not
# regular (and below -1 the likelihood is unbounded). A shape of 1 already means an infinite
# mean; score tails heavier than 5 do not occur in practice.
_MIN_SHAPE = -0.5
_MAX_SHAPE = 5.0
_POT_FIT_METHODS = ("mle", "moments", "exponential", "empirical")

_T = TypeVar("_T", bound="_BaseThreshold")
# (check, description for the error message): the table that rule 3 of STYLE.md asks for.
_Constraint = tuple[Callable[[Any], bool], str]


# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------


def _is_finite_real(value: Any) -> bool:
    """True for finite int/float scalars, Python or NumPy. Bools are not numbers here."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and math.isfinite(value)
    )


def _check_scores(scores: ArrayLike, *, where: str, min_samples: int = 2) -> np.ndarray:
    """Return ``scores`` as a float64 array of shape (n_samples,), or raise DataError.

    ``where`` names the caller (e.g. ``"QuantileThreshold.fit"``) so that the message says
    where the bad input arrived.
    """
    try:
        arr = np.asarray(scores)
    except (TypeError, ValueError) as exc:  # ragged nested lists, for instance
        raise DataError(
            f"{where}: scores could not be read as an array ({exc}). "
            "Pass a 1-D array with one score per sample."
        ) from None
    if arr.dtype.kind in "USVMmc":
        raise DataError(
            f"{where}: scores must be real numbers; got an array of dtype {arr.dtype}. "
            "Pass the numeric anomaly scores, e.g. reconstruction errors."
        )
    try:
        arr = arr.astype(np.float64, copy=False)
    except (TypeError, ValueError):  # object arrays holding non-numbers
        raise DataError(
            f"{where}: scores must be real numbers; got an object array that cannot be "
            "converted to float. Pass the numeric anomaly scores, e.g. reconstruction errors."
        ) from None
    if arr.ndim != 1:
        raise DataError(
            f"{where}: scores must be a 1-D array of shape (n_samples,); got shape {arr.shape}. "
            "Reduce per-feature errors to one score per sample first, or flatten a column "
            "vector with np.ravel."
        )
    if arr.shape[0] < min_samples:
        raise DataError(
            f"{where}: need at least {min_samples} score(s); got {arr.shape[0]}. "
            "Pass the scores of more samples."
        )
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise DataError(
            f"{where}: scores contain {bad.size} non-finite value(s) (NaN or inf), first at "
            f"index {bad[0]} ({float(arr[bad[0]])}). Drop or fix those samples first."
        )
    return arr


def _suggest(name: str, valid: list[str]) -> str:
    """Return " Did you mean 'x'?" for the closest valid name, or "" when none is close."""
    close = difflib.get_close_matches(name, valid, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _quoted(names: list[str]) -> str:
    return ", ".join(repr(n) for n in sorted(names))


# ---------------------------------------------------------------------------------------------
# Base class
# ---------------------------------------------------------------------------------------------


class _BaseThreshold:
    """Shared ``fit``/``predict``/``to_dict`` machinery; subclasses implement ``_fit``.

    A subclass declares three tables:

    - ``_name``: its key in the registry (``make_threshold(_name)``);
    - ``_parameter_constraints``: constructor parameter -> (check, description);
    - ``_fitted_constraints``: fitted attributes besides ``threshold_`` and
      ``n_samples_fit_`` -> (check, description), so that ``to_dict`` knows what to save and
      ``threshold_from_dict`` what to expect.
    """

    _name: ClassVar[str]
    _parameter_constraints: ClassVar[dict[str, _Constraint]]
    _fitted_constraints: ClassVar[dict[str, _Constraint]] = {}

    # -- public API ---------------------------------------------------------------------------

    def fit(self: _T, scores: ArrayLike) -> _T:
        """Learn ``threshold_`` from training scores.

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
            Anomaly scores of the training samples, higher = more anomalous. At least 2
            finite values.

        Returns
        -------
        self
            The fitted threshold.
        """
        self._validate_params()
        scores = _check_scores(scores, where=f"{type(self).__name__}.fit")
        self._fit(scores)
        self.n_samples_fit_ = int(scores.shape[0])
        return self

    def predict(self, scores: ArrayLike) -> np.ndarray:
        """Flag scores strictly above ``threshold_``.

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
            Anomaly scores, higher = more anomalous.

        Returns
        -------
        flags : ndarray of shape (n_samples,), dtype int64
            1 where ``score > threshold_`` (anomaly), else 0. Strictly greater, so that a
            score equal to the threshold, such as a repeat of a constant training score,
            is not flagged.
        """
        self._check_is_fitted("predict")
        scores = _check_scores(scores, where=f"{type(self).__name__}.predict", min_samples=1)
        return (scores > self.threshold_).astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        """Describe the fitted threshold as a JSON-safe dict.

        Returns
        -------
        dict
            ``{"name": ..., "params": {...}, "threshold_": float, "n_samples_fit_": int,
            ...}`` plus the class's other fitted attributes. Values are plain Python
            ``float``/``int``/``str``/``None``, so ``json.dumps`` accepts the dict as it is.
            :func:`threshold_from_dict` turns it back into an equal fitted object.
        """
        self._check_is_fitted("to_dict")
        out: dict[str, Any] = {
            "name": self._name,
            "params": {p: _to_builtin(getattr(self, p)) for p in self._parameter_constraints},
            "threshold_": float(self.threshold_),
            "n_samples_fit_": int(self.n_samples_fit_),
        }
        for attr in self._fitted_constraints:
            out[attr] = _to_builtin(getattr(self, attr))
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self._parameter_constraints)
        return f"{type(self).__name__}({args})"

    # -- helpers ------------------------------------------------------------------------------

    def _fit(self, scores: np.ndarray) -> None:  # scores: (n_samples,), finite float64
        raise NotImplementedError

    def _validate_params(self) -> None:
        """Check every parameter against the table and report all problems in one error."""
        cls = type(self).__name__
        problems = [
            f"The {name!r} parameter of {cls} must be {description}. "
            f"Got {getattr(self, name)!r} instead."
            for name, (check, description) in self._parameter_constraints.items()
            if not check(getattr(self, name))
        ]
        if not problems:
            problems = self._cross_parameter_problems()
        if problems:
            raise ParameterError(" ".join(problems))

    def _cross_parameter_problems(self) -> list[str]:
        """Constraints between parameters; checked once each parameter is valid alone."""
        return []

    def _check_is_fitted(self, method: str) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                f"training scores before using '{method}'."
            )


def _to_builtin(value: Any) -> Any:
    """NumPy scalars -> Python scalars, so json.dumps accepts them (it rejects np.float32)."""
    return value.item() if isinstance(value, np.generic) else value


_NON_NEGATIVE: _Constraint = (lambda v: _is_finite_real(v) and v >= 0, "a finite float >= 0")
_OPEN_UNIT: _Constraint = (lambda v: _is_finite_real(v) and 0 < v < 1, "a float in (0, 1)")
_FINITE_FLOAT: _Constraint = (_is_finite_real, "a finite float")
_OPTIONAL_FLOAT: _Constraint = (
    lambda v: v is None or _is_finite_real(v),
    "a finite float or None",
)
_COUNT: _Constraint = (
    lambda v: isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) and v >= 0,
    "an int >= 0",
)


# ---------------------------------------------------------------------------------------------
# The four thresholds
# ---------------------------------------------------------------------------------------------


class MeanStdThreshold(_BaseThreshold):
    """Threshold at ``mean + k * std`` of the training scores.

    The classic "k sigma" rule. It assumes the scores are roughly Gaussian. Anomalies in the
    training scores inflate both the mean and the standard deviation; when the training data
    is contaminated, prefer :class:`MADThreshold`.

    Parameters
    ----------
    k : float, default=3.0
        Number of standard deviations above the mean. ``k=3`` flags about 0.13% of Gaussian
        scores.

    Attributes
    ----------
    threshold_ : float
        ``mean_ + k * std_``.
    mean_ : float
        Mean of the training scores.
    std_ : float
        Population standard deviation (``ddof=0``) of the training scores. We use the
        population version, like ``np.std``'s default, because the threshold describes these
        scores rather than estimating the spread of a wider population; with the sample
        sizes used for thresholds the two differ negligibly. When all scores are equal,
        ``std_`` is 0 and nothing equal to the mean is flagged, because ``predict`` uses
        ``>``.
    n_samples_fit_ : int
        Number of training scores.

    Examples
    --------
    >>> from aekit.anomaly.thresholds import MeanStdThreshold
    >>> MeanStdThreshold(k=3.0).fit([2, 4, 4, 4, 5, 5, 7, 9]).threshold_   # 5 + 3 * 2
    11.0
    """

    _name = "mean_std"
    _parameter_constraints = {"k": _NON_NEGATIVE}
    _fitted_constraints = {"mean_": _FINITE_FLOAT, "std_": _FINITE_FLOAT}

    def __init__(self, *, k: float = 3.0) -> None:
        self.k = k

    def _fit(self, scores: np.ndarray) -> None:
        self.mean_ = float(np.mean(scores))
        self.std_ = float(np.std(scores, ddof=0))
        self.threshold_ = self.mean_ + float(self.k) * self.std_


class QuantileThreshold(_BaseThreshold):
    """Threshold at the ``1 - contamination`` quantile of the training scores.

    Use it when you know, or are willing to assume, the share of anomalies. It makes no
    assumption about the shape of the score distribution, but it cannot flag a smaller share
    than about one training sample in ``n_samples``. For very small rates, use
    :class:`POTThreshold`.

    Parameters
    ----------
    contamination : float, default=0.1
        Expected share of anomalies, in (0, 0.5], as for scikit-learn's ``IsolationForest``.

    Attributes
    ----------
    threshold_ : float
        ``np.quantile(scores, 1 - contamination)`` with NumPy's default linear
        interpolation. Since ``predict`` flags scores strictly above it, at most
        ``contamination * n_samples`` of the training scores (rounded up) are flagged.
    n_samples_fit_ : int
        Number of training scores.

    Examples
    --------
    >>> from aekit.anomaly.thresholds import QuantileThreshold
    >>> QuantileThreshold(contamination=0.25).fit([0, 10, 20, 30, 40]).threshold_
    30.0
    """

    _name = "quantile"
    _parameter_constraints = {
        "contamination": (
            lambda v: _is_finite_real(v) and 0 < v <= 0.5,
            "a float in (0, 0.5]",
        )
    }

    def __init__(self, *, contamination: float = 0.1) -> None:
        self.contamination = contamination

    def _fit(self, scores: np.ndarray) -> None:
        self.threshold_ = float(np.quantile(scores, 1.0 - float(self.contamination)))


class MADThreshold(_BaseThreshold):
    """Threshold at ``median + k * 1.4826 * MAD``: a k-sigma rule that tolerates outliers.

    The median and the median absolute deviation (MAD) barely move when up to half of the
    training scores are anomalous, whereas the mean and std of :class:`MeanStdThreshold`
    are dragged up by them. Use this rule when the training data may contain anomalies.

    Parameters
    ----------
    k : float, default=3.5
        Number of (robust) standard deviations above the median. 3.5 is the cut-off that
        Iglewicz and Hoaglin recommend for modified z-scores.

    Attributes
    ----------
    threshold_ : float
        ``median_ + k * scale_``.
    median_ : float
        Median of the training scores.
    mad_ : float
        Raw median absolute deviation ``median(|scores - median_|)``.
    scale_ : float
        The robust standard deviation actually used:

        - normally ``1.4826 * mad_``. The factor ``1 / Phi^-1(3/4)`` makes it estimate
          the standard deviation for Gaussian scores, so ``k`` means the same as in
          :class:`MeanStdThreshold`;
        - if ``mad_`` is 0 (more than half of the scores are equal, e.g. many perfect
          reconstructions), ``sqrt(pi / 2) * mean(|scores - median_|)``. This is the
          mean-absolute-deviation estimate of sigma that Iglewicz and Hoaglin use in this
          case. It keeps the scores that differ from the majority from all being flagged;
        - if that is 0 as well (all scores are equal), a tiny positive scale of
          ``1e-6 * |median_|`` (the smallest positive float when the median is 0). The
          threshold then sits just above the constant value. Repeats of it, including
          float32 rounding noise, are not flagged, and any real increase is.
    n_samples_fit_ : int
        Number of training scores.

    Examples
    --------
    >>> from aekit.anomaly.thresholds import MADThreshold
    >>> thr = MADThreshold(k=3.5).fit([1, 1, 2, 2, 4, 6, 9])   # median 2, MAD 1
    >>> round(thr.threshold_, 4)                                # 2 + 3.5 * 1.4826
    7.1891
    """

    _name = "mad"
    _parameter_constraints = {"k": _NON_NEGATIVE}
    _fitted_constraints = {
        "median_": _FINITE_FLOAT,
        "mad_": _FINITE_FLOAT,
        "scale_": _FINITE_FLOAT,
    }

    def __init__(self, *, k: float = 3.5) -> None:
        self.k = k

    def _fit_value(self, scores: np.ndarray) -> float:
        """The threshold these scores give, without fitting ``self``."""
        other = MADThreshold(k=self.k)
        other._fit(scores)
        return float(other.threshold_)

    def _fit(self, scores: np.ndarray) -> None:
        median = float(np.median(scores))
        abs_dev = np.abs(scores - median)  # (n_samples,)
        mad = float(np.median(abs_dev))
        if mad > 0:
            scale = _MAD_TO_STD * mad
        else:
            scale = _MEAN_AD_TO_STD * float(np.mean(abs_dev))
            if scale == 0:
                scale = _CONSTANT_RELATIVE_SCALE * abs(median) or float(np.finfo(np.float64).tiny)
        self.median_ = median
        self.mad_ = mad
        self.scale_ = float(scale)
        self.threshold_ = median + float(self.k) * self.scale_


class POTThreshold(_BaseThreshold):
    """Peaks-over-threshold (SPOT) threshold for a target false-alarm rate ``q``.

    Fixes the threshold so that a normal score exceeds it with probability ``q``, even when
    ``q`` is far smaller than ``1 / n_samples`` and a plain quantile cannot reach it. Extreme
    value theory says that the excesses of almost any distribution over a high threshold
    follow a generalized Pareto distribution (GPD). SPOT (Siffer et al., "Anomaly Detection
    in Streams with Extreme Value Theory", KDD 2017) fits that tail and extrapolates:

    1. ``t = quantile(scores, init_quantile)``, the initial threshold;
    2. peaks ``Y = scores[scores > t] - t``, ``N_t = len(Y)``, ``n = len(scores)``;
    3. fit GPD shape ``gamma`` and scale ``sigma`` to ``Y`` by maximum likelihood;
    4. ``z_q = t + sigma / gamma * ((q * n / N_t) ** -gamma - 1)``, or
       ``t - sigma * log(q * n / N_t)`` when ``gamma`` is 0 (exponential tail).

    Step 3 maximises Grimshaw's (1993) profile likelihood over ``theta = gamma / sigma``,
    a one-dimensional search, with ``gamma`` limited to [-0.5, 5]. Below -0.5 the
    estimate is not regular, and heavier tails than 5 do not occur in practice. If that
    search fails, the method of moments is used, and if that fails too, an exponential tail
    (``gamma = 0``, ``sigma = mean(Y)``). ``fit_method_`` records which one was used.

    With fewer than 10 peaks a tail fit means nothing. The threshold is then the empirical
    ``1 - q`` quantile of the scores (in practice close to their maximum), ``shape_`` and
    ``scale_`` are None, and a warning is logged. Pass more scores (about
    ``10 / (1 - init_quantile)`` at least) or lower ``init_quantile``.

    Parameters
    ----------
    q : float, default=1e-3
        Target probability that a normal score exceeds the threshold, in (0, 1). It must be
        smaller than ``1 - init_quantile``, the tail probability at the initial threshold,
        because POT extrapolates beyond that threshold, not below it.
    init_quantile : float, default=0.98
        Quantile of the scores used as the initial threshold ``t``, in (0, 1). Higher values
        make the GPD approximation more accurate but leave fewer peaks to fit (about
        ``(1 - init_quantile) * n_samples``). Siffer et al. use 0.98.

    Attributes
    ----------
    threshold_ : float
        ``z_q`` above. It is never below ``init_threshold_``: if ties leave too few peaks
        (``q * n >= N_t``), ``init_threshold_`` itself is used.
    init_threshold_ : float
        The initial threshold ``t``.
    shape_ : float or None
        GPD shape ``gamma``: > 0 for heavy tails, 0 for exponential, < 0 for bounded ones.
        None when too few peaks were found.
    scale_ : float or None
        GPD scale ``sigma`` > 0, or None when too few peaks were found.
    n_peaks_ : int
        Number of peaks ``N_t``.
    fit_method_ : {"mle", "moments", "exponential", "empirical"}
        How the tail was estimated; "empirical" means too few peaks (see above).
    n_samples_fit_ : int
        Number of training scores ``n``.

    Examples
    --------
    >>> import math
    >>> import numpy as np
    >>> from aekit.anomaly.thresholds import POTThreshold
    >>> scores = np.random.default_rng(0).exponential(size=100_000)
    >>> thr = POTThreshold(q=1e-3).fit(scores)
    >>> abs(thr.threshold_ / math.log(1e3) - 1) < 0.05    # true quantile: log(1000)
    True
    """

    _name = "pot"
    _parameter_constraints = {"q": _OPEN_UNIT, "init_quantile": _OPEN_UNIT}
    _fitted_constraints = {
        "init_threshold_": _FINITE_FLOAT,
        "shape_": _OPTIONAL_FLOAT,
        "scale_": _OPTIONAL_FLOAT,
        "n_peaks_": _COUNT,
        "fit_method_": (lambda v: v in _POT_FIT_METHODS, f"one of {set(_POT_FIT_METHODS)}"),
    }

    def __init__(self, *, q: float = 1e-3, init_quantile: float = 0.98) -> None:
        self.q = q
        self.init_quantile = init_quantile

    def _cross_parameter_problems(self) -> list[str]:
        tail = 1.0 - float(self.init_quantile)
        if self.q < tail:
            return []
        return [
            f"The 'q' parameter of POTThreshold must be smaller than 1 - init_quantile = "
            f"{tail:.6g}, the tail probability at the initial threshold. Got q={self.q!r} "
            f"with init_quantile={self.init_quantile!r} instead. Lower q, or lower "
            f"init_quantile; for q >= {tail:.6g} a QuantileThreshold is enough."
        ]

    def _fit(self, scores: np.ndarray) -> None:
        n_samples = scores.shape[0]
        q = float(self.q)
        t = float(np.quantile(scores, float(self.init_quantile)))
        peaks = scores[scores > t] - t  # (n_peaks,), all > 0
        self.init_threshold_ = t
        self.n_peaks_ = int(peaks.shape[0])

        if self.n_peaks_ < _MIN_PEAKS:
            logger.warning(
                "POTThreshold: only %d of %d scores exceed the initial threshold (need %d to "
                "fit a tail); using the empirical %.6g quantile instead. Pass more scores or "
                "lower init_quantile.",
                self.n_peaks_, n_samples, _MIN_PEAKS, 1.0 - q,
            )  # fmt: skip
            self.shape_ = None
            self.scale_ = None
            self.fit_method_ = "empirical"
            self.threshold_ = float(np.quantile(scores, 1.0 - q))
            return

        shape, scale, method = _fit_gpd(peaks)
        self.shape_ = shape
        self.scale_ = scale
        self.fit_method_ = method
        self.threshold_ = _pot_quantile(
            t, shape, scale, q=q, n_samples=n_samples, n_peaks=self.n_peaks_
        )


# ---------------------------------------------------------------------------------------------
# Generalized Pareto tail (used by POTThreshold)
# ---------------------------------------------------------------------------------------------


def _pot_quantile(
    t: float, shape: float, scale: float, *, q: float, n_samples: int, n_peaks: int
) -> float:
    """SPOT's z_q: the score exceeded with probability ``q`` under the fitted tail."""
    # P(score > t) is estimated by n_peaks / n_samples, so the GPD must supply the remaining
    # factor r = q / P(score > t) of the exceedance probability.
    r = q * n_samples / n_peaks
    if r >= 1:  # heavy ties at t: the empirical tail is already thinner than q
        return t
    log_r = math.log(r)
    if abs(shape) < 1e-9:
        z = t - scale * log_r
    else:
        # (r**-shape - 1) / shape, written with expm1 to stay accurate for small shapes
        z = t + scale * math.expm1(-shape * log_r) / shape
    if not math.isfinite(z):
        raise ParameterError(
            f"The 'q' parameter of POTThreshold is too small for this tail: with the fitted "
            f"shape {shape:.3g}, the threshold for q={q!r} exceeds the float range. "
            "Use a larger q."
        )
    return float(z)


def _fit_gpd(peaks: np.ndarray) -> tuple[float, float, str]:
    """Fit a GPD to ``peaks`` (shape (n_peaks,), all > 0) -> (shape, scale, method)."""
    try:
        shape, scale = _gpd_mle(peaks)
        if math.isfinite(shape) and math.isfinite(scale) and scale > 0:
            return shape, scale, "mle"
        logger.debug("GPD maximum likelihood gave shape=%r, scale=%r", shape, scale)
    except (ValueError, ArithmeticError, RuntimeError) as exc:
        logger.debug("GPD maximum likelihood failed: %s", exc)

    moments = _gpd_moments(peaks)
    if moments is not None:
        logger.info("POTThreshold: GPD maximum likelihood failed; using the method of moments.")
        return moments[0], moments[1], "moments"
    logger.info("POTThreshold: GPD fit failed; assuming an exponential tail.")
    return 0.0, float(np.mean(peaks)), "exponential"


def _gpd_mle(y: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood GPD (shape, scale) for excesses ``y`` (shape (n_peaks,), all > 0).

    The GPD log-likelihood is ``-n log(sigma) - (1 + 1/gamma) sum log(1 + gamma y / sigma)``.
    Grimshaw (1993) notes that for fixed ``theta = gamma / sigma`` it is maximised by
    ``gamma(theta) = mean(log(1 + theta y))``. What remains is the profile
    ``-n (log(gamma / theta) + gamma + 1)``, a function of ``theta`` alone. We maximise it
    by a grid search (it can have several local maxima) refined by bounded Brent. The limit
    ``theta -> 0`` is the exponential distribution.
    """
    y_max = float(np.max(y))
    y_mean = float(np.mean(y))

    def shape_of(theta: float) -> float:
        return float(np.mean(np.log1p(theta * y)))

    def neg_profile(theta: float) -> float:  # negative profile log-likelihood / n
        if theta == 0.0:
            return math.log(y_mean) + 1.0
        shape = shape_of(theta)
        return math.log(shape / theta) + shape + 1.0

    # shape_of is increasing in theta, so the shape limits turn into a theta interval.
    theta_edge = -(1.0 - 1e-12) / y_max  # the support needs 1 + theta * y > 0
    if shape_of(theta_edge) < _MIN_SHAPE:
        theta_lo = optimize.brentq(lambda th: shape_of(th) - _MIN_SHAPE, theta_edge, 0.0)
    else:
        theta_lo = theta_edge
    theta_hi = 1.0 / y_mean
    while shape_of(theta_hi) < _MAX_SHAPE:
        theta_hi *= 4.0
    theta_hi = optimize.brentq(lambda th: shape_of(th) - _MAX_SHAPE, 0.0, theta_hi)

    # Linear steps on the bounded side, geometric on the heavy side (shape ~ log theta there).
    grid = np.concatenate(
        [
            np.linspace(theta_lo, 0.0, 60, endpoint=False),
            [0.0],
            np.geomspace(theta_hi * 1e-8, theta_hi, 100),
        ]
    )
    values = np.array([neg_profile(th) for th in grid])
    best = int(np.nanargmin(values))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    theta = float(grid[best])
    if hi > lo:
        res = optimize.minimize_scalar(neg_profile, bounds=(lo, hi), method="bounded")
        if res.success and res.fun <= values[best]:
            theta = float(res.x)

    if theta == 0.0:
        return 0.0, y_mean
    shape = shape_of(theta)
    return shape, shape / theta


def _gpd_moments(y: np.ndarray) -> tuple[float, float] | None:
    """Method-of-moments GPD (shape, scale), or None when it gives no valid scale.

    From mean ``m = sigma / (1 - gamma)`` and variance
    ``v = sigma**2 / ((1 - gamma)**2 (1 - 2 gamma))``. Only valid for ``gamma < 1/2``.
    """
    m = float(np.mean(y))
    v = float(np.var(y))
    if not (v > 0 and m > 0):
        return None
    shape = 0.5 * (1.0 - m * m / v)
    scale = 0.5 * m * (m * m / v + 1.0)
    if not (math.isfinite(shape) and math.isfinite(scale) and scale > 0):
        return None
    return shape, scale


class GapThreshold(_BaseThreshold):
    """Threshold where the training scores' upper mode takes over: a two-component mixture.

    Training data usually holds some anomalies. Their scores form an upper mode (or a long
    upper tail) beside the bulk of normal scores. A two-component Gaussian mixture fitted to the
    scores (EM, deterministic start: the bulk at the median, the upper component at the
    top ``1 - start_quantile`` of the scores) separates the two. ``threshold_`` is the lowest
    score above the bulk's mean where the upper component is the more likely one. No
    contamination has to be known. When the scores show no second mode (the upper
    component would hold more than half of them, or sit inside the bulk), the rule falls
    back to the MAD rule with ``k = fallback_k``.

    Parameters
    ----------
    start_quantile : float, default=0.9
        Where the upper component starts: the scores above this quantile.
    fallback_k : float, default=3.5
        ``k`` of the :class:`MADThreshold` used when there is no second mode.

    Attributes
    ----------
    threshold_ : float
    upper_weight_ : float
        Share of the training scores the upper component holds (0 with the fallback).
    fallback_ : bool
        Whether the MAD rule decided.
    n_samples_fit_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.anomaly.thresholds import GapThreshold
    >>> rng = np.random.default_rng(0)
    >>> scores = np.r_[rng.normal(0, 1, 900), rng.normal(8, 1, 100)]
    >>> thr = GapThreshold().fit(scores)
    >>> 3 < thr.threshold_ < 5, round(thr.upper_weight_, 2)
    (True, 0.1)
    """

    _name = "gap"
    _parameter_constraints = {"start_quantile": _OPEN_UNIT, "fallback_k": _NON_NEGATIVE}
    _fitted_constraints = {
        "upper_weight_": _FINITE_FLOAT,
        "fallback_": (lambda v: isinstance(v, bool), "a bool"),
    }

    def __init__(self, *, start_quantile: float = 0.9, fallback_k: float = 3.5) -> None:
        self.start_quantile = start_quantile
        self.fallback_k = fallback_k

    def _fit(self, scores: np.ndarray) -> None:
        fallback = MADThreshold(k=float(self.fallback_k))._fit_value(scores)
        mixture = _two_gaussians(scores, float(self.start_quantile))
        self.fallback_, self.upper_weight_ = True, 0.0
        self.threshold_ = fallback
        if mixture is None:
            return
        (w0, m0, s0), (w1, m1, s1) = mixture
        if not (w1 <= 0.5 and m1 > m0 + s0):
            return
        grid = np.linspace(m0, max(float(scores.max()), m1), 2049)
        log0 = np.log(w0) - np.log(s0) - 0.5 * ((grid - m0) / s0) ** 2
        log1 = np.log(w1) - np.log(s1) - 0.5 * ((grid - m1) / s1) ** 2
        above = np.flatnonzero(log1 >= log0)
        if above.size == 0:
            return
        self.threshold_ = float(grid[above[0]])
        self.fallback_, self.upper_weight_ = False, float(w1)


def _two_gaussians(scores: np.ndarray, start_quantile: float, iterations: int = 200):
    """EM for a 1-D mixture of two Gaussians from a fixed start; None if degenerate.
    Returns ((weight, mean, std) of the lower component, (...) of the upper one)."""
    cut = float(np.quantile(scores, start_quantile))
    upper = scores > cut
    if upper.sum() < 2 or (~upper).sum() < 2:
        return None
    floor = 1e-6 * (float(scores.std()) or 1.0)
    w = np.array([1 - upper.mean(), upper.mean()])
    m = np.array([scores[~upper].mean(), scores[upper].mean()])
    s = np.maximum([scores[~upper].std(), scores[upper].std()], floor)
    for _ in range(iterations):
        log = np.log(w)[None] - np.log(s)[None] - 0.5 * ((scores[:, None] - m) / s) ** 2
        log -= log.max(axis=1, keepdims=True)
        r = np.exp(log)
        r /= r.sum(axis=1, keepdims=True)
        n = r.sum(axis=0)
        if (n < 1e-9 * len(scores)).any():
            return None
        new_m = (r * scores[:, None]).sum(axis=0) / n
        s = np.maximum(np.sqrt((r * (scores[:, None] - new_m) ** 2).sum(axis=0) / n), floor)
        w = n / len(scores)
        done = np.allclose(new_m, m, rtol=0, atol=1e-9 * (abs(m).max() + 1))
        m = new_m
        if done:
            break
    lo, hi = np.argsort(m)
    return (float(w[lo]), float(m[lo]), float(s[lo])), (float(w[hi]), float(m[hi]), float(s[hi]))


# ---------------------------------------------------------------------------------------------
# Registry and JSON round trip
# ---------------------------------------------------------------------------------------------

_REGISTRY: dict[str, type[_BaseThreshold]] = {
    cls._name: cls for cls in (MeanStdThreshold, QuantileThreshold, MADThreshold, POTThreshold,
                               GapThreshold)
}


def _lookup(name: Any) -> type[_BaseThreshold]:
    valid = list(_REGISTRY)
    if not isinstance(name, str) or name not in _REGISTRY:
        hint = _suggest(name, valid) if isinstance(name, str) else ""
        raise ParameterError(
            f"Unknown threshold {name!r}.{hint} Valid names are: {_quoted(valid)}."
        )
    return _REGISTRY[name]


def make_threshold(name: ThresholdName, **params: Any) -> _BaseThreshold:
    """Build an unfitted threshold from its registry name, e.g. a CLI flag or config value.

    Parameters
    ----------
    name : {"mean_std", "quantile", "mad", "pot"}
        Which rule: :class:`MeanStdThreshold`, :class:`QuantileThreshold`,
        :class:`MADThreshold` or :class:`POTThreshold`.
    **params
        Constructor parameters of that class, e.g. ``contamination=0.05``.

    Returns
    -------
    threshold
        The unfitted threshold. Its parameters have been validated already, so a bad
        config fails here and not at the end of a long training run.

    Raises
    ------
    ParameterError
        For an unknown name or parameter (with a "did you mean" suggestion) or an invalid
        parameter value.

    Examples
    --------
    >>> from aekit.anomaly.thresholds import make_threshold
    >>> make_threshold("quantile", contamination=0.05)
    QuantileThreshold(contamination=0.05)
    """
    cls = _lookup(name)
    valid = list(cls._parameter_constraints)
    unknown = [p for p in params if p not in cls._parameter_constraints]
    if unknown:
        hints = "".join(_suggest(p, valid) for p in unknown)
        raise ParameterError(
            f"Unknown parameter(s) {_quoted(unknown)} for threshold {name!r} "
            f"({cls.__name__}).{hints} Valid parameters are: {_quoted(valid)}."
        )
    threshold = cls(**params)
    threshold._validate_params()
    return threshold


def threshold_from_dict(d: Mapping[str, Any]) -> _BaseThreshold:
    """Rebuild a fitted threshold from the output of its ``to_dict``.

    This is the safe inverse of ``to_dict``: JSON in, no pickle and no code execution. Every
    key is checked, so a file that was damaged or edited by hand fails with a clear message
    and does not give a threshold that is silently wrong.

    Parameters
    ----------
    d : mapping
        ``{"name": ..., "params": {...}, "threshold_": ..., "n_samples_fit_": ..., ...}`` as
        returned by ``to_dict`` (or read back with ``json.loads``).

    Returns
    -------
    threshold
        A fitted threshold, equal to the one that was saved: same parameters, same
        ``threshold_``, same fitted attributes.

    Raises
    ------
    ParameterError
        If ``d`` is not such a dict: wrong type, unknown name, missing or unknown keys, or
        values of the wrong type.
    """
    if not isinstance(d, Mapping):
        raise ParameterError(
            f"threshold_from_dict expects a dict as returned by to_dict(); "
            f"got {type(d).__name__}."
        )
    if "name" not in d:
        raise ParameterError(
            "threshold_from_dict: the dict has no 'name' key; expected one of "
            f"{_quoted(list(_REGISTRY))}, as written by to_dict()."
        )
    cls = _lookup(d["name"])
    expected = ["name", "params", "threshold_", "n_samples_fit_", *cls._fitted_constraints]
    missing = [k for k in expected if k not in d]
    unknown = [k for k in d if k not in expected]
    if missing or unknown:
        raise ParameterError(
            f"threshold_from_dict: a {cls.__name__} dict needs exactly the keys "
            f"{_quoted(expected)}; missing {_quoted(missing) or 'none'}, "
            f"unknown {_quoted(unknown) or 'none'}. Was it written by to_dict()?"
        )
    params = d["params"]
    if not isinstance(params, Mapping):
        raise ParameterError(
            f"threshold_from_dict: 'params' must be a dict of {cls.__name__} parameters; "
            f"got {type(params).__name__}."
        )
    threshold = make_threshold(d["name"], **params)

    fitted = {
        "threshold_": _FINITE_FLOAT,
        "n_samples_fit_": _COUNT,
        **cls._fitted_constraints,
    }
    problems = [
        f"The {attr!r} entry of a {cls.__name__} dict must be {description}. "
        f"Got {d[attr]!r} instead."
        for attr, (check, description) in fitted.items()
        if not check(d[attr])
    ]
    if problems:
        raise ParameterError("threshold_from_dict: " + " ".join(problems))
    for attr, constraint in fitted.items():
        value = d[attr]
        if constraint is _COUNT:
            value = int(value)
        elif value is not None and _is_finite_real(value):
            value = float(value)  # JSON may hand back 3 for 3.0; keep floats floats
        setattr(threshold, attr, value)
    return threshold
