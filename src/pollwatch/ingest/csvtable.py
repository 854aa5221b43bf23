"""Reading one CSV input file against its column spec, collecting every problem with its line
and column instead of stopping at the first.

A parser takes the cell's text and returns the value or raises ValueError with a message that
completes "column 'x': ...". Line numbers count the header as line 1.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pollwatch.errors import InputProblem

__all__ = [
    "Column",
    "Row",
    "Sheet",
    "boolean",
    "count",
    "number_in",
    "read_sheet",
    "text",
    "text_or_empty",
    "timestamp",
]

Parser = Callable[[str], Any]

_INT = re.compile(r"[+-]?\d+")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def text(cell: str) -> str:
    """Non-empty text."""
    if not cell:
        raise ValueError("is empty")
    return cell


def text_or_empty(cell: str) -> str:
    return cell


def count(cell: str) -> int:
    """A whole number ≥ 0."""
    if not _INT.fullmatch(cell):
        raise ValueError(f"{cell!r} is not a whole number")
    value = int(cell)
    if value < 0:
        raise ValueError(f"{value} is negative")
    return value


def number_in(low: float, high: float) -> Parser:
    """A finite decimal number in [low, high]."""

    def parse(cell: str) -> float:
        try:
            value = float(cell)
        except ValueError:
            raise ValueError(f"{cell!r} is not a number") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"{cell} is outside [{low:g}, {high:g}]")
        return value

    return parse


def boolean(cell: str) -> bool:
    """true/false, yes/no, 1/0 (any case)."""
    low = cell.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"{cell!r} is not true or false")


def timestamp(cell: str) -> datetime:
    """An ISO 8601 date and time with a UTC offset."""
    try:
        value = datetime.fromisoformat(cell)
    except ValueError:
        raise ValueError(f"{cell!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise ValueError(f"{cell!r} has no UTC offset (write e.g. {cell}+04:00)")
    return value


@dataclass(frozen=True)
class Column:
    """One expected column: its parser, and whether it (and its cells) may be absent/empty."""

    name: str
    parse: Parser
    optional: bool = False


@dataclass(frozen=True)
class Row:
    """A parsed row: its line in the file and its values by column name (None = empty optional
    cell). `ok` is False when some cell did not parse; its problems are in the sheet."""

    line: int
    values: dict[str, Any]
    ok: bool


@dataclass
class Sheet:
    """A CSV file read against a spec: its rows, extra columns, problems and warnings."""

    file: str
    header: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    warnings: list[InputProblem] = field(default_factory=list)

    def problem(self, message: str, line: int | None = None, column: str | None = None) -> None:
        self.problems.append(InputProblem(self.file, message, line=line, column=column))

    def warn(self, message: str, line: int | None = None, column: str | None = None) -> None:
        self.warnings.append(InputProblem(self.file, message, line=line, column=column))

    @property
    def good_rows(self) -> list[Row]:
        return [r for r in self.rows if r.ok]


def read_sheet(path: Path, file: str, columns: list[Column], *, extra: Parser | None) -> Sheet:
    """Read `path` (reported as `file`) against `columns`.

    Columns the spec does not name are parsed with `extra` (results.csv's candidate columns);
    with `extra=None` they are ignored with a warning.
    """
    sheet = Sheet(file)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        sheet.problem("file is missing")
        return sheet
    except OSError as err:
        sheet.problem(f"cannot be read: {err.strerror}")
        return sheet
    with handle:
        try:
            _read(csv.reader(handle), sheet, columns, extra)
        except UnicodeDecodeError as err:
            sheet.problem(f"is not UTF-8 text ({err.reason} at byte {err.start})")
        except csv.Error as err:
            sheet.problem(f"is not valid CSV: {err}")
    return sheet


def _read(reader: Any, sheet: Sheet, columns: list[Column], extra: Parser | None) -> None:
    header = [h.strip() for h in next(reader, [])]
    if not any(header):
        sheet.problem("is empty: a header line is needed", line=1)
        return
    sheet.header = header
    known = {c.name for c in columns}
    for name in {h for h in header if header.count(h) > 1}:
        sheet.problem("column appears more than once", line=1, column=name)
    for col in columns:
        if not col.optional and col.name not in header:
            sheet.problem("required column is missing", line=1, column=col.name)
    sheet.extra_columns = [h for h in header if h not in known]
    if extra is None:
        for name in sheet.extra_columns:
            sheet.warn("unknown column, ignored", line=1, column=name)
    if sheet.problems:
        return
    parsers = {c.name: c for c in columns}
    line = 1
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line holds no row
        if len(cells) != len(header):
            sheet.problem(f"has {len(cells)} fields, the header has {len(header)}", line=start)
            sheet.rows.append(Row(start, {}, ok=False))
            continue
        values: dict[str, Any] = {}
        ok = True
        for name, raw in zip(header, cells, strict=True):
            cell = raw.strip()
            col = parsers.get(name)
            if col is None and extra is None:
                continue
            if col is not None and col.optional and not cell:
                values[name] = None
                continue
            try:
                values[name] = (col.parse if col is not None else extra)(cell)  # type: ignore[misc]
            except ValueError as err:
                sheet.problem(str(err), line=start, column=name)
                ok = False
        for col in columns:
            values.setdefault(col.name, None)
        sheet.rows.append(Row(start, values, ok))
