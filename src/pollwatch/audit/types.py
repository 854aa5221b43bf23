"""What the camera audit needs from the video engine: three small protocols and a time range.

The engine's own `Frame`, audio chunk and gap types satisfy these structurally; the audit never
imports the engine. All times `t`, `start`, `end` are seconds from the first frame of the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["AudioChunkLike", "FrameLike", "GapLike", "TimeRange"]


@runtime_checkable
class FrameLike(Protocol):
    """A decoded video frame.

    `gray` is a uint8 (H, W) image at analysis scale (any size; the audit downsizes frames wider
    than its working width itself). Analysers read `t` first and touch `gray` only on the frames
    they sample, so an engine may compute `gray` lazily.
    """

    @property
    def t(self) -> float: ...

    @property
    def wall_time(self) -> datetime: ...

    @property
    def gray(self) -> np.ndarray: ...


@runtime_checkable
class AudioChunkLike(Protocol):
    """Decoded audio: `samples` float32 mono in [-1, 1] starting at `t`, at `sample_rate` Hz."""

    @property
    def t(self) -> float: ...

    @property
    def samples(self) -> np.ndarray: ...

    @property
    def sample_rate(self) -> int: ...


@runtime_checkable
class GapLike(Protocol):
    """A stretch of the file with no frames (a timestamp jump), from `start` to `end` seconds."""

    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...


@dataclass(frozen=True, order=True)
class TimeRange:
    """A half-open interval [start, end) in seconds from the first frame of the file."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise ValueError(f"TimeRange needs finite bounds, got {self.start}, {self.end}")
        if self.end < self.start:
            raise ValueError(f"TimeRange end {self.end} < start {self.start}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    def contains(self, t: float) -> bool:
        return self.start <= t < self.end
