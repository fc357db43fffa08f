"""Data-parallel training with PyTorch's own engine: torchrun + DistributedDataParallel.

``torchrun --nproc-per-node N -m aekit fit ...`` (or ``aekit fit ... --nproc N``, which
calls torchrun for you) starts N processes. Each joins the process group (gloo on CPU, NCCL
on GPU), reads the data, and :func:`aekit.training.loop.train` then

- wraps the network in :class:`~torch.nn.parallel.DistributedDataParallel`, which averages
  gradients across processes after every backward pass;
- gives each rank its own 1/N share of every global mini-batch: all ranks draw the same
  permutation (same seed), so together they process exactly the single-process batches,
  and the global batch size stays ``batch_size`` (each rank computes ``batch_size / N``);
- all-reduces the epoch's training loss and the validation loss, so early stopping, the
  learning-rate schedule and the best-weights choice agree on every rank.

Only rank 0 writes the model (and checkpoints). Multi-node runs are the same command on
each node with torchrun's rendezvous options; see the README.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from aekit.data.parquet_rows import Scan
from aekit.data.preprocessing import RunningMoments

logger = logging.getLogger(__name__)


def is_distributed() -> bool:
    """Whether a process group with more than one process is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Rank 0, or the only process: the one that writes files and prints."""
    return rank() == 0


def launched_by_torchrun() -> bool:
    """torchrun (torch.distributed.run) sets these for every worker it starts."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


@contextlib.contextmanager
def process_group(backend: str | None = None) -> Iterator[None]:
    """Join the process group torchrun describes (no-op when not launched by torchrun).

    ``backend`` defaults to NCCL when CUDA is available, else gloo. On GPU each process
    uses the device of its ``LOCAL_RANK``, so ``device="cuda"`` means "my GPU".
    """
    if not launched_by_torchrun() or dist.is_initialized():
        yield
        return
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend=backend)
    logger.info("rank %d of %d joined (%s)", dist.get_rank(), dist.get_world_size(), backend)
    try:
        yield
    finally:
        dist.destroy_process_group()


def wrap(module: nn.Module, device: torch.device) -> nn.Module:
    """``module`` in DistributedDataParallel when distributed, else unchanged."""
    if not is_distributed():
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def shard(batch: torch.Tensor) -> torch.Tensor:
    """This rank's contiguous 1/N slice of a global batch (sizes differ by at most 1)."""
    n, world, r = batch.shape[0], world_size(), rank()
    if world == 1:
        return batch
    return batch[r * n // world:(r + 1) * n // world]


def all_reduce_sum(value: torch.Tensor) -> torch.Tensor:
    """Sum of ``value`` over ranks (``value`` itself when not distributed)."""
    if is_distributed():
        value = value.clone()
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def all_reduce_mean(value: float, device: torch.device) -> float:
    """Mean of a float over ranks, so every rank takes the same decision from it."""
    if not is_distributed():
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return float(t.item()) / dist.get_world_size()


def my_pieces(n_pieces: int) -> range | None:
    """This rank's share of ``n_pieces`` row groups (None: all of them, single process)."""
    if not is_distributed():
        return None
    return range(rank(), n_pieces, world_size())


def all_gather_rows(X: np.ndarray) -> np.ndarray:
    """Every rank's rows of ``X`` (float64, same width), concatenated in rank order, on
    every rank. Sizes may differ: rows are padded to the largest count for the exchange."""
    if not is_distributed():
        return X
    device = (torch.device("cuda", torch.cuda.current_device())
              if dist.get_backend() == "nccl" else torch.device("cpu"))
    local = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64)).to(device)
    count = torch.tensor([local.shape[0]], dtype=torch.int64, device=device)
    counts = [torch.zeros_like(count) for _ in range(world_size())]
    dist.all_gather(counts, count)
    sizes = [int(c.item()) for c in counts]
    padded = local.new_zeros((max(sizes), local.shape[1]))
    padded[:local.shape[0]] = local
    gathered = [torch.zeros_like(padded) for _ in sizes]
    dist.all_gather(gathered, padded)
    return torch.cat([g[:n] for g, n in zip(gathered, sizes, strict=True)]).cpu().numpy()


def gather_scan(found: Scan) -> Scan:
    """Combine the ranks' statistics passes (:func:`aekit.data.parquet_rows.scan` over
    :func:`my_pieces`) into the whole data's, identical on every rank."""
    if not is_distributed():
        return found
    moments = RunningMoments(found.moments.n_features)
    for row in all_gather_rows(found.moments.to_array()[None, :]):
        moments.merge(RunningMoments.from_array(row))
    n_rows = int(all_gather_rows(np.array([[float(found.n_rows)]])).sum())
    return Scan(moments, all_gather_rows(found.held_out), all_gather_rows(found.sample), n_rows)


def launch(nproc: int, argv: Sequence[str]) -> int:
    """Run ``python -m aekit *argv`` in ``nproc`` processes on this machine via torchrun.

    Returns torchrun's exit code. Equivalent to
    ``torchrun --standalone --nproc-per-node NPROC -m aekit ARGV...``.
    """
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc-per-node={int(nproc)}", "-m", "aekit", *argv]
    env = dict(os.environ)
    # One intra-op thread per process unless the user chose otherwise: N processes on N
    # cores each spinning several OpenMP threads would oversubscribe the machine.
    env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.call(cmd, env=env)


__all__ = ["all_gather_rows", "all_reduce_mean", "all_reduce_sum", "gather_scan",
           "is_distributed", "is_main_process", "launch", "launched_by_torchrun", "my_pieces",
           "process_group", "rank", "shard", "world_size", "wrap"]
