"""Report sections for a fitted model and data, and :func:`model_report` that joins them.

Each ``*_section`` function computes what it shows from a fitted estimator, draws it with
:mod:`aekit.report.plots` and appends a :class:`~aekit.report.html.Section` to a report.
``aekit report`` and ``aekit demo`` are both built from them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aekit._version import __version__
from aekit.anomaly.attribution import feature_text
from aekit.exceptions import DataError
from aekit.report import plots
from aekit.report.html import (
    Report,
    figure_html,
    heading_html,
    mapping_table,
    table_html,
    text_html,
)

MAX_SCHEMA_ROWS = 40  # input-schema rows shown; wider data gets a note
MAX_MAP_POINTS = 5000  # latent-map points; more only blur the picture and slow the page


def _new_axes(ncols: int = 1, *, width: float = 6.0, height: float = 4.0):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, (list(np.atleast_1d(axes)) if ncols > 1 else axes)


def is_detector(model: Any) -> bool:
    return hasattr(model, "estimators_") and hasattr(model, "threshold_")


def feature_names(model: Any) -> list[str]:
    return model.input_spec_.column_names()


def model_scores(model: Any, X: Any) -> tuple[np.ndarray, float | None, str]:
    """Per-row scores (higher = worse), the threshold if the model has one, and their name."""
    if is_detector(model):
        return model.anomaly_score(X), float(model.threshold_), "anomaly score"
    return model.reconstruction_error(X), None, "reconstruction error (MSE, scaled units)"


def model_latent(model: Any, X: Any) -> np.ndarray:
    """Latent codes; for a detector, those of its widest member."""
    if is_detector(model):
        return model.latent_codes(X)
    return model.transform(X)


def error_shares(model: Any, X: Any) -> np.ndarray:
    """Each feature's share of each row's squared error (scaled space), rows sum to 1."""
    return model.feature_contributions(X)


def binary_labels(y: Any) -> np.ndarray | None:
    """``y`` as 0/1 ints when it holds exactly the values 0 and 1, else None."""
    if y is None:
        return None
    try:
        values = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        return None
    if values.ndim != 1 or not np.isin(values, (0, 1)).all() or len(np.unique(values)) != 2:
        return None
    return values.astype(np.int64)


def histories(model: Any) -> list:
    if is_detector(model):
        return [m.history_ for m in model.estimators_]
    return [model.history_] if hasattr(model, "history_") else []


# --------------------------------------------------------------------------- sections
def model_card_section(report: Report, model: Any, X: Any = None, *, source: str = "",
                       title: str = "Model card") -> None:
    """Class, parameters, input schema, training time and data sizes."""
    hs = histories(model)
    facts: dict[str, Any] = {"class": type(model).__name__, "aekit version": __version__}
    if source:
        facts["data"] = source
    facts["training rows"] = getattr(model, "n_train_samples_", "unknown")
    if X is not None:
        facts["rows in this report"] = len(X)
    facts["input features"] = int(model.n_features_in_)
    fit_seconds = getattr(model, "fit_seconds_", None)
    facts["training time"] = f"{fit_seconds:.1f} s" if fit_seconds is not None else "unknown"
    if hs:
        facts["epochs trained"] = ", ".join(str(h.n_epochs) for h in hs)
        facts["epoch kept (best validation loss)"] = ", ".join(
            str(h.best_epoch + 1) if h.best_epoch >= 0 else "initial weights" for h in hs)
    if is_detector(model):
        facts["ensemble latent sizes"] = ", ".join(str(m.latent_dim) for m in model.estimators_)
        facts["threshold"] = f"{model.threshold} = {model.threshold_:.4g}"
    if hasattr(model, "active_units_"):
        facts["active latent dims (KL > 0.01 nats)"] = f"{model.active_units_}/{model.latent_dim}"
    params = {k: v for k, v in sorted(model.get_params().items())}
    parts = ['<div class="cols"><div>', heading_html("Summary"), mapping_table(facts),
             "</div><div>", heading_html("Parameters"), mapping_table(params), "</div><div>",
             heading_html("Input schema")]
    names = feature_names(model)
    spec = model.input_spec_
    if spec.columns is not None:  # a table by roles: its input columns, not encoded parts
        values = spec.rows(X, source=source or "data", estimator_name=type(model).__name__) \
            if X is not None else None
        rows, start = [], 0
        for column in spec.columns[:MAX_SCHEMA_ROWS]:
            cells = [column.name, column.describe(), "", "", ""]
            if column.is_feature and values is not None and column.scaled:
                seen = values[:, start][~np.isnan(values[:, start])]  # observed cells only
                if len(seen):
                    cells[2:] = [float(seen.min()), float(seen.mean()), float(seen.max())]
            start += len(column.encoded_names) if column.is_feature else 0
            rows.append(tuple(cells))
        parts.append(table_html(rows, ("column", "read as", "min", "mean", "max")))
        names = spec.columns
    elif X is not None:
        values = spec.rows(X, source=source or "data", estimator_name=type(model).__name__)
        rows = [(i, name, float(np.nanmin(values[:, i])), float(np.nanmean(values[:, i])),
                 float(np.nanmax(values[:, i]))) for i, name in enumerate(names[:MAX_SCHEMA_ROWS])]
        parts.append(table_html(rows, ("#", "feature", "min", "mean", "max")))
    else:
        parts.append(table_html([(i, n) for i, n in enumerate(names[:MAX_SCHEMA_ROWS])],
                                ("#", "feature")))
    if len(names) > MAX_SCHEMA_ROWS:
        parts.append(text_html(f"... and {len(names) - MAX_SCHEMA_ROWS} more features.",
                               cls="note"))
    parts.append("</div></div>")
    report.add(title, *parts)


def loss_section(report: Report, model: Any, *, title: str = "Training") -> None:
    hs = histories(model)
    if not hs or not any(h.n_epochs for h in hs):
        report.add(title, text_html("No training history was saved with this model.",
                                    cls="note"))
        return
    fig, ax = _new_axes()
    plots.plot_loss(hs if len(hs) > 1 else hs[0], ax, title="Training and validation loss")
    note = ("Solid: training loss; dashed: validation loss (early stopping watches it); "
            "dots: the epoch whose weights were kept.")
    if len(hs) > 1:
        note += f" One colour per ensemble member ({len(hs)})."
    report.add(title, figure_html(fig, alt="training and validation loss", caption=note))


def scores_section(report: Report, scores: np.ndarray, *, threshold: float | None,
                   name: str, labels: Any = None, title: str = "Scores") -> None:
    fig, ax = _new_axes()
    plots.plot_score_histogram(scores, ax, threshold=threshold, labels=binary_labels(labels),
                               xlabel=name)
    parts = []
    caption = f"{name[:1].upper()}{name[1:]} of every row in the data."
    if threshold is not None:
        flagged = int(np.sum(scores > threshold))
        caption += (f" Rows right of the dashed line are flagged: {flagged} of {len(scores)} "
                    f"({flagged / max(len(scores), 1):.1%}).")
    parts.append(figure_html(fig, alt=f"histogram of the {name}", caption=caption))
    report.add(title, *parts)


def latent_section(report: Report, Z: np.ndarray, *, color: Any = None, color_label: str = "",
                   title: str = "Latent space", random_state: int = 0) -> None:
    Z = np.asarray(Z)
    rows = np.arange(len(Z))
    if len(Z) > MAX_MAP_POINTS:
        rows = np.sort(np.random.default_rng(random_state).choice(len(Z), MAX_MAP_POINTS,
                                                                  replace=False))
    fig, ax = _new_axes(width=6.5, height=5.0)
    colour = None if color is None else np.asarray(color)[rows]
    plots.plot_latent_map(Z[rows], ax, color=colour, color_label=color_label,
                          title=f"Latent space ({Z.shape[1]}-D)")
    how = "the codes themselves" if Z.shape[1] <= 2 else \
        f"the first two principal components of the {Z.shape[1]}-D codes"
    caption = f"Each point is a row, placed by {how}"
    caption += f", coloured by {color_label}." if color is not None else "."
    if len(rows) < len(Z):
        caption += f" A random {len(rows)} of {len(Z)} rows."
    report.add(title, figure_html(fig, alt="map of the latent space", caption=caption))


def top_rows_section(report: Report, model: Any, X: Any, scores: np.ndarray, *, n: int = 10,
                     n_features: int = 3, labels: Any = None, index: Any = None,
                     title: str = "Top anomalies") -> None:
    """The ``n`` highest-scored rows and the features contributing most to their score:
    for a detector, each with the row's value and the typical one (``explain``)."""
    if is_detector(model):
        explained = model.explain(X, n=n, n_features=n_features, scores=np.asarray(scores))
        rows = []
        for (rank, i, score), part in explained.groupby(["rank", "row", "score"], sort=True):
            row = [rank, index[i] if index is not None else int(i) + 1, float(score)]
            if labels is not None:
                row.append(np.asarray(labels)[i])
            row.append("; ".join(feature_text(f.feature, f.value, f.typical, f.share,
                                              f.expected) for f in part.itertuples()))
            rows.append(row)
        headers = ["rank", "row", "score"] + (["label"] if labels is not None else []) + \
            [f"top {n_features} features: value (typical value, expected value where it "
             "differs, share of the score)"]
        report.add(title, table_html(rows, headers), text_html(
            "Rows are numbered from 1 in the order of the data, as the command line counts them. A feature's share is its part "
            "of the row's whole score: the reconstruction error, the latent distance and the "
            "density distance, each split over the columns and added as the score adds them. "
            "The typical value is the training median (the most frequent value of a "
            "category). The expected value of a category or boolean is the one the models "
            "rebuild from the rest of the row.", cls="note"))
        return
    order = np.argsort(-np.asarray(scores), kind="stable")[:n]
    subset = X.iloc[order] if hasattr(X, "iloc") else np.asarray(X)[order]
    shares = error_shares(model, subset)
    names = feature_names(model)
    rows = []
    for rank, (i, share) in enumerate(zip(order, shares), start=1):
        top = np.argsort(-share, kind="stable")[:n_features]
        row = [rank, index[i] if index is not None else int(i) + 1, float(scores[i])]
        if labels is not None:
            row.append(np.asarray(labels)[i])
        row.append("; ".join(f"{names[j]} ({share[j]:.0%})" for j in top))
        rows.append(row)
    headers = ["rank", "row", "score"] + (["label"] if labels is not None else []) + \
        [f"top {n_features} features (share of the squared error)"]
    report.add(title, table_html(rows, headers), text_html(
        "Rows are numbered from 1 in the order of the data, as the command line counts them. A feature's share is its part of "
        "the row's squared reconstruction error in standardised units.", cls="note"))


