"""Finds the gaps in one recording from its packets: outages, damage and truncation.

The engine feeds every video packet (decoded or not), every decoded frame's time and every
decode failure. A jump in decode timestamps (which always increase) opens a hole at once, before
any frame after it is decoded; the hole starts where the last frame before it ends and ends at
the first frame shown after it. Packets that would not decode make a "damaged" gap, and a file
that ends before its declared duration a "truncated" one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pollwatch.video.frame import Gap, GapKind, wall_time

__all__ = ["Timeline"]

_BYTE_SKIP = 4096  # a demuxer that jumps more bytes than this between packets skipped damage
_DAMAGE_NEAR_S = 1.0  # damage marks this close to a timestamp jump make it "damaged"
_HOLE_PACKETS = 8  # without decoding, a hole ends at the earliest of this many packets after it


@dataclass
class _Hole:
    start: float
    kind: GapKind
    why: str
    packets: int = 0
    earliest: float = float("inf")


@dataclass
class Timeline:
    """Gap bookkeeping for one recording; times in seconds from the first frame."""

    path: str
    frame_s: float
    min_gap_s: float
    start_time: datetime | None = None
    byte_positions: bool = True  # False where packet positions are not contiguous (MPEG-TS)
    decoding: bool = True  # False when no frame is decoded: holes close on packet times
    every_frame: bool = True  # every frame is decoded: missing ones show damage
    _last_frame: float | None = None
    _last_dts: float | None = None
    _max_pts: float | None = None
    _hole: _Hole | None = None
    _end_byte: int | None = None
    _marks: list[float] = field(default_factory=list)
    _errors: list[float] = field(default_factory=list)
    _error_text: str = ""
    _ready: list[Gap] = field(default_factory=list)
    _emitted: list[Gap] = field(default_factory=list)

    def packet(
        self, pts_s: float | None, dts_s: float | None, *, pos: int | None, size: int, corrupt: bool
    ) -> None:
        """A demuxed video packet (times in seconds; either may be unknown)."""
        t = pts_s if pts_s is not None else dts_s
        if corrupt and t is not None:
            self._marks.append(t)
        self.any_packet_bytes(pos, size, t)
        last = self._last_dts
        if dts_s is not None:
            if last is not None and dts_s - last - self.frame_s >= self.min_gap_s:
                self._open_hole(last, dts_s)
            if last is None or dts_s > last:
                self._last_dts = dts_s
        if pts_s is None:
            return
        hole = self._hole
        if hole is not None:
            hole.packets += 1
            hole.earliest = min(hole.earliest, pts_s)
            if not self.decoding and hole.packets >= _HOLE_PACKETS:
                self._close_hole(hole.earliest)
        elif self._max_pts is None or pts_s > self._max_pts:
            self._max_pts = pts_s

    def frame(self, pts_s: float) -> None:
        """A frame came out of the decoder: the first one after a hole ends it; with every
        frame decoded, frames missing between two decoded ones are damage the decoder hid."""
        hole = self._hole
        if hole is not None and pts_s >= hole.start:
            self._close_hole(pts_s)
        prev = self._last_frame
        if self.every_frame and prev is not None and pts_s - prev - self.frame_s >= self.min_gap_s:
            start = prev + self.frame_s
            for g in self._emitted:  # report only what no other gap covers
                if g.start_s <= start < (pts_s if g.end_s is None else g.end_s):
                    start = pts_s if g.end_s is None else g.end_s
            if pts_s - start >= self.min_gap_s:
                self._emit(start, pts_s, "damaged", "frames could not be decoded")
        if prev is None or pts_s > prev:
            self._last_frame = pts_s
        if self._max_pts is None or pts_s > self._max_pts:
            self._max_pts = pts_s

    def _open_hole(self, last_dts: float, dts_s: float) -> None:
        if self._hole is not None:
            self._close_hole(self._hole.earliest)
        before = self._max_pts if self._max_pts is not None else last_dts
        near = [m for m in self._marks if last_dts - _DAMAGE_NEAR_S <= m <= dts_s + _DAMAGE_NEAR_S]
        if near:
            self._hole = _Hole(before + self.frame_s, "damaged", "damaged data was skipped")
        else:
            self._hole = _Hole(before + self.frame_s, "outage", "no frames were recorded")
        self._marks = [m for m in self._marks if m > dts_s - _DAMAGE_NEAR_S]

    def _close_hole(self, end: float) -> None:
        hole, self._hole = self._hole, None
        if hole is None:
            return
        if end == float("inf"):
            end = hole.start
        if self._max_pts is None or end > self._max_pts:
            self._max_pts = end
        if end - hole.start >= self.min_gap_s:
            self._emit(hole.start, end, hole.kind, hole.why)

    def skips_bytes(self, pos: int | None) -> bool:
        """Whether a packet at byte `pos` lies beyond a jump over many bytes (damage skipped):
        only then does `any_packet_bytes` need the packet's time."""
        return bool(
            self.byte_positions
            and pos is not None
            and pos >= 0
            and self._end_byte is not None
            and pos - self._end_byte > _BYTE_SKIP
        )

    def any_packet_bytes(self, pos: int | None, size: int, t_s: float | None = None) -> None:
        """A packet of any stream at byte `pos`: a jump over many bytes marks damage."""
        if not self.byte_positions or pos is None or pos < 0:
            return
        end = self._end_byte
        if end is not None and pos - end > _BYTE_SKIP:  # `skips_bytes`, inline
            if t_s is None:
                t_s = self._max_pts if self._max_pts is not None else 0.0
            self._marks.append(t_s)
        self._end_byte = pos + size

    def packet_bytes(self, pos: int | None, size: int) -> bool:
        """`any_packet_bytes(pos, size)` for a packet whose time is needed only when it lies
        beyond a jump over many bytes: then nothing is recorded and False is returned (the
        caller tells `any_packet_bytes` with the time); otherwise True."""
        if not self.byte_positions or pos is None or pos < 0:
            return True
        end = self._end_byte
        if end is not None and pos - end > _BYTE_SKIP:
            return False
        self._end_byte = pos + size
        return True

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

    @property
    def has_ready(self) -> bool:
        """Whether gaps were found since the last `pop_ready_numbered`."""
        return bool(self._ready)

    def pop_ready_numbered(self) -> list[tuple[int, Gap]]:
        """Gaps found since the last call, in time order, each with its number in the order
        gaps were found (0 first; the `found`th gap's number is `found` − 1)."""
        first = len(self._emitted) - len(self._ready)
        numbered = enumerate(self._ready, start=first)
        out, self._ready = sorted(numbered, key=lambda ng: ng[1].start_s), []
        return out

    @property
    def found(self) -> int:
        """How many gaps were found so far."""
        return len(self._emitted)

    def finish(self, declared_s: float | None, *, demux_error: str | None = None) -> None:
        """The packets ended: close what is open, then report a short or broken end."""
        self.decode_succeeded()
        if self._hole is not None:
            self._close_hole(self._hole.earliest)
        end = 0.0 if self._max_pts is None else self._max_pts + self.frame_s
        if demux_error is not None:
            why = f"the file could not be read further ({demux_error})"
            self._emit(end, declared_s, "damaged", why)
        elif declared_s is not None and declared_s - end > max(self.min_gap_s, 2 * self.frame_s):
            why = f"the file ends before its declared {declared_s:.2f} s"
            self._emit(end, declared_s, "truncated", why)

    @property
    def gaps(self) -> list[Gap]:
        """Every gap found so far, in time order."""
        return sorted(self._emitted, key=lambda g: g.start_s)

    @property
    def last_s(self) -> float | None:
        """The presentation time of the last frame (or packet) seen."""
        return self._max_pts

    def _emit(self, start: float, end: float | None, kind: GapKind, why: str) -> None:
        length = "to the end" if end is None else f"for {end - start:.2f} s"
        gap = Gap(
            start_s=start,
            end_s=end,
            kind=kind,
            reason=f"no usable video {length}: {why}",
            file=self.path,
            start_wall=wall_time(self.start_time, start),
            end_wall=wall_time(self.start_time, end),
        )
        self._ready.append(gap)
        self._emitted.append(gap)
