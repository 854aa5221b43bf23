"""The visible fill level of a transparent ballot box through the day, from the counter's
watcher series (`counting/series`: the pile's top edge in pixels above the box's bottom).

A sample is read only where the counter reads it too: the edge stands out from what the box
shows above it (`fill_contrast` ≥ `DropFinderOptions.min_contrast`) and is not on one of the
box's own bright edges (`fill_line` > `DropFinderOptions.line_rows`). Someone passing in front
of the box shifts the edge for a moment, so the level is a running median over a few seconds
of readable samples; `fill_level` is that height as a share of the box's height (0 empty, 1
full to the lid). A camera nudged during the day shows the box in several steady views
(`pollwatch.counting.views`), each watched on its own zone: each view's samples are smoothed
on their own and brought to the reference view's scale (the box's height there), so the
level runs on across a nudge. `rise_between` measures how far the pile rose across a stretch
of time, from the levels held just before and just after it; `rise_around`, across a period
the box could not be watched, from the nearest levels read on either side; `rise_held`, from
before a stretch to the level read again well after it (whether a rise lasted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pollwatch.counting.drop_options import DropFinderOptions

__all__ = [
    "FILL_COLUMNS",
    "FillCurve",
    "ViewHeight",
    "counting_curve",
    "fill_curve",
    "readable_samples",
    "rise_around",
    "rise_between",
    "rise_held",
]

FILL_COLUMNS = ["t_s", "fill_px", "fill_level"]

# (start_s, end_s, box height px) of one steady view of the box
ViewHeight = tuple[float, float, float]


@dataclass(frozen=True, eq=False)
class FillCurve:
    """A camera's pile level: `samples` (t_s, fill_px: the running median at every readable
    watcher sample) and the box's height `box_h` in pixels."""

    samples: pd.DataFrame
    box_h: float

    def __post_init__(self) -> None:
        if not self.box_h > 0:
            raise ValueError(f"box_h must be positive, got {self.box_h}")
        missing = [c for c in ("t_s", "fill_px") if c not in self.samples]
        if missing:
            raise ValueError(f"samples lack column(s) {missing}")

    @property
    def readable(self) -> bool:
        """Whether the pile could be read at all."""
        return len(self.samples) > 0

    def level_near(self, t0: float, t1: float) -> float:
        """Median pile height (pixels) of the readable samples in [t0, t1]; NaN if none."""
        t = self.samples["t_s"].to_numpy(float)
        sel = (t >= t0) & (t <= t1)
        if not sel.any():
            return np.nan
        return float(np.median(self.samples["fill_px"].to_numpy(float)[sel]))

    def resampled(self, every_s: float = 1.0) -> pd.DataFrame:
        """The level every `every_s` seconds (`FILL_COLUMNS`; NaN where unreadable for more
        than two steps): what out/box_fill.csv holds."""
        if not every_s > 0:
            raise ValueError(f"every_s must be positive, got {every_s}")
        if self.samples.empty:
            return pd.DataFrame({c: pd.Series(dtype=float) for c in FILL_COLUMNS})
        t = self.samples["t_s"].to_numpy(float)
        grid = np.arange(np.floor(t[0]), t[-1] + every_s, every_s)
        frame = pd.DataFrame({"t_s": t, "fill_px": self.samples["fill_px"].to_numpy(float)})
        bins = np.floor((t - grid[0]) / every_s).astype(int)
        per_bin = frame.groupby(bins)["fill_px"].median()
        px = np.full(len(grid), np.nan)
        px[per_bin.index.to_numpy()] = per_bin.to_numpy()
        # bridge a short unreadable stretch (someone in front of the box for a moment)
        px = pd.Series(px).ffill(limit=2).to_numpy(float)
        level = np.clip(px / self.box_h, 0.0, 1.0)
        return pd.DataFrame({"t_s": grid, "fill_px": px, "fill_level": level})


