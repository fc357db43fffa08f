"""Training from Parquet: aekit streaming (larger than memory) vs load-everything-first.

    python benchmarks/stream_training.py --rows 10000000 --epochs 3

1. Writes (or reuses) the Parquet file of ``benchmarks/scale.py``: ``--rows`` x 20 float64
   columns, low-rank structure plus noise, 131,072-row row groups.
2. Trains the core issue's network (20-64-4-64-20, aekit's defaults otherwise: PCA start,
   standard scaling, 10% held out for early stopping, batch "auto") for ``--epochs`` epochs
   in a fresh subprocess per method, each reporting its wall time, its own peak RSS
   (``getrusage``) and the held-out MSE (scaled units) of its best epoch:
   - ``aekit-stream``: ``Autoencoder.fit(ParquetRows.open(file))`` (what ``aekit fit
     big.parquet`` runs for a file too large for memory, or with ``--stream``);
   - ``aekit-in-memory``: ``pandas.read_parquet`` then ``Autoencoder.fit(frame)``.
3. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from scale import make_parquet  # same data as the scoring benchmark


def child(method: str, data: Path, epochs: int) -> dict:
    from aekit import Autoencoder
    from aekit.data.parquet_rows import ParquetRows

    started = time.perf_counter()
    model = Autoencoder(4, hidden_dims=(64,), max_epochs=epochs, random_state=0)
    if method == "aekit-stream":
        model.fit(ParquetRows.open(data))
    else:
        import pandas as pd

        model.fit(pd.read_parquet(data))
    return {"method": method, "seconds": time.perf_counter() - started,
            "train_seconds": model.history_.seconds, "epochs": model.history_.n_epochs,
            "val_mse": model.history_.best_loss, "rows": model.n_train_samples_,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workdir", default="/tmp/aekit-stream-training")
    parser.add_argument("--methods", default="aekit-stream,aekit-in-memory")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data = Path(args.workdir) / f"data-{args.rows}.parquet"
    if args.child:
        print(json.dumps(child(args.child, data, args.epochs)))
        return 0
    data.parent.mkdir(parents=True, exist_ok=True)
    if not data.exists():
        t = time.perf_counter()
        make_parquet(data, args.rows)
        print(f"wrote {data} ({data.stat().st_size / 2**20:.0f} MiB) in "
              f"{time.perf_counter() - t:.0f} s", file=sys.stderr)
    results = []
    for method in args.methods.split(","):
        out = subprocess.run([sys.executable, __file__, "--child", method, "--rows",
                              str(args.rows), "--epochs", str(args.epochs), "--workdir",
                              args.workdir], capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(results[-1], file=sys.stderr)
    print(f"\n{args.rows:,} rows x 20 columns ({data.stat().st_size / 2**20:.0f} MiB Parquet), "
          f"{args.epochs} epochs\n")
    print("| method | seconds (total) | of which training | rows/s trained | held-out MSE "
          "| peak RSS (MiB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        rate = r["rows"] * 0.9 * r["epochs"] / r["train_seconds"]
        print(f"| {r['method']} | {r['seconds']:.1f} | {r['train_seconds']:.1f} | {rate:,.0f} "
              f"| {r['val_mse']:.4f} | {r['peak_rss_mib']:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
