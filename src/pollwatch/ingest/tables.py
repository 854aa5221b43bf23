"""stations.csv, results.csv and turnout.csv: their column specs and the checks within and
across them. Each reader returns its sheet (rows, problems, warnings) and DataFrames of the
rows that parsed.

What is an error and what a warning (docs/formats.md): an error is input pollwatch cannot read
or that refers to nothing; a number that reads fine but is implausible as a fact (more ballots
cast than issued, a cumulative count going down) is a warning: it is kept, because in official
data it may be the very thing observers are looking for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pollwatch.ingest.csvtable import (
    Column,
    Row,
    Sheet,
    boolean,
    count,
    number_in,
    read_sheet,
    text,
    text_or_empty,
    timestamp,
)
from pollwatch.store import Election

__all__ = [
    "PROTOCOL_COLUMNS",
    "RESULTS_COLUMNS",
    "STATIONS_COLUMNS",
    "TURNOUT_COLUMNS",
    "flag_duplicates",
    "read_results",
    "read_stations",
    "read_turnout",
    "stations_frame",
]

STATIONS_COLUMNS = [
    Column("station_id", text),
    Column("region", text),
    Column("district", text_or_empty),
    Column("name", text_or_empty),
    Column("lat", number_in(-90, 90)),
    Column("lon", number_in(-180, 180)),
    Column("registered", count),
    Column("has_camera", boolean),
]
PROTOCOL_COLUMNS = ["registered", "ballots_issued", "ballots_cast", "invalid"]
RESULTS_COLUMNS = [Column("station_id", text), *(Column(c, count) for c in PROTOCOL_COLUMNS)]
TURNOUT_COLUMNS = [
    Column("station_id", text),
    Column("time", timestamp),
    Column("voters_cumulative", count),
]


def flag_duplicates(sheet: Sheet, key: tuple[str, ...], what: str) -> list[Row]:
    """Report rows whose `key` values repeat an earlier row's; returns the first of each."""
    first: dict[tuple[Any, ...], int] = {}
    kept = []
    for row in sheet.good_rows:
        k = tuple(row.values[c] for c in key)
        if k in first:
            shown = " ".join(str(v.isoformat() if hasattr(v, "isoformat") else v) for v in k)
            sheet.problem(f"duplicate {what} {shown} (first on line {first[k]})", row.line, key[-1])
        else:
            first[k] = row.line
            kept.append(row)
    return kept


def _unknown_station(sheet: Sheet, rows: list[Row], stations: dict[str, Row] | None) -> list[Row]:
    """Report rows naming a station that stations.csv lacks; returns the others."""
    if stations is None:
        return rows
    kept = []
    for row in rows:
        if row.values["station_id"] in stations:
            kept.append(row)
        else:
            sheet.problem(
                f"unknown station {row.values['station_id']!r} (not in stations.csv)",
                row.line,
                "station_id",
            )
    return kept


def read_stations(path: Path) -> tuple[Sheet, dict[str, Row]]:
    """stations.csv; returns its sheet and the valid rows by station_id."""
    sheet = read_sheet(path, "stations.csv", STATIONS_COLUMNS, extra=None)
    rows = flag_duplicates(sheet, ("station_id",), "station_id")
    return sheet, {r.values["station_id"]: r for r in rows}


def stations_frame(stations: dict[str, Row]) -> pd.DataFrame:
    """The valid stations.csv rows as a frame, in file order."""
    names = [c.name for c in STATIONS_COLUMNS]
    return pd.DataFrame([r.values for r in stations.values()], columns=names)


