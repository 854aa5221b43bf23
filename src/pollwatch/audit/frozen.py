"""A frozen picture: the frames stop changing while their timestamps run on.

`FreezeDetector` compares the gray picture every `every_s` (1 s; 0.5 s until session 12, when
pairs 1 s apart halved the audit's gray pictures: docs/audit.md "Session 12") with the one
before; the noise floor below exists once `min_pool` (5) live pairs were seen (10 at 0.5 s:
the same first 5 s). The figures below were measured with pairs 0.5 s apart. A live
camera's picture always changes a little — sensor noise survives the encoder — so a pair is
frozen when it changed much less than this camera's live pairs do: its mean absolute
difference is under `rel` (0.5) times the noise floor, the 5th percentile of the last `pool`
live, lit pairs (a low one: people moving raise most pairs far above the noise of a still
room). A bit-identical pair (under `identical_mad` 0.05 grey levels and `identical_share`
0.05 % of the pixels changed) is frozen whatever the floor.

Measured on the simulator's H.264 (x264 superfast, 2 s GOP): at 320×180 and 300 kbit/s, live
pairs 0.5 s apart differ by 1.07–1.98 grey levels, frozen pairs by 0.001–0.14 within a GOP
and 0.3–0.75 across a keyframe, which re-encodes the still picture (those single pairs are
bridged by `max_gap_s`); at 640×360 and 1 Mbit/s (analysed at 320 px) a still room's live
pairs differ by 0.47–0.6 within a GOP and 1.05 across a keyframe, with people moving by 1–10
(a 25th percentile floor of 1.38 there called the still room frozen). In the first second
after a freeze the encoder still refines the picture (pairs 0.7–1.5, as far apart as live
ones), so the first frozen pair came up to a second late: short freezes were 93% covered
(azerbaijan-2024 seed 68: a 14.5-s freeze found from 0.78 s after its start). When a run
starts, the pictures of the `settle_s` (1 s) before its first that lie nearer to the picture
ending its first pair than `settle_rel` (1.25) times the floor, each farther from it than the
one after, join the run (walking back from the newest, stopping at the first that does not):
the encoder was still refining them towards the held picture. Measured on the 12 freezes of
the tuning seeds (azerbaijan-2024 61, 62, 66-68; demo 52, 54, 73, 78): refining pictures
0.52-1.10 floors from it, live ones before the freeze 1.37-11.6 (the last live frame, which
may be the one held, 0.82-1.14); the starts then lie 0.33 s early to 0.15 s late (before: up
to 0.9 s late), the frozen time covered 97.9 -> 99.6%, the false share of the flagged time
0.7 -> 1.1%. Only a run's start moves, by at most `settle_s`: a camera with no frozen run is
unchanged. In a still room of pure sensor noise (no encoder) a live picture is as near to the
held one as the refining ones are, and a run may start up to `settle_s` early.

A run's ends are placed half a sampling interval beyond its first and last frozen picture (the
middle of the interval in which the change happened). Runs shorter than `min_s` are dropped.
A flat, perfectly still room whose noise the encoder removes decodes bit-identical too: no
pixel test tells it from a frozen camera.
"""

from __future__ import annotations

import math
from collections import deque

import cv2
import numpy as np

from pollwatch.audit.ranges import merge_ranges
from pollwatch.audit.types import TimeRange

__all__ = ["FreezeDetector", "frame_difference"]


def frame_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean absolute difference and the share of pixels differing by more than 1 level."""
    d = _absdiff(a, b)
    return float(cv2.mean(d)[0]), _changed_share(d)


def _absdiff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.shape != b.shape:
        raise ValueError(f"frames differ in shape: {a.shape} vs {b.shape}")
    return cv2.absdiff(a, b)


def _changed_share(d: np.ndarray) -> float:
    """The share of an absolute difference's pixels over 1 level."""
    return cv2.countNonZero(cv2.threshold(d, 1, 255, cv2.THRESH_BINARY)[1]) / d.size


