"""Options and helpers shared by subcommands. No modelling logic lives here.

Parsing must stay cheap (``aekit --help`` imports only this and the command modules), so
NumPy, pandas, torch and the estimators are imported inside the functions that use them.
An option whose default is None means "the estimator's default": it is only passed on
when given, so no default is written twice.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aekit.choices import DETECTOR_MODELS, THRESHOLDS
from aekit.exceptions import DataError, ParameterError


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keep the examples' line breaks and show defaults (an option left at None takes the
    library's default, which the command's description points to)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None:
            return action.help or ""
        return super()._get_help_string(action)


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


def number_or_auto(text: str) -> float | int | str:
    """A number, or any other word for the estimator's parameter check to explain."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def given(args: argparse.Namespace, names: dict[str, str]) -> dict[str, Any]:
    """Estimator parameters from the options that were given: ``names`` maps an argparse
    destination to a parameter name; options left at None are left out."""
    return {param: getattr(args, dest) for dest, param in names.items()
            if getattr(args, dest, None) is not None}


# option destination -> AnomalyDetector parameter
DETECTOR_OPTIONS = {"detector_model": "model", "threshold": "threshold",
                    "contamination": "contamination", "k": "k", "q": "q",
                    "n_estimators": "n_estimators", "epochs": "max_epochs", "seed": "random_state",
                    "device": "device"}


def add_detector_options(p: argparse.ArgumentParser, *, with_training: bool = True) -> None:
    """The options of an anomaly detector, shared by ``detect`` and ``fit --detector``."""
    group = p.add_argument_group("detector")
    group.add_argument("--detector-model", choices=DETECTOR_MODELS, default=None,
                       help="kind of the ensemble's members")
    group.add_argument("--threshold", choices=THRESHOLDS, default=None,
                       help="how the flagging threshold is fitted to the calibration scores")
    group.add_argument("--contamination", type=float, default=None,
                       help="expected share of anomalies, for --threshold quantile; in (0, 0.5]")
    group.add_argument("--k", type=float, default=None,
                       help="width for the mean_std and mad thresholds")
    group.add_argument("--q", type=float, default=None, help="risk level for --threshold pot")
    group.add_argument("--n-estimators", type=int, default=None,
                       help="autoencoders in the ensemble")
    if with_training:
        p.add_argument("--epochs", type=int, default=None, help="maximum epochs per member")
        p.add_argument("--seed", type=int, default=None,
                       help="random seed (bit-identical results on CPU)")
        p.add_argument("--device", default=None, help="auto, cpu or cuda")


def build_detector(args: argparse.Namespace):
    from aekit.estimators import AnomalyDetector

    return AnomalyDetector(**given(args, DETECTOR_OPTIONS), column_roles=column_roles(args),
                           verbose=0 if getattr(args, "quiet", False) else 1)


def names_list(text: str) -> list[str]:
    """Parse "a,b" into ["a", "b"]."""
    names = [v.strip() for v in text.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated column names, got {text!r}")
    return names


def add_column_roles(p: argparse.ArgumentParser) -> None:
    """``--id``, ``--ignore``, ``--categorical``, ``--numeric``: roles of named columns."""
    group = p.add_argument_group("columns")
    group.add_argument("--id", type=names_list, default=None, metavar="COL[,COL...]",
                       help="columns that name rows: no features, carried into the outputs "
                            "(an index column 'Unnamed: 0' and unique text are found anyway)")
    group.add_argument("--ignore", type=names_list, default=None, metavar="COL[,COL...]",
                       help="columns to leave out")
    group.add_argument("--categorical", type=names_list, default=None, metavar="COL[,COL...]",
                       help="columns to one-hot encode (e.g. integer codes)")
    group.add_argument("--numeric", type=names_list, default=None, metavar="COL[,COL...]",
                       help="columns to treat as numbers")


def column_roles(args: argparse.Namespace) -> dict[str, str] | None:
    roles: dict[str, str] = {}
    for option, role in (("numeric", "numeric"), ("categorical", "categorical"),
                         ("ignore", "ignore"), ("id", "id")):
        for name in getattr(args, option, None) or ():
            roles[name] = role
    return roles or None


def print_schema(estimator) -> None:
    """The input contract, one line per column, as fit/detect learned it."""
    print("columns:")
    for line in estimator.input_spec_.describe():
        print(f"  {line}")


def add_encoding(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--encoding", default=None, metavar="CODEC",
                        help="text encoding of a CSV/TSV input that is not UTF-8, e.g. cp1252 "
                             "or latin-1 (the delimiter and decimal mark are detected)")


def add_quiet(parser: argparse.ArgumentParser, help: str = "no progress bars") -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help=help)


