"""``aekit interpolate``: decode a walk between the latent codes of two rows."""

from __future__ import annotations

import argparse

from aekit.cli._common import (
    QUIET_WRITES,
    TABLE_OUTPUTS,
    add_encoding,
    add_grid,
    add_quiet,
    add_subparser,
    load_model,
    say,
)
from aekit.exceptions import DataError


def add_parser(subparsers) -> None:
    p = add_subparser(subparsers, "interpolate", help="walk between two rows in latent space",
                      description="Encode rows FROM and TO of DATA (0-based), interpolate "
                                  "between their codes (linear or spherical) and decode every "
                                  "step. The output has one row per step: step, t, the codes "
                                  "z0.. and the decoded features. For a model fitted on images, "
                                  ".npy output holds the decoded images (steps, *image shape) "
                                  "and --grid draws the strip.",
                      example="aekit interpolate model data.csv --from 0 --to 5 --steps 8 "
                              "--method slerp --out path.csv")
    p.add_argument("model", help="model directory (ae, dae or vae)")
    p.add_argument("data", help="data file with the model's columns")
    add_encoding(p)
    p.add_argument("--from", dest="start", type=int, required=True, help="row index (0-based)")
    p.add_argument("--to", dest="end", type=int, required=True, help="row index (0-based)")
    p.add_argument("--steps", type=int, default=8, help="number of points, ends included")
    p.add_argument("--method", choices=("linear", "slerp"), default="linear")
    p.add_argument("--labels", default=None, help="a labels column to drop")
    p.add_argument("--out", required=True, metavar="FILE", help="output .csv/.parquet/.npy")
    add_grid(p, "image FROM, the decoded steps and image TO in one strip")
    add_quiet(p, QUIET_WRITES)
    p.set_defaults(run=run, out_suffixes=TABLE_OUTPUTS)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from aekit.data.io import read_data, write_table
    from aekit.latent import interpolate

    model = load_model(args.model, "inverse_transform", "interpolate")
    data = read_data(args.data, labels=args.labels, encoding=args.encoding)
    X = data.X
    n = len(X)
    for name, row in (("--from", args.start), ("--to", args.end)):
        if not 0 <= row < n:
            raise DataError(f"{args.data}: {name} {row} is out of range; the file has {n} rows "
                            f"(valid: 0 to {n - 1}).")
    pick = (lambda i: X.iloc[[i]]) if hasattr(X, "iloc") else (lambda i: np.asarray(X)[[i]])
    path, decoded = interpolate(model, pick(args.start), pick(args.end), args.steps, args.method)
    if args.grid:
        from aekit.grids import interpolation_strip

        interpolation_strip(model, pick(args.start), pick(args.end), args.steps,
                            method=args.method, path=args.grid)
    if isinstance(decoded, pd.DataFrame):  # a table's own columns
        pass
    elif decoded.ndim > 2:  # images
        if str(args.out).lower().endswith(".npy"):
            write_table(args.out, decoded)
            say(args, f"wrote {args.steps} decoded images to {args.out}")
            return 0
        decoded = decoded.reshape(decoded.shape[0], -1)
    if not isinstance(decoded, pd.DataFrame):
        columns = model.input_spec_.column_names() \
            if decoded.shape[1] == model.input_spec_.n_features \
            else [f"x{j}" for j in range(decoded.shape[1])]
        decoded = pd.DataFrame(decoded, columns=columns)
    frame = pd.concat([
        pd.DataFrame({"step": np.arange(args.steps), "t": np.linspace(0, 1, args.steps)}),
        pd.DataFrame(path, columns=[f"z{i}" for i in range(path.shape[1])]), decoded], axis=1)
    write_table(args.out, frame)
    say(args, f"wrote {args.steps} {args.method} steps from row {args.start} to row {args.end} to {args.out}")
    return 0
