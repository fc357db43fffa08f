"""How a delimited text file is written: its delimiter, decimal mark and encoding.

Read from a sample of the file (its first MiB) before parsing it, so that a semicolon
file with decimal commas (common where the comma is the decimal mark) is read as the
table it is, never as one column of text. The rules:

- delimiter: the one of ``,`` ``;`` tab ``|`` that splits the most sampled lines (quotes
  respected) into the same number of fields, more than one; then the most fields, then
  that order. A ``.tsv`` file is tab-separated; Excel's ``sep=;`` first line names the
  delimiter and is skipped (and written back by impute). A file whose lines split on none of them
  is one column, unless its header holds a delimiter: that file is refused, never read as
  one column of text.
- decimal mark: a comma when the delimiter is not one and the numbers in the sample are
  written ``3,14`` (none ``3.14``); then ``.`` between digit groups (``1.234,5``) is a
  thousands separator.
- encoding: UTF-8, with or without a byte-order mark. Other encodings (Windows-1252,
  Latin-1, ...) are read only when named (``encoding=``, ``--encoding``): their bytes are
  valid in many encodings, so guessing would silently change text.
- missing cells: an empty field, quoted or not, and an unquoted ``NA``, ``NULL``, ... A
  quoted ``"NA"`` is text (North America), as writers that quote text write it, unless the
  writer wrote missing numbers so too (pandas' ``QUOTE_ALL`` with ``na_rep="NA"``): then it
  is a missing cell.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path

from aekit.data.paths import READ_ERRORS, open_file, table_suffix
from aekit.exceptions import DataError

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 1 << 20
SAMPLE_LINES = 200
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+([eE][+-]?\d+)?$")
_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_DECIMAL_POINT = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")
_GROUPED_INTEGER = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")  # 1.925 or 32.526.562
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_NAMES = {"\t": "tab", ",": "','", ";": "';'", "|": "'|'"}
_EXCEL_HINT = re.compile(r"^(?i:sep)=([,;\t|])$")  # Excel's first line naming the delimiter


# the cells read as missing, the same in memory (pandas) and streamed (pyarrow): pyarrow's
# defaults; pandas' own list adds "None" and "<NA>", which can be values ("no damage")
NULL_TEXT = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
             "1.#QNAN", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null")


def header_names(raw: list[str]) -> list[str]:
    """A CSV header's column names as both readers (in memory and streamed) give them:
    stripped; an empty one named as pandas names it, "Unnamed: <position>"; and names that
    are all wrapped in single quotes ('popul', as some exports write them) without those."""
    names = [n.strip() or f"Unnamed: {j}" for j, n in enumerate(raw)]
    if names and all(len(n) > 2 and n[0] == n[-1] == "'" for n in names):
        names = [n[1:-1].strip() or f"Unnamed: {j}" for j, n in enumerate(names)]
    return names


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str = ","
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8"
    # the header one field short of the rows: "trailing" (every row ends in a delimiter,
    # an empty last field) or "row names" (R's write.table: the first field names the row)
    short_header: str = ""
    # missing numbers written as a quoted word ("NA"): then a quoted "NA" is missing text
    quoted_null_is_missing: bool = False
    # Excel's ``sep=;`` line above the header, which names the delimiter: skipped
    hint_line: str = ""

    @property
    def skip_lines(self) -> int:
        """Lines above the header that are no part of the table."""
        return 1 if self.hint_line else 0

    @property
    def arrow_encoding(self) -> str:
        """The encoding as pyarrow's CSV reader names it (it skips a byte-order mark itself)."""
        return "utf8" if self.encoding in ("utf-8", "utf-8-sig") else self.encoding

    def describe(self) -> str:
        parts = [f"delimiter {_NAMES.get(self.delimiter, repr(self.delimiter))}"]
        if self.decimal != ".":
            parts.append(f"decimal mark {self.decimal!r}")
        if self.thousands:
            parts.append(f"thousands separator {self.thousands!r}")
        return ", ".join(parts) + f", {self.encoding}"


