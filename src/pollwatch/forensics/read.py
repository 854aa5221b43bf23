"""Read an official results file (CSV, or a zip holding one CSV) into the canonical table.

A *column mapping* says which columns of the file play which *role*. Roles:

==================  =================================================================
``station_id``      one or more columns joined with " / " (default: the line number)
``region``          one column (optional)
``registered``      registered voters; several columns are summed
``ballots_issued``  ballots issued; several columns are summed
``ballots_cast``    ballots found in the boxes (valid + invalid); summed; optional
``invalid``         invalid ballots; summed; optional (0 when absent)
``candidates``      the candidates' vote columns (at least one)
``winner``          one candidate (default: the one with the most votes)
==================  =================================================================

A column is named exactly, or by a regular expression written ``re:<pattern>`` (every column
whose header matches, in file order). `CEC_RUSSIA` is the mapping of the Russian Central
Election Commission's tables (``../shared/data/russia``); `POLLWATCH` that of a case's
results.csv. Rows that cannot be used are excluded, each reported as an `InputProblem` naming
its line; a missing column is an `InputError`.
"""

from __future__ import annotations

import io
import re
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from pollwatch.errors import InputError, InputProblem

__all__ = [
    "CEC_RUSSIA",
    "POLLWATCH",
    "ROLES",
    "ColumnMapping",
    "ResultsTable",
    "check_results",
    "load_mapping",
    "mapping_with",
    "read_results",
]

ROLES = (
    "station_id",
    "region",
    "registered",
    "ballots_issued",
    "ballots_cast",
    "invalid",
    "candidates",
    "winner",
)
_SUMMED = ("registered", "ballots_issued", "ballots_cast", "invalid")


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns of a file play which role (see the module docstring)."""

    name: str
    station_id: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    registered: tuple[str, ...] = ()
    ballots_issued: tuple[str, ...] = ()
    ballots_cast: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    winner: tuple[str, ...] = ()
    delimiter: str = ","
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        for role in ROLES:
            value = getattr(self, role)
            if isinstance(value, str):
                object.__setattr__(self, role, (value,))
            elif not all(isinstance(v, str) for v in value):
                raise ValueError(f"mapping '{self.name}': {role} must be column names")
        for role in ("region", "winner"):
            if len(getattr(self, role)) > 1:
                raise ValueError(f"mapping '{self.name}': {role} takes a single column")


#: The Russian CEC tables as redistributed by Shpilkin / dkobak/elections (2011, 2012, 2016 …).
CEC_RUSSIA = ColumnMapping(
    name="cec-russia",
    station_id=("region", "tik", "uik"),
    region=("region",),
    registered=(r"re:^Число избирателей, (внесенных|включенных)",),
    ballots_issued=(r"re:бюллетеней, выданных",),  # early + in the station + outside: 3 columns
    ballots_cast=(r"re:^Число недействительных", r"re:^Число действительных"),
    invalid=(r"re:^Число недействительных",),
    candidates=(r"re:^(?!Число |url$|region$|oik$|tik$|uik$)",),
)

#: A case's results.csv (docs/formats.md): protocol columns, then one column per candidate.
POLLWATCH = ColumnMapping(
    name="pollwatch",
    station_id=("station_id",),
    region=("re:^region$",),
    registered=("registered",),
    ballots_issued=("ballots_issued",),
    ballots_cast=("re:^ballots_cast$",),
    invalid=("re:^invalid$",),
    candidates=(r"re:^(?!(station_id|region|registered|ballots_issued|ballots_cast|invalid)$)",),
)


@dataclass(frozen=True)
class ResultsTable:
    """The canonical results: `frame` has station_id, region, registered, ballots_issued,
    ballots_cast, invalid and one column per candidate; `excluded` the rows left out."""

    frame: pd.DataFrame
    candidates: tuple[str, ...]
    winner: str | None
    file: str
    layout: str
    rows_read: int
    excluded: tuple[InputProblem, ...] = field(default=())

    @property
    def excluded_rows(self) -> int:
        return len({(p.line, p.file) for p in self.excluded})


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read a mapping from TOML: a ``[columns]`` table of role = column (or list), and an
    optional ``[csv]`` table with ``delimiter`` and ``encoding``."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError.at(path, f"cannot read the mapping: {err.strerror or err}") from err
    except tomllib.TOMLDecodeError as err:
        raise InputError.at(path, f"not valid TOML: {err}") from err
    unknown = set(data) - {"columns", "csv"}
    columns = data.get("columns", {})
    problems = [InputProblem(str(path), f"unknown table [{k}]") for k in sorted(unknown)]
    problems += [
        InputProblem(str(path), f"unknown role '{k}' (roles: {', '.join(ROLES)})")
        for k in sorted(set(columns) - set(ROLES))
    ]
    csv = data.get("csv", {})
    problems += [
        InputProblem(str(path), f"unknown [csv] key '{k}'")
        for k in sorted(set(csv) - {"delimiter", "encoding"})
    ]
    values = {}
    for role, value in columns.items():
        names = (value,) if isinstance(value, str) else value
        if not isinstance(names, list | tuple) or not all(isinstance(v, str) for v in names):
            problems.append(InputProblem(str(path), f"role '{role}': a column name or a list"))
        else:
            values[role] = tuple(names)
    if problems:
        raise InputError(problems)
    try:
        return ColumnMapping(name=path.name, **values, **csv)
    except ValueError as err:
        raise InputError.at(path, str(err)) from err


def _parse_overrides(overrides: Iterable[str]) -> dict[str, tuple[str, ...]]:
    collected: dict[str, list[str]] = {}
    for item in overrides:
        role, sep, column = item.partition("=")
        role = role.strip()
        if not sep or not column:
            raise InputError.at("--col", f"'{item}': expected role=column")
        if role not in ROLES:
            raise InputError.at("--col", f"unknown role '{role}' (roles: {', '.join(ROLES)})")
        collected.setdefault(role, []).append(column)
    return {k: tuple(v) for k, v in collected.items()}


def mapping_with(base: ColumnMapping, overrides: Iterable[str]) -> ColumnMapping:
    """`base` with ``role=column`` overrides (a role given several times collects a list)."""
    try:
        return replace(base, **_parse_overrides(overrides))
    except ValueError as err:
        raise InputError.at("--col", str(err)) from err


# -- reading -----------------------------------------------------------------------------------
def _raw(path: Path) -> bytes:
    """The bytes of the CSV: the file, or the one CSV inside a zip."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if m.lower().endswith((".csv", ".txt"))]
                if len(members) != 1:
                    raise InputError.at(path, f"expected one CSV in the zip, found {members}")
                return archive.read(members[0])
        return path.read_bytes()
    except (OSError, zipfile.BadZipFile) as err:
        raise InputError.at(path, f"cannot read: {err}") from err