class FreezeDetector:
    """Streaming frozen-picture detector (see the module doc); feed it one gray picture every
    `every_s` with `feed(t, gray, lit)`, read `ranges()`."""

    def __init__(
        self,
        *,
        every_s: float = 1.0,
        rel: float = 0.5,
        identical_mad: float = 0.05,
        identical_share: float = 0.0005,
        pool: int = 1200,
        min_pool: int = 5,
        min_s: float = 5.0,
        max_gap_s: float = 2.0,
        settle_s: float = 1.0,
        settle_rel: float = 1.25,
    ) -> None:
        checks = {
            "every_s": (every_s, 0.04 <= every_s <= 10),
            "rel": (rel, 0 < rel < 1),
            "identical_mad": (identical_mad, identical_mad >= 0),
            "identical_share": (identical_share, 0 <= identical_share < 1),
            "pool": (pool, pool >= min_pool),
            "min_pool": (min_pool, min_pool >= 1),
            "min_s": (min_s, min_s >= 0),
            "max_gap_s": (max_gap_s, max_gap_s >= 0),
            "settle_s": (settle_s, settle_s >= 0),
            "settle_rel": (settle_rel, 0 <= settle_rel <= 2),
        }
        for name, (value, ok) in checks.items():
            if not ok:
                raise ValueError(f"{name} is out of range: {value!r}")
        self.every_s, self.rel = every_s, rel
        self.identical_mad, self.identical_share = identical_mad, identical_share
        self.pool_size, self.min_pool = pool, min_pool
        self.min_s, self.max_gap_s = min_s, max_gap_s
        self.settle_s, self.settle_rel = settle_s, settle_rel
        self.reset()

    def reset(self) -> None:
        """Forget everything seen."""
        self._pool: deque[float] = deque(maxlen=self.pool_size)
        self._floor, self._fresh = math.nan, 0  # the floor, and pool additions since
        self._prev: tuple[float, np.ndarray] | None = None
        self._lit = False  # whether the previous picture was lit
        # the lit pictures before the previous one, within `settle_s`, oldest first
        self._recent: deque[tuple[float, np.ndarray]] = deque()
        self._pairs: list[TimeRange] = []
        self._in_run = False
        self.mad: list[tuple[float, float]] = []  # (t, difference to the previous picture)

    @property
    def floor(self) -> float:
        """The live noise floor so far (nan until `min_pool` live pairs were seen)."""
        if len(self._pool) < self.min_pool:
            return math.nan
        if self._fresh or math.isnan(self._floor):  # a percentile costs; ask it when needed
            self._floor = float(np.percentile(np.fromiter(self._pool, float), 5))
            self._fresh = 0
        return self._floor

    def feed(self, t: float, gray: np.ndarray, lit: bool = True) -> None:
        """The picture at `t` s; `lit` False for a dark or black picture (never judged)."""
        prev = self._prev
        if prev is not None and (t - prev[0] > 2.5 * self.every_s or prev[1].shape != gray.shape):
            prev = None  # a gap or a new size: nothing to compare with
        if prev is not None:
            d = _absdiff(prev[1], gray)
            mad = float(cv2.mean(d)[0])
            self.mad.append((t, mad))
            # the share of changed pixels only where the mean allows a bit-identical pair
            identical = mad <= self.identical_mad and _changed_share(d) <= self.identical_share
            # a pair far above the floor is live whatever the floor's last few additions did
            floor = self._floor if mad > self._floor and self._fresh < 20 else self.floor
            frozen = lit and (identical or (floor > 0 and mad < self.rel * floor))
            if frozen:
                if not self._in_run:
                    self._settled_back(prev[0], gray)
                self._pairs.append(TimeRange(prev[0], t))
            elif lit and not identical and not self._in_run:
                self._pool.append(mad)  # a live pair (not a keyframe refresh inside a run)
                self._fresh += 1
            self._in_run = frozen
        self._remember(prev if self._lit else None, t)
        self._prev, self._lit = (t, gray), lit

    def _remember(self, prev: tuple[float, np.ndarray] | None, t: float) -> None:
        """Keep the previous picture among the recent ones; a gap or an unlit picture
        forgets them all."""
        if prev is None:
            self._recent.clear()
            return
        self._recent.append(prev)
        while self._recent and t - self._recent[0][0] > self.settle_s + self.every_s:
            self._recent.popleft()

    def _settled_back(self, first: float, gray: np.ndarray) -> None:
        """A run starts with the pair ending at `gray`: the pictures just before its first
        (at `first` s) that the encoder was still refining towards the held one are nearer
        to it than live pictures are (under `settle_rel` times the floor); they join the run,
        walking back at most `settle_s`."""
        floor = self.floor
        if not floor > 0 or self.settle_rel == 0:
            return
        later, nearer = first, 0.0
        for t, picture in reversed(self._recent):
            if later - t > 2.5 * self.every_s or first - t > self.settle_s:
                return
            mad = float(cv2.mean(_absdiff(picture, gray))[0])
            if mad >= self.settle_rel * floor or mad <= nearer:
                return  # a live picture, or no nearer to the held one than the next
            self._pairs.append(TimeRange(t, later))
            later, nearer = t, mad

    def ranges(self, end: float | None = None) -> tuple[TimeRange, ...]:
        """The frozen runs, each widened by half a sampling interval, ending by `end`."""
        half = self.every_s / 2
        runs = merge_ranges(self._pairs, max_gap=self.max_gap_s)
        out = [TimeRange(max(0.0, r.start - half), r.end + half) for r in runs]
        if end is not None:
            out = [TimeRange(r.start, min(r.end, end)) for r in out if r.start < end]
        return merge_ranges(out, min_duration=self.min_s)
