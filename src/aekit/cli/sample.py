"""``aekit sample``: draw new rows from a saved VAE."""

from __future__ import annotations

import argparse

from aekit.cli._common import (
    QUIET_WRITES,
    TABLE_OUTPUTS,
    add_grid,
    add_quiet,
    add_subparser,
    load_model,
    say,
    write_output,
)
from aekit.exceptions import ParameterError


def add_parser(subparsers) -> None:
    p = add_subparser(subparsers, "sample", help="generate rows from a saved VAE",
                      description="Draw N latent codes from the prior N(0, I) and decode them "
                                  "with a saved VAE, in the training data's units and columns.",
                      example="aekit sample model -n 100 --seed 0 --out samples.csv")
    p.add_argument("model", help="VAE model directory")
    p.add_argument("-n", type=int, default=10, help="number of rows")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="output .csv/.parquet/.npy (.npy keeps image shapes)")
    add_grid(p, "the samples (8 per row)")
    add_quiet(p, QUIET_WRITES)
    p.set_defaults(run=run, out_suffixes=TABLE_OUTPUTS)


def run(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise ParameterError(f"-n must be >= 1. Got {args.n}.")
    model = load_model(args.model, "sample", "sample")
    X = model.sample(args.n, random_state=args.seed)
    write_output(args.out, X, model.input_spec_.column_names())
    say(args, f"wrote {args.n} samples to {args.out}")
    if args.grid:
        from aekit.data.images import save_image_grid
        from aekit.grids import check_image_model

        check_image_model(model, "--grid")
        save_image_grid(args.grid, X, nrow=8)
        say(args, f"wrote the sample grid to {args.grid}")
    return 0
