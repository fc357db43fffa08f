"""AnomalyDetector: anomaly scores from the reconstruction error of small autoencoders.

Default recipe (chosen by the ADBench benchmark in BENCHMARKS.md, not per dataset):
robust scaling fitted once, an ensemble of small autoencoders with different seeds and
bottleneck widths, each stopped early on held-out loss (an autoencoder that trains too long
learns the anomalies in its training data too). Three views are scored and combined by
:class:`aekit.estimators._scorer.Scorer`: how far a row is off the learned manifold, where
it lies on it, and how sparse its neighbourhood is.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, OutlierMixin

from aekit.anomaly.thresholds import make_threshold, threshold_from_dict
from aekit.choices import DETECTOR_MODELS, SCALINGS, SCORINGS, THRESHOLDS
from aekit.data.columns import UNSEEN_TEXT
from aekit.data.schema import InputSpec, as_frame
from aekit.estimators._autoencoder import Autoencoder
from aekit.estimators._fitting import (
    MIN_ROWS_TO_HOLD_OUT,
    HoldOutRule,
    draw_seeds,
    prepare_training,
)
from aekit.estimators._inputs import FittedInputMixin
from aekit.estimators._params import (
    is_float,
    is_int,
    one_of,
    random_state_like,
    validate_params,
)
from aekit.estimators._scorer import Scorer, scoring_views
from aekit.estimators._vae import VAE
from aekit.exceptions import NotFittedError, ParameterError
from aekit.model_files import write_model
from aekit.nn.heads import CellLayout
from aekit.training.history import History

logger = logging.getLogger(__name__)

DEFAULT_MAD_K = 2.0  # the default rule's width (see the k parameter)


# Images: every member's bottleneck, chosen on half of the one-class MNIST digits and
# checked on the other half (BENCHMARKS.md section 13). Wider codes let the conv members
# memorise the few training images, and they never improve on their PCA start.
IMAGE_LATENT_DIM = 16


def member_latent_dims(n_features: int, n_estimators: int, images: bool = False) -> list[int]:
    """Bottleneck widths: for tables spread from ~n/8 to ~n/2 features (at least 1, at most
    32); for images ``IMAGE_LATENT_DIM`` for every member."""
    if images:
        return [min(IMAGE_LATENT_DIM, n_features)] * n_estimators
    fractions = np.linspace(0.125, 0.5, n_estimators) if n_estimators > 1 else np.array([0.25])
    return [int(np.clip(round(n_features * f), 1, 32)) for f in fractions]


def member_batch_size(n_rows: int) -> int:
    """Members' batch size for ``batch_size="auto"``: about n/8 rows, a power of two in
    [32, 512]. Larger than an Autoencoder's default: members start at PCA and need only
    refining (BENCHMARKS.md section 2).
    """
    return min(int(np.clip(2 ** round(np.log2(max(n_rows, 1) / 8)), 32, 512)), max(n_rows, 1))


class AnomalyDetector(FittedInputMixin, OutlierMixin, BaseEstimator):
    """Flag rows an autoencoder ensemble reconstructs badly.

    Follows scikit-learn's outlier-detector conventions: ``score_samples`` is lower for
    more abnormal rows, ``decision_function < 0`` and ``predict == -1`` mean outlier. For
    users coming from PyOD, ``anomaly_score`` (higher = more anomalous) and ``predict_labels``
    (0/1) are there too.

    Parameters
    ----------
    model : {"ae", "vae"}, default="ae"
    n_estimators : int, default=3
        Autoencoders in the ensemble, each with its own seed and bottleneck width. More
        members give slightly steadier scores at proportionally more fit time; 3 keeps
        fitting quick (BENCHMARKS.md section 2).
    latent_dim : int or "auto", default="auto"
        "auto": for tables, widths spread from about n_features/8 to n_features/2 across
        members (at most 32); for images, 16 for every member (on one-class MNIST wider
        codes stay at their PCA start and rank worse; BENCHMARKS.md section 13).
    hidden_dims : sequence of int or "auto", default="auto"
        "auto": one hidden layer of width clip(2 * n_features, 16, 64).
    threshold : {"mean_std", "quantile", "mad", "pot", "gap"}, default="mad"
        How ``threshold_`` is fitted to the calibration scores: mean + k*std, the
        (1 - contamination) quantile, median + k*1.4826*MAD (robust to anomalies in the
        training data), peaks-over-threshold extreme value theory at risk ``q``, or the
        gap above the scores' bulk found by a two-component mixture.
    contamination : float in (0, 0.5], default=0.1
        Used by the "quantile" threshold.
    k : float or None, default=None
        Width multiplier for "mean_std" (default 3) and "mad" (default 2: chosen by
        leave-datasets-out validation of the flags' F1 across the ADBench sets,
        BENCHMARKS.md section 9; raise it when anomalies are rare and every flag costs).
    q : float, default=1e-3
        Risk level for "pot".
    scoring : {"auto", "combined", "reconstruction", "latent", "elbo"}, default="auto"
        "auto": "combined" for tables, "reconstruction" for images (on one-class MNIST the
        latent and pixel-space density views lower the ranking, for both halves of the
        digits; BENCHMARKS.md section 12). "reconstruction": each member's RMSE (how far a row is off the learned manifold);
        "latent": the Mahalanobis distance of its code from the calibration codes (how
        unusual its position on the manifold is, Hotelling's T^2); "combined": both, each
        normalised, averaged, plus (unless ``n_neighbors=None``) a local-density part;
        "elbo" (VAE only): negative ELBO at the posterior mean. All deterministic.
    n_neighbors : int or None, default=3
        With ``scoring="combined"``: a third view next to reconstruction and latent
        distance. Four bags, each a random subsample of 64 training rows (the rows the
        members were fitted on, so never the calibration rows), are stored; the view is a
        row's mean distance (in the scaled input space) to its ``n_neighbors`` nearest rows
        of each bag, averaged over the bags. It catches anomalies in sparse regions that an
        autoencoder still reconstructs well. Small bags, as IsolationForest's subsamples,
        keep clustered anomalies from masking each other, and the average over bags
        steadies the view (BENCHMARKS.md section 14). With 64 training rows or fewer, one
        bag holds them all. On tables the view gets 2/3 of the score's weight and the two
        network views 1/6 each; on images the three views get equal weight (BENCHMARKS.md
        section 12). ``None``: reconstruction and latent distance only. Note that the
        reference rows are stored in the model (and in its ONNX export), as in any
        nearest-neighbour detector. Fitted on streamed Parquet rows (``ParquetRows``), the
        bags come from the uniform sample of training rows that the statistics pass keeps.
    calibration_fraction : float in [0, 0.5], default=0.2
        Share of the training rows held out from fitting the members: they choose the
        early-stopping epoch, normalise member scores and fit the threshold, so the
        threshold reflects errors on unseen rows (in-sample errors are optimistic and give
        too many false positives on new data). With fewer than 20 rows to hold out, or 0,
        everything is in-sample, as in IsolationForest.
    scaling : {"auto", "standard", "robust", "minmax", "none"}, default="auto"
        "auto": "none" for images, "robust" (median / IQR) for tables, so heavy-tailed
        columns and the anomalies themselves do not set the scale.
    clip : float or None, default=20.0
        Scaled values beyond +/- ``clip`` are compressed before any view sees them: the
        excess becomes ``log(1 + excess)``. So one wild value cannot swamp the networks,
        and a farther value still scores higher (extremes do not tie at the bound).
    max_epochs : int, default=20
        Most epochs each member trains; early stopping usually ends it sooner. Members
        start at PCA and only refine it, so few epochs suffice (BENCHMARKS.md section 2).
    batch_size : int or "auto", default="auto"
        "auto": about n/8 rows per batch, a power of two in [32, 512] (members start at PCA
        and only refine it, so large batches lose nothing and train faster).
    lr, patience, random_state, verbose, device :
        As in :class:`aekit.Autoencoder`, applied to each member.
    column_roles : dict or None, default=None
        As in :class:`aekit.Autoencoder`: roles of a DataFrame's columns by name.

    Images (N, H, W) or (N, C, H, W), uint8 or floats in [0, 1], work too: the members
    are convolutional autoencoders, scores are per image, and :meth:`error_map` shows
    which pixels are badly reconstructed. An image's reconstruction error is taken after
    smoothing its residual with a Gaussian one pixel wide at 28 x 28 (scaled with the
    image), so a stroke drawn a pixel off counts less than a stroke missing.

    Attributes
    ----------
    input_spec_ : aekit.data.schema.InputSpec
        The input contract: columns (or image shape), robust scaling and clipping.
    scorer_ : aekit.estimators._scorer.Scorer
        The fitted scoring state (members, calibration, latent statistics, reference rows).
    estimators_ : list of Autoencoder or VAE
        The members (``scorer_.members``).
    threshold_ : float
        Anomaly-score threshold; rows above it are outliers.
    offset_ : float
        ``-threshold_``, so ``decision_function = score_samples - offset_``.
    calibration_scores_ : ndarray
        Scores of the calibration rows the threshold was fitted on (not saved with the model).
    scaler_, n_features_in_, feature_names_in_, image_shape_
        Read from ``input_spec_``.
    """

    _constraints = {
        "model": (one_of(*DETECTOR_MODELS), f"one of {DETECTOR_MODELS}"),
        "n_estimators": (is_int(1, 100), "an int in [1, 100]"),
        "latent_dim": (lambda v: v == "auto" or is_int(1)(v), "'auto' or an int >= 1"),
        "hidden_dims": (lambda v: v == "auto" or (not isinstance(v, str) and all(is_int(1)(w) for w in v)),
                        "'auto' or a sequence of ints >= 1"),
        "threshold": (one_of(*THRESHOLDS), f"one of {THRESHOLDS}"),
        "contamination": (is_float(0, 0.5, lo_open=True), "a float in (0, 0.5]"),
        "k": (lambda v: v is None or is_float(0, lo_open=True)(v), "None or a float > 0"),
        "q": (is_float(0, 1, lo_open=True, hi_open=True), "a float in (0, 1)"),
        "scoring": (one_of(*SCORINGS), f"one of {SCORINGS}"),
        "n_neighbors": (lambda v: v is None or is_int(1)(v), "None or an int >= 1"),
        "clip": (lambda v: v is None or is_float(0, lo_open=True)(v), "None or a float > 0"),
        "calibration_fraction": (is_float(0, 0.5), "a float in [0, 0.5]"),
        "scaling": (one_of("auto", *SCALINGS), f"one of {('auto', *SCALINGS)}"),
        "max_epochs": (is_int(1), "an int >= 1"),
        "batch_size": (lambda v: v == "auto" or is_int(1)(v), "'auto' or an int >= 1"),
        "lr": (is_float(0, lo_open=True), "a float > 0"),
        "patience": (is_int(0), "an int >= 0"),
        "random_state": (random_state_like, "None, an int >= 0 or a RandomState"),
        "verbose": (lambda v: isinstance(v, (bool, int)), "an int (0 = silent)"),
        "device": (lambda v: isinstance(v, (str, torch.device)), "'auto', 'cpu' or 'cuda'"),
        "column_roles": (lambda v: v is None or isinstance(v, dict),
                         "None or a dict of column name -> role"),
    }

    def __init__(self, *, model="ae", n_estimators=3, latent_dim="auto", hidden_dims="auto",
                 threshold="mad", contamination=0.1, k=None, q=1e-3, scoring="auto",
                 n_neighbors=3, calibration_fraction=0.2, scaling="auto", clip=20.0,
                 max_epochs=20, batch_size="auto", lr=3e-3, patience=10, random_state=None,
                 verbose=0, device="auto", column_roles=None):
        self.model = model
        self.n_estimators = n_estimators
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.threshold = threshold
        self.contamination = contamination
        self.k = k
        self.q = q
        self.scoring = scoring
        self.n_neighbors = n_neighbors
        self.calibration_fraction = calibration_fraction
        self.scaling = scaling
        self.clip = clip
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.column_roles = column_roles

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    # ------------------------------------------------------------------ building blocks
    def _members(self, n_features: int, seeds: list[int], n_rows: int, images: bool) -> list:
        if self.latent_dim == "auto":
            latents = member_latent_dims(n_features, self.n_estimators, images)
        else:
            latents = [int(self.latent_dim)] * self.n_estimators
        hidden = (int(np.clip(2 * n_features, 16, 64)),) if self.hidden_dims == "auto" \
            else tuple(int(w) for w in self.hidden_dims)
        batch = member_batch_size(n_rows) if self.batch_size == "auto" else self.batch_size
        common = dict(hidden_dims=hidden, scaling="none", max_epochs=self.max_epochs,
                      batch_size=batch, lr=self.lr, patience=self.patience,
                      verbose=self.verbose, device=self.device)
        cls = VAE if self.model == "vae" else Autoencoder
        return [cls(latent, random_state=seed, **common)
                for latent, seed in zip(latents, seeds, strict=True)]

    def _make_threshold(self):
        params: dict[str, Any] = {}
        if self.threshold == "quantile":
            params["contamination"] = self.contamination
        elif self.threshold in ("mean_std", "mad") and self.k is not None:
            params["k"] = self.k
        elif self.threshold == "mad":
            params["k"] = DEFAULT_MAD_K
        elif self.threshold == "pot":
            params["q"] = self.q
        return make_threshold(self.threshold, **params)

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "scorer_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator.")

    def _scaling_for(self, spec: InputSpec) -> str:
        """``scaling="auto"``: none for images, robust (median / IQR) for tables."""
        if spec.is_images and self.scaling not in ("auto", "none", "minmax"):
            raise ParameterError(
                f"scaling={self.scaling!r} does not keep pixels in [0, 1]; for images use "
                "scaling='auto' (no scaling), 'none' or 'minmax'.")
        if self.scaling == "auto":
            return "none" if spec.is_images else "robust"
        return self.scaling

    # ------------------------------------------------------------------ the input contract
    @property
    def estimators_(self) -> list:
        """The fitted ensemble members (Autoencoder or VAE), fitted on scaled rows."""
        return self.scorer_.members

    def scaled(self, X: Any, source: str = "X") -> np.ndarray:
        """``X`` checked against the input contract and scaled as the members see it:
        float64 rows (n_samples, n_features), clipped to +/- ``clip``."""
        self._check_is_fitted()
        spec = self.input_spec_
        return spec.encode(spec.rows(X, source=source, estimator_name=type(self).__name__))

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None) -> AnomalyDetector:
        """Fit the ensemble on ``X`` (which may already contain anomalies) and the threshold.

        ``X``: a table, images, or :class:`aekit.ParquetRows` (streamed: the members train
        on the files, the calibration rows and a sample of the rest are kept in memory).
        ``y`` is ignored: training is unsupervised.
        """
        validate_params(self, self._constraints)
        if self.scoring == "elbo" and self.model != "vae":
            raise ParameterError("scoring='elbo' needs model='vae'. Got model='ae'.")
        threshold = self._make_threshold()
        started = time.perf_counter()
        seeds = draw_seeds(self.random_state, self.n_estimators)
        # Held-out calibration rows: the members never fit them (they only pick the
        # early-stopping epoch on them), so the threshold sees errors like those of new
        # data rather than optimistic in-sample ones.
        data = prepare_training(
            X, scaling=self._scaling_for, clip=self.clip, seed=seeds[0], dtype=np.float64,
            hold_out=HoldOutRule(float(self.calibration_fraction), "calibration"),
            estimator_name=type(self).__name__, progress=self.verbose > 0,
            column_roles=self.column_roles)
        self.input_spec_ = spec = data.spec
        if data.n_rows < MIN_ROWS_TO_HOLD_OUT:
            logger.warning("fit on %d rows: too few to learn what is typical or to set a "
                           "threshold (calibration is in-sample); scores and flags are rough. "
                           "Fit on at least %d rows.", data.n_rows, MIN_ROWS_TO_HOLD_OUT)
        elif data.n_rows <= spec.n_features:
            # the members can rebuild every training row, so what is typical is barely learnt
            logger.warning("fit on %d rows of %d features each: fewer rows than features, so "
                           "the members fit these rows closely and the errors of new ones are "
                           "rough. Fit on more rows than features (%s).", data.n_rows,
                           spec.n_features, "pixels" if spec.is_images else "encoded columns")
        n_member_rows = data.n_train
        if data.held_out is None:  # members hold out their own validation rows
            n_member_rows -= HoldOutRule(0.1).in_memory(data.n_train)
        members = self._members(spec.n_features, seeds, n_member_rows, spec.is_images)
        train, held = data.as_input(data.train), data.as_input(data.held_out)
        blocks = spec.categorical_blocks()  # members see encoded rows: name their heads
        layout = CellLayout(spec.n_features, blocks) if blocks else None
        for m in members:
            m.fit(train, X_val=held, allow_missing=data.missing, cell_layout=layout)
        scoring = self.scoring
        if scoring == "auto":
            scoring = "reconstruction" if spec.is_images else "combined"
        views = scoring_views(scoring, density=self.n_neighbors is not None)
        # rows with nothing to score (streamed rows with no value) calibrate nothing
        calibration, pool = (rows[~spec.empty_rows(rows)]
                             for rows in (data.calibration_rows, data.sample))
        self.scorer_, self.calibration_scores_ = Scorer.fit(
            members, views, calibration, reference_pool=pool,
            n_neighbors=self.n_neighbors, seed=seeds[0], image_shape=spec.image_shape)
        self.threshold_obj_ = threshold.fit(self.calibration_scores_)
        self.threshold_ = float(self.threshold_obj_.threshold_)
        self.offset_ = -self.threshold_
        self.n_train_samples_ = int(data.n_rows)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    # ------------------------------------------------------------------ scoring
    def anomaly_score(self, X: Any) -> np.ndarray:
        """Anomaly score per row, higher = more anomalous; deterministic. NaN for a row
        with no value in any feature column (nothing to score; it is never flagged)."""
        return self.encoded_scores(self.scaled(X))

    def encoded_scores(self, xs: np.ndarray, *, single_thread: bool = False) -> np.ndarray:
        """:meth:`anomaly_score` of encoded rows (``input_spec_.encode``): every way of
        scoring goes through here."""
        scores = self.scorer_.score(xs, single_thread=single_thread)
        scores[self.input_spec_.empty_rows(xs)] = np.nan
        return scores

    def reconstruction_error(self, X: Any) -> np.ndarray:
        """Mean over members of the per-row squared error (scaled space)."""
        xs = self.scaled(X)
        return np.mean(self.scorer_.member_mse(xs), axis=0)

    def score_samples(self, X: Any) -> np.ndarray:
        """``-anomaly_score``: lower is more abnormal (scikit-learn's sign)."""
        return -self.anomaly_score(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """Negative for outliers: ``score_samples(X) - offset_``."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """+1 for inliers, -1 for outliers (scikit-learn's convention)."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def predict_labels(self, X: Any) -> np.ndarray:
        """0 for inliers, 1 for outliers (PyOD's convention)."""
        return (self.decision_function(X) < 0).astype(np.int64)

    def feature_contributions(self, X: Any) -> np.ndarray:
        """Each input column's share of each row's anomaly score, shape (n_samples,
        n_input_columns), columns in the order of ``feature_names_in_``; rows sum to 1 (a
        categorical column's one-hot parts summed).

        Every view of the score is split over the columns: the reconstruction error by
        each column's share of it, the density distance by each column's share of the
        squared distance to the nearest reference rows, the latent distance by gradient x
        input (exact for the members' linear path). The views are then added with the
        score's own weights and normalisation, so the shares explain the whole score.
        """
        xs = self.scaled(X)
        return self.input_spec_.per_input_column(self.scorer_.attribution(xs))[1]

    def top_features(self, X: Any, n: int = 3) -> list[list[tuple[str, float]]]:
        """The ``n`` input columns contributing most to each row's score, with their shares."""
        shares = self.feature_contributions(X)
        names = self.input_spec_.feature_groups()[0]
        order = np.argsort(-shares, axis=1, kind="stable")[:, :n]
        return [[(names[j], float(shares[i, j])) for j in row] for i, row in enumerate(order)]

    def explain(self, X: Any, n: int = 5, n_features: int = 3, *,
                scores: np.ndarray | None = None) -> pd.DataFrame:
        """Why the ``n`` highest-scored rows of ``X`` score high: one line per (row, feature)
        with the row's rank, position (from 0) and score, each of its ``n_features`` top
        features (:meth:`feature_contributions`) with its share, the row's value and the
        feature's typical training value (the median for numbers, the most frequent
        value for categories) and, for a category or boolean, the value the members
        rebuild with that column left out, from the row's other cells ("" for other
        columns). ``scores``: ``X``'s
        anomaly scores, if computed already."""
        self._check_is_fitted()
        spec = self.input_spec_
        frame = as_frame(X)
        if scores is None:
            scores = self.encoded_scores(spec.encode(spec.rows(
                X, estimator_name=type(self).__name__)))
        scores = np.asarray(scores, dtype=np.float64)
        order = np.argsort(-scores, kind="stable")[:n]  # NaN (no value to score) last
        order = order[np.isfinite(scores[order])]
        # only the explained rows are read again (the caller may have scored them already)
        top = frame.iloc[order] if frame is not None else np.asarray(X)[order]
        rows = spec.rows(top, estimator_name=type(self).__name__)
        cells = frame.iloc[order] if frame is not None else None
        return self.explain_rows(rows, scores[order], order, n_features=n_features,
                                 cells=cells)

    def explain_rows(self, rows: np.ndarray, scores: np.ndarray, positions: np.ndarray, *,
                     n_features: int = 3, cells: pd.DataFrame | None = None) -> pd.DataFrame:
        """:meth:`explain` for validated rows (``input_spec_.rows``), their scores and
        positions, e.g. the top rows kept while a file streams by. ``cells``: the same
        rows as the input holds them (a frame with the feature columns), so dates and
        categories fit never saw are shown as written."""
        spec = self.input_spec_
        encoded = spec.encode(rows)
        shares = spec.per_input_column(self.scorer_.attribution(encoded))[1]
        names = spec.feature_groups()[0]
        typical = spec.typical_values()
        values = self._shown_values(rows, cells)
        expected = self._expected_values(encoded)
        lines = []
        for rank, i in enumerate(range(len(rows)), start=1):
            for j in np.argsort(-shares[i], kind="stable")[:n_features]:
                lines.append({"rank": rank, "row": int(positions[i]), "score": float(scores[i]),
                              "feature": names[j], "share": float(shares[i, j]),
                              "value": values[i, j], "typical": typical[j],
                              "expected": expected[i, j] if expected.shape[1] else ""})
        return pd.DataFrame(lines, columns=["rank", "row", "score", "feature", "share",
                                            "value", "typical", "expected"])

    def _shown_values(self, rows: np.ndarray, cells: pd.DataFrame | None) -> np.ndarray:
        """Each feature's value in ``rows`` as text (``InputSpec.display_values``); dates and
        categories fit never saw as ``cells`` write them, where given."""
        spec = self.input_spec_
        values = spec.display_values(rows)
        if cells is None or spec.columns is None or not values.size:
            return values
        names = spec.feature_groups()[0]
        cells = cells.set_axis([str(c) for c in cells.columns], axis=1)[names]
        given = cells.astype(str).where(cells.notna(), "missing").to_numpy(dtype=object)
        dates = np.array([c.role == "datetime" for c in spec.columns or ()
                          if c.is_feature] or [False] * values.shape[1])
        return np.where(np.isin(values, ["", UNSEEN_TEXT]) | dates[None, :], given, values)

    def _expected_values(self, encoded: np.ndarray) -> np.ndarray:
        """For each category and boolean of encoded rows, the value the members rebuild with
        that column left out (its cells missing): what the rest of the row leads them to
        expect, which says why a typical value can cost score. "" for other columns."""
        spec = self.input_spec_
        features = [c for c in spec.columns or () if c.is_feature]
        out = np.full((len(encoded), len(features)), "", dtype=object)
        start = 0
        for j, column in enumerate(features):
            width = len(column.encoded_names)
            if column.role in ("categorical", "boolean") and len(encoded):
                # the network's input for missing cells (members see the scaled rows as
                # they are): 0, the centre; a boolean of an older model sat at 0.5
                masked = np.nan_to_num(encoded, nan=0.0)
                masked[:, start:start + width] = 0.5 if column.gap_at_half else 0.0
                rebuilt = spec.decode(np.mean([m.reconstruct(masked) for m in self.estimators_],
                                              axis=0))
                out[:, j] = spec.expected_values(rebuilt)[:, j]
            start += width
        return out

    def latent_codes(self, X: Any) -> np.ndarray:
        """Latent codes of the ensemble's widest member, shape (n_samples, its latent_dim)."""
        xs = self.scaled(X)
        members = self.scorer_.members
        widest = max(range(len(members)), key=lambda k: int(members[k].latent_dim))
        return self.scorer_.codes(xs, widest)

    def error_map(self, X: Any) -> np.ndarray:
        """Squared reconstruction error of every pixel, averaged over the ensemble.

        Same shape as ``X`` for images, (n_samples, n_features) for tables; in the scaled
        space. Bright regions are where an image departs from what the models learned.
        For images it is the error the score adds up: of the residual smoothed by a small
        Gaussian (:mod:`aekit.nn.smoothing`).
        """
        rows = self.scorer_.view_error_map(self.scaled(X))
        return self.input_spec_.shaped_like(rows, X)

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Save to directory ``path`` (safetensors + JSON; atomic). Load with ``aekit.load``."""
        write_model(self, path)

    def _weights(self) -> dict[str, torch.Tensor]:
        weights = {f"member{i}.{k}": v for i, m in enumerate(self.estimators_)
                   for k, v in m.module_.state_dict().items()}
        weights.update({f"scorer.{k}": v for k, v in self.scorer_.tensors().items()})
        return weights

    def _history_dict(self) -> dict[str, Any]:
        return {"members": [m.history_.to_dict() for m in self.estimators_]}

    @property
    def history_(self) -> History:
        """The first member's training history (all members: ``estimators_[i].history_``)."""
        self._check_is_fitted()
        return self.estimators_[0].history_

    def _fitted_state(self) -> dict[str, Any]:
        return {
            "input": self.input_spec_.to_dict(),
            "members": [{"params": {k: (list(v) if isinstance(v, tuple) else v)
                                    for k, v in m.get_params().items()},
                         "fitted": m._fitted_state()} for m in self.estimators_],
            "scorer": self.scorer_.state(),
            "threshold": self.threshold_obj_.to_dict(),
            "fit_seconds_": float(self.fit_seconds_),
            "n_train_samples_": int(self.n_train_samples_),
        }

    def _restore_fitted_state(self, state: dict[str, Any], weights: dict[str, torch.Tensor],
                              history: dict[str, Any]) -> None:
        self.input_spec_ = InputSpec.from_dict(state["input"])
        cls = VAE if self.model == "vae" else Autoencoder
        histories = history.get("members", [])
        members = []
        for i, spec in enumerate(state["members"]):
            params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in spec["params"].items()}
            member = cls(**params)
            prefix = f"member{i}."
            member_weights = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
            member._restore_fitted_state(spec["fitted"], member_weights,
                                         histories[i] if i < len(histories) else {})
            members.append(member)
        tensors = {k[len("scorer."):]: v for k, v in weights.items() if k.startswith("scorer.")}
        self.scorer_ = Scorer.from_state(state["scorer"], members, tensors)
        self.threshold_obj_ = threshold_from_dict(state["threshold"])
        self.threshold_ = float(self.threshold_obj_.threshold_)
        self.offset_ = -self.threshold_
        self.fit_seconds_ = float(state["fit_seconds_"])
        self.n_train_samples_ = int(state["n_train_samples_"])
