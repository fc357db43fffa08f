"""Scoring throughput and peak memory: aekit streaming vs load-all-then-score vs PyOD.

    python benchmarks/scale.py --rows 10000000 --pyod-rows 200000

1. Writes a Parquet file of ``--rows`` rows x 20 float64 columns (low-rank structure plus
   noise, 1% shifted rows), row groups of 131,072 rows, generated in pieces.
2. Fits aekit's AnomalyDetector (defaults) on the first 20,000 rows and saves it.
3. Scores the file in a fresh subprocess per method; each child reports its wall time and
   its own peak RSS (``VmHWM`` from ``/proc/self/status``: on Linux a child's ``ru_maxrss``
   starts at the high-water mark of the process it was started from, so it would report
   this parent's peak), so the figures do not mix:
   - ``aekit-stream``: ``aekit.streaming.score_file`` (what ``aekit score`` runs) to Parquet;
   - ``aekit-cli``: ``aekit score MODEL DATA --out scores.parquet -q`` as a user runs it,
     timed from outside (interpreter start-up and imports included), peak RSS from
     ``/usr/bin/time`` (a fresh small process forks it, so its figure is its own);
   - ``aekit-in-memory``: read the whole file, ``score_frame`` (scores, flags, top
     features) in memory, write Parquet - what ``aekit score`` did before streaming;
   - ``pyod``: PyOD's ``AutoEncoder`` (defaults, 1 epoch - fit time is not counted) fitted
     on the same 20,000 rows, then ``decision_function`` on the first ``--pyod-rows`` rows
     (PyOD scores in batches of 32 through a DataLoader, so the full file would take hours);
     rows/s is measured on that subset and the full-file time extrapolated.
4. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FEATURES = 20
FIT_ROWS = 20_000
ROW_GROUP = 131_072


def make_parquet(path: Path, n_rows: int, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(4, N_FEATURES))
    names = [f"f{j}" for j in range(N_FEATURES)]
    schema = pa.schema([(n, pa.float64()) for n in names])
    with pq.ParquetWriter(str(path), schema) as writer:
        for start in range(0, n_rows, 1_000_000):
            n = min(1_000_000, n_rows - start)
            X = np.tanh(rng.normal(size=(n, 4)) @ mixing) + 0.1 * rng.normal(size=(n, N_FEATURES))
            shifted = rng.random(n) < 0.01
            X[shifted] += rng.normal(0, 2, size=(int(shifted.sum()), N_FEATURES))
            writer.write_table(pa.table({c: X[:, j] for j, c in enumerate(names)}, schema=schema),
                               row_group_size=ROW_GROUP)


def fit_rows(path: Path):
    import pyarrow.parquet as pq

    return pq.ParquetFile(str(path)).read_row_group(0).to_pandas().iloc[:FIT_ROWS]


# ---------------------------------------------------------------------------- children
def child(method: str, data: Path, model: Path, out: Path, pyod_rows: int) -> dict:
    result: dict = {"method": method}
    if method == "aekit-stream":
        from aekit.persistence import load
        from aekit.streaming import score_file

        detector = load(model)
        t = time.perf_counter()
        summary = score_file(detector, data, out, progress=False)
        result.update(seconds=time.perf_counter() - t, rows=summary.n_rows,
                      flagged=summary.n_flagged)
    elif method == "aekit-in-memory":
        import pandas as pd

        from aekit.data.io import read_data, write_table
        from aekit.persistence import load

        detector = load(model)
        t = time.perf_counter()
        X = read_data(data).X
        scores = detector.anomaly_score(X)
        flags = (scores > detector.threshold_).astype(np.int64)
        top = np.full(len(scores), "", dtype=object)
        rows = np.flatnonzero(flags)
        top[rows] = [";".join(f"{n}:{s:.2f}" for n, s in feats)
                     for feats in detector.top_features(X.iloc[rows], n=3)]
        write_table(out, pd.DataFrame({"score": scores, "flag": flags, "top_features": top}))
        result.update(seconds=time.perf_counter() - t, rows=len(scores), flagged=int(flags.sum()))
    elif method == "pyod":
        import pyarrow.parquet as pq
        import torch
        from pyod.models.auto_encoder import AutoEncoder

        train = fit_rows(data).to_numpy()
        clf = AutoEncoder(epoch_num=1, random_state=0, verbose=0)
        clf.fit(train)
        pf = pq.ParquetFile(str(data))
        parts, n = [], 0
        for batch in pf.iter_batches(batch_size=ROW_GROUP):
            parts.append(batch.to_pandas().to_numpy())
            n += batch.num_rows
            if n >= pyod_rows:
                break
        X = np.concatenate(parts)[:pyod_rows]
        t = time.perf_counter()
        scores = clf.decision_function(X)
        result.update(seconds=time.perf_counter() - t, rows=len(scores),
                      threads=torch.get_num_threads())
    else:
        raise SystemExit(f"unknown method {method}")
    result["peak_rss_mib"] = own_peak_mib()
    return result


def own_peak_mib() -> float:
    """This process's own peak RSS (VmHWM), in MiB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) / 1024


