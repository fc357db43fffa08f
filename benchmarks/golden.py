"""Fingerprint of what users see, to prove a refactor changed nothing.

Saves the default detector's scores and 0/1 flags on every ADBench set in ../shared (the
benchmark's three seeded splits) and the default autoencoders' embeddings and
reconstructions on a few sets; `--check FILE` recomputes everything and compares bit for bit.

    .venv/bin/python benchmarks/golden.py --save /tmp/golden_before.npz
    .venv/bin/python benchmarks/golden.py --check /tmp/golden_before.npz
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adbench import DATA, SEEDS, make_split  # noqa: E402

EMBED_SETS = ("cardio", "thyroid", "wbc", "pima")


def fingerprint(fragments: list[str]) -> dict[str, np.ndarray]:
    from aekit import VAE, AnomalyDetector, Autoencoder, DenoisingAutoencoder

    out: dict[str, np.ndarray] = {}
    paths = sorted(DATA.glob("*.npz"), key=lambda p: int(p.stem.split("_")[0]))
    if fragments:
        paths = [p for p in paths if any(f in p.stem for f in fragments)]
    for path in paths:
        with np.load(path, allow_pickle=False) as npz:
            X, y = npz["X"].astype(np.float64), npz["y"].astype(int)
        for seed in SEEDS:
            X_tr, X_te, _ = make_split(X, y, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                det = AnomalyDetector(random_state=seed).fit(X_tr)
                key = f"{path.stem}/{seed}"
                out[f"{key}/score"] = det.anomaly_score(X_te)
                out[f"{key}/flag"] = det.predict_labels(X_te)
                out[f"{key}/contrib"] = det.feature_contributions(X_te[:50])
            print(key, flush=True)
        if any(s in path.stem for s in EMBED_SETS):
            X_tr, X_te, _ = make_split(X, y, 0)
            for cls in (Autoencoder, DenoisingAutoencoder, VAE):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est = cls(random_state=0).fit(X_tr)
                key = f"{path.stem}/{cls.__name__}"
                out[f"{key}/embed"] = est.transform(X_te)
                out[f"{key}/recon"] = est.inverse_transform(est.transform(X_te))
            print(path.stem, "embeddings", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", metavar="FILE")
    group.add_argument("--check", metavar="FILE")
    parser.add_argument("--datasets", default="", help="comma-separated name fragments")
    args = parser.parse_args()
    got = fingerprint(list(filter(None, args.datasets.split(","))))
    if args.save:
        np.savez(args.save, **got)
        print(f"saved {len(got)} arrays to {args.save}")
        return 0
    with np.load(args.check) as want:
        keys = [k for k in want.files if k in got] if args.datasets else want.files
        bad = [k for k in keys if k not in got or not np.array_equal(want[k], got[k])]
    print(f"{len(keys) - len(bad)} of {len(keys)} arrays bit-identical")
    for k in bad:
        print("  differs:", k)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
