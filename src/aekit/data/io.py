"""Read feature tables from files and write results, choosing the format by extension.

Supported inputs: CSV/TSV (optionally compressed: .gz, .bz2, .xz), Parquet (a file or a directory of files),
``.npy`` and ``.npz`` (key ``X``, optional ``y``). Pickled NumPy objects are never loaded.
Outputs: ``.csv``, ``.tsv``, ``.parquet``, ``.npy``, always written atomically.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aekit._atomic import atomic_file
from aekit.data.columns import LEADING_ZERO, holds_whole_numbers
from aekit.data.dialect import (
    NULL_TEXT,
    TRAILING,
    CsvDialect,
    column_names,
    header_names,
    not_utf8_message,
    read_header,
    sniff_csv,
    trailing_value_error,
)
from aekit.data.paths import (
    READ_ERRORS,
    PathKind,
    check_compressed,
    open_file,
    parquet_files,
    path_kind,
)
from aekit.exceptions import DataError

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".psv", ".dat", ".parquet", ".pq", ".npy", ".npz")


@dataclass
class Dataset:
    """What a file held: features (a DataFrame, or an image array), optional labels."""

    X: pd.DataFrame | np.ndarray
    y: np.ndarray | None
    source: str
    # a folder of images: each image's file (``class/file`` in class subfolders), which
    # names its row in the outputs
    files: list[str] | None = None


def _read_delimited(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """A CSV/TSV file in its own dialect (:func:`aekit.data.dialect.sniff_csv`)."""
    check_compressed(path)
    dialect = sniff_csv(path, encoding=encoding)
    kind = "TSV" if dialect.delimiter == "\t" else "CSV"
    try:
        header = read_header(path, dialect)
    except UnicodeDecodeError as err:
        raise DataError(not_utf8_message(path, err.object[err.start:err.start + 1], err.start,
                                         " of the first line")) from None
    except READ_ERRORS as err:
        raise DataError(f"{path}: cannot read the file ({err}).") from None
    if not header:
        raise DataError(f"{path}: the file is empty (no header, no rows). Pass a file with data.")
    fields = column_names(header, dialect)  # with R's row names or a trailing field
    names = [h.strip() for h in fields]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DataError(
            f"{path}: duplicated column names {duplicated} in the header. "
            "Give every column a unique name."
        )
    try:
        with warnings.catch_warnings():
            # a row longer than the header would lose its last fields: refused below
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(path, sep=dialect.delimiter, decimal=dialect.decimal,
                             thousands=dialect.thousands, encoding=dialect.encoding,
                             skipinitialspace=True, keep_default_na=False,
                             na_values=list(NULL_TEXT), low_memory=False,
                             **_layout(fields, dialect))
    except pd.errors.ParserWarning:
        raise DataError(
            f"{path}: malformed {kind} (a row has more fields than the header's "
            f"{len(header)}; read with {dialect.describe()}). Every row needs the same number "
            "of fields as the header; quote fields that contain the delimiter.") from None
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path}: not valid {dialect.encoding} text (byte offset {err.start} in a read "
            "block). Save the file as UTF-8, or name its encoding if it is a single-byte one "
            "such as Windows-1252 (--encoding cp1252, or read_data(..., "
            "encoding='cp1252'))."
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty. Pass a file with a header and rows.") from None
    except pd.errors.ParserError as err:
        fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
        what = (f"line {fields[2]} has {fields[3]} fields, the header {fields[1]}" if fields
                else re.sub(r"^Error tokenizing data\. C error: ", "", str(err)).strip())
        raise DataError(
            f"{path}: malformed {kind} ({what}; read with {dialect.describe()}). "
            "Every row needs the same number of fields as the header; quote fields that "
            "contain the delimiter."
        ) from None
    except (*READ_ERRORS, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: cannot read the file ({err}). Is it truncated?") from None
    df = _codes_as_written(df, path, dialect, fields)
    df = _quoted_text_kept(df, path, dialect, fields)
    if TRAILING in df.columns:
        extra = np.flatnonzero(df[TRAILING].notna().to_numpy())
        if len(extra):  # not a trailing delimiter after all: a value would be lost
            raise trailing_value_error(path, kind, extra[0] + 1, df[TRAILING].iloc[extra[0]])
        df = df.drop(columns=[TRAILING])
    df.columns = header_names([str(c) for c in df.columns])
    return df


def _layout(fields: list[str], dialect: CsvDialect) -> dict:
    """pandas' arguments for the file's layout: a header one field short of the rows
    (``CsvDialect``) named in full; otherwise never a first column taken for the index
    (pandas does that silently when the first row has one field more)."""
    skip = {"skiprows": dialect.skip_lines} if dialect.skip_lines else {}  # Excel's sep= line
    return {"header": 0, "names": fields, **skip} if dialect.short_header else \
        {"index_col": False, **skip}


def _codes_as_written(df: pd.DataFrame, path: Path, dialect: CsvDialect,
                      fields: list[str]) -> pd.DataFrame:
    """Columns of whole numbers with a cell written with a leading zero (a zip code 02134,
    a FIPS code 06) as the text the file holds: codes, which a number would change."""
    whole = [c for c in df.columns if pd.api.types.is_integer_dtype(df[c].dtype)
             or holds_whole_numbers(df[c])]
    if not whole:
        return df
    text = pd.read_csv(path, sep=dialect.delimiter, usecols=whole, dtype=str,
                       encoding=dialect.encoding, skipinitialspace=True,
                       keep_default_na=False, na_values=list(NULL_TEXT),
                       **_layout(fields, dialect))
    for name in whole:
        cells = text[name].dropna().str.strip()
        if cells.str.match(LEADING_ZERO).any():
            df[name] = text[name].str.strip()
    return df


def _quoted_text_kept(df: pd.DataFrame, path: Path, dialect: CsvDialect,
                      fields: list[str]) -> pd.DataFrame:
    """Text columns' quoted cells that spell a missing value (``"NA"``, North America or
    Namibia, as writers that quote text write it) as that text, as the streamed reader and
    Parquet keep it: only an unquoted NA is a missing cell."""
    if dialect.quoted_null_is_missing or not _holds_quoted_null(path, dialect):
        return df
    gappy = [c for c in df.columns if (pd.api.types.is_object_dtype(df[c].dtype)
             or pd.api.types.is_string_dtype(df[c].dtype)) and df[c].isna().any()]
    if not gappy:
        return df
    import pyarrow as pa
    import pyarrow.csv as pcsv

    read = pcsv.ReadOptions(encoding=dialect.arrow_encoding, skip_rows=dialect.skip_lines, **(
        {"column_names": fields, "skip_rows": dialect.skip_lines + 1}
        if dialect.short_header else {}))
    raw = pcsv.read_csv(
        str(path), read_options=read,
        parse_options=pcsv.ParseOptions(delimiter=dialect.delimiter),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(df.columns, pa.string()), include_columns=gappy,
            strings_can_be_null=True, quoted_strings_can_be_null=False,
            null_values=list(NULL_TEXT)))
    if raw.num_rows != len(df):
        return df  # the readers disagree on the rows: leave pandas' reading
    for name in gappy:
        text = raw.column(name).to_pandas().str.strip()
        quoted = df[name].isna().to_numpy() & text.isin(NULL_TEXT[1:]).to_numpy()
        if quoted.any():
            df.loc[quoted, name] = text[quoted].to_numpy()
    return df


def _holds_quoted_null(path: Path, dialect: CsvDialect) -> bool:
    """Whether the file holds a quoted missing-value word ("NA", "NULL", ...) anywhere
    (read as text in the file's encoding: a byte-order mark or UTF-16 change its bytes)."""
    words = "|".join(re.escape(w) for w in NULL_TEXT[1:])
    pattern = re.compile(f'"({words})"')
    tail = ""
    with open_file(path, "rt", encoding=dialect.encoding, errors="replace", newline="") as fh:
        while block := fh.read(1 << 24):
            if pattern.search(tail + block):
                return True
            tail = block[-16:]
    return False


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file, or every file of a directory (at any depth; they must share columns),
    in the order :func:`aekit.data.paths.parquet_files` gives, as streaming reads them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for file in parquet_files(path) if path.is_dir() else [path]:
        try:
            table = pq.read_table(file)
        except (pa.ArrowException, OSError) as err:
            raise DataError(
                f"{file}: not a readable Parquet file ({err}). Check that the file is complete "
                "and really Parquet."
            ) from None
        names = table.column_names
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise DataError(f"{file}: duplicated column names {duplicated}. Rename them.")
        if tables and set(names) != set(tables[0].column_names):
            raise DataError(f"{file}: columns {sorted(set(names) ^ set(tables[0].column_names))[:10]} "
                            f"differ from those of the first file of {path}. Every file must "
                            "hold the same columns.")
        tables.append(table.select(tables[0].column_names) if tables else table)
    # without pandas' metadata, a saved DataFrame's index stays the column it is in the
    # file (as streaming reads it), not an index that would leave the features unseen
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    frame = table.to_pandas(ignore_metadata=True)
    nullable = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(),
                pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
                pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
                pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(),
                pa.bool_(): pd.BooleanDtype()}
    for name in table.column_names:  # integers and booleans with gaps keep their kind
        column = table.column(name)
        if column.null_count and column.type in nullable:
            frame[name] = column.to_pandas(types_mapper=nullable.get)
    # pandas' own nullable dtypes the writer used (Float64, string), as it wrote them
    for meta in (table.schema.pandas_metadata or {}).get("columns", []):
        dtype = meta.get("numpy_type")
        if dtype in PANDAS_NULLABLE and meta.get("name") in frame.columns:
            frame[meta["name"]] = frame[meta["name"]].astype(dtype)
    if len(tables) == 1:  # how pandas saved the frame's index, to give it back in outputs
        saved = (table.schema.pandas_metadata or {}).get("index_columns", [])
        if saved and all(isinstance(c, str) and c in frame.columns for c in saved) or (
                len(saved) == 1 and isinstance(saved[0], dict) and saved[0].get("kind") == "range"
                and (saved[0]["start"], saved[0]["step"]) != (0, 1)):
            frame.attrs[SAVED_INDEX] = saved
    return frame


