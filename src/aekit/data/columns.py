"""What each column of a table is, and how it becomes numbers for the network.

Roles, inferred at fit from the values (and overridable by name):

- ``numeric``: ints and floats, and text columns whose every cell is a number or a
  placeholder for a missing one (``MISSING_MARKERS``: "-", "?", "n/a", ...); a number may
  be written in groups of thousands ("32,526,562", "32 526 562" with a decimal comma or
  point, "32'526'562", "1.699,00" with a decimal comma) and with one unit, a currency or
  percent sign ("$1,200.50", "€ 1.699,00", "12.5%"), negatives perhaps in parentheses as
  accountants write them ("($1,699.00)"), which imputed cells are written with too. Digits with a
  leading zero ("02134", "06") are codes, not numbers: categorical when repeated, an
  identifier or text otherwise, and a CSV keeps them as written; so are whole numbers
  under a name that is a code's ("Postal Code", "zip", "fips", "ZipCode", "area_code"). A duration (timedelta)
  is its length in seconds. Encoded as
  itself, then scaled. A missing cell stays missing (NaN): the network sees the column's
  centre there, and the cell counts in neither the training loss nor the row's error,
  which is the mean over the observed cells. A text column of mostly numbers with some
  other text ("[98]", "Ancient") is refused, every such column named in one message,
  unless declared numeric: then its other cells are read as missing, and the schema
  says how many.
- ``boolean``: bool dtype, and text columns with two values such as yes/no, true/false,
  y/n, t/f. Encoded 0/1, centred at 0.5 and not scaled; a missing cell is NaN (no error),
  which the network sees at the centre, halfway.
- ``categorical``: text (object, string, category, pyarrow string, polars Utf8) with at
  most ``MAX_CATEGORIES`` distinct values, repeated enough to be categories (at most half
  as many values as cells). One-hot encoded over the training values plus an "(other)"
  slot, not scaled, and reconstructed by a softmax head (:mod:`aekit.nn.heads`); a
  missing cell is all zeros, which count in no error, as a missing number counts in none
  (models saved with a "(missing)" level, as earlier versions made one, keep it: there a
  missing cell is a value of its own). A value fit never saw sets the
  "(other)" slot, which no head ever predicts: the most surprising value a column holds.
  So does a value fit saw too rarely to learn (fewer than :func:`rare_below` times).
- ``datetime``: datetime dtypes, and text of ISO dates (``2024-05-01``, ``2024-05-01
  13:45``, with ``T`` and offsets), so CSV, Parquet and DataFrames agree; also text in one
  of ``DATE_FORMATS`` (``31.01.2024``, ``01/31/2024``, ``Jan 31 2024``, ``25/11/63``, ...),
  whose format is saved, times of day written ``13:35`` or ``13:35:08`` (their hour),
  and whole numbers that are all valid dates written 20240131
  (YYYYMMDD; enough of them, or a name with "date", "day", "dt" or "time", that it is no
  coincidence); a day/month order no cell decides is not guessed, and a
  two-digit year, whose century is a guess, gives no weekday. Never a raw
  epoch number: the calendar, as cyclic (sine, cosine) pairs of the day of the week and
  the month, and of the hour when the column has times, all of the local time as written
  (an offset from UTC or a time zone is dropped, not converted). Anomaly detection then sees an
  unusual weekday or season rather than a date's distance from 1970; a column whose
  order matters (a time stamp that names the row) is better declared an identifier.
- ``identifier``: names a row and is no feature: the pandas index column ``Unnamed: 0``
  (and an unnamed first column), columns declared so, integer row counters (0, 1, 2, ...
  or 1, 2, 3, ... in at least ``MIN_COUNTER`` rows, and every integer of a range once in
  any order, a numbered sample shuffled, in at least ``MIN_SHUFFLED_COUNTER``), integers distinct in (nearly) every row under a name that says so
  ("id", "customer_id", "OrderID", "CustomerKey"; other distinct integers, such as populations, are
  measurements), and text that is unique in (nearly) every row. Carried into outputs.
- ``text``: text with too many distinct values to be categories (free text, long names).
  No feature.
- ``constant``: a text column with one value. No feature. (A constant numeric column is
  kept, as scaling makes it harmless.)
- ``empty``: a column with no value at all (such as the one a trailing delimiter makes).
  No feature.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from aekit.data.dialect import NULL_TEXT
from aekit.data.validation import INDEX_NAMES, check_finite, shown
from aekit.exceptions import DataError, ParameterError

ROLES = ("numeric", "boolean", "categorical", "datetime", "identifier", "text", "constant",
         "empty", "ignored")
# what users may ask for by name (``column_roles``); "id" and "ignore" are short forms
DECLARABLE = {"numeric": "numeric", "boolean": "boolean", "categorical": "categorical",
              "datetime": "datetime", "id": "identifier", "identifier": "identifier",
              "ignore": "ignored", "ignored": "ignored"}
FEATURE_ROLES = ("numeric", "boolean", "categorical", "datetime")
MAX_CATEGORIES = 100
MOSTLY_NUMBERS = 0.5  # a text column with at least this share of numbers is a numeric one
MISSING_LEVEL = "(missing)"
# text that stands for a missing number (compared stripped and lower-cased)
# text that stands for a missing value in a column of categories ("?" in UCI's tables, "-"
# in a spreadsheet): read as missing there, as in a column of numbers; words such as
# "None" or a quoted "NA" can be values ("no damage", North America) and stay values
PLACEHOLDERS = ("?", "-", "--", "---", ".")
MISSING_MARKERS = frozenset({"", "-", "--", "---", "?", ".", "n/a", "n.a.", "na", "nan",
                             "null", "none", "missing", "#n/a"})
TRUE_TEXT = ("yes", "true", "y", "t", "1")
FALSE_TEXT = ("no", "false", "n", "f", "0")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
                       r"(Z|[+-]\d{2}:?\d{2})?$")
# dates written other than ISO, tried in this order; day/month and month/day orders that
# both read every cell are ambiguous, and the column is not taken for dates
DATE_FORMATS = ("%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%d.%m.%Y", "%d.%m.%Y %H:%M",
                "%d.%m.%Y %H:%M:%S", "%m/%d/%Y", "%d/%m/%Y", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M",
                "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%b %d %Y", "%d %b %Y", "%b %d, %Y",
                "%B %d %Y", "%d %B %Y", "%B %d, %Y", "%m/%d/%y", "%d/%m/%y", "%d.%m.%y")
_DATE_LIKE = re.compile(r"^(\d{1,4}[/.]\d{1,2}[/.]\d{2,4}|\d{1,2} [A-Za-z]{3,9} \d{4}|"
                        r"[A-Za-z]{3,9} \d{1,2},? \d{4})")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")  # a time of day, 24-hour
_UTC_OFFSET = r"(?<=\d)\s*(Z|[+-]\d{2}:?\d{2})$"  # after an ISO time: 13:45+02:00, 13:45Z
# numbers written in groups of three digits, by their separator: 32,526,562 (a decimal
# point after), 32 526 562 with a space or a (narrow) no-break space (a decimal comma or
# point after), 32'526'562 (a point after)
_GROUPS = {",": re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"),
           " ": re.compile("^[+-]?\\d{1,3}([ \u00a0\u202f]\\d{3})+([.,]\\d+)?$"),
           "'": re.compile(r"^[+-]?\d{1,3}('\d{3})+(\.\d+)?$"),
           # 1.699,00 with a decimal comma (and 699,00 beside it), as euro amounts are written
           ".": re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d+)$")}
# a name that says a column identifies rows: id, ID, customer_id, OrderID, userId, key
_ID_NAME = re.compile(r"(^|[^A-Za-z])(id|ID|Id|key|KEY|Key|uuid|UUID)$|^(id|ID|Id)[^A-Za-z]|"
                      r"[a-z0-9](ID|Id|Key|KEY)$|"
                      r"^(?i:subject|subj|participant|respondent|patient)$")  # long tables
# a name that says whole numbers are codes, not amounts: "Postal Code", zip, FIPS,
# ZipCode, area_code (not "zip_distance_km", "lines_of_code" or "cost_per_zip")
_CODE_NAME = re.compile(r"(?i)^(zip|postal|post|area|fips|country|state|county|region|"
                        r"product|item|hospital|station|site|branch|store|office|sic|naics|"
                        r"icd|diagnosis|procedure)?[ _.-]?(code|zip|zipcode|postcode|fips)\d?$")
_DATE_NAME = re.compile(r"date|day|time|(^|[^a-z])dt([^a-z]|$)", re.IGNORECASE)
MIN_COUNTER = 60  # rows a counter in order needs (fewer: months, weeks, floors, doses)
MIN_SHUFFLED_COUNTER = 500  # and in any order (fewer: a year or week in every row)
MOSTLY_MISSING = 0.5  # a feature with this share of its cells missing says so in the schema
UNIQUE_SHARE = 0.95  # distinct in this share of the rows: a value names its row
# whole numbers under a name such as "ID", distinct in this share of the rows: a sample's
# or a subject's code, repeated for its replicates or visits, never a measurement
ID_NAMED_SHARE = 0.5
PROSE_WORDS = 4  # unique text of at least this many words a cell (median) is prose, no name
MOSTLY_EMPTY_NAMES = 0.1  # unique text missing in this share of rows names none of them
MIN_KEY_ROWS = 10  # a datetime distinct in at least this many rows (all of fit's) names them
LEADING_ZERO = r"^0\d+$"  # digits with a leading zero: a code (02134), not a number
# a number with a currency sign or a percent sign (its unit): "$1,200.50", "12.5%", "-€3"
_UNIT_CELL = re.compile(r"^(?P<sign>[+-]?)\s*(?P<before>[$€£¥])?(?P<gap_before>\s*)"
                        "(?P<number>[+-]?(?:\\d[\\d.,'\u00a0\u202f ]*\\d|\\.?\\d+))"
                        r"(?P<gap_after>\s*)(?P<after>[%$€£¥])?$")
# an accountant's negative number: (1,699.00), ($12); not an area code (415) or a note (3)
_PARENTHESES = r"^\(([^()]*[.,$€£¥][^()]*)\)$"
_CYCLES = {"hour": 24, "dayofweek": 7, "month": 12}
_ATTRIBUTES = {"hour": "hour", "dayofweek": "day_of_week", "month": "month", "year": "year"}
OTHER_LEVEL = "(other)"  # the one-hot slot of values fit never saw
UNSEEN_TEXT = "(rare or unseen)"  # how such a value is shown when its own text is not at hand


@dataclass(frozen=True)
class Column:
    """One input column: its name, role and what its encoding learned at fit."""

    name: str
    role: str
    levels: tuple[str, ...] = ()  # categorical: the known values; boolean: (false, true)
    parts: tuple[str, ...] = ()  # datetime: the calendar parts encoded
    typical: str = ""  # categorical, boolean: the most frequent value in fit
    rare: int = 0  # categorical: values too rare in fit to be levels (they are "(other)")
    # numeric: cells of text fit read as missing (how many, which), and whether every
    # non-number is read so (a text column declared numeric)
    n_as_missing: int = 0
    as_missing: tuple[str, ...] = ()
    lenient: bool = False
    date_format: str = ""  # datetime written as text other than ISO: its strptime format
    thousands: str = ""  # numeric written as text with thousands separators (",")
    unit: str = ""  # numeric written with a unit: where the number goes, "${}" or "{}%"
    distinct: int = 0  # text: its distinct values
    repeated: bool = False  # text: whether they repeat as categories do (too many of them)
    negative: str = ""  # numeric written as text with negatives in parentheses: "()"
    missing: float = 0.0  # a feature: the share of its cells missing in fit
    # categorical, boolean: the PLACEHOLDERS read as missing (n_as_missing: cells in fit)
    placeholders: tuple[str, ...] = ()
    integral: bool = False  # numeric: every value in fit a whole number (counts, 0/1, years)
    # boolean of a model saved by an older version: a missing cell encoded 0.5, an error term
    gap_at_half: bool = False
    # datetime: every date distinct in fit (a time series), so it names its row as well:
    # carried into the outputs beside the identifiers, and still a feature
    key: bool = False

    @property
    def is_feature(self) -> bool:
        return self.role in FEATURE_ROLES

    @property
    def encoded_names(self) -> list[str]:
        if self.role == "categorical":
            return [f"{self.name}={level}" for level in (*self.levels, OTHER_LEVEL)]
        if self.role == "datetime" and self.parts == ("year",):
            return [f"{self.name}:year"]
        if self.role == "datetime":
            return [f"{self.name}:{part}_{f}" for part in self.parts for f in ("sin", "cos")]
        return [self.name] if self.is_feature else []

    @property
    def scaled(self) -> bool:
        """Whether the column is scaled (only numeric ones: the others are 0/1 or in [-1, 1])."""
        return self.role == "numeric" or (self.role == "datetime" and self.parts == ("year",))

    @property
    def fixed_centre(self) -> float:
        """The data value an unscaled encoded column sits at when missing (the network
        sees it as 0): a boolean's midpoint, 0 for one-hot slots and cyclic parts."""
        return 0.5 if self.role == "boolean" and not self.gap_at_half else 0.0

    def describe(self) -> str:
        text = self._describe_role()
        if self.placeholders and self.n_as_missing:
            text += f"; {self.n_as_missing} cell(s) of {_placeholders_shown(self)} as missing"
        if self.is_feature and self.missing >= MOSTLY_MISSING:
            text += f"; {self.missing:.1%} of its cells missing"
        return text

    def _describe_role(self) -> str:
        if self.role == "categorical":
            # a value holding ", " (a name "Abbott, John") quoted, so the list reads right
            shown = ", ".join(repr(v) if ", " in v else v for v in self.levels[:6]) + \
                (", ..." if len(self.levels) > 6 else "")
            rare = f"; {_count(self.rare, 'rare value')} as {OTHER_LEVEL}" if self.rare else ""
            words = [v for v in self.levels if v.lower() in MISSING_MARKERS - {""}]
            if words:  # a quoted "NA" is text (North America), a "?" a value: say so
                quoted = all(v in NULL_TEXT for v in words[:3])  # unquoted, these are gaps
                rare += (f"; {', '.join(map(repr, words[:3]))} read as a value"
                         f"{' (quoted in the file)' if quoted else ''}, not as a missing "
                         "cell")
            return f"categorical, one-hot over {_count(len(self.levels), 'value')} ({shown}){rare}"
        if self.role == "boolean":
            return f"boolean, {self.levels[0]} = 0 / {self.levels[1]} = 1"
        if self.role == "datetime" and self.parts == ("year",):
            return "datetime, its year as a number (every date is the same day of the year)"
        if self.role == "datetime":
            written = f" (written {self.date_format})" if self.date_format else ""
            return f"datetime{written}, cyclic " + ", ".join(self.parts)
        if self.role == "numeric":
            written = ["decimal comma, thousands separated by '.'"] if self.thousands == "." \
                else [f"thousands separated by {self.thousands!r}"] if self.thousands else []
            written += [f"with unit {self.unit.format('').strip()!r}"] if self.unit else []
            written += ["negatives in parentheses"] if self.negative else []
            kind = f"numeric ({', '.join(written)}), scaled" if written else "numeric, scaled"
            if not self.n_as_missing:
                return kind
            shown = ", ".join(repr(v) for v in self.as_missing[:3]) + \
                (", ..." if len(self.as_missing) > 3 else "")
            return f"{kind}; {self.n_as_missing} cell(s) of text ({shown}) as missing"
        if self.role == "empty":
            return "entirely missing, not a feature"
        if self.role == "text" and self.repeated:
            return (f"text of {self.distinct} values, more than {MAX_CATEGORIES} categories, "
                    f"not a feature (--categorical {shlex.quote(self.name)} makes it one)")
        if self.role == "text" and self.distinct:
            return f"text of {self.distinct} values, not a feature"
        if self.role == "constant" and self.levels:
            return f"constant ({self.levels[0]!r} wherever it has a value), not a feature"
        return f"{self.role}, not a feature"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "levels": list(self.levels),
                "parts": list(self.parts), "typical": self.typical, "rare": self.rare,
                "n_as_missing": self.n_as_missing, "as_missing": list(self.as_missing),
                "lenient": self.lenient, "date_format": self.date_format,
                "thousands": self.thousands, "unit": self.unit, "distinct": self.distinct,
                "repeated": self.repeated, "negative": self.negative, "missing": self.missing,
                "integral": self.integral, "placeholders": list(self.placeholders),
                "gap_at_half": self.gap_at_half, "key": self.key}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Column:
        if d["role"] not in ROLES:
            raise ValueError(f"unknown column role {d['role']!r}")
        return cls(str(d["name"]), str(d["role"]), tuple(str(v) for v in d.get("levels", ())),
                   tuple(str(v) for v in d.get("parts", ())), str(d.get("typical", "")),
                   int(d.get("rare", 0)), int(d.get("n_as_missing", 0)),
                   tuple(str(v) for v in d.get("as_missing", ())), bool(d.get("lenient", False)),
                   str(d.get("date_format", "")), str(d.get("thousands", "")),
                   str(d.get("unit", "")), int(d.get("distinct", 0)),
                   bool(d.get("repeated", False)), str(d.get("negative", "")),
                   float(d.get("missing", 0.0)),
                   placeholders=tuple(str(v) for v in d.get("placeholders", ())),
                   integral=bool(d.get("integral", False)),
                   gap_at_half=bool(d.get("gap_at_half", d["role"] == "boolean")),
                   key=bool(d.get("key", False)))


