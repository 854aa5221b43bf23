"""The records stages exchange through the store: the election, a camera, a finding, and the
validated inputs of a case."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from pollwatch.errors import InputProblem

__all__ = ["Camera", "CaseInputs", "Election", "Finding", "finding_id", "is_url"]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(source: str) -> bool:
    """True for a stream address (rtsp://, http://, ...), false for a file path."""
    return bool(_URL.match(source))


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a UTC offset: {value.isoformat()}")


@dataclass(frozen=True)
class Election:
    """election.toml: the election's name, polling hours, checkpoint times and candidates.

    `time_scale` > 1 marks a simulated case whose voting day was compressed by that factor. It is
    informational: every time in the case (checkpoints, camera start times) is already on the
    compressed clock, so one second of video is one second of that clock.
    """

    name: str
    polls_open: datetime
    polls_close: datetime
    checkpoints: tuple[datetime, ...]
    candidates: tuple[str, ...]
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name must not be empty")
        for key in ("polls_open", "polls_close"):
            _aware(key, getattr(self, key))
        for t in self.checkpoints:
            _aware("checkpoint", t)
        if self.polls_close <= self.polls_open:
            raise ValueError("polls_close must be after polls_open")
        if not self.candidates or len(set(self.candidates)) != len(self.candidates):
            raise ValueError("candidates must be a non-empty list of distinct names")
        if not (math.isfinite(self.time_scale) and self.time_scale > 0):
            raise ValueError(f"time_scale must be a positive number, not {self.time_scale}")

    def wall_time(self, start: datetime, t_s: float) -> datetime:
        """The wall-clock time shown `t_s` seconds into a recording that starts at `start`."""
        return start + timedelta(seconds=t_s)


@dataclass(frozen=True)
class Camera:
    """One row of cameras.csv plus what ingest learnt by probing its recording.

    The probe fields are None for stream addresses (URLs), which ingest does not open.
    `source_stamp` ("size:mtime_ns") tells a re-recorded file from the one analysed before.
    """

    camera_id: str
    station_id: str
    source: str
    start_time: datetime
    box_polygon: tuple[tuple[float, float], ...] | None = None
    reference_image: str | None = None
    duration_s: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool | None = None
    source_stamp: str | None = None

    def __post_init__(self) -> None:
        _aware("start_time", self.start_time)
        if self.box_polygon is not None and len(self.box_polygon) < 3:
            raise ValueError(f"camera {self.camera_id}: box_polygon needs at least 3 points")

    @property
    def is_url(self) -> bool:
        return is_url(self.source)

    def source_path(self, case_root: Path) -> Path | None:
        """The recording's file, or None when the source is a stream address."""
        return None if self.is_url else case_root / self.source

    def reference_path(self, case_root: Path) -> Path | None:
        return None if self.reference_image is None else case_root / self.reference_image


def finding_id(kind: str, *parts: object) -> str:
    """A stable id for a finding: the same kind and parts always give the same id, so a rerun
    of an analyser replaces its findings instead of duplicating them."""
    digest = hashlib.sha1("\x1f".join([kind, *map(str, parts)]).encode()).hexdigest()
    return f"{kind}-{digest[:12]}"


@dataclass(frozen=True)
class Finding:
    """Something an analyser found, with its evidence.

    `t_start`/`t_end` are wall-clock times (None for findings about a whole station or case),
    `score` the analyser's own strength measure, `p_value` where a statistical test gave one,
    `evidence` a JSON-able mapping (clip paths, frame times, test statistics...).
    """

    finding_id: str
    kind: str
    analyser: str
    summary: str
    station_id: str | None = None
    camera_id: str | None = None
    t_start: datetime | None = None
    t_end: datetime | None = None
    score: float | None = None
    p_value: float | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.finding_id or not self.kind or not self.analyser:
            raise ValueError("finding_id, kind and analyser must not be empty")
        for key in ("t_start", "t_end"):
            value = getattr(self, key)
            if value is not None:
                _aware(key, value)
        if self.t_start and self.t_end and self.t_end < self.t_start:
            raise ValueError(f"finding {self.finding_id}: t_end is before t_start")
        if self.p_value is not None and not 0.0 <= self.p_value <= 1.0:
            raise ValueError(f"finding {self.finding_id}: p_value {self.p_value} not in [0, 1]")


@dataclass(frozen=True)
class CaseInputs:
    """A case's inputs after validation, ready to be stored in one transaction.

    DataFrames, one row per input row: `stations` (station_id, region, district, name, lat, lon,
    registered, has_camera), `protocols` (station_id, registered, ballots_issued, ballots_cast,
    invalid), `votes` (station_id, candidate, votes), `checkpoints` (station_id, time,
    voters_cumulative), `cameras` (the `Camera` fields; box_polygon as JSON text).
    """

    election: Election
    stations: pd.DataFrame
    protocols: pd.DataFrame
    votes: pd.DataFrame
    checkpoints: pd.DataFrame
    cameras: pd.DataFrame
    fingerprint: str
    warnings: tuple[InputProblem, ...] = ()
