"""``aekit demo``: the whole story on scikit-learn's built-in digits, in about a minute."""

from __future__ import annotations

import argparse
import sys

from aekit.cli._common import add_quiet, add_subparser


def add_parser(subparsers) -> None:
    p = add_subparser(subparsers, "demo", help="run the built-in demonstration",
                      description="Compress, denoise and generate on scikit-learn's digits, "
                                  "side by side with PCA, and print a summary table.",
                      example="aekit demo")
    p.add_argument("--quick", action="store_true", help="fewer epochs (for smoke tests)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    add_quiet(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from aekit.demo import run_demo

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"aekit demo: {msg}", file=sys.stderr, flush=True)

    result = run_demo(quick=args.quick, random_state=args.seed, verbose=0 if args.quiet else 1,
                      progress=progress)
    print(result.table())
    print(f"\ndone in {result.seconds:.0f}s")
    return 0
