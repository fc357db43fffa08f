"""Score files larger than memory: read a chunk, score it, write it, until the file ends.

Parquet (a file or a directory, at any depth) and CSV/TSV files are read in chunks of
``chunk_rows`` rows (:mod:`aekit.data.chunks`), each chunk is checked against the
detector's input contract and scored by its :class:`~aekit.estimators._scorer.Scorer`,
and the results are appended to a temporary file that is renamed into place only when
every row has been scored. On any error (a bad cell in row 9,000,001, a full disk, Ctrl-C)
no output file remains. Scores equal :meth:`AnomalyDetector.anomaly_score` on the whole
file bit for bit: the scorer's result for a row does not depend on its neighbours.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aekit import _threads
from aekit._atomic import atomic_file
from aekit._background import read_ahead
from aekit._progress import progress as progress_bar
from aekit.data.chunks import CHUNK_ROWS, TableReader, iter_chunks, read_chunks
from aekit.data.dialect import NULL_TEXT
from aekit.data.paths import can_stream as _can_read_in_chunks
from aekit.data.schema import carried_name
from aekit.exceptions import DataError

STREAM_OUTPUTS = (".csv", ".tsv", ".parquet", ".pq")
TOP_FEATURES = 3


def can_stream(in_path: str | os.PathLike, out_path: str | os.PathLike | None = None) -> bool:
    """Whether :func:`score_file` handles this input (and output) format."""
    ok_out = out_path is None or Path(out_path).suffix.lower() in STREAM_OUTPUTS
    return ok_out and _can_read_in_chunks(in_path)


def format_top_features(names: list[str], shares: np.ndarray, n: int = TOP_FEATURES) -> np.ndarray:
    """``"name:share;name:share;..."`` for each row of ``shares`` (object array, (rows,)):
    the ``n`` features with the largest shares, as :meth:`AnomalyDetector.top_features`;
    after the first, none whose share rounds to 0.00 (it explains nothing)."""
    if shares.shape[0] == 0:
        return np.empty(0, dtype=object)
    names = np.asarray(names, dtype=object)
    order = np.argsort(-shares, axis=1, kind="stable")[:, :n]
    top = np.take_along_axis(shares, order, axis=1)
    # "%.2f" % v is exactly f"{v:.2f}", and faster than np.char.mod
    shares_text = np.array(["%.2f" % v for v in top.ravel().tolist()], dtype=object)  # noqa: UP031
    text = names[order] + ":" + shares_text.reshape(top.shape)
    shares_text = shares_text.reshape(top.shape)
    out = text[:, 0]
    for k in range(1, text.shape[1]):
        out = np.where(shares_text[:, k] == "0.00", out, out + ";" + text[:, k])
    return out


def score_chunk(detector: Any, X: np.ndarray, *,
                single_thread: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, 0/1 flags and top features (flagged rows only, else "") of validated rows
    ``X`` (float64, in the columns and order the detector was fitted on). A chunk of a
    file runs the networks on one thread, beside the reader's thread."""
    spec, scorer = detector.input_spec_, detector.scorer_
    xs = spec.encode(X)
    scores = detector.encoded_scores(xs, single_thread=single_thread)
    flags = (scores > detector.threshold_).astype(np.int64)  # NaN (nothing to score): 0
    top = np.full(len(scores), "", dtype=object)
    rows = np.flatnonzero(flags)
    if len(rows):
        names, shares = spec.per_input_column(
            scorer.attribution(xs[rows], single_thread=single_thread))
        top[rows] = format_top_features(names, shares)
    return scores, flags, top


OUTPUT_COLUMNS = ("score", "flag", "top_features")


def score_table(detector: Any, X: Any) -> pd.DataFrame:
    """``score``, ``flag`` and ``top_features`` for every row of in-memory data ``X``, in
    order: what :func:`score_file` writes, for data already loaded."""
    detector._check_is_fitted()
    rows = detector.input_spec_.rows(X, estimator_name=type(detector).__name__)
    with _threads.scoring():
        scores, flags, top = score_chunk(detector, rows, single_thread=False)
    out = pd.DataFrame({"score": scores, "flag": flags, "top_features": top})
    out = detector.input_spec_.carry_identifiers(out, X)
    # for the summary; a list, as pandas compares attrs when it combines frames
    out.attrs["cell_counts"] = detector.input_spec_.cell_counts(rows).tolist()
    return out


