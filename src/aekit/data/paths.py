"""What a path on disk holds, decided in one place for every reader and command.

A directory is Parquet when it holds ``.parquet``/``.pq`` files at any depth (a partitioned
dataset keeps its files in subfolders), otherwise a folder of images. Files are told apart
by extension (``.gz`` looked through for text tables), and IDX files by their name.
"""

from __future__ import annotations

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


def table_suffix(path: Path) -> str:
    """The extension that names the format, looking through a trailing ``.gz``."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if len(suffixes) >= 2 and suffixes[-1] == ".gz":
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


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
        "Use .csv (also .txt, .psv, .dat), .tsv, .parquet, .npy, .npz, an IDX file or a folder of images.")


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
        return path_kind(path) in (PathKind.PARQUET, PathKind.CSV, PathKind.TSV)
    except DataError:
        return False


__all__ = ["PathKind", "can_stream", "is_parquet", "parquet_files", "path_kind", "table_suffix"]
