"""Reading election.toml into an `Election`, with every problem located by line and key."""

from __future__ import annotations

import math
import re
import tomllib
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from pollwatch.errors import InputProblem
from pollwatch.store import Election

__all__ = ["ELECTION_KEYS", "read_election"]

FILE = "election.toml"
ELECTION_KEYS = ("name", "polls_open", "polls_close", "checkpoints", "candidates", "time_scale")


def _key_line(text: str, key: str) -> int | None:
    """The line where `key = ...` is set, for error messages."""
    match = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, flags=re.MULTILINE)
    return None if match is None else text.count("\n", 0, match.start()) + 1


def _time(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 time") from None
    if not isinstance(value, datetime):
        kind = "a date without a time" if isinstance(value, date) else type(value).__name__
        raise ValueError(f"must be a date and time with a UTC offset, not {kind}")
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no UTC offset (write e.g. +04:00)")
    return value


def read_election(path: Path) -> tuple[Election | None, list[InputProblem]]:
    """Parse election.toml; returns the election (None if any problem) and the problems."""
    problems: list[InputProblem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [InputProblem(FILE, "file is missing")]
    except (OSError, UnicodeDecodeError) as err:
        return None, [InputProblem(FILE, f"cannot be read: {err}")]
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return None, [InputProblem(FILE, f"is not valid TOML: {err}")]

    def bad(key: str, message: str) -> None:
        problems.append(InputProblem(FILE, message, line=_key_line(text, key), column=key))

    for key in ELECTION_KEYS[:5]:
        if key not in doc:
            problems.append(InputProblem(FILE, "required key is missing", column=key))
    for key in sorted(set(doc) - set(ELECTION_KEYS)):
        bad(key, f"unknown key (known: {', '.join(ELECTION_KEYS)})")

    values: dict[str, Any] = {}
    name = doc.get("name")
    if "name" in doc:
        if isinstance(name, str) and name.strip():
            values["name"] = name.strip()
        else:
            bad("name", "must be a non-empty string")
    for key in ("polls_open", "polls_close"):
        if key in doc:
            try:
                values[key] = _time(doc[key])
            except ValueError as err:
                bad(key, str(err))
    opened, closed = values.get("polls_open"), values.get("polls_close")
    if opened is not None and closed is not None and closed <= opened:
        bad("polls_close", "must be after polls_open")

    if "checkpoints" in doc:
        values["checkpoints"] = _checkpoints(doc["checkpoints"], values, bad)
    if "candidates" in doc:
        cands = doc["candidates"]
        if not (isinstance(cands, list) and cands and all(isinstance(c, str) for c in cands)):
            bad("candidates", "must be a non-empty list of names")
        else:
            names = [c.strip() for c in cands]
            dupes = sorted({c for c in names if names.count(c) > 1})
            if "" in names:
                bad("candidates", "a candidate's name is empty")
            elif dupes:
                bad("candidates", f"names appear more than once: {', '.join(dupes)}")
            else:
                values["candidates"] = tuple(names)
    scale = doc.get("time_scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        bad("time_scale", "must be a number")
    elif not (math.isfinite(scale) and scale > 0):
        bad("time_scale", f"must be positive, not {scale}")
    else:
        values["time_scale"] = float(scale)

    if problems:
        return None, problems
    return Election(**values), []


def _checkpoints(raw: Any, values: dict[str, Any], bad: Any) -> tuple[datetime, ...]:
    if not isinstance(raw, list):
        bad("checkpoints", "must be a list of times")
        return ()
    times: list[datetime] = []
    for i, item in enumerate(raw):
        try:
            times.append(_time(item))
        except ValueError as err:
            bad("checkpoints", f"item {i + 1}: {err}")
    if len(times) != len(raw):
        return ()
    for i, (a, b) in enumerate(pairwise(times)):
        if b <= a:
            bad("checkpoints", f"item {i + 2} ({b.isoformat()}) is not after the one before")
    opened, closed = values.get("polls_open"), values.get("polls_close")
    if opened is not None and closed is not None:
        for i, t in enumerate(times):
            if not opened <= t <= closed:
                bad("checkpoints", f"item {i + 1} ({t.isoformat()}) is outside the polls")
    return tuple(times)
