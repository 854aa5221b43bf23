"""The compressed election clock and the shape of the voting day.

The whole election clock is compressed by `time_scale`: polls open at the preset's hour,
close `polls_hours / time_scale` hours later, and each checkpoint lies `h / time_scale` hours
after the opening. Every file of a case (turnout.csv, cameras.csv, truth/) uses that one
compressed clock, and one second of video is one second of it. Times are kept as seconds after
polls open, rounded to milliseconds, and turned into aware datetimes only when written.

The arrival intensity over the (uncompressed) day has a morning peak around 10:30 and an
evening peak around 16:40, the usual shape of official turnout curves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

import numpy as np

from pollwatch.simulate.presets import Preset

__all__ = ["Clock", "arrival_intensity", "interval_shares", "sample_arrival_hours"]

_GRID = 2001


@dataclass(frozen=True)
class Clock:
    """Polls open at `polls_open`; seconds after it are seconds of the compressed clock."""

    polls_open: datetime
    time_scale: float
    polls_hours: float
    checkpoint_hours: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.polls_open.tzinfo is None:
            raise ValueError("polls_open must be timezone-aware")
        if self.time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {self.time_scale}")

    @classmethod
    def of(cls, preset: Preset) -> Clock:
        tz = timezone(timedelta(hours=preset.utc_offset_h))
        opened = datetime.combine(preset.election_date, time(preset.open_hour), tzinfo=tz)
        return cls(opened, preset.time_scale, preset.polls_hours, preset.checkpoint_hours)

    def seconds(self, hours: float) -> float:
        """Compressed seconds after polls open for `hours` of the real voting day."""
        return round(hours * 3600.0 / self.time_scale, 3)

    @property
    def close_s(self) -> float:
        return self.seconds(self.polls_hours)

    @property
    def checkpoints_s(self) -> np.ndarray:
        return np.array([self.seconds(h) for h in self.checkpoint_hours])

    @property
    def polls_close(self) -> datetime:
        return self.at(self.close_s)

    @property
    def checkpoints(self) -> tuple[datetime, ...]:
        return tuple(self.at(t) for t in self.checkpoints_s)

    def at(self, t_s: float) -> datetime:
        """The wall-clock time `t_s` seconds after polls open (to the millisecond)."""
        return self.polls_open + timedelta(milliseconds=round(float(t_s) * 1000.0))

    def interval_index(self, t_s: np.ndarray | float) -> np.ndarray:
        """Checkpoint interval of each time: 0 up to the first checkpoint, ...; the last
        interval also takes everything after the close (voters still in line vote)."""
        idx = np.searchsorted(self.checkpoints_s, np.asarray(t_s, dtype=float), side="left")
        return np.minimum(idx, len(self.checkpoint_hours) - 1)


def arrival_intensity(hours: np.ndarray) -> np.ndarray:
    """Relative rate of voters arriving `hours` after polls open (real, uncompressed hours)."""
    h = np.asarray(hours, dtype=float)
    morning = np.exp(-0.5 * ((h - 2.5) / 1.3) ** 2)
    evening = 0.75 * np.exp(-0.5 * ((h - 8.7) / 1.4) ** 2)
    return 0.35 + morning + evening


def _cdf(polls_hours: float) -> tuple[np.ndarray, np.ndarray]:
    grid = np.linspace(0.0, polls_hours, _GRID)
    dens = arrival_intensity(grid)
    cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2.0)])
    return grid, cdf / cdf[-1]


def interval_shares(checkpoint_hours: tuple[float, ...], polls_hours: float) -> np.ndarray:
    """Expected share of the day's voters in each checkpoint interval."""
    grid, cdf = _cdf(polls_hours)
    cum = np.interp(np.asarray(checkpoint_hours, dtype=float), grid, cdf)
    return np.diff(np.concatenate([[0.0], cum]))


def sample_arrival_hours(rng: np.random.Generator, n: int, polls_hours: float) -> np.ndarray:
    """`n` sorted arrival times in real hours after polls open, drawn from the day's shape."""
    grid, cdf = _cdf(polls_hours)
    return np.sort(np.interp(rng.random(n), cdf, grid))