CHUNK_VALUES = CHUNK_ROWS * 20  # encoded values per chunk at most
TOP_ROWS = 5  # highest-scored rows a streamed file keeps, to explain them
EMPTY_SHOWN = 5  # rows with nothing to score that the summary names


@dataclass
class ScoreSummary:
    """What :func:`score_file` wrote.

    ``flags`` is kept for every row as int8 (1 byte a row); ``scores`` and ``labels`` only
    when a labels column was named, for metrics. ``top`` holds the highest-scored rows
    (validated rows, their scores and positions), for ``AnomalyDetector.explain_rows``,
    and ``top_cells`` the same rows as the file holds them (its ``cells``).
    """

    n_rows: int
    n_flagged: int
    flags: np.ndarray
    scores: np.ndarray | None = None
    labels: np.ndarray | None = None
    top: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    top_cells: pd.DataFrame | None = None  # the ``top`` rows as the file holds them
    cell_counts: np.ndarray | None = None  # InputSpec.cell_counts over every row
    empty: tuple[int, list[int]] = (0, [])  # rows with nothing to score: how many, the first


class _TopRows:
    """The ``n`` highest-scored rows seen so far (ties: the earlier row)."""

    def __init__(self, n: int) -> None:
        self.n, self.rows, self.scores, self.positions = n, None, np.empty(0), np.empty(0, int)
        self.cells: pd.DataFrame | None = None  # the same rows as the file holds them

    def add(self, rows: np.ndarray, scores: np.ndarray, first: int, batch: Any = None) -> None:
        """Rows of a chunk (``batch``: the record batch they were read from)."""
        scores = np.where(np.isnan(scores), -np.inf, scores)  # a row with nothing to score
        if len(scores) > self.n:  # only the rows at or above the n-th highest score compete
            nth = np.partition(scores, len(scores) - self.n)[len(scores) - self.n]
            candidates = np.flatnonzero(scores >= nth)
        else:
            candidates = np.arange(len(scores))
        best = candidates[np.argsort(-scores[candidates], kind="stable")[:self.n]]
        rows, scores = rows[best], scores[best]
        positions = first + best
        cells = batch.take(best).to_pandas() if batch is not None else None
        if self.rows is not None:
            rows = np.concatenate([self.rows, rows])
            scores = np.concatenate([self.scores, scores])
            positions = np.concatenate([self.positions, positions])
            if cells is not None and self.cells is not None:
                cells = pd.concat([self.cells, cells], ignore_index=True)
        keep = np.lexsort((positions, -scores))[:self.n]
        self.rows, self.scores, self.positions = rows[keep], scores[keep], positions[keep]
        self.cells = cells.iloc[keep].reset_index(drop=True) if cells is not None else None

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scored = np.isfinite(self.scores)
        return self.rows[scored], self.scores[scored], self.positions[scored]

    def result_cells(self) -> pd.DataFrame | None:
        """The rows of :meth:`result` as the file holds them."""
        return None if self.cells is None else \
            self.cells[np.isfinite(self.scores)].reset_index(drop=True)


