"""A filled table written back into the text of the CSV/TSV file it came from.

Reading a file gives typed columns, and writing them again would change cells nobody
asked to change: ``2.10`` becomes ``2.1``, ``TRUE`` becomes ``True``, an R row-name header
``""`` becomes ``Unnamed: 0``, ``NA`` becomes an empty cell. So only the filled cells are
written anew, in the column's own form (its decimal mark and decimals, its spelling of
booleans); every other cell, and the header, is the file's own text. Quoting is CSV's
minimal quoting, which reads back to the same cells.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aekit._atomic import atomic_file
from aekit.data.columns import holds_whole_numbers
from aekit.data.dialect import NULL_TEXT, CsvDialect, sniff_csv
from aekit.data.paths import open_file

MAX_DECIMALS = 10  # a fill in a column of long decimals is written with at most this many
FLOAT_NOISE_DIGITS = 15  # decimals from a float written in full, not from the data


def read_cells(path: str | os.PathLike, encoding: str | None = None
               ) -> tuple[list[str], list[list[str]], CsvDialect]:
    """A delimited file's header and rows, every cell the text it holds."""
    path = Path(path)
    dialect = sniff_csv(path, encoding=encoding)
    with open_file(path, "rt", encoding=dialect.encoding, newline="") as fh:
        for _ in range(dialect.skip_lines):  # Excel's sep= line, written back as it was
            fh.readline()
        rows = list(csv.reader(fh, delimiter=dialect.delimiter))
    rows = [row for row in rows if row]  # blank lines, which pandas skips too
    return rows[0], rows[1:], dialect


