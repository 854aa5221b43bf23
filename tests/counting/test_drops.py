"""From watcher series to drops: bursts, pile steps, bundles, false alarms, blind time
(when the box could not be watched is test_unobservable.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwatch.counting.cues import Burst
from pollwatch.counting.drop_options import DropFinderOptions
from pollwatch.counting.drops import DROP_COLUMNS, _assign, _beside, _crowded, find_drops
from pollwatch.counting.hands import hands_the_pile_holds, unanswered_hands
from pollwatch.counting.watcher import SERIES_COLUMNS

FPS, BOX_H = 12.5, 80.0
BALLOT = 0.03 * BOX_H**2  # a ballot's patch at the lid, pixels


def series(
    seconds: float,
    bursts: list[tuple[float, float]] = (),  # (end time, centre offset at the end)
    steps: list[tuple[float, float]] = (),  # (time, pixels the pile rises)
    present: list[tuple[float, float]] = (),
    reaches: list[tuple[float, float]] | None = None,  # (drop time, seconds the slot is hidden)
    **columns: object,
) -> pd.DataFrame:
    """A synthetic watcher series: quiet box, a pile 20 px high, bursts 0.44 s long ending at
    the slot, pile steps (fully shown 0.4 s after the drop), people at the box; with
    `reaches`, a slot seen throughout and hidden by half from each drop time on."""
    t = np.arange(0, seconds, 1 / FPS)
    white, white_x = np.zeros_like(t), np.full_like(t, np.nan)
    for end, x in bursts:
        on = (t > end - 0.44) & (t <= end)
        white[on], white_x[on] = BALLOT, np.linspace(-0.3, x, on.sum())
    fill = np.full_like(t, 20.0)
    for when, rise in steps:
        fill[t >= when + 0.4] += rise
    fg = np.zeros_like(t)
    for a, b in present:
        fg[(t >= a) & (t <= b)] = 0.2
    frame = pd.DataFrame(
        {
            "t_s": t,
            "white": white,
            "white_x": white_x,
            "fill": fill,
            "fill_contrast": 90.0,
            "fill_above": 120.0,
            "fill_line": np.inf,
            "fg": fg,
            "luma": 110.0,
            "outline": 1.0,
            "view": 1.0,
            "motion": 1.0,
            "slot_cover": np.nan,
            "front": 0.0,
            "arm_l": np.nan,
            "arm_r": np.nan,
        }
    )
    if reaches is not None:
        cover = np.zeros_like(t)
        for when, hidden in reaches:
            cover[(t >= when - 0.05) & (t < when - 0.05 + hidden)] = 0.5
        frame["slot_cover"] = cover
    for name, value in columns.items():
        frame[name] = value
    return frame[SERIES_COLUMNS]


def voters(times: list[float], rise: float = 1.0) -> dict:
    return {
        "bursts": [(x, 0.0) for x in times],
        "steps": [(x, rise) for x in times],
        "present": [(x - 3, x + 2) for x in times],
    }


def near_35(drops: pd.DataFrame) -> np.ndarray:
    """The drops' times from 34 to 37 s (around a hand at 35 s), in order."""
    t = drops["t_s"].to_numpy()
    return np.sort(t[(t > 34) & (t < 37)])


def test_each_ballot_seen_and_stepped_is_a_drop() -> None:
    times = [10.0, 20.0, 30.0, 40.0, 50.0]
    drops, facts = find_drops(series(60, **voters(times)), BOX_H)
    assert list(drops.columns) == DROP_COLUMNS
    assert drops["t_s"].to_numpy() == pytest.approx(times, abs=0.1)
    assert (drops["evidence"] == "burst+fill").all() and drops["ballots"].sum() == 5
    assert facts["step_px"] == pytest.approx(1.0)
    assert (drops["dwell_s"] > 4).all()


@pytest.mark.parametrize(
    ("extra", "expected", "evidence"),
    [
        # a white patch that vanishes far from the slot, the pile still: no ballot
        ({"bursts": [(35.0, 0.5)], "present": [(33, 37)]}, 5, None),
        # the pile rose with someone at the box but no ballot was seen (a white shirt)
        ({"steps": [(35.0, 1.0)], "present": [(33, 37)]}, 6, "fill"),
        # the pile rose with nobody there: a measurement shift, not a ballot
        ({"steps": [(35.0, 1.0)]}, 5, None),
    ],
)
def test_bursts_and_steps_check_each_other(
    extra: dict, expected: int, evidence: str | None
) -> None:
    base = voters([10.0, 20.0, 30.0, 50.0, 60.0])
    merged = {k: [*base.get(k, []), *extra.get(k, [])] for k in ("bursts", "steps", "present")}
    drops, _ = find_drops(series(70, **merged), BOX_H)
    assert drops["ballots"].sum() == expected
    if evidence:
        assert evidence in set(drops["evidence"])


def test_a_bundle_is_one_hand_and_many_steps() -> None:
    base = voters([10.0, 20.0, 30.0, 50.0])
    base["bursts"].append((40.0, 0.0))
    base["steps"].append((40.0, 8.0))
    base["present"].append((37, 42))
    drops, facts = find_drops(series(60, **base), BOX_H)
    bundle = drops[drops["ballots"] > 1]
    assert len(bundle) == 1 and bundle["ballots"].iloc[0] == 8
    assert bundle["t_s"].iloc[0] == pytest.approx(40.0, abs=0.1) and facts["bundles"] == 1


def test_without_a_readable_pile_clear_bursts_count() -> None:
    s = series(60, **voters([10.0, 20.0, 30.0]), fill=np.nan)
    drops, facts = find_drops(s, BOX_H)
    assert len(drops) == 3 and (drops["evidence"] == "burst").all()
    assert np.isnan(facts["step_px"])


def test_blind_ranges_are_skipped() -> None:
    s = series(60, **voters([10.0, 20.0, 30.0, 40.0, 50.0]))
    drops, _ = find_drops(s, BOX_H, blind=[(25.0, 45.0, "outage video")])
    assert drops["t_s"].round().tolist() == [10.0, 20.0, 50.0]


