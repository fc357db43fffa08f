"""Imputation quality: aekit's autoencoders against scikit-learn's imputers, side by side.

Ten real tables: six numeric ADBench sets of ../shared/datasets (labels dropped) and the
four mixed tables of ../shared/datasets/tables that aekit reads (airports, seattle_weather,
superstore, titanic; their feature columns as aekit's roles find them: numbers and
categories, booleans counted as categories). At most 1,000 rows each, seeds 0-2: 20% of
the observed feature cells are masked completely at random (no row loses all of them),
each method fills them, and

- numeric cells: RMSE in units of each column's standard deviation;
- categorical cells: the share filled with the true value (accuracy).

aekit's variants fit the table with its holes and call ``impute`` (strings and NaN as
they are): ``AE`` is ``Autoencoder()`` with its defaults, ``DAE`` the masking recipe of
``aekit impute`` (``DenoisingAutoencoder(n_columns // 2, noise="masking",
noise_level=0.2)``), and ``+r3`` feeds each fill back in three times
(``impute(X, refinements=3)``); ``DAE-0.5`` masks half the cells in training; ``DAEx3``
averages three ``DAE`` fits; ``VAE`` is ``VAE(n_columns // 2)``, whose ``impute`` decodes
the posterior mean, and ``VAE-s20`` averages the decoder's output over 20 draws of the
posterior instead; ``DAE-p30`` trains the DAE longer (``patience=30, max_epochs=300``).
scikit-learn's imputers get the usual encoding: numbers
standardised, categories one-hot (a masked category is NaN across its block, its fill is
the block's largest value): ``SimpleImputer`` (mean; the most frequent category),
``KNNImputer``, ``IterativeImputer`` and ``IterativeImputer(ExtraTreesRegressor)`` (the
MissForest recipe).

Recipes are chosen by leave-datasets-out validation: the ten tables are split into two
halves by a seeded shuffle; the variant with the best numeric geometric mean on one half
is reported on the other, and the other way round.

    .venv/bin/python benchmarks/imputation.py
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from aekit import VAE, Autoencoder, DenoisingAutoencoder
from aekit.data.io import read_data
from aekit.data.schema import InputSpec

HERE = Path(__file__).resolve().parent
DATASETS = Path(os.environ.get("AEKIT_DATASETS", HERE.parent.parent / "shared" / "datasets"))
NUMERIC_SETS = ("6_cardio", "14_glass", "38_thyroid", "42_WBC", "44_Wilt", "47_yeast")
MIXED_TABLES = ("airports", "seattle_weather", "superstore", "titanic")
SEEDS = (0, 1, 2)
MASKED = 0.2
MAX_ROWS = 1000
AEKIT = ("AE", "DAE", "DAE+r3", "DAE-0.5", "DAEx3", "VAE", "VAE-s20", "DAE-p30")
POSTERIOR_DRAWS = 20
SKLEARN = ("mean", "KNN", "Iterative", "MissForest")


def load_table(name: str) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The table's feature columns, and which are numeric and which categorical."""
    if name in NUMERIC_SETS:
        with np.load(DATASETS / "adbench" / f"{name}.npz", allow_pickle=False) as npz:
            X = npz["X"].astype(np.float64)
        X = X[:, X.std(axis=0) > 0]  # constant columns have no error to measure
        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        return frame, list(frame.columns), []
    frame = read_data(DATASETS / "tables" / f"{name}.csv").X
    spec, _ = InputSpec.from_training_data(frame)
    numeric = [c.name for c in spec.columns if c.role == "numeric"]
    categorical = [c.name for c in spec.columns if c.role in ("categorical", "boolean")]
    return frame[numeric + categorical], numeric, categorical