def _boolean_gap(column: Column) -> float:
    """A missing boolean's encoded value: NaN, which counts in no error (0.5 for models
    saved when it was a value of its own)."""
    return 0.5 if column.gap_at_half else np.nan


def placeholder_cells(column: Column, col: pd.Series, text: pd.Series | None = None
                      ) -> np.ndarray:
    """Which cells of a categorical or boolean ``col`` hold a placeholder ("?", "-", ...)
    that is none of the column's values in fit, read as gaps: those fit read so, and
    those fit never saw (a file that writes its gaps "." where fit's had none)."""
    gaps = [v for v in PLACEHOLDERS if v not in column.levels]
    if column.role not in ("categorical", "boolean") or not gaps:
        return np.zeros(len(col), dtype=bool)
    return (_as_text(col) if text is None else text).isin(gaps).to_numpy()


def _placeholders_shown(column: Column) -> str:
    return "/".join(repr(v) for v in column.placeholders)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def check_roles(column_roles: Any, owner: str = "the estimator") -> dict[str, str]:
    """``column_roles`` (name -> role) checked, with the short forms expanded."""
    if column_roles is None:
        return {}
    if not isinstance(column_roles, Mapping):
        raise ParameterError(f"The 'column_roles' parameter of {owner} must be None or a dict "
                             "of column name -> role. Got "
                             f"{type(column_roles).__name__} instead.")
    out = {}
    for name, role in column_roles.items():
        if role not in DECLARABLE:
            raise ParameterError(
                f"The 'column_roles' parameter of {owner}: column {name!r} has role {role!r}; "
                f"expected one of {sorted(DECLARABLE)}.")
        out[str(name)] = DECLARABLE[role]
    return out