def test_quiet_series_has_no_drops() -> None:
    s = series(30)
    drops, _ = find_drops(s, BOX_H)
    assert drops.empty and list(drops.columns) == DROP_COLUMNS


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: find_drops(series(5), 0.0), "box_h"),
        (lambda: find_drops(series(5).drop(columns="white"), BOX_H), "lacks"),
        (lambda: DropFinderOptions(burst_area=0), "burst_area"),
        (lambda: DropFinderOptions(plateau_samples=1), "plateau_samples"),
        (lambda: DropFinderOptions(pile_arms=-0.1), "pile_arms must"),
        (lambda: DropFinderOptions(pile_arms_steps=float("nan")), "pile_arms_steps"),
        (lambda: DropFinderOptions(two_arms_hand_s=-1.0), "two_arms_hand_s"),
        (lambda: DropFinderOptions(fill_before_s=-1.0), "fill_before_s"),
        (lambda: DropFinderOptions(fill_after_s=-1.0), "fill_after_s"),
        (lambda: DropFinderOptions(blur_cover=-0.1), "blur_cover"),
        (lambda: DropFinderOptions(side_patch_steps=-1.0), "side_patch_steps"),
        (lambda: DropFinderOptions(side_patch_cover=float("nan")), "side_patch_cover"),
    ],
)
def test_bad_arguments(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("extra", "front", "expected"),
    [
        # a hand at the slot, the ballot hidden against a white shirt: the hand is the drop
        ({"reaches": [(35.0, 0.4)], "steps": [(35.0, 1.0)], "present": [(33, 37)]}, 0.0, 6),
        # a white shirt passing behind the box: a white patch, but nothing over the slot
        ({"bursts": [(35.0, 0.0)], "present": [(33, 37)]}, 0.0, 5),
        # someone passing in front of the box hides the slot and the box's bottom
        ({"reaches": [(35.0, 0.4)], "present": [(33, 37)]}, 0.5, 5),
        # ... the pile rising a ballot for it: a voter's body hid half the box's bottom as
        # their hand went in (`front_steps`); someone crossing in front hides all of it
        ({"reaches": [(35.0, 0.4)], "steps": [(35.0, 1.0)], "present": [(33, 37)]}, 0.5, 6),
        ({"reaches": [(35.0, 0.4)], "steps": [(35.0, 1.0)], "present": [(33, 37)]}, 1.0, 5),
        # ... while a voter's ballot is seen going in at the slot that very moment
        (
            {
                "reaches": [(35.0, 0.4)],
                "bursts": [(35.0, 0.0)],
                "steps": [(35.0, 1.0)],
                "present": [(33, 37)],
            },
            0.5,
            6,
        ),
        # ... a white patch vanishing there, but the pile holding still: the passer-by's
        # shirt leaving the slot's region (demo-clean 105 cam-D001-006)
        ({"reaches": [(35.0, 0.4)], "bursts": [(35.0, 0.0)], "present": [(33, 37)]}, 0.5, 5),
        # ... or nobody at the box for longer than the passer-by's second (demo 104
        # cam-D008-003)
        (
            {
                "reaches": [(35.0, 0.4)],
                "bursts": [(35.0, 0.0)],
                "steps": [(35.0, 1.0)],
                "present": [(34.6, 35.8)],
            },
            0.5,
            5,
        ),
        # an arm over the slot while someone was at the box for a second: a passer-by
        ({"reaches": [(35.0, 0.4)], "steps": [(35.0, 1.0)], "present": [(34.6, 35.8)]}, 0.0, 5),
        # no hand over the slot, but a ballot seen going in and the pile rising: a sleeve
        # the colour of what lies behind the slot
        ({"bursts": [(35.0, 0.0)], "steps": [(35.0, 1.0)], "present": [(33, 37)]}, 0.0, 6),
        # ... with the pile's edge showing two thirds of a step: still a ballot
        ({"bursts": [(35.0, 0.0)], "steps": [(35.0, 0.65)], "present": [(33, 37)]}, 0.0, 6),
        # ... but half a step is the edge's noise
        ({"bursts": [(35.0, 0.0)], "steps": [(35.0, 0.5)], "present": [(33, 37)]}, 0.0, 5),
        # the slot hidden for long: something stood in front of it, not a hand
        ({"reaches": [(35.0, 4.0)], "present": [(33, 40)]}, 0.0, 5),
    ],
)
def test_a_hand_over_the_slot_says_when_a_ballot_went_in(
    extra: dict, front: float, expected: int
) -> None:
    times = [10.0, 20.0, 30.0, 50.0, 60.0]
    base = {**voters(times), "reaches": [(x, 0.4) for x in times]}
    merged = {
        k: [*base.get(k, []), *extra.get(k, [])] for k in ("bursts", "steps", "present", "reaches")
    }
    s = series(70, **merged)
    t = s["t_s"].to_numpy()
    s["front"] = np.where((t > 34.8) & (t < 35.6), front, 0.0)  # a passer-by, 0.8 s
    drops, facts = find_drops(s, BOX_H)
    assert drops["ballots"].sum() == expected
    found = drops["t_s"].to_numpy()
    assert all(np.min(np.abs(found - x)) <= 0.2 for x in times)
    assert facts["reaches"] >= len(times)


def test_the_first_ballot_changing_the_box_bottom_for_good_is_a_hand() -> None:
    """Paper where the empty box's floor was changes its bottom from then on: not someone
    passing in front."""
    times = [10.0, 20.0, 30.0]
    s = series(40, **voters(times), reaches=[(x, 0.4) for x in times])
    t = s["t_s"].to_numpy()
    s["front"] = np.where(t > 10.1, 0.8, 0.0)
    drops, _ = find_drops(s, BOX_H)
    assert drops["t_s"].to_numpy() == pytest.approx(times, abs=0.2)


@pytest.mark.parametrize(
    ("hands", "patches", "rise", "expected"),
    [
        # one voter's hand pausing over the slot: two coverings, one ballot seen going in
        ([35.0, 35.6], [35.3], 1.0, 6),
        # two voters 0.75 s apart, each ballot seen going in
        ([35.0, 35.75], [35.0, 35.75], 2.0, 7),
        # no ballot seen (white shirts): nothing tells one voter from two, both hands count
        ([35.0, 35.6], [], 1.0, 7),
        # two ballots one after the other make one long patch at the slot
        ([35.0, 35.6], [35.3, 35.7], 2.0, 7),
        # two hands seen, the pile rising 4.2 steps: a small bundle beside a voter's ballot
        ([35.0, 35.75], [35.0, 35.75], 4.2, 9),
        # ... rising 3.5 steps: within the edge's noise of the hands seen
        ([35.0, 35.75], [35.0, 35.75], 3.5, 7),
    ],
)
def test_hands_in_quick_succession_count_the_ballots_seen(
    hands: list[float], patches: list[float], rise: float, expected: int
) -> None:
    times = [10.0, 20.0, 30.0, 50.0, 60.0]
    base = {**voters(times), "reaches": [(x, 0.4) for x in times]}
    base["reaches"] += [(x, 0.1) for x in hands]
    base["bursts"] += [(x, 0.0) for x in patches]
    base["steps"].append((hands[-1], rise))  # the pile shows it after the last hand
    base["present"].append((33.0, 38.0))
    drops, _ = find_drops(series(70, **base), BOX_H)
    assert drops["ballots"].sum() == expected
    assert (drops["evidence"] != "fill").all()  # every ballot went in with a hand seen
    found = drops["t_s"].to_numpy()
    assert all(np.min(np.abs(found - x)) <= 0.2 for x in times)