def fill_curve(
    series: pd.DataFrame,
    box_h: float,
    *,
    window_s: float = 3.0,
    options: DropFinderOptions | None = None,
    views: Sequence[ViewHeight] = (),
    hidden: Sequence[tuple[float, float]] = (),
) -> FillCurve:
    """The pile level of a watcher series (`pollwatch.counting.watcher.SERIES_COLUMNS`) of a
    box `box_h` pixels tall: readable samples only, each the running median of the readable
    samples within `window_s` seconds around it. `views` (start_s, end_s, height px), for a
    camera nudged during the day: each view's samples are smoothed apart and scaled by
    `box_h` / the view's height (the level in pixels of the reference view); samples outside
    every view, and views of no positive height, are dropped. Samples within a `hidden`
    range (start_s, end_s: the box not in view, blocked, dark) are not the pile's and are
    dropped too (demo 82: someone in front of the box read 11 ballots low for 8 s)."""
    if not box_h > 0:
        raise ValueError(f"box_h must be positive, got {box_h}")
    if not window_s > 0:
        raise ValueError(f"window_s must be positive, got {window_s}")
    o = options or DropFinderOptions()
    needed = ("t_s", "fill", "fill_contrast")
    missing = [c for c in needed if c not in series]
    if missing:
        raise ValueError(f"series lacks column(s) {missing}")
    fill = series["fill"].to_numpy(float)
    ok = readable_samples(series, o)
    all_t = series["t_s"].to_numpy(float)
    for a, b in hidden:
        ok &= (all_t < a) | (all_t > b)
    t = all_t[ok]
    fv = fill[ok]
    spans = views or [(-np.inf, np.inf, float(box_h))]
    parts_t, parts_px = [], []
    for a, b, h in spans:
        sel = (t >= a) & (t < b) if b > a else np.zeros(len(t), bool)
        if not h > 0 or not sel.any():
            continue
        parts_t.append(t[sel])
        parts_px.append(_running_median(t[sel], fv[sel], window_s) * (float(box_h) / h))
    if not parts_t:
        empty = np.zeros(0)
        return FillCurve(pd.DataFrame({"t_s": empty, "fill_px": empty}), float(box_h))
    tt, px = np.concatenate(parts_t), np.concatenate(parts_px)
    order = np.argsort(tt, kind="stable")
    return FillCurve(pd.DataFrame({"t_s": tt[order], "fill_px": px[order]}), float(box_h))


def counting_curve(curve: FillCurve | None, step_px: float) -> FillCurve | None:
    """`curve` where its pile can count ballots (a readable curve and a finite, positive
    `step_px`, the pixels one ballot raises it), else None."""
    if curve is None or not curve.readable or not (np.isfinite(step_px) and step_px > 0):
        return None
    return curve


def readable_samples(series: pd.DataFrame, options: DropFinderOptions | None = None) -> np.ndarray:
    """Which of the watcher's samples (t_s, fill, fill_contrast, fill_line) read the pile: a
    level with `min_contrast` at least, its edge more than `line_rows` rows from the box's own
    edges where `fill_line` is measured (a NaN there is not readable)."""
    o = options or DropFinderOptions()
    ok = np.isfinite(series["fill"].to_numpy(float))
    ok &= series["fill_contrast"].to_numpy(float) >= o.min_contrast
    if "fill_line" in series:
        ok &= series["fill_line"].to_numpy(float) > o.line_rows
    return ok


def _running_median(t: np.ndarray, values: np.ndarray, window_s: float) -> np.ndarray:
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.1
    k = max(3, round(window_s / max(dt, 1e-3)) | 1)
    return pd.Series(values).rolling(k, center=True, min_periods=1).median().to_numpy(float)


