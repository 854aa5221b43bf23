"""Drop episodes and the fill curve on hand-made series: grouping, the pile's rise, the robust
dwell score, and bad input."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pollwatch.counting.observability import Observability
from pollwatch.stuffing import detect
from pollwatch.stuffing.episodes import EPISODE_COLUMNS, EpisodeOptions, find_episodes, robust_z
from pollwatch.stuffing.fill import (
    FILL_COLUMNS,
    FillCurve,
    fill_curve,
    readable_samples,
    rise_around,
    rise_between,
)
from pollwatch.stuffing.stored import view_heights

STEP = 2.0  # pixels per ballot


def series(levels: list[tuple[float, float]], end: float = 60.0) -> pd.DataFrame:
    """10 samples a second; the pile at `level` from each (t, level) on; always readable."""
    t = np.arange(0.0, end, 0.1)
    fill = np.zeros_like(t)
    for at, level in levels:
        fill[t >= at] = level
    return pd.DataFrame(
        {"t_s": t, "fill": 20.0 + fill, "fill_contrast": 80.0, "fill_line": 9.0, "fg": 0.0}
    )


def drops(times: list[float], ballots: list[int] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "t_s": times,
            "ballots": ballots or [1] * len(times),
            "evidence": "burst+fill",
            "dwell_s": 5.0,
        }
    )


@pytest.mark.parametrize(
    ("times", "ballots", "levels", "want"),
    [
        # two voters far apart, then a stuffer's five hands 1.5 s apart
        (
            [5.0, 15.0, 30.0, 31.5, 33.0, 34.5, 36.0],
            None,
            [(5.2, STEP), (15.2, 2 * STEP), (36.2, 7 * STEP)],
            [(1, 1, 1.0), (1, 1, 1.0), (5, 5, 5.0)],
        ),
        # one hand and a rise of 8 ballots: the counter said 1, the pile says 8
        ([20.0], None, [(20.2, 8 * STEP)], [(1, 8, 8.0)]),
        # a counted bundle of 6 and the pile agreeing
        ([20.0], [6], [(20.2, 6 * STEP)], [(1, 6, 6.0)]),
        # two voters 3.2 s apart (two episodes): the first one's level after is read before
        # the second ballot goes in, not 4 s long from 2.5 s after it (then 2 ballots)
        ([20.0, 23.2], None, [(20.2, STEP), (23.4, 2 * STEP)], [(1, 1, 1.0), (1, 1, 1.0)]),
    ],
    ids=["hands", "uncounted-bundle", "bundle", "next-voter-close"],
)
def test_episodes(times, ballots, levels, want) -> None:
    curve = fill_curve(series(levels), 100.0)
    got = find_episodes(drops(times, ballots), curve, STEP)
    assert list(got.columns) == EPISODE_COLUMNS
    assert [(r.insertions, r.ballots) for r in got.itertuples()] == [(a, b) for a, b, _ in want]
    assert got["fill_ballots"].to_numpy() == pytest.approx([c for _, _, c in want], abs=0.05)


@pytest.mark.parametrize(
    ("times", "ballots", "rise", "want"),
    [
        # two voters 1 s apart and a pile read 2.9 ballots high: the excess is within what
        # legitimate episodes show (< 5), so 2 ballots, and floor(4.9 − 2) adds nothing
        ([20.0, 21.0], None, 4.9, (2, 2, 1.0)),
        # one voter and a pile read 4.7 ballots high (demo-clean 41): tested as 2, not 5
        ([20.0], None, 4.7, (1, 2, 2.5)),
        # three hands and a pile 6.5 high: floor(6.5 − 2) = 4 ballots tested
        ([20.0, 21.5, 23.0], None, 6.5, (3, 4, 1.5)),
        # five hands 1.5 s apart, the pile agreeing: tested 5 within their own 1.5 s cadence
        ([20.0, 21.5, 23.0, 24.5, 26.0], None, 5.0, (5, 5, 1.5)),
        # drops closer than a hand can move: the window is not taken below cadence_min_s
        ([20.0, 20.4, 20.8], None, 3.0, (3, 3, 1.0)),
        # one hand, the pile rose 8: a bundle of 8, tested 8 over the whole gap
        ([20.0], None, 8.0, (8, 8, 2.5)),
        # a counted bundle of 6, the pile a little higher: the count stands
        ([20.0], [6], 7.5, (6, 6, 2.5)),
    ],
    ids=["noisy-pile", "noisy-single", "pile-above", "hands", "too-fast", "bundle", "counted"],
)
def test_tested_episodes(times, ballots, rise, want) -> None:
    curve = fill_curve(series([(times[-1] + 0.2, rise * STEP)]), 100.0)
    obs = Observability(0.0, 60.0)
    got = detect.tested_episodes(drops(times, ballots), curve, STEP, obs).iloc[0]
    assert (int(got["ballots"]), int(got["tested"])) == want[:2]
    assert got["window_s"] == pytest.approx(want[2])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fill_margin": -1.0}, "fill_margin"),
        ({"cadence_min_s": 3.0}, "cadence_min_s"),
        ({"pile_tail": 1.0}, "pile_tail"),
        ({"hands_tail": 0.0}, "hands_tail"),
        ({"hands_decay": 1.5}, "hands_decay"),
        ({"pile_decay": 0.0}, "pile_decay"),
        ({"rise_decay": 0.0}, "rise_decay"),
        ({"rise_tail": 1.0}, "rise_tail"),
        ({"hidden_explained": 0.0}, "hidden_explained"),
        ({"hidden_dispersion": 0.5}, "hidden_dispersion"),
        ({"hidden_look_s": 0.0}, "hidden_look_s"),
    ],
)
def test_detect_options_checked(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        detect.DetectOptions(**kwargs)


def test_without_a_readable_pile_the_counted_ballots_stand() -> None:
    got = find_episodes(drops([5.0, 6.0, 7.0]), None, np.nan)
    assert got["ballots"].tolist() == [3] and got["fill_ballots"].isna().all()


def test_no_drops_no_episodes() -> None:
    assert find_episodes(drops([]), None, np.nan).empty


@pytest.mark.parametrize(
    ("frame", "message"),
    [(pd.DataFrame({"t_s": [1.0]}), "ballots"), (pd.DataFrame({"ballots": [1]}), "t_s")],
)
def test_episodes_reject_missing_columns(frame, message) -> None:
    with pytest.raises(ValueError, match=message):
        find_episodes(frame, None, np.nan)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gap_s": 0.0}, "gap_s"),
        ({"rise_excess": -1.0}, "rise_excess"),
        ({"settle_s": -1.0}, "settle_s"),
        ({"hand_gap_s": -0.1}, "hand_gap_s"),
        ({"hand_gap_s": 2.5}, "hand_gap_s"),
    ],
)
def test_episode_options_checked(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        EpisodeOptions(**kwargs)


def test_robust_z() -> None:
    ref = np.array([4.0, 5.0, 6.0, 5.0, 5.0, 100.0])
    # median 5, MAD 0 → the floor; an outlier does not move it
    assert robust_z(np.array([5.0, 9.0]), ref, floor=2.0).tolist() == [0.0, 2.0]
    assert np.isnan(robust_z(np.array([1.0]), np.array([np.nan]), floor=1.0)).all()


@pytest.mark.parametrize(
    ("not_after", "want"),
    [(np.inf, 2.0), (23.2, 1.0), (22.6, 1.0), (22.4, np.nan)],
    ids=["unbounded", "next-ballot", "just-settled", "not-settled"],
)
def test_rise_between_stops_at_the_next_ballot(not_after, want) -> None:
    # one ballot at 20.2 s, the next at 23.4 s: the level after the first is read from 2.5 s
    # after it up to `not_after` (NaN when that leaves no time at all, then the wider look too)
    curve = fill_curve(series([(20.2, STEP), (23.4, 2 * STEP)]), 100.0)
    got = rise_between(curve, 20.0, 20.0, not_after=not_after) / STEP
    assert got == pytest.approx(want, nan_ok=True)


@pytest.mark.parametrize(
    ("fill", "contrast", "line", "want"),
    [
        (4.0, 50.0, 3.0, True),
        (np.nan, 50.0, 3.0, False),  # no level read
        (4.0, 39.0, 3.0, False),  # too faint (`min_contrast` 40)
        (4.0, np.nan, 3.0, False),
        (4.0, 50.0, 1.5, False),  # its edge on a box edge (`line_rows` 1.5)
        (4.0, 50.0, np.nan, False),
        (4.0, 50.0, None, True),  # a series without fill_line
    ],
)
def test_readable_samples(fill, contrast, line, want) -> None:
    s = pd.DataFrame({"t_s": [0.0], "fill": [fill], "fill_contrast": [contrast]})
    if line is not None:
        s["fill_line"] = line
    assert readable_samples(s).tolist() == [want]


def test_fill_curve_reads_only_readable_samples() -> None:
    s = series([(10.0, 4.0)], end=30.0)
    s.loc[s["t_s"].between(12, 14), "fill_contrast"] = 5.0  # someone in front of the box
    s.loc[s["t_s"].between(20, 22), "fill_line"] = 0.5  # the edge on the box's own edge
    curve = fill_curve(s, 50.0)
    t = curve.samples["t_s"]
    assert not t.between(12.05, 13.95).any() and not t.between(20.05, 21.95).any()
    assert rise_between(curve, 9.0, 10.5) == pytest.approx(4.0)
    grid = curve.resampled()
    assert list(grid.columns) == FILL_COLUMNS
    assert grid["fill_level"].dropna().between(0, 1).all()
    assert grid["fill_level"].iloc[-1] == pytest.approx(24.0 / 50.0)


def test_fill_curve_runs_on_across_a_nudged_camera_s_views() -> None:
    # the pile at 6 px of a 50-px box until 20 s; the camera is nudged and from then on the
    # box shows 40 px tall (its pile 4.8 px): the level stays 0.12, in pixels of the first
    s = series([(20.0, -1.2)], end=40.0)
    s["fill"] = np.where(s["t_s"] < 20.0, 6.0, 4.8)
    views = [(0.0, 20.0, 50.0), (20.0, np.inf, 40.0)]
    curve = fill_curve(s, 50.0, views=views)
    assert curve.samples["fill_px"].to_numpy() == pytest.approx(6.0)
    assert rise_between(curve, 18.0, 19.0) == pytest.approx(0.0)
    assert curve.resampled()["fill_level"].to_numpy() == pytest.approx(0.12)
    # one view only: the second stretch read as a fall of 1.2 px
    assert rise_between(fill_curve(s, 50.0), 18.0, 19.0) == pytest.approx(-1.2)
    # samples in no view are dropped
    assert fill_curve(s, 50.0, views=views[:1]).samples["t_s"].max() < 20.0


def test_view_heights_from_the_counter_s_zone_table() -> None:
    square = "[[10, 20], [50, 20], [50, 60], [10, 60]]"
    tall = "[[10, 20], [50, 20], [50, 70], [10, 70]]"
    one = pd.DataFrame({"polygon": [square]})
    two = pd.DataFrame({"polygon": [tall, square], "start_s": [90.0, 0.0], "end_s": [np.inf, 90.0]})
    assert view_heights(one) == [(-np.inf, np.inf, 40.0)]
    assert view_heights(two) == [(0.0, 90.0, 40.0), (90.0, np.inf, 50.0)]
    assert view_heights(pd.DataFrame({"polygon": [""]})) == []
    assert view_heights(pd.DataFrame()) == []


@pytest.mark.parametrize(
    ("unreadable", "want"),
    [
        # the pile hidden 20-30 s (a blind range) and again 30-45 s (someone in front): read
        # from the level before 20 s and the first one after 45 s, 6 px up
        ((30.0, 45.0), (6.0, 15.7, 49.0)),
        # unreadable from 30 s to the end: NaN, the span the period itself
        ((30.0, 90.0), (np.nan, 20.0, 30.0)),
    ],
    ids=["read-further-on", "never-read-after"],
)
def test_rise_around_a_blind_range_reads_the_nearest_levels(unreadable, want) -> None:
    s = series([(10.0, 4.0), (25.0, 10.0)], end=90.0)
    s.loc[s["t_s"].between(*unreadable), "fill_contrast"] = 0.0
    curve = fill_curve(s, 50.0, hidden=[(20.0, 30.0)])
    rise, t0, t1 = rise_around(curve, 20.0, 30.0)
    assert (rise, t0, t1) == pytest.approx(want, abs=0.15, nan_ok=True)


@pytest.mark.parametrize(
    ("contrast", "activity", "resolved", "want"),
    [
        # someone at the box through a 30-s blind range, the pile never readable: an event
        # that is not flagged (listed in the report, no finding)
        (0.0, 0.5, True, [False]),
        # nobody there: nothing
        (0.0, 0.0, True, []),
        # the pile readable and risen as the voters explain: nothing
        (80.0, 0.5, True, []),
        # ... but the counter resolved no step: listed (a step from the box's height,
        # box_step, is too rough to call the rise explained)
        (80.0, 0.5, False, [False]),
    ],
    ids=["unreadable-busy", "unreadable-quiet", "readable-explained", "readable-no-step"],
)
@pytest.mark.parametrize("box_step", [False, True], ids=["counter-step", "box-step-on"])
def test_a_busy_blind_range_without_a_readable_pile_is_no_finding(
    contrast, activity, resolved, want, box_step
):
    voters = [3.0 + 8.0 * k for k in range(20)]
    seen = [t for t in voters if not 100.0 <= t <= 130.0]
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(voters)]
    s = series(levels, end=170.0)
    s["fill_contrast"] = contrast
    s.loc[s["t_s"].between(100.0, 130.0), "fg"] = activity
    obs = Observability(0.0, 170.0, ((100.0, 130.0, "audit: blocked"),))
    curve = fill_curve(s, 100.0, hidden=[(100.0, 130.0)])
    step = STEP if curve.readable and resolved else np.nan
    # a step from the box's height (box_step) reads nothing where the pile cannot be read
    o = detect.DetectOptions(box_step=box_step)
    events = detect.camera_events(drops(seen), s, curve, step, obs, o)
    hidden = [e for e in events if e.kind == "hidden"]
    assert [e.flagged for e in hidden] == want
    for e in hidden:
        guessed = box_step and not resolved and contrast > 0  # the pile read with it
        marked = "audit: blocked; step from the box height" if guessed else "audit: blocked"
        assert not e.observable and e.reasons == marked and e.activity == 1.0


def test_rise_between_unreadable_sides_is_nan() -> None:
    s = series([(10.0, 4.0)], end=30.0)
    s["fill_contrast"] = 0.0
    curve = fill_curve(s, 50.0)
    assert not curve.readable and np.isnan(rise_between(curve, 5.0, 15.0))
    assert curve.resampled().empty


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fill_curve(series([]), 0.0), "box_h"),
        (lambda: fill_curve(series([]), 10.0, window_s=0), "window_s"),
        (lambda: fill_curve(pd.DataFrame({"t_s": [0.0]}), 10.0), "fill"),
        (lambda: FillCurve(pd.DataFrame({"t_s": [0.0]}), 10.0), "fill_px"),
        (lambda: rise_between(fill_curve(series([]), 10.0), 5.0, 1.0), "before"),
        (lambda: rise_around(fill_curve(series([]), 10.0), 5.0, 1.0), "before"),
        (lambda: rise_around(fill_curve(series([]), 10.0), 1.0, 5.0, look_s=0), "look_s"),
        (lambda: fill_curve(series([]), 10.0).resampled(0.0), "every_s"),
    ],
)
def test_fill_rejects_bad_input(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


class _AuditStore:
    """A store holding only the audit's timeline: one picture state every 10 s."""

    def __init__(self, states: list[str]) -> None:
        n = len(states)
        self.table = pd.DataFrame(
            {
                "part": ["picture"] * n,
                "state": states,
                "start_s": [10.0 * i for i in range(n)],
                "end_s": [10.0 * i + 5.0 for i in range(n)],
            }
        )

    def read_table(self, analyser: str, name: str, camera_id: str) -> pd.DataFrame:
        assert (analyser, name) == ("audit", "timeline")
        return self.table