def needs_roles(frame: pd.DataFrame, declared: Mapping[str, str]) -> bool:
    """Whether a DataFrame needs more than the plain numeric contract."""
    if declared:
        return True
    for j, name in enumerate(frame.columns):
        col = frame.iloc[:, j]
        if str(name) in INDEX_NAMES or pd.api.types.is_datetime64_any_dtype(col.dtype) or \
                isinstance(col.dtype, pd.CategoricalDtype):  # declared categorical
            return True
        if len(col) and col.isna().all():
            return True  # an empty column: no feature
        if _names_rows(name, col) or _written_as_yyyymmdd(name, col) or \
                _named_codes(name, col):
            return True  # a row counter or an integer identifier: no feature; a date
        if pd.api.types.is_numeric_dtype(col.dtype) and col.isna().any():
            return True  # missing numbers (NaN, or <NA> of Int64): the contract with roles
            # leaves them out
        if not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)):
            # as objects: pyarrow strings would give NaN that counts as a value
            if pd.to_numeric(col.astype(object), errors="coerce").notna().sum() != \
                    col.notna().sum():
                return True  # text that is not all numbers
            if col.dropna().astype(str).str.strip().str.match(LEADING_ZERO).any():
                return True  # codes such as zip codes
    return False


def _is_marker(col: pd.Series) -> pd.Series:
    """Which cells are text that stands for a missing number (``MISSING_MARKERS``)."""
    return col.astype(str).str.strip().str.lower().isin(MISSING_MARKERS)


