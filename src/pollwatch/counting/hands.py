"""Which hands over the ballot slot put a ballot in, for `pollwatch.counting.drops`.

`cues.slot_hands` says when something covered the slot; these rules judge each hand against
the other cues: a ballot patch seen going in with it, how long someone stayed at the box,
whether the pile held still, the hands beside it. A hand judged no drop becomes a hint (only
a hint of when, should the pile have risen); one hand may also be two voters'.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pollwatch.counting.cues import Burst, Plateau, blind_mask
from pollwatch.counting.drop_options import DropFinderOptions
from pollwatch.counting.observability import Range

__all__ = ["blurred_weak_hands", "hands_the_pile_holds", "judge_hands", "unanswered_hands"]


def judge_hands(
    reaches: list[Burst],
    patches: list[Burst],
    visits: list[tuple[float, float]],
    still: Sequence[Plateau],
    o: DropFinderOptions,
) -> list[Burst]:
    """The hands over the slot `reaches` judged against the ballot patches `patches`, the
    `visits` and the pile's plateaus `still`, rule by rule: a covering taken for a passer-by
    that showed a ballot, while someone stayed at the box and the pile did not hold still,
    is a hand; a hand during a brief visit, over a pile holding still,
    or barely covering the slot beside a voter's drop is a hint; hands in quick succession
    keep one per ballot seen; a long hand, or one with a late ballot, is two voters'."""
    reaches = _seen_going_in(reaches, patches, visits, still, o)
    reaches = _brief_visits(reaches, patches, visits, still, o)
    reaches = _still_hands(reaches, patches, still, o)
    reaches = _weak_hands(reaches, patches, o)
    return _two_voters(_one_per_patch(reaches, patches, o), patches, o)


def _seen_going_in(
    reaches: list[Burst],
    patches: list[Burst],
    visits: list[tuple[float, float]],
    still: Sequence[Plateau],
    o: DropFinderOptions,
) -> list[Burst]:
    """A covering of the slot taken for someone passing in front is a hand after all when a
    ballot was seen going in with it: a patch shaped like a ballot vanishing at the slot
    within `patch_with_hand_s` of when the covering says (someone passing in front while a
    voter's hand is at the slot). What moved beside the slot meanwhile is not read as arms:
    the passer-by moves both sides (session 9, demo 99 cam-D005-001 at 208.9 s: a lone
    voter's hand taken for two voters' by `Burst.arms_both_sides`).

    The patch alone is no proof when nothing else says a voter was there: a body crossing
    the slot's region leaves a white patch vanishing there too (a passer-by's or a leaving
    voter's shirt). So the covering stays a hint while the pile held still through it
    (`_held`: a ballot would have raised it) or while whoever was at the box stayed less
    than `visit_min_s` (walking past; session 10: demo-clean 105 cam-D001-006 at 262.2 s, a
    passer-by 1 s after a voter left, the pile still for 12 s; demo 104 cam-D008-003 at
    30.7 s, a passer-by 0.7 s at the box). On the tuning seeds every covering turned into a
    true voter's hand came during a stay of 4.5 s or more with the pile not holding still.
    A covering left to a passer-by while whoever was at the box stayed that briefly is
    theirs whatever the pile does (`Burst.passing` off: `drops._hands_after_all` weighs the
    others against the pile)."""
    out = []
    for r in reaches:
        if (
            not r.reach
            and any(
                p.clear(o) and abs(p.end - (r.start + o.reach_lead_s)) <= o.patch_with_hand_s
                for p in patches
            )
            and not _held(r, still, o)
            and not _brief(r, visits, o)
        ):
            # what moved beside the slot meanwhile was the passer-by too, not a second arm
            r = dataclasses.replace(r, end_x=0.0, reach=True, arms=(np.nan, np.nan))
        elif r.passing and _brief(r, visits, o):
            # whoever was there walked past: not a voter whose hand the pile may show
            # (`drops._hands_after_all`)
            r = dataclasses.replace(r, passing=False)
        out.append(r)
    return out


def _brief(r: Burst, visits: Sequence[tuple[float, float]], o: DropFinderOptions) -> bool:
    """Whether `r` came while someone was at the box (a visit within 1 s of it) for less
    than `visit_min_s`: an arm passing over the slot, someone walking past."""
    stay = [b - a for a, b in visits if a - 1.0 <= r.end <= b + 1.0]
    return bool(stay) and max(stay) < o.visit_min_s


