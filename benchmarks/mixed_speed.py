"""Speed on a mixed table: streaming scoring of a large file, and fit against a numeric copy.

    .venv/bin/python benchmarks/mixed_speed.py --rows 10000000

1. Writes a Parquet file of ``--rows`` rows x 20 columns: 15 numeric (low-rank structure
   plus noise) and 5 categorical string columns (6 to 40 values, tied to the same
   structure), 5% of the cells missing in every column; row groups of 131,072 rows.
2. Fit: ``AnomalyDetector(random_state=0)`` on the first ``--fit-rows`` rows as they are
   (strings and NaN), and on a hand-encoded numeric copy of the same rows (categories
   one-hot as floats, a missing category all zeros, numbers as they are); the ratio of
   the two fit times.
3. Scores the whole file with ``aekit score MODEL DATA --out scores.parquet -q`` in a fresh
   process, timed from outside (start-up included); peak RSS from ``/usr/bin/time``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

N_NUMERIC, LEVELS = 15, (6, 10, 15, 25, 40)
MISSING = 0.05
ROW_GROUP = 131_072


def make_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(0).normal(size=(4, N_NUMERIC))
    factors = rng.normal(size=(n, 4))
    numbers = factors @ basis + 0.3 * rng.normal(size=(n, N_NUMERIC))
    frame = pd.DataFrame(numbers, columns=[f"n{j}" for j in range(N_NUMERIC)])
    for k, n_levels in enumerate(LEVELS):
        edges = np.quantile(np.random.default_rng(k).normal(size=10_000), np.linspace(0, 1, n_levels + 1)[1:-1])
        codes = np.searchsorted(edges, factors[:, k % 4] + 0.5 * rng.normal(size=n))
        frame[f"c{k}"] = np.array([f"level_{i:02d}" for i in range(n_levels)], dtype=object)[codes]
    holes = rng.random(frame.shape) < MISSING
    return frame.mask(holes)


def write_parquet(path: Path, n_rows: int) -> None:
    writer = None
    for start in range(0, n_rows, 1_000_000):
        frame = make_frame(min(1_000_000, n_rows - start), seed=start)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=ROW_GROUP)
    writer.close()


def numeric_copy(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[[c for c in frame.columns if c.startswith("n")]].copy()
    for c in [c for c in frame.columns if c.startswith("c")]:
        dummies = pd.get_dummies(frame[c], prefix=c, dtype=np.float64)
        out = pd.concat([out, dummies], axis=1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--fit-rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    from aekit import AnomalyDetector

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        write_parquet(tmp / "data.parquet", args.rows)
        print(f"wrote {args.rows:,} rows in {time.perf_counter() - t:.0f} s", flush=True)
        head = pq.ParquetFile(tmp / "data.parquet").iter_batches(batch_size=args.fit_rows)
        train = next(head).to_pandas()
        fits = {}
        for label, X in (("raw", train), ("numeric copy", numeric_copy(train))):
            t = time.perf_counter()
            det = AnomalyDetector(random_state=0).fit(X)
            fits[label] = time.perf_counter() - t
            if label == "raw":
                det.save(tmp / "model")
            print(f"fit on {len(X):,} rows ({label}, {X.shape[1]} columns): "
                  f"{fits[label]:.1f} s", flush=True)
        command = ["/usr/bin/time", "-v", str(Path(sys.executable).parent / "aekit"), "score",
                   str(tmp / "model"), str(tmp / "data.parquet"), "--out",
                   str(tmp / "scores.parquet"), "-q"]
        t = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - t
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)[1])
        print(done.stdout)
    print("| figure | value |")
    print("|---|---:|")
    print(f"| fit, raw table ({args.fit_rows:,} rows) | {fits['raw']:.1f} s |")
    print(f"| fit, hand-encoded numeric copy | {fits['numeric copy']:.1f} s |")
    print(f"| ratio raw / numeric copy | {fits['raw'] / fits['numeric copy']:.2f}x |")
    print(f"| `aekit score` of {args.rows:,} rows | {seconds:.1f} s, "
          f"{args.rows / seconds:,.0f} rows/s |")
    print(f"| peak memory | {peak / 2**20:.2f} GiB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
