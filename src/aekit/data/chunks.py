"""Read Parquet (a file or a directory, at any depth) and CSV/TSV files in bounded chunks.

Parquet is read one record batch at a time, CSV/TSV through pyarrow's streaming reader with
every column as text, so a cell that is not a number is reported by its file row. Each
chunk becomes a validated float64 array, with the same checks and messages as in-memory
data (:mod:`aekit.data.validation`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aekit.data.dialect import (
    NULL_TEXT,
    TRAILING,
    column_names,
    header_names,
    read_header,
    sniff_csv,
    trailing_value_error,
)
from aekit.data.paths import is_parquet, parquet_files
from aekit.data.validation import FLOAT32_LIMIT, check_features, check_finite
from aekit.exceptions import DataError

CHUNK_ROWS = 65_536  # rows per chunk: 10 MiB of float64 at 20 columns


class TableReader:
    """Column names and record batches of a Parquet file/directory or a CSV/TSV file."""

    def __init__(self, path: Path, chunk_rows: int, *, encoding: str | None = None) -> None:
        import pyarrow as pa

        self.path, self.chunk_rows, self.encoding = Path(path), chunk_rows, encoding
        self.n_rows: int | None = None
        self._files: list[Path] = []
        try:
            if is_parquet(self.path):
                self._open_parquet()
            else:
                self._open_csv()
        except (pa.ArrowException, OSError) as err:
            kind = "Parquet" if is_parquet(self.path) else "CSV"
            raise DataError(f"{path}: not a readable {kind} file ({err}). Check that the file "
                            "is complete and in that format.") from None
        duplicated = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if duplicated:
            raise DataError(f"{path}: duplicated column names {duplicated}. "
                            "Give every column a unique name.")

    def _open_parquet(self) -> None:
        """The files :func:`aekit.data.paths.parquet_files` lists, which must share columns."""
        import pyarrow.parquet as pq

        self._files = parquet_files(self.path)
        self.n_rows = 0
        for file in self._files:
            meta = pq.read_metadata(str(file))
            names = list(meta.schema.to_arrow_schema().names)
            if file == self._files[0]:
                self.columns = names
            elif set(names) != set(self.columns):
                raise DataError(f"{file}: columns {sorted(set(names) ^ set(self.columns))[:10]} "
                                f"differ from those of {self._files[0]}. Every file of "
                                f"{self.path} must hold the same columns.")
            self.n_rows += meta.num_rows

    def _open_csv(self) -> None:
        import pyarrow.csv as pcsv

        self.dialect = sniff_csv(self.path, encoding=self.encoding)
        # Every column as text first: the cast to float64 below is as fast, and a cell that
        # is not a number is then reported by row instead of pyarrow's row-less message.
        read = pcsv.ReadOptions(block_size=1 << 24, encoding=self.dialect.arrow_encoding,
                                skip_rows=self.dialect.skip_lines)  # Excel's sep= line
        parse = pcsv.ParseOptions(delimiter=self.dialect.delimiter)
        if self.dialect.short_header:  # R's row names, or a trailing delimiter
            raw = column_names(read_header(self.path, self.dialect), self.dialect)
            read = pcsv.ReadOptions(block_size=read.block_size, encoding=read.encoding,
                                    column_names=raw, skip_rows=self.dialect.skip_lines + 1)
        else:
            header = pcsv.open_csv(str(self.path), read_options=read, parse_options=parse)
            raw = header.schema.names
            header.close()
        # named as pandas names them, so a file reads alike in memory and streamed: an
        # empty header cell (a saved DataFrame's index) is "Unnamed: <position>"
        self._raw_names = {name: field for name, field in zip(header_names(raw), raw)
                           if field != TRAILING}
        names = list(self._raw_names)
        import pyarrow as pa

        # a quoted "NA" is text (North America), as in memory, unless the writer quoted
        # every field and wrote missing cells so; a quoted "" is missing
        convert = pcsv.ConvertOptions(
            column_types={n: pa.string() for n in raw}, strings_can_be_null=True,
            quoted_strings_can_be_null=self.dialect.quoted_null_is_missing,
            null_values=list(NULL_TEXT))
        self._csv_args = (read, parse, convert)
        self.columns = names

    def batches(self, columns: list[str]) -> Iterator[Any]:
        """Record batches holding ``columns`` (names as in the file), in file order."""
        if self._files:
            import pyarrow.parquet as pq

            # File by file, row group by row group, without pre-buffering (which keeps every
            # row group read so far cached until the file is closed).
            for file in self._files:
                with pq.ParquetFile(str(file), pre_buffer=False) as pf:
                    yield from pf.iter_batches(batch_size=self.chunk_rows, columns=columns)
            return
        import pyarrow.csv as pcsv

        read, parse, convert = self._csv_args
        raw = [self._raw_names[c] for c in columns]
        reader = pcsv.open_csv(str(self.path), read_options=read, parse_options=parse,
                               convert_options=convert)
        trailing = self.dialect.short_header == "trailing"
        rows_before = 0
        with reader:
            for batch in reader:
                if trailing:
                    self._check_trailing_empty(batch, rows_before)
                rows_before += batch.num_rows
                batch = _empty_as_missing(self._decimal_points(batch.select(raw)))
                for start in range(0, batch.num_rows, self.chunk_rows):
                    yield batch.slice(start, self.chunk_rows)

    def _check_trailing_empty(self, batch: Any, rows_before: int) -> None:
        """Refuse a value after the trailing delimiter, as the in-memory read does."""
        import pyarrow.compute as pc

        extra = batch.column(TRAILING)
        present = pc.and_(pc.is_valid(extra), pc.greater(pc.binary_length(extra), 0))
        if pc.any(present).as_py():
            at = int(pc.index(present, True).as_py())
            raise trailing_value_error(self.path, "CSV", rows_before + at + 1, extra[at].as_py())

    def _decimal_points(self, batch: Any) -> Any:
        """Numbers written ``1.234,5`` as ``1234.5``, for a file with a decimal comma."""
        if self.dialect.decimal == ".":
            return batch
        import pyarrow as pa
        import pyarrow.compute as pc

        # only in cells that are such numbers, as pandas reads them in memory: text
        # ("Paris, France") keeps its commas
        grouped = rf"^\s*[+-]?\d{{1,3}}(\{self.dialect.thousands}\d{{3}})+(,\d+)?\s*$"
        columns = []
        for column in batch.columns:
            if self.dialect.thousands:
                column = pc.if_else(pc.match_substring_regex(column, grouped),
                                    pc.replace_substring(column, self.dialect.thousands, ""),
                                    column)
            columns.append(pc.replace_substring_regex(
                column, r"^(\s*[+-]?\d*),(\d+(?:[eE][+-]?\d+)?\s*)$", r"\1.\2"))
        return pa.record_batch(columns, names=batch.schema.names)


def _empty_as_missing(batch: Any) -> Any:
    """Quoted empty cells ("") as missing, as unquoted ones are (and as pandas reads them)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in batch.columns:
        empty = pc.equal(pc.binary_length(column), 0)
        if pc.any(empty).as_py():
            column = pc.if_else(empty, pa.scalar(None, column.type), column)
        columns.append(column)
    return pa.record_batch(columns, names=batch.schema.names)


