"""Time to quality: aekit's defaults vs PyOD's AutoEncoder vs a plain PyTorch loop.

Data: 200,000 x 20 rows from 6 non-linear factors, X = tanh(Z W) + 0.1 noise, plus 20,000
held-out rows; then a real set from ../shared/datasets (ADBench campaign, 41,188 x 62, 80/20).
All models are d-64-4-64-d. PyOD trains 3 epochs at its default batch size 32; aekit uses
its defaults (early stopping on held-out loss), once more with PyOD's budget of 3 epochs
and once with a single epoch, the time it takes to reach PyOD's quality (defaults
otherwise); the plain loop is the tutorial's recipe
(Adam 1e-3, batch 256, DataLoader, 10 epochs). Held-out MSE is measured in each model's
standardised space (all three standardise with training statistics).

    .venv/bin/python benchmarks/training.py [--rows 200000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import torch

from aekit.estimators._base import auto_max_epochs

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("AEKIT_DATASETS", HERE.parent.parent / "shared" / "datasets"))


def synthetic(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(6, 20)) / np.sqrt(6)
    make = lambda m: np.tanh(rng.normal(size=(m, 6)) @ W * 1.5) + 0.1 * rng.normal(size=(m, 20))
    return make(n).astype(np.float32), make(20_000).astype(np.float32)


def campaign():
    with np.load(DATA / "adbench" / "5_campaign.npz", allow_pickle=False) as npz:
        X = npz["X"].astype(np.float32)
    idx = np.random.default_rng(0).permutation(len(X))
    cut = int(0.8 * len(X))
    return X[idx[:cut]], X[idx[cut:]]


def run_aekit(X, X_test, **params):
    from aekit import Autoencoder

    t = time.perf_counter()
    model = Autoencoder(4, hidden_dims=(64,), random_state=0, **params).fit(X)
    seconds = time.perf_counter() - t
    return seconds, float(model.reconstruction_error(X_test).mean()), model.history_.n_epochs


def run_pyod(X, X_test):
    from pyod.models.auto_encoder import AutoEncoder

    t = time.perf_counter()
    model = AutoEncoder(hidden_neuron_list=[64, 4], epoch_num=3, batch_size=32,
                        random_state=0, verbose=0).fit(X)
    seconds = time.perf_counter() - t
    dist = model.decision_function(X_test)  # Euclidean distance in PyOD's standardised space
    return seconds, float(np.mean(dist ** 2) / X.shape[1]), 3


def run_plain(X, X_test):
    """The tutorial's loop: DataLoader over a TensorDataset, Adam 1e-3, batch 256."""
    torch.manual_seed(0)
    mean, std = X.mean(0), X.std(0) + 1e-8
    A = torch.from_numpy((X - mean) / std)
    B = torch.from_numpy((X_test - mean) / std)
    d = X.shape[1]
    model = torch.nn.Sequential(torch.nn.Linear(d, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4),
                                torch.nn.Linear(4, 64), torch.nn.ReLU(), torch.nn.Linear(64, d))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(A), batch_size=256,
                                         shuffle=True)
    t = time.perf_counter()
    for _ in range(10):
        for (xb,) in loader:
            loss = torch.nn.functional.mse_loss(model(xb), xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - t
    with torch.no_grad():
        mse = float(torch.nn.functional.mse_loss(model(B), B))
    return seconds, mse, 10


def median_run(run, repeats: int, label: str):
    """(median seconds, MSE, epochs) over ``repeats`` runs (seeded: the MSE repeats)."""
    outcomes = [run() for _ in range(max(1, repeats))]
    times = [o[0] for o in outcomes]
    print(f"  {label}: " + ", ".join(f"{t:.3f}" for t in times) + " s", flush=True)
    return float(np.median(times)), outcomes[0][1], outcomes[0][2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each method; the table shows the median fit time")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    sets = {"synthetic 200k x 20": synthetic(args.rows)}
    if (DATA / "adbench" / "5_campaign.npz").exists():
        sets["ADBench campaign 33k x 62"] = campaign()
    lines = ["| data | method | fit s | epochs | held-out MSE | fit time vs PyOD | MSE vs PyOD |",
             "|---|---|---|---|---|---|---|"]
    for name, (X, X_test) in sets.items():
        n_train = len(X) - round(0.1 * len(X))
        previous = dict(max_epochs=auto_max_epochs(n_train, 2_000_000), lr=3e-3)
        runs = {"PyOD AutoEncoder": partial(run_pyod, X, X_test),
                "aekit Autoencoder": partial(run_aekit, X, X_test),
                "aekit Autoencoder, max_epochs=3 (PyOD's epoch budget)":
                    partial(run_aekit, X, X_test, max_epochs=3),
                "aekit Autoencoder, max_epochs=1 (time to PyOD's quality)":
                    partial(run_aekit, X, X_test, max_epochs=1),
                "aekit Autoencoder, previous defaults (2M rows seen, lr 3e-3)":
                    partial(run_aekit, X, X_test, **previous),
                "plain PyTorch loop": partial(run_plain, X, X_test)}
        run_aekit(X[:5_000], X_test, max_epochs=1)  # warm-up: torch's first-call set-up
        results = {method: median_run(run, args.repeats, method) for method, run in runs.items()}
        base_s, base_mse, _ = results["PyOD AutoEncoder"]
        for method, (s, mse, epochs) in results.items():
            lines.append(f"| {name} | {method} | {s:.2f} | {epochs} | {mse:.4f} | "
                         f"{s / base_s:.3f} | {mse / base_mse:.2f} |")
            print(lines[-1], flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