class _Writer:
    """Appends ``[identifier columns...,] score, flag, top_features`` to a Parquet/CSV file."""

    def __init__(self, path: Path, tmp: Path, ids: list[str]) -> None:
        self.path, self.tmp, self.ids = path, tmp, ids
        self.suffix = path.suffix.lower()
        self.schema = None
        self._writer = None

    def _open(self, id_arrays: list) -> None:
        import pyarrow as pa

        self.schema = pa.schema([*((carried_name(name, OUTPUT_COLUMNS), a.type)
                                   for name, a in zip(self.ids, id_arrays, strict=True)),
                                 ("score", pa.float64()), ("flag", pa.int64()),
                                 ("top_features", pa.string())])
        if self.suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(str(self.tmp), self.schema)
        else:
            import csv
            import io

            # quoted only where a cell needs it, as the in-memory output (pandas) writes
            self._delimiter = "\t" if self.suffix == ".tsv" else ","
            self._sink = pa.output_stream(str(self.tmp))
            header = io.StringIO()
            csv.writer(header, delimiter=self._delimiter, lineterminator="\n").writerow(
                self.schema.names)
            self._sink.write(header.getvalue().encode())

    def write(self, scores: np.ndarray, flags: np.ndarray, top: np.ndarray,
              ids: dict[str, np.ndarray] | None = None) -> None:
        import pyarrow as pa

        if self.suffix not in (".parquet", ".pq") and ids:
            # dates in CSV as pandas writes them (2024-01-01 00:00:00-05:00), as in memory
            ids = {name: pd.Series(v).astype(str).where(pd.Series(v).notna(), None).to_numpy()
                   if pd.api.types.is_datetime64_any_dtype(getattr(v, "dtype", None)) else v
                   for name, v in ids.items()}
        if self.schema is None:
            self._open([pa.array(ids[name]) for name in self.ids])
        id_arrays = [pa.array(ids[name], type=self.schema.field(k).type)
                     for k, name in enumerate(self.ids)]
        batch = pa.record_batch(
            [*id_arrays, pa.array(scores, from_pandas=True), pa.array(flags), pa.array(top, type=pa.string())],
            schema=self.schema)
        if self._writer is not None:
            self._writer.write_batch(batch)
        else:
            self._write_csv(batch)

    def _write_csv(self, batch) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pcsv

        special = f'["\\n\\r{self._delimiter}]'
        # text that spells a missing value ("NA") is quoted too, so it reads back as text
        words = pa.array(NULL_TEXT[1:])
        needs_quotes = any(
            pc.any(pc.match_substring_regex(column, special)).as_py()
            or pc.any(pc.is_in(column, value_set=words)).as_py()
            for column in batch.columns if pa.types.is_string(column.type))
        pcsv.write_csv(batch, self._sink, write_options=pcsv.WriteOptions(
            include_header=False, delimiter=self._delimiter,
            quoting_style="needed" if needs_quotes else "none"))

    def close(self) -> None:
        if self.schema is None:  # no rows: still a valid (empty) file
            import pyarrow as pa

            self._open([pa.array([], type=pa.string()) for _ in self.ids])
        if self._writer is not None:
            self._writer.close()
        else:
            self._sink.close()


def _rows_and_batch(spec: Any):
    """``spec.batch_rows`` that also returns the batch read, to show the top rows' cells."""
    def to_rows(batch: Any, columns: list[str], source: str, row_offset: int):
        return spec.batch_rows(batch, columns, source, row_offset), batch
    return to_rows


