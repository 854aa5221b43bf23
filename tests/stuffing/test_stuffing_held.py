"""A finding whose ballots rest on the pile stands only where the pile holds its rise later on
(`fill.rise_held`, `DetectOptions.held_*`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwatch.counting.observability import Observability
from pollwatch.stuffing import detect
from pollwatch.stuffing.fill import FillCurve, counting_curve, fill_curve, rise_held
from pollwatch.stuffing.score import BOX_STEP_RATIO, box_step_bounds

STEP = 2.0  # pixels per ballot
VOTERS = [3.0 + 4.0 * k for k in range(5)]  # a quiet camera: five single voters, 4 s apart


def series(
    levels: list[tuple[float, float]], unreadable: list[tuple[float, float]], end: float
) -> pd.DataFrame:
    """10 samples a second, the pile at `level` from each (t, level) on, not readable (no
    contrast) within the `unreadable` ranges."""
    t = np.arange(0.0, end, 0.1)
    fill = np.zeros_like(t)
    for at, level in levels:
        fill[t >= at] = level
    contrast = np.full_like(t, 80.0)
    for a, b in unreadable:
        contrast[(t >= a) & (t < b)] = 0.0
    return pd.DataFrame(
        {"t_s": t, "fill": 20.0 + fill, "fill_contrast": contrast, "fill_line": 9.0, "fg": 0.0}
    )


def drops(times: list[float], ballots: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"t_s": times, "ballots": ballots, "evidence": "burst+fill", "dwell_s": 5.0}
    )


@pytest.mark.parametrize(
    ("times", "ballots", "after", "unreadable", "end", "held"),
    [
        # a bundle of 14 in one hand, the pile up 14 and read on to the end: a finding
        ([40.0], [14], 14, [], 130.0, True),
        # demo-clean 101: the level after read for 4 s, then never again to the camera's end
        ([40.0], [14], 14, [(47.0, 130.0)], 130.0, False),
        # read again, up 14, 100 s after the episode (within held_look_s, 120 s)
        ([40.0], [14], 14, [(47.0, 140.0)], 200.0, True),
        # read again only 130 s after it: too late to hold the rise
        ([40.0], [14], 14, [(47.0, 170.0)], 250.0, False),
        # the level read high for 4 s falls back to where it was: not held
        ([40.0], [14], 0, [], 130.0, False),
        # ... or holds only 5 of the 14 (held_share 0.5: 7 needed)
        ([40.0], [14], 5, [], 130.0, False),
        # six hands counted: their ballots stand without the pile
        ([40.0, 41.5, 43.0, 44.5, 46.0, 47.5], [1] * 6, 6, [(54.0, 130.0)], 130.0, True),
    ],
    ids=["held", "never-read-again", "read-again", "read-too-late", "fell-back", "partly", "hands"],
)
def test_a_pile_finding_needs_the_rise_held(times, ballots, after, unreadable, end, held) -> None:
    rise = sum(ballots)
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(VOTERS)]
    levels.append((times[-1] + 0.2, STEP * (len(VOTERS) + rise)))
    levels.append((times[-1] + 7.0, STEP * (len(VOTERS) + after)))
    curve = fill_curve(series(levels, unreadable, end), 100.0)
    obs = Observability(0.0, end)
    ones = [1] * len(VOTERS)
    all_drops = drops(VOTERS + times, ones + ballots)
    events = detect.camera_events(all_drops, series([], [], end), curve, STEP, obs)
    event = next(e for e in events if e.start_s == times[0])
    assert event.flagged is held
    assert event.observable is held
    assert ("pile rise not held" in event.reasons) is not held


def curve_of(times: list[float], px: list[float]) -> FillCurve:
    return FillCurve(pd.DataFrame({"t_s": times, "fill_px": px}), 100.0)


@pytest.mark.parametrize(
    ("times", "px", "want"),
    [
        # 10 px before, 30 px from 10 s after the episode on
        ([5.0, 8.0, 21.0, 23.0], [10.0, 10.0, 30.0, 30.0], 20.0),
        # nothing read past the level just after it (12.5-18.5 s): NaN
        ([5.0, 8.0, 14.0, 16.0], [10.0, 10.0, 30.0, 30.0], np.nan),
        # nothing read before it: NaN
        ([21.0, 23.0], [30.0, 30.0], np.nan),
        # the level 2 s before, 10 s back (the 4 s before unread)
        ([1.0, 21.0], [10.0, 26.0], 16.0),
    ],
    ids=["held", "not-read-later", "not-read-before", "wider-before"],
)
def test_rise_held(times, px, want) -> None:
    got = rise_held(curve_of(times, px), (10.0, 10.0), look_s=60.0)
    assert got == pytest.approx(want, nan_ok=True)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rise_held(curve_of([1.0], [1.0]), (5.0, 4.0)), "before start_s"),
        (lambda: rise_held(curve_of([1.0], [1.0]), (1.0, 2.0), look_s=0.0), "look_s"),
        (lambda: rise_held(curve_of([1.0], [1.0]), (1.0, 2.0), after_s=-1.0), "after_s"),
        (lambda: detect.DetectOptions(held_share=0.0), "held_share"),
        (lambda: detect.DetectOptions(held_look_s=-1.0), "held_look_s"),
    ],
    ids=["reversed", "look", "after", "share", "detect-look"],
)
def test_held_rejects_bad_input(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


READ = FillCurve(pd.DataFrame({"t_s": [0.0, 1.0], "fill_px": [5.0, 5.0]}), 100.0)
UNREAD = FillCurve(pd.DataFrame({"t_s": pd.Series(dtype=float), "fill_px": []}), 100.0)


@pytest.mark.parametrize(
    ("curve", "step_px", "counts"),
    [
        (READ, 2.0, True),
        (None, 2.0, False),
        (UNREAD, 2.0, False),
        (READ, 0.0, False),
        (READ, -1.0, False),
        (READ, float("nan"), False),
        (READ, float("inf"), False),
    ],
)
def test_counting_curve(curve: FillCurve | None, step_px: float, counts: bool) -> None:
    assert counting_curve(curve, step_px) is (curve if counts else None)


@pytest.mark.parametrize(
    ("box_step", "frame_height", "found"),
    [(True, 360, True), (False, 360, False), (True, 180, False), (True, None, True)],
    ids=["on", "off", "coarse-camera", "height-unknown"],
)
def test_a_step_from_the_box_height(box_step, frame_height, found) -> None:
    # the counter resolved no step (NaN); a bundle of 14 in one hand raises the pile 14 steps
    # of 0.0129 x the box's 100 px: read with the box's step only where the option is on
    step = BOX_STEP_RATIO * 100.0
    levels = [(t + 0.2, step * (k + 1)) for k, t in enumerate(VOTERS)]
    levels.append((40.2, step * (len(VOTERS) + 14)))
    curve = fill_curve(series(levels, [], 130.0), 100.0)
    all_drops = drops([*VOTERS, 40.0], [1] * len(VOTERS) + [1])
    o = detect.DetectOptions(box_step=box_step)
    events = detect.camera_events(
        all_drops,
        series([], [], 130.0),
        curve,
        np.nan,
        Observability(0.0, 130.0),
        o,
        frame_height=frame_height,
    )
    event = next(e for e in events if e.start_s == 40.0)
    assert event.flagged is found
    assert ("step from the box height" in event.reasons) is found
    if found:  # the bounds of the same bundle read with that step as measured, widened
        known = detect.camera_events(
            all_drops, series([], [], 130.0), curve, step, Observability(0.0, 130.0)
        )
        ref = next(e for e in known if e.start_s == 40.0)
        assert (event.ballots, event.extra) == (ref.ballots, ref.extra)
        assert (event.extra_lower, event.extra_upper) == box_step_bounds(
            ref.extra_lower, ref.extra_upper
        )
        assert event.extra_lower < ref.extra_lower and event.extra_upper > ref.extra_upper


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.01, float("nan")])
def test_box_step_ratio_checked(ratio) -> None:
    with pytest.raises(ValueError, match="box_step_ratio"):
        detect.DetectOptions(box_step_ratio=ratio)


@pytest.mark.parametrize(
    ("held_hands", "flagged", "ballots"),
    [(True, True, 5), (False, False, 7)],
    ids=["hands-stand", "off"],
)
def test_hand_movements_stand_where_the_pile_does_not_hold(held_hands, flagged, ballots) -> None:
    # demo 188 cam-D008-005: a stuffer's five hands 1.5 s apart, two of them counted twice
    # 0.1 s apart (7 counted), the pile read up 7 for a moment and never again: the two
    # ballots beyond the hands rest on the pile; the five hands stand without it
    times = [40.0, 41.5, 41.6, 43.0, 44.5, 46.0, 46.1]
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(VOTERS)]
    levels.append((46.3, STEP * (len(VOTERS) + 7)))
    curve = fill_curve(series(levels, [(53.0, 130.0)], 130.0), 100.0)
    all_drops = drops(VOTERS + times, [1] * (len(VOTERS) + len(times)))
    o = detect.DetectOptions(held_hands=held_hands)
    obs = Observability(0.0, 130.0)
    events = detect.camera_events(all_drops, series([], [], 130.0), curve, STEP, obs, o)
    event = next(e for e in events if e.start_s == 40.0)
    assert (event.flagged, event.observable, event.ballots) == (flagged, flagged, ballots)
    assert (detect.HANDS_ONLY_REASON in event.reasons) is flagged
    assert event.insertions == 5 and event.counted == 7
