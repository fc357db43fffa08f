"""Values beyond the detector's +/-20 bound: compressed (now) against clipped (before).

The ADBench protocol of ``adbench.py`` (21 sets, seeds 0-2, the default detector), run
twice in one process: as aekit encodes now (``clip_mode="log"``: beyond the bound ``c``,
``c + log(1 + excess)``) and with the old hard clip (``InputSpec.encode`` patched to
clip). Mean ROC-AUC and AP, on all sets and on the halves of section 12.

    .venv/bin/python benchmarks/far_values.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import adbench  # noqa: E402

from aekit import AnomalyDetector  # noqa: E402
from aekit.data import schema  # noqa: E402

HALF_A = ("42_WBC", "32_shuttle", "40_vowels", "14_glass", "5_campaign", "38_thyroid",
          "2_annthyroid", "18_Ionosphere", "25_musk", "20_letter")


def clipped(self, rows: np.ndarray) -> np.ndarray:
    scaled = self.scaler.transform(rows)
    return scaled if self.clip is None else np.clip(scaled, -self.clip, self.clip, out=scaled)


def run(mode: str) -> pd.DataFrame:
    compressing = schema.InputSpec.encode
    if mode == "clip":
        schema.InputSpec.encode = clipped
    rows = []
    try:
        for path in sorted(adbench.DATA.glob("*.npz")):
            with np.load(path) as data:
                X, y = data["X"].astype(np.float64), data["y"]
            for seed in adbench.SEEDS:
                X_tr, X_te, y_te = adbench.make_split(X, y, seed)
                scores = AnomalyDetector(random_state=seed).fit(X_tr).anomaly_score(X_te)
                rows.append({"dataset": path.stem, "seed": seed, "mode": mode,
                             "roc_auc": roc_auc_score(y_te, scores),
                             "ap": average_precision_score(y_te, scores)})
    finally:
        schema.InputSpec.encode = compressing
    return pd.DataFrame(rows)


def main() -> int:
    warnings.simplefilter("ignore")
    runs = pd.concat([run("compress"), run("clip")])
    per = runs.groupby(["mode", "dataset"])[["roc_auc", "ap"]].mean()
    print("| mode | mean ROC-AUC | mean AP | half A ROC-AUC / AP | half B ROC-AUC / AP |")
    print("|---|---:|---:|---:|---:|")
    for mode in ("clip", "compress"):
        table = per.loc[mode]
        a = table.loc[table.index.isin(HALF_A)].mean()
        b = table.loc[~table.index.isin(HALF_A)].mean()
        print(f"| {mode} | {table.roc_auc.mean():.4f} | {table.ap.mean():.4f} | "
              f"{a.roc_auc:.4f} / {a.ap:.4f} | {b.roc_auc:.4f} / {b.ap:.4f} |")
    delta = (per.loc["compress"] - per.loc["clip"]).round(4)
    print(delta[(delta.abs() > 0.001).any(axis=1)].to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