def score_file(detector: Any, in_path: str | os.PathLike, out_path: str | os.PathLike, *,
               chunk_rows: int = CHUNK_ROWS, labels: str | None = None,
               progress: bool = True, encoding: str | None = None,
               ignore: list[str] | tuple[str, ...] = ()) -> ScoreSummary:
    """Score every row of a Parquet/CSV file with ``detector``; write ``out_path`` atomically.

    Parameters
    ----------
    detector : fitted AnomalyDetector
    in_path : Parquet file or directory of Parquet files, or a .csv/.tsv file
        Must hold the columns the detector was fitted on (any order), plus ``labels``.
    out_path : .parquet, .csv or .tsv
        Columns ``score``, ``flag`` (1 = anomaly) and ``top_features`` (flagged rows only),
        one row per input row, in the input's order.
    chunk_rows : int
        Rows read, scored and written at a time; memory grows with it, not with the file.
    labels : str, optional
        A column to leave out of the features; its values are returned (with the scores)
        for metrics.
    progress : bool
        Show a progress bar with rows/s on stderr.
    encoding : str, optional
        Of a CSV/TSV input that is not UTF-8 (e.g. "cp1252"); the delimiter and decimal
        mark are detected.
    ignore : column names
        Columns of the file to leave out (ones fit did not see, such as a note added later).
    """
    detector._check_is_fitted()
    in_path, out_path = Path(in_path), Path(out_path)
    if not in_path.exists():
        raise DataError(f"{in_path}: no such file or directory.")
    if out_path.suffix.lower() not in STREAM_OUTPUTS:
        raise DataError(f"{out_path}: streamed scores are written as .parquet, .csv or .tsv; "
                        f"got {out_path.suffix or '(no extension)'!r}.")
    if not can_stream(in_path):
        raise DataError(f"{in_path}: streaming reads Parquet (a file or a directory) and "
                        ".csv/.tsv files (plain, .gz or .bz2). Convert the data or score it "
                        "in memory.")
    if chunk_rows < 1:
        raise DataError(f"chunk_rows must be >= 1. Got {chunk_rows!r} instead.")
    # a wide encoding (one-hot categories) gets chunks of fewer rows: memory follows
    # the encoded values per chunk, not the rows
    width = max(int(detector.input_spec_.n_features), 1)
    chunk_rows = min(int(chunk_rows), max(4096, CHUNK_VALUES // width))
    reader = TableReader(in_path, chunk_rows, encoding=encoding)
    extra = [labels] if labels is not None else []
    if labels is not None and labels not in reader.columns:
        raise DataError(f"{in_path}: no labels column {labels!r}; columns are "
                        f"{reader.columns[:20]}. Pass one of them to --labels.")
    unknown = sorted(set(ignore) - set(reader.columns))
    if unknown:
        raise DataError(f"{in_path}: no column(s) {unknown} to ignore; columns are "
                        f"{reader.columns[:20]}.")
    spec = detector.input_spec_
    chosen = spec.select_columns([c for c in reader.columns if c not in extra
                                  and c not in ignore],
                                 source=str(in_path), estimator_name=type(detector).__name__)
    ids = [c for c in spec.carried if c in chosen and c not in extra]
    features = [c for c in chosen if c not in spec.identifiers]
    extra = ids + extra
    n_rows = n_flagged = n_empty = 0
    first_empty: list[int] = []
    counts = None
    kept: dict[str, list[np.ndarray]] = {"scores": [], "flags": [], "labels": []}
    top_rows = _TopRows(TOP_ROWS)
    # one thread for the networks for the whole file, set once (beside the reader's thread)
    with atomic_file(out_path) as tmp, _threads.scoring(), _threads.torch_threads(1):
        writer = _Writer(out_path, tmp, ids)
        try:
            with progress_bar(total=reader.n_rows, unit="row", unit_scale=True, desc="scoring",
                              enabled=progress) as bar:
                # reading and validating run one chunk ahead on another core
                chunks = read_chunks(reader, features, extra, str(in_path),
                                     to_rows=_rows_and_batch(spec))
                for _, (X, batch), extras in read_ahead(chunks, depth=2):
                    scores, flags, top = score_chunk(detector, X)
                    writer.write(scores, flags, top, extras)
                    top_rows.add(X, scores, n_rows, batch)
                    counts = spec.cell_counts(X) if counts is None else counts + \
                        spec.cell_counts(X)
                    n_rows += len(scores)
                    n_flagged += int(flags.sum())
                    empty = np.flatnonzero(np.isnan(scores))
                    n_empty += len(empty)
                    first_empty += (n_rows - len(scores) + empty[:EMPTY_SHOWN]).tolist()
                    kept["flags"].append(flags.astype(np.int8))
                    if labels is not None:
                        kept["scores"].append(scores)
                        kept["labels"].append(extras[labels])
                    bar.update(len(scores))
        finally:
            writer.close()
        if n_rows == 0:
            raise DataError(f"{in_path}: empty input (0 rows). Pass at least 1 row.")
    summary = ScoreSummary(n_rows, n_flagged, np.concatenate(kept["flags"]),
                           top=top_rows.result(), top_cells=top_rows.result_cells(),
                           cell_counts=counts,
                           empty=(n_empty, first_empty[:EMPTY_SHOWN]))
    if labels is not None:
        summary.scores = np.concatenate(kept["scores"])
        summary.labels = np.concatenate(kept["labels"])
    return summary




__all__ = ["CHUNK_ROWS", "ScoreSummary", "can_stream", "format_top_features", "iter_chunks",
           "score_chunk", "score_file", "score_table"]
