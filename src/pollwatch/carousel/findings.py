"""Carousel findings (plain frozen records the store persists) and the out/carousel.csv export."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["CSV_COLUMNS", "CarouselFinding", "CarouselVisit", "write_carousel_csv"]

CSV_COLUMNS = (
    "group_id",
    "person_key",
    "camera_id",
    "station_id",
    "time",
    "similarity",
    "track_key",
    "confidence",
)


@dataclass(frozen=True)
class CarouselVisit:
    """One sighting of a carousel person; `similarity` is its best cosine similarity to
    another sighting of the same person."""

    track_key: str
    camera_id: str
    station_id: str
    time: float  # epoch seconds
    similarity: float


@dataclass(frozen=True)
class CarouselFinding:
    """One person seen voting at two or more stations, or twice at one.

    `match_probability` is the matcher's probability of the person's best-matching pair, with
    the support of its group (see calibrate.py and grouping.py), which decides what is
    reported; `confidence` is that probability recalibrated to the share of such persons
    found right on simulated cases (reliability.py); `group_size` counts
    the persons of the group (1 for a lone person), `co_travellers` those met at two or more
    stations."""

    group_id: str
    person_key: str
    visits: tuple[CarouselVisit, ...]
    confidence: float
    group_size: int
    co_travellers: int
    match_probability: float = float("nan")
    kind: str = "carousel"

    @property
    def stations(self) -> tuple[str, ...]:
        """Station ids in time order (repeats kept)."""
        return tuple(v.station_id for v in self.visits)

    @property
    def times(self) -> tuple[float, ...]:
        return tuple(v.time for v in self.visits)

    @property
    def repeated_station(self) -> bool:
        """Whether the person voted twice at one station."""
        return len(set(self.stations)) < len(self.stations)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="seconds")


def write_carousel_csv(findings: Iterable[CarouselFinding], path: str | Path) -> Path:
    """Write one row per visit (columns `CSV_COLUMNS`; time as ISO 8601 UTC) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(CSV_COLUMNS)
        for f in findings:
            for v in f.visits:
                out.writerow(
                    [
                        f.group_id,
                        f.person_key,
                        v.camera_id,
                        v.station_id,
                        _iso(v.time),
                        f"{v.similarity:.4f}",
                        v.track_key,
                        f"{f.confidence:.4f}",
                    ]
                )
    return path
