"""``aekit impute``: fill the missing cells of DATA, leaving every observed cell as it was."""

from __future__ import annotations

import argparse

from aekit.cli._common import (
    add_column_roles,
    add_encoding,
    add_quiet,
    add_subparser,
    column_roles,
    given,
    load_model,
)
from aekit.exceptions import ModelFileError

THIN_OBSERVED = 20  # a column with fewer observed cells than this is filled on little


def add_parser(subparsers) -> None:
    p = add_subparser(
        subparsers, "impute", help="fill the missing cells of DATA",
        description="Fill every missing cell of DATA and write the table, each observed cell "
                    "exactly as it was. With one path, a denoising autoencoder is fitted on DATA "
                    "itself (masking noise, a bottleneck of half the columns; its missing "
                    "cells left out of the loss); with a model directory first, that fitted "
                    "autoencoder fills them.",
        example="aekit impute survey.csv --out filled.csv   |   aekit impute model survey.csv "
                "--out filled.parquet")
    p.add_argument("paths", nargs="+", metavar="[MODEL_DIR] DATA",
                   help="the data, optionally after a model directory from 'aekit fit'")
    add_encoding(p)
    add_column_roles(p)
    p.add_argument("--latent-dim", type=int, default=None, help="bottleneck width, when fitting")
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs, when fitting")
    p.add_argument("--seed", type=int, default=None, help="random seed, when fitting")
    p.add_argument("--out", required=True, metavar="FILE", help="output .csv/.tsv/.parquet")
    add_quiet(p)
    p.set_defaults(run=run, out_suffixes=(".csv", ".tsv", ".parquet", ".pq"))


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from aekit.data.io import read_data, write_table
    from aekit.data.paths import PathKind, path_kind
    from aekit.data.written_fills import (
        filled_cells,
        numbers_as_numbers,
        rounded_like_column,
        write_filled_text,
    )
    from aekit.estimators import DenoisingAutoencoder

    if len(args.paths) > 2:
        raise ModelFileError("aekit impute takes DATA, or MODEL_DIR DATA; got "
                             f"{len(args.paths)} paths.")
    args.data = args.paths[-1]
    data = read_data(args.data, encoding=args.encoding)
    if len(args.paths) == 2:
        model = load_model(args.paths[0], "impute", "impute")
    else:
        # the masking recipe: trained to fill cells set to the centre, as missing ones are
        # (BENCHMARKS.md section 8); a bottleneck of half the columns
        params = given(args, {"latent_dim": "latent_dim", "epochs": "max_epochs",
                              "seed": "random_state"})
        if "latent_dim" not in params:
            params["latent_dim"] = max(1, feature_count(data.X, column_roles(args)) // 2)
        model = DenoisingAutoencoder(**params, noise="masking", noise_level=0.2,
                                     column_roles=column_roles(args),
                                     verbose=0 if args.quiet else 1)
        model.fit(data.X, allow_missing=True)
    filled = model.impute(data.X)
    if not hasattr(filled, "columns"):
        write_table(args.out, filled)
        print(f"filled the missing cells of {len(filled)} rows; wrote {args.out}")
        return 0
    # the cells that changed: empty ones, and text read as missing numbers ("-", "n/a")
    changed = filled_cells(data.X, filled)
    as_text = path_kind(args.data) in (PathKind.CSV, PathKind.TSV) and \
        Path(args.out).suffix.lower() in (".csv", ".tsv")
    # a CSV back into its own text: only the filled cells are new
    if not (as_text and write_filled_text(args.out, args.data, data.X, filled, changed,
                                          encoding=args.encoding)):
        write_table(args.out, numbers_as_numbers(rounded_like_column(filled, changed, data.X),
                                                 model.input_spec_.columns), like=data.X)
    left = filled.isna().sum()
    left = left[left > 0]
    note = "" if left.empty else (
        f"; {int(left.sum())} left missing in columns imputation does not fill "
        f"(identifiers, text, dates, mostly empty notes): " + ", ".join(
            f"{name} ({n})" for name, n in left.head(5).items())
        + (", ..." if len(left) > 5 else ""))
    print(f"filled {int(changed.to_numpy().sum())} missing cells of {len(filled)} rows{note}; wrote {args.out}")
    for name, n_filled, n_seen in thinly_filled(changed, data.X):
        print(f"note: column {name!r}: {n_filled} cells filled from only {n_seen} observed; "
              "check that an empty cell there is missing, not 'none'")
    for name, n_filled, value in one_fill(changed, filled):
        why = ("the model fills it without reading the rest of the row (a model that "
               "copies its input does so); 'aekit impute DATA' fits one that reads it"
               if len(args.paths) == 2 else "the other feature columns tell the model "
               "nothing about it, so each gap gets about its typical value")
        print(f"note: column {name!r}: all {n_filled} filled cells got the same value "
              f"({value}): {why}")
    return 0


def feature_count(X, roles) -> int:
    """How many of ``X``'s columns are features (not identifiers, text, empty or constant
    columns): what the bottleneck is half of."""
    if not hasattr(X, "columns"):
        return X.shape[1]
    from aekit.data.columns import check_roles, needs_roles
    from aekit.data.schema import InputSpec

    declared = check_roles(roles, "DenoisingAutoencoder")
    if not needs_roles(X, declared):
        return len(X.columns)
    spec, _ = InputSpec.from_training_data(X, column_roles=roles)
    return sum(c.is_feature for c in spec.columns)


def one_fill(changed, filled) -> list[tuple[str, int, str]]:
    """Numeric columns whose filled cells (at least 5) all hold one value (within a
    ten-thousandth of the column's spread: a float32 network's copy of the centre)."""
    import numpy as np
    import pandas as pd

    out = []
    for j, name in enumerate(filled.columns):
        mask = changed.iloc[:, j].to_numpy()
        column = filled.iloc[:, j]
        if mask.sum() >= 5 and pd.api.types.is_numeric_dtype(column.dtype) and \
                not pd.api.types.is_bool_dtype(column.dtype):
            values = column[mask].to_numpy(dtype="float64")
            spread = float(np.nanstd(column[~mask].to_numpy(dtype="float64"))) or 1.0
            if np.isfinite(values).all() and np.ptp(values) <= 1e-4 * spread:
                out.append((str(name), int(mask.sum()), f"{values[0]:.6g}"))
    return out


def thinly_filled(changed, typed) -> list[tuple[str, int, int]]:
    """Columns mostly filled from a handful of observed values: (name, filled, observed);
    fewer than ``THIN_OBSERVED`` observed for at least as many filled, or under a tenth."""
    out = []
    for j, name in enumerate(typed.columns):
        n_filled = int(changed.iloc[:, j].sum())
        n_seen = int(typed.iloc[:, j].notna().sum())
        # few values to go on, for as many gaps or more (a small table's odd gap is not)
        if n_filled and (n_seen < min(THIN_OBSERVED, n_filled) or n_seen < n_filled / 9):
            out.append((str(name), n_filled, n_seen))
    return out