def _raw_sample(path: Path) -> bytes:
    try:
        with open_file(path, "rb") as fh:
            return fh.read(SAMPLE_BYTES)
    except READ_ERRORS as err:
        raise DataError(f"{path}: cannot read the file ({err}).") from None


def not_utf8_message(path: Path, byte: bytes, offset: int, where: str) -> str:
    return (f"{path}: not valid UTF-8 text (byte {byte!r} at offset {offset}{where}). "
            "Save the file as UTF-8, or name its encoding if it is a single-byte one such "
            "as Windows-1252 (--encoding cp1252, or read_data(..., encoding='cp1252'); "
            "Windows-1252 also reads Latin-1 text).")


def _decode(path: Path, raw: bytes, encoding: str | None) -> tuple[str, str]:
    """(text of the sample, the encoding to read the file with)."""
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DataError(f"{path}: unknown encoding {encoding!r}. Use a Python codec name "
                            "such as utf-8, cp1252 or latin-1.") from None
        try:
            text = raw.decode(encoding, errors="strict")
        except UnicodeDecodeError as err:
            raise DataError(f"{path}: not valid {encoding} text (byte offset {err.start}). "
                            "Check the file's encoding.") from None
        control = re.search("[\x80-\x9f]", text)
        if control and codecs.lookup(encoding).name == "iso8859-1":
            # Latin-1 reads Windows-1252's €, quotes and dashes as control characters
            raise DataError(f"{path}: byte {ord(control[0]):#x} at offset {control.start()} is "
                            f"a control character in {encoding}; in Windows-1252 it is "
                            f"{bytes([ord(control[0])]).decode('cp1252', 'replace')!r}. "
                            "The file is most likely Windows-1252: pass --encoding cp1252.")
        return text, encoding
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # UTF-16 names itself by its byte-order mark (Excel's "Unicode text")
        text = raw[:len(raw) - len(raw) % 2].decode("utf-16", errors="ignore")
        return text, "utf-16"
    if raw.startswith(codecs.BOM_UTF8):
        encoding, raw = "utf-8-sig", raw[len(codecs.BOM_UTF8):]
    else:
        encoding = "utf-8"
    try:
        # a full sample may end inside a multi-byte character: "ignore" drops only that
        text = raw.decode("utf-8", errors="strict" if len(raw) < SAMPLE_BYTES else "ignore")
        if len(raw) >= SAMPLE_BYTES:
            raw[:len(raw) - 4].decode("utf-8")  # strict on all but the last bytes
    except UnicodeDecodeError as err:
        first_line = raw.find(b"\n")
        where = " of the first line" if first_line < 0 or err.start < first_line else ""
        raise DataError(not_utf8_message(path, err.object[err.start:err.start + 1], err.start,
                                         where)) from None
    return text, encoding


@dataclass(frozen=True)
class _Sample:
    """The first lines of a file (blank ones left out), and whether the file goes on."""

    lines: list[str]
    numbers: list[int]  # each line's number in the file
    cut: bool

    def records(self, delimiter: str) -> list[tuple[int, list[str]]]:
        """The sampled records with the number of the line each starts on (a quoted field
        may span lines); when the sample is cut, without its last record, which may be
        cut inside a quoted field."""
        reader = csv.reader(self.lines, delimiter=delimiter)
        rows = []
        for row in reader:
            # line_num counts the sample's lines read so far, the record's last one
            rows.append((reader.line_num, row))
        starts = [1] + [end + 1 for end, _ in rows[:-1]]
        records = [(self.numbers[start - 1], row) for start, (_, row) in zip(starts, rows)]
        return records[:-1] if self.cut and len(records) > 1 else records

    def field_counts(self, delimiter: str) -> list[int]:
        return [len(row) for _, row in self.records(delimiter)]


def _sample(text: str, truncated: bool) -> _Sample:
    lines = text.splitlines()
    if truncated and lines:
        lines = lines[:-1]  # the last sampled line may be cut short
    kept = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    return _Sample([line for _, line in kept[:SAMPLE_LINES]],
                   [n for n, _ in kept[:SAMPLE_LINES]], truncated or len(kept) > SAMPLE_LINES)