@pytest.mark.parametrize(
    ("covered", "rise", "expected"),
    [
        # two voters' hands joined into one covering of 1.3 s (three times the usual 0.4 s)
        ([(35.0, 0.4), (35.5, 0.8)], 2.0, 7),
        # the same with a pile too flat to tell: still two
        ([(35.0, 0.4), (35.5, 0.8)], 1.0, 7),
        # one voter's slow hand of 0.8 s (twice the usual, under 1.1 s): one
        ([(35.0, 0.4), (35.5, 0.3)], 1.0, 6),
    ],
)
def test_a_hand_far_longer_than_usual_is_two_voters(
    covered: list[tuple[float, float]], rise: float, expected: int
) -> None:
    times = [10.0, 20.0, 30.0, 50.0, 60.0]
    base = {**voters(times), "reaches": [(x, 0.4) for x in times] + covered}
    base["bursts"].append((35.0, 0.0))
    base["steps"].append((35.0, rise))
    base["present"].append((33.0, 38.0))
    drops, _ = find_drops(series(70, **base), BOX_H)
    assert drops["ballots"].sum() == expected
    if expected == 7:
        near = near_35(drops)
        assert len(near) == 2 and near[1] - near[0] == pytest.approx(0.1)


def hand_at_35(
    hand_s: float, rise: float, arms: tuple[float, float], usual_s: float = 0.4
) -> pd.DataFrame:
    """Five voters' hands of `usual_s` and one more of `hand_s` at 35 s, with a ballot seen
    going in and the pile rising `rise` steps, while arms moved left and right of the slot
    (`arms`) during it."""
    times = [10.0, 20.0, 30.0, 50.0, 60.0]
    base = {**voters(times), "reaches": [(x, usual_s) for x in times] + [(35.0, hand_s)]}
    base["bursts"].append((35.0, 0.0))
    base["steps"].append((35.0, rise))
    base["present"].append((33.0, 38.0))
    s = series(70, **base)
    t = s["t_s"].to_numpy()
    during = (t >= 34.9) & (t <= 35.0 + hand_s)
    s["arm_l"], s["arm_r"] = np.where(during, arms[0], 0.0), np.where(during, arms[1], 0.0)
    return s


@pytest.mark.parametrize(
    ("hand_s", "usual_s", "rise", "arms", "options", "expected"),
    [
        # one hand of 0.6 s while arms moved in on both sides of the slot: two voters, one
        # behind the box and one beside, their hands joined
        (0.6, 0.4, 1.0, (0.45, 0.4), {"two_arms": 0.3}, 7),
        # an arm on one side only: one voter
        (0.6, 0.4, 1.0, (0.45, 0.1), {"two_arms": 0.3}, 6),
        (0.6, 0.4, 1.0, (0.0, 0.5), {"two_arms": 0.3}, 6),
        # the rule off
        (0.6, 0.4, 1.0, (0.45, 0.4), {"two_arms": 0.0}, 6),
        # arms not measured (a series from before they were)
        (0.6, 0.4, 1.0, (np.nan, np.nan), {"two_arms": 0.3}, 6),
        # a short hand (0.35 s) alone in a rise of two ballots while arms moved on both sides
        # of the slot: a voter behind the box and one beside it, their hands joined
        (0.35, 0.35, 2.0, (0.15, 0.12), {"pile_arms": 0.09}, 7),
        (0.35, 0.35, 1.5, (0.15, 0.12), {"pile_arms": 0.09}, 7),
        # the pile rising by one ballot: one voter, the other only standing beside
        (0.35, 0.35, 1.0, (0.15, 0.12), {"pile_arms": 0.09}, 6),
        (0.35, 0.35, 1.4, (0.15, 0.12), {"pile_arms": 0.09}, 6),
        # a rise `more_steps` or more above the hand: a bundle of 3 (the bundle rule), not two
        (0.35, 0.35, 3.0, (0.15, 0.12), {"pile_arms": 0.09}, 8),
        # an arm on one side only: one voter, whatever the pile's edge says
        (0.35, 0.35, 2.0, (0.15, 0.02), {"pile_arms": 0.09}, 6),
        # the rule off
        (0.35, 0.35, 2.0, (0.15, 0.12), {"pile_arms": 0.0}, 6),
        # arms not measured
        (0.35, 0.35, 2.0, (np.nan, np.nan), {"pile_arms": 0.09}, 6),
    ],
)
def test_a_hand_with_arms_from_both_sides_is_two_voters(
    hand_s: float,
    usual_s: float,
    rise: float,
    arms: tuple[float, float],
    options: dict[str, float],
    expected: int,
) -> None:
    s = hand_at_35(hand_s, rise, arms, usual_s=usual_s)
    drops, _ = find_drops(s, BOX_H, DropFinderOptions(**options))
    assert drops["ballots"].sum() == expected
    near = near_35(drops)
    assert near[0] == pytest.approx(35.0, abs=0.1)
    if expected == 7:
        assert len(near) == 2 and near[1] - near[0] == pytest.approx(0.1)


@pytest.mark.parametrize(("front", "expected"), [(0.8, 6), (0.0, 7)])
def test_arms_moving_while_a_passer_by_hides_the_box_are_not_a_second_voter(
    front: float, expected: int
) -> None:
    """A lone voter's hand joined to a passer-by's covering of the slot (a ballot seen going
    in with it): both sides of the slot moved, but by the passer-by (demo 99 cam-D005-001);
    without the passer-by, the same arms are two voters'."""
    s = hand_at_35(0.9, 1.0, (0.4, 0.4))
    t = s["t_s"].to_numpy()
    s["front"] = np.where((t > 35.4) & (t < 35.8), front, 0.0)
    drops, _ = find_drops(s, BOX_H)
    assert drops["ballots"].sum() == expected


@pytest.mark.parametrize(
    ("hand_s", "patch_at", "expected", "second"),
    [
        # two voters at once: one hand of 0.6 s, the second ballot vanishing 0.4 s after the
        # first went in, while the hand still covered the slot
        (0.6, 35.4, 7, 35.4),
        # the patch only 0.2 s after the hand's ballot: that hand's own ballot
        (0.6, 35.2, 6, None),
        # a short hand (0.4 s): the patch after it is not under that hand
        (0.4, 35.4, 6, None),
        # the patch after the hand had left the slot: not a second voter
        (0.6, 35.9, 6, None),
    ],
)
def test_a_ballot_going_in_late_under_one_hand_is_a_second_voter(
    hand_s: float, patch_at: float, expected: int, second: float | None
) -> None:
    times = [10.0, 20.0, 30.0, 50.0, 60.0]
    base = {**voters(times), "reaches": [(x, 0.4) for x in times] + [(35.0, hand_s)]}
    base["bursts"].append((patch_at, 0.0))
    base["steps"].append((35.0, 1.0))
    base["present"].append((33.0, 38.0))
    drops, _ = find_drops(series(70, **base), BOX_H)
    assert drops["ballots"].sum() == expected
    near = near_35(drops)
    assert near[0] == pytest.approx(35.0, abs=0.1)
    if second is not None:
        assert near[1] == pytest.approx(second, abs=0.1)