def batch_to_float(batch: Any, names: list[str], source: str, row_offset: int, *,
                   allow_missing: bool = False) -> np.ndarray:
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
            # even an all-valid one, and that copy would dominate this function.
            out[:, j] = np.frombuffer(col.buffers()[1], dtype=np.float64, count=len(col),
                                      offset=col.offset * 8)
        else:
            out[:, j] = col.to_numpy(zero_copy_only=False)
    # One pass for the common case (NaN propagates through max); the full check, which
    # names the column and row, only runs when something is wrong.
    peak = np.abs(out).max(initial=0.0)
    if not np.isfinite(peak) or peak > FLOAT32_LIMIT:
        # missing cells (null, NaN) pass where the model leaves them out of its error
        check_finite(np.where(np.isnan(out), 0.0, out) if allow_missing else out, names,
                     source, row_offset)
    return out


def iter_chunks(path: str | os.PathLike, columns: list[str] | None = None,
                chunk_rows: int = CHUNK_ROWS, *, extra: list[str] | None = None,
                encoding: str | None = None) -> Iterator[tuple[int, np.ndarray, dict]]:
    """Yield ``(first_row, X, extras)`` for consecutive chunks of at most ``chunk_rows`` rows.

    ``X`` is a validated float64 array of ``columns`` (default: every column not in
    ``extra``); ``extras`` maps each ``extra`` column (e.g. labels) to a NumPy array.
    ``first_row`` is the 0-based position of the chunk's first row in the file.
    """
    reader = TableReader(Path(path), int(chunk_rows), encoding=encoding)
    extra = list(extra or [])
    for name in extra:
        if name not in reader.columns:
            raise DataError(f"{path}: no column {name!r}; columns are {reader.columns[:20]}.")
    if columns is None:
        columns = [c for c in reader.columns if c not in extra]
    yield from read_chunks(reader, list(columns), extra, str(path))


def _as_array(column: Any) -> Any:
    """An Arrow column as NumPy; integers with gaps as pandas' nullable integers (NumPy
    would make them floats: an id 17 written 17.0), dates as pandas' (with their zone)."""
    import pyarrow as pa

    if column.null_count and pa.types.is_integer(column.type):
        return column.to_pandas(types_mapper=lambda t: pd.Int64Dtype()).array
    if pa.types.is_timestamp(column.type):  # its time zone kept (NumPy's is UTC, naive)
        return column.to_pandas().array
    return column.to_numpy(zero_copy_only=False)


BatchToRows = Callable[[Any, list[str], str, int], np.ndarray]


def read_chunks(reader: TableReader, columns: list[str], extra: list[str], source: str,
                to_rows: BatchToRows | None = None) -> Iterator[tuple[int, np.ndarray, dict]]:
    """``(first_row, X, extras)`` per chunk of ``reader``: ``columns`` converted by
    ``to_rows(batch, columns, source, first_row)`` (default :func:`batch_to_float`; a
    model's :meth:`InputSpec.batch_rows`), ``extra`` columns as they are (one may be
    among ``columns`` too: a date that is a feature and names its row)."""
    to_rows = batch_to_float if to_rows is None else to_rows
    row = 0
    wanted = columns + [name for name in extra if name not in columns]
    for batch in reader.batches(wanted):
        if batch.num_rows == 0:
            continue
        X = to_rows(batch.select(list(range(len(columns)))), columns, source, row)
        extras = {name: _as_array(batch.column(wanted.index(name))) for name in extra}
        yield row, X, extras
        row += batch.num_rows


__all__ = ["CHUNK_ROWS", "TableReader", "batch_to_float", "iter_chunks", "read_chunks"]
