"""``aekit demo``: the whole story on scikit-learn's built-in data, with an HTML report."""

from __future__ import annotations

import argparse
import sys

from aekit.cli._common import add_quiet, add_subparser


def add_parser(subparsers) -> None:
    p = add_subparser(subparsers, "demo", help="run the built-in demonstration",
                      description="Compress digits and compare with PCA, sweep the bottleneck, "
                                  "denoise, detect malignant tumours as anomalies, sample and "
                                  "interpolate with a VAE; print a summary table and write "
                                  "an HTML report.",
                      example="aekit demo --out demo-report.html")
    p.add_argument("--quick", action="store_true", help="few epochs (for smoke tests)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", default="demo-report.html", metavar="HTML",
                   help="where to write the report")
    add_quiet(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from aekit.demo import demo_report, run_demo
    from aekit.report.html import write_report

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"aekit demo: {msg}", file=sys.stderr, flush=True)

    result = run_demo(quick=args.quick, random_state=args.seed, verbose=0 if args.quiet else 1,
                      progress=progress)
    progress("writing the report")
    path = write_report(demo_report(result), args.out)
    print(result.table())
    print(f"\nreport: {path}\ndone in {result.seconds:.0f}s")
    return 0