@pytest.mark.parametrize(
    ("patch", "rise", "stay", "expected"),
    [
        # someone at the box for 1.5 s: an arm passing over the slot, not a voter
        (False, 1.0, (34.0, 35.5), 5),
        # ... unless a ballot was seen going in with the hand and the pile rose
        (True, 1.0, (34.0, 35.5), 6),
        # a white patch with it but the pile held still for seconds after: still an arm
        (True, 0.0, (34.0, 35.5), 5),
        # a voter's visit: a hand over the slot, no ballot seen, the pile holding still for
        # seconds after: an arm (a hand after the drop, a commission member reaching past)
        (False, 0.0, (32.0, 38.0), 5),
        # ... the pile rising behind it: a ballot hidden against a white shirt
        (False, 1.0, (32.0, 38.0), 6),
        # ... a ballot seen going in at the slot with it: a drop, whatever the pile showed
        (True, 0.0, (32.0, 38.0), 6),
    ],
)
def test_a_hand_is_a_voter_only_when_a_ballot_was_seen_or_the_pile_rose(
    patch: bool, rise: float, stay: tuple[float, float], expected: int
) -> None:
    times = [10.0, 20.0, 30.0, 50.0, 60.0]
    base = {**voters(times), "reaches": [(x, 0.4) for x in [*times, 35.0]]}
    if patch:
        base["bursts"].append((35.0, 0.0))
    base["steps"].append((35.0, rise))
    base["present"].append(stay)
    drops, _ = find_drops(series(70, **base), BOX_H)
    assert drops["ballots"].sum() == expected
    if stay[1] - stay[0] > 2.5:  # without the rule the still pile does not decide
        off = DropFinderOptions(still_hand=False)
        assert find_drops(series(70, **base), BOX_H, off)[0]["ballots"].sum() == 6


def test_a_bundle_goes_with_the_hand_not_a_patch_before_the_pile_rose() -> None:
    times = [10.0, 20.0, 30.0, 50.0, 60.0]
    base = {**voters(times), "reaches": [(x, 0.4) for x in [*times, 40.0]]}
    base["bursts"].append((38.5, 0.0))  # a white patch at the lid, no hand: the pile holds
    base["steps"].append((40.0, 8.0))
    base["present"].append((37.0, 42.0))
    drops, facts = find_drops(series(70, **base), BOX_H)
    bundle = drops[drops["ballots"] > 1]
    assert facts["bundles"] == 1 and len(bundle) == 1
    assert bundle["t_s"].iloc[0] == pytest.approx(40.0, abs=0.2)
    assert drops["ballots"].sum() == 13


@pytest.mark.parametrize(
    ("cover", "at", "options", "expected"),
    [
        # (the pile not readable, so only hands and ballot patches decide) a covering barely
        # over the hand threshold, no ballot seen, 2 s before a voter's hand that showed one:
        # that voter's hand moving before the drop
        (0.14, 33.0, DropFinderOptions(), 6),
        # ... 2 s after it
        (0.14, 37.0, DropFinderOptions(), 6),
        # a full covering there: a hand, a drop
        (0.5, 33.0, DropFinderOptions(), 7),
        # the weak covering 5 s from any hand that showed a ballot: a drop
        (0.14, 40.0, DropFinderOptions(), 7),
        # the rule off
        (0.14, 33.0, DropFinderOptions(weak_cover=0.0), 7),
    ],
)
def test_a_weak_hand_beside_a_voters_drop_is_the_same_voter(
    cover: float, at: float, options: DropFinderOptions, expected: int
) -> None:
    times = [10.0, 20.0, 30.0, 35.0, 50.0, 60.0]
    base = {**voters(times), "reaches": [(x, 0.4) for x in times]}
    base["present"].append((31.0, 42.0))
    frame = series(70, **base, fill_contrast=0.0)
    t = frame["t_s"].to_numpy()
    weak = (t >= at - 0.05) & (t < at + 0.07)
    frame.loc[weak, "slot_cover"] = cover
    drops, _ = find_drops(frame, BOX_H, options)
    assert drops["ballots"].sum() == expected
    assert (np.abs(drops["t_s"].to_numpy() - at) < 0.2).any() == (expected == 7)


def _patch(end: float) -> Burst:
    """A ballot-shaped white patch with no hand over the slot (a hint, as `find_drops` makes)."""
    return Burst(end - 0.4, end, 4.5, np.inf, 0.4, reach=False, shaped=True)


@pytest.mark.parametrize(
    ("patches", "steps", "crossings", "present", "expected"),
    [
        # demo 106 cam-D003-013: two hands 1.2 s apart, the short level between them merged
        ([141.57, 142.77], 2.27, [141.6, 142.8], True, [141.57, 142.77]),
        ([141.57, 142.77], 1.0, [142.8], True, [142.77]),  # one step: the patch nearest it
        ([141.57], 2.3, [141.6, 142.8], True, [141.57]),  # one patch: one ballot seen
        ([141.57, 142.77, 143.9], 2.1, [142.8, 143.9], True, [142.77, 143.9]),
        ([141.57, 142.77], 2.27, [141.6, 142.8], False, []),  # nobody at the box
    ],
)
def test_ballot_patches_without_a_hand_count_up_to_the_rise(
    patches: list[float],
    steps: float,
    crossings: list[float],
    present: bool,
    expected: list[float],
) -> None:
    stats = {"bundles": 0.0, "fill_only": 0.0}
    o = DropFinderOptions()
    rows = _assign(steps, [_patch(t) for t in patches], crossings, present, o, stats, hidden=False)
    assert [round(r[0], 2) for r in rows] == expected
    assert all(r[1:] == (1, 0.8, "burst+fill") for r in rows)
    assert stats["fill_only"] == len(expected)