@pytest.mark.parametrize(
    ("reasons", "kept"),
    [
        (["blurred"], []),  # a soft picture: the counter judges for itself
        (["blocked", "blurred", "dark"], ["audit: blocked", "audit: dark"]),
        (["blurred", "frozen"], ["audit: frozen"]),
    ],
)
def test_audit_ranges_keep_what_hides_the_box(reasons, kept) -> None:
    # the stuffing part's blind time is the counter's (`camera_data` reads
    # `camera_observability`, whose audit source this is)
    from pollwatch.counting.step import audit_ranges

    camera = SimpleNamespace(camera_id="cam")
    got = audit_ranges(_AuditStore(reasons), camera)  # type: ignore[arg-type]
    assert [r for _, _, r in got] == kept


@pytest.mark.parametrize(
    ("others", "times", "rise", "flagged"),
    [
        # one hand and a pile 8 ballots up: the pile alone proves no more than its tail, 7
        # ballots above those counted: 0.0052 · 0.66² = 0.0023 an episode; with 20 other
        # episodes that is not enough (1 − (1 − 0.0023)^21 = 0.047)
        (20, [100.0], 8, False),
        # the same on a quiet camera (5 other episodes): 1 − (1 − 0.0023)^6 = 0.013 < 0.02
        (5, [100.0], 8, True),
        # a bundle of 14 left uncounted (13 above the one hand): 0.0052 · 0.66^8 = 1.9e-4
        (20, [100.0], 14, True),
        # six hands counted, the pile agreeing: the count proves it alone
        (20, [100.0, 101.5, 103.0, 104.5, 106.0, 107.5], 6, True),
    ],
    ids=["pile-only-busy", "pile-only-quiet", "pile-only-large", "counted"],
)
def test_what_the_pile_alone_proves(others, times, rise, flagged) -> None:
    voters = [3.0 + 4.0 * k for k in range(others)]  # single voters, 4 s apart
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(voters)]
    levels.append((times[-1] + 0.2, STEP * (others + rise)))
    curve = fill_curve(series(levels, end=130.0), 100.0)
    obs = Observability(0.0, 130.0)
    events = detect.camera_events(drops(voters + times), series([]), curve, STEP, obs)
    event = next(e for e in events if e.start_s == times[0])
    assert event.flagged is flagged
    if len(times) == 1:  # the pile alone
        tail = detect.PILE_TAIL * detect.PILE_TAIL_DECAY ** (rise - 1 - 5)
        want = 1.0 - (1.0 - tail) ** (others + 1)
        assert event.p_value == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize(
    ("evidence", "pile_drops", "flagged"),
    [
        # demo 202 cam-D002-003: one voter, the pile of a defocused box read 7 up at once and
        # the counter put a drop of 7 there with no hand seen: the pile's evidence, no more
        # than its tail for 7 above the 0 seen (0.0052 · 0.66² = 0.0023 an episode; with 20
        # other episodes 1 − (1 − 0.0023)^21 = 0.047)
        ("fill", True, False),
        # the same taken as counted ballots (before session 14): flagged at the count's p
        ("fill", False, True),
        # a hand seen going in with the pile up 7 at once: the counter's bundle stands
        ("burst+fill", True, True),
    ],
    ids=["pile-drop", "pile-drop-counted", "bundle-behind-a-hand"],
)
def test_ballots_only_the_pile_showed_are_the_pile_s(evidence, pile_drops, flagged) -> None:
    voters = [3.0 + 4.0 * k for k in range(20)]  # single voters, 4 s apart
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(voters)]
    levels.append((100.2, STEP * (20 + 7)))
    curve = fill_curve(series(levels, end=130.0), 100.0)
    frame = drops([*voters, 100.0], [1] * 20 + [7])
    frame.loc[20, "evidence"] = evidence
    obs = Observability(0.0, 130.0)
    options = detect.DetectOptions(pile_drops=pile_drops)
    events = detect.camera_events(frame, series([]), curve, STEP, obs, options)
    event = next(e for e in events if e.start_s == 100.0)
    assert (event.ballots, event.flagged) == (7, flagged)
    if evidence == "fill" and pile_drops:
        tail = detect.PILE_TAIL * detect.PILE_TAIL_DECAY ** (7 - 5)
        assert event.p_value == pytest.approx(1.0 - (1.0 - tail) ** 21, rel=1e-6)


