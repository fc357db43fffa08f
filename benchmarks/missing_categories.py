"""Missing cells: do they make a row look anomalous? Real mixed tables, MCAR blanks.

The tables and planted anomalies of ``mixed_tables.py`` (a numeric extreme, an unseen
category, an impossible pair; 5% of the test rows), seeds 0-2. Then 5% of the cells of
every categorical column (``--blank all``: of every feature column, numbers and booleans
too) are blanked completely at random, in the training rows and in the test rows that
hold no plant (missingness that says nothing). Reported:

- ROC-AUC of aekit's default ``AnomalyDetector`` on the plants;
- among normal test rows, the share the default rule flags, for rows with a blank cell
  and for rows without one (a row's score should not depend on a gap that says nothing);
- the mean percentile rank of the normal rows with a blank (50 = like any other row).

    .venv/bin/python benchmarks/missing_categories.py [--blank all]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mixed_tables import SEEDS, plant, usable_tables  # noqa: E402

from aekit import AnomalyDetector  # noqa: E402
from aekit.data.schema import InputSpec  # noqa: E402

BLANKED = 0.05


def blank(frame: pd.DataFrame, columns: list[str], rows: np.ndarray,
          rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` with BLANKED of each column's cells (among ``rows``) emptied; which rows."""
    out, hit = frame.copy(), np.zeros(len(frame), dtype=bool)
    for name in columns:
        chosen = rows[rng.random(len(rows)) < BLANKED]
        if not pd.api.types.is_float_dtype(out[name].dtype):  # ints and text hold None
            out[name] = out[name].astype(object)
        out.iloc[chosen, out.columns.get_loc(name)] = None
        hit[chosen] = True
    return out, hit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blank", choices=("categorical", "all"), default="categorical",
                        help="which feature columns get blanks (default: categorical)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    lines = []
    for name, frame in usable_tables().items():
        spec, _ = InputSpec.from_training_data(frame)
        blanked = [c.name for c in spec.columns if c.is_feature and
                       (args.blank == "all" or c.role == "categorical")]
        for seed in SEEDS:
            rng = np.random.default_rng(seed)
            train, test = train_test_split(frame, test_size=0.3, random_state=seed)
            test, y = plant(train, test, spec, rng)
            train, _ = blank(train.reset_index(drop=True), blanked,
                             np.arange(len(train)), rng)
            test, gap = blank(test, blanked, np.flatnonzero(y == 0), rng)
            det = AnomalyDetector(random_state=seed).fit(train)
            scores = det.anomaly_score(test)
            flags = det.predict(test) == -1
            normal = y == 0
            ranks = pd.Series(scores).rank(pct=True).to_numpy() * 100
            lines.append({"table": name, "seed": seed, "roc_auc": roc_auc_score(y, scores),
                          "flagged with a blank": flags[normal & gap].mean(),
                          "flagged without": flags[normal & ~gap].mean(),
                          "rank of rows with a blank": ranks[normal & gap].mean()})
    table = pd.DataFrame(lines).groupby("table").mean(numeric_only=True).drop(columns="seed")
    table.loc["mean"] = table.mean()
    print("| table | " + " | ".join(table.columns) + " |")
    print("|---|" + "---:|" * len(table.columns))
    for name, row in table.iterrows():
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
