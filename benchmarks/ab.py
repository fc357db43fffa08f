"""Time two whole commands side by side: A B A B ..., median wall seconds and A/B ratios.

Each run is a fresh process timed from outside (start-up included) under ``/usr/bin/time``,
which also reports the command's own peak RSS. Runs alternate, and the ratio is taken pair
by pair, so a drift in the machine's speed moves both sides alike.

    python benchmarks/ab.py -n 5 "python -m aekit --help" \\
        "env PYTHONPATH=/tmp/before/src python -m aekit --help"
    python benchmarks/ab.py --startup --before /tmp/before/src   # every command's --help

``--before SRC`` is a checkout's ``src`` folder of the code to compare with (B); A is the
code this interpreter imports.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import time

COMMANDS = ("fit", "detect", "score", "embed", "reconstruct", "impute", "info", "sweep", "interpolate",
            "sample", "demo", "export", "report")


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one run."""
    started = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "peak_kib=%M", *command], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed:\n{proc.stderr[-2000:]}")
    return wall, int(re.findall(r"peak_kib=(\d+)", proc.stderr)[-1]) / 1024


def compare(a: str, b: str, runs: int, warmup: int = 1) -> dict[str, float]:
    env = dict(os.environ)
    a_cmd, b_cmd = shlex.split(a), shlex.split(b)
    for _ in range(warmup):
        run_once(a_cmd, env), run_once(b_cmd, env)
    walls_a, walls_b, peaks_a, peaks_b, ratios = [], [], [], [], []
    for _ in range(runs):
        (wa, pa), (wb, pb) = run_once(a_cmd, env), run_once(b_cmd, env)
        walls_a.append(wa), walls_b.append(wb), peaks_a.append(pa), peaks_b.append(pb)
        ratios.append(wa / wb)
    return {"a_wall": statistics.median(walls_a), "b_wall": statistics.median(walls_b),
            "ratio_min": min(ratios), "ratio": statistics.median(ratios),
            "ratio_max": max(ratios), "a_peak": statistics.median(peaks_a),
            "b_peak": statistics.median(peaks_b)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", nargs="?", help="command A (quoted)")
    parser.add_argument("b", nargs="?", help="command B (quoted)")
    parser.add_argument("-n", type=int, default=5, help="pairs of runs")
    parser.add_argument("--startup", action="store_true",
                        help="A/B every 'aekit [CMD] --help' and 'aekit --version'")
    parser.add_argument("--before", default=None, metavar="SRC",
                        help="with --startup: the src folder of the code to compare with")
    args = parser.parse_args()
    if args.startup:
        if not args.before:
            parser.error("--startup needs --before SRC")
        py = shlex.quote(sys.executable)
        print("| command | before (s) | after (s) | after / before |")
        print("| --- | ---: | ---: | ---: |")
        for argv in ("--help", "--version", *(f"{c} --help" for c in COMMANDS)):
            r = compare(f"{py} -m aekit {argv}",
                        f"env PYTHONPATH={shlex.quote(args.before)} {py} -m aekit {argv}", args.n)
            print(f"| `aekit {argv}` | {r['b_wall']:.3f} | {r['a_wall']:.3f} | "
                  f"{r['ratio']:.3f} |", flush=True)
        return 0
    if not (args.a and args.b):
        parser.error("give commands A and B, or --startup")
    r = compare(args.a, args.b, args.n)
    print(f"A wall {r['a_wall']:.2f} s, B wall {r['b_wall']:.2f} s; A/B {r['ratio_min']:.3f} "
          f"min, {r['ratio']:.3f} median, {r['ratio_max']:.3f} max over {args.n} pairs; "
          f"peak RSS A {r['a_peak']:.0f} MiB, B {r['b_peak']:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