@pytest.mark.parametrize(
    ("times", "evidence", "ballots", "rise", "want"),
    [
        # demo 71: three hands and two ballots the counter read off the pile at one moment,
        # the pile across the episode up 3: the pile's own two are not backed, 4 movements
        (
            [20.0, 21.0, 21.0, 23.0, 24.3],
            ["burst+fill", "fill", "fill", "burst+fill", "burst+fill"],
            None,
            3.2,
            (4, 3),
        ),
        # the same with the pile up 5: both are backed
        (
            [20.0, 21.0, 21.0, 23.0, 24.3],
            ["burst+fill", "fill", "fill", "burst+fill", "burst+fill"],
            None,
            5.0,
            (4, 5),
        ),
        # a hand and a bundle of 9 only the pile showed, the pile up 11: all stand
        ([20.0, 21.3, 22.6], ["burst+fill", "fill", "burst+fill"], [1, 9, 1], 11.0, (3, 11)),
    ],
    ids=["pile-drops-unbacked", "pile-drops-backed", "pile-bundle"],
)
def test_the_pile_s_own_drops_count_as_far_as_its_rise(
    times, evidence, ballots, rise, want
) -> None:
    frame = drops(times, ballots).assign(evidence=evidence)
    curve = fill_curve(series([(times[-1] + 0.2, rise * STEP)]), 100.0)
    got = find_episodes(frame, curve, STEP).iloc[0]
    assert (int(got["insertions"]), int(got["counted"])) == want


