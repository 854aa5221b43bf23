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


The cues come from `pollwatch.counting.cues`, the judging of hands over the slot from
`pollwatch.counting.hands`, the thresholds from `pollwatch.counting.drop_options`; when the
box could not be watched is `pollwatch.counting.unobservable`.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pollwatch.counting.arms import arms_in_hand
from pollwatch.counting.cues import (
    Burst,
    Plateau,
    ballot_patches,
    blind_mask,
    box_visits,
    pile_plateaus,
    slot_cover_above,
    slot_hands,
)
from pollwatch.counting.drop_options import DropFinderOptions
from pollwatch.counting.hands import (
    blurred_weak_hands,
    hands_the_pile_holds,
    judge_hands,
    unanswered_hands,
)
from pollwatch.counting.observability import Range

__all__ = ["DROP_COLUMNS", "find_drops"]

DROP_COLUMNS = ["t_s", "ballots", "confidence", "evidence", "visit_id", "dwell_s"]


def find_drops(
    series: pd.DataFrame,
    box_h: float,
    options: DropFinderOptions | None = None,
    *,
    blind: Sequence[Range] = (),
    blurred: Sequence[Range] = (),
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Ballot drops in a watcher series (`pollwatch.counting.watcher.SERIES_COLUMNS`) of a box
    `box_h` pixels tall, ignoring the `blind` ranges (start_s, end_s, reason), the picture out
    of focus in the `blurred` ranges (the camera audit's: see below): a DataFrame of
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
    slot_blur = blurred if _slot_found_blurred(series, blurred) else ()
    # a second before and two after blind time too (a screen taken away, lights coming back)
    padded = [(a - 1.0, b + 2.0, why) for a, b, why in blind]
    series = series[~blind_mask(series["t_s"].to_numpy(float), padded)]
    t = series["t_s"].to_numpy(float)
    fill = series["fill"].to_numpy(float).copy()
    fill[series["fill_contrast"].to_numpy(float) < o.min_contrast] = np.nan
    if "fill_line" in series:
        fill[series["fill_line"].to_numpy(float) <= o.line_rows] = np.nan
    reaches = slot_hands(series, o)
    patches = ballot_patches(series, box_h, o)
    if reaches is not None and slot_blur and _hides_hands(reaches, patches, o):
        reaches = None  # a blurred slot that hides the hands: the patches decide
    touched: frozenset[int] = frozenset()
    beside: frozenset[int] = frozenset()
    if reaches is None:
        bursts = patches
    else:  # hands over the slot say when; a white patch is only a hint then
        visits = box_visits(t, series["fg"].to_numpy(float), o.presence)
        still = pile_plateaus(t, fill, o)
        reaches = judge_hands(reaches, patches, visits, still, o)
        hints = [
            dataclasses.replace(x, end_x=np.inf, shaped=x.clear(o))
            for x in patches
            if not any(abs(x.end - r.end) <= 1.0 for r in reaches)
        ]
        bursts = sorted([*reaches, *hints], key=lambda x: x.end)
        touched = _touched(series, hints, o)
        beside = _beside(series, reaches, o) | _crowded(series, reaches, o)
    plateaus = pile_plateaus(t, fill, o)
    plateaus = _settled(plateaus, bursts, o)
    # where the focus changed (`blur_edges`): the ends of the blurred ranges inside the series
    focus = [
        x
        for lo, hi, _ in (blurred if o.blur_edges and t.size else ())
        for x in (lo, hi)
        if t[0] + 1.0 < x < t[-1] - 1.0
    ]
    # the rises between consecutive plateaus, and the bursts in between
    rises = []
    taken: set[int] = set()
    for a, b in itertools.pairwise(plateaus):
        # a ballot shows in the pile at once, or when the encoder catches up (up to a GOP)
        inside = [
            x for x in bursts if a.end - o.settle_s <= x.end <= b.start + 0.3 and id(x) not in taken
        ]
        taken.update(id(x) for x in inside)
        out_of_sight = any(lo < b.start and hi > a.end for lo, hi, _ in padded)
        if out_of_sight or any(a.end - 1.0 < x < b.start + 1.0 for x in focus):
            # the box was out of sight in between: no drop can be placed; or the focus changed
            # (`blur_edges`): the blurred pile's edge reads 1-2 px off the sharp one's, so the
            # clear bursts count alone
            rises.append((a, b, None, [] if out_of_sight else inside))
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
    if reaches is not None:
        # on a slot out of focus a standing voter's wobble is not a hand; the pile's step per
        # hand over the slot is measured before (one hand fewer moved it by up to 6% on the
        # tuning cameras, enough to unread a bundle beside it); only on a slot found out of
        # focus (`_slot_found_blurred`), where it was measured
        swap = {
            id(x): y
            for x, y in zip(bursts, blurred_weak_hands(bursts, patches, slot_blur, o), strict=True)
            if x is not y
        }
        bursts = [swap.get(id(x), x) for x in bursts]
        rises = [(a, b, r, [swap.get(id(x), x) for x in inside]) for a, b, r, inside in rises]
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
            covered.update(id(x) for x in inside)
            if rise is None:  # no rise to read: the clear bursts of a change of focus count
                rows += [(x.end, 1, 0.9, "burst") for x in inside if x.clear(o)]
                continue
            sel = (t >= a.end) & (t <= b.start)
            present = bool(sel.any() and fg[sel].max() > o.presence)
            crossings = _crossings(t, fill, a, b, step)
            # where every hand was seen, the pile adds ballots only behind a hand over the
            # slot twice as long as usual: two voters at once
            hidden = reaches is None or any(x.reach and x.duration >= long for x in inside)
            if not hidden:
                inside = unanswered_hands(inside, rise / step, o)
            inside = hands_the_pile_holds(inside, rise / step, o)
            got = _assign(
                rise / step,
                inside,
                crossings,
                present,
                o,
                stats,
                since=a.end,
                hidden=hidden,
                touched=touched,
                beside=beside,
            )
            rows += got
    # a clear burst outside every rise counts only where the pile could not be read: on a
    # plateau the pile held still, and before the first one (an empty box, or a pile not yet
    # readable) only the ballot that made the first level can have gone in. A hand over the
    # slot counts wherever it is: the pile's edge, read to a fraction of a pixel, may not
    # show one ballot (an empty box, the edge behind one of the box's own). So does a ballot
    # seen going in on a box out of focus with no slot seen (`blurred`, `blur_patches`): its
    # pile's blurred edge moves with whoever stands behind the box by about a ballot, and
    # holds still under a voter's ballot until they leave (session 10: demo 94 cam-D003-004
    # and demo 102 cam-D006-003, σ 5)
    first = plateaus[0].start if plateaus else np.inf
    unsure = blind_mask(np.array([x.end for x in bursts]), blurred) if o.blur_patches else None
    for k, x in enumerate(bursts):
        if id(x) in covered or not x.clear(o):
            continue
        if (
            not np.isnan(step)
            and not x.reach
            and not (reaches is None and unsure is not None and unsure[k])
            and (any(p.start <= x.end <= p.end for p in plateaus) or x.end < first - o.settle_s)
        ):
            stats["unclear_bursts"] += 1
            continue
        rows.append((x.end, 1, 0.9, "burst"))
    drops = pd.DataFrame(rows, columns=["t_s", "ballots", "confidence", "evidence"])
    drops = drops.sort_values("t_s", kind="stable").reset_index(drop=True)
    visits = box_visits(t, series["fg"].to_numpy(float), o.presence)
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


def _settled(plateaus: list[Plateau], bursts: list[Burst], o: DropFinderOptions) -> list[Plateau]:
    """The plateaus without the short ones the pile passed on its way up: a level held less
    than `settle_s` followed by a rise with no clear burst in it."""
    out: list[Plateau] = []
    for k, p in enumerate(plateaus):
        nxt = plateaus[k + 1] if k + 1 < len(plateaus) else None
        if out and nxt is not None and p.end - p.start < o.settle_s:
            seen = any(p.end - 0.3 <= x.end <= nxt.start + 0.3 and x.clear(o) for x in bursts)
            if not seen:
                continue
        out.append(p)
    return out


def _crossings(t: np.ndarray, fill: np.ndarray, a: Plateau, b: Plateau, step: float) -> list[float]:
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
    inside: list[Burst],
    crossings: list[float],
    present: bool,
    o: DropFinderOptions,
    stats: dict[str, float],
    *,
    since: float = -np.inf,
    hidden: bool = True,
    touched: frozenset[int] = frozenset(),
    beside: frozenset[int] = frozenset(),
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
    same two cameras). There, and behind a hand long enough to be two (`hidden`), a hand
    alone in its rise while arms moved on both sides of the slot (`Burst.arms_both_sides`
    with `pile_arms`: a voter behind the box and one beside it, each reaching from where they
    stand) is two voters once the rise is `pile_arms_steps` or more (and under `more_steps`)
    above its one ballot: their hands joined, however short (a single voter's hand while the
    other voter stands beside moves both sides as much: the pile's rise tells them apart,
    session 9).
    `crossings[j]` is when the level passed j + ½ steps; `since` when the pile was last seen
    at its lower level; `touched` the ids of the hints as the slot's cover rose a little
    (`_touched`: a second voter's ballot, `side_patch_steps`); `beside` the ids of the hands
    with someone moving right of the slot just before (`_beside`): a hand alone in its rise
    `side_arm_steps` or more above its one ballot is two voters' then too."""
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
        # no hand over the slot, but ballots seen going in and the pile rising: hands the
        # slot did not show (a sleeve the colour of what lies behind the slot). One drop a
        # ballot-shaped patch, up to the rise's whole steps, each the patch nearest when the
        # level passed its step: a level held under `settle_s` between two such hands is
        # merged into one rise (`_settled`; demo 106 cam-D003-013, a stuffer's hands 1.2 s
        # apart, counted as one)
        left = list(shaped)
        out = []
        for when in crossings[: min(len(shaped), max(1, round(steps)))]:
            x = min(left, key=lambda x: abs(x.end - when))
            left.remove(x)
            out.append((x.end, 1, 0.8, "burst+fill"))
        stats["fill_only"] += len(out)
        return sorted(out)
    if len(clear) == 1 and (
        (
            clear[0].arms_both_sides(o.pile_arms, o.pile_arms_hand_s)
            and o.pile_arms_steps <= steps - 1 < o.more_steps
        )
        or (id(clear[0]) in beside and o.side_arm_steps <= steps - 1 < o.more_steps)
    ):
        # a hand alone in its rise, arms on both sides of the slot and the pile rising by
        # more than one ballot: two voters' hands joined; the second drop 0.1 s after. A hand
        # long enough to make the pile's other ballots count (`hidden`) too: two voters' hands
        # joined for 0.6-1.1 s (session 10, demo-clean 105 cam-D010-001 at 314.6 s). Or a
        # hand with someone moving right of the slot before it (`beside`) and the pile up
        # `side_arm_steps`: the voter beside the box reached at once (session 12)
        stats["fill_only"] += 1
        return [*rows, (clear[0].end + 0.1, 1, 0.9, "burst+fill")]
    if not hidden:
        passing = [
            x
            for x in inside
            if x.passing and not x.reach and (not o.front_most > 0 or x.front_rise < o.front_most)
        ]
        clear, rows = _hands_after_all(
            steps, passing, o.front_steps, clear, rows, crossings, present, stats
        )
        weak = [x for x in inside if x.weak and not x.reach]
        clear, rows = _hands_after_all(
            steps, weak, o.weak_steps, clear, rows, crossings, present, stats
        )
        more = o.more_steps + o.more_steps_per_hand * max(0, len(clear) - 1)
        if clear and steps - len(clear) >= more:
            return _with_hands(rows, clear, round(steps) - len(clear), crossings, stats)
        # a ballot seen going in after every hand over the slot, the slot's cover rising a
        # little as it vanished (`touched`), the pile rising for it too: a second voter
        # beside the box, their arm over the slot barely seen (session 10: demo 102
        # cam-D005-002 at 337.3 s; demo 104 cam-D009-001 at 355.5 s)
        last = max((x.end for x in clear), default=np.inf)  # no clear hand: no side patch
        side = [x for x in inside if id(x) in touched and x.end > last]
        if side and present and steps - len(clear) >= o.side_patch_steps > 0:
            for when in crossings[len(clear) : max(len(clear) + 1, round(steps))]:
                if side:
                    x = min(side, key=lambda x: abs(x.end - when))
                    side.remove(x)
                    rows.append((x.end, 1, 0.8, "burst+fill"))
                    stats["fill_only"] += 1
            return sorted(rows)
        return rows  # the edge's noise, or two hands at once
    if clear:
        extra = round(steps) - len(clear) if steps >= len(clear) + o.more_steps - 1 else 0
    else:
        extra = max(1, round(steps)) if steps >= o.hidden_steps and present else 0
    if extra > 0:
        others = [x.end for x in inside if not x.clear(o)]
        for j in range(len(clear), len(clear) + extra):
            when = crossings[min(j, len(crossings) - 1)]
            near = [x for x in others if -o.fill_before_s <= x - when <= o.fill_after_s]
            if near:
                when = min(near, key=lambda x: abs(x - when))
                others.remove(when)
            rows.append((when, 1, 0.7, "fill"))
        stats["fill_only"] += extra
    return rows


def _hands_after_all(
    steps: float,
    candidates: list[Burst],
    least: float,
    clear: list[Burst],
    rows: list[tuple[float, int, float, str]],
    crossings: list[float],
    present: bool,
    stats: dict[str, float],
) -> tuple[list[Burst], list[tuple[float, int, float, str]]]:
    """The clear hands of a rise of `steps` per-ballot steps (every hand seen) and their rows,
    with those of the `candidates` (coverings of the slot judged no hand) that the rise holds:
    while it stands `least` or more above the clear hands (0: none) and someone was at the
    box, up to its whole steps beyond them, each the candidate nearest when the level passed
    its step. The coverings taken for someone passing in front (`Burst.passing`, `front_steps`:
    the voter's own body, or whoever stood beside them, hid the box's bottom as their hand
    went in; session 13: demo 128 cam-D002-011 at 253.1 s, demo-clean 117 cam-D003-008 at
    341.9 s, a lone voter each, rises of 0.97 and 1.03 steps with no hand), and the hands
    taken for a voter's hand before or after their drop (`Burst.weak`, `weak_steps`: a second
    voter beside the first; session 14). In order of time."""
    left = list(candidates)
    excess = steps - len(clear)
    if not (left and present and least > 0 and excess >= least):
        return clear, rows
    took = []
    for j in range(len(clear), len(clear) + max(1, round(excess))):
        when = crossings[min(j, len(crossings) - 1)]  # a rise of under a step more: its last
        if left:
            x = min(left, key=lambda x: abs(x.end - when))
            left.remove(x)
            took.append(x)
    stats["fill_only"] += len(took)
    pairs = sorted(
        [*zip(clear, rows, strict=True), *((x, (x.end, 1, 0.8, "burst+fill")) for x in took)],
        key=lambda p: p[0].end,
    )
    return [x for x, _ in pairs], [r for _, r in pairs]


def _touched(series: pd.DataFrame, hints: list[Burst], o: DropFinderOptions) -> frozenset[int]:
    """The ids of the ballot-shaped hints (`Burst.shaped`: patches with no hand over the slot
    within 1 s) as the slot's cover rose at least `side_patch_cover` above its running median
    (`slot_cover_above`) within 0.3 s of the patch vanishing: an arm over the slot partly
    seen. Empty when `side_patch_steps` is 0."""
    if not o.side_patch_steps:
        return frozenset()
    t = series["t_s"].to_numpy(float)
    high = slot_cover_above(series)
    out = set()
    for x in hints:
        near = (t >= x.end - 0.3) & (t <= x.end + 0.3)
        if x.shaped and near.any() and high[near].max() >= o.side_patch_cover:
            out.add(id(x))
    return frozenset(out)


def _beside(series: pd.DataFrame, reaches: list[Burst], o: DropFinderOptions) -> frozenset[int]:
    """The ids of the hands over the slot with motion of `side_arm` or more in the arm window
    right of the slot (`counting.arms`, `arm_r`) in the `side_arm_s` before their ballot went
    in: someone beside the box on its right, where a second voter stands and reaches from.
    Empty when `side_arm` is 0 or the series has no arm windows."""
    if not o.side_arm > 0 or "arm_r" not in series:
        return frozenset()
    return frozenset(
        id(x)
        for x in reaches
        if x.reach and arms_in_hand(series, x.end - o.side_arm_s, x.end)[1] >= o.side_arm
    )


def _crowded(series: pd.DataFrame, reaches: list[Burst], o: DropFinderOptions) -> frozenset[int]:
    """The ids of the hands over the slot while the watched region changed `crowd_fg` times
    or more as much as at the camera's usual hand (the mean of `fg` within a second of the
    ballot going in, against its median over the camera's hands): two people at the box, the
    second beside the voter, where `_beside`'s arm window may not see them move. Empty when
    `crowd_fg` is 0 or the camera has fewer than `crowd_hands` hands."""
    hands = [x for x in reaches if x.reach]
    if not o.crowd_fg > 0 or len(hands) < o.crowd_hands:
        return frozenset()
    t = series["t_s"].to_numpy(float)
    fg = series["fg"].to_numpy(float)

    def around(when: float) -> float:
        values = fg[(t >= when - 1.0) & (t <= when + 1.0)]
        values = values[np.isfinite(values)]
        return float(values.mean()) if len(values) else np.nan

    seen = np.array([around(x.end) for x in hands])
    usual = float(np.nanmedian(seen)) if np.isfinite(seen).any() else np.nan
    if not usual > 0:
        return frozenset()
    return frozenset(id(x) for x, f in zip(hands, seen, strict=True) if f >= o.crowd_fg * usual)


def _hides_hands(reaches: list[Burst], patches: list[Burst], o: DropFinderOptions) -> bool:
    """Whether a slot found out of focus showed fewer hands over it than `blur_slot_hands`
    of the ballot-shaped patches at the lid (`Burst.clear`): its blurred bar does not show
    the hands going in (session 14: demo 196 cam-D003-006, σ 4.9, 2 hands for 23 patches,
    2 of 31 ballots counted; the other blurred slots of the tuning cases showed 0.9-1.2 hands
    a patch, or no patch at all)."""
    hands = sum(x.reach for x in reaches)
    return hands < o.blur_slot_hands * sum(x.clear(o) for x in patches)


def _slot_found_blurred(series: pd.DataFrame, blurred: Sequence[Range]) -> bool:
    """Whether the slot was first seen (its first measured cover) with the picture out of
    focus (`blurred`): its mask is then the blurred bar's dark core, which a voter standing at
    the box keeps partly covered (`blurred_weak_hands`). A slot found sharp before the picture
    blurred keeps its thin mask, and its weak hands were voters' (session 10, second task:
    demo 110 cam-D005-001, found at 0 s, blurred from 92 s, lost two true drops to the rule)."""
    if not blurred or "slot_cover" not in series:
        return False
    seen = np.isfinite(series["slot_cover"].to_numpy(float))
    if not seen.any():
        return False
    first = series["t_s"].to_numpy(float)[seen][:1]
    return bool(blind_mask(first, blurred)[0])


def _with_hands(
    rows: list[tuple[float, int, float, str]],
    clear: list[Burst],
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