def _brief_visits(
    reaches: list[Burst],
    patches: Sequence[Burst],
    visits: list[tuple[float, float]],
    still: Sequence[Plateau],
    o: DropFinderOptions,
) -> list[Burst]:
    """A hand over the slot while someone was at the box for less than `visit_min_s` is an
    arm passing over it: a voter walks up, finds the slot and goes, seconds in all (on the
    simulated demo cameras at least 4 s). Only a hint of when, should the pile have risen.
    Unless a ballot was seen going in with it (a patch vanishing at the slot within
    `patch_with_hand_s`) while the pile was not holding still (the hand not inside one of
    the plateaus `still`): a voter mostly outside the watched region."""
    out = []
    for r in reaches:
        if r.reach and _brief(r, visits, o):
            seen = any(p.clear(o) and abs(p.end - r.end) <= o.patch_with_hand_s for p in patches)
            if not seen or _held(r, still, o):
                r = _as_hint(r)
        out.append(r)
    return out


def _as_hint(r: Burst) -> Burst:
    """Hand `r` taken for no drop: only a hint of when, should the pile have risen."""
    return dataclasses.replace(r, end_x=np.inf, reach=False)


def _held(r: Burst, still: Sequence[Plateau], o: DropFinderOptions) -> bool:
    """Whether hand `r` ended while the pile held still: inside one of the plateaus `still`,
    `settle_s` or more before its end (a ballot put in then would have raised it)."""
    return any(q.start + 0.3 <= r.end <= q.end - o.settle_s for q in still)


def _ballots_at_slot(patches: Sequence[Burst], o: DropFinderOptions) -> list[float]:
    """When each ballot-shaped patch vanished at the slot."""
    return [p.end for p in patches if p.clear(o) and abs(p.end_x) <= o.slot_x]


def _showed(r: Burst, at_slot: Sequence[float], o: DropFinderOptions) -> bool:
    """Whether a ballot went in at the slot (`at_slot`) within `patch_near_s` of hand `r`."""
    return any(abs(e - r.end) <= o.patch_near_s for e in at_slot)


def _still_hands(
    reaches: list[Burst],
    patches: list[Burst],
    still: Sequence[Plateau],
    o: DropFinderOptions,
) -> list[Burst]:
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


def _weak_hands(reaches: list[Burst], patches: list[Burst], o: DropFinderOptions) -> list[Burst]:
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
            r = dataclasses.replace(_as_hint(r), weak=True)
        out.append(r)
    return out


def blurred_weak_hands(
    bursts: list[Burst], patches: list[Burst], blurred: Sequence[Range], o: DropFinderOptions
) -> list[Burst]:
    """On a slot out of focus (`blurred`: the camera audit's ranges) a voter standing at the
    box keeps its blurred bar partly covered, and the wobbles of that cover, or its fall as
    they leave, pass as hands: a hand there whose peak covers the slot under `blur_cover`
    above its running median, with no ballot patch at the slot near it (`patch_near_s`), is
    only a hint (session 10: on the three blurred slots of the tuning seeds, demo 71
    cam-D008-006, 93 cam-D004-002, 106 cam-D003-009, such hands were 6 false, 1 true; those
    with a patch 2 true; every hand of 0.3 or more but 2 a voter's). `bursts` in order, one
    for one: the hints and other bursts among them left as they are."""
    if not (o.blur_cover > 0 and blurred and bursts):
        return bursts
    at_slot = _ballots_at_slot(patches, o)
    inside = blind_mask(np.array([r.end for r in bursts]), blurred)
    return [
        _as_hint(r)
        if r.reach and inside[k] and r.peak < o.blur_cover and not _showed(r, at_slot, o)
        else r
        for k, r in enumerate(bursts)
    ]


