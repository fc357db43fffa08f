"""Imputation quality: aekit's autoencoder against scikit-learn's imputers, side by side.

For six numeric ADBench sets of ../shared/datasets (at most 1,000 rows each, labels
dropped) and seeds 0-2: 20% of the cells are masked completely at random (no row loses
all of them), each method fills them, and the error on the masked cells is the RMSE in
units of each column's standard deviation. Methods: aekit's ``Autoencoder`` with its
defaults (fitted on the masked table, missing cells left out of its loss, then
``impute``); aekit's ``DenoisingAutoencoder(n_features // 2, noise="masking",
noise_level=0.2)``, which learns to fill cells set to the centre; scikit-learn's ``SimpleImputer`` (mean), ``KNNImputer``,
``IterativeImputer`` and ``IterativeImputer(estimator=ExtraTreesRegressor(...))`` (the
MissForest recipe). The summary is the geometric mean over sets of each method's RMSE
relative to the best scikit-learn method on that set, and mean fit-and-fill seconds.

    .venv/bin/python benchmarks/imputation.py
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from aekit import Autoencoder, DenoisingAutoencoder

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("AEKIT_DATASETS", HERE.parent.parent / "shared" / "datasets")) / "adbench"
SETS = ("6_cardio", "14_glass", "38_thyroid", "42_WBC", "44_Wilt", "47_yeast")
SEEDS = (0, 1, 2)
MASKED = 0.2
MAX_ROWS = 1000


def methods(seed: int) -> dict:
    def aekit(X: np.ndarray) -> np.ndarray:
        return Autoencoder(random_state=seed).fit(X, allow_missing=True).impute(X)

    def aekit_dae(X: np.ndarray) -> np.ndarray:
        # the masking recipe: cells set to the centre in training, as missing ones are
        latent = max(1, X.shape[1] // 2)
        dae = DenoisingAutoencoder(latent, noise="masking", noise_level=0.2, random_state=seed)
        return dae.fit(X, allow_missing=True).impute(X)

    def sklearn(imputer):
        return lambda X: imputer.fit_transform(X)

    return {
        "aekit": aekit,
        "aekit-DAE": aekit_dae,
        "mean": sklearn(SimpleImputer()),
        "KNN": sklearn(KNNImputer()),
        "Iterative": sklearn(IterativeImputer(random_state=seed, max_iter=10)),
        "MissForest": sklearn(IterativeImputer(
            estimator=ExtraTreesRegressor(n_estimators=50, random_state=seed, n_jobs=1),
            random_state=seed, max_iter=5)),
    }


def mask(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    holes = rng.random(X.shape) < MASKED
    full = holes.all(axis=1)
    holes[full, rng.integers(X.shape[1], size=int(full.sum()))] = False
    return holes


def main() -> int:
    rows = []
    for name in SETS:
        with np.load(DATA / f"{name}.npz", allow_pickle=False) as npz:
            X_all = npz["X"].astype(np.float64)
        X_all = X_all[:, X_all.std(axis=0) > 0]  # constant columns have no error to measure
        for seed in SEEDS:
            rng = np.random.default_rng(seed)
            X = X_all[rng.permutation(len(X_all))[:MAX_ROWS]]
            holes = mask(X, rng)
            X_holes = np.where(holes, np.nan, X)
            std = X.std(axis=0)
            for method, impute in methods(seed).items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t = time.perf_counter()
                    filled = impute(X_holes)
                    seconds = time.perf_counter() - t
                err = ((filled - X) / std)[holes]
                rows.append(dict(dataset=name, seed=seed, method=method,
                                 rmse=float(np.sqrt(np.mean(err ** 2))), seconds=seconds))
            print(name, seed, {r["method"]: round(r["rmse"], 3) for r in rows[-6:]}, flush=True)
    runs = pd.DataFrame(rows)
    per = runs.groupby(["dataset", "method"]).mean(numeric_only=True).unstack("method")
    best = per["rmse"][["mean", "KNN", "Iterative", "MissForest"]].min(axis=1)
    order = ["aekit", "aekit-DAE", "mean", "KNN", "Iterative", "MissForest"]
    print("\n| dataset | " + " | ".join(f"{m} RMSE (sd units)" for m in order) + " |")
    print("|---|" + "---:|" * len(order))
    for ds in per.index:
        print(f"| {ds} | " + " | ".join(f"{per['rmse'].loc[ds, m]:.3f}" for m in order) + " |")
    ratios = {m: float(np.exp(np.log(per["rmse"][m] / best).mean())) for m in order}
    print("| **geometric mean vs best scikit-learn** | "
          + " | ".join(f"**{ratios[m]:.3f}**" for m in order) + " |")
    print("| mean seconds (fit + fill) | "
          + " | ".join(f"{per['seconds'][m].mean():.2f}" for m in order) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