def filled_cells(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Which cells imputation changed: missing (or text read as missing) before, a value
    after."""
    same = before.astype(object).eq(after.astype(object)) | (before.isna() & after.isna())
    return ~same & after.notna()


def rounded_like_column(filled: pd.DataFrame, changed: pd.DataFrame,
                        typed: pd.DataFrame) -> pd.DataFrame:
    """``filled`` with the fills of float columns whose observed cells are all whole
    numbers (counts read with gaps) rounded, as a CSV writes them: one form in every
    output format."""
    out = filled.copy()
    for j, name in enumerate(filled.columns):
        gaps = changed.iloc[:, j].to_numpy()
        if gaps.any() and holds_whole_numbers(typed.iloc[:, j][~gaps]) and \
                pd.api.types.is_float_dtype(out[name].dtype):
            out.loc[gaps, name] = np.round(out.loc[gaps, name].to_numpy(dtype=np.float64))
    return out


def _decimals(cells: list[str], decimal: str) -> int:
    """The most digits after the decimal mark among a column's numbers, but for float
    noise (``3.2260000000000004``, a float written in full) where other cells are short."""
    found = [len(text.rsplit(decimal, 1)[1]) for text in (cell.strip() for cell in cells)
             if decimal in text and "e" not in text.lower()]
    short = [d for d in found if d < FLOAT_NOISE_DIGITS] or found
    return min(max(short, default=0), MAX_DECIMALS)


_SCIENTIFIC = re.compile(r"^[+-]?(\d+)?[.,]?(\d*)[eE][+-]?\d+$")


def _significant(cells: list[str]) -> tuple[int | None, bool]:
    """For a column with numbers in scientific notation (``6.96e-06``, as pandas writes
    small floats), the most significant digits its numbers show (None otherwise), and
    whether most of its numbers are written so."""
    scientific = sum(bool(_SCIENTIFIC.match(cell.strip())) for cell in cells)
    if not scientific:
        return None, False
    digits = [len(re.sub(r"\D", "", cell.strip().lower().split("e")[0]).lstrip("0"))
              for cell in cells]
    short = [d for d in digits if d < FLOAT_NOISE_DIGITS] or digits
    return min(max(max(short, default=1), 1), MAX_DECIMALS), 2 * scientific > len(cells)


def _spellings(cells: list[str], typed: pd.Series) -> dict[bool, str]:
    """How a boolean column's cells write True and False (``TRUE``, ``yes``, ...)."""
    out: dict[bool, str] = {}
    for cell, value in zip(cells, typed.tolist()):
        if isinstance(value, (bool, np.bool_)) and bool(value) not in out:
            out[bool(value)] = cell.strip()
    return out


def _grouped(cells: list[str], dialect: CsvDialect) -> bool:
    """Whether a column's numbers are written in groups of thousands (1.234,5) with the
    file's thousands separator."""
    if not dialect.thousands:
        return False
    groups = re.compile(rf"^[+-]?\d{{1,3}}({re.escape(dialect.thousands)}\d{{3}})+")
    return any(groups.match(cell.strip()) for cell in cells)


def _as_text(value: object, digits: int, spellings: dict[bool, str], dialect: CsvDialect,
             grouped: bool = False, significant: int | None = None) -> str:
    """A filled value in the form of its column's other cells: their spelling of booleans,
    their decimals (or, written in scientific notation, their significant digits),
    decimal mark and thousands separator."""
    if isinstance(value, (bool, np.bool_)):
        return spellings.get(bool(value), str(bool(value)))
    if isinstance(value, (float, np.floating)) and significant is not None:
        return f"{value:.{significant}g}".replace(".", dialect.decimal)
    if isinstance(value, (float, np.floating, int, np.integer)):
        whole = isinstance(value, (int, np.integer))
        text = f"{value:{',' if grouped else ''}.{0 if whole else digits}f}"
        if text.startswith("-") and not text.strip("-0.,"):
            text = text[1:]  # -0.001 at two decimals is 0.00, not -0.00
        if dialect.decimal == "." and not grouped:
            return text
        separator = dialect.thousands or ","
        return text.replace(",", "\0").replace(".", dialect.decimal).replace("\0", separator)
    return str(value)


def _quoting(rows: list[list[str]], present: np.ndarray) -> int:
    """Minimal quoting; every cell quoted when text that spells a missing value ("NA" for
    North America, quoted in the file) must read back as text."""
    words = set(NULL_TEXT[1:])
    needed = any(cell.strip() in words and present[i, j] for i, row in enumerate(rows)
                 for j, cell in enumerate(row))
    return csv.QUOTE_ALL if needed else csv.QUOTE_MINIMAL


def _blank_missing(rows: list[list[str]], present: np.ndarray) -> None:
    """Missing cells written empty, which reads back as missing quoted or not (a quoted
    NA would read as text)."""
    for i, row in enumerate(rows):
        for j in np.flatnonzero(~present[i]):
            row[j] = ""


def _line_end(path: str | os.PathLike) -> str:
    """The line ending of a file's first line: "\r\n" (Windows) or "\n"."""
    with open_file(path, "rb") as fh:
        first = fh.readline(1 << 20)
    return "\r\n" if first.endswith(b"\r\n") else "\n"


def write_filled_text(out: str | os.PathLike, source: str | os.PathLike, typed: pd.DataFrame,
                      filled: pd.DataFrame, changed: pd.DataFrame, *,
                      encoding: str | None = None) -> bool:
    """Write ``filled`` (the imputed ``typed`` table read from ``source``; ``changed``: its
    :func:`filled_cells`) as ``source``'s text with only the filled cells new; False
    (nothing written) when the file's cells do not line up with the table's rows and
    columns one to one."""
    header, rows, dialect = read_cells(source, encoding)
    if len(header) != typed.shape[1] or len(rows) != len(typed) or any(
            len(row) != len(header) for row in rows):
        return False
    changed = changed.to_numpy()
    columns = list(zip(*rows)) if rows else [() for _ in header]
    out_rows = [list(row) for row in rows]
    for j in np.flatnonzero(changed.any(axis=0)):
        cells = [c for c, gap in zip(columns[j], changed[:, j]) if not gap]
        digits = _decimals(cells, dialect.decimal)  # once per column
        observed = typed.iloc[:, j][~changed[:, j]]
        spellings = _spellings(cells, observed)
        # whole numbers written 3.0 get whole fills: 10.0 where a count was missing
        whole = holds_whole_numbers(observed)
        grouped = _grouped(cells, dialect)
        significant, mostly = (None, False) if whole else _significant(cells)
        for i in np.flatnonzero(changed[:, j]):
            value = filled.iat[i, j]
            # in scientific notation where most cells are, or where the column's decimals
            # would write the fill as 0 (a column of 3.125 and 3e-04)
            tiny = isinstance(value, (float, np.floating)) and 0 < abs(value) < 10.0 ** -digits
            out_rows[i][j] = _as_text(np.round(value) if whole else value, digits, spellings,
                                      dialect, grouped,
                                      significant if mostly or tiny else None)
    present = typed.notna().to_numpy() | changed
    quoting = _quoting(out_rows, present)
    if quoting == csv.QUOTE_ALL:
        _blank_missing(out_rows, present)
    delimiter = "\t" if Path(out).suffix.lower() == ".tsv" else (
        dialect.delimiter if dialect.delimiter != "\t" else ",")
    # in the file's own encoding (a byte-order mark kept) and line endings, which Excel
    # needs to show the text as it was
    with atomic_file(out) as tmp:
        with open(tmp, "w", encoding=dialect.encoding, newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter, lineterminator=_line_end(source),
                                quoting=quoting)
            if dialect.hint_line and delimiter == dialect.delimiter:
                fh.write(dialect.hint_line + _line_end(source))
            writer.writerow(header)
            writer.writerows(out_rows)
    return True


def numbers_as_numbers(filled: pd.DataFrame, columns: Any) -> pd.DataFrame:
    """``filled`` with each numeric column that was text only for its placeholders (``.``,
    ``?`` or ``-`` for a gap, no unit or thousands separator) as float numbers: a typed
    file (Parquet) holds numbers, as it does where the gaps were empty."""
    out = filled
    for column in columns or ():
        name = column.name
        if column.role != "numeric" or name not in out or column.unit or column.thousands \
                or column.negative or pd.api.types.is_numeric_dtype(out[name].dtype):
            continue
        numbers = pd.to_numeric(out[name].astype("string").str.strip(), errors="coerce")
        if out is filled:
            out = filled.copy()
        out[name] = numbers.astype(np.float64)
    return out


__all__ = ["filled_cells", "numbers_as_numbers", "read_cells", "rounded_like_column",
           "write_filled_text"]