def sweep_section(report: Report, sweep: pd.DataFrame, *, title: str = "Bottleneck sweep",
                  model: str = "autoencoder") -> None:
    fig, ax = _new_axes()
    plots.plot_sweep(sweep, ax, model=model)
    table = table_html(
        [(int(r.latent_dim), float(r.ae_mse), float(r.pca_mse), float(r.ratio))
         for r in sweep.itertuples()], ("latent size", f"{model} MSE", "PCA MSE", "ratio"))
    report.add(title, figure_html(fig, alt="bottleneck sweep against PCA", caption=(
        "Held-out reconstruction error per latent size. PCA is the best linear code of each "
        "size; a ratio below 1 means the autoencoder beats it.")), table)


def roc_pr_section(report: Report, y: Any, scores: np.ndarray, *,
                   title: str = "Detection quality") -> None:
    """ROC and precision-recall curves; a note instead when labels are not 0/1."""
    yb = binary_labels(y)
    if yb is None:
        report.add(title, text_html("ROC and precision-recall curves need 0/1 labels "
                                    "(1 = anomaly) with both classes present; these labels "
                                    "are not, so they are skipped.", cls="note"))
        return
    from aekit.anomaly.metrics import detection_metrics

    fig, axes = _new_axes(2, width=4.6, height=4.4)
    plots.plot_roc(yb, scores, axes[0])
    plots.plot_pr(yb, scores, axes[1])
    metrics = detection_metrics(yb, scores)
    report.add(title, figure_html(fig, alt="ROC and precision-recall curves", caption=(
        f"{int(yb.sum())} anomalies among {len(yb)} rows. ROC-AUC = {metrics['roc_auc']:.3f}, "
        f"average precision = {metrics['average_precision']:.3f} (chance: {yb.mean():.3f}).")))