def unanswered_hands(inside: list[Burst], steps: float, o: DropFinderOptions) -> list[Burst]:
    """The bursts `inside` one rise of the pile by `steps` per-ballot steps, where every hand
    over the slot was seen, with the hands the pile did not answer taken for hints: while the
    rise falls `unanswered_steps` or more short of the clear bursts, the weakest hand whose
    peak covers the slot at most `unanswered_peak` above its running median while arms moved
    on both sides of it (`unanswered_arms`) is no drop: voters leaving and arriving at a
    change-over, one brushing the slot, the pile flat (session 10's hidden set, demo 114
    cam-D002-008 at 88.45 s, a hand of 0.16 with arms 0.17/0.15 in a rise of 0.15 steps,
    and cam-D003-002 at 69.97 s, 0.18 with arms 0.10/0.13 beside a voter's 0.36 in a rise
    of 0.74). A lone voter's weak hand moves one side (demo 112 cam-D007-001 at 88.85 s:
    0.19, arms 0.11/0.01, its ballot shown by the pile's next rise). In order, one for
    one."""
    if not o.unanswered_peak > 0:
        return inside
    out = list(inside)
    while True:
        clear = [k for k, x in enumerate(out) if x.clear(o)]
        weak = [
            k
            for k in clear
            if out[k].peak <= o.unanswered_peak and out[k].arms_both_sides(o.unanswered_arms, 0.0)
        ]
        if not weak or len(clear) - steps < o.unanswered_steps:
            return out
        k = min(weak, key=lambda k: out[k].peak)
        out[k] = _as_hint(out[k])


def hands_the_pile_holds(inside: list[Burst], steps: float, o: DropFinderOptions) -> list[Burst]:
    """The bursts `inside` one rise of the pile by `steps` per-ballot steps, with the hands
    the rise cannot hold taken for hints: while the rise falls `short_steps` or more short of
    the clear bursts, a hand split for two voters' (`_two_voters`: its copy, the same start
    and length ending later) is one voter's, and a hand covering the slot at most
    `weak_cover` above its running median is a brush of the slot, the weakest first (of
    equal peaks the later). One voter alone at the box: the pile rose by one ballot
    (session 12: clean 113 cam-D003-009 at 242.97-246.15 s, two brushes of 0.15 and a hand
    of 1.38 s split in two, in a rise of 1.04 steps; demo 136 cam-D012-004 at 287.07 s, a
    split beside a voter's hand in 0.74 steps). Whether every hand was seen or not: a hand
    long enough to be two voters' does not raise the pile either. A true split rose the
    pile by about a ballot more than a single hand (three on the tuning cases, 0.95-0.98
    steps short of their two drops)."""
    if not o.short_steps > 0:
        return inside
    out = list(inside)
    while True:
        clear = [k for k, x in enumerate(out) if x.clear(o)]
        if len(clear) - steps < o.short_steps:
            return out
        copies = [
            k
            for k in clear
            if any(
                j != k
                and out[j].start == out[k].start
                and out[j].duration == out[k].duration
                and out[j].end < out[k].end
                for j in clear
            )
        ]
        weak = [k for k in clear if out[k].peak <= o.weak_cover]
        if not copies and not weak:
            return out
        k = min({*copies, *weak}, key=lambda k: (out[k].peak, -out[k].end))
        out[k] = _as_hint(out[k])


def _one_per_patch(reaches: list[Burst], patches: list[Burst], o: DropFinderOptions) -> list[Burst]:
    """Hands over the slot less than `reach_chain_s` one after another are one voter's hand
    pausing over the slot when fewer ballots showed at the slot near them (white patches
    ending within `patch_near_s` of the hands, a patch lasting `patch_two_s` or more being two
    ballots one after the other): of those hands, only the ones nearest to a patch stay. With
    no patch seen there is nothing to tell one voter from two, and every hand stays."""
    at_slot = [p for p in patches if abs(p.end_x) <= o.slot_x]
    groups: list[list[Burst]] = []
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


def _two_voters(reaches: list[Burst], patches: list[Burst], o: DropFinderOptions) -> list[Burst]:
    """Two voters' hands joined into one (they were under `reach_join_s` apart): a hand over
    the slot lasting `two_hands_s` or more, and twice as long as the camera's usual one, or
    one of `two_arms_hand_s` or more while arms moved in on both sides of the slot (each
    side's share at least `two_arms`: `Burst.arms_both_sides`; a single voter's covering is
    shorter, while the other voter's arm may be moving beside it), is two drops, the second
    0.1 s after the first (placed together, the pile's rise that goes with them sees both),
    unless someone crossed in front of the box during it (`split_front`: session 10's
    hidden demo-clean 111 cam-D003-006 at 51.37 s, a voter's hand joined over 1.12 s with a
    passer-by's crossing, arms 0.56/0.49, the box's bottom hidden 1.0 more than before); a
    hand of `late_hand_s` or more with a ballot patch vanishing at the
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
        crossed = o.split_front > 0 and r.front_rise >= o.split_front
        if not crossed and (r.duration >= long or r.arms_both_sides(o.two_arms, o.two_arms_hand_s)):
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
