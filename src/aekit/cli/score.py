"""``aekit score``: score new data with a saved anomaly detector."""

from __future__ import annotations

import argparse

from aekit.cli._common import (
    TABLE_OUTPUTS,
    add_encoding,
    add_quiet,
    add_subparser,
    labels_of_fit,
    load_model,
    names_list,
)
from aekit.cli.detect import TOP_ROWS, explanation_lines, summary, with_files, write_scores
from aekit.exceptions import DataError


def add_parser(subparsers) -> None:
    p = add_subparser(subparsers, "score", help="score DATA with a saved detector",
                      description="Anomaly scores, 0/1 flags and top contributing features for "
                                  "DATA, using a detector saved by 'aekit fit --detector'. "
                                  "Parquet and CSV/TSV inputs are streamed in chunks to a "
                                  ".parquet/.csv/.tsv output, so DATA may exceed memory.",
                      example="aekit score detector new.csv --out scores.parquet")
    p.add_argument("model", help="detector directory")
    p.add_argument("data", help="data file with the columns the detector was fitted on")
    add_encoding(p)
    p.add_argument("--labels", default=None, help="0/1 or yes/no labels column (1, yes = anomaly): excluded, used for metrics")
    p.add_argument("--out", required=True, metavar="SCORES",
                   help="output .csv/.tsv/.parquet, or .npy for the scores alone")
    p.add_argument("--chunk-rows", type=int, default=None,
                   help="rows per chunk when streaming")
    p.add_argument("--ignore", type=names_list, default=(), metavar="COL[,COL...]",
                   help="columns of DATA to leave out (ones fit did not see)")
    add_quiet(p)
    p.set_defaults(run=run, out_suffixes=TABLE_OUTPUTS)


def print_notes(detector, counts, n_rows: int) -> None:
    """Columns missing in every row scored, or mostly of values fit never saw."""
    import numpy as np

    if counts is not None:
        for note in detector.input_spec_.unusual_columns(np.asarray(counts), n_rows):
            print(note)


def run(args: argparse.Namespace) -> int:
    from aekit.data.io import read_data
    from aekit.streaming import can_stream, score_file, score_table

    detector = load_model(args.model, "anomaly_score", "score")
    args.labels = labels_of_fit(detector, args.data, args.labels, args.encoding)
    if can_stream(args.data, args.out):
        chunking = {"chunk_rows": args.chunk_rows} if args.chunk_rows is not None else {}
        result = score_file(detector, args.data, args.out, labels=args.labels,
                            progress=not args.quiet, encoding=args.encoding,
                            ignore=args.ignore, **chunking)
        print(summary(detector, result.flags, result.scores, result.labels, args.data,
                      empty=result.empty))
        print_notes(detector, result.cell_counts, result.n_rows)
        top = detector.explain_rows(*result.top, cells=result.top_cells)
        print("\n".join(explanation_lines(top)))
        return 0
    data = read_data(args.data, labels=args.labels, encoding=args.encoding)
    if args.ignore:
        unknown = sorted(set(args.ignore) - set(map(str, getattr(data.X, "columns", []))))
        if unknown:
            raise DataError(f"{args.data}: no column(s) {unknown} to ignore.")
        data.X = data.X.drop(columns=list(args.ignore))
    frame = with_files(score_table(detector, data.X), data.files)
    write_scores(args.out, frame)
    print(summary(detector, frame["flag"].to_numpy(), frame["score"].to_numpy(),
                  data.y if args.labels else None, args.data))
    print_notes(detector, frame.attrs.get("cell_counts"), len(frame))
    print("\n".join(explanation_lines(detector.explain(data.X, n=TOP_ROWS,
                                                        scores=frame["score"].to_numpy()),
                                       data.files)))
    return 0
