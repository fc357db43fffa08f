"""How the default detector's views should be weighted: a leave-datasets-out check.

The ADBench protocol of benchmarks/adbench.py. For each split the default detector is
fitted once; the normalised parts of its score (each member's reconstruction and latent
part, the density part) on the test rows are cached in
benchmarks/results/recipe_views_cache.npz, beside an IsolationForest's scores normalised
the same way (median and IQR of its scores on the training rows). Variants re-weight the
cached parts, so trying one costs no fitting:

- ``default``: the views get equal weight (reconstruction, latent, density: 1/3 each);
- ``density-heavy``: density 1/2, the two network views 1/4 each;
- ``density-2/3``: density 2/3, the two network views 1/6 each (tried after the others);
- ``+isolation``: the three views and an IsolationForest view, 1/4 each;
- ``networks-only``: reconstruction and latent, 1/2 each;
- ``density-only``: what the members add, seen from the other side (tried last);
- ``+mahalanobis/4``: the default (density 2/3) at 3/4 and a full-space Mahalanobis view
  at 1/4: Ledoit-Wolf covariance of the robust-scaled rows (fit on 80% of the training
  rows, normalised by median and IQR on the other 20%), stop 21.

A seeded shuffle splits the sets into two halves; the variant with the best mean ROC-AUC
on one half is reported on the other, and the other way round.

    .venv/bin/python benchmarks/recipe_views.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adbench import DATA, RESULTS, SEEDS, make_split  # noqa: E402

CACHE = RESULTS / "recipe_views_cache.npz"


def collect() -> dict[str, np.ndarray]:
    from aekit import AnomalyDetector

    cache = dict(np.load(CACHE, allow_pickle=False)) if CACHE.exists() else {}
    paths = sorted(DATA.glob("*.npz"), key=lambda p: int(p.stem.split("_")[0]))
    for path in paths:
        with np.load(path, allow_pickle=False) as npz:
            X, y = npz["X"].astype(np.float64), npz["y"].astype(int)
        for seed in SEEDS:
            key = f"{path.stem}/{seed}"
            if f"{key}/parts" in cache and f"{key}/mahalanobis" in cache:
                continue
            X_tr, X_te, y_te = make_split(X, y, seed)
            if f"{key}/parts" in cache:  # a view added later
                cache[f"{key}/mahalanobis"] = mahalanobis_view(X_tr, X_te, seed)
                np.savez_compressed(CACHE, **cache)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                det = AnomalyDetector(random_state=seed).fit(X_tr)
                forest = IsolationForest(random_state=seed).fit(X_tr)
            scorer = det.scorer_
            raw = scorer.parts(det.scaled(X_te))
            cache[f"{key}/parts"] = (raw - scorer.center[:, None]) / scorer.scale[:, None]
            cache[f"{key}/views"] = np.array([len(scorer.members)])
            train = -forest.score_samples(X_tr)
            q75, q25 = np.percentile(train, [75, 25])
            cache[f"{key}/iforest"] = (-forest.score_samples(X_te) - np.median(train)) / (q75 - q25)
            cache[f"{key}/y"] = y_te
            cache[f"{key}/mahalanobis"] = mahalanobis_view(X_tr, X_te, seed)
            print(key, flush=True)
            RESULTS.mkdir(exist_ok=True)
            np.savez_compressed(CACHE, **cache)
    return cache


def mahalanobis_view(X_tr: np.ndarray, X_te: np.ndarray, seed: int) -> np.ndarray:
    """Test rows' Mahalanobis distance (Ledoit-Wolf, robust-scaled and clipped as aekit
    scales), normalised by median and IQR on held-out training rows."""
    from sklearn.covariance import LedoitWolf

    order = np.random.default_rng(seed).permutation(len(X_tr))
    fit_rows, held_out = X_tr[order[:int(0.8 * len(X_tr))]], X_tr[order[int(0.8 * len(X_tr)):]]
    median = np.median(fit_rows, axis=0)
    q75, q25 = np.percentile(fit_rows, [75, 25], axis=0)
    spread = np.where(q75 > q25, (q75 - q25) / 1.349,
                      np.where(fit_rows.std(axis=0) > 0, fit_rows.std(axis=0), 1.0))

    def scaled(A):
        return np.clip((A - median) / spread, -20, 20)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cov = LedoitWolf().fit(scaled(fit_rows))

    def distance(A):
        centred = scaled(A) - cov.location_
        return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", centred, cov.precision_, centred), 0))

    calibration = distance(held_out)
    q75, q25 = np.percentile(calibration, [75, 25])
    return (distance(X_te) - np.median(calibration)) / max(q75 - q25, 1e-12)


def variants(parts: np.ndarray, n_members: int, iforest: np.ndarray,
             mahalanobis: np.ndarray) -> dict[str, np.ndarray]:
    recon = parts[:n_members].mean(axis=0)
    latent = parts[n_members:2 * n_members].mean(axis=0)
    density = parts[-1]
    return {"default": (recon + latent + density) / 3,
            "density-heavy": recon / 4 + latent / 4 + density / 2,
            "density-2/3": recon / 6 + latent / 6 + density * 2 / 3,
            "+isolation": (recon + latent + density + iforest) / 4,
            "networks-only": (recon + latent) / 2,
            "density-only": density,
            "+mahalanobis/4": 0.75 * (recon / 6 + latent / 6 + density * 2 / 3)
            + 0.25 * mahalanobis}


def main() -> int:
    cache = collect()
    rows = []
    for key in sorted({k.rsplit("/", 1)[0] for k in cache}):
        y = cache[f"{key}/y"]
        n_members = int(cache[f"{key}/views"][0])
        for name, score in variants(cache[f"{key}/parts"], n_members,
                                    cache[f"{key}/iforest"],
                                    cache[f"{key}/mahalanobis"]).items():
            rows.append(dict(dataset=key.split("/")[0], variant=name,
                             auc=roc_auc_score(y, score), ap=average_precision_score(y, score)))
    per = pd.DataFrame(rows).groupby(["dataset", "variant"]).mean().unstack("variant")
    names = list(per.index)
    order = np.random.default_rng(2026).permutation(len(names))
    halves = [[names[i] for i in order[:len(names) // 2]],
              [names[i] for i in order[len(names) // 2:]]]
    print("| variant | mean ROC-AUC | mean AP | half A | half B |")
    print("|---|---:|---:|---:|---:|")
    for v in per["auc"].columns:
        print(f"| {v} | {per['auc'][v].mean():.4f} | {per['ap'][v].mean():.4f} | "
              f"{per['auc'][v].loc[halves[0]].mean():.4f} | "
              f"{per['auc'][v].loc[halves[1]].mean():.4f} |")
    for k, (choose, report) in enumerate(((halves[0], halves[1]), (halves[1], halves[0]))):
        best = per["auc"].loc[choose].mean().idxmax()
        print(f"- chosen on half {'AB'[k]}: {best}; on the other half {best} "
              f"{per['auc'][best].loc[report].mean():.4f}, default "
              f"{per['auc']['default'].loc[report].mean():.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
