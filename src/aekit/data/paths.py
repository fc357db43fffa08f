"""What a path on disk holds, decided in one place for every reader and command.

A directory is Parquet when it holds ``.parquet``/``.pq`` files at any depth (a partitioned
dataset keeps its files in subfolders), otherwise a folder of images. Files are told apart
by extension (``.gz`` looked through for text tables), and IDX files by their name.
"""

from __future__ import annotations

import lzma
import os
from enum import Enum
from pathlib import Path

from aekit.exceptions import DataError

PARQUET_SUFFIXES = (".parquet", ".pq")


class PathKind(str, Enum):
    PARQUET = "parquet"  # a Parquet file, or a directory of them at any depth
    CSV = "csv"
    TSV = "tsv"
    NPY = "npy"
    NPZ = "npz"
    IDX = "idx"
    IMAGE_FOLDER = "image folder"


# what reading a damaged compressed file raises (gzip and bz2: OSError)
READ_ERRORS = (OSError, EOFError, lzma.LZMAError)
# compressed text tables, read through: the module that opens each, its magic bytes
COMPRESSIONS = {".gz": ("gzip", b"\x1f\x8b"), ".bz2": ("bz2", b"BZh"),
                ".xz": ("lzma", b"\xfd7zXZ\x00")}


def table_suffix(path: Path) -> str:
    """The extension that names the format, looking through a trailing ``.gz``, ``.bz2``
    or ``.xz``."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in COMPRESSIONS:
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def open_file(path: str | os.PathLike, mode: str = "rb", **kwargs):
    """``open``, or the opener of the file's compression (``COMPRESSIONS``)."""
    import importlib

    compression = COMPRESSIONS.get(Path(path).suffix.lower())
    opener = importlib.import_module(compression[0]).open if compression else open
    return opener(path, mode, **kwargs)


def check_compressed(path: Path) -> None:
    """A file named ``.gz``, ``.bz2`` or ``.xz`` holds data so compressed."""
    compression = COMPRESSIONS.get(path.suffix.lower())
    if compression is None:
        return
    with open(path, "rb") as fh:
        magic = fh.read(len(compression[1]))
    if magic != compression[1]:
        raise DataError(
            f"{path}: the name ends in {path.suffix} but the file is not "
            f"{compression[0].replace('lzma', 'xz')}-compressed. Rename it without "
            f"{path.suffix}, or compress it so.")


def parquet_files(path: str | os.PathLike) -> list[Path]:
    """The Parquet files of a file or directory (searched recursively, in path order)."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file()
                      and p.suffix.lower() in PARQUET_SUFFIXES and not _hidden(p, path))
    return [path] if path.suffix.lower() in PARQUET_SUFFIXES else []


def _hidden(file: Path, root: Path) -> bool:
    """Hidden files and folders (``.name``, e.g. a writer's temporary) are not data."""
    return any(part.startswith((".", "_")) for part in file.relative_to(root).parts)


def is_idx_name(path: Path) -> bool:
    name = path.name.lower()
    return "idx" in name or name.endswith("-ubyte") or name.endswith("-ubyte.gz")


def path_kind(path: str | os.PathLike) -> PathKind:
    """What ``path`` holds; a clear error for a missing path or an unknown format."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory.")
    if path.is_dir():
        return PathKind.PARQUET if parquet_files(path) else PathKind.IMAGE_FOLDER
    suffix = table_suffix(path)
    if suffix in PARQUET_SUFFIXES:
        return PathKind.PARQUET
    if suffix in (".csv", ".txt", ".psv", ".dat"):  # delimited text: the dialect is sniffed
        return PathKind.CSV
    if suffix == ".tsv":
        return PathKind.TSV
    if suffix == ".npy":
        return PathKind.NPY
    if suffix == ".npz":
        return PathKind.NPZ
    if is_idx_name(path):
        return PathKind.IDX
    raise DataError(
        f"{path}: unknown file type {suffix or '(no extension)'!r}. "
        "Use .csv (also .txt, .psv, .dat), .tsv (either perhaps compressed: .csv.gz, "
        ".csv.bz2, .csv.xz), .parquet, .npy, .npz, an IDX file or a folder of images.")


def is_parquet(path: str | os.PathLike) -> bool:
    """A Parquet file, or a directory holding Parquet files at any depth."""
    path = Path(path)
    if path.is_dir():
        return bool(parquet_files(path))
    return table_suffix(path) in PARQUET_SUFFIXES


def can_stream(path: str | os.PathLike) -> bool:
    """Whether ``path`` can be read in chunks: Parquet (file or directory) or CSV/TSV."""
    path = Path(path)
    if not path.exists():
        return False
    try:
        # pyarrow's reader opens .gz and .bz2 itself, not .xz
        return path_kind(path) in (PathKind.PARQUET, PathKind.CSV, PathKind.TSV) and \
            path.suffix.lower() != ".xz"
    except DataError:
        return False


__all__ = ["COMPRESSIONS", "READ_ERRORS", "PathKind", "can_stream", "check_compressed", "is_parquet",
           "open_file", "parquet_files", "path_kind", "table_suffix"]
