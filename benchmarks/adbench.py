"""ADBench/ODDS anomaly benchmark: aekit's AnomalyDetector vs IsolationForest and PyOD.

Protocol (../shared/datasets/MANIFEST.md): for seeds 0, 1, 2 a stratified 70/30 split; fit
on the 70% without labels (anomalies included), capped at 10,000 rows by a stratified
subsample; score the 30%; ROC-AUC, average precision and fit seconds per dataset.

Every method runs in this same process on the same splits. Results are cached per
(dataset, seed, method) in benchmarks/results/adbench_runs.csv, so a re-run only computes
what is missing (delete the file, or pass --fresh, to recompute everything).

    .venv/bin/python benchmarks/adbench.py                       # all datasets and methods
    .venv/bin/python benchmarks/adbench.py --methods aekit --fresh-method aekit
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("AEKIT_DATASETS", HERE.parent.parent / "shared" / "datasets")) / "adbench"
RESULTS = HERE / "results"
RUNS = RESULTS / "adbench_runs.csv"
SEEDS = (0, 1, 2)
CAP = 10_000


def make_split(X: np.ndarray, y: np.ndarray, seed: int):
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    if len(X_tr) > CAP:
        X_tr, _, y_tr, _ = train_test_split(X_tr, y_tr, train_size=CAP, stratify=y_tr,
                                            random_state=seed)
    return X_tr, X_te, y_te


def methods(seed: int) -> dict:
    """name -> (fit(X) -> fitted, score(fitted, X) -> higher = more anomalous)."""
    from sklearn.ensemble import IsolationForest

    from aekit import AnomalyDetector

    def pyod(cls, **kw):
        def fit(X):
            return cls(**kw).fit(X)
        return fit, lambda m, X: m.decision_function(X)

    out = {
        "aekit": (lambda X: AnomalyDetector(random_state=seed).fit(X),
                  lambda m, X: m.anomaly_score(X)),
        "IForest": (lambda X: IsolationForest(random_state=seed).fit(X),
                    lambda m, X: -m.score_samples(X)),
    }
    from pyod.models.auto_encoder import AutoEncoder
    from pyod.models.cblof import CBLOF
    from pyod.models.copod import COPOD
    from pyod.models.ecod import ECOD
    from pyod.models.hbos import HBOS
    from pyod.models.knn import KNN
    from pyod.models.lof import LOF
    from pyod.models.mcd import MCD
    from pyod.models.ocsvm import OCSVM
    from pyod.models.pca import PCA
    from pyod.models.vae import VAE

    out["PyOD-PCA"] = pyod(PCA, random_state=seed)
    out["PyOD-KNN"] = pyod(KNN)
    out["PyOD-AE"] = pyod(AutoEncoder, random_state=seed, verbose=0)
    out["PyOD-VAE"] = pyod(VAE, random_state=seed, verbose=0)
    out["PyOD-MCD"] = pyod(MCD, random_state=seed)
    out["PyOD-CBLOF"] = pyod(CBLOF, random_state=seed)
    out["PyOD-ECOD"] = pyod(ECOD)
    out["PyOD-COPOD"] = pyod(COPOD)
    out["PyOD-HBOS"] = pyod(HBOS)
    out["PyOD-LOF"] = pyod(LOF)
    out["PyOD-OCSVM"] = pyod(OCSVM)
    out["IF+KNN+PCA"] = (lambda X: _Combination(seed).fit(X), lambda m, X: m.score(X))
    out["IF+KNN+PCA-std"] = (lambda X: _Combination(seed, standardise=True).fit(X),
                             lambda m, X: m.score(X))
    return out


class _Combination:
    """What an informed user writes: IsolationForest, KNN and PCA, each standardised on its
    training scores, averaged. ``standardise``: the columns are standardised first and the
    PCA part is scikit-learn's reconstruction error with the components that explain 90%
    of the variance (otherwise PyOD's PCA and raw columns)."""

    def __init__(self, seed: int, standardise: bool = False) -> None:
        from pyod.models.knn import KNN
        from pyod.models.pca import PCA
        from sklearn.decomposition import PCA as SkPCA
        from sklearn.ensemble import IsolationForest
        from sklearn.preprocessing import StandardScaler

        self.scaler = StandardScaler() if standardise else None
        pca = ((SkPCA(n_components=0.9, random_state=seed),
                lambda m, X: ((X - m.inverse_transform(m.transform(X))) ** 2).sum(axis=1))
               if standardise else (PCA(random_state=seed), lambda m, X: m.decision_function(X)))
        self.parts = [(IsolationForest(random_state=seed), lambda m, X: -m.score_samples(X)),
                      (KNN(), lambda m, X: m.decision_function(X)), pca]

    def fit(self, X: np.ndarray) -> _Combination:
        if self.scaler is not None:
            X = self.scaler.fit_transform(X)
        self.stats = []
        for model, score in self.parts:
            model.fit(X)
            train = score(model, X)
            self.stats.append((train.mean(), train.std() or 1.0))
        return self

    def score(self, X: np.ndarray) -> np.ndarray:
        if self.scaler is not None:
            X = self.scaler.transform(X)
        return np.mean([(score(m, X) - mu) / sd for (m, score), (mu, sd)
                        in zip(self.parts, self.stats, strict=True)], axis=0)


def run(datasets: list[Path], wanted: list[str], fresh: set[str], runs: Path = RUNS) -> pd.DataFrame:
    done = pd.read_csv(runs) if runs.exists() else pd.DataFrame(
        columns=["dataset", "seed", "method", "roc_auc", "ap", "fit_s", "score_s"])
    done = done[~done["method"].isin(fresh)]
    have = set(zip(done["dataset"], done["seed"], done["method"], strict=True))
    rows = done.to_dict("records")
    for path in datasets:
        with np.load(path, allow_pickle=False) as npz:
            X, y = npz["X"].astype(np.float64), npz["y"].astype(int)
        name = path.stem
        for seed in SEEDS:
            X_tr, X_te, y_te = make_split(X, y, seed)
            for method, (fit, score) in methods(seed).items():
                if method not in wanted or (name, seed, method) in have:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    model = fit(X_tr)
                    t1 = time.perf_counter()
                    s = np.asarray(score(model, X_te), dtype=np.float64)
                    t2 = time.perf_counter()
                s = np.nan_to_num(s, nan=np.nanmax(s[np.isfinite(s)]) if np.isfinite(s).any() else 0)
                rows.append(dict(dataset=name, seed=seed, method=method,
                                 roc_auc=roc_auc_score(y_te, s),
                                 ap=average_precision_score(y_te, s),
                                 fit_s=t1 - t0, score_s=t2 - t1))
                print(f"{name:22s} seed {seed} {method:9s} ROC-AUC {rows[-1]['roc_auc']:.3f} "
                      f"AP {rows[-1]['ap']:.3f} fit {t1 - t0:6.1f}s", flush=True)
                pd.DataFrame(rows).to_csv(runs, index=False)
    return pd.DataFrame(rows)


def report(runs: pd.DataFrame) -> str:
    per = runs.groupby(["dataset", "method"])[["roc_auc", "ap", "fit_s"]].mean().unstack("method")
    order = [m for m in ["aekit", "IForest", "PyOD-PCA", "PyOD-KNN", "PyOD-AE", "PyOD-VAE",
                         "PyOD-MCD", "PyOD-CBLOF", "PyOD-ECOD", "PyOD-COPOD", "PyOD-HBOS",
                         "PyOD-LOF", "PyOD-OCSVM", "IF+KNN+PCA", "IF+KNN+PCA-std"]
             if m in per["roc_auc"].columns]
    lines = ["| dataset | " + " | ".join(f"{m} ROC-AUC / AP / s" for m in order) + " |",
             "|---|" + "---|" * len(order)]
    for ds in sorted(per.index, key=lambda s: int(s.split("_")[0])):
        cells = [f"{per['roc_auc'].loc[ds, m]:.3f} / {per['ap'].loc[ds, m]:.3f} / "
                 f"{per['fit_s'].loc[ds, m]:.1f}" for m in order]
        lines.append(f"| {ds} | " + " | ".join(cells) + " |")
    means = [f"**{per['roc_auc'][m].mean():.3f}** / {per['ap'][m].mean():.3f} / "
             f"{per['fit_s'][m].mean():.1f}" for m in order]
    lines.append("| **mean** | " + " | ".join(means) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", default="aekit,IForest,PyOD-PCA,PyOD-KNN,PyOD-AE,PyOD-VAE")
    parser.add_argument("--datasets", default="", help="comma-separated name fragments")
    parser.add_argument("--fresh-method", default="", help="recompute these methods")
    parser.add_argument("--runs", default=str(RUNS),
                        help="cache file for this process's runs (the table merges all "
                             "results/adbench_runs*.csv, so methods can run in parallel)")
    args = parser.parse_args()
    paths = sorted(DATA.glob("*.npz"), key=lambda p: int(p.stem.split("_")[0]))
    if args.datasets:
        paths = [p for p in paths if any(f in p.stem for f in args.datasets.split(","))]
    run(paths, args.methods.split(","), set(filter(None, args.fresh_method.split(","))),
        Path(args.runs))
    runs = pd.concat([pd.read_csv(f) for f in sorted(RESULTS.glob("adbench_runs*.csv"))])
    runs = runs.drop_duplicates(["dataset", "seed", "method"], keep="last")
    table = report(runs[runs["dataset"].isin([p.stem for p in paths])])
    (HERE / "results" / "adbench_table.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