def _csv(path: Path, raw: bytes, mapping: ColumnMapping | None, **kwargs: object) -> pd.DataFrame:
    delimiter = mapping.delimiter if mapping else ","
    encoding = mapping.encoding if mapping else "utf-8"
    try:
        return pd.read_csv(
            io.BytesIO(raw), sep=delimiter, encoding=encoding, low_memory=False, **kwargs
        )
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise InputError.at(path, f"not a readable CSV: {err}") from err


def _guess_mapping(headers: Sequence[str], path: Path) -> ColumnMapping:
    if any(re.search(CEC_RUSSIA.registered[0][3:], h) for h in headers):
        return CEC_RUSSIA
    if {"registered", "ballots_issued"} <= set(headers):
        return POLLWATCH
    raise InputError.at(
        path,
        "cannot tell which columns are which: give a mapping (--mapping FILE.toml) or "
        "--col role=column for registered, ballots_issued and candidates",
    )


def _match(spec: str, headers: Sequence[str]) -> list[str]:
    if spec.startswith("re:"):
        pattern = re.compile(spec[3:])
        return [h for h in headers if pattern.search(h)]
    return [spec] if spec in headers else []


def _resolve(
    mapping: ColumnMapping, headers: Sequence[str], file: str
) -> tuple[dict[str, list[str]], list[InputProblem]]:
    resolved: dict[str, list[str]] = {}
    problems = []
    for role in ROLES:
        columns: list[str] = []
        missing = False
        for spec in getattr(mapping, role):
            found = _match(spec, headers)
            if not found and not spec.startswith("re:"):
                problems.append(InputProblem(file, f"missing column for {role}", column=spec))
                missing = True
            columns += [c for c in found if c not in columns]
        if role in ("registered", "ballots_issued", "candidates") and not columns and not missing:
            problems.append(InputProblem(file, f"no column for {role} (mapping '{mapping.name}')"))
        resolved[role] = columns
    return resolved, problems


