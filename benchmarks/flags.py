"""Flags: how useful the default detector's 0/1 decisions are, against IsolationForest's.

The ADBench protocol of benchmarks/adbench.py (every set in ../shared, seeds 0-2, a
stratified 70/30 split, fit on the 70% without labels, anomalies included). For each split
the default ``AnomalyDetector`` is fitted once; its calibration scores (held-out training
rows, what a threshold learns from) and its test scores are cached in
benchmarks/results/flags_cache.npz, beside ``IsolationForest().predict`` (its
``contamination="auto"`` rule) on the same split. Every threshold rule below is then
applied to the same scores: mean F1, precision, recall of the flags on the test rows, and
the flagged share.

Rules (a few, named; none tuned per dataset):

- ``mad3.5``: median + 3.5 x 1.4826 MAD of the calibration scores (the default until now);
- ``mad2.5``, ``mad2``: the same with k = 2.5 and 2;
- ``gap``: aekit's ``GapThreshold`` (two-component mixture of the calibration scores);
- ``quantile10``: the 90% quantile of the calibration scores (PyOD's contamination=0.1),
  a baseline, not a candidate;
- the oracle: the test rows' true anomaly share flagged (a ceiling no rule can know).

Choice by leave-datasets-out validation: the sets are split into two halves by a seeded
shuffle; the rule with the best mean F1 on one half is reported on the other, and the
other way round.

    .venv/bin/python benchmarks/flags.py            # fits what is not cached yet
    .venv/bin/python benchmarks/flags.py --fresh    # refits everything
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adbench import DATA, RESULTS, SEEDS, make_split  # noqa: E402

CACHE = RESULTS / "flags_cache.npz"


def collect(fresh: bool) -> dict[str, np.ndarray]:
    from aekit import AnomalyDetector

    cache = {} if fresh or not CACHE.exists() else dict(np.load(CACHE, allow_pickle=False))
    paths = sorted(DATA.glob("*.npz"), key=lambda p: int(p.stem.split("_")[0]))
    for path in paths:
        for seed in SEEDS:
            key = f"{path.stem}/{seed}"
            if f"{key}/test" in cache:
                continue
            with np.load(path, allow_pickle=False) as npz:
                X, y = npz["X"].astype(np.float64), npz["y"].astype(int)
            X_tr, X_te, y_te = make_split(X, y, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                det = AnomalyDetector(random_state=seed).fit(X_tr)
                forest = IsolationForest(random_state=seed).fit(X_tr)
            cache[f"{key}/calibration"] = det.calibration_scores_
            cache[f"{key}/test"] = det.anomaly_score(X_te)
            cache[f"{key}/y"] = y_te
            cache[f"{key}/iforest"] = (forest.predict(X_te) == -1).astype(int)
            print(key, flush=True)
            RESULTS.mkdir(exist_ok=True)
            np.savez_compressed(CACHE, **cache)
    return cache


def rules() -> dict:
    from aekit.anomaly.thresholds import make_threshold

    def rule(name, **params):
        return lambda cal, test: make_threshold(name, **params).fit(cal).predict(test)

    return {"mad3.5": rule("mad", k=3.5), "mad2.5": rule("mad", k=2.5),
            "mad2": rule("mad", k=2.0), "gap": rule("gap"),
            "quantile10": rule("quantile", contamination=0.1)}


def evaluate(cache: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = []
    keys = sorted({k.rsplit("/", 1)[0] for k in cache})
    for key in keys:
        cal, test, y = cache[f"{key}/calibration"], cache[f"{key}/test"], cache[f"{key}/y"]
        flags = {name: fn(cal, test) for name, fn in rules().items()}
        flags["IForest.predict"] = cache[f"{key}/iforest"]
        flags["oracle"] = (test > np.quantile(test, 1 - y.mean())).astype(int)
        for name, f in flags.items():
            rows.append(dict(dataset=key.split("/")[0], seed=int(key.split("/")[1]), rule=name,
                             f1=f1_score(y, f, zero_division=0),
                             precision=precision_score(y, f, zero_division=0),
                             recall=recall_score(y, f, zero_division=0),
                             flagged=float(np.mean(f)), anomalies=float(np.mean(y)),
                             false_alarms=float(np.mean(f[y == 0])),
                             auc=roc_auc_score(y, test)))
    return pd.DataFrame(rows)


def halves(names: list[str]) -> tuple[list[str], list[str]]:
    order = np.random.default_rng(2026).permutation(len(names))
    half = len(names) // 2
    return [names[i] for i in order[:half]], [names[i] for i in order[half:]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", action="store_true", help="refit every split")
    args = parser.parse_args()
    runs = evaluate(collect(args.fresh))
    per = runs.groupby(["dataset", "rule"]).mean(numeric_only=True).unstack("rule")
    order = list(rules()) + ["IForest.predict", "oracle"]
    print("| rule | mean F1 | precision | recall | flagged share | normal rows flagged "
          "(mean, worst set) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in order:
        print(f"| {r} | {per['f1'][r].mean():.3f} | {per['precision'][r].mean():.3f} | "
              f"{per['recall'][r].mean():.3f} | {per['flagged'][r].mean():.3f} | "
              f"{per['false_alarms'][r].mean():.3f}, {per['false_alarms'][r].max():.3f} |")
    print(f"(anomaly share of the test rows: {per['anomalies'].iloc[:, 0].mean():.3f}; "
          f"aekit ROC-AUC {per['auc'].iloc[:, 0].mean():.3f})")
    print("\n| dataset | " + " | ".join(order) + " |")
    print("|---|" + "---:|" * len(order))
    for ds in per.index:
        print(f"| {ds} | " + " | ".join(f"{per['f1'].loc[ds, r]:.3f}" for r in order) + " |")
    a, b = halves(list(per.index))
    candidates = [r for r in rules() if r != "quantile10"]
    print("\nLeave-datasets-out choice among", ", ".join(candidates))
    for chosen_on, reported_on in ((a, b), (b, a)):
        f1 = {r: per["f1"].loc[chosen_on, r].mean() for r in candidates}
        pick = max(f1, key=f1.get)
        other = per["f1"].loc[reported_on]
        print(f"- chosen on {len(chosen_on)} sets: {pick} (F1 {f1[pick]:.3f}); on the other "
              f"{len(reported_on)}: {pick} {other[pick].mean():.3f}, quantile10 "
              f"{other['quantile10'].mean():.3f}, IForest.predict "
              f"{other['IForest.predict'].mean():.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
