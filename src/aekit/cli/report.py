"""``aekit report``: one self-contained HTML page about a saved model on some data."""

from __future__ import annotations

import argparse

from aekit.cli._common import (
    QUIET_WRITES,
    add_encoding,
    add_quiet,
    add_subparser,
    labels_of_fit,
    say,
)


def image_shape(text: str) -> tuple[int, ...]:
    """Parse "8x8" or "3x32x32" into (8, 8) or (3, 32, 32)."""
    try:
        shape = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected HxW or CxHxW like 8x8, got {text!r}")
    return shape


def add_parser(subparsers) -> None:
    p = add_subparser(
        subparsers, "report", help="write an HTML report about a model on some data",
        description="Write one self-contained HTML file (images inline, opens offline) with "
                    "the model card, loss curves, the score histogram (with the threshold for "
                    "detectors), a map of the latent space, the top anomalies and their "
                    "features; ROC and precision-recall curves with --labels; the bottleneck "
                    "curve with --sweep; reconstructions, and VAE samples and interpolations, "
                    "for images.",
        example="aekit report model data.csv --labels is_fraud --out report.html")
    p.add_argument("model", help="model directory written by 'aekit fit' or 'aekit detect'")
    p.add_argument("data", help="data file (CSV/TSV, Parquet, .npy, .npz, images)")
    add_encoding(p)
    p.add_argument("--labels", default=None, metavar="COLUMN",
                   help="labels column: colours the latent map; 0/1 labels (1 = anomaly) "
                        "add ROC and precision-recall curves")
    p.add_argument("--sweep", default=None, metavar="DIR_OR_CSV",
                   help="output of 'aekit sweep --out DIR' to add the bottleneck curve")
    p.add_argument("--image-shape", type=image_shape, default=None, metavar="HxW",
                   help="rows are images of this shape (e.g. 8x8): adds image strips")
    p.add_argument("--seed", type=int, default=0, help="seed for the rows and samples shown")
    p.add_argument("--out", required=True, metavar="HTML", help="where to write the report")
    add_quiet(p, QUIET_WRITES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from aekit.data.io import read_data
    from aekit.persistence import load
    from aekit.report.html import write_report
    from aekit.report.sections import load_sweep, model_report

    model = load(args.model)
    args.labels = labels_of_fit(model, args.data, args.labels, args.encoding)
    data = read_data(args.data, labels=args.labels, encoding=args.encoding)
    sweep = load_sweep(args.sweep) if args.sweep else None
    report = model_report(model, data.X, data.y, source=args.data,
                          labels_name=args.labels or "label", sweep=sweep,
                          image_shape=args.image_shape, random_state=args.seed)
    path = write_report(report, args.out)
    say(args, f"wrote {path} ({len(report.sections)} sections)")
    return 0
