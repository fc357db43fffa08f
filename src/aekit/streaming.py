"""Score files larger than memory: read in chunks, score each, write results incrementally.

Memory stays bounded by the chunk size: Parquet is read one record batch at a time
(``pyarrow.dataset``, a file or a directory of files), CSV/TSV through pyarrow's streaming
CSV reader, and scores are appended to a temporary file that is renamed into place only when
every row has been scored. On any error (a bad cell in row 9,000,001, a full disk, Ctrl-C)
no output file remains.

Each chunk is validated with the same checks as in-memory data; error messages name the
row of the file. Scores equal :meth:`AnomalyDetector.anomaly_score` on the whole file bit
for bit: the network sees the same float32 inputs, and a row's result does not depend on
which other rows share its forward pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from aekit._atomic import atomic_file
from aekit._background import read_ahead
from aekit.data.validation import _FLOAT32_LIMIT, align_columns, check_features, check_finite
from aekit.estimators._base import at_least_rows
from aekit.estimators._detector import error_shares, mahalanobis, single_threaded_blas
from aekit.exceptions import DataError
from aekit.training.loop import cpu_threads

CHUNK_ROWS = 65_536  # rows per chunk: 10 MiB of float64 at 20 columns
# Rows per forward pass: small enough that a member's activations stay in cache (measured
# 1.8x faster than 65,536 rows at 20 features and width 40), large enough that the ~15
# PyTorch calls per member per pass cost little.
FORWARD_ROWS = 16_384
# Intra-op threads while scoring. The layers are narrow (tens of units), so one thread does
# not wait on the others; measured on 2 shared cores, 2 threads were 5-50x slower. Reading
# and writing run in pyarrow's own threads meanwhile.
SCORING_THREADS = 1
STREAM_INPUTS = (".csv", ".tsv", ".txt", ".parquet", ".pq")
STREAM_OUTPUTS = (".csv", ".tsv", ".parquet", ".pq")


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] == ".gz":
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def _is_parquet(path: Path) -> bool:
    if path.is_dir():
        return any(p.suffix.lower() in (".parquet", ".pq") for p in path.iterdir())
    return _suffix(path) in (".parquet", ".pq")


def can_stream(in_path: str | os.PathLike, out_path: str | os.PathLike | None = None) -> bool:
    """Whether :func:`score_file` handles this input (and output) format."""
    in_path, ok_out = Path(in_path), True
    if out_path is not None:
        ok_out = Path(out_path).suffix.lower() in STREAM_OUTPUTS
    return ok_out and in_path.exists() and (_is_parquet(in_path) or (
        in_path.is_file() and _suffix(in_path) in (".csv", ".tsv", ".txt")))


# ---------------------------------------------------------------------------- reading
class _Reader:
    """Column names and record batches of a Parquet file/directory or a CSV/TSV file."""

    def __init__(self, path: Path, chunk_rows: int) -> None:
        import pyarrow as pa

        self.path, self.chunk_rows = path, chunk_rows
        self.n_rows: int | None = None
        try:
            if _is_parquet(path):
                import pyarrow.dataset as ds

                self._dataset = ds.dataset(str(path), format="parquet")
                self.columns = list(self._dataset.schema.names)
                self.n_rows = sum(f.metadata.num_rows for f in self._dataset.get_fragments())
                self._csv = None
            else:
                self._dataset = None
                self._open_csv()
        except (pa.ArrowException, OSError) as err:
            kind = "Parquet" if self._dataset is not None or _is_parquet(path) else "CSV"
            raise DataError(f"{path}: not a readable {kind} file ({err}). Check that the file "
                            "is complete and in that format.") from None
        duplicated = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if duplicated:
            raise DataError(f"{path}: duplicated column names {duplicated}. "
                            "Give every column a unique name.")

    def _open_csv(self) -> None:
        import pyarrow.csv as pcsv

        delimiter = "\t" if _suffix(self.path) == ".tsv" else ","
        # Every column as text first: the cast to float64 below is as fast, and a cell that
        # is not a number is then reported by row instead of pyarrow's row-less message.
        read = pcsv.ReadOptions(block_size=1 << 24)
        parse = pcsv.ParseOptions(delimiter=delimiter)
        header = pcsv.open_csv(str(self.path), read_options=read, parse_options=parse)
        names = [n.strip() for n in header.schema.names]
        header.close()
        import pyarrow as pa

        convert = pcsv.ConvertOptions(column_types={n: pa.string() for n in header.schema.names},
                                      strings_can_be_null=True)
        self._csv_args = (read, parse, convert)
        self.columns = names

    def batches(self, columns: list[str]) -> Iterator[Any]:
        """Record batches holding ``columns`` (names as in the file), in file order."""
        if self._dataset is not None:
            import pyarrow.parquet as pq

            # File by file, row group by row group, without pre-buffering: a dataset scanner
            # reads ahead several batches and files, and pre_buffer=True keeps every row
            # group read so far cached until the file is closed (RSS grew with the file).
            for fragment in self._dataset.get_fragments():
                with pq.ParquetFile(fragment.path, pre_buffer=False) as pf:
                    yield from pf.iter_batches(batch_size=self.chunk_rows, columns=columns)
            return
        import pyarrow.csv as pcsv

        read, parse, convert = self._csv_args
        stripped = {n.strip(): n for n in pcsv.open_csv(
            str(self.path), read_options=read, parse_options=parse).schema.names}
        raw = [stripped[c] for c in columns]
        reader = pcsv.open_csv(str(self.path), read_options=read, parse_options=parse,
                               convert_options=convert)
        with reader:
            for batch in reader:
                batch = batch.select(raw)
                for start in range(0, batch.num_rows, self.chunk_rows):
                    yield batch.slice(start, self.chunk_rows)


def _batch_to_float(batch: Any, names: list[str], source: str, row_offset: int) -> np.ndarray:
    """(rows, features) float64 in ``names`` order; bad cells named by file row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.empty((batch.num_rows, len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        col = batch.column(j)
        kind = col.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            try:
                col = pc.cast(pc.utf8_trim_whitespace(col), pa.float64())
            except pa.ArrowInvalid:  # let the in-memory check name the first bad cell
                frame = pd.DataFrame({name: batch.column(j).to_pandas()})
                check_features(frame, source=source, row_offset=row_offset)
                raise
        elif pa.types.is_boolean(kind):
            col = pc.cast(col, pa.float64())
        elif not (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                  or pa.types.is_decimal(kind)):
            frame = pd.DataFrame({name: col.to_pandas()})
            check_features(frame, source=source, row_offset=row_offset)
            col = pc.cast(col, pa.float64())
        if pa.types.is_float64(col.type) and col.null_count == 0:
            # The values buffer as it is: to_numpy copies whenever a validity bitmap exists,
            # even an all-valid one (3x the cost of this whole function otherwise).
            out[:, j] = np.frombuffer(col.buffers()[1], dtype=np.float64, count=len(col),
                                      offset=col.offset * 8)
        else:
            out[:, j] = col.to_numpy(zero_copy_only=False)
    # One pass for the common case (NaN propagates through max); the full check, which
    # names the column and row, only runs when something is wrong.
    peak = np.abs(out).max(initial=0.0)
    if not np.isfinite(peak) or peak > _FLOAT32_LIMIT:
        check_finite(out, names, source, row_offset)
    return out


def iter_chunks(path: str | os.PathLike, columns: list[str] | None = None,
                chunk_rows: int = CHUNK_ROWS, *,
                extra: list[str] | None = None) -> Iterator[tuple[int, np.ndarray, dict]]:
    """Yield ``(first_row, X, extras)`` for consecutive chunks of at most ``chunk_rows`` rows.

    ``X`` is a validated float64 array of ``columns`` (default: every column not in
    ``extra``); ``extras`` maps each ``extra`` column (e.g. labels) to a NumPy array.
    ``first_row`` is the 0-based position of the chunk's first row in the file.
    """
    reader = _Reader(Path(path), int(chunk_rows))
    extra = list(extra or [])
    for name in extra:
        if name not in reader.columns:
            raise DataError(f"{path}: no column {name!r}; columns are {reader.columns[:20]}.")
    if columns is None:
        columns = [c for c in reader.columns if c not in extra]
    yield from _chunks(reader, list(columns), extra, str(path))


def _chunks(reader: _Reader, columns: list[str], extra: list[str],
            source: str) -> Iterator[tuple[int, np.ndarray, dict]]:
    row = 0
    for batch in reader.batches(columns + extra):
        if batch.num_rows == 0:
            continue
        X = _batch_to_float(batch.select(list(range(len(columns)))), columns, source, row)
        extras = {name: batch.column(len(columns) + k).to_numpy(zero_copy_only=False)
                  for k, name in enumerate(extra)}
        yield row, X, extras
        row += batch.num_rows


# ---------------------------------------------------------------------------- scoring
_POOL: list = []


def _density_pool():
    """One worker thread, created on first use, for the density part of streaming scores."""
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor

        _POOL.append(ThreadPoolExecutor(1, thread_name_prefix="aekit-density"))
    return _POOL[0]


def _fast_path(detector: Any) -> bool:
    """Whether the members see the detector's scaled rows as they are (their own scaler is
    the identity), which lets the scorer scale once and call the networks directly. ELBO
    scoring and image detectors take the detector's own path."""
    return (getattr(detector, "scoring", "reconstruction") in ("reconstruction", "latent", "combined")
            and getattr(detector, "image_shape_", None) is None and all(
                m.scaler_.kind == "none" and not m.scaler_.center.any()
                and (m.scaler_.scale == 1).all() for m in detector.estimators_))


def _scaled_rows(detector: Any, X: np.ndarray) -> np.ndarray:
    """``detector._scaled(X)`` for validated (finite, float32-range) ``X``, in one buffer:
    the same operations, so the same bits."""
    xs = np.subtract(X, detector.scaler_.center)
    np.divide(xs, detector.scaler_.scale, out=xs)
    if detector.clip is not None:
        np.clip(xs, -detector.clip, detector.clip, out=xs)
    return xs


def _anomaly_scores(detector: Any, xs: np.ndarray) -> np.ndarray:
    """``detector.anomaly_score(X)`` from ``xs = _scaled_rows(detector, X)``, bit for bit.

    The members were fitted on the detector's scaled data, so one float32 conversion of
    ``xs`` is exactly the tensor each member would build for itself; doing it once, in
    cache-sized forward passes, with one encoder pass serving both the reconstruction error
    and the latent distance, is what makes scoring fast. Runs on one intra-op thread (see
    ``SCORING_THREADS``); the density view runs on a second thread meanwhile.
    """
    members = detector.estimators_
    scoring = getattr(detector, "scoring", "reconstruction")
    with torch.inference_mode(), cpu_threads(SCORING_THREADS):
        use_errors, use_latent = scoring != "latent", scoring in ("latent", "combined")
        density = None
        if getattr(detector, "reference_", None) is not None:
            # The local-density part needs nothing from the networks: it runs on the second
            # core meanwhile (torch releases the GIL), same function, same bits.
            density = _density_pool().submit(detector._density_distances, xs)
        x = torch.from_numpy(np.ascontiguousarray(xs, dtype=np.float32))
        errors = np.empty((len(members), x.shape[0]), dtype=np.float64)
        distances = np.empty((len(members), x.shape[0]), dtype=np.float64)
        for k, m in enumerate(members):
            m.module_.eval()
            codes = np.empty((x.shape[0], int(m.latent_dim)), dtype=np.float64) if use_latent else None
            for i in range(0, x.shape[0], FORWARD_ROWS):
                chunk = x[i:i + FORWARD_ROWS]
                z = at_least_rows(m._encode, chunk)  # one encoder pass serves both parts
                if use_errors:
                    err = (at_least_rows(m._decode, z) - chunk).pow(2).flatten(1).mean(dim=1)
                    errors[k, i:i + FORWARD_ROWS] = err.double().numpy()
                if use_latent:
                    codes[i:i + FORWARD_ROWS] = z.flatten(1).double().numpy()
            if use_latent:  # the same float64 arithmetic as AnomalyDetector._latent_distances
                mean, precision = detector.latent_stats_[k]
                Z = codes - mean
                distances[k] = mahalanobis(Z, precision)
        parts = ([np.sqrt(errors)] if use_errors else []) + ([distances] if use_latent else [])
        if density is not None:
            parts.append(density.result()[None, :])
    return detector._combine(np.concatenate(parts))


def _feature_shares(detector: Any, xs: np.ndarray) -> np.ndarray:
    """``detector.feature_contributions(X)`` from ``xs = _scaled_rows(detector, X)``, bit
    for bit: the same forward passes without re-validating and re-scaling the rows once
    per member (for the ~1% flagged rows of a chunk that cost as much as scoring them all).
    """
    x = torch.from_numpy(np.ascontiguousarray(xs, dtype=np.float32))
    total = np.zeros_like(xs)
    with torch.inference_mode(), cpu_threads(SCORING_THREADS):
        for m in detector.estimators_:
            m.module_.eval()
            for i in range(0, x.shape[0], m._inference_chunk()):
                rows = slice(i, i + m._inference_chunk())
                recon = at_least_rows(m._reconstruct_scaled, x[rows]).double().numpy()
                total[rows] += (recon - xs[rows]) ** 2
    return error_shares(total)


def format_top_features(detector: Any, X: np.ndarray, n: int = 3,
                        shares: np.ndarray | None = None) -> np.ndarray:
    """``"name:share;name:share;..."`` for each row of ``X`` (object array, shape (rows,)).

    The same text as :meth:`AnomalyDetector.top_features` gives, built column-wise.
    ``shares``: the rows' feature contributions when already computed.
    """
    if X.shape[0] == 0:
        return np.empty(0, dtype=object)
    if shares is None:
        shares = detector.feature_contributions(X)
    names = np.asarray(getattr(detector, "feature_names_in_",
                               [f"x{j}" for j in range(shares.shape[1])]), dtype=object)
    order = np.argsort(-shares, axis=1, kind="stable")[:, :n]
    top = np.take_along_axis(shares, order, axis=1)
    # "%.2f" % v is exactly f"{v:.2f}"; np.char.mod would do the same 5x slower
    shares_text = np.array(["%.2f" % v for v in top.ravel().tolist()], dtype=object)
    text = names[order] + ":" + shares_text.reshape(top.shape)
    out = text[:, 0]
    for k in range(1, text.shape[1]):
        out = out + ";" + text[:, k]
    return out


def score_chunk(detector: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, 0/1 flags and top-3 features (flagged rows only, else "") for validated X."""
    fast = _fast_path(detector)
    if fast:
        xs = _scaled_rows(detector, X)
        scores = _anomaly_scores(detector, xs)
    else:
        with torch.inference_mode(), cpu_threads(SCORING_THREADS):
            scores = detector.anomaly_score(X)
    flags = (scores > detector.threshold_).astype(np.int64)
    top = np.full(len(scores), "", dtype=object)
    rows = np.flatnonzero(flags)
    if len(rows):
        shares = _feature_shares(detector, xs[rows]) if fast else None
        top[rows] = format_top_features(detector, X[rows], shares=shares)
    return scores, flags, top


@dataclass
class ScoreSummary:
    """What :func:`score_file` wrote.

    ``flags`` is kept for every row as int8 (1 byte a row); ``scores`` and ``labels`` only
    when a labels column was named, for metrics.
    """

    n_rows: int
    n_flagged: int
    flags: np.ndarray
    scores: np.ndarray | None = None
    labels: np.ndarray | None = None


class _Writer:
    def __init__(self, path: Path, tmp: Path) -> None:
        import pyarrow as pa

        self.schema = pa.schema([("score", pa.float64()), ("flag", pa.int64()),
                                 ("top_features", pa.string())])
        self.suffix = path.suffix.lower()
        if self.suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(str(tmp), self.schema)
        else:
            import pyarrow.csv as pcsv

            options = pcsv.WriteOptions(delimiter="\t" if self.suffix == ".tsv" else ",",
                                        quoting_style="needed")
            self._writer = pcsv.CSVWriter(str(tmp), self.schema, write_options=options)

    def write(self, scores: np.ndarray, flags: np.ndarray, top: np.ndarray) -> None:
        import pyarrow as pa

        self._writer.write_batch(pa.record_batch(
            [pa.array(scores), pa.array(flags), pa.array(top, type=pa.string())],
            schema=self.schema))

    def close(self) -> None:
        self._writer.close()


def score_file(detector: Any, in_path: str | os.PathLike, out_path: str | os.PathLike, *,
               chunk_rows: int = CHUNK_ROWS, labels: str | None = None,
               progress: bool = True) -> ScoreSummary:
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
    """
    from tqdm.auto import tqdm

    detector._check_is_fitted()
    in_path, out_path = Path(in_path), Path(out_path)
    if not in_path.exists():
        raise DataError(f"{in_path}: no such file or directory.")
    if out_path.suffix.lower() not in STREAM_OUTPUTS:
        raise DataError(f"{out_path}: streamed scores are written as .parquet, .csv or .tsv; "
                        f"got {out_path.suffix or '(no extension)'!r}.")
    if not can_stream(in_path):
        raise DataError(f"{in_path}: streaming reads Parquet (a file or a directory) and "
                        ".csv/.tsv files. Convert the data or score it in memory.")
    if chunk_rows < 1:
        raise DataError(f"chunk_rows must be >= 1. Got {chunk_rows!r} instead.")
    reader = _Reader(in_path, int(chunk_rows))
    extra = [labels] if labels is not None else []
    if labels is not None and labels not in reader.columns:
        raise DataError(f"{in_path}: no labels column {labels!r}; columns are "
                        f"{reader.columns[:20]}. Pass one of them to --labels.")
    features = [c for c in reader.columns if c not in extra]
    names = getattr(detector, "feature_names_in_", None)
    if names is not None:
        # Same rule and message as in memory: every fitted column present, no extra ones.
        features = list(align_columns(pd.DataFrame(columns=features), list(names),
                                      str(in_path)).columns)
    elif len(features) != detector.n_features_in_:
        raise DataError(f"{in_path}: X has {len(features)} features, but "
                        f"{type(detector).__name__} is expecting {detector.n_features_in_} "
                        "features as input. Pass the same columns as in fit.")
    n_rows = n_flagged = 0
    kept: dict[str, list[np.ndarray]] = {"scores": [], "flags": [], "labels": []}
    with atomic_file(out_path) as tmp, single_threaded_blas():
        writer = _Writer(out_path, tmp)
        try:
            with tqdm(total=reader.n_rows, unit="row", unit_scale=True, desc="scoring",
                      disable=not progress, dynamic_ncols=True, leave=False) as bar:
                # reading and validating run one chunk ahead on the second core
                for _, X, extras in read_ahead(_chunks(reader, features, extra, str(in_path)),
                                               depth=2):
                    scores, flags, top = score_chunk(detector, X)
                    writer.write(scores, flags, top)
                    n_rows += len(scores)
                    n_flagged += int(flags.sum())
                    kept["flags"].append(flags.astype(np.int8))
                    if labels is not None:
                        kept["scores"].append(scores)
                        kept["labels"].append(extras[labels])
                    bar.update(len(scores))
        finally:
            writer.close()
        if n_rows == 0:
            raise DataError(f"{in_path}: empty input (0 rows). Pass at least 1 row.")
    summary = ScoreSummary(n_rows, n_flagged, np.concatenate(kept["flags"]))
    if labels is not None:
        summary.scores = np.concatenate(kept["scores"])
        summary.labels = np.concatenate(kept["labels"])
    return summary


__all__ = ["CHUNK_ROWS", "ScoreSummary", "can_stream", "iter_chunks", "score_chunk",
           "score_file", "format_top_features"]