def _numbers(
    frame: pd.DataFrame, columns: list[str], file: str, problems: list[InputProblem]
) -> tuple[np.ndarray, np.ndarray]:
    """The columns as an int64 matrix, and a mask of the rows where any value is unusable."""
    n = len(frame)
    out = np.zeros((n, len(columns)), dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    for j, col in enumerate(columns):
        raw = frame[col]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        missing = raw.isna().to_numpy()
        checks = (
            (missing, "missing value"),
            (~missing & np.isnan(values), "not a number: {raw!r}"),
            (values < 0, "negative count {value:g}"),
            (np.isfinite(values) & (values != np.round(values)), "not a whole number: {value:g}"),
        )
        for mask, message in checks:
            for i in np.flatnonzero(mask):
                text = message.format(raw=raw.iloc[i], value=values[i])
                problems.append(InputProblem(file, text, line=int(i) + 2, column=col))
            bad |= mask
        out[:, j] = np.where(np.isfinite(values) & (values >= 0), values, 0).astype(np.int64)
    return out, bad


def check_results(
    frame: pd.DataFrame, mapping: ColumnMapping = POLLWATCH, *, file: str = "results.csv"
) -> ResultsTable:
    """Map and check a results table; malformed rows are excluded and reported.

    Excluded: a missing, non-numeric, negative or fractional count; candidate votes + invalid
    above ballots cast; ballots issued at a station with no registered voter; a repeated
    station id (the first row is kept). Missing columns raise `InputError`.
    """
    headers = [str(c) for c in frame.columns]
    frame = frame.set_axis(headers, axis=1)
    roles, problems = _resolve(mapping, headers, file)
    if problems:
        raise InputError(problems)
    row_problems: list[InputProblem] = []
    bad = np.zeros(len(frame), dtype=bool)
    sums = {}
    for role in _SUMMED:
        if roles[role]:
            matrix, rows_bad = _numbers(frame, roles[role], file, row_problems)
            sums[role], bad = matrix.sum(axis=1), bad | rows_bad
    votes, rows_bad = _numbers(frame, roles["candidates"], file, row_problems)
    bad |= rows_bad
    invalid = sums.get("invalid", np.zeros(len(frame), dtype=np.int64))
    cast = sums.get("ballots_cast")
    line = np.arange(len(frame)) + 2
    if cast is not None:
        over = ~bad & (votes.sum(axis=1) + invalid > cast)
        for i in np.flatnonzero(over):
            row_problems.append(
                InputProblem(
                    file,
                    f"votes above ballots: candidates' votes + invalid = "
                    f"{votes[i].sum() + invalid[i]} > ballots cast = {cast[i]}",
                    line=int(line[i]),
                )
            )
        bad |= over
    else:
        cast = votes.sum(axis=1) + invalid
    nobody = ~bad & (sums["registered"] == 0) & (sums["ballots_issued"] > 0)
    for i in np.flatnonzero(nobody):
        row_problems.append(
            InputProblem(file, "ballots issued but no registered voter", line=int(line[i]))
        )
    bad |= nobody
    if roles["station_id"]:
        parts = [frame[c].astype(str).to_numpy(object) for c in roles["station_id"]]
        ids = parts[0]
        for part in parts[1:]:
            ids = ids + " / " + part
    else:
        ids = np.array([str(i) for i in line], dtype=object)
    duplicated = pd.Series(ids).duplicated().to_numpy() & ~bad
    for i in np.flatnonzero(duplicated):
        row_problems.append(
            InputProblem(file, f"repeated station id {ids[i]!r}", line=int(line[i]))
        )
    bad |= duplicated
    region = (
        frame[roles["region"][0]].astype(str).to_numpy(object)
        if roles["region"]
        else np.full(len(frame), "", dtype=object)
    )
    keep = ~bad
    candidates = tuple(roles["candidates"])
    out = pd.DataFrame(
        {
            "station_id": ids[keep],
            "region": region[keep],
            "registered": sums["registered"][keep],
            "ballots_issued": sums["ballots_issued"][keep],
            "ballots_cast": cast[keep],
            "invalid": invalid[keep],
        }
    )
    out = pd.concat([out, pd.DataFrame(votes[keep], columns=list(candidates))], axis=1)
    winner = roles["winner"][0] if roles["winner"] else None
    if winner is not None and winner not in candidates:
        raise InputError.at(file, f"the winner '{winner}' is not a candidate column")
    row_problems.sort(key=lambda p: (p.line or 0, p.column or ""))
    return ResultsTable(
        frame=out,
        candidates=candidates,
        winner=winner,
        file=file,
        layout=mapping.name,
        rows_read=len(frame),
        excluded=tuple(row_problems),
    )


def read_results(
    path: str | Path,
    mapping: ColumnMapping | None = None,
    overrides: Sequence[str] = (),
) -> ResultsTable:
    """Read a results file (CSV or zip) with `mapping` (guessed from the headers when None:
    `CEC_RUSSIA` or `POLLWATCH`) and ``role=column`` `overrides`."""
    path = Path(path)
    given = _parse_overrides(overrides)  # reports a bad --col before anything else
    if not path.exists():
        raise InputError.at(path, "no such file")
    raw = _raw(path)
    headers = [str(c) for c in _csv(path, raw, mapping, nrows=0).columns]
    if mapping is None:
        covered = {"registered", "ballots_issued", "candidates"} <= set(given)
        mapping = ColumnMapping("cli") if covered else _guess_mapping(headers, path)
    if overrides:
        mapping = mapping_with(mapping, overrides)
    # identifiers stay text ("007" is not 7); counts are parsed by check_results
    text = {c for spec in (*mapping.station_id, *mapping.region) for c in _match(spec, headers)}
    frame = _csv(path, raw, mapping, dtype=dict.fromkeys(text, str))
    return check_results(frame, mapping, file=str(path))