@pytest.mark.parametrize(
    ("height", "rise", "flagged"),
    [
        # five hand movements counted 1-2 s apart on a quiet camera, the pile unreadable:
        # at the calibrated resolution the count proves it ...
        (360, None, True),
        (None, None, True),
        # ... at 320x180 it proves no more than the low-resolution tail (0.045 * 0.5^2)
        (180, None, False),
        # ... unless the pile's rise backs the count
        (180, 5.0, True),
    ],
    ids=["calibrated", "height-unknown", "coarse", "coarse-pile-backed"],
)
def test_coarse_cameras_hand_counts_need_the_pile(height, rise, flagged) -> None:
    voters = [3.0, 40.0, 70.0]
    times = [100.0, 101.2, 102.4, 103.6, 104.8]
    curve = None
    if rise is not None:
        levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(voters)]
        levels.append((times[-1] + 0.2, STEP * (len(voters) + rise)))
        curve = fill_curve(series(levels, end=130.0), 100.0)
    obs = Observability(0.0, 130.0)
    frame = drops(voters + times).assign(evidence="burst")
    step = STEP if curve is not None else np.nan
    events = detect.camera_events(frame, series([]), curve, step, obs, frame_height=height)
    event = next(e for e in events if e.start_s == times[0])
    assert event.flagged is flagged
    if height == 180 and rise is None:
        want = 1.0 - (1.0 - detect.HANDS_TAIL_LOW_RES * detect.HANDS_TAIL_DECAY**2) ** 4
        assert event.p_value == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize(
    ("blind", "rise", "kind", "flagged"),
    [
        # demo 76: a bundle of 12 put in while the stuffer hid the box for 8 s, the pile up
        # 12 across: legitimate voters at one a minute bring 12 in 8 s with no chance
        ((104.0, 112.0), 12, "rise", True),
        # the pile up 12 across a 30 s outage: a not-observable period, not a rise
        ((100.0, 130.0), 12, "hidden", True),
        # someone at the box through the 30 s, but the pile up 1: legitimate voters (one
        # each 8 s) explain it (p = 0.98 >= hidden_explained): nothing
        ((100.0, 130.0), 1, None, False),
        # the pile up 2 across a short blind moment: nothing
        ((104.0, 112.0), 2, None, False),
    ],
    ids=["short-blind", "long-blind", "long-blind-explained", "small-rise"],
)
def test_a_rise_across_a_short_blind_moment(blind, rise, kind, flagged) -> None:
    voters = [3.0 + 8.0 * k for k in range(12)]  # single voters, 8 s apart, until 91 s
    later = [150.0]
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(voters)]
    levels.append((blind[1] - 0.5, STEP * (len(voters) + rise)))
    levels.append((later[0] + 0.2, STEP * (len(voters) + rise + 1)))
    curve = fill_curve(series(levels, end=170.0), 100.0)
    obs = Observability(0.0, 170.0, ((*blind, "box not in view"),))
    fg = series([], end=170.0).assign(fg=0.0)
    fg.loc[(fg["t_s"] >= blind[0]) & (fg["t_s"] <= blind[1]), "fg"] = 0.5
    events = detect.camera_events(drops(voters + later), fg, curve, STEP, obs)
    around = [e for e in events if e.start_s <= blind[1] and e.end_s >= blind[0] and e.flagged]
    assert [e.kind for e in around] == ([kind] if kind else [])
    if kind == "rise":
        e = around[0]
        assert e.observable and e.ballots == rise and "not watched" in e.reasons
        assert e.extra_lower <= rise <= e.extra_upper