SAVED_INDEX = "parquet_index"  # DataFrame.attrs key: pandas' index_columns of the file read


def with_saved_index(frame: pd.DataFrame, read: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (rows of ``read``, in order) with the index pandas had saved in the Parquet
    file ``read`` came from (its index columns, or a range such as 0, 2, 4, ...), for a
    Parquet output that reads back as the input did; ``frame`` as it is otherwise."""
    saved = read.attrs.get(SAVED_INDEX)
    if not saved or len(frame) != len(read):
        return frame
    if isinstance(saved[0], dict):
        r = saved[0]
        index = pd.RangeIndex(r["start"], r["stop"], r["step"], name=r.get("name"))
        return frame.set_axis(index) if len(index) == len(frame) else frame
    if not all(c in frame.columns for c in saved):
        return frame
    out = frame.set_index(saved)
    return out.rename_axis([None if str(n).startswith("__index_level_") else n
                            for n in out.index.names])


# pandas dtypes with pd.NA for a gap, kept from a Parquet file's pandas metadata
PANDAS_NULLABLE = ("Float32", "Float64", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16",
                   "UInt32", "UInt64", "boolean", "string")


@contextlib.contextmanager
def _numpy_errors(path: Path, what: str, objects: str) -> Iterator[None]:
    """Turn NumPy's reading errors into DataErrors; object arrays are refused, never unpickled.

    ``what`` names the thing read; ``objects`` says what holds Python objects.
    """
    try:
        yield
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise DataError(
                f"{path}: {objects}; aekit never unpickles data. Save a numeric array "
                "instead (e.g. X.astype(float))."
            ) from None
        raise DataError(f"{path}: {what} is unreadable ({err}).") from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: {what} is unreadable ({err}). Is it truncated?") from None


def _load_numpy(path: Path) -> np.ndarray | np.lib.npyio.NpzFile:
    with _numpy_errors(path, "the NumPy file", "holds Python objects (an object array)"):
        return np.load(path, allow_pickle=False)


def _npz_member(npz: np.lib.npyio.NpzFile, key: str, path: Path) -> np.ndarray:
    with _numpy_errors(path, f"array {key!r}", f"array {key!r} holds Python objects"):
        return npz[key]


def _array_frame(arr: np.ndarray, path: Path) -> pd.DataFrame | np.ndarray:
    if arr.ndim == 1:
        raise DataError(
            f"{path}: holds a 1-D array of shape {arr.shape}; expected (n_samples, n_features). "
            "Reshape it with X.reshape(-1, 1) for one feature."
        )
    if arr.ndim == 4 and arr.shape[1] not in (1, 3) and arr.shape[3] in (1, 3):
        # (N, H, W, C), as Keras, TensorFlow and PIL stack images: no other reading fits
        logger.warning("%s: images of shape %s read as channels-last (N, H, W, C); models "
                       "and image outputs are channels-first (N, C, H, W).", path, arr.shape)
        return np.ascontiguousarray(arr.transpose(0, 3, 1, 2))
    if arr.ndim in (3, 4):
        return arr  # images (N, H, W) or (N, C, H, W)
    if arr.ndim != 2:
        raise DataError(f"{path}: array of shape {arr.shape}; expected 2-D (n_samples, n_features) "
                        "or images (N, H, W) / (N, C, H, W).")
    return arr  # no column names: matched to the model by position and width


def _folder_labels(path: Path, files: list[str], labels: str | None) -> np.ndarray | None:
    """For a folder of class subfolders, ``labels`` names the subfolder of anomalies
    (``bad``): 1 for its images, 0 for the others."""
    if labels is None:
        return None
    classes = sorted({f.split("/")[0] for f in files if "/" in f})
    if labels not in classes:
        found = f"its subfolders are {classes}" if classes else "it has no class subfolders"
        raise DataError(f"{path}: a folder of images has no labels column; --labels names "
                        f"the subfolder of anomalies, and {found}.")
    return np.array([f.startswith(labels + "/") for f in files], dtype=np.int64)


def read_data(path: str | os.PathLike, *, labels: str | None = None,
              encoding: str | None = None) -> Dataset:
    """Read features (and labels, if any) from ``path``.

    Parameters
    ----------
    path : path to a CSV/TSV, Parquet file or directory, .npy or .npz file
    labels : str, optional
        Name of a column holding labels (y=1 anomaly). It is removed from the features.
        For ``.npz`` files, the ``y`` array is used when present; for a folder of class
        subfolders, it names the subfolder of anomalies.
    encoding : str, optional
        Of a CSV/TSV file, when not UTF-8 (e.g. "cp1252"). The delimiter (``,`` ``;`` tab
        ``|``) and the decimal mark are detected (:mod:`aekit.data.dialect`).
    """
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory.")
    kind = path_kind(path)
    if kind is PathKind.IMAGE_FOLDER:
        from aekit.data.images import read_image_folder

        images, files = read_image_folder(path)
        return Dataset(images, _folder_labels(path, files, labels), source, files)
    if kind is PathKind.IDX:
        from aekit.data.images import read_idx

        return Dataset(read_idx(path), None, source)
    if kind is PathKind.NPY:
        X = _array_frame(_load_numpy(path), path)
        if labels is not None:
            raise DataError(f"{path}: a .npy file has no named columns; --labels {labels!r} cannot be found.")
        return Dataset(X, None, source)
    if kind is PathKind.NPZ:
        npz = _load_numpy(path)
        with npz:
            if "X" not in npz.files:
                raise DataError(
                    f"{path}: no array named 'X' (found {sorted(npz.files)}). "
                    "Save features as np.savez(path, X=..., y=...)."
                )
            X = _npz_member(npz, "X", path)
            y = _npz_member(npz, "y", path) if "y" in npz.files else None
        if y is not None and (y.ndim != 1 or len(y) != len(X)):
            raise DataError(f"{path}: 'y' has shape {y.shape}; expected ({len(X)},), one label per row of X.")
        return Dataset(_array_frame(X, path), y, source)
    if kind is PathKind.PARQUET:
        df = _read_parquet(path)
    else:
        df = _read_delimited(path, encoding)
    y = None
    if labels is not None:
        if labels not in df.columns:
            raise DataError(
                f"{path}: no labels column {labels!r}; columns are {list(df.columns)[:20]}. "
                "Pass one of them to --labels."
            )
        y = df.pop(labels).to_numpy()
    return Dataset(df, y, source)


def write_table(path: str | os.PathLike, data: pd.DataFrame | np.ndarray, *,
                like: pd.DataFrame | None = None) -> Path:
    """Write ``data`` to ``path`` atomically, format chosen by the extension. ``like``: the
    input frame ``data``'s rows are of (a filled or rebuilt copy); a Parquet output then
    gets back the index pandas had saved in the input's Parquet file."""
    path = Path(path)
    suffix = path.suffix.lower()
    index = suffix in (".parquet", ".pq") and like is not None and SAVED_INDEX in like.attrs \
        and isinstance(data, pd.DataFrame)
    if index:
        data = with_saved_index(data, like)
    if suffix not in (".csv", ".tsv", ".parquet", ".pq", ".npy"):
        raise DataError(
            f"{path}: unknown output format {suffix or '(no extension)'!r}. "
            "Use .csv, .tsv, .parquet or .npy."
        )
    with atomic_file(path) as tmp:
        if suffix == ".npy":
            if isinstance(data, pd.DataFrame):
                text = [str(c) for c in data.columns
                        if not pd.api.types.is_numeric_dtype(data[c].dtype)]
                if text:
                    raise DataError(f"{path}: columns {text[:5]} hold text (identifiers, "
                                    "top features), which a .npy file cannot; write .csv, "
                                    ".tsv or .parquet.")
            arr = data.to_numpy() if isinstance(data, pd.DataFrame) else np.asarray(data)
            with open(tmp, "wb") as fh:
                np.save(fh, arr, allow_pickle=False)
        else:
            df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(np.asarray(data))
            df.columns = [str(c) for c in df.columns]
            if suffix in (".parquet", ".pq"):
                import pyarrow as pa

                try:
                    df.to_parquet(tmp, index=index)
                except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as err:
                    raise DataError(f"{path}: cannot be written as Parquet ({err}). Write a "
                                    ".csv or .tsv file instead.") from None
            else:
                # text that spells a missing value ("NA") quoted, so it reads back as text
                quoting = csv.QUOTE_NONNUMERIC if _holds_null_words(df) else csv.QUOTE_MINIMAL
                _whole_numbers_as_integers(df).to_csv(tmp, index=False, quoting=quoting,
                                                      sep="\t" if suffix == ".tsv" else ",")
    return path


def _holds_null_words(df: pd.DataFrame) -> bool:
    words = set(NULL_TEXT[1:])
    return any(df[c].dropna().astype(str).str.strip().isin(words).any() for c in df.columns
               if pd.api.types.is_object_dtype(df[c].dtype)
               or pd.api.types.is_string_dtype(df[c].dtype))


def _whole_numbers_as_integers(df: pd.DataFrame) -> pd.DataFrame:
    """Float columns of whole numbers (an integer column with missing cells, as pandas
    holds one) written as integers: 11, as the file read had it, not 11.0."""
    whole = [name for name in df.columns if holds_whole_numbers(df[name])]
    return df.astype({name: "Int64" for name in whole}) if whole else df


__all__ = ["Dataset", "read_data", "write_table", "TABLE_SUFFIXES"]
