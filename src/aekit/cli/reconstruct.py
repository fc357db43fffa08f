"""``aekit reconstruct``: reconstructions (denoised data, for a DAE) of DATA."""

from __future__ import annotations

import argparse

from aekit.cli._common import (
    QUIET_WRITES,
    add_encoding,
    add_grid,
    add_out,
    add_quiet,
    add_subparser,
    load_model,
    say,
    write_output,
)


def add_parser(subparsers) -> None:
    p = add_subparser(subparsers, "reconstruct", help="write reconstructions of DATA",
                      description="Pass DATA through a saved model and write the output in the "
                                  "input's units and column names. For a denoising model this "
                                  "is the denoised data. For images, .npy output keeps the "
                                  "input's shape; tables get one row of pixels per image.",
                      example="aekit reconstruct model noisy.csv --out denoised.csv")
    p.add_argument("model", help="model directory from 'aekit fit'")
    p.add_argument("data", help="data file with the columns the model was fitted on")
    add_encoding(p)
    p.add_argument("--labels", default=None, help="a labels column to drop first")
    add_out(p, "the reconstructions")
    add_grid(p, "the first 8 inputs over their reconstructions")
    add_quiet(p, QUIET_WRITES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from aekit.data.io import read_data

    estimator = load_model(args.model, "reconstruct", "reconstruct")
    data = read_data(args.data, labels=args.labels, encoding=args.encoding)
    X_hat = estimator.reconstruct(data.X)
    if hasattr(X_hat, "columns"):  # a table in its own columns and kinds
        from aekit.data.io import write_table

        write_table(args.out, X_hat, like=data.X)
    else:
        write_output(args.out, X_hat, estimator.input_spec_.column_names())
    say(args, f"wrote {X_hat.shape[0]} reconstructed rows to {args.out}")
    if args.grid:
        from aekit.grids import reconstruction_grid

        reconstruction_grid(estimator, data.X, path=args.grid)
        say(args, f"wrote the reconstruction grid to {args.grid}")
    return 0
