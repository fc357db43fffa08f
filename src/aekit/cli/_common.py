"""Options and helpers shared by subcommands. No modelling logic lives here."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd

from aekit.data.io import write_table
from aekit.exceptions import ParameterError


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keep the examples' line breaks and show defaults."""


def add_subparser(subparsers, name: str, *, help: str, description: str, example: str):
    return subparsers.add_parser(
        name, help=help, description=f"{description}\n\nexample:\n  {example}",
        formatter_class=HelpFormatter)


def int_list(text: str) -> tuple[int, ...]:
    """Parse "64,32" into (64, 32)."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 64,32, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers like 64,32, got {text!r}")
    return values


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def add_out(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--out", required=True, metavar="FILE",
                        help=f"where to write {what} (.csv, .tsv, .parquet or .npy)")


def frame(values: np.ndarray, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(values), columns=columns)


def write_output(path: str, values: np.ndarray, columns: list[str] | None = None) -> None:
    """Write results; images (3-D/4-D arrays) keep their shape in .npy files and become one
    row per image, pixel columns x0, x1, ... (C, H, W order), in .csv/.tsv/.parquet."""
    values = np.asarray(values)
    if values.ndim > 2:
        if str(path).lower().endswith(".npy"):
            write_table(path, values)
            return
        values = values.reshape(values.shape[0], -1)
        columns = [f"x{j}" for j in range(values.shape[1])]
    write_table(path, frame(values, columns or [f"x{j}" for j in range(values.shape[1])]))


def add_grid(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--grid", default=None, metavar="FILE.png",
                        help=f"also save {what} as a PNG picture (models fitted on images)")


def check_positive(name: str, value: Any) -> None:
    if value is not None and value < 1:
        raise ParameterError(f"{name} must be >= 1. Got {value!r} instead.")