@pytest.mark.parametrize(
    ("blurred", "slot", "options", "expected"),
    [
        ([], False, {}, 4),  # a patch while the pile held still: no ballot
        ([(0.0, 60.0, "audit: blurred")], False, {}, 5),  # out of focus, no slot: a ballot
        ([(0.0, 30.0, "audit: blurred")], False, {}, 4),  # blurred earlier only
        ([(0.0, 60.0, "audit: blurred")], False, {"blur_patches": False}, 4),
        ([(0.0, 60.0, "audit: blurred")], True, {}, 4),  # the slot seen: its hands decide
    ],
)
def test_a_ballot_seen_on_a_still_blurred_pile_counts_where_no_slot_is_seen(
    blurred: list, slot: bool, options: dict, expected: int
) -> None:
    # session 10, demo 94 cam-D003-004 (σ 5): the blurred pile held still under two voters'
    # ballots, each seen going in
    base = voters([10.0, 20.0, 30.0, 50.0])
    base["bursts"].append((40.0, 0.0))
    base["present"].append((37, 42))
    reaches = [(t, 0.3) for t in (10.0, 20.0, 30.0, 50.0)] if slot else None
    s = series(60, **base, reaches=reaches)
    drops, _ = find_drops(s, BOX_H, DropFinderOptions(**options), blurred=blurred)
    assert drops["ballots"].sum() == expected
    assert (np.abs(drops["t_s"].to_numpy() - 40.0) < 0.2).any() == (expected == 5)


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (134.05, 134.05),  # demo 102 cam-D006-003: the pile passed its step as the voter left
        (133.5, 136.8),  # over 3 s before: the pile's own time
        (137.6, 137.6),
        (138.0, 136.8),  # over 1 s after
    ],
)
def test_a_ballot_only_the_pile_showed_goes_to_a_patch_before_its_step(
    hint: float, expected: float
) -> None:
    stats = {"bundles": 0.0, "fill_only": 0.0}
    unclear = Burst(hint - 0.1, hint, 1.1, 0.5, 0.1)
    rows = _assign(0.92, [unclear], [136.8], True, DropFinderOptions(), stats, hidden=True)
    assert rows == [(expected, 1, 0.7, "fill")]


@pytest.mark.parametrize(
    ("blurred", "patch", "found_s", "options", "expected"),
    [
        ([], False, 0.0, {}, 6),  # a sharp slot: every hand is a drop
        ([(0.0, 60.0, "audit: blurred")], False, 0.0, {}, 5),  # out of focus: a wobble
        ([(0.0, 60.0, "audit: blurred")], True, 0.0, {}, 6),  # a ballot seen going in with it
        ([(0.0, 30.0, "audit: blurred")], False, 0.0, {}, 6),  # blurred earlier only
        ([(0.0, 60.0, "audit: blurred")], False, 0.0, {"blur_cover": 0.0}, 6),
        # demo 110 cam-D005-001: the slot found sharp, the picture blurred later: its mask is
        # the thin bar, and its weak hands are voters'
        ([(5.0, 60.0, "audit: blurred")], False, 0.0, {}, 6),
        ([(5.0, 60.0, "audit: blurred")], False, 6.0, {}, 5),  # first seen once blurred
    ],
)
def test_a_weak_cover_of_a_blurred_slot_is_a_voter_standing_by(
    blurred: list, patch: bool, found_s: float, options: dict, expected: int
) -> None:
    # session 10, demo 71 cam-D008-006 (σ 3.1): a voter standing at the box after their drop
    # kept the blurred slot partly covered, its wobble 1.7 s later taken for a second hand
    times = [10.0, 20.0, 30.0, 40.0, 50.0]
    base = voters(times)
    base["steps"][3] = (41.6, 1.0)  # the blurred pile shows the ballot late
    if patch:
        base["bursts"].append((41.7, 0.0))
    s = series(60, **base, reaches=[(t, 0.3) for t in times])
    s.loc[(s["t_s"] >= 41.6) & (s["t_s"] < 41.9), "slot_cover"] = 0.2
    s.loc[s["t_s"] < found_s, "slot_cover"] = np.nan  # the slot not located yet
    drops, _ = find_drops(s, BOX_H, DropFinderOptions(**options), blurred=blurred)
    assert drops["ballots"].sum() == expected
    found = drops["t_s"].to_numpy()
    assert all((np.abs(found - x) < 0.15).any() for x in times)  # each voter's own hand


@pytest.mark.parametrize(
    ("arms", "steps", "hidden", "expected"),
    [
        # demo-clean 105 cam-D010-001 at 314.6 s: two voters' hands joined for 0.78 s, long
        # enough that the pile's other ballots count (`hidden`), the pile 1.69 steps up
        ((0.29, 0.25), 1.69, True, [314.57, 314.67]),
        ((0.29, 0.25), 1.69, False, [314.57, 314.67]),
        ((0.29, 0.02), 1.69, True, [314.57]),  # an arm on one side only: one voter
        ((0.29, 0.25), 1.3, True, [314.57]),  # the pile up by about one ballot
    ],
)
def test_a_long_hand_with_arms_from_both_sides_and_the_pile_up_two_is_two_voters(
    arms: tuple[float, float], steps: float, hidden: bool, expected: list[float]
) -> None:
    stats = {"bundles": 0.0, "fill_only": 0.0}
    hand = Burst(313.8, 314.57, 0.46, 0.0, 0.78, reach=True, arms=arms)
    rows = _assign(steps, [hand], [314.6, 314.86], True, DropFinderOptions(), stats, hidden=hidden)
    assert [round(r[0], 2) for r in rows] == expected
    assert sum(r[1] for r in rows) == len(expected)


@pytest.mark.parametrize(
    ("second_rise", "cover", "options", "expected"),
    [
        # demo 102 cam-D005-002 at 337.3 s: a voter beside the box puts their ballot in 2.5 s
        # after the voter at the box; their arm covers the slot only 0.11 above its running
        # median (a hand is 0.12), their ballot seen going in and the pile up 1.6 steps
        (0.7, 0.1, {}, 7),
        (0.7, 0.0, {}, 6),  # the slot not touched: the voter at the box leaving with paper
        (0.3, 0.1, {}, 6),  # the pile up by about one ballot: one voter
        (0.7, 0.1, {"side_patch_steps": 0.0}, 6),  # the rule off
        (0.7, 0.1, {"side_patch_cover": 0.15}, 6),
    ],
)
def test_a_ballot_seen_beside_a_voters_hand_with_the_slot_barely_covered_is_a_second_voter(
    second_rise: float, cover: float, options: dict, expected: int
) -> None:
    times = [10.0, 20.0, 30.0, 50.0, 60.0]
    base = voters(times)
    base["bursts"] += [(35.0, 0.0), (37.5, 0.0)]
    base["steps"] += [(35.0, 1.0), (37.5, second_rise)]
    base["present"].append((33.0, 39.0))
    s = series(70, **base, reaches=[(t, 0.3) for t in [*times, 35.0]])
    t = s["t_s"].to_numpy()
    s.loc[(t > 35.6) & (t < 37.9), "fill_contrast"] = 0.0  # the pile hidden in between
    s.loc[(t >= 37.5) & (t < 37.7), "slot_cover"] = cover
    drops, _ = find_drops(s, BOX_H, DropFinderOptions(**options))
    assert drops["ballots"].sum() == expected
    found = drops["t_s"].to_numpy()
    assert list(np.round(found[(found > 34) & (found < 39)], 1)) == [35.0, 37.5][: expected - 5]


def _hand(end: float, peak: float, arms: tuple[float, float] = (0.15, 0.15)) -> Burst:
    """A hand over the slot ending (its ballot in) at `end`, covering it `peak` above its
    running median, `arms` moving on its left and right."""
    return Burst(end - 0.3, end, peak, 0.0, 0.3, reach=True, arms=arms)