QUIET_WRITES = "print nothing when it succeeds (warnings and errors still go to stderr)"


def say(args: argparse.Namespace, line: str) -> None:
    """A line saying what a command wrote, unless it was asked to be quiet."""
    if not getattr(args, "quiet", False):
        print(line)


TABLE_OUTPUTS = (".csv", ".tsv", ".parquet", ".pq", ".npy")


def add_out(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--out", required=True, metavar="FILE",
                        help=f"where to write {what} (.csv, .tsv, .parquet or .npy)")
    parser.set_defaults(out_suffixes=TABLE_OUTPUTS)


def labels_of_fit(model: Any, data: str, given: str | None,
                  encoding: str | None = None) -> str | None:
    """The labels column to read: ``given``, else the one fit's file held as labels
    (``aekit fit --labels``) when this table file has it too."""
    name = getattr(getattr(model, "input_spec_", None), "labels", None)
    if given or not name:
        return given
    from aekit.data.paths import PathKind, path_kind

    if path_kind(Path(data)) not in (PathKind.CSV, PathKind.TSV, PathKind.PARQUET):
        return None
    from aekit.data.chunks import TableReader

    if name not in TableReader(Path(data), 1, encoding=encoding).columns:
        return None
    print(f"labels: column {name!r}, as in fit")
    return name


def check_out(args: argparse.Namespace) -> None:
    """Refuse an --out path that cannot be written (an unknown format, a directory that does
    not exist) before any work, not after a fit."""
    out = getattr(args, "out", None)
    if out is None:
        return
    path = Path(out)
    suffixes = getattr(args, "out_suffixes", None)
    if suffixes and path.suffix.lower() not in suffixes:
        raise DataError(f"{path}: unknown output format {path.suffix or '(no extension)'!r}. "
                        f"Use {', '.join(suffixes[:-1])} or {suffixes[-1]}.")
    parent = path.parent
    if not parent.is_dir():
        raise DataError(f"{path}: the output directory {str(parent)!r} does not exist. "
                        "Create it first or choose another --out path.")


def write_output(path: str, values: Any, columns: list[str] | None = None) -> None:
    """Write results; images (3-D/4-D arrays) keep their shape in .npy files and become one
    row per image, pixel columns x0, x1, ... (C, H, W order), in .csv/.tsv/.parquet."""
    import numpy as np
    import pandas as pd

    from aekit.data.io import write_table

    if isinstance(values, pd.DataFrame):  # a table's own columns
        write_table(path, values)
        return
    values = np.asarray(values)
    if values.ndim > 2:
        if str(path).lower().endswith(".npy"):
            write_table(path, values)
            return
        values = values.reshape(values.shape[0], -1)
        columns = [f"x{j}" for j in range(values.shape[1])]
    write_table(path, pd.DataFrame(values, columns=columns or [f"x{j}" for j in range(values.shape[1])]))


def add_grid(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--grid", default=None, metavar="FILE.png",
                        help=f"also save {what} as a PNG picture (models fitted on images)")


def check_positive(name: str, value: Any) -> None:
    if value is not None and value < 1:
        raise ParameterError(f"{name} must be >= 1. Got {value!r} instead.")


# what a command needs of a saved model, and how to fit one that has it
_FIT_FOR = {"transform": "an autoencoder ('aekit fit DATA --out DIR') or a detector",
            "reconstruct": "an autoencoder ('aekit fit DATA --out DIR')",
            "impute": "an autoencoder ('aekit fit DATA --out DIR')",
            "sample": "a VAE ('aekit fit DATA --model vae --out DIR')",
            "inverse_transform": "an autoencoder or a VAE ('aekit fit DATA --out DIR')",
            "anomaly_score": "an anomaly detector ('aekit fit DATA --detector --out DIR')"}


def load_model(path: str, needs: str, command: str):
    """The model saved in ``path``, refused with a clear message (exit code 2) when it
    cannot do what ``command`` needs of it (the method ``needs``)."""
    from aekit.exceptions import ModelFileError
    from aekit.persistence import load

    model = load(path)
    if needs == "transform" and hasattr(model, "latent_codes"):
        return model  # a detector's codes: its widest member's
    if not hasattr(model, needs):
        kind = type(model).__name__
        raise ModelFileError(f"{path}: holds {'an' if kind[0] in 'AEIOU' else 'a'} {kind}, which "
                             f"'aekit {command}' cannot use; it needs {_FIT_FOR[needs]}.")
    return model