def sniff_csv(path: str | Path, *, encoding: str | None = None) -> CsvDialect:
    """The dialect of a CSV/TSV file (see the module docstring)."""
    path = Path(path)
    raw = _raw_sample(path)
    text, encoding = _decode(path, raw, encoding)
    sample = _sample(text, truncated=len(raw) >= SAMPLE_BYTES)
    hint = _EXCEL_HINT.match(sample.lines[0].strip(" \r\n")) if sample.lines else None
    hint = hint if hint and sample.numbers[0] == 1 else None
    if hint:  # Excel's sep=; first line: it names the delimiter
        sample = _Sample(sample.lines[1:], sample.numbers[1:], sample.cut)
        delimiter = hint[1]
    elif table_suffix(path) == ".tsv":
        delimiter = "\t"
    else:
        delimiter = _delimiter(path, sample)
    _check_spaces(path, sample, delimiter)
    _check_counts_line(path, sample, delimiter)
    _check_preamble(path, sample, delimiter)
    _check_short_rows(path, sample, delimiter)
    _check_header_of_numbers(path, sample, delimiter)
    decimal, thousands = (".", None) if delimiter == "," else _decimal_mark(
        [row for _, row in sample.records(delimiter)[1:]])
    return CsvDialect(delimiter, decimal, thousands, encoding,
                      _short_header(path, sample, delimiter),
                      _quoted_null_is_missing(sample, delimiter),
                      hint[0] if hint else "")


def _quoted_null_is_missing(sample: _Sample, delimiter: str) -> bool:
    """Whether the writer wrote missing numbers as a quoted word (``"NA"``, as pandas'
    ``QUOTE_ALL`` with ``na_rep="NA"`` does): then it wrote missing text so too. Read with
    quotes kept; lines whose fields a quoted delimiter would shift are left out."""
    rows = list(csv.reader(sample.lines, delimiter=delimiter, quoting=csv.QUOTE_NONE))
    if len(rows) < 2:
        return False
    width = len(rows[0])
    rows = [row for row in rows[1:] if len(row) == width]
    words = {f'"{w}"' for w in NULL_TEXT[1:]}
    for column in zip(*rows):
        cells = [cell.strip() for cell in column]
        quoted_null = [cell in words for cell in cells]
        numbers = [bool(_NUMBER.match(cell.strip('"').replace(",", ".")))
                   for cell in cells]
        if any(quoted_null) and any(numbers) and all(
                n or q or cell.strip('"') in NULL_TEXT
                for n, q, cell in zip(numbers, quoted_null, cells)):
            return True
    return False


ROW_NAMES = "Unnamed: 0"  # the name R's row names get, as pandas names an empty header cell


def _short_header(path: Path, sample: _Sample, delimiter: str) -> str:
    """How the rows' one more field than the header is to be read (``CsvDialect``)."""
    records = [row for _, row in sample.records(delimiter)]
    if len(records) < 2 or any(len(row) != len(records[0]) + 1 for row in records[1:]):
        return ""
    # an empty last field in most rows: trailing delimiters (a value there is refused
    # when the file is read, never dropped)
    if 2 * sum(not row[-1].strip() for row in records[1:]) > len(records) - 1:
        return "trailing"
    names = [row[0].strip() for row in records[1:]]
    if all(names) and len(set(names)) == len(names):  # R's row names are unique
        return "row names"
    raise DataError(
        f"{path}: malformed CSV: every row has one field more than the header "
        f"({len(records[0])}), but the extra field is neither empty (a trailing delimiter) nor "
        "a unique row name first (R's write.table). Is a delimiter unquoted inside a field? "
        "Quote such fields, or name every column in the header.")


def read_header(path: Path, dialect: CsvDialect) -> list[str]:
    """A delimited file's first record: its header's fields as written."""
    with open_file(path, "rt", encoding=dialect.encoding, newline="") as fh:
        for _ in range(dialect.skip_lines):
            fh.readline()
        for row in csv.reader(fh, delimiter=dialect.delimiter):
            return row
    return []


