"""Plots for reports and notebooks.

Every function takes data and an optional matplotlib ``Axes``, draws on it and returns it;
none calls ``plt.show()`` or touches pyplot's global state. Without ``ax`` a new
``matplotlib.figure.Figure`` is made (rendered by Agg when saved), so the functions work
headless, in a notebook (pass ``ax`` from ``plt.subplots()``) and in :mod:`aekit.report.html`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

from aekit.sweep import plot_sweep as _plot_sweep
from aekit.training.history import History

__all__ = [
    "latent_2d",
    "plot_image_grid",
    "plot_latent_map",
    "plot_loss",
    "plot_pr",
    "plot_roc",
    "plot_score_histogram",
    "plot_sweep",
]

# Above this many classes, labels are coloured as a continuous value, not as a legend.
MAX_LEGEND_CLASSES = 12


def _axes(ax, figsize=(6.0, 4.0)):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").subplots()


def _plain_log_ticks(ax) -> None:
    """Tick labels like 0.02 rather than 2x10^-2 on a log y axis."""
    from matplotlib.ticker import FormatStrFormatter

    ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%.3g"))


def plot_sweep(result, ax=None, *, model: str = "autoencoder"):
    """Held-out MSE against latent size, the autoencoder over PCA (see :mod:`aekit.sweep`)."""
    ax = _plot_sweep(result, _axes(ax), model=model)
    _plain_log_ticks(ax)
    ax.set_xticks(list(result["latent_dim"]))
    return ax


def plot_loss(history: History | Sequence[History], ax=None, *, title: str = "Training"):
    """Training (solid) and validation (dashed) loss per epoch; a dot at the kept epoch.

    ``history`` is one :class:`~aekit.training.History` (an estimator's ``history_``) or
    several (an ensemble's members), drawn in turn.
    """
    ax = _axes(ax)
    histories = [history] if isinstance(history, History) else list(history)
    many = len(histories) > 1
    for i, h in enumerate(histories):
        color = f"C{i % 10}"
        epochs = np.arange(1, h.n_epochs + 1)
        suffix = f" {i}" if many else ""
        ax.plot(epochs, h.train_loss, "-", color=color, label=f"train{suffix}")
        if h.val_loss:
            ax.plot(epochs[: len(h.val_loss)], h.val_loss, "--", color=color,
                    label=f"validation{suffix}")
            if 0 <= h.best_epoch < len(h.val_loss):
                ax.plot(h.best_epoch + 1, h.val_loss[h.best_epoch], "o", color=color)
    losses = np.concatenate([np.r_[h.train_loss, h.val_loss] for h in histories] or [[]])
    finite = losses[np.isfinite(losses)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 10:
        ax.set_yscale("log")  # losses can fall over orders of magnitude early on
        _plain_log_ticks(ax)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if histories and any(h.n_epochs for h in histories):
        ax.legend(fontsize="small", ncol=2 if many else 1)
    return ax


def plot_score_histogram(scores, ax=None, *, threshold: float | None = None, labels=None,
                         xlabel: str = "anomaly score", bins: int = 40):
    """Histogram of per-row scores, split by 0/1 ``labels`` when given, with the threshold."""
    ax = _axes(ax)
    scores = np.asarray(scores, dtype=float)
    finite = scores[np.isfinite(scores)]
    log_x = bool(finite.size and finite.min() > 0
                 and finite.max() > 20 * np.median(finite))
    if log_x:  # errors with a long right tail: one bar would hold nearly every row
        edges = np.geomspace(finite.min(), finite.max(), bins + 1)
    else:
        edges = np.histogram_bin_edges(finite if finite.size else [0.0, 1.0], bins=bins)
    if labels is not None:
        labels = np.asarray(labels)
        ax.hist(scores[labels == 0], bins=edges, alpha=0.6, color="C0", label="normal (label 0)")
        ax.hist(scores[labels == 1], bins=edges, alpha=0.6, color="C3", label="anomaly (label 1)")
    else:
        ax.hist(finite, bins=edges, color="C0", alpha=0.8, label="rows")
    if threshold is not None and np.isfinite(threshold):
        ax.axvline(threshold, color="k", linestyle="--", label=f"threshold {threshold:.3g}")
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel + (" (log scale)" if log_x else ""))
    ax.set_ylabel("rows")
    ax.set_title(f"Distribution of the {xlabel}")
    ax.legend(fontsize="small")
    return ax


def latent_2d(Z) -> tuple[np.ndarray, tuple[str, str]]:
    """Codes as 2-D points: themselves when 2-D (1-D gets a zero axis), else their PCA.

    Returns the (n_samples, 2) points and the two axis labels.
    """
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2:
        raise ValueError(f"latent codes must be 2-D (n_samples, latent_dim); got shape {Z.shape}")
    if Z.shape[1] == 2:
        return Z, ("z0", "z1")
    if Z.shape[1] == 1:
        return np.column_stack([Z[:, 0], np.zeros(len(Z))]), ("z0", "")
    pca = PCA(2, random_state=0).fit(Z)
    share = pca.explained_variance_ratio_
    return pca.transform(Z), (f"latent PC1 ({share[0]:.0%} of variance)",
                              f"latent PC2 ({share[1]:.0%} of variance)")


def plot_latent_map(Z, ax=None, *, color=None, color_label: str = "", categorical=None,
                    title: str = "Latent space"):
    """Scatter of the codes in 2-D (see :func:`latent_2d`), coloured by ``color``.

    ``color`` is a score (continuous colour bar) or labels (one colour per class with a
    legend); ``categorical=None`` decides by the values (integers/strings with at most
    12 distinct values are classes).
    """
    ax = _axes(ax, figsize=(6.0, 5.0))
    points, (xlabel, ylabel) = latent_2d(Z)
    kw = dict(s=9, alpha=0.8, linewidths=0)
    if color is None:
        ax.scatter(points[:, 0], points[:, 1], color="C0", **kw)
    else:
        color = np.asarray(color)
        classes = np.unique(color)
        if categorical is None:
            categorical = (color.dtype.kind in "biuUSO" and len(classes) <= MAX_LEGEND_CLASSES)
        if categorical:
            for i, value in enumerate(classes):
                rows = color == value
                ax.scatter(points[rows, 0], points[rows, 1], color=f"C{i % 10}",
                           label=str(value), **kw)
            ax.legend(title=color_label or None, fontsize="small", markerscale=2,
                      loc="best", ncol=2 if len(classes) > 6 else 1)
        else:
            art = ax.scatter(points[:, 0], points[:, 1], c=color.astype(float), cmap="viridis",
                             **kw)
            ax.figure.colorbar(art, ax=ax, label=color_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def _unit_square(ax, xlabel: str, ylabel: str, title: str, legend_loc: str):
    """Labels, [0, 1] limits, grid and legend shared by the ROC and PR plots."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc=legend_loc, fontsize="small")
    return ax


def plot_roc(y_true, scores, ax=None):
    """ROC curve of ``scores`` (higher = more anomalous) against 0/1 labels, with its area."""
    ax = _axes(ax, figsize=(4.5, 4.5))
    fpr, tpr, _ = roc_curve(y_true, scores)
    ax.plot(fpr, tpr, color="C0", label=f"ROC-AUC = {auc(fpr, tpr):.3f}")
    ax.plot([0, 1], [0, 1], ":", color="0.5", label="chance")
    return _unit_square(ax, "false positive rate", "true positive rate", "ROC curve",
                        "lower right")


def plot_pr(y_true, scores, ax=None):
    """Precision-recall curve with average precision; the dotted line is the anomaly share."""
    ax = _axes(ax, figsize=(4.5, 4.5))
    y_true = np.asarray(y_true)
    precision, recall, _ = precision_recall_curve(y_true, scores)
    ap = average_precision_score(y_true, scores)
    ax.step(recall, precision, where="post", color="C3", label=f"AP = {ap:.3f}")
    ax.axhline(float(np.mean(y_true)), linestyle=":", color="0.5", label="chance")
    return _unit_square(ax, "recall", "precision", "Precision-recall curve", "lower left")


def plot_image_grid(images, ax=None, *, nrow: int = 8, title: str = ""):
    """Images tiled with :func:`aekit.data.images.make_grid`, without axes ticks.

    ``images``: (n, H, W) or (n, C, H, W), values in [0, 1] (clipped).
    """
    from aekit.data.images import make_grid

    grid = make_grid(images, nrow=nrow, padding=1)  # (H', W', C)
    ax = _axes(ax, figsize=(max(2.0, grid.shape[1] / 12), max(1.0, grid.shape[0] / 12)))
    if grid.shape[2] == 1:
        ax.imshow(grid[:, :, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(grid, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax
