"""What the box watcher's series shows, cue by cue, for `pollwatch.counting.drops`.

* ballot patches (`ballot_patches`): a ballot-sized patch of paper-white appears at the lid
  for a fraction of a second and vanishes into the slot (the ballot in a voter's hand);
* hands over the slot (`slot_hands`): the slot's covered share rising for a moment;
* the pile's plateaus (`pile_plateaus`): stretches where its measured edge held still;
* visits (`box_visits`): stretches when someone was at the box.

A patch or a hand is a `Burst`, a plateau a `Plateau`; `rolling_median` and `runs` are the
series helpers these cues and `pollwatch.counting.unobservable` share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pollwatch.counting.arms import arms_in_hand
from pollwatch.counting.drop_options import DropFinderOptions
from pollwatch.counting.observability import Range

__all__ = [
    "Burst",
    "Plateau",
    "ballot_patches",
    "blind_mask",
    "box_visits",
    "pile_plateaus",
    "rolling_median",
    "runs",
    "slot_cover_above",
    "slot_hands",
]

# the running median the slot's cover is read against (`slot_cover_above`)
_SLOT_MEDIAN_S = 4.0


@dataclass(frozen=True)
class Burst:
    """A ballot patch seen at the lid (`ballot_patches`) or a hand over the slot
    (`slot_hands`): when it began and ended, how strong, where it vanished."""

    start: float
    end: float
    peak: float  # a patch: in units of the burst area threshold; a hand (`slot_hands`): the
    # share of the slot covered above its running median
    end_x: float  # where the patch was last seen, box widths from the box's middle
    duration: float  # samples seen × the sampling interval
    reach: bool = False  # a hand over the slot (then `end` is when the ballot went in)
    shaped: bool = False  # a hint that was shaped like a ballot going in at the slot
    arms: tuple[float, float] = (np.nan, np.nan)  # a hand: the most that moved left and right
    # of the slot while it covered it (`pollwatch.counting.arms`; NaN: not measured)
    front_rise: float = 0.0  # a hand: how much more of the box's bottom was hidden while it
    # covered the slot than just before (someone crossing in front during it)
    passing: bool = False  # a covering of the slot taken for someone passing in front of the
    # box (`slot_hands`, `reach_front`), not for a hand
    weak: bool = False  # a hand taken for the same voter's hand before or after their drop
    # (`hands._weak_hands`, `weak_cover`), only a hint

    def clear(self, o: DropFinderOptions) -> bool:
        """A hand over the slot, or shaped like a ballot going in: it vanishes at the slot
        after 0.15 to 1.2 s."""
        if self.reach:
            return True
        return abs(self.end_x) <= o.slot_x and 0.15 - 1e-6 <= self.duration <= 1.2

    def arms_both_sides(self, share: float, least_s: float) -> bool:
        """A hand over the slot lasting `least_s` or more while arms moved on both sides of
        it, each side's moved share at least `share` (`arms`; 0 turns the test off): perhaps
        two voters, one behind the box and one beside, each reaching from where they stand."""
        return (
            self.reach
            and share > 0
            and self.duration >= least_s
            and all(a >= share for a in self.arms)
        )


@dataclass(frozen=True)
class Plateau:
    """A stretch where the pile's edge held still at `level` pixels."""

    start: float
    end: float
    level: float


def rolling_median(values: np.ndarray, times: np.ndarray, window_s: float) -> np.ndarray:
    """Centred running median of `values` over about `window_s` seconds of `times`."""
    if len(values) == 0:
        return values
    dt = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    k = max(1, round(window_s / max(dt, 1e-3)))
    return pd.Series(values).rolling(k | 1, center=True, min_periods=1).median().to_numpy(float)


def runs(mask: np.ndarray, bridge: int = 0) -> list[tuple[int, int]]:
    """(first, last) index of each run of True, joining runs parted by <= `bridge` Falses."""
    out: list[tuple[int, int]] = []
    idx = np.flatnonzero(mask)
    for i in idx:
        if out and i - out[-1][1] <= bridge + 1:
            out[-1] = (out[-1][0], int(i))
        else:
            out.append((int(i), int(i)))
    return out


def ballot_patches(series: pd.DataFrame, box_h: float, o: DropFinderOptions) -> list[Burst]:
    """Ballot-sized patches of new paper-white at the lid (the white series above its running
    median), each lasting `burst_min_s` to `burst_max_s`: a ballot in a voter's hand."""
    t = series["t_s"].to_numpy(float)
    if len(t) < 3:
        return []
    white = series["white"].to_numpy(float)
    xs = series["white_x"].to_numpy(float)
    dt = float(np.median(np.diff(t)))
    high = white - rolling_median(white, t, o.background_s)
    threshold = max(4.0, o.burst_area * box_h * box_h)
    out = []
    # the ballot crosses the lid's edge half-way: bridge a dip of up to two samples
    for i, j in runs(high > 0.5 * threshold, bridge=2):
        peak = float(high[i : j + 1].max()) / threshold
        duration = t[j] - t[i] + dt
        if peak >= 1.0 and o.burst_min_s <= duration <= o.burst_max_s:
            out.append(
                Burst(float(t[i]), float(t[j] + 0.5 * dt), peak, float(xs[j]), float(duration))
            )
    return out


def slot_hands(series: pd.DataFrame, o: DropFinderOptions) -> list[Burst] | None:
    """Hand movements over the slot: runs of the slot's covered share above its running
    median (`slot_cover_above`), joined when under `reach_join_s` apart, at most `reach_max_s`
    long; each placed `reach_lead_s` after the start of its strongest run, with the arms that
    moved beside the slot meanwhile. None when the slot was seen for less than `reach_seen` of
    the samples (no slot on the lid, or not in view)."""
    if "slot_cover" not in series or len(series) < 3:
        return None
    cover = series["slot_cover"].to_numpy(float)
    if np.isfinite(cover).mean() < o.reach_seen:
        return None
    t = series["t_s"].to_numpy(float)
    dt = float(np.median(np.diff(t)))
    high = slot_cover_above(series)
    spans = runs(high > o.reach_cover, bridge=1)
    groups: list[list[tuple[int, int]]] = []
    for i, j in spans:
        if groups and t[i] - t[groups[-1][-1][1]] <= o.reach_join_s:
            groups[-1].append((i, j))
        else:
            groups.append([(i, j)])
    front = series["front"].to_numpy(float) if "front" in series else np.zeros(len(t))
    out = []
    for g in groups:
        start, end = t[g[0][0]], t[g[-1][1]] + dt
        if end - start > o.reach_max_s:
            continue
        # someone passing in front of the box hides the slot too: then only a hint of when
        # (`end_x` infinite: never a clear burst), should the pile have risen
        hand = _passing(t, front, start, end) <= o.reach_front
        rise = _passing(t, front, start, end, after=False)
        i, _ = max(g, key=lambda r: float(high[r[0] : r[1] + 1].sum()))
        peak = float(high[g[0][0] : g[-1][1] + 1].max())
        when = float(t[i]) + o.reach_lead_s
        out.append(
            Burst(
                float(start),
                when,
                peak,
                0.0 if hand else np.inf,
                float(end - start),
                reach=hand,
                arms=arms_in_hand(series, start, end),
                front_rise=rise,
                passing=not hand,
            )
        )
    return out


def slot_cover_above(series: pd.DataFrame) -> np.ndarray:
    """The slot's covered share (`slot_cover`, unseen as 0) above its running median over
    4 s: what `slot_hands` reads a hand from (`reach_cover`)."""
    t = series["t_s"].to_numpy(float)
    cover = np.nan_to_num(series["slot_cover"].to_numpy(float), nan=0.0)
    return cover - rolling_median(cover, t, _SLOT_MEDIAN_S)


def _passing(
    t: np.ndarray, front: np.ndarray, start: float, end: float, *, after: bool = True
) -> float:
    """How much more of the box's bottom was hidden from `start` to `end` than just before
    and just after: someone passing in front hides it for a moment; the first ballots
    changing it for good (paper where the empty box's floor was) do not count. Not `after`:
    than just before only (someone who crossed in front and stayed there)."""

    def level(a: float, b: float) -> float:
        sel = (t >= a) & (t <= b) & np.isfinite(front)
        return float(np.median(front[sel])) if sel.any() else 0.0

    sel = (t >= start) & (t <= end) & np.isfinite(front)
    during = float(front[sel].max()) if sel.any() else 0.0
    before = level(start - 1.0, start - 0.3)
    return during - (max(before, level(end + 0.7, end + 1.5)) if after else before)


def pile_plateaus(t: np.ndarray, fill: np.ndarray, o: DropFinderOptions) -> list[Plateau]:
    """Stretches where the pile's edge held still, in time order, from the valid samples after
    a running median of about a second (someone passing behind the box shifts the measured
    edge for a moment). The pile never sinks, so where a level is followed by a lower one,
    the shorter-lived of the two was an artefact and is dropped."""
    valid = np.isfinite(fill)
    tv, fv = t[valid], fill[valid]
    if len(tv) < o.plateau_samples:
        return []
    dt = float(np.median(np.diff(tv))) if len(tv) > 1 else 0.1
    k = max(3, round(0.9 / max(dt, 1e-3)) | 1)
    smooth = pd.Series(fv).rolling(k, center=True, min_periods=1).median().to_numpy(float)
    raw: list[Plateau] = []
    n, i = len(tv), 0
    while i < n:
        j, level = i, smooth[i]
        while j + 1 < n and abs(smooth[j + 1] - level) <= o.plateau_px and tv[j + 1] - tv[j] < 2.0:
            j += 1
        if j - i + 1 >= o.plateau_samples and tv[j] - tv[i] >= o.plateau_s:
            raw.append(Plateau(float(tv[i]), float(tv[j]), float(np.median(smooth[i : j + 1]))))
        i = j + 1
    out: list[Plateau] = []
    lived: list[float] = []  # seconds each kept level was seen, all its pieces together
    for p in raw:
        life = p.end - p.start
        keep = True
        while out and out[-1].level > p.level + o.plateau_px:
            if lived[-1] >= life:
                keep = False
                break
            out.pop()
            lived.pop()
        if not keep:
            continue
        if out and abs(out[-1].level - p.level) <= o.plateau_px:
            out[-1] = Plateau(out[-1].start, p.end, out[-1].level)
            lived[-1] += life
        else:
            out.append(p)
            lived.append(life)
    return out


def box_visits(t: np.ndarray, fg: np.ndarray, presence: float) -> list[tuple[float, float]]:
    """Stretches when someone was at the box (the watched region changed)."""
    return [(float(t[i]), float(t[j])) for i, j in runs(fg > presence, bridge=2)]


def blind_mask(t: np.ndarray, ranges: Sequence[Range]) -> np.ndarray:
    """Per sample of `t`: inside one of the `ranges` (start_s, end_s, reason)."""
    out = np.zeros(len(t), bool)
    for a, b, _ in ranges:
        out |= (t >= a) & (t <= b)
    return out