def rise_between(
    curve: FillCurve,
    start_s: float,
    end_s: float,
    *,
    settle_s: float = 2.5,
    not_before: float = -np.inf,
    not_after: float = np.inf,
) -> float:
    """How many pixels the pile rose from before `start_s` to after `end_s`: the level held
    in the 4 s before `start_s` (not before `not_before`: the level settled after what came
    earlier) against the level 4 s long from `settle_s` after `end_s` (a new level may show
    fully only at the encoder's next keyframe) and not past `not_after` (the next ballot seen
    going in); NaN when either side cannot be read (then a wider look, 10 s, is tried). The
    before side never reaches back past `not_before`: an episode that starts less than 0.3 s
    after it (one 2.5-2.8 s after the previous episode, whose level has not settled yet) has
    no level of its own before it and gets NaN, rather than a rise that holds the previous
    episode's ballots too (about 2%: 13 of 657 gaps between drops over 2.5 s on 13 analysed
    fresh cases of sessions 5 and 6 were 2.5-2.8 s). The after side stops at the next ballot
    for the same reason: with a voter 3 s after a single one, the level 2.5-6.5 s after it
    held both (session 8, legitimate single ballots on the 640x360 tuning cameras: 70 of
    1267 with a readable pile read 2 ballots or more; stopping there, 17 of 1236).
    """
    if end_s < start_s:
        raise ValueError(f"end_s {end_s} is before start_s {start_s}")
    for span in (4.0, 10.0):
        before = curve.level_near(max(start_s - span, not_before), start_s - 0.3)
        after = curve.level_near(end_s + settle_s, min(end_s + settle_s + span, not_after))
        if np.isfinite(before) and np.isfinite(after):
            return after - before
    return np.nan


def rise_around(
    curve: FillCurve,
    start_s: float,
    end_s: float,
    *,
    settle_s: float = 2.5,
    look_s: float = 60.0,
    span_s: float = 4.0,
) -> tuple[float, float, float]:
    """How many pixels the pile rose across a period the box could not be watched
    (`start_s`..`end_s`), from the nearest levels read on either side: the last `span_s`
    seconds of readable samples before it and the first `span_s` seconds from `settle_s`
    after it, each within `look_s` seconds of the period (around a blocked or dark box the
    pile is often hidden a while longer: someone in front of it, a voter's drop). Returns the
    rise and the span it covers (from the first sample of the level before to the last of the
    level after), so that the ballots counted within that span can be taken off; NaN rise
    (and span the period) where either side cannot be read."""
    if end_s < start_s:
        raise ValueError(f"end_s {end_s} is before start_s {start_s}")
    if not look_s > 0 or not span_s > 0:
        raise ValueError("look_s and span_s must be positive")
    t = curve.samples["t_s"].to_numpy(float)
    before = t[(t < start_s - 0.3) & (t >= start_s - look_s)]
    after = t[(t > end_s + settle_s) & (t <= end_s + look_s)]
    if not before.size or not after.size:
        return np.nan, float(start_s), float(end_s)
    t0, t1 = float(before.max()) - span_s, float(after.min()) + span_s
    rise = curve.level_near(float(after.min()), t1) - curve.level_near(t0, float(before.max()))
    return rise, t0, t1


def rise_held(
    curve: FillCurve, span: tuple[float, float], *, after_s: float = 8.5, look_s: float = 120.0
) -> float:
    """How many pixels above its level before a stretch (`span`: start_s, end_s) the pile
    still stands well after it: the level of the first 4 s of readable samples from `after_s`
    after end_s (past the 2.5-6.5 s `rise_between` reads the level after from) up to `look_s`
    after it, against the level held in the 4 s (else 10 s) before start_s. NaN where either
    cannot be read. A pile a stuffer raised stays up; a level read high only while someone
    stands at or behind the box falls back (demo-clean 101: 55 px before a voter, 71 px for
    4 s while a second one stepped behind the box, 57-59 px in unreadable samples after)."""
    start_s, end_s = span
    if end_s < start_s:
        raise ValueError(f"end_s {end_s} is before start_s {start_s}")
    if not (after_s >= 0 and look_s > 0):
        raise ValueError(f"after_s must be >= 0 and look_s positive, got {after_s}, {look_s}")
    before = np.nan
    for width in (4.0, 10.0):
        before = curve.level_near(start_s - width, start_s - 0.3)
        if np.isfinite(before):
            break
    t = curve.samples["t_s"].to_numpy(float)
    later = t[(t >= end_s + after_s) & (t <= end_s + look_s)]
    if not np.isfinite(before) or not later.size:
        return np.nan
    first = float(later.min())
    return curve.level_near(first, first + 4.0) - before
