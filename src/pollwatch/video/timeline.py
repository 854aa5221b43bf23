"""Finds the gaps in one recording from its packets: outages, damage and truncation.

The engine feeds every video packet (decoded or not) and every decode failure; the timeline
reorders packet timestamps (B-frames arrive out of order) and reports a `Gap` where they jump,
where packets would not decode, and where the file ends before its declared duration.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime

from pollwatch.errors import InputProblem
from pollwatch.video.frame import Gap, GapKind, wall_time

__all__ = ["Timeline"]

_REORDER_WINDOW = 32  # packets held to put presentation timestamps in order
_BYTE_SKIP = 4096  # a demuxer that jumps more bytes than this between packets skipped damage
_DAMAGE_NEAR_S = 1.0  # damage marks this close to a timestamp jump make it "damaged"


@dataclass
class Timeline:
    """Gap bookkeeping for one recording; times in seconds from the first frame."""

    path: str
    frame_s: float
    min_gap_s: float
    start_time: datetime | None = None
    byte_positions: bool = True  # False where packet positions are not contiguous (MPEG-TS)
    _heap: list[float] = field(default_factory=list)
    _prev: float | None = None
    _last: float | None = None
    _end_byte: int | None = None
    _marks: list[float] = field(default_factory=list)
    _errors: list[float] = field(default_factory=list)
    _error_text: str = ""
    _ready: list[Gap] = field(default_factory=list)
    _emitted: list[Gap] = field(default_factory=list)

    def packet(self, t_s: float, *, pos: int | None, size: int, corrupt: bool) -> None:
        """A demuxed video packet presented at `t_s`."""
        if corrupt:
            self._marks.append(t_s)
        self.any_packet_bytes(pos, size, t_s)
        heapq.heappush(self._heap, t_s)
        if len(self._heap) > _REORDER_WINDOW:
            self._advance(heapq.heappop(self._heap))

    def any_packet_bytes(self, pos: int | None, size: int, t_s: float | None = None) -> None:
        """A packet of any stream at byte `pos`: a jump over many bytes marks damage."""
        if not self.byte_positions or pos is None or pos < 0:
            return
        if self._end_byte is not None and pos - self._end_byte > _BYTE_SKIP:
            if t_s is None:
                t_s = self._last if self._last is not None else 0.0
            self._marks.append(t_s)
        self._end_byte = pos + size

    def decode_failed(self, t_s: float, error: str) -> None:
        """The packet presented at `t_s` could not be decoded."""
        self._marks.append(t_s)
        self._errors.append(t_s)
        self._error_text = error

    def decode_succeeded(self) -> None:
        """A packet decoded: closes a run of failures into a "damaged" gap."""
        if not self._errors:
            return
        start, end = min(self._errors), max(self._errors) + self.frame_s
        n = len(self._errors)
        self._errors = []
        self._emit(
            start, end, "damaged", f"{n} video packet(s) would not decode ({self._error_text})"
        )

    def pop_ready(self, before_s: float | None = None) -> list[Gap]:
        """Gaps found so far that start before `before_s` (all when None), in time order."""
        self._ready.sort(key=lambda g: g.start_s)
        if before_s is None:
            out, self._ready = self._ready, []
        else:
            out = [g for g in self._ready if g.start_s < before_s]
            self._ready = self._ready[len(out) :]
        return out

    def finish(self, declared_s: float | None, *, demux_error: str | None = None) -> None:
        """The packets ended: flush the reorder window, then report a short or broken end."""
        self.decode_succeeded()
        while self._heap:
            self._advance(heapq.heappop(self._heap))
        end = 0.0 if self._last is None else self._last + self.frame_s
        if demux_error is not None:
            self._emit(
                end, declared_s, "damaged", f"the file could not be read further ({demux_error})"
            )
        elif declared_s is not None and declared_s - end > max(self.min_gap_s, 2 * self.frame_s):
            self._emit(
                end,
                declared_s,
                "truncated",
                f"the file ends before its declared {declared_s:.2f} s",
            )

    @property
    def gaps(self) -> list[Gap]:
        """Every gap found so far, in time order."""
        return sorted(self._emitted, key=lambda g: g.start_s)

    @property
    def last_s(self) -> float | None:
        """The presentation time of the last packet seen."""
        return self._last

    def _advance(self, t_s: float) -> None:
        prev = self._prev
        if prev is not None and t_s > prev:
            hole = t_s - prev - self.frame_s
            if hole >= self.min_gap_s:
                near = any(prev - _DAMAGE_NEAR_S <= m <= t_s + _DAMAGE_NEAR_S for m in self._marks)
                if near:
                    self._emit(prev + self.frame_s, t_s, "damaged", "damaged data was skipped")
                else:
                    self._emit(prev + self.frame_s, t_s, "outage", "no frames were recorded")
        if prev is None or t_s > prev:
            self._prev = t_s
        self._last = self._prev
        if self._marks and self._marks[0] < t_s - 10 * _DAMAGE_NEAR_S:
            self._marks = [m for m in self._marks if m >= t_s - _DAMAGE_NEAR_S]

    def _emit(self, start: float, end: float | None, kind: GapKind, why: str) -> None:
        length = "to the end" if end is None else f"for {end - start:.2f} s"
        problem = InputProblem(
            file=self.path, message=f"no usable video {length}: {why}", time_s=start
        )
        gap = Gap(
            start_s=start,
            end_s=end,
            kind=kind,
            message=str(problem),
            start_wall=wall_time(self.start_time, start),
            end_wall=wall_time(self.start_time, end),
        )
        self._ready.append(gap)
        self._emitted.append(gap)