@pytest.mark.parametrize(
    ("peaks", "steps", "options", "expected"),
    [
        # session 10's hidden demo 114 cam-D002-008 at 88.45 s: a one-frame hand of 0.16 as one
        # voter left and the next walked up, the pile flat (0.15 steps): no drop
        ([0.16], 0.15, {"unanswered_peak": 0.2}, []),
        # cam-D003-002 at 69.97 s: 0.18 beside the voter's own 0.36, the pile up 0.74 steps
        ([0.18, 0.36], 0.74, {"unanswered_peak": 0.2}, [1]),
        ([0.18, 0.36], 1.5, {"unanswered_peak": 0.2}, [0, 1]),  # the pile answered both
        ([0.36], 0.1, {"unanswered_peak": 0.2}, [0]),  # a full hand counts whatever the pile
        ([0.16, 0.18], 0.1, {"unanswered_peak": 0.2}, []),  # weakest first, then the next
        ([0.16, 0.18], 1.0, {"unanswered_peak": 0.2}, [1]),  # one answered: the stronger
        ([0.16], 0.15, {"unanswered_peak": 0.0}, [0]),  # the rule off
        ([0.16], 0.15, {"unanswered_peak": 0.2, "unanswered_steps": 0.9}, [0]),
        # demo 112 cam-D007-001 at 88.85 s: a lone voter's weak hand, an arm on one side only
        # (0.11/0.01), the pile up 0.23 steps (its next rise showed the ballot): a drop
        ([0.19], 0.23, {"unanswered_peak": 0.2, "arms": (0.11, 0.01)}, [0]),
        ([0.16], 0.15, {"unanswered_peak": 0.2, "unanswered_arms": 0.0}, [0]),  # off too
    ],
)
def test_a_weak_hand_the_pile_did_not_answer_is_no_drop(
    peaks: list[float], steps: float, options: dict, expected: list[int]
) -> None:
    arms = options.pop("arms", (0.15, 0.15))
    inside = [_hand(10.0 + 2 * k, p, arms) for k, p in enumerate(peaks)]
    o = DropFinderOptions(**options)
    judged = unanswered_hands(inside, steps, o)
    assert len(judged) == len(inside)
    assert [k for k, x in enumerate(judged) if x.clear(o)] == expected
    rows = _assign(steps, judged, [12.0], True, o, {"bundles": 0.0, "fill_only": 0.0}, hidden=False)
    assert [round(r[0], 2) for r in rows] == [10.0 + 2 * k for k in expected]


def _split(end: float, peak: float, length: float = 1.4) -> list[Burst]:
    """A long hand ending at `end` split for two voters' by `_two_voters`: the hand and its
    copy 0.1 s later (the same start and length)."""
    hand = Burst(end - length, end, peak, 0.0, length, reach=True, arms=(0.15, 0.05))
    return [hand, Burst(end - length, end + 0.1, peak, 0.0, length, reach=True, arms=(0.15, 0.05))]


@pytest.mark.parametrize(
    ("inside", "steps", "options", "expected"),
    [
        # session 12, clean 113 cam-D003-009 at 242.97-246.15 s: a voter alone at the box, two
        # brushes of the slot (0.146) and a hand of 1.38 s split in two, the pile up 1.04 steps:
        # the brushes are hints (the weakest first, of equal peaks the later), and then the
        # pile is within 1.1 steps of the two hands left: the split stays (one false drop)
        ([_hand(242.97, 0.146), _hand(244.85, 0.146), *_split(246.05, 0.44)], 1.04, {}, [2, 3]),
        # at 334.65-336.57 s: a split hand of 0.31 beside the voter's 0.32, 1.02 steps: one copy
        ([*_split(334.65, 0.31), _hand(336.57, 0.32)], 1.02, {}, [0, 2]),
        # demo 128 cam-D002-011 at 102.65 s: a true split (two voters), 1.02 steps: both stay
        (_split(102.65, 0.55), 1.02, {}, [0, 1]),
        # a split in a rise of two ballots; a full hand the pile did not answer stays a drop
        (_split(50.0, 0.4), 2.0, {}, [0, 1]),
        ([_hand(10.0, 0.4), _hand(12.0, 0.4)], 0.1, {}, [0, 1]),
        ([_hand(10.0, 0.14), _hand(12.0, 0.4)], 0.1, {}, [1]),  # a brush: no drop
        ([_hand(10.0, 0.14), _hand(12.0, 0.4)], 0.1, {"short_steps": 0.0}, [0, 1]),  # off
        ([_hand(10.0, 0.14), _hand(12.0, 0.4)], 0.1, {"short_steps": 2.0}, [0, 1]),
    ],
)
def test_hands_the_pile_cannot_hold_are_hints(
    inside: list[Burst], steps: float, options: dict, expected: list[int]
) -> None:
    o = DropFinderOptions(**options)
    judged = hands_the_pile_holds(inside, steps, o)
    assert len(judged) == len(inside)
    assert [k for k, x in enumerate(judged) if x.clear(o)] == expected
    assert [x.end for x in judged] == [x.end for x in inside]


@pytest.mark.parametrize(
    ("arm_r", "steps", "options", "expected"),
    [
        # session 12, clean 119 cam-D004-002 at 148.37 s: a voter at the box and one beside it
        # (box_side) at once, one hand of 0.18 s, arms during it 0.04/0.07, right of the slot
        # 0.58 in the 2.5 s before, the pile up 1.84 steps: two drops
        (0.58, 1.84, {}, [148.37, 148.47]),
        (0.40, 1.84, {}, [148.37]),  # nobody moving beside the box: one voter, the pile's noise
        (0.58, 1.70, {}, [148.37]),  # the pile up under 1.8 steps
        (0.58, 2.80, {}, [148.37] * 3),  # 1.75 or more above it: the pile's ballots with it
        (0.58, 1.84, {"side_arm": 0.0}, [148.37]),  # off
        (0.58, 1.84, {"side_arm_s": 1.0}, [148.37]),  # the motion was more than 1 s before
    ],
)
def test_a_hand_with_a_voter_beside_the_box_is_two(
    arm_r: float, steps: float, options: dict, expected: list[float]
) -> None:
    o = DropFinderOptions(**options)
    t = np.round(np.arange(140.0, 150.0, 0.08), 2)
    moved = np.where((t >= 146.5) & (t <= 147.0), arm_r, 0.02)
    series = pd.DataFrame({"t_s": t, "arm_l": np.full(len(t), 0.02), "arm_r": moved})
    hand = Burst(148.19, 148.37, 0.47, 0.0, 0.18, reach=True, arms=(0.04, 0.07))
    beside = _beside(series, [hand], o)
    stats = {"bundles": 0.0, "fill_only": 0.0}
    rows = _assign(steps, [hand], [148.3, 148.4], True, o, stats, hidden=False, beside=beside)
    assert [round(r[0], 2) for r in rows for _ in range(r[1])] == expected