def run_cli(data: Path, model: Path, out: Path) -> dict:
    """``aekit score`` end to end in a fresh process, timed from outside."""
    cmd = [sys.executable, "-m", "aekit", "score", str(model), str(data), "--out", str(out), "-q"]
    timer = shutil.which("time") or "/usr/bin/time"
    t = time.perf_counter()
    proc = subprocess.run([timer, "-f", "peak_kib=%M", *cmd], capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"aekit score failed:\n{proc.stderr[-3000:]}")
    rows = int(re.search(r"rows: (\d+)", proc.stdout).group(1))
    flagged = int(re.search(r"flagged: (\d+)", proc.stdout).group(1))
    peak = int(re.search(r"peak_kib=(\d+)", proc.stderr).group(1)) / 1024
    return {"method": "aekit-cli", "seconds": seconds, "rows": rows, "flagged": flagged,
            "peak_rss_mib": peak}


def run_child(method: str, data: Path, model: Path, out: Path, pyod_rows: int) -> dict:
    if method == "aekit-cli":
        return run_cli(data, model, out)
    cmd = [sys.executable, __file__, "--child", method, "--data", str(data), "--model",
           str(model), "--out", str(out), "--pyod-rows", str(pyod_rows)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--pyod-rows", type=int, default=200_000)
    parser.add_argument("--workdir", default=None, help="where to put the data (default: temp)")
    parser.add_argument("--scoring", default=None,
                        help="AnomalyDetector scoring (default: the detector's default)")
    parser.add_argument("--no-density", action="store_true",
                        help="AnomalyDetector(n_neighbors=None): no local-density view")
    parser.add_argument("--methods", default="aekit-stream,aekit-cli,aekit-in-memory,pyod",
                        help="comma-separated subset of the methods to run")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--model", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, Path(args.data), Path(args.model), Path(args.out),
                               args.pyod_rows)))
        return 0

    from aekit import AnomalyDetector

    work = Path(args.workdir or tempfile.mkdtemp(prefix="aekit-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    data, model = work / f"data_{args.rows}.parquet", work / "detector"
    if not data.exists():
        t = time.perf_counter()
        make_parquet(data, args.rows)
        print(f"# wrote {data} ({data.stat().st_size / 2**20:.0f} MiB) in "
              f"{time.perf_counter() - t:.0f}s", file=sys.stderr)
    t = time.perf_counter()
    params = {"scoring": args.scoring} if args.scoring else {}
    if args.no_density:
        params["n_neighbors"] = None
    detector = AnomalyDetector(random_state=0, **params).fit(fit_rows(data))
    detector.save(model)
    print(f"# fitted the detector on {FIT_ROWS} rows in {time.perf_counter() - t:.1f}s",
          file=sys.stderr)
    results = []
    for method in args.methods.split(","):
        r = run_child(method, data, model, work / f"scores_{method}.parquet", args.pyod_rows)
        print(f"# {r}", file=sys.stderr)
        results.append(r)
    print(f"\n{args.rows:,} rows x {N_FEATURES} columns from Parquet; {os.cpu_count()} CPU "
          f"cores; torch {__import__('torch').__version__}; AnomalyDetector(scoring="
          f"{detector.scoring!r}, n_neighbors={detector.n_neighbors!r}), "
          f"{detector.n_estimators} members.\n")
    print("| method | rows scored | seconds | rows/s | full file (s) | peak RSS (MiB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        rate = r["rows"] / r["seconds"]
        full = args.rows / rate
        note = " (extrapolated)" if r["rows"] < args.rows else ""
        print(f"| {r['method']} | {r['rows']:,} | {r['seconds']:.1f} | {rate:,.0f} | "
              f"{full:,.0f}{note} | {r['peak_rss_mib']:,.0f} |")
    flagged = {r["method"]: r["flagged"] for r in results if "flagged" in r}
    print(f"\nRows flagged: {flagged}; streamed scores equal the in-memory ones bit for "
          "bit (tests/scale).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