@pytest.mark.parametrize(
    ("rise", "flagged"),
    [
        # below `rise_min`: not looked at
        (2, None),
        # 13 gaps of 8 s or more: 4 ballots with no drop, 0.012 * 0.56^3 = 0.0021 a gap,
        # 1 - (1 - 0.0021)^13 = 0.027: not enough
        (4, False),
        # 5 ballots: 0.0012 a gap, 0.015 over the day (with the episodes' PILE_TAIL, 0.066)
        (5, True),
        (8, True),
    ],
    ids=["small", "four", "five", "eight"],
)
def test_a_rise_no_drop_explains_takes_the_between_episode_tail(rise, flagged) -> None:
    voters = [3.0 + 11.0 * k for k in range(12)]  # single voters, 11 s apart, until 124 s
    later = [160.0]
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(voters)]
    levels.append((140.0, STEP * (len(voters) + rise)))
    levels.append((later[0] + 0.2, STEP * (len(voters) + rise + 1)))
    curve = fill_curve(series(levels, end=180.0), 100.0)
    obs = Observability(0.0, 180.0)
    events = detect.camera_events(drops(voters + later), series([]), curve, STEP, obs)
    rises = [e for e in events if e.kind == "rise"]
    if flagged is None:
        assert rises == []
        return
    (e,) = rises
    assert e.flagged is flagged and e.ballots == rise and e.reasons == "fill"
    gaps = 13  # before each voter but the first, before the later one and after it
    tail = detect.RISE_TAIL * detect.RISE_TAIL_DECAY ** (rise - detect.RISE_TAIL_FROM)
    assert e.p_value == pytest.approx(1.0 - (1.0 - tail) ** gaps, rel=1e-3)