def test_no_arm_windows_no_voter_beside() -> None:
    hand = Burst(148.19, 148.37, 0.47, 0.0, 0.18, reach=True)
    series = pd.DataFrame({"t_s": [147.0, 148.0], "arm_l": [0.9, 0.9]})
    assert _beside(series, [hand], DropFinderOptions()) == frozenset()


ON = {"front_steps": 0.6}  # session 13's `front_steps`, on since session 14
OFF = {"front_steps": 0.0}


def _passing(end: float, front: float = 0.88) -> Burst:
    """A covering of the slot ending at `end` taken for someone passing in front of the box,
    the box's bottom hidden `front` more than before."""
    return Burst(end - 0.7, end, 0.5, np.inf, 0.7, front_rise=front, passing=True)


@pytest.mark.parametrize(
    ("rise", "options", "expected"), [(1.0, ON, 6), (0.5, ON, 5), (1.0, OFF, 5), (1.0, {}, 6)]
)
def test_a_covering_taken_for_a_passer_by_the_pile_rose_for_counts_with_front_steps(
    rise: float, options: dict, expected: int
) -> None:
    """Session 13, demo 128 cam-D002-011 at 253.1 s: a lone voter's hand taken for someone
    passing in front (the box's bottom hidden 0.88), the pile up 0.97 steps with no hand."""
    times = [10.0, 20.0, 30.0, 50.0, 60.0]
    base = voters(times)
    s = series(
        70,
        bursts=base["bursts"],
        steps=[*base["steps"], (35.0, rise)],
        present=[*base["present"], (33, 37)],
        reaches=[*((x, 0.4) for x in times), (35.0, 0.4)],
    )
    t = s["t_s"].to_numpy()
    s["front"] = np.where((t > 34.8) & (t < 35.6), 0.5, 0.0)
    drops, _ = find_drops(s, BOX_H, DropFinderOptions(**options))
    assert drops["ballots"].sum() == expected


@pytest.mark.parametrize(
    ("inside", "steps", "present", "options", "expected"),
    [
        # session 13, demo 128 cam-D002-011 at 253.05 s: a lone voter (carousel m2), the box's
        # bottom hidden 0.88 as their hand went in, the pile up 0.97 steps with no hand: a drop
        ([_passing(253.05)], 0.97, True, ON, [253.05]),
        # demo-clean 121 cam-D009-001: a voter's hand at 118.97 s and a lone voter's covering
        # at 123.57 s in one rise of 1.68 steps (0.68 above the hand)
        ([_hand(118.97, 0.43, (0.14, 0.0)), _passing(123.57)], 1.68, True, ON, [118.97, 123.57]),
        # demo 166 cam-D012-004 at 149.97 s: 2.01 steps, one covering: one drop
        ([_passing(149.97)], 2.01, True, ON, [149.97]),
        # the pile rose for the hand only; or barely (demo-clean 119 cam-D006-002, 0.31 steps)
        ([_hand(118.97, 0.43, (0.14, 0.0)), _passing(123.57)], 1.0, True, ON, [118.97]),
        ([_passing(133.57)], 0.31, True, ON, []),
        ([_passing(253.05)], 0.97, False, ON, []),  # nobody at the box
        ([_passing(253.05)], 0.97, True, OFF, []),  # off
        ([_passing(253.05)], 0.97, True, {"front_steps": 1.0}, []),
        # fresh demo 180 cam-D007-001 (session 13): a passer-by's covering (the box's bottom
        # hidden 1.0) and the voter's (0.25) in one rise of 1.0 steps: the voter's (session 14)
        ([_passing(316.17, 1.0), _passing(318.57, 0.25)], 1.0, True, ON, [318.57]),
        ([_passing(316.17, 1.0)], 1.0, True, ON, []),
        ([_passing(316.17, 1.0)], 1.0, True, {**ON, "front_most": 0.0}, [316.17]),  # no limit
    ],
)
def test_a_covering_taken_for_a_passer_by_in_a_rise_is_a_hand(
    inside: list[Burst], steps: float, present: bool, options: dict, expected: list[float]
) -> None:
    o = DropFinderOptions(**options)
    stats = {"bundles": 0.0, "fill_only": 0.0}
    crossings = [inside[0].end + 0.1 * k for k in range(max(1, round(steps)))]
    rows = _assign(steps, inside, crossings, present, o, stats, hidden=False)
    assert [r[0] for r in rows] == expected
    assert all(r[1] == 1 for r in rows)
    hands = sum(x.reach for x in inside)
    assert stats["fill_only"] == len(expected) - hands


def _crowd_series(fg_at: dict[float, float]) -> pd.DataFrame:
    """A watcher series with the watched region's changed share `fg_at[t]` within 1 s of each
    time t, 0.2 elsewhere."""
    t = np.round(np.arange(0.0, 100.0, 0.08), 2)
    fg = np.full(len(t), 0.2)
    for when, value in fg_at.items():
        fg[np.abs(t - when) <= 1.0] = value
    return pd.DataFrame({"t_s": t, "fg": fg})


@pytest.mark.parametrize(
    ("fg", "hands", "options", "crowded", "expected"),
    [
        # session 13, demo-clean 113 cam-D009-007 at 239.37 s (here 90.0 s): a voter and one
        # beside them (box_side) at once, one hand, the watched region changed 1.65 times as
        # much as at the camera's usual hand, the pile up 1.97 steps: two drops
        (0.33, 6, {}, True, [90.0, 90.1]),
        (0.28, 6, {}, False, [90.0]),  # 1.4 times the usual: one voter (demo 114 cam-D002-008)
        (0.33, 4, {}, False, [90.0]),  # too few hands to know the camera's usual
        (0.33, 6, {"crowd_fg": 0.0}, False, [90.0]),  # off
    ],
)
def test_a_hand_in_a_crowd_alone_in_a_rise_of_two_is_two(
    fg: float, hands: int, options: dict, crowded: bool, expected: list[float]
) -> None:
    o = DropFinderOptions(**options)
    times = [10.0 * (k + 1) for k in range(hands - 1)]
    reaches = [_hand(x, 0.4, (0.02, 0.02)) for x in [*times, 90.0]]
    found = _crowded(_crowd_series({90.0: fg}), reaches, o)
    assert found == (frozenset({id(reaches[-1])}) if crowded else frozenset())
    stats = {"bundles": 0.0, "fill_only": 0.0}
    rows = _assign(1.97, reaches[-1:], [90.0, 90.0], True, o, stats, hidden=False, beside=found)
    assert [round(r[0], 2) for r in rows] == expected


def test_the_session_12_and_13_options_are_checked() -> None:
    names = ("short_steps", "side_arm", "side_arm_steps", "side_arm_s", "front_steps", "crowd_fg")
    for name in names:
        with pytest.raises(ValueError, match=name):
            DropFinderOptions(**{name: -1.0})
    with pytest.raises(ValueError, match="crowd_hands"):
        DropFinderOptions(crowd_hands=0)