def column_names(header: list[str], dialect: CsvDialect) -> list[str]:
    """The names of a file's fields, rows' extra field included: R's row names first as
    ``ROW_NAMES``, a trailing empty field last under a name no header holds."""
    if dialect.short_header == "row names":
        return [ROW_NAMES, *header]
    if dialect.short_header == "trailing":
        return [*header, TRAILING]
    return list(header)


TRAILING = "\0trailing"  # the empty field after a trailing delimiter: read, never used


def trailing_value_error(path: Path, kind: str, row: int, value: object) -> DataError:
    """A value after what looked like a trailing delimiter: it has no column to go to, and
    dropping it would lose data silently."""
    return DataError(
        f"{path}: malformed {kind}: the rows have one field more than the header, empty in "
        f"most of them, but row {row} has a value there ({value!r}). Give that column a name "
        "in the header, or remove the trailing delimiters.")


def _check_spaces(path: Path, sample: _Sample, delimiter: str) -> None:
    """Lines that hold no delimiter but split on runs of spaces into the same number of
    fields are a whitespace-separated table, which would read as one column of text."""
    if len(sample.lines) < 2 or any(n > 1 for n in sample.field_counts(delimiter)):
        return
    counts = {len(line.split()) for line in sample.lines}
    cells = [cell for line in sample.lines[1:] for cell in line.split()]
    numbers = sum(bool(_NUMBER.match(cell)) for cell in cells)
    # words a line may be text in one column ("Ann Lee", "123 Main", "12 Mar 1990", a
    # number in groups "12 345"); three or more fields of numbers in every line are not
    if len(counts) == 1 and counts.pop() > 2 and 5 * numbers >= 4 * len(cells) > 0:
        expected = "tab" if delimiter == "\t" else "',', ';', tab or '|'"
        first = sample.lines[0].strip()
        first = first if len(first) <= 60 else first[:57] + "..."  # cut, and says so
        raise DataError(
            f"{path}: the fields are separated by spaces, not by {expected} (line 1: "
            f"{first!r}), and would read as one column of text. Save "
            "the file with a delimiter, e.g. pandas.read_csv(path, sep=r'\\s+').to_csv(...).")


def _check_counts_line(path: Path, sample: _Sample, delimiter: str) -> None:
    """scikit-learn's bundled tables (iris.csv, wine_data.csv) start with the number of rows
    and of features and the class names (``150,4,setosa,versicolor,virginica``) above rows
    of numbers with the class code last: no header, which read as one would name the
    columns by the counts and class names."""
    records = sample.records(delimiter)
    if len(records) < 2:
        return
    first = [field.strip() for field in records[0][1]]
    rows = [row for _, row in records[1:]]
    if len(first) < 3 or not (first[0].isdigit() and first[1].isdigit()) or any(
            _NUMBER.match(name) for name in first[2:]):
        return
    if all(len(row) == int(first[1]) + 1 and all(_NUMBER.match(v.strip()) for v in row)
           for row in rows):
        raise DataError(
            f"{path}: line 1 ({','.join(first[:4])}{',...' if len(first) > 4 else ''}) holds "
            f"the number of rows ({first[0]}) and of features ({first[1]}) and the class "
            "names, as scikit-learn's bundled tables do, not the columns' names: the file has "
            "no header. Load it with sklearn.datasets (as_frame=True) and save the frame, or "
            "read it with pandas.read_csv(path, skiprows=1, header=None).")


def _check_header_of_numbers(path: Path, sample: _Sample, delimiter: str) -> None:
    """A first line of numbers only is a row of a file without a header (as numpy's
    ``savetxt`` writes one): read as the header, that row would be lost and its values
    would name the columns. Consecutive integers (0, 1, 2, as pandas names unnamed
    columns; years) are names."""
    records = sample.records(delimiter)
    if len(records) < 2 or '"' in sample.lines[0]:  # quoted fields: names, as written
        return
    header = [field.strip() for field in records[0][1]]
    if not all(_NUMBER.match(field.replace(",", ".")) for field in header):
        return
    if all(re.fullmatch(r"\d+", f) for f in header) and \
            [int(f) - int(header[0]) for f in header] == list(range(len(header))):
        return
    shown = ", ".join(header[:4]) + (", ..." if len(header) > 4 else "")
    raise DataError(
        f"{path}: the first line holds only numbers ({shown}): the file has no header, and "
        "its first row would be read as the columns' names. Add a first line that names the "
        "columns, e.g. pandas.read_csv(path, header=None).add_prefix('x').to_csv(out, "
        "index=False).")