@pytest.mark.parametrize(
    ("hidden", "want_rise"),
    [
        # demo 82: someone in front of the box for 8 s read the pile 11 ballots low; the
        # counter marked the box not in view then: without the range the pile "rose" 11
        ((), 11.0),
        (((30.0, 38.0),), 0.0),
    ],
    ids=["read-in-front", "hidden-dropped"],
)
def test_fill_curve_drops_what_the_box_hid(hidden, want_rise) -> None:
    s = series([(30.0, -11 * STEP), (38.0, 0.0)], end=80.0)
    curve = fill_curve(s, 100.0, hidden=hidden)
    t = curve.samples["t_s"]
    assert t.between(30.05, 37.95).any() is not bool(hidden)
    rise = curve.level_near(60.0, 64.0) - curve.level_near(29.0, 33.0)
    assert rise / STEP == pytest.approx(want_rise, abs=0.05)


@pytest.mark.parametrize(
    ("times", "ballots", "want"),
    [
        # demo 82: a bundle of 13, a voter 2.6 s later: the voter's rise starts from the
        # level settled after the bundle (none left to read: NaN), not from before it (14);
        # the bundle's own is read before the voter's ballot goes in (before: after both, 14)
        ([20.0, 22.6], [13, 1], [13.0, np.nan]),
        # 8 s later the level settled after the bundle is there to read
        ([20.0, 28.0], [13, 1], [13.0, 1.0]),
    ],
    ids=["close", "apart"],
)
def test_an_episode_s_rise_starts_after_the_previous_one(times, ballots, want) -> None:
    levels = [(t + 0.2, STEP * sum(ballots[: k + 1])) for k, t in enumerate(times)]
    curve = fill_curve(series(levels), 100.0)
    got = find_episodes(drops(times, ballots), curve, STEP)
    assert got["fill_ballots"].to_numpy() == pytest.approx(want, abs=0.05, nan_ok=True)


