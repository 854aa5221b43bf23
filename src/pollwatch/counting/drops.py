"""From the box watcher's series to ballot drops, and to when the box could not be watched.

Two independent cues say a ballot went in:

* a *burst*: a ballot-sized patch of paper-white appears at the lid for a fraction of a second
  and vanishes into the slot (the ballot in a voter's hand); its end is the moment of the drop;
* a *fill step*: the paper pile inside the transparent box rises.

The pile's level is read on *plateaus* (stretches where its measured edge holds still); between
two plateaus it rose by some pixels, and the camera's per-ballot step (the median rise of the
steps that had exactly one burst) turns that into ballots. The bursts between the two plateaus
decide within what the rise allows: a step with no burst is a drop the burst cue missed (the
ballot hidden against a white shirt); a burst with no step is a false alarm (a white patch that
was not a ballot); several steps behind one burst are a bundle. Where the pile cannot be
measured (a step per ballot too small to resolve, an opaque box), bursts alone count.

`unobservable_ranges` turns the same series into the times the box could not be watched: too
dark, the picture frozen, the box's outline gone (turned away, hidden behind something).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pollwatch.counting.observability import Range

__all__ = [
    "DROP_COLUMNS",
    "DropFinderOptions",
    "find_drops",
    "rough_ranges",
    "unobservable_ranges",
]

DROP_COLUMNS = ["t_s", "ballots", "confidence", "evidence", "visit_id", "dwell_s"]
_SAME_VIEW = 0.9  # coarse picture's correlation with the last one the box was seen in: same view


@dataclass(frozen=True)
class DropFinderOptions:
    """Thresholds of `find_drops` (tuned on simulated demo cameras, see docs/counting.md).
    Areas are in units of the box height squared, so they hold at any resolution; times are
    seconds, levels pixels."""

    burst_area: float = 0.008  # a ballot shows at least this many h² of new paper-white
    burst_min_s: float = 0.1
    burst_max_s: float = 1.6
    slot_x: float = 0.15  # a ballot vanishes within this many box widths of the box's middle
    background_s: float = 2.5  # running median window removed from the white series
    plateau_samples: int = 5  # a plateau: this many valid samples ...
    plateau_px: float = 0.15  # ... within this of their median ...
    plateau_s: float = 0.8  # ... for this long
    settle_s: float = 2.2  # a level held shorter than this and then risen from with no
    # ballot seen was on its way (the encoder may show a new level fully only at the next
    # keyframe): the two rises are one
    min_contrast: float = 40.0
    line_rows: float = 1.5  # the pile's edge this close to a box edge is not read
    min_step_px: float = 0.15  # a per-ballot step below this cannot be resolved
    hidden_steps: float = 0.75  # a rise of this many steps with no ballot seen: one went in
    seen_steps: float = 0.6  # where the slot is seen but no hand showed, a ballot patch going
    # in at the slot and a rise of this many steps: one went in (a sleeve like the slot)
    more_steps: float = 1.75  # a rise of this many steps more than the ballots seen: more went
    # in (where every hand over the slot was seen too: a small bundle, three voters at once)
    bundle_steps: float = 3.0  # a rise this many steps above the hands seen: a bundle
    presence: float = 0.04  # share of the watched region changed: someone at the box
    reach_cover: float = 0.12  # share of the slot covered above its running median: a hand
    reach_join_s: float = 0.45  # coverings this close are one hand movement ...
    reach_max_s: float = 2.0  # ... which lasts at most this long (longer: something in front)
    reach_lead_s: float = 0.05  # the ballot goes in this long after the slot is covered
    reach_seen: float = 0.5  # the slot cue is used when the slot was seen this share of time
    reach_front: float = 0.2  # the box's bottom this much changed: someone in front, no hand
    reach_chain_s: float = 0.8  # hands over the slot this close one after another ...
    patch_near_s: float = 0.6  # ... with fewer ballot patches at the slot this close: one hand
    patch_two_s: float = 0.8  # a patch at the slot this long: two ballots one after the other
    visit_min_s: float = 2.5  # a hand while someone was at the box for less: a passing arm
    patch_with_hand_s: float = 0.1  # a ballot patch vanishing this close to a covering of
    # the slot taken for a passer-by: a hand after all
    two_hands_s: float = 1.1  # a hand over the slot this long (and twice the camera's usual
    # one) is two voters' hands one after the other: on the tuning cameras every one was
    late_patch_s: float = 0.3  # a ballot patch vanishing at the slot this long after a hand's
    # ballot went in, while that hand (of `late_hand_s` or more) still covered the slot, is a
    # second voter's ballot: two voters at the box, their hands joined
    late_hand_s: float = 0.45
    still_hand: bool = True  # a hand while the pile held still, no ballot patch at the slot
    # near it (`patch_near_s`): an arm over the slot, not a drop
    weak_cover: float = 0.15  # a hand whose peak covers the slot at most this much above its
    # running median (barely a hand: `reach_cover` is 0.12), with no ballot patch at the slot
    # near it, `weak_near_s` or less from a hand that showed one: the same voter's hand before
    # or after the drop (0 turns the rule off)
    weak_near_s: float = 3.0

    def __post_init__(self) -> None:
        for name in ("burst_area", "burst_max_s", "background_s", "plateau_px", "slot_x"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.burst_min_s < self.burst_max_s:
            raise ValueError("burst_min_s must be in [0, burst_max_s)")
        if self.plateau_samples < 2:
            raise ValueError(f"plateau_samples must be >= 2, got {self.plateau_samples}")


@dataclass(frozen=True)
class _Burst:
    start: float
    end: float
    peak: float  # a patch: in units of the burst area threshold; a hand (`_reaches`): the
    # share of the slot covered above its running median
    end_x: float  # where the patch was last seen, box widths from the box's middle
    duration: float  # samples seen × the sampling interval
    reach: bool = False  # a hand over the slot (then `end` is when the ballot went in)
    shaped: bool = False  # a hint that was shaped like a ballot going in at the slot

    def clear(self, o: DropFinderOptions) -> bool:
        """A hand over the slot, or shaped like a ballot going in: it vanishes at the slot
        after 0.15 to 1.2 s."""
        if self.reach:
            return True
        return abs(self.end_x) <= o.slot_x and 0.15 - 1e-6 <= self.duration <= 1.2


@dataclass(frozen=True)
class _Plateau:
    start: float
    end: float
    level: float


def _rolling_median(values: np.ndarray, times: np.ndarray, window_s: float) -> np.ndarray:
    if len(values) == 0:
        return values
    dt = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    k = max(1, round(window_s / max(dt, 1e-3)))
    return pd.Series(values).rolling(k | 1, center=True, min_periods=1).median().to_numpy(float)


def _runs(mask: np.ndarray, bridge: int = 0) -> list[tuple[int, int]]:
    """(first, last) index of each run of True, joining runs parted by <= `bridge` Falses."""
    out: list[tuple[int, int]] = []
    idx = np.flatnonzero(mask)
    for i in idx:
        if out and i - out[-1][1] <= bridge + 1:
            out[-1] = (out[-1][0], int(i))
        else:
            out.append((int(i), int(i)))
    return out


def _bursts(series: pd.DataFrame, box_h: float, o: DropFinderOptions) -> list[_Burst]:
    t = series["t_s"].to_numpy(float)
    if len(t) < 3:
        return []
    white = series["white"].to_numpy(float)
    xs = series["white_x"].to_numpy(float)
    dt = float(np.median(np.diff(t)))
    high = white - _rolling_median(white, t, o.background_s)
    threshold = max(4.0, o.burst_area * box_h * box_h)
    out = []
    # the ballot crosses the lid's edge half-way: bridge a dip of up to two samples
    for i, j in _runs(high > 0.5 * threshold, bridge=2):
        peak = float(high[i : j + 1].max()) / threshold
        duration = t[j] - t[i] + dt
        if peak >= 1.0 and o.burst_min_s <= duration <= o.burst_max_s:
            out.append(
                _Burst(float(t[i]), float(t[j] + 0.5 * dt), peak, float(xs[j]), float(duration))
            )
    return out


def _reaches(series: pd.DataFrame, o: DropFinderOptions) -> list[_Burst] | None:
    """Hand movements over the slot: runs of the slot's covered share above its running
    median (4 s), joined when under `reach_join_s` apart, at most `reach_max_s` long; each
    placed `reach_lead_s` after the start of its strongest run. None when the slot was seen
    for less than `reach_seen` of the samples (no slot on the lid, or not in view)."""
    if "slot_cover" not in series or len(series) < 3:
        return None
    cover = series["slot_cover"].to_numpy(float)
    if np.isfinite(cover).mean() < o.reach_seen:
        return None
    t = series["t_s"].to_numpy(float)
    dt = float(np.median(np.diff(t)))
    cover = np.nan_to_num(cover, nan=0.0)
    high = cover - _rolling_median(cover, t, 4.0)
    runs = _runs(high > o.reach_cover, bridge=1)
    groups: list[list[tuple[int, int]]] = []
    for i, j in runs:
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
        i, _ = max(g, key=lambda r: float(high[r[0] : r[1] + 1].sum()))
        peak = float(high[g[0][0] : g[-1][1] + 1].max())
        when = float(t[i]) + o.reach_lead_s
        out.append(
            _Burst(
                float(start),
                when,
                peak,
                0.0 if hand else np.inf,
                float(end - start),
                reach=hand,
            )
        )
    return out


def _brief_visits(
    reaches: list[_Burst],
    visits: list[tuple[float, float]],
    o: DropFinderOptions,
    patches: Sequence[_Burst] = (),
    still: Sequence[_Plateau] = (),
) -> list[_Burst]:
    """A hand over the slot while someone was at the box for less than `visit_min_s` is an
    arm passing over it: a voter walks up, finds the slot and goes, seconds in all (on the
    simulated demo cameras at least 4 s). Only a hint of when, should the pile have risen.
    Unless a ballot was seen going in with it (a patch vanishing at the slot within
    `patch_with_hand_s`) while the pile was not holding still (the hand not inside one of
    the plateaus `still`): a voter mostly outside the watched region."""
    out = []
    for r in reaches:
        stay = [b - a for a, b in visits if a - 1.0 <= r.end <= b + 1.0]
        if r.reach and stay and max(stay) < o.visit_min_s:
            seen = any(p.clear(o) and abs(p.end - r.end) <= o.patch_with_hand_s for p in patches)
            if not seen or _held(r, still, o):
                r = _as_hint(r)
        out.append(r)
    return out


def _as_hint(r: _Burst) -> _Burst:
    """Hand `r` taken for no drop: only a hint of when, should the pile have risen."""
    return dataclasses.replace(r, end_x=np.inf, reach=False)


def _held(r: _Burst, still: Sequence[_Plateau], o: DropFinderOptions) -> bool:
    """Whether hand `r` ended while the pile held still: inside one of the plateaus `still`,
    `settle_s` or more before its end (a ballot put in then would have raised it)."""
    return any(q.start + 0.3 <= r.end <= q.end - o.settle_s for q in still)


def _ballots_at_slot(patches: Sequence[_Burst], o: DropFinderOptions) -> list[float]:
    """When each ballot-shaped patch vanished at the slot."""
    return [p.end for p in patches if p.clear(o) and abs(p.end_x) <= o.slot_x]


def _showed(r: _Burst, at_slot: Sequence[float], o: DropFinderOptions) -> bool:
    """Whether a ballot went in at the slot (`at_slot`) within `patch_near_s` of hand `r`."""
    return any(abs(e - r.end) <= o.patch_near_s for e in at_slot)


def _still_hands(
    reaches: list[_Burst],
    patches: list[_Burst],
    still: Sequence[_Plateau],
    o: DropFinderOptions,
) -> list[_Burst]:
    """A hand over the slot that neither showed a ballot (no patch vanishing at the slot
    within `patch_near_s`) nor raised the pile (inside one of the plateaus `still`, `settle_s`
    or more before its end) is an arm over the slot: a voter's hand before or after the
    drop, a commission member reaching past. Only a hint of when, should the pile have
    risen."""
    if not o.still_hand:
        return reaches
    at_slot = _ballots_at_slot(patches, o)
    out = []
    for r in reaches:
        if r.reach and _held(r, still, o) and not _showed(r, at_slot, o):
            r = _as_hint(r)
        out.append(r)
    return out


def _weak_hands(reaches: list[_Burst], patches: list[_Burst], o: DropFinderOptions) -> list[_Burst]:
    """One voter at the slot puts one ballot in: a hand that barely covered the slot (peak at
    most `weak_cover` above the running median) and showed no ballot (no patch vanishing at
    the slot within `patch_near_s`), `weak_near_s` or less from a hand that did show one, is
    that voter's hand moving before or after the drop (or an arm beside it). Only a hint of
    when, should the pile have risen."""
    if not o.weak_cover > 0:
        return reaches
    at_slot = _ballots_at_slot(patches, o)
    shown = [r.end for r in reaches if r.reach and _showed(r, at_slot, o)]
    out = []
    for r in reaches:
        if (
            r.reach
            and r.peak <= o.weak_cover
            and not _showed(r, at_slot, o)
            and any(0 < abs(e - r.end) <= o.weak_near_s for e in shown)
        ):
            r = _as_hint(r)
        out.append(r)
    return out


def _seen_going_in(
    reaches: list[_Burst], patches: list[_Burst], o: DropFinderOptions
) -> list[_Burst]:
    """A covering of the slot taken for someone passing in front is a hand after all when a
    ballot was seen going in with it: a patch shaped like a ballot vanishing at the slot
    within `patch_with_hand_s` of when the covering says (someone passing in front while a
    voter's hand is at the slot)."""
    out = []
    for r in reaches:
        if not r.reach and any(
            p.clear(o) and abs(p.end - (r.start + o.reach_lead_s)) <= o.patch_with_hand_s
            for p in patches
        ):
            r = dataclasses.replace(r, end_x=0.0, reach=True)
        out.append(r)
    return out


def _one_per_patch(
    reaches: list[_Burst], patches: list[_Burst], o: DropFinderOptions
) -> list[_Burst]:
    """Hands over the slot less than `reach_chain_s` one after another are one voter's hand
    pausing over the slot when fewer ballots showed at the slot near them (white patches
    ending within `patch_near_s` of the hands, a patch lasting `patch_two_s` or more being two
    ballots one after the other): of those hands, only the ones nearest to a patch stay. With
    no patch seen there is nothing to tell one voter from two, and every hand stays."""
    at_slot = [p for p in patches if abs(p.end_x) <= o.slot_x]
    groups: list[list[_Burst]] = []
    for x in (r for r in reaches if r.reach):
        if groups and x.end - groups[-1][-1].end < o.reach_chain_s:
            groups[-1].append(x)
        else:
            groups.append([x])
    out = [r for r in reaches if not r.reach]
    for g in groups:
        near = [
            p for p in at_slot if g[0].end - o.patch_near_s <= p.end <= g[-1].end + o.patch_near_s
        ]
        ballots = sum(2 if p.duration >= o.patch_two_s else 1 for p in near)
        if not 0 < ballots < len(g):
            out += g
            continue
        by_patch = sorted(g, key=lambda x: min(abs(x.end - p.end) for p in near))
        out += by_patch[:ballots]
    return sorted(out, key=lambda x: x.end)


def _two_voters(reaches: list[_Burst], patches: list[_Burst], o: DropFinderOptions) -> list[_Burst]:
    """Two voters' hands joined into one (they were under `reach_join_s` apart): a hand over
    the slot lasting `two_hands_s` or more, and twice as long as the camera's usual one, is
    two drops, the second 0.1 s after the first (placed together, the pile's rise that goes
    with them sees both); a hand of `late_hand_s` or more with a ballot patch vanishing at the
    slot `late_patch_s` or more after its ballot went in, before the hand left, is two drops,
    the second when that patch vanished."""
    hands = [x.duration for x in reaches if x.reach]
    if not hands:
        return reaches
    long = max(o.two_hands_s, 2 * float(np.median(hands)))
    ends = [x.end for x in reaches]
    out = []
    for r in reaches:
        out.append(r)
        if not r.reach:
            continue
        if r.duration >= long:
            out.append(dataclasses.replace(r, end=r.end + 0.1))
            continue
        late = [
            p.end
            for p in patches
            if abs(p.end_x) <= o.slot_x
            and r.end + o.late_patch_s <= p.end <= r.start + r.duration + 0.15
            and not any(0 < abs(e - p.end) < o.late_patch_s for e in ends)
        ]
        if r.duration >= o.late_hand_s and late:
            out.append(dataclasses.replace(r, end=max(late)))
    return out


def _passing(t: np.ndarray, front: np.ndarray, start: float, end: float) -> float:
    """How much more of the box's bottom was hidden from `start` to `end` than just before
    and just after: someone passing in front hides it for a moment; the first ballots
    changing it for good (paper where the empty box's floor was) do not count."""

    def level(a: float, b: float) -> float:
        sel = (t >= a) & (t <= b) & np.isfinite(front)
        return float(np.median(front[sel])) if sel.any() else 0.0

    sel = (t >= start) & (t <= end) & np.isfinite(front)
    during = float(front[sel].max()) if sel.any() else 0.0
    return during - max(level(start - 1.0, start - 0.3), level(end + 0.7, end + 1.5))


def _plateaus(t: np.ndarray, fill: np.ndarray, o: DropFinderOptions) -> list[_Plateau]:
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
    raw: list[_Plateau] = []
    n, i = len(tv), 0
    while i < n:
        j, level = i, smooth[i]
        while j + 1 < n and abs(smooth[j + 1] - level) <= o.plateau_px and tv[j + 1] - tv[j] < 2.0:
            j += 1
        if j - i + 1 >= o.plateau_samples and tv[j] - tv[i] >= o.plateau_s:
            raw.append(_Plateau(float(tv[i]), float(tv[j]), float(np.median(smooth[i : j + 1]))))
        i = j + 1
    out: list[_Plateau] = []
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
            out[-1] = _Plateau(out[-1].start, p.end, out[-1].level)
            lived[-1] += life
        else:
            out.append(p)
            lived.append(life)
    return out


def _settled(
    plateaus: list[_Plateau], bursts: list[_Burst], o: DropFinderOptions
) -> list[_Plateau]:
    """The plateaus without the short ones the pile passed on its way up: a level held less
    than `settle_s` followed by a rise with no clear burst in it."""
    out: list[_Plateau] = []
    for k, p in enumerate(plateaus):
        nxt = plateaus[k + 1] if k + 1 < len(plateaus) else None
        if out and nxt is not None and p.end - p.start < o.settle_s:
            seen = any(p.end - 0.3 <= x.end <= nxt.start + 0.3 and x.clear(o) for x in bursts)
            if not seen:
                continue
        out.append(p)
    return out


def _visits(t: np.ndarray, fg: np.ndarray, presence: float) -> list[tuple[float, float]]:
    """Stretches when someone was at the box (the watched region changed)."""
    return [(float(t[i]), float(t[j])) for i, j in _runs(fg > presence, bridge=2)]


def _blind(t: np.ndarray, ranges: Sequence[Range]) -> np.ndarray:
    out = np.zeros(len(t), bool)
    for a, b, _ in ranges:
        out |= (t >= a) & (t <= b)
    return out


def find_drops(
    series: pd.DataFrame,
    box_h: float,
    options: DropFinderOptions | None = None,
    *,
    blind: Sequence[Range] = (),
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Ballot drops in a watcher series (`pollwatch.counting.watcher.SERIES_COLUMNS`) of a box
    `box_h` pixels tall, ignoring the `blind` ranges (start_s, end_s, reason): a DataFrame of
    `DROP_COLUMNS`, one row per hand movement (`ballots` > 1 for a bundle; `evidence`
    "burst+fill", "burst" or "fill"; `visit_id`/`dwell_s` the stretch someone was at the box)
    and facts about the camera: `step_px` (the pile's rise per ballot, NaN when it cannot be
    resolved), `bursts`, `unclear_bursts` (not counted unless the pile rose), `fill_only`
    (drops only the pile showed), `bundles`."""
    o = options or DropFinderOptions()
    if not box_h > 0:
        raise ValueError(f"box_h must be positive, got {box_h}")
    needed = ("t_s", "white", "white_x", "fill", "fill_contrast", "fill_above", "fg")
    missing = [c for c in needed if c not in series]
    if missing:
        raise ValueError(f"series lacks column(s) {missing}")
    # a second before and two after blind time too (a screen taken away, lights coming back)
    padded = [(a - 1.0, b + 2.0, why) for a, b, why in blind]
    series = series[~_blind(series["t_s"].to_numpy(float), padded)]
    t = series["t_s"].to_numpy(float)
    fill = series["fill"].to_numpy(float).copy()
    fill[series["fill_contrast"].to_numpy(float) < o.min_contrast] = np.nan
    if "fill_line" in series:
        fill[series["fill_line"].to_numpy(float) <= o.line_rows] = np.nan
    reaches = _reaches(series, o)
    patches = _bursts(series, box_h, o)
    if reaches is None:
        bursts = patches
    else:  # hands over the slot say when; a white patch is only a hint then
        visits = _visits(t, series["fg"].to_numpy(float), o.presence)
        reaches = _seen_going_in(reaches, patches, o)
        still = _plateaus(t, fill, o)
        reaches = _brief_visits(reaches, visits, o, patches, still)
        reaches = _still_hands(reaches, patches, still, o)
        reaches = _weak_hands(reaches, patches, o)
        reaches = _two_voters(_one_per_patch(reaches, patches, o), patches, o)
        hints = [
            dataclasses.replace(x, end_x=np.inf, shaped=x.clear(o))
            for x in patches
            if not any(abs(x.end - r.end) <= 1.0 for r in reaches)
        ]
        bursts = sorted([*reaches, *hints], key=lambda x: x.end)
    plateaus = _plateaus(t, fill, o)
    plateaus = _settled(plateaus, bursts, o)
    # the rises between consecutive plateaus, and the bursts in between
    rises = []
    taken: set[int] = set()
    for a, b in itertools.pairwise(plateaus):
        # a ballot shows in the pile at once, or when the encoder catches up (up to a GOP)
        inside = [
            x for x in bursts if a.end - o.settle_s <= x.end <= b.start + 0.3 and id(x) not in taken
        ]
        taken.update(id(x) for x in inside)
        if any(lo < b.start and hi > a.end for lo, hi, _ in padded):
            inside = []  # the box was out of sight in between: no drop can be placed
            rises.append((a, b, None, inside))
            continue
        rises.append((a, b, b.level - a.level, inside))
    # the per-ballot step: the median rise per ballot clearly seen going in
    per_hand = [
        r / n
        for _, _, r, inside in rises
        if r is not None and r > 0 and (n := sum(x.clear(o) for x in inside)) > 0
    ]
    step = float(np.median(per_hand)) if len(per_hand) >= 3 else np.nan
    if not (o.min_step_px <= step <= 0.25 * box_h):
        step = np.nan
    stats = {"bursts": float(len(bursts)), "unclear_bursts": 0.0, "fill_only": 0.0, "bundles": 0.0}
    stats["unclear_bursts"] = float(sum(not x.clear(o) for x in bursts))
    stats["reaches"] = float(sum(x.reach for x in reaches)) if reaches is not None else np.nan
    fg = series["fg"].to_numpy(float)
    rows: list[tuple[float, int, float, str]] = []
    covered: set[int] = set()
    hands = [x.duration for x in reaches or () if x.reach]
    long = max(0.6, 2 * float(np.median(hands))) if hands else np.inf
    if not np.isnan(step):
        for a, b, rise, inside in rises:
            if rise is None:
                continue
            covered.update(id(x) for x in inside)
            sel = (t >= a.end) & (t <= b.start)
            present = bool(sel.any() and fg[sel].max() > o.presence)
            crossings = _crossings(t, fill, a, b, step)
            # where every hand was seen, the pile adds ballots only behind a hand over the
            # slot twice as long as usual: two voters at once
            hidden = reaches is None or any(x.reach and x.duration >= long for x in inside)
            got = _assign(
                rise / step, inside, crossings, present, o, stats, since=a.end, hidden=hidden
            )
            rows += got
    # a clear burst outside every rise counts only where the pile could not be read: on a
    # plateau the pile held still, and before the first one (an empty box, or a pile not yet
    # readable) only the ballot that made the first level can have gone in. A hand over the
    # slot counts wherever it is: the pile's edge, read to a fraction of a pixel, may not
    # show one ballot (an empty box, the edge behind one of the box's own)
    first = plateaus[0].start if plateaus else np.inf
    for x in bursts:
        if id(x) in covered or not x.clear(o):
            continue
        if (
            not np.isnan(step)
            and not x.reach
            and (any(p.start <= x.end <= p.end for p in plateaus) or x.end < first - o.settle_s)
        ):
            stats["unclear_bursts"] += 1
            continue
        rows.append((x.end, 1, 0.9, "burst"))
    drops = pd.DataFrame(rows, columns=["t_s", "ballots", "confidence", "evidence"])
    drops = drops.sort_values("t_s", kind="stable").reset_index(drop=True)
    visits = _visits(t, series["fg"].to_numpy(float), o.presence)
    ids, dwell = [], []
    for when in drops["t_s"]:
        k = next((i for i, (lo, hi) in enumerate(visits) if lo - 1.0 <= when <= hi + 1.0), -1)
        ids.append(k)
        dwell.append(visits[k][1] - visits[k][0] if k >= 0 else np.nan)
    drops["visit_id"] = np.asarray(ids, np.int64)
    drops["dwell_s"] = np.asarray(dwell, float)
    drops["ballots"] = drops["ballots"].astype(np.int64)
    stats["step_px"] = step
    return drops[DROP_COLUMNS], stats


def _crossings(
    t: np.ndarray, fill: np.ndarray, a: _Plateau, b: _Plateau, step: float
) -> list[float]:
    """When the pile's level (running median) first passed a.level + (j + ½) steps, for each
    whole step of the rise from plateau a to plateau b; the middle of the gap if never."""
    n = max(1, round((b.level - a.level) / step))
    middle = (a.end + b.start) / 2
    sel = (t >= a.end) & (t <= b.start) & np.isfinite(fill)
    if sel.sum() < 2:
        return [middle] * n
    ts = t[sel]
    smooth = pd.Series(fill[sel]).rolling(5, center=True, min_periods=1).median().to_numpy()
    out = []
    for j in range(n):
        hit = np.flatnonzero(smooth >= a.level + (j + 0.5) * step)
        out.append(float(ts[hit[0]]) if hit.size else middle)
    return out


def _assign(
    steps: float,
    inside: list[_Burst],
    crossings: list[float],
    present: bool,
    o: DropFinderOptions,
    stats: dict[str, float],
    *,
    since: float = -np.inf,
    hidden: bool = True,
) -> list[tuple[float, int, float, str]]:
    """Drops of one rise of the pile by `steps` per-ballot steps, with these bursts in its
    window. Clear bursts are drops whatever the rise (a pile's edge measured to a fraction of
    a pixel is not proof enough against a ballot seen going in); the rise adds what they do
    not explain: a bundle behind a single hand, ballots no burst showed (placed at the other
    bursts near when the pile's level passed each step, else at those times), but only if
    someone was at the box; when every hand over the slot was seen (not `hidden`), only a
    rise `more_steps` or more above them (less is the edge's noise, or two hands at once,
    which the pile cannot tell apart; more is a small bundle beside a voter's ballot, or
    three voters at once: on the tuning cameras a rise of 2.2 steps over two hands was a
    bundle of 3 beside a voter; a threshold anywhere from 1.25 to 2 steps changed only the
    same two cameras). `crossings[j]` is when the level passed j + ½ steps; `since`
    when the pile was last seen at its lower level."""
    clear = [x for x in inside if x.clear(o)]
    rows = [(x.end, 1, 0.99, "burst+fill") for x in clear]
    # a staircase: the pile seen passing most of its steps at distinct moments
    moments = {round(c * 2) for c in crossings}
    staircase = len(moments) >= max(3, 0.6 * len(crossings))
    if steps - len(clear) >= o.bundle_steps and present and not staircase:
        # far more ballots than hands, and the pile rose at once (not step by step, as under
        # a stuffer putting ballots in one by one): one of them put in a bundle, the others
        # one ballot each. The pile was last seen low at `since`: the bundle is the first
        # hand at the lid after that (a white patch while the pile still held still is not).
        stats["bundles"] += 1
        if not inside:
            return [(crossings[0], round(steps), 0.7, "fill")]
        after = [x for x in clear if x.end >= since - 0.3]
        big = min(after or inside, key=lambda x: x.end)
        singles = [x for x in clear if x is not big]
        bundle = round(steps) - len(singles)
        evidence = ("burst+fill", 0.9) if big.clear(o) else ("fill", 0.7)
        out = [(x.end, 1, 0.99, "burst+fill") for x in singles]
        return sorted([*out, (big.end, bundle, evidence[1], evidence[0])])
    shaped = [x for x in inside if x.shaped]
    if not hidden and not clear and shaped and steps >= o.seen_steps and present:
        # no hand over the slot, but a ballot seen going in and the pile rising: a hand
        # the slot did not show (a sleeve the colour of what lies behind the slot)
        stats["fill_only"] += 1
        return [(min(shaped, key=lambda x: abs(x.end - crossings[0])).end, 1, 0.8, "burst+fill")]
    if not hidden:
        if clear and steps - len(clear) >= o.more_steps:
            return _with_hands(rows, clear, round(steps) - len(clear), crossings, stats)
        return rows  # the edge's noise, or two hands at once
    if clear:
        extra = round(steps) - len(clear) if steps >= len(clear) + o.more_steps - 1 else 0
    else:
        extra = max(1, round(steps)) if steps >= o.hidden_steps and present else 0
    if extra > 0:
        others = [x.end for x in inside if not x.clear(o)]
        for j in range(len(clear), len(clear) + extra):
            when = crossings[min(j, len(crossings) - 1)]
            near = [x for x in others if abs(x - when) <= 1.0]
            if near:
                when = min(near, key=lambda x: abs(x - when))
                others.remove(when)
            rows.append((when, 1, 0.7, "fill"))
        stats["fill_only"] += extra
    return rows


def _with_hands(
    rows: list[tuple[float, int, float, str]],
    clear: list[_Burst],
    extra: int,
    crossings: list[float],
    stats: dict[str, float],
) -> list[tuple[float, int, float, str]]:
    """`rows` (one per hand in `clear`) with `extra` ballots the pile showed beyond them, each
    put with the last hand before the pile passed its level (`crossings`; the last hand when
    the level was read passing before any hand: the edge's noise): every hand was seen, so
    the ballots went in with one of them (a bundle beside a voter, voters at once)."""
    ballots = [1] * len(clear)
    for j in range(len(clear), len(clear) + extra):
        when = crossings[min(j, len(crossings) - 1)]
        before = [k for k, x in enumerate(clear) if x.end <= when + 0.5]
        ballots[before[-1] if before else len(clear) - 1] += 1
    stats["fill_only"] += extra
    return [
        (x.end, n, 0.99 if n == 1 else 0.9, r[3])
        for x, n, r in zip(clear, ballots, rows, strict=True)
    ]


def _outline_masks(series: pd.DataFrame, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(outline gone, coarse picture unchanged) per sample: the box's outline under 35% of
    the fitted view's and the coarse view's correlation at least `_SAME_VIEW`, each a running
    median over 6 s."""
    outline = series["outline"].to_numpy(float)
    gone = _rolling_median(np.nan_to_num(outline, nan=1.0), t, 6.0) < 0.35
    if "view" not in series:
        return gone, np.zeros(len(t), bool)
    view = np.nan_to_num(series["view"].to_numpy(float), nan=0.0)
    return gone, _rolling_median(view, t, 6.0) >= _SAME_VIEW


def _mask_ranges(
    t: np.ndarray, dt: float, mask: np.ndarray, reason: str, min_s: float, lead_s: float = 0.0
) -> list[Range]:
    """The runs of `mask` as (start, end, reason), each sample standing for `dt` around it,
    started `lead_s` earlier; runs shorter than `min_s` left out."""
    out: list[Range] = []
    for i, j in _runs(mask):
        start, end = t[i] - 0.5 * dt - lead_s, t[j] + 0.5 * dt
        if end - start >= min_s:
            out.append((float(start), float(end), reason))
    return out


def rough_ranges(
    series: pd.DataFrame, *, min_s: float = 10.0, bridge_s: float = 30.0
) -> list[Range]:
    """When the box was watched with a degraded picture: out of focus (the outline's thin
    lines gone while the coarse picture stayed the same, see `unobservable_ranges`) for
    `min_s` or more, stretches less than `bridge_s` apart joined (a lens does not come back
    into focus for a few seconds: people at the box change the coarse picture meanwhile).
    The counter's errors there are those measured on defocused cameras."""
    if series.empty:
        return []
    t = series["t_s"].to_numpy(float)
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.1
    gone, same = _outline_masks(series, t)
    out: list[Range] = []
    for a, b, why in _mask_ranges(t, dt, gone & same, "box out of focus", min_s):
        if out and a - out[-1][1] < bridge_s:
            out[-1] = (out[-1][0], b, why)
        else:
            out.append((a, b, why))
    return out


def unobservable_ranges(series: pd.DataFrame, *, min_s: float = 2.0) -> list[Range]:
    """When the box could not be watched, from the watcher's series: too dark (the region's
    brightness under 45% of its median), the picture frozen (not a pixel changed for a
    second or more), the box's outline gone (its strength under 35% of the fitted view's
    for `min_s` or more) while the coarse picture changed too (`view` under 0.9: a lens out
    of focus loses the outline, not the picture). Ranges shorter than `min_s` are dropped (a
    passer-by)."""
    if series.empty:
        return []
    t = series["t_s"].to_numpy(float)
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.1
    luma = series["luma"].to_numpy(float)
    dark = luma < 0.45 * float(np.nanmedian(luma))
    still = series["motion"].to_numpy(float) == 0
    frozen = pd.Series(still).rolling(max(2, round(1.0 / dt)), min_periods=1).min()
    frozen = frozen.to_numpy(bool)
    gone, same = _outline_masks(series, t)
    out: list[Range] = []
    out += _mask_ranges(t, dt, dark, "too dark", min_s)
    # the run starts once a full second stood still
    out += _mask_ranges(t, dt, frozen, "picture frozen", min_s, lead_s=1.0)
    out += _mask_ranges(t, dt, gone & ~same, "box not in view", min_s)
    return out
