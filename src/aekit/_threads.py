"""How many CPU threads aekit's own computations use: one policy, borrowed, never kept.

aekit's networks are small (tens to a few hundred units a layer). For small work, the
cost of waking and synchronising PyTorch's intra-op threads exceeds what they save, and on
a machine whose cores are already busy the threads spin against other processes. So:

- a training step or an inference pass runs on one thread when its work (rows x
  parameters) is small, or when the load average says the cores are taken, and on
  PyTorch's default otherwise (:func:`step_threads`);
- convolutional networks run on one thread on machines with at most two cores, where
  extra threads oversubscribe them (:func:`conv_threads`);
- scoring with an anomaly detector keeps NumPy's BLAS on one thread while a second thread
  computes the density view (:func:`scoring`); a file scored in chunks runs the networks
  on one thread too, beside the reader's thread.

Every setting is applied inside a ``with`` block that restores the caller's values
afterwards: ``torch.get_num_threads()`` and the BLAS thread count are the same after any
aekit call as before it. BENCHMARKS.md (sections 1 and 5) has the measurements behind the
thresholds below.

Users who manage threads themselves opt out with ``aekit.set_thread_policy(False)``
(:func:`set_enabled`) or the environment variable ``AEKIT_THREAD_POLICY=off``; aekit then
never changes a thread count.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch
from torch import nn

# Rows x parameters below which one thread is faster: an inference pass, a training step.
INFERENCE_SINGLE_THREAD_WORK = 2_000_000
TRAINING_SINGLE_THREAD_WORK = 32_000_000
# Fewest cores on which convolutional networks keep PyTorch's default thread count.
CONV_MIN_CORES_FOR_DEFAULT = 3

_enabled = os.environ.get("AEKIT_THREAD_POLICY", "on").strip().lower() not in (
    "off", "0", "false", "no")


def set_enabled(enabled: bool) -> None:
    """Turn aekit's thread policy on (the default) or off for this process."""
    global _enabled
    _enabled = bool(enabled)


def enabled() -> bool:
    """Whether aekit may change thread counts (inside its own calls only)."""
    return _enabled


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Use ``n`` intra-op threads inside the block (None: leave as is); always restored."""
    previous = torch.get_num_threads()
    if _enabled and n is not None and n != previous:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def _cores_busy() -> bool:
    try:
        return os.getloadavg()[0] > torch.get_num_threads() - 0.5
    except OSError:  # no load average on this platform
        return False


def step_threads(module: nn.Module, batch_size: int, device: torch.device, *,
                 training: bool = False) -> int | None:
    """Threads for one pass of ``batch_size`` rows through ``module`` (None: torch's own)."""
    if device.type != "cpu":
        return None
    limit = TRAINING_SINGLE_THREAD_WORK if training else INFERENCE_SINGLE_THREAD_WORK
    work = batch_size * sum(p.numel() for p in module.parameters())
    if work < limit or _cores_busy():
        return 1
    return None


def conv_threads(device: torch.device) -> int | None:
    """Threads for a convolutional network: one on CPUs with two cores or fewer."""
    if device.type == "cpu" and (os.cpu_count() or 1) < CONV_MIN_CORES_FOR_DEFAULT:
        return 1
    return None


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """NumPy's BLAS on one thread inside the block (its products here are narrow)."""
    if not _enabled:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def inference_threads(module: nn.Module, n_rows: int, *, conv: bool = False,
                      chunk_rows: int = 65_536) -> int | None:
    """Threads for inference on ``n_rows`` rows in chunks of at most ``chunk_rows``."""
    cpu = torch.device("cpu")
    if conv:
        threads = conv_threads(cpu)
        if threads is not None:
            return threads
    return step_threads(module, min(chunk_rows, n_rows), cpu)


_blas_depth = 0


@contextlib.contextmanager
def scoring() -> Iterator[None]:
    """The thread settings around a detector's scoring: NumPy's BLAS on one thread (the
    density view runs beside the networks on a thread of its own). Nested blocks (a file
    scored chunk by chunk) keep the outer block's settings and cost nothing."""
    global _blas_depth
    if _blas_depth:
        yield
        return
    _blas_depth += 1
    try:
        with single_threaded_blas():
            yield
    finally:
        _blas_depth -= 1


__all__ = ["conv_threads", "enabled", "inference_threads", "scoring", "set_enabled",
           "single_threaded_blas", "step_threads", "torch_threads"]
