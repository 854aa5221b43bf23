"""The audit's one value type: a time range in seconds from the recording's first frame.

The audit speaks the video engine's types (`pollwatch.video.Frame`, `AudioChunk`, `Gap`): its
analysers are driven by `analyse_video` in the engine's single decode pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["TimeRange"]


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