def _check_preamble(path: Path, sample: _Sample, delimiter: str) -> None:
    """A first line with fewer fields than the rows below it is a title or Excel's
    ``sep=`` line above the header: read as the header, it would fold the table into its
    first column or two."""
    counts = sample.field_counts(delimiter)
    if len(counts) < 3:
        return
    rest = counts[1:]
    modal = max(set(rest), key=lambda c: (rest.count(c), c))
    first = sample.lines[0].strip()
    hint = first.lower().startswith("sep=")
    # one field short is R's write.table header over row names, which pandas reads
    if modal > 1 and (counts[0] < modal - 1 or counts[0] == 1 or hint) \
            and rest.count(modal) >= 0.9 * len(rest):
        what = "Excel's delimiter hint" if hint else "a title or note above the header"
        raise DataError(
            f"{path}: line 1 ({first[:40]!r}) has {counts[0]} field(s), the rows below it "
            f"{modal}: it looks like {what}. Delete the line(s) above the header row.")


def _check_short_rows(path: Path, sample: _Sample, delimiter: str) -> None:
    """A row with fewer fields than the header is a cut or broken line, not missing cells
    (an empty field, as in ``1,,3``, is how a file says a cell is missing)."""
    records = sample.records(delimiter)
    counts = [len(row) for _, row in records]
    if len(counts) < 2 or counts[0] < 2:
        return
    short = next((i for i, c in enumerate(counts) if c < counts[0]), None)
    if short is not None:
        raise DataError(
            f"{path}: malformed CSV: line {records[short][0]} has {counts[short]} fields, the header "
            f"{counts[0]}. Every row needs the same number of fields as the header (is the "
            "file truncated?).")


def _delimiter(path: Path, sample: _Sample) -> str:
    lines = sample.lines
    if not lines:
        return ","
    best, best_key = ",", (0.0, 1)
    for candidate in DELIMITERS:
        counts = sample.field_counts(candidate)
        modal = max(set(counts), key=lambda c: (counts.count(c), c))
        # the share of lines with the modal number of fields, then that number
        key = (counts.count(modal) / len(counts), modal)
        if modal > 1 and key > best_key:
            best, best_key = candidate, key
    if best_key[1] == 1:
        present = [d for d in DELIMITERS if d in lines[0]]
        if present:
            sep = present[0]
            counts = sample.field_counts(sep)
            bad = next((i for i, c in enumerate(counts) if c != counts[0]), 0)
            raise DataError(
                f"{path}: malformed CSV: the header holds {_NAMES[sep]} but the rows do not "
                f"split on it (line 1 has {counts[0]} fields, line {bad + 1} has "
                f"{counts[bad]}), nor on any of ',', ';', tab, '|'. Every row needs the same "
                "number of fields as the header; quote fields that contain the delimiter.")
    return best


def _decimal_mark(rows: list[list[str]]) -> tuple[str, str | None]:
    comma = point = thousands = 0
    for row in rows:
        for cell in row:
            cell = cell.strip()
            if _DECIMAL_COMMA.match(cell):
                comma += 1
                thousands += bool(_THOUSANDS_DOT.match(cell))
            elif _GROUPED_INTEGER.match(cell):
                # an integer in groups of three: thousands dots beside decimal commas,
                # else (1.925 alone) a decimal point
                thousands += 1
            elif _DECIMAL_POINT.match(cell):
                point += 1
    if thousands and not comma and not point:
        point = thousands  # only 1.925-like cells: read as decimal points, as before
        thousands = 0
    if comma and not point:
        return ",", "." if thousands else None
    return ".", None


__all__ = ["CsvDialect", "DELIMITERS", "ROW_NAMES", "TRAILING", "column_names", "trailing_value_error", "not_utf8_message",
           "read_header", "sniff_csv"]
