"""Where the training loop's mini-batches come from: a tensor in memory, or Parquet files.

Both sources give the loop the same thing each epoch, an iterator of float32 batches on
the training device, so :func:`aekit.training.loop.train` has one code path whether the
data fits in memory or not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from aekit.data.parquet_rows import ParquetRows, iter_chunks
from aekit.training import distributed

# Rows shuffled together when streaming: 2^18 rows of 20 float32 features are 20 MiB.
SHUFFLE_BUFFER_ROWS = 262_144


class BatchSource(Protocol):
    n_rows: int
    device: torch.device

    def epoch(self, batch_size: int, epoch: int) -> Iterator[Tensor]: ...

    def fingerprint(self) -> dict: ...


class TensorBatches:
    """Rows of one in-memory tensor: one permutation per epoch, batches are its slices.

    One gather per epoch and views after that: no per-row Python, no DataLoader. The
    permutation is drawn from torch's global generator when the epoch starts.
    """

    def __init__(self, X: Tensor) -> None:
        self.X = X
        self.n_rows = int(X.shape[0])
        self.device = X.device
        self._shuffled: Tensor | None = None

    def epoch(self, batch_size: int, epoch: int) -> Iterator[Tensor]:
        perm = torch.randperm(self.n_rows, device=self.device)
        # One buffer for every epoch: a fresh copy of X each epoch would pay its page faults
        # again, and the last epoch's batches are done with.
        if self._shuffled is None:
            self._shuffled = torch.empty_like(self.X)
        shuffled = torch.index_select(self.X, 0, perm, out=self._shuffled)
        for start in range(0, self.n_rows, batch_size):
            yield shuffled[start:start + batch_size]

    def fingerprint(self) -> dict:
        return {"n_train": self.n_rows,
                "data_sha256": hashlib.sha256(self.X.cpu().numpy().tobytes()).hexdigest()}


def _float32(X: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(X, dtype=np.float32)


class StreamBatches:
    """Rows of Parquet files larger than memory, reshuffled every epoch.

    Each epoch reads the row groups in a new random order and shuffles rows within a buffer
    of ``buffer_rows`` (a read-ahead thread decodes the next chunks meanwhile). Rows from
    different row groups meet in the same batch whenever the buffer spans several groups,
    so the buffer should hold a few row groups; a buffer larger than the data is a full
    shuffle. The shuffles come from a NumPy generator seeded with ``(seed, epoch)``, so a
    resumed run reads exactly what the uninterrupted one would have. Under torchrun, each
    rank reads its own share of the row groups (see :meth:`epoch`).
    """

    def __init__(self, rows: ParquetRows, n_rows: int, seed: int, device: torch.device,
                 buffer_rows: int = SHUFFLE_BUFFER_ROWS) -> None:
        # float32 in the read-ahead thread: the shuffle then moves half the bytes
        self.rows = rows.map(_float32)
        self.n_rows, self.seed = int(n_rows), int(seed)
        self.device, self.buffer_rows = device, max(1, int(buffer_rows))
        held_out = rows.held_out
        # training rows per row group, known without reading (the held-out masks are seeded)
        self._kept = np.array([p.n_rows - (int(held_out.mask(i, p.n_rows).sum()) if held_out else 0)
                               for i, p in enumerate(rows.pieces)], dtype=np.int64)

    @property
    def sharded(self) -> bool:
        """Under torchrun each rank streams its own row groups and yields local batches."""
        return distributed.world_size() > 1

    def epoch(self, batch_size: int, epoch: int) -> Iterator[Tensor]:
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.rows.pieces))
        world = distributed.world_size()
        if world == 1:
            yield from self._shuffled(order, batch_size, rng)
            return
        # Rank r reads row groups order[r::world] in batches of batch_size / world rows, so
        # the global batch keeps its size. DDP syncs every backward pass, so all ranks take
        # the step count of the rank with the fewest rows; the rest wait for another epoch.
        local = max(1, batch_size // world)
        steps = min(int(self._kept[order[r::world]].sum()) // local for r in range(world))
        mine = order[distributed.rank()::world]
        own_rng = np.random.default_rng([self.seed, epoch, distributed.rank()])
        for step, batch in enumerate(self._shuffled(mine, local, own_rng)):
            if step >= steps or batch.shape[0] < local:
                return
            yield batch

    def _shuffled(self, order: np.ndarray, batch_size: int,
                  rng: np.random.Generator) -> Iterator[Tensor]:
        pending: list[np.ndarray] = []
        held = 0
        for chunk in iter_chunks(self.rows, order):
            pending.append(chunk)
            held += len(chunk)
            if held >= self.buffer_rows:
                buffer = np.concatenate(pending)
                usable = len(buffer) - len(buffer) % batch_size
                buffer = buffer[rng.permutation(len(buffer))]
                yield from self._batches(buffer[:usable], batch_size)
                pending, held = [buffer[usable:]], len(buffer) - usable
        if held:
            buffer = np.concatenate(pending)
            yield from self._batches(buffer[rng.permutation(len(buffer))], batch_size)

    def _batches(self, buffer: np.ndarray, batch_size: int) -> Iterator[Tensor]:
        data = torch.from_numpy(buffer).to(self.device)
        for start in range(0, len(data), batch_size):
            yield data[start:start + batch_size]

    def fingerprint(self) -> dict:
        return {"n_train": self.n_rows, "data": self.rows.fingerprint(),
                "buffer_rows": self.buffer_rows, "stream_seed": self.seed}