def read_results(
    path: Path, election: Election | None, stations: dict[str, Row] | None
) -> tuple[Sheet, pd.DataFrame, pd.DataFrame]:
    """results.csv; returns its sheet, the protocols frame and the votes frame (long form)."""
    sheet = read_sheet(path, "results.csv", RESULTS_COLUMNS, extra=count)
    if election is not None and sheet.header:
        cands = list(election.candidates)
        for name in sheet.extra_columns:
            if name not in cands:
                sheet.problem("not a candidate of election.toml", 1, name)
        for name in cands:
            if name not in sheet.extra_columns:
                sheet.problem("candidate of election.toml has no column", 1, name)
        if set(cands) == set(sheet.extra_columns) and cands != sheet.extra_columns:
            sheet.warn("candidate columns are not in election.toml's order", 1)
        if any(p.line == 1 for p in sheet.problems):
            sheet.rows.clear()
    rows = flag_duplicates(sheet, ("station_id",), "station_id")
    rows = _unknown_station(sheet, rows, stations)
    candidates = list(election.candidates) if election is not None else sheet.extra_columns
    for row in rows:
        _check_protocol(sheet, row, candidates, stations)
    if stations is not None:
        reported = {r.values["station_id"] for r in rows}
        for sid, srow in stations.items():
            if sid not in reported:
                sheet.warn(f"station {sid!r} (stations.csv line {srow.line}) has no results")
    protocols = pd.DataFrame(
        [
            {"station_id": r.values["station_id"], **{c: r.values[c] for c in PROTOCOL_COLUMNS}}
            for r in rows
        ],
        columns=["station_id", *PROTOCOL_COLUMNS],
    )
    votes = pd.DataFrame(
        [
            {"station_id": r.values["station_id"], "candidate": c, "votes": r.values[c]}
            for r in rows
            for c in candidates
        ],
        columns=["station_id", "candidate", "votes"],
    )
    return sheet, protocols, votes


def _check_protocol(
    sheet: Sheet, row: Row, candidates: list[str], stations: dict[str, Row] | None
) -> None:
    v, line = row.values, row.line
    if stations is not None:
        listed = stations[v["station_id"]].values["registered"]
        if v["registered"] != listed:
            sheet.problem(
                f"registered {v['registered']} differs from stations.csv's {listed} "
                f"(line {stations[v['station_id']].line})",
                line,
                "registered",
            )
    total = v["invalid"] + sum(v[c] for c in candidates)
    if total != v["ballots_cast"]:
        sheet.problem(
            f"ballots_cast {v['ballots_cast']} ≠ invalid {v['invalid']} + candidates' votes "
            f"{total - v['invalid']} = {total}",
            line,
            "ballots_cast",
        )
    if v["ballots_cast"] > v["ballots_issued"]:
        sheet.warn(
            f"more ballots cast ({v['ballots_cast']}) than issued ({v['ballots_issued']})",
            line,
            "ballots_cast",
        )
    if v["ballots_issued"] > v["registered"]:
        sheet.warn(
            f"more ballots issued ({v['ballots_issued']}) than voters registered "
            f"({v['registered']})",
            line,
            "ballots_issued",
        )


def read_turnout(
    path: Path, election: Election | None, stations: dict[str, Row] | None
) -> tuple[Sheet, pd.DataFrame]:
    """turnout.csv; returns its sheet and the checkpoints frame."""
    sheet = read_sheet(path, "turnout.csv", TURNOUT_COLUMNS, extra=None)
    rows = flag_duplicates(sheet, ("station_id", "time"), "checkpoint")
    rows = _unknown_station(sheet, rows, stations)
    if election is not None:
        listed = set(election.checkpoints)
        for row in rows:
            t = row.values["time"]
            if not election.polls_open <= t <= election.polls_close:
                sheet.problem(
                    f"{t.isoformat()} is outside the polls "
                    f"({election.polls_open.isoformat()} – {election.polls_close.isoformat()})",
                    row.line,
                    "time",
                )
            elif t not in listed:
                sheet.warn(
                    f"{t.isoformat()} is not a checkpoint of election.toml", row.line, "time"
                )
    last: dict[str, Row] = {}
    for row in sorted(rows, key=lambda r: (r.values["station_id"], r.values["time"])):
        sid, n = row.values["station_id"], row.values["voters_cumulative"]
        before = last.get(sid)
        if before is not None and n < before.values["voters_cumulative"]:
            sheet.warn(
                f"{n} voters is fewer than the {before.values['voters_cumulative']} reported "
                f"earlier (line {before.line})",
                row.line,
                "voters_cumulative",
            )
        if stations is not None and n > stations[sid].values["registered"]:
            registered = stations[sid].values["registered"]
            sheet.warn(
                f"{n} voters is more than the {registered} registered",
                row.line,
                "voters_cumulative",
            )
        last[sid] = row
    frame = pd.DataFrame([r.values for r in rows], columns=[c.name for c in TURNOUT_COLUMNS])
    return sheet, frame
