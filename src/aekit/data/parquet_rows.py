"""Parquet data larger than memory, as row pieces that can be read in any order.

A :class:`ParquetRows` is a Parquet file or a directory of Parquet files, cut into pieces:
its row groups. Training reads the row groups in a new random order every epoch, each in
chunks of ``CHUNK_ROWS``, and shuffles rows within a buffer (see
:mod:`aekit.training.batches`); nothing ever holds the whole file, nor a whole row group.

Rows can be *held out* by a seeded, per-piece random mask: the same rows are held out on
every read, whatever the piece order, so a validation (or calibration) set kept in memory
never leaks into the training stream. :func:`scan` reads everything once and returns the
preprocessing statistics, the held-out rows and a uniform sample (for a PCA start and the
quantiles of robust scaling), so a fit costs one extra pass over the data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from aekit._background import read_ahead
from aekit._progress import progress as progress_bar
from aekit.data.chunks import CHUNK_ROWS, BatchToRows, batch_to_float
from aekit.data.paths import parquet_files
from aekit.data.preprocessing import RunningMoments
from aekit.exceptions import DataError

# Memory for rows kept in RAM by scan(): the held-out rows and the sample, each.
KEEP_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Piece:
    """Row group ``row_group`` of ``path``."""

    path: str
    row_group: int
    n_rows: int
    file_row: int  # position of the group's first row in its file (for error messages)


@dataclass(frozen=True)
class HoldOut:
    """Rows held out by a seeded mask: each row with probability ``fraction``."""

    seed: int
    fraction: float

    def mask(self, piece_index: int, n_rows: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, piece_index])
        return rng.random(n_rows) < self.fraction


def too_large_for_memory(path: Path, share: float = 0.25) -> bool:
    """Whether loading ``path`` would take more than ``share`` of this machine's RAM.

    Estimated from the Parquet metadata: rows x columns x 8 bytes per float64 copy, times
    the ~3 copies an in-memory fit holds (the frame, the scaled array, the tensor).
    """
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(str(path)).metadata
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError, AttributeError):  # unreadable: let the reader explain
        return False
    return meta.num_rows * meta.num_columns * 8 * 3 > share * total


def _parquet_files(path: Path) -> list[Path]:
    if not path.exists():
        raise DataError(f"{path}: no such file or directory.")
    files = parquet_files(path) if path.is_dir() else [path]
    if not files:
        raise DataError(f"{path}: holds no .parquet files. Training streams a Parquet file "
                        "or a directory of them.")
    return files


@dataclass(frozen=True)
class ParquetRows:
    """Numeric columns of a Parquet file or directory, readable piece by piece.

    Parameters
    ----------
    path : Parquet file, or directory (searched recursively) of Parquet files sharing
        their columns.
    columns : feature columns to read (default: every column not in ``exclude``).
    exclude : columns to leave out, e.g. a labels column.

    ``transform`` (set with :meth:`map`) is applied to every piece after validation, and
    ``held_out`` (set with :meth:`without`) drops rows, so estimators can hand a scaled,
    split view of the same files to the networks they train.
    """

    path: str
    columns: tuple[str, ...]
    pieces: tuple[Piece, ...]
    transform: Callable[[np.ndarray], np.ndarray] | None = field(default=None, compare=False)
    held_out: HoldOut | None = None
    identity: tuple = ()
    to_rows: BatchToRows | None = field(default=None, compare=False)  # None: batch_to_float
    width: int | None = None  # columns of the converted rows (None: one per column)

    @classmethod
    def open(cls, path: str | os.PathLike, *, columns: list[str] | None = None,
             exclude: list[str] | tuple[str, ...] = ()) -> ParquetRows:
        import pyarrow as pa
        import pyarrow.parquet as pq

        root = Path(path)
        files = _parquet_files(root)
        pieces, identity, names = [], [], None
        for file in files:
            try:
                with pq.ParquetFile(str(file)) as pf:
                    meta, file_names = pf.metadata, list(pf.schema_arrow.names)
            except (pa.ArrowException, OSError) as err:
                raise DataError(f"{file}: not a readable Parquet file ({err}). Check that the "
                                "file is complete.") from None
            duplicated = sorted({c for c in file_names if file_names.count(c) > 1})
            if duplicated:
                raise DataError(f"{file}: duplicated column names {duplicated}. Give every "
                                "column a unique name.")
            if names is None:
                names = file_names
            elif set(file_names) != set(names):
                raise DataError(f"{file}: columns {sorted(set(file_names) ^ set(names))[:10]} "
                                f"differ from those of {files[0]}. Every file of {root} must "
                                "hold the same columns.")
            stat = file.stat()
            identity.append((str(file), stat.st_size, stat.st_mtime_ns))
            file_row = 0
            for g in range(meta.num_row_groups):
                n = meta.row_group(g).num_rows
                if n:
                    pieces.append(Piece(str(file), g, n, file_row))
                file_row += n
        for name in exclude:
            if name not in names:
                raise DataError(f"{root}: no column {name!r}; columns are {names[:20]}.")
        if columns is None:
            columns = [c for c in names if c not in exclude]
        missing = [c for c in columns if c not in names]
        if missing:
            raise DataError(f"{root}: missing columns {missing[:10]}; columns are {names[:20]}.")
        if not columns:
            raise DataError(f"{root}: no feature columns left.")
        if not pieces:
            raise DataError(f"{root}: empty input (0 rows).")
        return cls(str(root), tuple(columns), tuple(pieces), identity=tuple(identity))

    # ---------------------------------------------------------------- views
    @property
    def n_rows(self) -> int:
        """Rows in the files (held-out rows included)."""
        return sum(p.n_rows for p in self.pieces)

    @property
    def n_features(self) -> int:
        """Columns of the rows read (after conversion: e.g. one-hot levels)."""
        return len(self.columns) if self.width is None else self.width

    def map(self, transform: Callable[[np.ndarray], np.ndarray]) -> ParquetRows:
        """The same rows with ``transform`` applied after the current one."""
        inner = self.transform
        fn = transform if inner is None else (lambda X: transform(inner(X)))
        return replace(self, transform=fn)

    def converted_by(self, to_rows: BatchToRows, width: int | None = None) -> ParquetRows:
        """The same rows, each record batch turned into ``width`` float columns by
        ``to_rows(batch, columns, source, first_row)`` (a model's :meth:`InputSpec.batch_rows`)."""
        return replace(self, to_rows=to_rows, width=width)

    def head_frame(self, max_rows: int = CHUNK_ROWS):
        """The first rows of the files (up to ``max_rows``), as a pandas DataFrame."""
        import pyarrow.parquet as pq

        piece = self.pieces[0]
        with pq.ParquetFile(piece.path, pre_buffer=False) as pf:
            batch = next(pf.iter_batches(batch_size=max_rows, row_groups=[piece.row_group],
                                         columns=list(self.columns)))
        return batch.to_pandas()

    def without(self, held_out: HoldOut) -> ParquetRows:
        """The same files without the rows ``held_out`` selects."""
        if self.held_out is not None:
            raise ValueError("rows are already held out of this view")
        return replace(self, held_out=held_out)

    # ---------------------------------------------------------------- reading
    def read_raw(self, index: int, chunk_rows: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
        """Piece ``index`` as validated float64 chunks (every row, no transform)."""
        import pyarrow.parquet as pq

        piece = self.pieces[index]
        row = piece.file_row
        to_rows = batch_to_float if self.to_rows is None else self.to_rows
        with pq.ParquetFile(piece.path, pre_buffer=False) as pf:
            for batch in pf.iter_batches(batch_size=chunk_rows, row_groups=[piece.row_group],
                                         columns=list(self.columns)):
                if batch.num_rows:
                    yield to_rows(batch, list(self.columns), piece.path, row)
                    row += batch.num_rows

    def read(self, index: int, chunk_rows: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
        """Piece ``index`` in chunks: held-out rows dropped, transform applied."""
        mask = (self.held_out.mask(index, self.pieces[index].n_rows)
                if self.held_out is not None else None)
        done = 0
        for X in self.read_raw(index, chunk_rows):
            n = len(X)
            if mask is not None:
                X = X[~mask[done:done + n]]
            done += n
            yield self.transform(X) if self.transform is not None else X

    def fingerprint(self) -> dict:
        """What identifies these rows for a checkpoint: files, sizes, times, split."""
        return {"files": [list(i) for i in self.identity], "columns": list(self.columns),
                "held_out": None if self.held_out is None else [self.held_out.seed,
                                                               self.held_out.fraction]}


@dataclass
class Scan:
    """What one pass over a :class:`ParquetRows` found."""

    moments: RunningMoments  # over every row of the view
    held_out: np.ndarray  # (n_held_out, n_features), transformed
    sample: np.ndarray  # uniform sample of the rows not held out, transformed
    n_rows: int  # rows of the view not held out


def keep_fraction(wanted: float, n_rows: int, n_features: int) -> float:
    """``wanted`` share of rows, less if they would take more than ``KEEP_BYTES``."""
    cap = max(1000, KEEP_BYTES // (8 * max(n_features, 1)))
    return min(wanted, cap / max(n_rows, 1))


def scan(rows: ParquetRows, *, hold_out: HoldOut | None = None, sample_fraction: float = 0.0,
         sample_seed: int = 0, progress: bool = False,
         pieces: Sequence[int] | None = None) -> Scan:
    """Read every piece once: moments, the rows ``hold_out`` selects, and a sample.

    The moments cover all rows of ``rows`` (held-out ones too, as an in-memory scaler sees
    every row); the sample is drawn from the remaining rows with ``sample_fraction``.
    ``pieces`` restricts the pass to those piece indices (one rank's share under torchrun;
    the masks depend on the piece, not on who reads it, so the shares add up to the
    single-process result).
    """
    if hold_out is not None and rows.held_out is not None:
        raise ValueError("scan(hold_out=...) needs a view without held-out rows")
    moments = RunningMoments(rows.n_features)
    held, sample, n_rest = [], [], 0
    indices = range(len(rows.pieces)) if pieces is None else pieces
    with progress_bar(total=sum(rows.pieces[i].n_rows for i in indices), unit="row",
                      unit_scale=True, desc="reading", enabled=progress) as bar:
        for i in indices:
            # whole-group masks, so the split matches ParquetRows.without(hold_out)
            held_mask = (hold_out.mask(i, rows.pieces[i].n_rows) if hold_out is not None
                         else None)
            sample_mask = None
            if 0 < sample_fraction < 1:
                rng = np.random.default_rng([sample_seed, i, 1])
                sample_mask = rng.random(rows.pieces[i].n_rows) < sample_fraction
            done = 0
            for X in rows.read(i):
                n = len(X)
                moments.update(X)
                if held_mask is not None:
                    keep = ~held_mask[done:done + n]
                    held.append(X[~keep])
                    X, picked = X[keep], (sample_mask[done:done + n][keep]
                                          if sample_mask is not None else None)
                else:
                    picked = sample_mask[done:done + n] if sample_mask is not None else None
                n_rest += len(X)
                if sample_fraction >= 1:
                    sample.append(X)
                elif picked is not None:
                    sample.append(X[picked])
                done += n
                bar.update(n)
    empty = np.empty((0, rows.n_features))
    return Scan(moments, np.concatenate(held) if held else empty,
                np.concatenate(sample) if sample else empty, n_rest)


def iter_chunks(rows: ParquetRows, order: np.ndarray, depth: int = 4) -> Iterator[np.ndarray]:
    """The chunks of ``rows.read(i)`` for ``i`` in ``order``, read ahead in a thread.

    Parquet decoding releases the GIL, so the next chunks are read while the network trains
    on the current ones. Closing the generator (a loop that stops early) stops the reader;
    a reading error is raised in the consumer.
    """
    return read_ahead((X for i in order for X in rows.read(int(i))), depth)