@pytest.mark.parametrize(
    ("bundle_at", "unseen", "reported"),
    [
        # a bundle of 10 counted 1 s before the box went out of view for 30 s (demo 83: a
        # stuffer's first hand counted just before a frozen picture): the pile is read from
        # before the bundle, and the ballots counted on either side are taken off, so the
        # bundle is not read again: nothing rose beyond them, nothing reported
        (99.0, 0, False),
        (92.0, 0, False),
        # ... and 14 more put in unseen: legitimate voters (4.7 expected) do not explain them
        (99.0, 14, True),
        (92.0, 14, True),
    ],
    ids=["just-before", "settled", "just-before-unseen", "settled-unseen"],
)
def test_a_blind_range_s_rise_takes_off_the_ballots_counted_around_it(
    bundle_at, unseen, reported
) -> None:
    voters = [3.0 + 8.0 * k for k in range(11)]  # single voters, 8 s apart, until 83 s
    times = [*voters, bundle_at, 150.0]
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(voters)]
    levels += [(bundle_at + 0.2, STEP * 21), (131.0, STEP * (21 + unseen))]
    levels.append((150.2, STEP * (22 + unseen)))
    blind = (100.0, 130.0)
    curve = fill_curve(series(levels, end=170.0), 100.0, hidden=[blind])
    obs = Observability(0.0, 170.0, ((*blind, "box not in view"),))
    fg = series([], end=170.0).assign(fg=0.0)
    fg.loc[fg["t_s"].between(*blind), "fg"] = 0.5
    frame = drops(times, [1] * 11 + [10, 1])
    events = detect.camera_events(frame, fg, curve, STEP, obs)
    hidden = [e for e in events if e.kind == "hidden"]
    assert [e.flagged for e in hidden] == ([True] if reported else [])
    if reported:
        (e,) = hidden
        assert e.fill_ballots == pytest.approx(unseen, abs=0.5)
        assert e.extra_lower <= unseen <= e.extra_upper and not e.observable


