"""``aekit score``: score new data with a saved anomaly detector."""

from __future__ import annotations

import argparse

from aekit.cli._common import add_quiet, add_subparser
from aekit.cli.detect import score_frame, summary
from aekit.data.io import read_data, write_table
from aekit.estimators import AnomalyDetector
from aekit.exceptions import ModelFileError
from aekit.persistence import load
from aekit.streaming import CHUNK_ROWS, can_stream, score_file


def add_parser(subparsers) -> None:
    p = add_subparser(subparsers, "score", help="score DATA with a saved detector",
                      description="Anomaly scores, 0/1 flags and top contributing features for "
                                  "DATA, using a detector saved by 'aekit fit --detector'. "
                                  "Parquet and CSV/TSV inputs are streamed in chunks to a "
                                  ".parquet/.csv/.tsv output, so DATA may exceed memory.",
                      example="aekit score detector new.csv --out scores.parquet")
    p.add_argument("model", help="detector directory")
    p.add_argument("data", help="data file with the columns the detector was fitted on")
    p.add_argument("--labels", default=None, help="0/1 labels column: excluded, used for metrics")
    p.add_argument("--out", required=True, metavar="SCORES", help="output .csv/.tsv/.parquet/.npy")
    p.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS,
                   help="rows per chunk when streaming")
    add_quiet(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    detector = load(args.model)
    if not isinstance(detector, AnomalyDetector):
        raise ModelFileError(f"{args.model}: holds a {type(detector).__name__}, not an anomaly "
                             "detector. Fit one with 'aekit fit DATA --detector --out DIR'.")
    if can_stream(args.data, args.out):
        result = score_file(detector, args.data, args.out, chunk_rows=args.chunk_rows,
                            labels=args.labels, progress=not args.quiet)
        print(summary(detector, result.flags, result.scores, result.labels, args.data))
        return 0
    data = read_data(args.data, labels=args.labels)
    frame, scores, flags = score_frame(detector, data.X)
    write_table(args.out, frame)
    print(summary(detector, flags, scores, data.y if args.labels else None, args.data))
    return 0
