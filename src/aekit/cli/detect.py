"""``aekit detect``: fit an anomaly detector on DATA and score the same rows in one go."""

from __future__ import annotations

import argparse
from typing import Any

from aekit.cli._common import (
    TABLE_OUTPUTS,
    add_column_roles,
    add_detector_options,
    add_encoding,
    add_quiet,
    add_subparser,
    build_detector,
    print_schema,
)
from aekit.exceptions import DataError


def add_parser(subparsers) -> None:
    p = add_subparser(
        subparsers, "detect", help="fit a detector on DATA and flag its anomalies",
        description="Fit an autoencoder anomaly detector on DATA and write, for every row in "
                    "the input's order, its anomaly score, a 0/1 flag and, for flagged rows, "
                    "the three features contributing most to its score. With --labels, the "
                    "labels column is excluded from the features and metrics are printed. "
                    "Options not given take the library's defaults (help(aekit.AnomalyDetector)).",
        example="aekit detect transactions.csv --labels is_fraud --threshold pot --out scores.csv")
    p.add_argument("data", help="data file (CSV/TSV, Parquet, .npy, .npz)")
    add_encoding(p)
    p.add_argument("--labels", default=None, help="column with 0/1 or yes/no labels (1, yes = anomaly)")
    add_detector_options(p)
    add_column_roles(p)
    p.add_argument("--out", required=True, metavar="SCORES",
                   help="output .csv/.tsv/.parquet, or .npy for the scores alone")
    add_quiet(p)
    p.set_defaults(run=run, out_suffixes=TABLE_OUTPUTS)


def labels_as_binary(y: Any, source: str):
    import numpy as np
    import pandas as pd

    from aekit.data.columns import FALSE_TEXT, TRUE_TEXT

    y = np.asarray(y)
    empty = np.flatnonzero(pd.isna(y))
    if len(empty):
        raise DataError(f"{source}: the labels column has {len(empty)} empty cell(s), the "
                        f"first in row {empty[0] + 1}. Label every row (0 or 1), or leave "
                        "--labels out to score without metrics.")
    try:
        values = y.astype(np.float64)
    except (TypeError, ValueError):
        # yes/no, true/false, y/n, t/f (any case): the true value is the anomaly
        text = np.char.lower(np.char.strip(y.astype(str)))
        if not np.isin(text, TRUE_TEXT + FALSE_TEXT).all():
            odd = sorted(set(np.unique(y[~np.isin(text, TRUE_TEXT + FALSE_TEXT)]).tolist()))
            raise DataError(f"{source}: the labels must be 0/1 or yes/no, true/false (1 or "
                            f"yes = anomaly); found {odd[:5]}.") from None
        values = np.isin(text, TRUE_TEXT).astype(np.float64)
    if not np.isin(values, (0, 1)).all():
        found = sorted(set(np.unique(values).tolist()))
        hint = " For -1/1 labels (1 = normal, as scikit-learn's predict writes them), map " \
            "-1 to 1 and 1 to 0." if set(found) == {-1.0, 1.0} else ""
        raise DataError(f"{source}: the labels must be 0/1 (1 = anomaly); found values "
                        f"{[int(v) if float(v).is_integer() else v for v in found[:5]]}.{hint}")
    return values.astype(np.int64)


TOP_ROWS = 5  # rows explained after the summary


def write_scores(out: str, frame: Any) -> None:
    """The scores table to ``out``; a .npy file, which holds numbers only, gets the scores
    alone, one per row in order."""
    from aekit.data.io import write_table

    write_table(out, frame["score"].to_numpy() if str(out).lower().endswith(".npy") else frame)


def rule_text(threshold: Any) -> str:
    """One line: the rule and the score it puts the cut at."""
    name = type(threshold).__name__
    if name == "MADThreshold":
        rule = f"score > median + {threshold.k:g} x robust std of the calibration scores"
    elif name == "MeanStdThreshold":
        rule = f"score > mean + {threshold.k:g} x std of the calibration scores"
    elif name == "QuantileThreshold":
        rule = (f"score > the {1 - threshold.contamination:.0%} quantile of the calibration "
                "scores")
    elif name == "POTThreshold":
        rule = f"score > the peaks-over-threshold cut for a false-alarm risk of {threshold.q:g}"
    elif name == "GapThreshold":
        rule = ("score > the gap above the calibration scores' bulk" if not threshold.fallback_
                else f"score > median + {threshold.fallback_k:g} x robust std (no gap found)")
    else:
        rule = f"'{getattr(threshold, '_name', name)}'"
    return f"{rule} = {threshold.threshold_:.4g}"


def with_files(frame: Any, files: list[str] | None) -> Any:
    """A scores table with each image's file first (a folder of images), as a table's
    identifiers are."""
    if files is not None:
        from aekit.data.schema import carried_name

        frame.insert(0, carried_name("file", list(frame.columns)), files)
    return frame


def explanation_lines(explained: Any, files: list[str] | None = None) -> list[str]:
    """``detector.explain`` as lines: each top row (and its file, for a folder of images),
    its score, and for each top feature the row's value beside the typical one and the
    feature's share of the score."""
    from aekit.anomaly.attribution import feature_text

    if explained.empty:
        return []
    lines = [f"top {explained['rank'].max()} rows (data rows counted from 1; feature = value "
             "(typical value, the value expected from the rest of the row where it differs, "
             "share of the score)):"]
    for (_, row, score), part in explained.groupby(["rank", "row", "score"], sort=True):
        cells = []
        for f in part.itertuples():
            cells.append(feature_text(f.feature, f.value, f.typical, f.share, f.expected))
        # counted from 1, as the data rows in error messages are
        named = f" ({files[row]})" if files is not None else ""
        lines.append(f"  row {row + 1}{named}, score {score:.3g}: " + "; ".join(cells))
    return lines


BUSY_FLAGS = 0.1  # a flagged share above which the summary points to a stricter rule


def summary(detector: Any, flags: Any, scores: Any, y: Any = None, source: str = "", *,
            empty: tuple[int, list[int]] | None = None) -> str:
    """The lines ``detect`` and ``score`` print: rows, flagged share, threshold, metrics.
    ``empty``: how many rows had nothing to score (NaN) and the first of them, when
    ``scores`` were not kept."""
    import numpy as np

    from aekit.anomaly.metrics import detection_metrics, format_metrics
    from aekit.streaming import EMPTY_SHOWN

    if empty is None:  # in memory: the NaN scores say which rows
        unscored = np.flatnonzero(np.isnan(scores))
        empty = (len(unscored), unscored[:EMPTY_SHOWN].tolist())
    rows = f"rows: {len(flags)}"
    if empty[0]:
        shown = ", ".join(str(r + 1) for r in empty[1]) + (", ..." if empty[0] > len(empty[1])
                                                           else "")
        rows += (f" ({empty[0]} with no value in any feature column, not scored: score "
                 f"left empty, not flagged; row {shown})")
    lines = [rows, f"flagged: {int(flags.sum())} ({flags.mean():.1%}) by the rule "
             f"{rule_text(detector.threshold_obj_)}"]
    rule = detector.threshold_obj_
    if len(flags) and flags.mean() > BUSY_FLAGS and type(rule).__name__ == "MADThreshold" \
            and float(rule.k) <= 2.5:
        lines.append(f"note: the default rule flags many rows ({flags.mean():.0%}): it suits "
                     "tables where about a tenth are anomalies; where they are rare, --k 3.5 "
                     "flags far fewer")
    if y is not None:
        y = labels_as_binary(y, source)
        scored = ~np.isnan(scores)
        y, scores, flags = y[scored], scores[scored], np.asarray(flags)[scored]
        if 0 < y.sum() < len(y):
            lines.append("metrics: " + format_metrics(detection_metrics(y, scores, flags)))
        else:
            lines.append("metrics: skipped (the labels hold only one class)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from aekit.data.io import read_data
    from aekit.streaming import score_table

    detector = build_detector(args)
    data = read_data(args.data, labels=args.labels, encoding=args.encoding)
    if data.y is not None and args.labels is not None:
        labels_as_binary(data.y, args.data)  # fail before training, not after
    detector.fit(data.X)
    if not detector.input_spec_.is_images:  # a table: what each column was read as
        print_schema(detector)
    frame = with_files(score_table(detector, data.X), data.files)
    write_scores(args.out, frame)
    print(summary(detector, frame["flag"].to_numpy(), frame["score"].to_numpy(),
                  data.y if args.labels or data.y is not None else None, args.data))
    print("\n".join(explanation_lines(detector.explain(data.X, n=TOP_ROWS,
                                                        scores=frame["score"].to_numpy()),
                                       data.files)))
    return 0
