"""Bottleneck sweeps: held-out reconstruction error against the PCA bound at each size.

PCA with k components is the best *linear* k-dimensional code (Eckart-Young), so its
held-out MSE is the bar every autoencoder of latent size k should meet; a non-linear
autoencoder should beat it where the data has curved structure. Both are measured on the
same held-out rows in the same standard-scaled space.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from aekit.data.preprocessing import AffineScaler
from aekit.data.validation import check_features
from aekit.estimators import VAE, Autoencoder, DenoisingAutoencoder
from aekit.exceptions import ParameterError

SweepModel = Literal["ae", "linear", "dae", "vae"]


def make_model(model: SweepModel, latent_dim: int, random_state: int | None, **params: Any):
    """The estimator a sweep fits at one size (inputs are already scaled)."""
    params = {"scaling": "none", "random_state": random_state, **params}
    if model == "ae":
        return Autoencoder(latent_dim, **params)
    if model == "linear":
        # From random weights, so the match with PCA is learned, not given.
        return Autoencoder(latent_dim, linear=True, init="random",
                           **{"patience": 30, **params})
    if model == "dae":
        return DenoisingAutoencoder(latent_dim, **params)
    if model == "vae":
        return VAE(latent_dim, **params)
    raise ParameterError(f"model must be one of ('ae', 'linear', 'dae', 'vae'). Got {model!r}.")


def decoder_pca_angle(estimator, pca: PCA) -> float:
    """Largest principal angle (degrees) between a linear decoder's span and PCA's subspace."""
    weight = estimator.module_.decoder[-1].weight.detach().double().numpy()  # (D, k)
    return float(np.degrees(subspace_angles(weight, pca.components_.T).max()))


def bottleneck_sweep(X: Any, latent_dims: Sequence[int], *, model: SweepModel = "ae",
                     test_size: float = 0.25, random_state: int | None = 0,
                     progress=None, **params: Any) -> pd.DataFrame:
    """Fit one model per latent size; compare held-out MSE with PCA's.

    Returns a DataFrame with columns ``latent_dim``, ``ae_mse``, ``pca_mse``, ``ratio``
    (ae/pca; <= 1 means at or below the linear bound), ``seconds`` and, for
    ``model="linear"``, ``max_angle_deg``.
    """
    values, _ = check_features(X, source="X", min_samples=4)
    dims = sorted({int(k) for k in latent_dims})
    if not dims or dims[0] < 1:
        raise ParameterError(f"latent sizes must be ints >= 1. Got {list(latent_dims)!r}.")
    X_train, X_test = train_test_split(values, test_size=test_size, random_state=random_state)
    scaler = AffineScaler.fit(X_train, "standard")
    A, B = scaler.transform(X_train), scaler.transform(X_test)
    limit = min(A.shape)
    rows = []
    for k in dims:
        if k > limit:
            raise ParameterError(f"latent size {k} exceeds min(n_train_samples, n_features) = "
                                 f"{limit}, the most PCA components there are.")
        if progress:
            progress(k)
        pca = PCA(k, random_state=random_state).fit(A)
        pca_mse = float(np.mean((pca.inverse_transform(pca.transform(B)) - B) ** 2))
        started = time.perf_counter()
        est = make_model(model, k, random_state, **params).fit(A)
        seconds = time.perf_counter() - started
        ae_mse = float(np.mean((est.reconstruct(B) - B) ** 2))
        row = {"latent_dim": k, "ae_mse": ae_mse, "pca_mse": pca_mse,
               "ratio": ae_mse / pca_mse if pca_mse > 0 else float("nan"), "seconds": seconds}
        if model == "linear":
            row["max_angle_deg"] = decoder_pca_angle(est, pca)
        rows.append(row)
    return pd.DataFrame(rows)


def plot_sweep(result: pd.DataFrame, ax=None, *, model: str = "autoencoder"):
    """MSE against latent size, the autoencoder's curve over PCA's. Returns the Axes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    ax.plot(result["latent_dim"], result["pca_mse"], "o--", color="0.4", label="PCA (linear bound)")
    ax.plot(result["latent_dim"], result["ae_mse"], "o-", color="C0", label=model)
    ax.set_xlabel("latent size")
    ax.set_ylabel("held-out MSE (standardised units)")
    ax.set_yscale("log")
    ax.set_title("Bottleneck sweep")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax
