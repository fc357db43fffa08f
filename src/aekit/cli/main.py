"""Entry point: ``aekit <command> ...``. Errors become one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys

from aekit._version import __version__
from aekit.cli._common import check_out
from aekit.exceptions import AekitError

COMMANDS = ("fit", "detect", "score", "embed", "reconstruct", "impute", "info", "sweep",
            "interpolate", "sample", "demo", "export", "report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aekit",
        description="Autoencoders for tabular data and small images: compress, denoise, "
                    "detect anomalies, generate.",
        epilog="example:\n  aekit fit data.csv --model ae --latent-dim 4 --out model\n"
               "  aekit embed model data.csv --out codes.parquet\n\n"
               "Run 'aekit COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"aekit.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 success, 2 bad input or usage)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # e.g. to relaunch with torchrun
    except SystemExit as exit_:  # argparse exits 2 on usage errors, 0 on --help
        return int(exit_.code or 0)
    logging.basicConfig(level=logging.WARNING, format="aekit: %(message)s")
    try:
        check_out(args)
        return int(args.run(args) or 0)
    except AekitError as err:
        message = str(err)
        data = getattr(args, "data", None)
        if data and message.startswith("X: "):
            # The library names its argument "X"; on the command line that is the data file.
            message = f"{data}: {message[3:]}"
        print(f"aekit: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader left (``aekit ... | head``): nothing to report
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a command ended by SIGPIPE
    except OSError as err:
        print(f"aekit: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aekit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
