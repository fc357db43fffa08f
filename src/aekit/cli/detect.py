"""``aekit detect``: fit an anomaly detector on DATA and score the same rows in one go."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from aekit.anomaly.metrics import detection_metrics, format_metrics
from aekit.cli._common import add_quiet, add_subparser
from aekit.data.io import read_data, write_table
from aekit.estimators import AnomalyDetector
from aekit.exceptions import DataError

THRESHOLDS = ("mean_std", "quantile", "mad", "pot")


def add_detector_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threshold", choices=THRESHOLDS, default="mad",
                   help="how the flagging threshold is fitted to the training scores")
    p.add_argument("--contamination", type=float, default=0.1,
                   help="expected share of anomalies, for --threshold quantile; in (0, 0.5]")
    p.add_argument("--k", type=float, default=None, help="width for mean_std (3) and mad (3.5)")
    p.add_argument("--q", type=float, default=1e-3, help="risk level for --threshold pot")
    p.add_argument("--n-estimators", type=int, default=3, help="autoencoders in the ensemble")
    p.add_argument("--detector-model", dest="detector_model", choices=("ae", "vae"), default="ae")
    p.add_argument("--epochs", type=int, default=20, help="maximum epochs per member")
    p.add_argument("--seed", type=int, default=None, help="random seed")


def build_detector(args: argparse.Namespace) -> AnomalyDetector:
    return AnomalyDetector(model=args.detector_model, n_estimators=args.n_estimators,
                           threshold=args.threshold, contamination=args.contamination, k=args.k,
                           q=args.q, max_epochs=args.epochs, random_state=args.seed,
                           verbose=0 if args.quiet else 1)


def add_parser(subparsers) -> None:
    p = add_subparser(
        subparsers, "detect", help="fit a detector on DATA and flag its anomalies",
        description="Fit an autoencoder anomaly detector on DATA and write, for every row in "
                    "the input's order, its anomaly score, a 0/1 flag and, for flagged rows, "
                    "the three features contributing most to its error. With --labels, the "
                    "labels column is excluded from the features and metrics are printed.",
        example="aekit detect transactions.csv --labels is_fraud --threshold pot --out scores.csv")
    p.add_argument("data", help="data file (CSV/TSV, Parquet, .npy, .npz)")
    p.add_argument("--labels", default=None, help="column with 0/1 labels (1 = anomaly)")
    add_detector_options(p)
    p.add_argument("--out", required=True, metavar="SCORES", help="output .csv/.tsv/.parquet/.npy")
    add_quiet(p)
    p.set_defaults(run=run)


def score_frame(detector: AnomalyDetector, X) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Scores, flags and top-3 contributing features (flagged rows only) as a DataFrame."""
    scores = detector.anomaly_score(X)
    flags = (scores > detector.threshold_).astype(np.int64)
    out = pd.DataFrame({"score": scores, "flag": flags})
    top = [""] * len(scores)
    rows = np.flatnonzero(flags)
    if len(rows):
        subset = X.iloc[rows] if hasattr(X, "iloc") else np.asarray(X)[rows]
        for i, features in zip(rows, detector.top_features(subset, n=3)):
            top[i] = ";".join(f"{name}:{share:.2f}" for name, share in features)
    out["top_features"] = top
    return out, scores, flags


def labels_as_binary(y, source: str) -> np.ndarray:
    y = np.asarray(y)
    try:
        values = y.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{source}: the labels must be 0/1 numbers (1 = anomaly).") from None
    if not np.isin(values, (0, 1)).all():
        raise DataError(f"{source}: the labels must be 0/1 (1 = anomaly); found values "
                        f"{sorted(set(np.unique(values).tolist()))[:5]}.")
    return values.astype(np.int64)


def summary(detector: AnomalyDetector, flags: np.ndarray, scores: np.ndarray, y=None,
            source: str = "") -> str:
    lines = [f"rows: {len(flags)}", f"flagged: {int(flags.sum())} ({flags.mean():.1%})",
             f"threshold: {detector.threshold} = {detector.threshold_:.4g}"]
    if y is not None:
        y = labels_as_binary(y, source)
        if 0 < y.sum() < len(y):
            lines.append("metrics: " + format_metrics(detection_metrics(y, scores, flags)))
        else:
            lines.append("metrics: skipped (the labels hold only one class)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    detector = build_detector(args)
    data = read_data(args.data, labels=args.labels)
    if data.y is not None and args.labels is not None:
        labels_as_binary(data.y, args.data)  # fail before training, not after
    detector.fit(data.X)
    frame, scores, flags = score_frame(detector, data.X)
    write_table(args.out, frame)
    print(summary(detector, flags, scores, data.y if args.labels or data.y is not None else None,
                  args.data))
    return 0
