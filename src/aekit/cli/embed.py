"""``aekit embed``: latent codes of DATA under a saved model."""

from __future__ import annotations

import argparse

from aekit.cli._common import (
    QUIET_WRITES,
    add_encoding,
    add_out,
    add_quiet,
    add_subparser,
    load_model,
    say,
    write_output,
)


def add_parser(subparsers) -> None:
    p = add_subparser(subparsers, "embed", help="write latent codes of DATA",
                      description="Encode DATA with a saved model; one row of codes per input "
                                  "row (the posterior mean for a VAE; for a detector, the "
                                  "codes of its widest member).",
                      example="aekit embed model data.csv --out codes.parquet")
    p.add_argument("model", help="model directory from 'aekit fit'")
    p.add_argument("data", help="data file with the columns the model was fitted on")
    add_encoding(p)
    p.add_argument("--labels", default=None, help="a labels column to drop before encoding")
    add_out(p, "the codes")
    add_quiet(p, QUIET_WRITES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from aekit.data.io import read_data

    estimator = load_model(args.model, "transform", "embed")
    data = read_data(args.data, labels=args.labels, encoding=args.encoding)
    encode = getattr(estimator, "transform", None) or estimator.latent_codes
    Z = encode(data.X)
    names = [f"z{i}" for i in range(Z.shape[1])]
    if estimator.input_spec_.identifiers and not str(args.out).lower().endswith(".npy"):
        import pandas as pd

        from aekit.data.io import write_table

        # identifier columns first, as in the scores, so each code names its row
        write_table(args.out, estimator.input_spec_.carry_identifiers(
            pd.DataFrame(Z, columns=names), data.X))
    else:
        write_output(args.out, Z, names)
    say(args, f"wrote {Z.shape[0]} codes of size {Z.shape[1]} to {args.out}")
    return 0
