"""``aekit sample``: draw new rows from a saved VAE."""

from __future__ import annotations

import argparse

from aekit.cli._common import add_subparser, frame
from aekit.data.io import write_table
from aekit.estimators import VAE
from aekit.exceptions import ModelFileError, ParameterError
from aekit.persistence import load


def add_parser(subparsers) -> None:
    p = add_subparser(subparsers, "sample", help="generate rows from a saved VAE",
                      description="Draw N latent codes from the prior N(0, I) and decode them "
                                  "with a saved VAE, in the training data's units and columns.",
                      example="aekit sample model -n 100 --seed 0 --out samples.csv")
    p.add_argument("model", help="VAE model directory")
    p.add_argument("-n", type=int, default=10, help="number of rows")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--out", required=True, metavar="FILE", help="output .csv/.parquet/.npy")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise ParameterError(f"-n must be >= 1. Got {args.n}.")
    model = load(args.model)
    if not isinstance(model, VAE):
        raise ModelFileError(f"{args.model}: holds a {type(model).__name__}; sampling needs a "
                             "VAE (fit one with 'aekit fit DATA --model vae').")
    X = model.sample(args.n, random_state=args.seed)
    names = getattr(model, "feature_names_in_", None)
    columns = list(names) if names is not None else [f"x{j}" for j in range(X.shape[1])]
    write_table(args.out, frame(X, columns))
    print(f"wrote {args.n} samples to {args.out}")
    return 0