def holds_whole_numbers(col: pd.Series) -> bool:
    """A float column with values, every one a whole number float64 holds exactly (as an
    integer column with missing cells reads)."""
    if not pd.api.types.is_float_dtype(col.dtype):
        return False
    values = col.dropna().to_numpy(dtype=np.float64)
    if not len(values) or not np.isfinite(values).all():
        return False
    return bool(((np.mod(values, 1) == 0) & (np.abs(values) < 2 ** 53)).all())


def _as_text(col: pd.Series) -> pd.Series:
    """Cells as stripped strings (categories are compared as text); whole numbers in a
    float column (as missing cells make an integer column) as integers: 3.0 is "3"."""
    if pd.api.types.is_float_dtype(col.dtype):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        whole = np.isfinite(values) & (np.mod(values, 1) == 0) & (np.abs(values) < 2 ** 53)
        if whole.any():
            text = col.astype(str).to_numpy(dtype=object)
            text[whole] = values[whole].astype(np.int64).astype(str)
            return pd.Series(text, index=col.index, name=col.name).str.strip()
    return col.astype(str).str.strip()


def _text(col: pd.Series) -> pd.Series:
    """Non-missing cells as stripped strings (:func:`_as_text`)."""
    return _as_text(col.dropna())


def _unit_of(text: pd.Series) -> str:
    """The one unit the numbers among ``text`` are written with (``"${}"``, ``"{}%"``; a
    number may go without it, "0"), or "" when there is none or more than one."""
    parts = text.str.extract(_UNIT_CELL)
    before, after = parts["before"].dropna().unique(), parts["after"].dropna().unique()
    if len(before) + len(after) != 1:
        return ""
    # written with a space between the unit and the number ("€ 12,50", "12 %") when most
    # cells are, so fills are written alike
    side = "before" if len(before) else "after"
    gaps = parts.loc[parts[side].notna(), f"gap_{side}"]
    space = " " if (gaps.str.len() > 0).mean() > 0.5 else ""
    return f"{before[0]}{space}{{}}" if len(before) else f"{{}}{space}{after[0]}"


def _without_unit(text: pd.Series, unit: str) -> pd.Series:
    """Stripped text with the unit taken off the numbers written with it."""
    if not unit:
        return text
    parts = text.str.extract(_UNIT_CELL)
    return (parts["sign"] + parts["number"]).where(parts["number"].notna(), text)


def _negated(text: pd.Series) -> pd.Series:
    """Numbers in parentheses, (1,699.00), with a minus sign instead: -1,699.00."""
    return text.str.replace(_PARENTHESES, r"-\1", regex=True)