@pytest.mark.parametrize(
    ("hands", "steps", "per_hand", "expected"),
    [
        # demo 114 cam-D002-008: a stuffer's 6 single ballots one by one, the pile up 8.26
        # steps: two read as 2 each with the threshold 1.75 steps whatever the hands
        (6, 8.26, 0.0, 8),
        (6, 8.26, 0.15, 6),  # 1.75 + 5 x 0.15 = 2.5 steps over the hands needed
        (1, 3.0, 0.15, 3),  # one hand: the threshold as it was, a small bundle beside it
        (2, 4.0, 0.15, 4),  # two hands, 2 steps over them: more went in
    ],
)
def test_the_piles_excess_over_many_hands_is_weighed_per_hand(
    hands: int, steps: float, per_hand: float, expected: int
) -> None:
    inside = [_hand(10.0 + 1.5 * k, 0.4) for k in range(hands)]
    o = DropFinderOptions(more_steps_per_hand=per_hand)
    crossings = [10.0] * round(steps)
    stats = {"bundles": 0.0, "fill_only": 0.0}
    rows = _assign(steps, inside, crossings, True, o, stats, hidden=False)
    assert sum(r[1] for r in rows) == expected
    assert len(rows) == hands


@pytest.mark.parametrize(
    ("front", "options", "expected"),
    [
        # session 10's hidden demo-clean 111 cam-D003-006 at 51.37 s: a voter's hand joined over
        # 1.12 s with a passer-by crossing in front (and staying there), arms 0.56/0.49: one voter
        (1.0, {"split_front": 0.2}, 6),
        (0.0, {"split_front": 0.2}, 7),  # nobody in front: the same hand is two voters'
        (1.0, {"split_front": 0.0}, 7),  # the rule off
    ],
)
def test_a_hand_joined_with_someone_crossing_in_front_is_not_two_voters(
    front: float, options: dict[str, float], expected: int
) -> None:
    s = hand_at_35(1.12, 1.0, (0.5, 0.5))
    t = s["t_s"].to_numpy()
    s["front"] = np.where((t > 35.1) & (t < 40.0), front, 0.0)
    drops, _ = find_drops(s, BOX_H, DropFinderOptions(**options))
    assert drops["ballots"].sum() == expected
    assert near_35(drops)[0] == pytest.approx(35.0, abs=0.1)


@pytest.mark.parametrize(
    ("blurred", "options", "expected"),
    [
        ([(40.2, 60.0, "audit: blurred")], {}, 5),  # the focus changed in the rise: hands alone
        ([(40.2, 60.0, "audit: blurred")], {"blur_edges": False}, 7),
        ([(20.5, 40.2, "audit: blurred")], {}, 5),  # back in focus there
        ([], {}, 7),  # a sharp pile that rose 3.2 steps under one hand: more went in
        ([(0.0, 60.0, "audit: blurred")], {}, 7),  # out of focus all along: no change of focus
    ],
)
def test_a_rise_across_a_change_of_focus_is_not_ballots(
    blurred: list, options: dict, expected: int
) -> None:
    # session 12, demo 114 cam-D002-007 (σ 3.1 from 249 s): the blurred pile's edge read 2.1
    # px over the one ballot of the rise across the blur's start (demo 110 cam-D005-001 1.1,
    # demo 134 cam-D006-004 1.2)
    times = [10.0, 20.0, 30.0, 40.0, 50.0]
    s = series(60, **voters(times), reaches=[(t, 0.3) for t in times])
    s.loc[s["t_s"] >= 40.4, "fill"] += 2.2  # with the ballot of 40 s, shown from 40.4 s
    drops, _ = find_drops(s, BOX_H, DropFinderOptions(**options), blurred=blurred)
    assert drops["ballots"].sum() == expected
    found = drops["t_s"].to_numpy()
    assert all((np.abs(found - x) < 0.15).any() for x in times)  # each voter's own hand


@pytest.mark.parametrize(
    ("blurred", "hands", "options", "expected"),
    [
        ([(0.0, 60.0, "audit: blurred")], 1, {}, 5),  # 1 hand for 5 patches: the patches
        ([(0.0, 60.0, "audit: blurred")], 3, {}, 3),  # 3 for 5: the slot shows the hands
        ([(0.0, 60.0, "audit: blurred")], 1, {"blur_slot_hands": 0.0}, 1),  # the rule off
        ([], 1, {}, 1),  # a sharp slot: its hands decide
    ],
)
def test_a_blurred_slot_that_hides_the_hands_leaves_the_count_to_the_patches(
    blurred: list, hands: int, options: dict, expected: int
) -> None:
    # session 14, demo 196 cam-D003-006 (σ 4.9): the slot found out of focus showed 2 hands
    # for 23 ballot patches at the lid, the pile unreadable: 2 of 31 ballots counted
    times = [10.0, 20.0, 30.0, 40.0, 50.0]
    base = voters(times)
    base["steps"] = []  # no pile to read
    s = series(60, **base, reaches=[(t, 0.3) for t in times[:hands]])
    drops, _ = find_drops(s, BOX_H, DropFinderOptions(**options), blurred=blurred)
    assert drops["ballots"].sum() == expected


def _weak(end: float) -> Burst:
    """A hand over the slot taken for a voter's hand before or after their drop (`weak_cover`):
    only a hint."""
    return Burst(end - 0.1, end, 0.13, np.inf, 0.1, weak=True)


@pytest.mark.parametrize(
    ("steps", "present", "options", "expected"),
    [
        # demo-clean 135 cam-D002-003: voter v0006's hand at 114.17 s, voter v0007 beside the
        # box putting theirs in at 116.30 s, their hand barely over the slot (0.13), the pile
        # 1.22 steps up: two drops
        (1.22, True, {}, [114.17, 116.37]),
        (1.39, True, {}, [114.17, 116.37]),  # demo 188 cam-D008-005 at 289.45 s: 1.39 steps
        (1.05, True, {}, [114.17]),  # demo 126 cam-D012-002: 1.05 steps, one voter
        (1.22, False, {}, [114.17]),  # nobody at the box
        (1.22, True, {"weak_steps": 0.0}, [114.17]),  # the rule off
    ],
)
def test_a_weak_hand_in_a_rise_above_its_hands_is_a_second_voter(
    steps: float, present: bool, options: dict, expected: list[float]
) -> None:
    o = DropFinderOptions(**options)
    stats = {"bundles": 0.0, "fill_only": 0.0}
    inside = [_hand(114.17, 0.42, (0.16, 0.0)), _weak(116.37)]
    rows = _assign(steps, inside, [114.5], present, o, stats, hidden=False)
    assert [r[0] for r in rows] == expected
    assert stats["fill_only"] == len(expected) - 1
