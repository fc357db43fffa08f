"""Do the top features name the column a row is anomalous in? Before and after, side by side.

Real tables: five ADBench sets of ../shared/datasets (labels dropped) and two mixed tables
(seattle_weather, superstore; their numeric columns are the ones planted and measured).
"before" is the reconstruction view alone (each column's share of the members' summed
squared error, what ``top_features`` reported until now); "after" is
``AnomalyDetector.feature_contributions``, the attribution of the whole score.

1. Planted outliers: fit the default detector on 70% of the rows; in held-out rows set one
   numeric column to (a) beyond the training range, the training maximum + 3 IQR (or the
   minimum - 3 IQR, whichever is farther from the row's value), or (b) within it, the
   training 1% or 99% quantile, whichever is farther from the row's value. Share of rows
   whose top-1 feature is the planted column (every column, 20 rows each).
2. Detect mode (fit and score the same table, as ``aekit detect`` does): for the 20
   top-scored rows, is the column in which the row is most extreme (robust z-score,
   ``|x - median| / IQR`` over the numeric columns) among its top-3 features?

    .venv/bin/python benchmarks/attribution.py
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from aekit import AnomalyDetector
from aekit.data.io import read_data

HERE = Path(__file__).resolve().parent
DATASETS = Path(os.environ.get("AEKIT_DATASETS", HERE.parent.parent / "shared" / "datasets"))
ADBENCH = ("6_cardio", "38_thyroid", "42_WBC", "47_yeast", "30_satellite")
MIXED = ("seattle_weather", "superstore")
ROWS_PER_COLUMN = 20
TOP_ROWS = 20
MAX_ROWS = 4000


def load(name: str) -> tuple[pd.DataFrame, list[str]]:
    if name in ADBENCH:
        with np.load(DATASETS / "adbench" / f"{name}.npz", allow_pickle=False) as npz:
            X = npz["X"].astype(np.float64)
        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    else:
        frame = read_data(DATASETS / "tables" / f"{name}.csv").X
    frame = frame.sample(n=min(MAX_ROWS, len(frame)), random_state=0).reset_index(drop=True)
    numeric = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])
               or pd.api.types.is_integer_dtype(frame[c])]
    iqr = frame[numeric].quantile(0.75) - frame[numeric].quantile(0.25)
    return frame, [c for c in numeric if iqr[c] > 0]  # columns with spread to measure


def shares_before(det: AnomalyDetector, X: pd.DataFrame) -> np.ndarray:
    xs = det.scaled(X)
    total = sum(m.error_map(xs) for m in det.estimators_)
    sums = total.sum(axis=1, keepdims=True)
    return det.input_spec_.per_input_column(total / np.where(sums > 0, sums, 1.0))[1]


def shares_after(det: AnomalyDetector, X: pd.DataFrame) -> np.ndarray:
    return det.feature_contributions(X)


def planted(name: str) -> dict[str, float]:
    frame, numeric = load(name)
    n_train = int(0.7 * len(frame))
    train, rest = frame.iloc[:n_train], frame.iloc[n_train:].reset_index(drop=True)
    det = AnomalyDetector(random_state=0).fit(train)
    names = det.input_spec_.feature_groups()[0]
    hits = {("before", "beyond"): [], ("after", "beyond"): [], ("before", "within"): [],
            ("after", "within"): []}
    rng = np.random.default_rng(0)
    for column in numeric:
        col = train[column].astype(float)
        iqr = col.quantile(0.75) - col.quantile(0.25)
        rows = rng.choice(len(rest), size=min(ROWS_PER_COLUMN, len(rest)), replace=False)
        base = rest.iloc[rows].reset_index(drop=True)
        for kind in ("beyond", "within"):
            X = base.copy()
            X[column] = X[column].astype(float)
            if kind == "beyond":
                high, low = col.max() + 3 * iqr, col.min() - 3 * iqr
            else:
                high, low = col.quantile(0.99), col.quantile(0.01)
            values = X[column].to_numpy()
            X[column] = np.where(np.abs(high - values) >= np.abs(values - low), high, low)
            for label, fn in (("before", shares_before), ("after", shares_after)):
                top = np.asarray(names)[fn(det, X).argmax(axis=1)]
                hits[(label, kind)].extend(top == column)
    return {f"{label} {kind}": float(np.mean(v)) for (label, kind), v in hits.items()}


def detect_mode(name: str) -> dict[str, float]:
    frame, numeric = load(name)
    det = AnomalyDetector(random_state=0).fit(frame)
    scores = det.anomaly_score(frame)
    top_rows = np.argsort(-scores, kind="stable")[:TOP_ROWS]
    values = frame[numeric].astype(float)
    z = ((values - values.median()) / (values.quantile(0.75) - values.quantile(0.25))).abs()
    extreme = np.asarray(numeric)[z.to_numpy()[top_rows].argmax(axis=1)]
    names = np.asarray(det.input_spec_.feature_groups()[0])
    out = {}
    for label, fn in (("before", shares_before), ("after", shares_after)):
        shares = fn(det, frame.iloc[top_rows])
        top3 = names[np.argsort(-shares, axis=1, kind="stable")[:, :3]]
        out[label] = float(np.mean([e in t for e, t in zip(extreme, top3)]))
    return out


def main() -> int:
    rows = []
    for name in ADBENCH + MIXED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, d = planted(name), detect_mode(name)
        rows.append({"table": name, **{f"planted {k}": v for k, v in p.items()},
                     "detect before": d["before"], "detect after": d["after"]})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows).set_index("table")
    table.loc["**mean**"] = table.mean()
    cols = ["planted before beyond", "planted after beyond", "planted before within",
            "planted after within", "detect before", "detect after"]
    print("\n| table | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for name, r in table.iterrows():
        print(f"| {name} | " + " | ".join(f"{r[c]:.2f}" for c in cols) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
