"""Bottleneck sweep: aekit's default Autoencoder(latent_dim=k) against PCA(k) at each size.

Data: the tutorial's (1,000 x 20 Gaussian, first 5 dims with std 3: linear structure),
a synthetic low-rank set (4 factors in 20 dims + 0.05 noise), and two real sets from
../shared/datasets: ADBench cardio (1,831 x 21) and MNIST digits flattened (first 3,000
images of the test set, 784 pixels). Held-out MSE on 25% of rows, standardised units.

    .venv/bin/python benchmarks/sweep.py
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from aekit.sweep import bottleneck_sweep

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("AEKIT_DATASETS", HERE.parent.parent / "shared" / "datasets"))


def datasets() -> dict[str, tuple[np.ndarray, list[int]]]:
    rng = np.random.default_rng(42)
    tutorial = rng.normal(size=(1000, 20))
    tutorial[:, :5] *= 3
    low_rank = rng.normal(size=(2000, 4)) @ rng.normal(size=(4, 20)) + 0.05 * rng.normal(size=(2000, 20))
    out = {"tutorial 1000x20": (tutorial, [1, 2, 3, 5, 10]),
           "low-rank 2000x20 (rank 4)": (low_rank, [1, 2, 3, 4, 5, 10])}
    cardio = DATA / "adbench" / "6_cardio.npz"
    if cardio.exists():
        with np.load(cardio, allow_pickle=False) as npz:
            out["ADBench cardio 1831x21"] = (npz["X"], [1, 2, 3, 5, 10])
    mnist = DATA / "mnist" / "t10k-images-idx3-ubyte.gz"
    if mnist.exists():
        from aekit.data.images import read_idx

        pixels = read_idx(mnist)[:3000].reshape(3000, -1).astype(np.float64) / 255.0
        keep = pixels.std(axis=0) > 0  # constant border pixels carry nothing to compress
        out["MNIST 3000x784 (flattened)"] = (pixels[:, keep], [2, 8, 32])
    return out


def main() -> None:
    warnings.simplefilter("ignore")
    lines = ["| data | latent | AE MSE | PCA MSE | AE / PCA | seconds |", "|---|---|---|---|---|---|"]
    for name, (X, dims) in datasets().items():
        result = bottleneck_sweep(X, dims, random_state=0)
        for row in result.itertuples():
            lines.append(f"| {name} | {row.latent_dim} | {row.ae_mse:.4f} | {row.pca_mse:.4f} | "
                         f"{row.ratio:.3f} | {row.seconds:.1f} |")
            print(lines[-1], flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