def mask(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    holes = (rng.random(frame.shape) < MASKED) & frame.notna().to_numpy()
    full = (holes | frame.isna().to_numpy()).all(axis=1)
    for i in np.flatnonzero(full):  # keep one observed cell in every row
        holes[i, rng.choice(np.flatnonzero(holes[i]))] = False
    return holes


def aekit_methods(seed: int, n_columns: int) -> dict:
    def fit_ae():
        return Autoencoder(random_state=seed)

    def fit_dae(level=0.2, **options):
        return lambda: DenoisingAutoencoder(max(1, n_columns // 2), noise="masking",
                                            noise_level=level, random_state=seed, **options)

    def run(make, refinements):
        return lambda holes: make().fit(holes).impute(holes, refinements=refinements)

    def three(holes):  # three DAEs' fills: the mean number, the most common category
        fills = [DenoisingAutoencoder(max(1, n_columns // 2), noise="masking", noise_level=0.2,
                                      random_state=seed * 100 + j).fit(holes).impute(holes)
                 for j in range(3)]
        out = fills[0].copy()
        for name in out.columns:
            if pd.api.types.is_numeric_dtype(out[name].dtype):
                out[name] = np.mean([f[name].to_numpy(dtype=float) for f in fills], axis=0)
            else:
                out[name] = pd.concat([f[name] for f in fills], axis=1).mode(axis=1)[0]
        return out

    def fit_vae():
        return VAE(max(1, n_columns // 2), random_state=seed)

    def posterior_mean_fill(holes):  # the decoder's output averaged over draws of z ~ q(z|x)
        vae = fit_vae().fit(holes)
        generator = torch.Generator().manual_seed(seed)

        def averaged(x):
            mu, logvar = vae.module_.encode(x)
            draws = [vae.decode_scaled(mu + torch.exp(0.5 * logvar)
                                       * torch.randn(mu.shape, generator=generator))
                     for _ in range(POSTERIOR_DRAWS)]
            return torch.stack(draws).mean(dim=0)

        vae.reconstruct_scaled = averaged
        return vae.impute(holes)

    return {"AE": run(fit_ae, 0), "DAE": run(fit_dae(), 0), "DAE+r3": run(fit_dae(), 3),
            "DAE-0.5": run(fit_dae(0.5), 0), "DAEx3": three, "VAE": run(fit_vae, 0),
            "VAE-s20": posterior_mean_fill,
            "DAE-p30": run(fit_dae(patience=30, max_epochs=300), 0)}


def sklearn_methods(seed: int) -> dict:
    return {
        "mean": SimpleImputer(),
        "KNN": KNNImputer(),
        "Iterative": IterativeImputer(random_state=seed, max_iter=10),
        "MissForest": IterativeImputer(
            estimator=ExtraTreesRegressor(n_estimators=50, random_state=seed, n_jobs=1),
            random_state=seed, max_iter=5),
    }


def sklearn_fill(imputer, holes: pd.DataFrame, numeric: list[str],
                 categorical: list[str]) -> pd.DataFrame:
    """Encode (standardise, one-hot with NaN blocks), impute, decode (argmax per block)."""
    parts, blocks = [], {}
    mean, std = holes[numeric].mean(), holes[numeric].std().replace(0, 1)
    if numeric:
        parts.append(((holes[numeric] - mean) / std).to_numpy(dtype=np.float64))
    start = len(numeric)
    for name in categorical:
        col = holes[name].astype("string")
        levels = sorted(col.dropna().unique())
        text = col.fillna("\0").to_numpy(dtype=object)
        block = (text[:, None] == np.array(levels, dtype=object)[None, :])
        block = block.astype(np.float64)
        block[col.isna().to_numpy()] = np.nan
        parts.append(block)
        blocks[name] = (start, levels)
        start += len(levels)
    filled = imputer.fit_transform(np.hstack(parts))
    out = holes.copy()
    for j, name in enumerate(numeric):
        out[name] = filled[:, j] * std[name] + mean[name]
    if isinstance(imputer, SimpleImputer):  # the mean of one-hot slots picks the mode
        for name in categorical:
            out[name] = holes[name].fillna(holes[name].mode()[0])
        return out
    for name, (first, levels) in blocks.items():
        out[name] = np.array(levels, dtype=object)[filled[:, first:first + len(levels)].argmax(1)]
    return out


def errors(filled: pd.DataFrame, truth: pd.DataFrame, holes: np.ndarray,
           numeric: list[str], categorical: list[str]) -> tuple[float, float]:
    cols = list(truth.columns)
    sq = []
    for name in numeric:
        j = cols.index(name)
        std = truth[name].std()
        got = pd.to_numeric(filled[name]).to_numpy(dtype=np.float64)
        sq.append(((got - truth[name].to_numpy(dtype=np.float64)) / std)[holes[:, j]] ** 2)
    right = []
    for name in categorical:
        j = cols.index(name)
        right.append((filled[name].astype(str).to_numpy()
                      == truth[name].astype(str).to_numpy())[holes[:, j]])
    rmse = float(np.sqrt(np.concatenate(sq).mean())) if sq else float("nan")
    accuracy = float(np.concatenate(right).mean()) if right else float("nan")
    return rmse, accuracy


def halves() -> tuple[list[str], list[str]]:
    names = list(NUMERIC_SETS + MIXED_TABLES)
    order = np.random.default_rng(2026).permutation(len(names))
    return [names[i] for i in order[:5]], [names[i] for i in order[5:]]


def geo_ratio(per: pd.DataFrame, method: str, sets: list[str]) -> float:
    best = per["rmse"].loc[sets, list(SKLEARN)].min(axis=1)
    return float(np.exp(np.log(per["rmse"].loc[sets, method] / best).mean()))


RUNS = HERE / "results" / "imputation_runs.csv"


def main() -> int:
    """Runs are cached per (table, seed, method) in benchmarks/results/imputation_runs.csv;
    delete it to recompute everything."""
    done = pd.read_csv(RUNS) if RUNS.exists() else pd.DataFrame(
        columns=["dataset", "seed", "method", "rmse", "accuracy", "seconds"])
    rows = done.to_dict("records")
    have = {(r["dataset"], int(r["seed"]), r["method"]) for r in rows}
    for name in NUMERIC_SETS + MIXED_TABLES:
        table, numeric, categorical = load_table(name)
        for seed in SEEDS:
            rng = np.random.default_rng(seed)
            truth = table.iloc[rng.permutation(len(table))[:MAX_ROWS]].reset_index(drop=True)
            holes = mask(truth, rng)
            with_holes = truth.mask(holes)
            runs = {m: f for m, f in aekit_methods(seed, len(truth.columns)).items()}
            runs.update({m: (lambda h, imp=imp, num=numeric, cat=categorical:
                             sklearn_fill(imp, h, num, cat))
                         for m, imp in sklearn_methods(seed).items()})
            line = {}
            for method, fill in runs.items():
                if (name, seed, method) in have:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t = time.perf_counter()
                    filled = fill(with_holes)
                    seconds = time.perf_counter() - t
                assert not filled.isna().to_numpy()[holes].any(), (name, method)
                rmse, accuracy = errors(filled, truth, holes, numeric, categorical)
                rows.append(dict(dataset=name, seed=seed, method=method, rmse=rmse,
                                 accuracy=accuracy, seconds=seconds))
                line[method] = (round(rmse, 3), round(accuracy, 3))
                pd.DataFrame(rows).to_csv(RUNS, index=False)
            print(name, seed, line, flush=True)
    runs_now = pd.DataFrame(rows)
    runs_now = runs_now[runs_now["method"].isin(AEKIT + SKLEARN)]
    per = runs_now.groupby(["dataset", "method"]).mean(numeric_only=True)
    per = per.unstack("method")
    order = list(AEKIT + SKLEARN)
    names = list(NUMERIC_SETS + MIXED_TABLES)
    print("\n| table | " + " | ".join(order) + " |")
    print("|---|" + "---:|" * len(order))
    for ds in names:
        cells = [f"{per['rmse'].loc[ds, m]:.3f}" for m in order]
        if ds in MIXED_TABLES:
            cells = [f"{c} / {per['accuracy'].loc[ds, m]:.3f}" for c, m in zip(cells, order)]
        print(f"| {ds} | " + " | ".join(cells) + " |")
    print("| **geometric mean RMSE vs best scikit-learn** | "
          + " | ".join(f"**{geo_ratio(per, m, names):.3f}**" for m in order) + " |")
    mixed = list(MIXED_TABLES)
    print("| **mean category accuracy (mixed tables)** | "
          + " | ".join(f"**{per['accuracy'].loc[mixed, m].mean():.3f}**" for m in order) + " |")
    print("| mean seconds (fit + fill) | "
          + " | ".join(f"{per['seconds'].loc[names, m].mean():.2f}" for m in order) + " |")
    a, b = halves()
    print("\nLeave-datasets-out choice among", ", ".join(AEKIT))
    for chosen_on, reported_on in ((a, b), (b, a)):
        scores = {m: geo_ratio(per, m, chosen_on) for m in AEKIT}
        pick = min(scores, key=scores.get)
        print(f"- chosen on {chosen_on}: {pick} ({scores[pick]:.3f}); on the other half "
              f"{reported_on}: {geo_ratio(per, pick, reported_on):.3f} "
              f"(the others there: " + ", ".join(
                  f"{m} {geo_ratio(per, m, reported_on):.3f}" for m in AEKIT if m != pick) + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
