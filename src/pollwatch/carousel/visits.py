"""Voter visits at the ballot box from the slot crops alone, one per person.

The slot crops (`VoterCrops`) are taken while someone stands at the ballot box, a few per
second. A *run* is a stretch of them with no gap over `run_gap_s`; a run shorter than
`min_dwell_s` is someone passing by, a longer one is people voting (a vote keeps a voter at
the slot for seconds). So voters are found whether or not the ballot counter counted the drop.

A group's members often stand at the box together and vote seconds apart: one run then shows
several people. The run's crops are split into people by their part colours
(`PartColourEmbedder.part_colours`, Gaussian kernel of `PartColourEmbedder`): the crop with
most alike crops (kernel >= `alike`) and those alike to it are one person; repeat on the rest.
A person kept needs `min_crops` crops and at most `per_person_s` seconds of the run per
person are kept (a run of 10 s holds at most 10 / `per_person_s` + 1 people: pose and shading
must not make one voter two). The visit's time is the middle of its person's crops (a voter
drops the ballot mid-way through the dwell).
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

    def __post_init__(self) -> None:
        for name in ("run_gap_s", "min_dwell_s", "per_person_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0 < self.alike < 1:
            raise ValueError(f"alike must be in (0, 1), got {self.alike!r}")
        if not isinstance(self.min_crops, int) or self.min_crops < 1:
            raise ValueError(f"min_crops must be an integer >= 1, got {self.min_crops!r}")


def slot_runs(times: np.ndarray, run_gap_s: float) -> list[tuple[int, int]]:
    """(first, last + 1) indices of each run of sorted `times` with no gap over `run_gap_s`."""
    t = np.asarray(times, np.float64)
    if not len(t):
        return []
    breaks = np.flatnonzero(np.diff(t) > run_gap_s) + 1
    starts = np.r_[0, breaks]
    ends = np.r_[breaks, len(t)]
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def _split(x: np.ndarray, min_crops: int) -> tuple[int, float]:
    """The split of the rows of `x` into a head and a tail (both at least `min_crops` rows)
    that lowers the squared distance to their means most: (first row of the tail, kernel
    of the two means); (0, 1.0) when no split is possible."""
    n = len(x)
    if n < 2 * min_crops:
        return 0, 1.0
    csum = np.cumsum(x, axis=0)
    total = csum[-1]
    best, best_gain = 0, -np.inf
    for k in range(min_crops, n - min_crops + 1):
        head, tail = csum[k - 1] / k, (total - csum[k - 1]) / (n - k)
        gain = k * (n - k) / n * float(((head - tail) ** 2).sum())
        if gain > best_gain:
            best, best_gain = k, gain
    head, tail = x[:best].mean(axis=0), x[best:].mean(axis=0)
    return best, float(np.exp(-0.5 * ((head - tail) ** 2).sum()))


def _people(x: np.ndarray, alike: float, min_crops: int, most: int) -> list[np.ndarray]:
    """Row indices of `x` (time-ordered scaled colours) per person: split at the best change
    of colour while the two sides' mean colours are not alike (kernel < `alike`), each side
    keeps `min_crops` rows, and at most `most` people result."""
    parts = [np.arange(len(x))]
    while len(parts) < most:
        options = [(_split(x[p], min_crops), i) for i, p in enumerate(parts)]
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
        for p in _people(x, rules.alike, rules.min_crops, most):
            idx = np.sort(keep[p])
            out.append((float(np.median(times[idx])), idx))
    out.sort(key=lambda v: v[0])
    return out
