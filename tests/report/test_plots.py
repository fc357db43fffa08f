"""Each plot function draws on the Axes it is given and returns that Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from aekit.report import plots
from aekit.training.history import History

rng = np.random.default_rng(0)
HISTORY = History(train_loss=[1.0, 0.5, 0.2], val_loss=[1.1, 0.6, 0.3], best_epoch=2)
LABELS = np.r_[np.zeros(40, int), np.ones(10, int)]
SCORES = rng.normal(size=50) + 2 * LABELS
SWEEP = pd.DataFrame({"latent_dim": [1, 2, 4], "ae_mse": [0.5, 0.3, 0.1],
                      "pca_mse": [0.6, 0.4, 0.2], "ratio": [0.83, 0.75, 0.5]})

CALLS = {
    "loss": lambda ax: plots.plot_loss(HISTORY, ax),
    "loss_ensemble": lambda ax: plots.plot_loss([HISTORY, HISTORY], ax),
    "histogram": lambda ax: plots.plot_score_histogram(SCORES, ax, threshold=1.5),
    "histogram_labels": lambda ax: plots.plot_score_histogram(SCORES, ax, labels=LABELS),
    "histogram_long_tail": lambda ax: plots.plot_score_histogram(np.exp(3 * SCORES), ax),
    "latent_labels": lambda ax: plots.plot_latent_map(rng.normal(size=(50, 5)), ax,
                                                      color=LABELS, color_label="label"),
    "latent_score": lambda ax: plots.plot_latent_map(rng.normal(size=(50, 2)), ax,
                                                     color=SCORES, color_label="score"),
    "latent_1d": lambda ax: plots.plot_latent_map(rng.normal(size=(50, 1)), ax),
    "roc": lambda ax: plots.plot_roc(LABELS, SCORES, ax),
    "pr": lambda ax: plots.plot_pr(LABELS, SCORES, ax),
    "sweep": lambda ax: plots.plot_sweep(SWEEP, ax),
    "images": lambda ax: plots.plot_image_grid(rng.uniform(size=(12, 8, 8)), ax, nrow=6),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_plot_draws_on_the_given_axes_and_returns_it(name):
    ax = Figure().subplots()
    assert CALLS[name](ax) is ax
    assert ax.has_data() or ax.images


def test_plots_make_their_own_axes_without_pyplot():
    ax = plots.plot_roc(LABELS, SCORES)
    assert ax.figure is not None
    assert "matplotlib.pyplot" not in type(ax.figure.canvas).__module__


def test_latent_2d_keeps_2d_codes_and_projects_wider_ones():
    Z = rng.normal(size=(30, 2))
    points, labels = plots.latent_2d(Z)
    np.testing.assert_array_equal(points, Z)
    assert labels == ("z0", "z1")
    points, labels = plots.latent_2d(rng.normal(size=(30, 6)))
    assert points.shape == (30, 2) and "PC1" in labels[0]