def _to_unit(images: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip((images - lo) / (hi - lo), 0, 1) if hi > lo else np.zeros_like(images)


def image_sections(report: Report, model: Any, X: Any, image_shape: tuple[int, ...], *,
                   random_state: int = 0, title: str = "Images") -> None:
    """Reconstructions for any model; samples and interpolation strips for a VAE."""
    from aekit.latent import interpolate

    values = model.input_spec_.rows(X, source="data", estimator_name=type(model).__name__)
    lo, hi = float(values.min()), float(values.max())

    def as_images(rows: np.ndarray) -> np.ndarray:
        return _to_unit(np.asarray(rows, dtype=float).reshape((-1, *image_shape)), lo, hi)

    rng = np.random.default_rng(random_state)
    pick = rng.choice(len(values), size=min(10, len(values)), replace=False)
    parts = []
    if not is_detector(model):
        fig, ax = _new_axes(width=6.5, height=1.8)
        pair = np.concatenate([values[pick], model.reconstruct(values[pick])])
        plots.plot_image_grid(as_images(pair), ax, nrow=len(pick))
        parts.append(figure_html(fig, alt="inputs and reconstructions", caption=(
            "Top: random inputs; bottom: their reconstructions.")))
    if hasattr(model, "sample"):
        fig, ax = _new_axes(width=6.5, height=3.4)
        plots.plot_image_grid(as_images(model.sample(32, random_state=random_state)), ax,
                              nrow=16)
        parts.append(figure_html(fig, alt="samples from the VAE", caption=(
            "New images decoded from random draws of the prior N(0, I).")))
        strips = []
        for a, b in rng.choice(len(values), size=(3, 2), replace=False):
            strips.append(interpolate(model, values[a], values[b], steps=10)[1])
        fig, ax = _new_axes(width=6.5, height=2.2)
        plots.plot_image_grid(as_images(np.concatenate(strips)), ax, nrow=10)
        parts.append(figure_html(fig, alt="latent interpolation strips", caption=(
            "Each row walks in a straight line through the latent space from one input's "
            "code to another's.")))
    if parts:
        report.add(title, *parts)


# --------------------------------------------------------------------------- the report
def load_sweep(path: str | os.PathLike) -> pd.DataFrame:
    """Read a sweep table from ``aekit sweep --out DIR`` (the directory or its sweep.csv)."""
    path = Path(path)
    csv = path / "sweep.csv" if path.is_dir() else path
    if not csv.is_file():
        raise DataError(f"{csv}: no sweep table here. Pass the directory written by "
                        "'aekit sweep --out DIR' or its sweep.csv.")
    try:
        table = pd.read_csv(csv)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{csv}: could not read the sweep table ({err}).") from None
    missing = {"latent_dim", "ae_mse", "pca_mse"} - set(table.columns)
    if missing:
        raise DataError(f"{csv}: a sweep table needs columns latent_dim, ae_mse and pca_mse; "
                        f"missing {sorted(missing)}.")
    if "ratio" not in table.columns:
        table["ratio"] = table["ae_mse"] / table["pca_mse"]
    return table


def model_report(model: Any, X: Any, y: Any = None, *, source: str = "",
                 labels_name: str = "label", sweep: pd.DataFrame | None = None,
                 image_shape: tuple[int, ...] | None = None, random_state: int = 0) -> Report:
    """Every section that applies to ``model`` on data ``X`` (and labels ``y``).

    ``X`` is a table, or images (N, H, W) / (N, C, H, W), which are shown as images and fed
    to the model as rows of pixels. ``image_shape`` (e.g. (8, 8)) says that table rows are
    images; it defaults to the model's ``image_shape_`` or the image array's shape.
    """
    name = type(model).__name__
    if image_shape is None:
        image_shape = getattr(model, "image_shape_", None)
    if np.ndim(X) > 2:
        image_shape = image_shape or tuple(np.shape(X)[1:])
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    if image_shape is not None:
        image_shape = tuple(int(s) for s in image_shape)
        if int(np.prod(image_shape)) != int(model.n_features_in_):
            raise DataError(f"image shape {image_shape} has {int(np.prod(image_shape))} pixels "
                            f"but the model takes {model.n_features_in_} features.")
    report = Report(f"aekit report: {name}", f"{source or 'data'}: {len(X)} rows, "
                    f"{int(model.n_features_in_)} features")
    model_card_section(report, model, X, source=source)
    loss_section(report, model)
    scores, threshold, score_name = model_scores(model, X)
    scores_section(report, scores, threshold=threshold, name=score_name, labels=y,
                   title="Anomaly scores" if threshold is not None else "Reconstruction error")
    colour, colour_label = (y, labels_name) if y is not None else (scores, score_name)
    latent_section(report, model_latent(model, X), color=colour, color_label=colour_label,
                   random_state=random_state)
    top_rows_section(report, model, X, scores, labels=y,
                     title="Top anomalies" if threshold is not None
                     else "Worst-reconstructed rows")
    if y is not None:
        roc_pr_section(report, y, scores)
    if sweep is not None:
        sweep_section(report, sweep)
    if image_shape is not None:
        image_sections(report, model, X, image_shape, random_state=random_state)
    return report