@pytest.mark.parametrize(
    ("rough", "flagged"),
    [
        # the box in focus: the between-episode tail, 0.015 over the day (see above)
        (None, True),
        # out of focus from 130 s on: the episodes' PILE_TAIL, 1 - (1 - 0.0052)^13 = 0.066
        ((130.0, 150.0), False),
        # out of focus before the stretch only: the between-episode tail still
        ((20.0, 40.0), True),
    ],
    ids=["clear", "rough", "rough-elsewhere"],
)
def test_a_rise_on_rough_time_takes_the_episodes_tail(rough, flagged) -> None:
    voters = [3.0 + 11.0 * k for k in range(12)]
    later = [160.0]
    levels = [(t + 0.2, STEP * (k + 1)) for k, t in enumerate(voters)]
    levels.append((140.0, STEP * (len(voters) + 5)))
    levels.append((later[0] + 0.2, STEP * (len(voters) + 6)))
    watched = series(levels, end=180.0)
    curve = fill_curve(watched, 100.0)
    t = watched["t_s"]
    out_of_focus = (t >= rough[0]) & (t < rough[1]) if rough else np.zeros(len(t), bool)
    watched = watched.assign(outline=np.where(out_of_focus, 0.1, 1.0), view=1.0)
    obs = Observability(0.0, 180.0)
    events = detect.camera_events(drops(voters + later), watched, curve, STEP, obs)
    (e,) = [e for e in events if e.kind == "rise"]
    assert e.flagged is flagged and e.ballots == 5
    assert ("out of focus" in e.reasons) is (rough == (130.0, 150.0))
    tail = detect.RISE_TAIL * detect.RISE_TAIL_DECAY ** (5 - detect.RISE_TAIL_FROM)
    if rough == (130.0, 150.0):
        tail = detect.PILE_TAIL
    assert e.p_value == pytest.approx(1.0 - (1.0 - tail) ** 13, rel=1e-2)


def test_between_rises_counts_the_rough_seconds() -> None:
    levels = [(3.2, STEP), (40.0, 3 * STEP), (50.2, 4 * STEP)]
    curve = fill_curve(series(levels, end=60.0), 100.0)
    episodes = detect.tested_episodes(drops([3.0, 50.0]), curve, STEP, Observability(0.0, 60.0))
    rough = [(30.0, 45.0, "box out of focus"), (55.0, 70.0, "box out of focus")]
    gaps = detect.between_rises(episodes, curve, STEP, Observability(0.0, 60.0), rough=rough)
    assert list(gaps.columns) == ["start_s", "end_s", "ballots", "blind_s", "rough_s"]
    middle = gaps[(gaps["start_s"] < 30.0) & (gaps["end_s"] > 45.0)]
    assert len(middle) == 1 and middle["rough_s"].iloc[0] == pytest.approx(15.0)
    assert middle["ballots"].iloc[0] == pytest.approx(2.0, abs=0.1)
