"""Voter visits at the ballot box from the slot crops alone, one per person.

The slot crops (`VoterCrops`) are taken while someone stands at the ballot box, a few per
second. A *run* is a stretch of them with no gap over `run_gap_s`; a run shorter than
`min_dwell_s` is someone passing by, a longer one is people voting (a vote keeps a voter at
the slot for seconds). So voters are found whether or not the ballot counter counted the drop.

A group's members often stand at the box together and vote seconds apart: one run then shows
several people, one after another in front of the slot. The run's crops are split into people
by their part colours (`PartColourEmbedder.part_colours`, in the units of its Gaussian kernel):
at the change of person where the mean colours of the `window` crops before and after are least
alike, while they are not alike (kernel < `alike`), each side keeps `min_crops` crops and the
run holds at most one person per `per_person_s` seconds (+1: pose and shading must not make
one voter two); then again on each side. The visit's time is the median of its person's crop
times (a voter drops the ballot mid-way through the dwell).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["VisitRules", "slot_runs", "slot_visits"]


@dataclass(frozen=True)
class VisitRules:
    """How slot crops become voter visits (see module doc)."""

    run_gap_s: float = 1.0
    min_dwell_s: float = 3.0
    alike: float = 0.5
    min_crops: int = 3
    per_person_s: float = 4.0
    window: int = 6

    def __post_init__(self) -> None:
        for name in ("run_gap_s", "min_dwell_s", "per_person_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0 < self.alike < 1:
            raise ValueError(f"alike must be in (0, 1), got {self.alike!r}")
        if not isinstance(self.min_crops, int) or self.min_crops < 1:
            raise ValueError(f"min_crops must be an integer >= 1, got {self.min_crops!r}")
        if not isinstance(self.window, int) or self.window < self.min_crops:
            raise ValueError(f"window must be an integer >= min_crops, got {self.window!r}")


def slot_runs(times: np.ndarray, run_gap_s: float) -> list[tuple[int, int]]:
    """(first, last + 1) indices of each run of sorted `times` with no gap over `run_gap_s`."""
    t = np.asarray(times, np.float64)
    if not len(t):
        return []
    breaks = np.flatnonzero(np.diff(t) > run_gap_s) + 1
    starts = np.r_[0, breaks]
    ends = np.r_[breaks, len(t)]
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def _split(x: np.ndarray, min_crops: int, window: int) -> tuple[int, float]:
    """The best change of person in the time-ordered rows of `x`: the row k (both sides at
    least `min_crops` rows) where the mean colours of the `window` rows before and after it
    are least alike; (k, their kernel), or (0, 1.0) when no split is possible."""
    n = len(x)
    if n < 2 * min_crops:
        return 0, 1.0
    csum = np.vstack([np.zeros(x.shape[1]), np.cumsum(x, axis=0)])
    best, best_kernel = 0, 1.0
    for k in range(min_crops, n - min_crops + 1):
        a, b = max(0, k - window), min(n, k + window)
        head = (csum[k] - csum[a]) / (k - a)
        tail = (csum[b] - csum[k]) / (b - k)
        kernel = float(np.exp(-0.5 * ((head - tail) ** 2).sum()))
        if kernel < best_kernel:
            best, best_kernel = k, kernel
    return best, best_kernel


def _people(
    x: np.ndarray, alike: float, min_crops: int, most: int, window: int
) -> list[np.ndarray]:
    """Row indices of `x` (time-ordered scaled colours) per person: split at the best change
    of colour while the two sides' mean colours are not alike (kernel < `alike`), each side
    keeps `min_crops` rows, and at most `most` people result."""
    parts = [np.arange(len(x))]
    while len(parts) < most:
        options = [(_split(x[p], min_crops, window), i) for i, p in enumerate(parts)]
        (k, kernel), i = min(options, key=lambda o: o[0][1])
        if k == 0 or kernel >= alike:
            break
        p = parts.pop(i)
        parts[i:i] = [p[:k], p[k:]]
    return parts


def slot_visits(
    times: np.ndarray, colours: list[np.ndarray | None], rules: VisitRules | None = None
) -> list[tuple[float, np.ndarray]]:
    """The voter visits shown by a camera's slot crops taken at sorted `times` with part
    colours `colours` (scaled so that the kernel's sigma is 1; None: crop unusable): (time,
    indices of the visit's crops) per visit, in time order (see module doc)."""
    rules = VisitRules() if rules is None else rules
    times = np.asarray(times, np.float64)
    if len(colours) != len(times):
        raise ValueError(f"one colour row per time expected, got {len(colours)} for {len(times)}")
    if np.any(np.diff(times) < 0):
        raise ValueError("times must be sorted")
    out: list[tuple[float, np.ndarray]] = []
    for a, b in slot_runs(times, rules.run_gap_s):
        if times[b - 1] - times[a] < rules.min_dwell_s:
            continue
        keep = np.array([k for k in range(a, b) if colours[k] is not None], np.int64)
        if len(keep) < rules.min_crops:
            continue
        x = np.stack([colours[k] for k in keep])
        most = int((times[b - 1] - times[a]) / rules.per_person_s) + 1
        for p in _people(x, rules.alike, rules.min_crops, most, rules.window):
            idx = np.sort(keep[p])
            out.append((float(np.median(times[idx])), idx))
    out.sort(key=lambda v: v[0])
    return out
