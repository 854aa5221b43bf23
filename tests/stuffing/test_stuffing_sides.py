"""The second cue (`stuffing.sides`): hands at the slot from one side of it, one person's, and
its test in `detect.camera_events`, on hand-made series."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from pollwatch.counting.observability import Observability
from pollwatch.store import Camera
from pollwatch.stuffing import detect
from pollwatch.stuffing.fill import fill_curve
from pollwatch.stuffing.findings import event_findings
from pollwatch.stuffing.score import day_pvalue
from pollwatch.stuffing.sides import SIDE_PAIR_TAIL as PAIR
from pollwatch.stuffing.sides import SIDE_RUN_TAIL as RUN
from pollwatch.stuffing.sides import (
    hand_sides,
    hand_times,
    one_person_pauses,
    pile_refutes,
    side_pvalue,
    side_run,
    side_runs,
)

STEP = 2.0  # pixels per ballot
END = 200.0
# a camera of 15 single voters 12 s apart, each one hand from the left (the `box` place)
VOTERS = [5.0 + 12.0 * k for k in range(15)]


def series(
    arms: dict[float, tuple[float, float]], levels: list[tuple[float, float]]
) -> pd.DataFrame:
    """10 samples a second; the arms still but for 0.4 s before each hand at t (left, right
    motion); the pile at `level` from each (t, level) on, always readable."""
    t = np.round(np.arange(0.0, END, 0.1), 2)
    left, right, fill = np.zeros_like(t), np.zeros_like(t), np.zeros_like(t)
    for at, (lm, rm) in arms.items():
        near = (t >= at - 0.4) & (t <= at)
        left[near], right[near] = lm, rm
    for at, level in levels:
        fill[t >= at] = level
    return pd.DataFrame(
        {
            "t_s": t,
            "fill": 20.0 + fill,
            "fill_contrast": 80.0,
            "fill_line": 9.0,
            "fg": 0.0,
            "arm_l": left,
            "arm_r": right,
        }
    )


@pytest.mark.parametrize(
    ("arms", "want"),
    [
        ({1.0: (0.4, 0.02), 3.0: (0.01, 0.3), 5.0: (0.2, 0.2), 7.0: (0.01, 0.02)}, "LRB?"),
        ({1.0: (0.3, 0.2)}, "L"),  # 0.6 of the motion on the left: the `lean`
        ({1.0: (0.29, 0.21)}, "B"),
    ],
    ids=["each-side", "lean", "both"],
)
def test_hand_sides(arms, want) -> None:
    assert hand_sides(series(arms, []), list(arms)) == want


def test_hand_sides_without_arm_columns_are_unknown() -> None:
    old = series({}, []).drop(columns=["arm_l", "arm_r"])
    assert hand_sides(old, [1.0, 2.0]) == "??"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"lean": 0.5}, "lean"), ({"before_s": -1.0}, "before_s"), ({"min_motion": -0.1}, "min")],
)
def test_hand_sides_options_checked(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        hand_sides(series({}, []), [1.0], **kwargs)


@pytest.mark.parametrize(
    ("hands", "sides", "want"),
    [
        ([1.0, 2.5, 4.0], "LLL", 3),
        ([1.0, 2.5, 4.0], "LRL", 1),  # a voter beside: two people
        ([1.0, 2.5, 5.0], "LLL", 2),  # 2.5 s: beyond the cadence
        ([1.0, 2.5, 4.0, 5.5], "LBLL", 2),
        ([1.0, 2.0], "??", 0),
        ([], "", 0),
    ],
)
def test_side_run(hands, sides, want) -> None:
    assert side_run(hands, sides, 2.0) == want


def test_side_run_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="2 hands but 1 sides"):
        side_run([1.0, 2.0], "L", 2.0)


def test_hand_times_join_drops_of_one_movement() -> None:
    assert hand_times([3.0, 1.0, 1.1, 2.0], 0.3).tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("run", "want"),
    [
        (0, 1.0),
        (2, 1.0),
        (3, RUN * PAIR),
        (5, RUN * PAIR**3),
    ],
)
def test_side_pvalue(run, want) -> None:
    assert side_pvalue(run) == pytest.approx(want)


@pytest.mark.parametrize(
    ("fill", "run", "want"),
    [
        (1.0, 3, True),  # three hands, the pile up one ballot: one voter counted three times
        (1.5, 3, False),  # exactly the run less the margin: not refuted
        (3.0, 3, False),
        (float("nan"), 3, False),  # the pile not read: nothing refutes the run
        (0.0, 0, False),
    ],
)
def test_pile_refutes(fill, run, want) -> None:
    assert pile_refutes(fill, run, 1.5) is want


def test_side_pvalue_checks_its_tails() -> None:
    with pytest.raises(ValueError, match="run_tail"):
        side_pvalue(3, run_tail=0.0)


def camera(times: list[float], frame: pd.DataFrame, **options) -> list[detect.Event]:
    """The events of a camera whose counter saw one ballot at each of `times`."""
    drops = pd.DataFrame({"t_s": times, "ballots": 1, "evidence": "burst+fill", "dwell_s": 5.0})
    return detect.camera_events(
        drops,
        frame,
        fill_curve(frame, 100.0),
        STEP,
        Observability(0.0, END),
        detect.DetectOptions(**options),
    )


def three_hands(arms_in: list[tuple[float, float]], rise: float, **options) -> detect.Event:
    """The camera of `VOTERS` and, at 185 s, three hands 1.5 s apart with arms `arms_in`, the
    pile up `rise` ballots across them; the event found there."""
    hands = [185.0, 186.5, 188.0]
    arms = {t: (0.4, 0.02) for t in VOTERS} | dict(zip(hands, arms_in, strict=True))
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(VOTERS)]
    levels.append((188.2, STEP * (len(VOTERS) + rise)))
    events = camera(VOTERS + hands, series(arms, levels), **options)
    return next(e for e in events if e.start_s == hands[0])


ONE_SIDE = [(0.4, 0.02)] * 3


@pytest.mark.parametrize(
    ("sides", "rise", "options", "flagged"),
    [
        # demo 108 cam-D008-005: a stuffer's three hands 1.5-1.8 s apart, all from the left
        (ONE_SIDE, 3.0, {}, True),
        # the same from both sides of the slot: a family, not flagged
        ([(0.4, 0.02), (0.02, 0.4), (0.4, 0.02)], 3.0, {}, False),
        # one side, but the pile rose one ballot: one voter's hand counted three times
        (ONE_SIDE, 1.0, {}, False),
        # the cue switched off
        (ONE_SIDE, 3.0, {"sides": False}, False),
    ],
    ids=["one-person", "two-sides", "pile-refutes", "off"],
)
def test_three_hands_from_one_side_are_flagged(sides, rise, options, flagged) -> None:
    event = three_hands(sides, rise, **options)
    assert event.flagged is flagged
    assert ("3 hands from one side" in event.reasons) is flagged
    if flagged:
        episodes = len(VOTERS) + 1
        assert event.p_value == pytest.approx(day_pvalue(RUN * PAIR, episodes))
        assert event.extra_lower < event.extra == 3 < event.extra_upper
        camera = Camera("cam-1", "S1", "v.mp4", datetime(2024, 3, 1, 8, tzinfo=UTC))
        (finding,) = event_findings([event], camera)
        assert "each from the same side of the slot (one person)" in finding.summary
        assert finding.evidence["cues"] == event.reasons


def test_a_coarse_camera_takes_no_side_cue() -> None:
    hands = [185.0, 186.5, 188.0]
    arms = {t: (0.4, 0.02) for t in VOTERS + hands}
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(VOTERS + hands)]
    frame = series(arms, levels)
    drops = pd.DataFrame(
        {"t_s": VOTERS + hands, "ballots": 1, "evidence": "burst+fill", "dwell_s": 5.0}
    )
    args = (drops, frame, fill_curve(frame, 100.0), STEP, Observability(0.0, END))
    fine = detect.camera_events(*args, frame_height=360)
    coarse = detect.camera_events(*args, frame_height=180)
    assert [e.start_s for e in fine if e.flagged] == [185.0]
    assert not any(e.flagged for e in coarse)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"side_cadence_s": 3.0}, "side_cadence_s"),
        ({"side_pair_tail": 0.0}, "side_pair_tail"),
        ({"side_refute": -1.0}, "side_refute"),
    ],
)
def test_side_options_checked(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        detect.DetectOptions(**kwargs)


@pytest.mark.parametrize(
    ("hands", "sides", "want"),
    [
        # demo 178 cam-D001-004: one person's hands from the left, the fourth not counted
        ([0.0, 1.5, 3.0, 6.0, 7.5, 9.0], "LLLLLL", [6.0]),
        # the runs from opposite sides: two people
        ([0.0, 1.5, 3.0, 6.0, 7.5, 9.0], "LLLRRR", []),
        # a single hand after the pause: a voter stepping in after the stuffer
        ([0.0, 1.5, 3.0, 6.0], "LLLL", []),
        # a pause longer than `pause_s`
        ([0.0, 1.5, 3.0, 7.5, 9.0, 10.5], "LLLLLL", []),
        # within the grouping gap: one episode anyway, nothing to join
        ([0.0, 1.5, 3.0, 4.5], "LLLL", []),
    ],
    ids=["one-person", "two-sides", "single-after", "long-pause", "no-pause"],
)
def test_one_person_pauses(hands, sides, want) -> None:
    got = one_person_pauses(np.asarray(hands), sides, cadence_s=2.0, gap_s=2.5, pause_s=4.0, run=2)
    assert got.tolist() == want


def test_one_person_pauses_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="sides"):
        one_person_pauses(np.asarray([0.0, 3.0]), "L", cadence_s=2, gap_s=2.5, pause_s=4, run=2)


def paused_hands(**options) -> list[detect.Event]:
    """The camera of `VOTERS` and, from 180 s, six hands from the left 1.5 s apart but for a
    pause of 3 s after the third (a hand the counter missed: its ballot shows on the pile with
    the next one's), the pile up 7 across them; the flagged events."""
    hands = [180.0, 181.5, 183.0, 186.0, 187.5, 189.0]
    arms = {t: (0.4, 0.02) for t in VOTERS + hands}
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(VOTERS + hands[:3])]
    levels += [(t + 0.2, STEP * (len(VOTERS) + k + 5)) for k, t in enumerate(hands[3:])]
    return [e for e in camera(VOTERS + hands, series(arms, levels), **options) if e.flagged]


def test_one_persons_pause_joins_the_episodes() -> None:
    (joined,) = paused_hands()
    assert (joined.start_s, joined.end_s, joined.ballots, joined.insertions) == (
        180.0,
        189.0,
        6,
        6,
    )
    assert joined.extra_lower <= 7 <= joined.extra_upper
    split = paused_hands(pause_s=0.0)
    assert [(e.start_s, e.ballots) for e in split] == [(180.0, 3), (186.0, 3)]
    assert joined.p_value < min(e.p_value for e in split)


def test_pause_options_checked() -> None:
    with pytest.raises(ValueError, match="pause_run"):
        detect.DetectOptions(pause_run=0)


def test_side_runs_count_each_hands_run_so_far() -> None:
    # a run breaks at a change of side, at a hand of no known side and past the cadence
    got = side_runs(np.asarray([0.0, 1.0, 2.0, 5.0, 6.0, 7.0, 8.0]), "LLRRR?R", 2.0)
    assert got.tolist() == [1, 2, 1, 1, 2, 0, 1]
    assert side_run(np.asarray([0.0, 1.0, 2.0, 5.0, 6.0, 7.0, 8.0]), "LLRRR?R", 2.0) == 2
