"""When a camera could watch its ballot box: the recording's extent minus unobservable ranges.

Counting can only speak for time the box was in view. `Observability` holds the recording's
extent and a list of unobservable ranges, each with a reason, on the camera's video clock
(seconds from the first frame). It is built from the engine's gaps (outage, damage, truncation)
and from the counter's own check of the box zone (frozen picture, box out of view, too dark);
the camera audit's timeline plugs in through `Observability.with_ranges`, which takes any
iterable of (start_s, end_s, reason) — or wall-clock datetimes via `ranges_from_wall`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from pollwatch.video.frame import Gap

__all__ = ["Observability", "Range", "ranges_from_wall"]

Range = tuple[float, float, str]

RANGE_COLUMNS = ["start_s", "end_s", "reason"]


def _merged(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Sorted, overlapping or touching ranges joined (reasons joined with "; ")."""
    out: list[list] = []
    for start, end, reason in sorted(ranges, key=lambda r: (r[0], r[1])):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            last = out[-1]
            last[1] = max(last[1], end)
            if reason not in last[2].split("; "):
                last[2] = f"{last[2]}; {reason}"
        else:
            out.append([float(start), float(end), str(reason)])
    return tuple((a, b, r) for a, b, r in out)


def ranges_from_wall(
    ranges: Iterable[tuple[datetime, datetime, str]], start_time: datetime
) -> list[Range]:
    """Wall-clock (start, end, reason) ranges on a recording's clock (seconds from its first
    frame, which was shown at `start_time`)."""
    out = []
    for start, end, reason in ranges:
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError(f"range {start}..{end}: times must carry a UTC offset")
        out.append(
            ((start - start_time).total_seconds(), (end - start_time).total_seconds(), reason)
        )
    return out


@dataclass(frozen=True)
class Observability:
    """The recording spans `start_s`..`end_s`; `unobservable` lists the ranges inside it (and
    beyond it, implicitly) when the box could not be watched, merged and sorted."""

    start_s: float
    end_s: float
    unobservable: tuple[Range, ...] = ()

    def __post_init__(self) -> None:
        if not self.end_s >= self.start_s:
            raise ValueError(f"end_s ({self.end_s}) must not be before start_s ({self.start_s})")
        object.__setattr__(self, "unobservable", _merged(self.unobservable))

    @classmethod
    def from_gaps(cls, gaps: Sequence[Gap], start_s: float, end_s: float) -> Observability:
        """The recording's extent with the engine's gaps as unobservable ranges (a gap without
        an end runs to `end_s`)."""
        ranges = [
            (g.start_s, end_s if g.end_s is None else g.end_s, f"{g.kind} video") for g in gaps
        ]
        return cls(start_s, end_s, tuple(ranges))

    def with_ranges(self, ranges: Iterable[Range]) -> Observability:
        """These unobservable ranges added (e.g. the camera audit's timeline)."""
        return Observability(self.start_s, self.end_s, (*self.unobservable, *ranges))

    def observed_s(self, start: float, end: float) -> float:
        """Seconds of `start`..`end` the box could be watched."""
        lo, hi = max(start, self.start_s), min(end, self.end_s)
        if hi <= lo:
            return 0.0
        blind = sum(max(0.0, min(hi, b) - max(lo, a)) for a, b, _ in self.unobservable)
        return max(0.0, hi - lo - blind)

    def observed_share(self, start: float, end: float) -> float:
        """Share (0..1) of `start`..`end` the box could be watched."""
        if end <= start:
            return 0.0
        return self.observed_s(start, end) / (end - start)

    def reasons(self, start: float, end: float) -> list[str]:
        """Why parts of `start`..`end` could not be watched (outside the recording included)."""
        out = []
        if start < self.start_s or end > self.end_s:
            out.append("not recorded")
        for a, b, reason in self.unobservable:
            if a < end and b > start:
                out.extend(r for r in reason.split("; ") if r not in out)
        return out

    def observable_at(self, t: float) -> bool:
        if not self.start_s <= t <= self.end_s:
            return False
        return not any(a <= t < b for a, b, _ in self.unobservable)

    def to_frame(self) -> pd.DataFrame:
        """The unobservable ranges as a DataFrame (start_s, end_s, reason)."""
        return pd.DataFrame(list(self.unobservable), columns=RANGE_COLUMNS).astype(
            {"start_s": float, "end_s": float, "reason": str}
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, start_s: float, end_s: float) -> Observability:
        rows = frame[RANGE_COLUMNS].itertuples(index=False, name=None)
        return cls(start_s, end_s, tuple((float(a), float(b), str(r)) for a, b, r in rows))