def _eu_grouped(text: pd.Series) -> bool:
    """Whether numbers are written 1.699,00: some with a decimal comma, and none with a
    decimal point outside groups of three (3.14 says the point is a decimal mark)."""
    grouped = text.str.match(_GROUPS["."]).fillna(False).astype(bool)
    point = text.str.match(r"^[+-]?\d*\.\d+$").fillna(False).astype(bool)
    # 8.904 beside 6,88 could be either, unless a cell writes both marks (1.234,56)
    dots = text.str.match(r"^[+-]?\d{1,3}(\.\d{3})+$").fillna(False).astype(bool)
    both = text.str.match(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$").fillna(False).astype(bool)
    return bool(text.str.contains(r"\d,\d+$").any()) and not (point & ~grouped).any() \
        and (not dots.any() or bool(both.any()))


def _written_numbers(text: pd.Series, unit: str, thousands: str) -> pd.Series:
    """Stripped text of numbers written with ``unit`` and ``thousands`` separators, as
    floats (NaN where a cell is not such a number)."""
    text = _without_unit(text, unit)
    if thousands:
        grouped = text.str.match(_GROUPS[thousands]).fillna(False).astype(bool)
        if thousands == " ":  # beside 1 234,5 a number below a thousand is 3,5
            grouped |= text.str.match(r"^[+-]?\d+,\d+$").fillna(False).astype(bool)
        plain = text.str.replace({" ": "[ \u00a0\u202f]", ".": r"\."}.get(thousands, thousands),
                                 "", regex=True)
        if thousands in (" ", "."):
            plain = plain.str.replace(",", ".", regex=False)  # 1 234,5: a decimal comma
        text = text.where(~grouped, plain)
    return pd.to_numeric(text, errors="coerce")


def _is_counter(col: pd.Series) -> bool:
    """A row counter: 0, 1, 2, ... or 1, 2, 3, ... in order; or, in any order and from any
    start, every integer of a range once in at least ``MIN_SHUFFLED_COUNTER`` rows (a
    numbered sample, shuffled), which no measurement is."""
    if not pd.api.types.is_integer_dtype(col.dtype) or len(col) < MIN_COUNTER or \
            col.isna().any():
        return False  # a dozen months or a week's days are values, not row numbers
    values = col.to_numpy()
    if values[0] in (0, 1) and (np.diff(values) == 1).all():
        return True
    return len(values) >= MIN_SHUFFLED_COUNTER and \
        int(values.max()) - int(values.min()) + 1 == len(values) == len(np.unique(values))


def _names_rows(name: Any, col: pd.Series) -> bool:
    """Whether an integer column names rows rather than measures them: a row counter, or
    distinct in at least half the rows (or in more values than a category may have) under
    a name such as "id", "customer_id", "OrderID" (whole numbers in a float column too, as
    missing cells make an integer column)."""
    if pd.api.types.is_bool_dtype(col.dtype) or not pd.api.types.is_numeric_dtype(col.dtype):
        return False
    if _is_counter(col):
        return True
    values = col.dropna()
    if not pd.api.types.is_integer_dtype(col.dtype):
        floats = values.to_numpy(dtype=np.float64)
        if not (len(floats) and np.isfinite(floats).all() and (np.mod(floats, 1) == 0).all()):
            return False
    # a key repeated per visit or event with more values than categories names rows too
    return bool(_ID_NAME.search(str(name))) and len(values) >= 3 and (
        values.nunique() >= ID_NAMED_SHARE * len(values) or values.nunique() > MAX_CATEGORIES)


def _written_as_yyyymmdd(name: Any, col: pd.Series) -> bool:
    """Whether whole numbers are dates written 20240131: every one a valid date of 1800 to
    2199, and enough of them (or a name that says so) that this is no coincidence."""
    if pd.api.types.is_bool_dtype(col.dtype) or not pd.api.types.is_numeric_dtype(col.dtype):
        return False
    values = col.dropna().to_numpy(dtype=np.float64)
    if not len(values) or not ((values >= 18000101) & (values <= 21991231)).all() or \
            (np.mod(values, 1) != 0).any() or len(np.unique(values)) < 2:
        return False
    if len(values) < 20 and not _DATE_NAME.search(str(name)):
        return False
    days = pd.to_datetime(pd.Series(values.astype(np.int64)).astype(str), format="%Y%m%d",
                          errors="coerce")
    return bool(days.notna().all())


def _named_codes(name: Any, col: pd.Series) -> bool:
    """Whole numbers under a name that says they are codes (a postal code, a FIPS code),
    or keys that repeat (a subject "ID" on each of its visits): read as text, categories
    or too many of them, never an amount."""
    if not (_CODE_NAME.search(str(name)) or _ID_NAME.search(str(name))) or \
            pd.api.types.is_bool_dtype(col.dtype) or \
            not pd.api.types.is_numeric_dtype(col.dtype):
        return False
    values = col.dropna().to_numpy(dtype=np.float64)
    return bool(len(values)) and bool(np.isfinite(values).all()) and \
        bool((np.mod(values, 1) == 0).all())


def infer_column(name: str, col: pd.Series, declared: str | None, source: str) -> Column:
    """The role of one column (see the module docstring) and what its encoding needs."""
    column = _infer_role(name, col, declared, source)
    if column.is_feature and len(col):
        gaps = int(col.isna().sum()) + (column.n_as_missing if column.placeholders else 0)
        column = replace(column, missing=round(gaps / len(col), 4))
    if column.role == "numeric" and (holds_whole_numbers(col) or (
            pd.api.types.is_integer_dtype(col.dtype) and col.notna().any())):
        column = replace(column, integral=True)
    elif column.role == "datetime" and col.notna().all() and len(col) >= MIN_KEY_ROWS \
            and col.nunique() == len(col):
        column = replace(column, key=True)
    elif column.role == "numeric" and not pd.api.types.is_numeric_dtype(col.dtype):
        # numbers written as text ("70.0" beside "." for a gap): whole as their numbers are
        numbers = pd.Series(encode_column(column, col, source)[:, 0])
        column = replace(column, integral=holds_whole_numbers(numbers))
    return column


def _infer_role(name: str, col: pd.Series, declared: str | None, source: str) -> Column:
    if declared in ("ignored", "identifier"):
        return Column(name, declared)
    if declared is None and name in INDEX_NAMES:
        return Column(name, "identifier")
    dtype = col.dtype
    if col.isna().all() and declared is None:
        return Column(name, "empty")  # nothing to learn from (a trailing delimiter, say)
    numeric_dtype = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if declared == "numeric" and not numeric_dtype:
        # declared numeric: what is not a number is read as missing, and reported
        written = _text(col)
        text = _negated(written)
        unit = _unit_of(text)
        bare = _written_numbers(text, unit, "").isna()
        thousands = next((separator for separator in _GROUPS if (
            _written_numbers(text, unit, separator).notna() & bare).any()), "")
        other = written[_written_numbers(text, unit, thousands).isna()]
        return Column(name, "numeric", n_as_missing=len(other), lenient=True,
                      as_missing=tuple(other.value_counts().index[:5].astype(str)),
                      thousands=thousands, unit=unit,
                      negative="()" if (written != text).any() else "")
    if pd.api.types.is_timedelta64_dtype(dtype) and declared in (None, "numeric"):
        return Column(name, "numeric")  # a duration: its length in seconds
    if declared is None and numeric_dtype and _names_rows(name, col):
        return Column(name, "identifier")
    if declared == "numeric" or (declared is None and numeric_dtype
                                 and not _named_codes(name, col)):
        if declared is None and _written_as_yyyymmdd(name, col):
            return Column(name, "datetime", date_format="%Y%m%d",
                          parts=_calendar_parts(_as_datetime(col, name, source, "%Y%m%d")))
        return Column(name, "numeric")
    if declared == "datetime" or pd.api.types.is_datetime64_any_dtype(dtype):
        return Column(name, "datetime", parts=_calendar_parts(_as_datetime(col, name, source)))
    if pd.api.types.is_bool_dtype(dtype) and declared in (None, "boolean"):
        return Column(name, "boolean", levels=("False", "True"),
                      typical=_most_frequent(col.dropna().astype(bool).astype(str)))
    text = _text(col)
    marker = _is_marker(text)
    signed = _negated(text)  # numbers as (1,699.00) read as -1,699.00
    # digits with a leading zero are codes (zip, FIPS): a number would drop the zero
    code = declared is None and (bool(text.str.match(LEADING_ZERO).any())
                                 or _named_codes(name, col)
                                 or isinstance(dtype, pd.CategoricalDtype))  # declared so
    unit = _unit_of(signed) if declared is None and not code else ""
    numbers = _written_numbers(signed, unit, "").notna() & (not code)
    thousands = ""
    for separator in _GROUPS if declared is None and not code else ():
        grouped = _written_numbers(signed, unit, separator).notna() & ~numbers
        bare = _without_unit(signed, unit)
        if bare.str.match(_GROUPS[separator]).any() and (numbers | grouped | marker).all() \
                and (separator != "." or _eu_grouped(bare[~marker])):
            numbers, thousands = numbers | grouped, separator  # 32,526,562
            break
    if declared is None and numbers.any() and (numbers | marker).all():
        # numbers written as text, perhaps with a unit ($, %) or placeholders ("-", "?")
        markers = text[marker]
        return Column(name, "numeric", n_as_missing=len(markers), thousands=thousands,
                      unit=unit, as_missing=tuple(markers.value_counts().index[:5].astype(str)),
                      negative="()" if (signed[numbers] != text[numbers]).any() else "")
    if declared is None and numbers.any() and numbers[~marker].mean() >= MOSTLY_NUMBERS:
        # mostly numbers: a typo or a note such as "[98]", never silently a category
        bad = col.notna() & _written_numbers(_negated(col.astype("string").str.strip()), unit,
                                             thousands).isna() & ~_is_marker(col)
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise MixedColumnError(name, row, col.iloc[row], int(bad.sum()), source)
    if declared is None and len(text) and text.map(lambda v: bool(_ISO_DATE.match(v))).all():
        return Column(name, "datetime", parts=_calendar_parts(_as_datetime(col, name, source)))
    written = _date_format(text) if declared is None else ""
    if written:
        values = _as_datetime(col, name, source, written)
        parts = _calendar_parts(values)
        if "%y" in written:  # a two-digit year's century is a guess, and so its weekday
            parts = tuple(p for p in parts if p != "dayofweek") or ("month",)
        return Column(name, "datetime", parts=parts, date_format=written)
    clock = _clock_format(text) if declared is None else ""
    if clock:  # times of day: their hour on the clock, as a date's time is
        return Column(name, "datetime", parts=("hour",), date_format=clock)
    # beside "+", a "-" is a sign (a strand, a test result), not a gap
    signs = ("-", "--", "---") if (text == "+").any() else ()
    marks = [v for v in PLACEHOLDERS if v not in signs]
    placeholder = text.isin(marks) if declared is None else pd.Series(False, text.index)
    held = ()
    if placeholder.any() and not placeholder.all():  # "?" for a gap, as numbers read it
        held = tuple(v for v in marks if (text == v).any())
        text = text[~placeholder]
    n_held = int(placeholder.sum()) if held else 0
    levels = sorted(text.unique().tolist())
    lowered = {v.lower() for v in levels}
    if declared in (None, "boolean") and len(lowered) == 2 and (
            lowered <= set(TRUE_TEXT) | set(FALSE_TEXT)) and len(lowered & set(TRUE_TEXT)) == 1:
        # yes/Yes/no/No is one boolean (compared without case), spelt as most cells spell it
        counts = text.value_counts()
        true = max((v for v in levels if v.lower() in TRUE_TEXT), key=lambda v: counts[v])
        false = max((v for v in levels if v.lower() not in TRUE_TEXT), key=lambda v: counts[v])
        return Column(name, "boolean", levels=(false, true), typical=_most_frequent(text),
                      placeholders=held, n_as_missing=n_held)
    if declared == "boolean":
        raise DataError(f"{source}: column {name!r} was declared boolean but holds "
                        f"{len(levels)} values {levels[:5]}; a boolean column holds two.")
    if declared is None and len(levels) == 1:
        return Column(name, "constant", levels=tuple(levels))  # its value fills its gaps
    repeated = len(levels) <= max(2, len(text) // 2)
    if declared == "categorical" or isinstance(dtype, pd.CategoricalDtype) or (
            len(levels) <= MAX_CATEGORIES and repeated):
        counts = text.value_counts()
        frequent = [v for v in levels if counts[v] >= rare_below(len(text))]
        rare = len(levels) - len(frequent) if frequent else 0
        levels = frequent or levels
        return Column(name, "categorical", levels=tuple(levels), typical=_most_frequent(text),
                      rare=rare, placeholders=held, n_as_missing=n_held)
    unique_share = len(levels) / max(len(text), 1)
    # sentences (a comment, a note) are text even when each is unique; so are cells left
    # empty in many rows, which a row's name is not
    prose = text.str.split().str.len().median() >= PROSE_WORDS or \
        col.isna().mean() >= MOSTLY_EMPTY_NAMES
    if unique_share >= UNIQUE_SHARE and not prose:
        return Column(name, "identifier")
    return Column(name, "text", distinct=len(levels), repeated=repeated)


class MixedColumnError(DataError):
    """A text column of mostly numbers with some other text (the table's schema gathers
    every such column into one message)."""

    def __init__(self, name: str, row: int, value: Any, n_bad: int, source: str) -> None:
        self.name, self.row, self.value, self.n_bad = name, row, value, n_bad
        super().__init__(mixed_columns_message([self], source))

    def describe(self) -> str:
        return (f"column {self.name!r}, row {self.row + 1}: {shown(self.value)} is not a number "
                f"({self.n_bad} such cell(s), the rest numbers)")


def mixed_columns_message(errors: list[MixedColumnError], source: str) -> str:
    names = shlex.quote(",".join(e.name for e in errors))
    what = "a column holds" if len(errors) == 1 else f"{len(errors)} columns hold"
    return (f"{source}: {what} numbers and some other text: "
            + "; ".join(e.describe() for e in errors)
            + f". Fix those cells; or declare the column(s) categorical if their values are "
            f"labels (--categorical {names}), numeric if the other text stands for missing "
            f"numbers (--numeric {names}: it is read as missing and counted), or leave them "
            f"out (--ignore {names}).")


def rare_below(n_cells: int) -> int:
    """A categorical value seen fewer times than this in fit is no level of its own: it
    joins the "(other)" slot of values fit never saw, so it scores as the most surprising
    value (an autoencoder would otherwise learn to copy a value it saw once)."""
    return max(2, min(5, n_cells // 100))


def _most_frequent(text: pd.Series) -> str:
    """The most frequent value (the first in sorted order among ties)."""
    counts = text.value_counts()
    return str(min(counts.index[counts == counts.max()])) if len(counts) else ""


def _clock_format(text: pd.Series) -> str:
    """``%H:%M`` or ``%H:%M:%S`` when every cell of ``text`` is a time of day written so
    (13:35, 08:05:59), or ""."""
    if not len(text) or not text.str.match(_CLOCK).all():
        return ""
    seconds = text.str.count(":") == 2
    return "%H:%M:%S" if seconds.all() else "%H:%M" if not seconds.any() else ""


def _date_format(text: pd.Series) -> str:
    """The one format of ``DATE_FORMATS`` every cell of ``text`` is written in, or ""."""
    if not len(text) or not text.head(200).map(lambda v: bool(_DATE_LIKE.match(v))).all():
        return ""
    fits = [f for f in DATE_FORMATS
            if pd.to_datetime(text, format=f, errors="coerce").notna().all()]
    day_month = {f.replace("%m/%d", "%d/%m") for f in fits if "%m/%d" in f}
    if day_month & set(fits):
        return ""  # every day is 12 or less: 01/02/2012 could be either
    return fits[0] if fits else ""


def _as_datetime(col: pd.Series, name: str, source: str, date_format: str = "") -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        values = col
    else:
        # the time as written (its local time), without its offset from UTC: the calendar
        # of a 9 o'clock meeting is 9 o'clock wherever it was written
        # whole numbers (20240131, perhaps as floats beside gaps) as their digits
        text = _as_text(col) if pd.api.types.is_numeric_dtype(col.dtype) else \
            col.astype("string").str.strip()
        text = text.str.replace(_UTC_OFFSET if date_format != "%Y%m%d" else r"\.0*$", "",
                                regex=True)  # 20240131.0, as a float column writes it
        values = pd.to_datetime(text, errors="coerce", format=date_format or "ISO8601")
        bad = values.isna() & col.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            written = (f"written {date_format}" if date_format else
                       "written as ISO dates such as 2024-05-01 or 2024-05-01 13:45")
            raise DataError(f"{source}: column {name!r}, row {row + 1}: {shown(col.iloc[row])} is "
                            f"not a date (the column holds dates, {written}).")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)  # the local time, as above
    return values


def _calendar_parts(values: pd.Series) -> tuple[str, ...]:
    """The calendar parts that vary in fit; a column of years written as dates (every
    date 1 January, say) is its year, a number, since its weekday is noise."""
    seen = values.dropna()
    has_time = bool((seen.dt.floor("D") != seen).any())
    if not has_time and len(seen) and seen.dt.month.nunique() == 1 \
            and seen.dt.day.nunique() == 1 and seen.dt.year.nunique() > 1:
        return ("year",)
    parts = (("hour",) if has_time else ()) + ("dayofweek", "month")
    if not has_time and len(seen) and seen.dt.day.nunique() == 1:
        parts = ("month",)  # monthly dates: the weekday of the 1st is noise too
    varying = tuple(p for p in parts if getattr(seen.dt, _ATTRIBUTES[p]).nunique() > 1)
    return varying or parts


def encode_column(column: Column, col: pd.Series, source: str, row_offset: int = 0) -> np.ndarray:
    """(n, width) float64 encoding of one feature column."""
    if column.role == "numeric":
        if pd.api.types.is_numeric_dtype(col.dtype):
            values = col
        elif pd.api.types.is_timedelta64_dtype(col.dtype):
            values = col.dt.total_seconds()
        elif column.thousands or column.unit or column.negative:
            text = col.astype("string").str.strip()
            values = _written_numbers(_negated(text) if column.negative else text, column.unit,
                                      column.thousands)
        else:
            values = pd.to_numeric(col, errors="coerce")
        bad = values.isna() & col.notna()
        if bad.any() and not column.lenient:  # placeholders of missing numbers are missing
            bad &= ~_is_marker(col)
        if bad.any() and not column.lenient:
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{source}: column {column.name!r}, row {row_offset + row + 1}: "
                f"{shown(col.iloc[row])} is not a number, but the column was numeric in fit "
                f"({int(bad.sum())} such cell(s)). Pass the same kind of values as in fit.")
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)[:, None]
        # a missing number stays NaN: the model leaves it out of its error
        check_finite(np.where(np.isnan(out), 0.0, out), [column.name], source, row_offset)
        return out
    if column.role == "boolean":
        if pd.api.types.is_bool_dtype(col.dtype):  # numpy, nullable or pyarrow booleans
            missing = col.isna().to_numpy(dtype=bool)
            return np.where(missing, _boolean_gap(column),
                            col.fillna(False).to_numpy(dtype=np.float64))[:, None]
        # compared without case: fit may have read TRUE/FALSE as bools, a CSV's chunks as text
        written = _as_text(col)
        text = written.str.lower()
        gaps = col.isna().to_numpy() | placeholder_cells(column, col, written)
        known = text.isin([v.lower() for v in column.levels]).to_numpy() | gaps
        if not known.all():
            row = int(np.flatnonzero(~known)[0])
            raise DataError(f"{source}: column {column.name!r}, row {row_offset + row + 1}: "
                            f"{shown(col.iloc[row])} is neither {column.levels[0]!r} nor "
                            f"{column.levels[1]!r}, the column's two values in fit.")
        out = np.where((text == column.levels[1].lower()).to_numpy(), 1.0, 0.0)
        return np.where(gaps, _boolean_gap(column), out)[:, None]
    if column.role == "categorical":
        written = _as_text(col)
        text = written.to_numpy(dtype=object)
        missing = col.isna().to_numpy() | placeholder_cells(column, col, written)
        if MISSING_LEVEL in column.levels:
            text = np.where(missing, MISSING_LEVEL, text)
        other = len(column.levels)
        codes = pd.Index(column.levels).get_indexer(text)  # hashed, not a Python loop
        codes[codes < 0] = other
        out = np.zeros((len(col), other + 1))
        out[np.arange(len(col)), codes] = 1.0
        if MISSING_LEVEL not in column.levels:
            out[missing] = 0.0  # missing where fit saw none: no information, no error
        return out
    if column.role == "datetime":
        values = _as_datetime(col, column.name, source, column.date_format)
        if column.parts == ("year",):  # a missing date is a missing number
            return values.dt.year.to_numpy(dtype=np.float64, na_value=np.nan)[:, None]
        out = np.zeros((len(col), 2 * len(column.parts)))
        missing = values.isna().to_numpy()
        for k, part in enumerate(column.parts):
            raw = getattr(values.dt, _ATTRIBUTES[part]).to_numpy(dtype=np.float64, na_value=0.0)
            if part == "month":
                raw = raw - 1
            angle = 2 * np.pi * raw / _CYCLES[part]
            out[:, 2 * k] = np.where(missing, np.nan, np.sin(angle))
            out[:, 2 * k + 1] = np.where(missing, np.nan, np.cos(angle))
        return out  # a missing date: NaN parts, no error; the network sees the centre 0
    raise ValueError(f"column {column.name!r} ({column.role}) is not a feature")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def calendar_text(column: Column, block: np.ndarray) -> list[str]:
    """A datetime column's encoded block (its sine, cosine pairs) read back as the calendar
    parts it holds, e.g. "Wed Sep 13h"; "missing" where the pairs are NaN (or all 0)."""
    if column.parts == ("year",):
        return ["missing" if np.isnan(v) else f"{v:.0f}" for v in block[:, 0].tolist()]
    out = []
    for row in block.tolist():
        if not any(row) or math.isnan(row[0]):  # all 0: as models saved before wrote it
            out.append("missing")
            continue
        words = []
        for k, part in enumerate(column.parts):
            angle = math.atan2(row[2 * k], row[2 * k + 1]) % (2 * math.pi)
            step = round(angle * _CYCLES[part] / (2 * math.pi)) % _CYCLES[part]
            words.append(_DAYS[step] if part == "dayofweek" else _MONTHS[step]
                         if part == "month" else f"{step}h")
        out.append(" ".join(words[1:] + words[:1]) if column.parts[0] == "hour" else
                   " ".join(words))
    return out


def _as_written(values: np.ndarray, column: Column, original: pd.Series) -> list[str]:
    """Numbers as the column's text writes them: its unit, thousands separators and as
    many decimals as its most precise number."""
    text = _negated(_text(original))
    text = text[_written_numbers(text, column.unit, column.thousands).notna()]
    comma = column.thousands == "." or (
        column.thousands == " " and bool(text.str.contains(r",\d+\D*$").any()))
    fraction = text.str.extract(r"[.,](\d+)\D*$" if comma else r"\.(\d+)\D*$")[0].dropna()
    decimals = min(int(fraction.str.len().max()), 6) if len(fraction) else 0
    separator = column.thousands
    if separator == " ":  # the space the column uses (a no-break one, perhaps)
        separator = text.str.extract("\\d([ \u00a0\u202f])\\d")[0].dropna().iloc[0] \
            if text.str.contains("\\d[ \u00a0\u202f]\\d").any() else " "
    unit = column.unit or "{}"
    if column.integral:  # whole numbers written 70.0: whole fills
        values = np.round(values)
    out = []
    for v in values.tolist():
        number = format(abs(v), f"{',' if separator else ''}.{decimals}f")
        if separator:  # 1,234.5 in the column's own marks
            number = number.replace(",", "\0").replace(".", "," if comma else ".")
            number = number.replace("\0", separator)
        if v < 0 and column.negative:
            out.append(f"({unit.format(number)})")
        else:
            out.append(("-" if v < 0 else "") + unit.format(number))
    return out


def decode_column(column: Column, encoded: np.ndarray, original: pd.Series) -> pd.Series:
    """A feature column's decoded values (``encoded``: its (n, width) block, in data units)
    in the input column's form: numbers (ints where the input was integral), the boolean's
    two values, the most likely training category (never "(other)" or "(missing)"); a
    date cannot be recovered from its calendar parts, so the input's dates are kept."""
    index = original.index
    if column.role == "numeric":
        values = encoded[:, 0]
        if pd.api.types.is_timedelta64_dtype(original.dtype):
            return pd.Series(pd.to_timedelta(values, unit="s"), index=index,
                             name=column.name).astype(original.dtype)
        if not pd.api.types.is_numeric_dtype(original.dtype):  # numbers written as text
            return pd.Series(_as_written(values, column, original), index=index,
                             name=column.name, dtype=object)
        if pd.api.types.is_integer_dtype(original.dtype):  # numpy or nullable (Int64)
            return pd.Series(np.round(values), index=index, name=column.name).astype(
                original.dtype)
        out = pd.Series(values, index=index, name=column.name)
        return out.astype(original.dtype) if pd.api.types.is_float_dtype(original.dtype) \
            else out
    if column.role == "boolean":
        on = encoded[:, 0] >= 0.5
        observed = original.dropna()
        if pd.api.types.is_bool_dtype(original.dtype) or (len(observed) and all(
                isinstance(v, (bool, np.bool_)) for v in observed.head(1000))):
            # bools (also as objects beside missing cells, as a nullable column reads)
            out = pd.Series(on, index=index, name=column.name)
            return out.astype(original.dtype) if pd.api.types.is_bool_dtype(original.dtype) \
                else out  # numpy, nullable or pyarrow booleans
        return pd.Series(np.where(on, column.levels[1], column.levels[0]), index=index,
                         name=column.name, dtype=object)
    if column.role == "categorical":
        real = [k for k, level in enumerate(column.levels) if level != MISSING_LEVEL]
        labels = np.asarray(column.levels, dtype=object)[real]
        picked = labels[np.argmax(encoded[:, real], axis=1)]
        if isinstance(original.dtype, pd.CategoricalDtype):  # its labels as the categories
            as_written = {str(c): c for c in original.dtype.categories}  # 5, not "5"
            picked = np.array([as_written.get(v, v) for v in picked], dtype=object)
        out = pd.Series(picked, index=index, name=column.name, dtype=object)
        if original.dtype != object:  # category, pandas or pyarrow strings
            out = out.astype(original.dtype)
        return out
    return original.copy()


__all__ = ["Column", "decode_column", "DECLARABLE", "FEATURE_ROLES", "ROLES", "check_roles", "encode_column",
           "holds_whole_numbers", "infer_column", "needs_roles"]
