"""Time-range arithmetic for the audit: turn per-sample flags into ranges, merge, subtract.

Every function takes and returns tuples of `TimeRange` sorted by start and non-overlapping.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np

from pollwatch.audit.types import TimeRange

__all__ = [
    "clip_ranges",
    "fill_between",
    "invert_ranges",
    "merge_ranges",
    "ranges_from_samples",
    "subtract_ranges",
    "total_duration",
    "union_ranges",
]


def merge_ranges(
    ranges: Iterable[TimeRange], *, max_gap: float = 0.0, min_duration: float = 0.0
) -> tuple[TimeRange, ...]:
    """Sort, join ranges that overlap or lie at most `max_gap` s apart, drop those shorter
    than `min_duration` s (after joining)."""
    if max_gap < 0:
        raise ValueError(f"max_gap must be >= 0, got {max_gap}")
    if min_duration < 0:
        raise ValueError(f"min_duration must be >= 0, got {min_duration}")
    out: list[TimeRange] = []
    for r in sorted(ranges):
        if r.duration <= 0:
            continue
        if out and r.start - out[-1].end <= max_gap:
            out[-1] = TimeRange(out[-1].start, max(out[-1].end, r.end))
        else:
            out.append(r)
    return tuple(r for r in out if r.duration >= min_duration)


def union_ranges(*groups: Iterable[TimeRange]) -> tuple[TimeRange, ...]:
    """The union of several groups of ranges."""
    return merge_ranges(r for g in groups for r in g)


def ranges_from_samples(
    times: Sequence[float] | np.ndarray,
    flags: Sequence[bool] | np.ndarray,
    *,
    step: float,
    max_gap: float = 0.0,
    min_duration: float = 0.0,
) -> tuple[TimeRange, ...]:
    """Ranges where `flags` hold, from samples taken at increasing `times`.

    A sample at t covers [t, next sample) but at most `step` seconds, so a missing stretch of
    samples is not filled in. Runs closer than `max_gap` s are joined (short interruptions),
    then runs shorter than `min_duration` s are dropped.
    """
    t = np.asarray(times, dtype=float)
    f = np.asarray(flags, dtype=bool)
    if t.shape != f.shape or t.ndim != 1:
        raise ValueError(f"times and flags must be 1-D of one length, got {t.shape}, {f.shape}")
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    if t.size > 1 and np.any(np.diff(t) < 0):
        raise ValueError("times must be increasing")
    if t.size == 0:
        return ()
    ends = np.minimum(np.append(t[1:], np.inf), t + step)
    # a run continues while flags hold and each sample's coverage reaches the next sample
    joined = f[:-1] & f[1:] & (ends[:-1] >= t[1:])
    starts = np.flatnonzero(f & ~np.r_[False, joined])
    stops = np.flatnonzero(f & ~np.r_[joined, False])
    runs = [TimeRange(float(t[a]), float(ends[b])) for a, b in zip(starts, stops, strict=True)]
    return merge_ranges(runs, max_gap=max_gap, min_duration=min_duration)


def fill_between(
    values: np.ndarray,
    unknown: np.ndarray,
    t: np.ndarray | None = None,
    max_s: float | None = None,
) -> np.ndarray:
    """`values` per sample with each stretch of `unknown` samples between two known samples
    of one value given that value (when `max_s` is given, only stretches whose samples `t`
    span at most `max_s`): what held before and after a moment that could not be judged
    held through it."""
    out = values.copy()
    for a, b in itertools.pairwise(np.flatnonzero(~unknown)):
        short = max_s is None or t is None or t[b - 1] - t[a + 1] <= max_s
        if b > a + 1 and values[a] == values[b] and short:
            out[a + 1 : b] = values[a]
    return out


def total_duration(ranges: Iterable[TimeRange]) -> float:
    """Seconds covered by the ranges (overlaps counted once)."""
    return float(sum(r.duration for r in merge_ranges(ranges)))


def clip_ranges(ranges: Iterable[TimeRange], start: float, end: float) -> tuple[TimeRange, ...]:
    """The parts of the ranges inside [start, end)."""
    out = []
    for r in merge_ranges(ranges):
        a, b = max(r.start, start), min(r.end, end)
        if b > a:
            out.append(TimeRange(a, b))
    return tuple(out)


def invert_ranges(ranges: Iterable[TimeRange], start: float, end: float) -> tuple[TimeRange, ...]:
    """The parts of [start, end) not covered by the ranges."""
    if end < start:
        raise ValueError(f"end {end} < start {start}")
    out = []
    cursor = start
    for r in clip_ranges(ranges, start, end):
        if r.start > cursor:
            out.append(TimeRange(cursor, r.start))
        cursor = max(cursor, r.end)
    if end > cursor:
        out.append(TimeRange(cursor, end))
    return tuple(out)


def subtract_ranges(
    ranges: Iterable[TimeRange], remove: Iterable[TimeRange]
) -> tuple[TimeRange, ...]:
    """The parts of `ranges` not covered by `remove`."""
    remove = merge_ranges(remove)
    out: list[TimeRange] = []
    for r in merge_ranges(ranges):
        out.extend(invert_ranges(remove, r.start, r.end))
    return tuple(out)
