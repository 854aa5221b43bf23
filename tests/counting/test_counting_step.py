"""The counting case step on stored per-camera results: counts.csv, drops.csv, findings."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from test_drops import BOX_H, series, voters  # on sys.path, as countclips for test_clips

from pollwatch.case import CasePaths
from pollwatch.counting.boxzone import resolve_box_zone
from pollwatch.counting.calibration import COUNTER_ERRORS, ROUGH_ERRORS
from pollwatch.counting.drop_options import DropFinderOptions
from pollwatch.counting.drops import find_drops
from pollwatch.counting.stats import inflation_test
from pollwatch.counting.step import (
    DROPS_CSV_COLUMNS,
    OBSERVABILITY_SOURCES,
    CountingPart,
    _watch_views,
    audit_ranges,
    camera_observability,
    camera_rough,
    counting_step,
    replay_camera,
)
from pollwatch.counting.turnout import ALPHA
from pollwatch.counting.unobservable import unobservable_ranges
from pollwatch.counting.views import BoxView
from pollwatch.counting.watcher import WatchResult
from pollwatch.ingest import ingest_case
from pollwatch.pipeline import export_csvs
from pollwatch.store import Store

DAY_S = 12 * 3600.0
# official increments per checkpoint interval (tests/casefactory.py's turnout.csv)
OFFICIAL = {"C1": [100, 150, 170, 190], "C2": [80, 120, 150, 155]}
EDGES = [0.0, 7200.0, 14400.0, 25200.0, DAY_S]


def _store_camera(store: Store, camera: str, seen: list[int], blind: list[tuple]) -> None:
    times = np.concatenate(
        [
            np.linspace(a + 60, b - 60, n)
            for (a, b), n in zip(itertools.pairwise(EDGES), seen, strict=True)
        ]
    )
    start = store.camera(camera).start_time
    drops = pd.DataFrame(
        {
            "t_s": times,
            "ballots": np.ones(len(times), np.int64),
            "confidence": 0.99,
            "evidence": "burst+fill",
            "visit_id": np.arange(len(times)),
            "dwell_s": 4.0,
            "time": [start + timedelta(seconds=float(t)) for t in times],
        }
    )
    store.write_table("counting", "drops", drops, camera_id=camera)
    store.write_table(
        "counting",
        "unobservable",
        pd.DataFrame(blind, columns=["start_s", "end_s", "reason"]).astype(
            {"start_s": float, "end_s": float}
        ),
        camera_id=camera,
    )
    store.write_table(
        "counting", "facts", pd.DataFrame([{"recording_end_s": DAY_S + 60}]), camera_id=camera
    )


@pytest.fixture
def counted(small_case: CasePaths):
    ingest_case(small_case.root)
    with Store(small_case.db_path) as store:
        _store_camera(store, "C1", [100, 150, 170, 100], [])  # 90 official ballots not seen
        _store_camera(store, "C2", [80, 10, 150, 155], [(8000.0, 9000.0, "outage video")])
        counting_step(small_case, store)
        yield small_case, store


def test_counts_csv_and_drops_csv(counted) -> None:
    paths, _ = counted
    counts = pd.read_csv(paths.out("counts.csv"))
    assert list(counts.columns) == [
        "camera_id", "station_id", "interval_start", "interval_end", "counted", "lower",
        "upper", "official", "observable",
    ]  # fmt: skip
    # two of C2's ten drops in its second interval fell in its outage: left out
    assert counts["counted"].tolist() == [100, 150, 170, 100, 80, 8, 150, 155]
    assert counts["official"].tolist() == OFFICIAL["C1"] + OFFICIAL["C2"]
    assert counts["observable"].tolist() == [True] * 5 + [False] + [True] * 2
    assert counts["upper"].isna().tolist() == [False] * 5 + [True] + [False] * 2
    assert counts.loc[0, "interval_start"] == "2024-02-07T08:00:00.000+04:00"
    drops = pd.read_csv(paths.out("drops.csv"))
    assert list(drops.columns) == DROPS_CSV_COLUMNS and len(drops) == 520 + 395 - 2


def test_inflation_found_where_seen_and_not_where_blind(counted) -> None:
    paths, store = counted
    findings = store.findings()
    assert set(findings["kind"]) == {"turnout_inflation"}
    assert set(findings["camera_id"]) == {"C1"}  # C2's shortfall is in its outage
    last = findings[findings["t_start"] == "2024-02-07T15:00:00+04:00"]
    expected = inflation_test(190, 100, COUNTER_ERRORS, alpha=ALPHA).excess_lower
    assert len(last) == 1 and last["score"].iloc[0] == expected > 0
    export_csvs(paths, store)
    assert len(pd.read_csv(paths.out("findings.csv"))) == len(findings)


@pytest.mark.parametrize(
    ("rough", "flagged"),
    [
        ([], True),
        ([(26000.0, DAY_S, "box out of focus")], False),  # the shortfall seen out of focus
        ([(100.0, 6000.0, "box out of focus")], True),  # out of focus elsewhere
    ],
)
def test_rough_time_is_tested_with_the_rough_rates(
    small_case: CasePaths, rough: list[tuple], flagged: bool
) -> None:
    ingest_case(small_case.root)
    with Store(small_case.db_path) as store:
        _store_camera(store, "C1", [100, 150, 170, 160], [])
        frame = pd.DataFrame(rough, columns=["start_s", "end_s", "reason"])
        store.write_table("counting", "rough", frame.astype({"start_s": float}), camera_id="C1")
        counting_step(small_case, store)
        counts = store.read_table("counting", "counts")
        findings = store.findings()
    assert counts["rough"].tolist()[3] is not flagged
    last = findings[findings["t_start"] == "2024-02-07T15:00:00+04:00"]
    assert len(last) == int(flagged)
    # 190 official against 160 seen: credible under the rough rates, not the clear ones
    assert not inflation_test(190, 160, ROUGH_ERRORS).significant
    assert inflation_test(190, 160, COUNTER_ERRORS).significant


def test_plugged_in_ranges_make_intervals_not_observable(small_case: CasePaths) -> None:
    ingest_case(small_case.root)
    OBSERVABILITY_SOURCES.register("test-audit", lambda store, cam: [(20000.0, 30000.0, "turned")])
    try:
        with Store(small_case.db_path) as store:
            _store_camera(store, "C1", [100, 150, 170, 100], [])
            counting_step(small_case, store)
            counts = store.read_table("counting", "counts")
            findings = store.findings()
    finally:
        OBSERVABILITY_SOURCES._items.pop("test-audit")
    assert counts["observable"].tolist() == [True, True, False, False]
    assert findings.empty


@pytest.mark.parametrize(
    ("confidence", "bursts", "reaches", "step_px", "blind", "blurred"),
    [
        (0.2, 0.0, np.nan, np.nan, True, 0.0),  # a box located weakly that never showed anything
        (0.2, 6.0, np.nan, np.nan, True, 0.0),  # white patches alone, on a box that may not be one
        (0.9, 0.0, np.nan, np.nan, False, 0.0),  # a confident box on a quiet day
        (0.9, 6.0, np.nan, np.nan, False, 0.0),  # a confident box without a slot: patches count
        (0.2, 0.0, 4.0, np.nan, False, 0.0),  # hands over a slot
        (0.2, 0.0, np.nan, 1.0, False, 0.0),  # a paper pile read
        # a blurred dark bar on a weak box (demo 26's cam-D003-001, turned away): no proof
        (0.2, 0.0, 0.0, np.nan, True, 1.0),
        (0.9, 0.0, 0.0, np.nan, False, 1.0),
        (0.2, 0.0, 3.0, 1.0, False, 1.0),  # a blurred slot and a pile read: a box
    ],
)
def test_a_weak_box_that_showed_nothing_is_not_observable(
    confidence: float, bursts: float, reaches: float, step_px: float, blind: bool, blurred: float
) -> None:
    from pollwatch.counting.step import _nothing_seen

    zone = pd.DataFrame([{"confidence": confidence}])
    facts = pd.DataFrame(
        [{"bursts": bursts, "reaches": reaches, "step_px": step_px, "slot_blurred": blurred}]
    )
    assert _nothing_seen(zone, facts) is blind


def _audited(store: Store, camera: str, ranges: list[tuple[float, float, str, str]]) -> None:
    frame = pd.DataFrame(ranges, columns=["start_s", "end_s", "part", "state"])
    store.write_table("audit", "timeline", frame.astype({"start_s": float}), camera_id=camera)


@pytest.mark.parametrize(
    ("ranges", "expected"),
    [
        ([(10.0, 40.0, "picture", "frozen")], [(10.0, 40.0, "audit: frozen")]),
        (
            [(10.0, 40.0, "picture", "dark"), (20.0, 30.0, "picture", "blocked")],
            [(10.0, 40.0, "audit: dark"), (20.0, 30.0, "audit: blocked")],
        ),
        # a blurred box is watched, as the counter's rough time
        ([(10.0, 40.0, "picture", "blurred")], []),
        # a day out of focus with a cover inside it: only the cover is blind (demo 93's
        # cam-D004-002: the merged "blocked,blurred" range made the whole day blind)
        (
            [(0.0, 360.0, "picture", "blurred"), (246.0, 304.0, "picture", "blocked")],
            [(246.0, 304.0, "audit: blocked")],
        ),
        # the view: a box out of sight is blind, a shifted view is not; sound is not the box
        (
            [(0.0, 50.0, "view", "shifted"), (50.0, 90.0, "view", "box_not_visible")],
            [(50.0, 90.0, "audit: box_not_visible")],
        ),
        ([(0.0, 90.0, "sound", "muted")], []),
        ([], []),
        (None, []),  # not audited
    ],
)
def test_the_audits_ranges_are_unobservable_but_a_blur(
    small_case: CasePaths, ranges: list | None, expected: list
) -> None:
    ingest_case(small_case.root)
    with Store(small_case.db_path) as store:
        if ranges is not None:
            _audited(store, "C1", ranges)
        assert audit_ranges(store, store.camera("C1")) == expected


FROZEN = (22.0, 46.0)


def _frozen_series(slot: bool = False) -> pd.DataFrame:
    """Five voters, two of them while the picture stood frozen: no hand, no pile readable,
    yet the codec stirs a pixel every other sample (the counter's own check sees no freeze);
    with `slot`, their hands over a slot seen."""
    times = [10.0, 20.0, 30.0, 40.0, 55.0]
    s = series(70, **voters(times), reaches=[(x, 0.4) for x in times] if slot else None)
    frozen = (s["t_s"] > FROZEN[0]) & (s["t_s"] < FROZEN[1])
    s.loc[frozen, ["white", "fg"] + (["slot_cover"] if slot else [])] = 0.0
    s.loc[frozen, ["white_x", "fill"]] = np.nan
    s.loc[frozen, "motion"] = np.where(np.arange(frozen.sum()) % 2, 0.0, 0.0012)
    return s


@pytest.mark.parametrize(("audited", "new_blind"), [(True, True), (False, False)])
def test_drops_are_found_again_without_time_the_audit_found_blind(
    small_case: CasePaths, audited: bool, new_blind: bool
) -> None:
    ingest_case(small_case.root)
    s = _frozen_series()
    assert unobservable_ranges(s) == []
    with Store(small_case.db_path) as store:
        _store_camera(store, "C1", [0, 0, 0, 0], [])
        start = store.camera("C1").start_time
        passed, _ = find_drops(s, BOX_H)
        passed = passed.assign(time=[start + timedelta(seconds=float(t)) for t in passed["t_s"]])
        store.write_table("counting", "drops", passed, camera_id="C1")
        store.write_table("counting", "series", s, camera_id="C1")
        polygon = f"[[20.0, 20.0], [60.0, 20.0], [60.0, {20 + BOX_H}], [20.0, {20 + BOX_H}]]"
        zone = pd.DataFrame([{"polygon": polygon, "confidence": 0.9, "method": "polygon"}])
        store.write_table("counting", "zone", zone, camera_id="C1")
        if audited:
            _audited(store, "C1", [(*FROZEN, "picture", "frozen")])
        counting_step(small_case, store)
        stored = store.read_table("counting", "drops", camera_id="C1")
    expected = find_drops(s, BOX_H, blind=[(*FROZEN, "audit: frozen")])[0] if new_blind else passed
    assert stored["t_s"].tolist() == expected["t_s"].tolist()
    assert stored["ballots"].tolist() == expected["ballots"].tolist()
    # the pile's rise across the frozen time is no hand's: found again, nothing falls in it
    inside = stored["t_s"].between(*FROZEN)
    assert inside.any() is not new_blind


@pytest.mark.parametrize(
    ("slot_seen", "blurred", "rough"),
    [
        (True, False, []),  # a sharp slot: clear time
        (True, True, ["ballot slot out of focus"]),  # hands over a blurred slot: rough
        (False, False, ["no ballot slot seen"]),
        (False, True, ["no ballot slot seen"]),
    ],
)
def test_a_view_whose_slot_was_seen_only_out_of_focus_is_rough(
    slot_seen: bool, blurred: bool, rough: list[str]
) -> None:
    times = [10.0, 20.0, 30.0]
    reaches = [(x, 0.4) for x in times] if slot_seen else None
    watch = WatchResult(series(40, **voters(times), reaches=reaches), None, (), BOX_H, blurred)
    view = BoxView(0.0, math.inf, resolve_box_zone(None, ((1, 1), (9, 1), (9, 9))))
    _, _, got, drops, facts = _watch_views([(view, watch)], [], 40.0)
    assert [why for _, _, why in got] == rough
    assert len(drops) == len(times)
    # the facts say so only for a blurred slot with hands seen over it (`_nothing_seen`)
    assert facts.get("slot_blurred", 0.0) == float(rough == ["ballot slot out of focus"])


@pytest.mark.parametrize(
    ("blurred", "facts_blurred"),
    [((True, False), 0.0), ((False, True), 1.0), ((True, True), 1.0), ((False, False), 0.0)],
    ids=["first-blurred", "longest-blurred", "both", "neither"],
)
def test_a_blurred_slot_is_rough_in_its_own_view_only(
    blurred: tuple[bool, bool], facts_blurred: float
) -> None:
    # a camera nudged at 40 s: a view of 40 s, then one of 60 s (the longest, whose facts)
    zone = resolve_box_zone(None, ((1, 1), (9, 1), (9, 9)))
    watched = []
    for (start, seconds), blur in zip(((0.0, 40.0), (40.0, 60.0)), blurred, strict=True):
        times = [10.0, 20.0, 30.0]
        s = series(seconds, **voters(times), reaches=[(x, 0.4) for x in times])
        s = s.assign(t_s=s["t_s"] + start)
        watch = WatchResult(s, None, (), BOX_H, blur)
        watched.append((BoxView(start, start + seconds, zone), watch))
    _, _, got, drops, facts = _watch_views(watched, [], 100.0)
    want = [start for (start, b) in zip((0.0, 40.0), blurred, strict=True) if b]
    assert [round(a) for a, _, why in got if why == "ballot slot out of focus"] == want
    assert facts.get("slot_blurred", 0.0) == facts_blurred
    assert len(drops) == 6


def _stored_as_analysed(store: Store, camera: str, s: pd.DataFrame, blurred: bool) -> None:
    """What `CountingPart.save` stores of one view watching series `s` (a slot seen out of
    focus when `blurred`)."""
    polygon = f"[[20.0, 20.0], [60.0, 20.0], [60.0, {20 + BOX_H}], [20.0, {20 + BOX_H}]]"
    zone = resolve_box_zone(None, ((20, 20), (60, 20), (60, 20 + BOX_H), (20, 20 + BOX_H)))
    watch = WatchResult(s, None, (), BOX_H, blurred)
    _, own, rough, drops, facts = _watch_views([(BoxView(0.0, math.inf, zone), watch)], [], 70.0)
    frame = pd.DataFrame([{"polygon": polygon, "confidence": 0.9, "method": "polygon"}])
    store.write_table("counting", "zone", frame, camera_id=camera)
    store.write_table("counting", "series", s, camera_id=camera)
    start = store.camera(camera).start_time
    drops = drops.assign(time=[start + timedelta(seconds=float(t)) for t in drops["t_s"]])
    store.write_table("counting", "drops", drops, camera_id=camera)
    for name, ranges in (("unobservable", own), ("rough", rough)):
        table = pd.DataFrame(ranges, columns=["start_s", "end_s", "reason"])
        store.write_table("counting", name, table.astype({"start_s": float}), camera_id=camera)
    facts = pd.DataFrame([{**facts, "recording_end_s": 70.0, "frames": float(len(s))}])
    store.write_table("counting", "facts", facts, camera_id=camera)


@pytest.mark.parametrize(
    ("audited", "blurred"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_a_replay_decides_as_the_analysis_did(
    small_case: CasePaths, audited: bool, blurred: bool
) -> None:
    """`replay_camera` on a camera's stored series: the drops the case step keeps (found
    again without the audit's frozen time), the unobservable time with the audit's, and the
    rough time of a slot seen out of focus, which the series does not keep."""
    ingest_case(small_case.root)
    s = _frozen_series(slot=True)
    with Store(small_case.db_path) as store:
        camera = store.camera("C1")
        assert replay_camera(store, camera) is None  # nothing stored
        _stored_as_analysed(store, "C1", s, blurred)
        if audited:
            _audited(store, "C1", [(*FROZEN, "picture", "frozen")])
        got = replay_camera(store, camera)
        counting_step(small_case, store)
        kept = store.read_table("counting", "drops", camera_id="C1")
    assert got is not None
    assert got.drops["t_s"].tolist() == kept["t_s"].tolist()
    assert got.drops["ballots"].tolist() == kept["ballots"].tolist()
    assert [why for _, _, why in got.observability.unobservable] == (
        ["audit: frozen"] if audited else []
    )
    assert [why for _, _, why in got.rough.unobservable] == (
        ["ballot slot out of focus"] if blurred else []
    )


@pytest.mark.parametrize(("audit", "expected"), [(None, 4), ("blurred", 5), ("frozen", 4)])
def test_a_replay_takes_the_audits_blur(small_case: CasePaths, audit: str | None, expected: int):
    """A ballot seen going in while a pile out of focus held still (no slot seen) counts only
    where the audit called the picture blurred (`blur_patches`), which the pass did not know:
    the case step finds the drops again with the audit's blur, and so does the replay."""
    ingest_case(small_case.root)
    base = voters([10.0, 20.0, 30.0, 50.0])
    base["bursts"].append((40.0, 0.0))
    base["present"].append((37, 42))
    with Store(small_case.db_path) as store:
        camera = store.camera("C1")
        _stored_as_analysed(store, "C1", series(60, **base), False)
        if audit is not None:  # frozen: a blind range under `NEW_BLIND_S`, no blur
            span = (0.0, 60.0) if audit == "blurred" else (59.0, 60.0)
            _audited(store, "C1", [(*span, "picture", audit)])
        got = replay_camera(store, camera)
        # the thresholds given reach the drop finder, the audit's blur or not
        without = replay_camera(store, camera, DropFinderOptions(blur_patches=False))
        counting_step(small_case, store)
        kept = store.read_table("counting", "drops", camera_id="C1")
    assert got is not None and without is not None
    assert got.drops["t_s"].tolist() == kept["t_s"].tolist()
    assert int(got.drops["ballots"].sum()) == expected
    assert int(without.drops["ballots"].sum()) == 4


@pytest.mark.parametrize(
    "blurred",
    [(True, False), (False, True), (True, True), (False, False)],
    ids=["first", "second", "both", "neither"],
)
def test_a_replay_finds_each_views_blurred_slot_again(
    small_case: CasePaths, blurred: tuple[bool, bool]
) -> None:
    """A camera nudged at 40 s, each view's slot seen sharp or out of focus, stored by
    `CountingPart.save`: the replay gives its stored drops, rough time (the series keeps no
    blur flag: `_blurred_as_stored`) and unobservable time."""
    ingest_case(small_case.root)
    zone = resolve_box_zone(None, ((20, 20), (60, 20), (60, 20 + BOX_H), (20, 20 + BOX_H)))
    watched = []
    for (start, seconds), blur in zip(((0.0, 40.0), (40.0, 60.0)), blurred, strict=True):
        times = [10.0, 20.0, 30.0]
        s = series(seconds, **voters(times), reaches=[(x, 0.4) for x in times])
        watch = WatchResult(s.assign(t_s=s["t_s"] + start), None, (), BOX_H, blur)
        watched.append((BoxView(start, start + seconds, zone), watch))
    run = SimpleNamespace(
        gaps=[], last_s=99.9, info=SimpleNamespace(duration_s=100.0, fps=10.0), frames_delivered=1
    )
    with Store(small_case.db_path) as store:
        camera = store.camera("C1")
        CountingPart(camera, zone, [view for view, _ in watched]).save([watched], run, store)
        got = replay_camera(store, camera)
        drops = store.read_table("counting", "drops", camera_id="C1")
        rough = camera_rough(store, camera, camera_observability(store, camera))
        seen = camera_observability(store, camera)
    assert got is not None
    assert got.drops["t_s"].tolist() == drops["t_s"].tolist()
    assert got.rough == rough
    assert got.observability == seen
    assert [a for a, _, _ in rough.unobservable] == [
        a for a, b in zip((0.0, 40.0), blurred, strict=True) if b
    ]


@pytest.mark.parametrize(
    ("on", "blocked", "blind"),
    [
        (False, False, ["box not in view"]),
        (True, False, []),
        # a real cover inside the blur: the audit's own range still counts
        (True, True, ["audit: blocked"]),
    ],
)
def test_an_outline_lost_under_the_audits_blur_is_blur(
    small_case: CasePaths, monkeypatch, on: bool, blocked: bool, blind: list
) -> None:
    """With `BLUR_IS_NOT_LOST`, the counter's own "box not in view" lying inside the audit's
    `blurred` range (a defocused box with a voter at it changes the coarse picture) is rough
    time, not blind, in the case step, `camera_observability` and the replay alike."""
    monkeypatch.setattr("pollwatch.counting.step.BLUR_IS_NOT_LOST", on)
    ingest_case(small_case.root)
    times = [8.0, 30.0, 60.0]
    s = series(70, **voters(times), reaches=[(x, 0.4) for x in times])
    t = s["t_s"]
    s["outline"] = np.where(t > 2, 0.05, 1.0)  # the lens out of focus from 2 s
    s["view"] = np.where((t > 15) & (t < 50), 0.5, 0.97)  # people at the box 15-50 s
    audit = [(1.0, 70.0, "picture", "blurred")]
    if blocked:
        audit.append((28.0, 34.0, "picture", "blocked"))
    with Store(small_case.db_path) as store:
        camera = store.camera("C1")
        _stored_as_analysed(store, "C1", s, False)
        _audited(store, "C1", audit)
        obs = camera_observability(store, camera)
        rough = camera_rough(store, camera, obs)
        got = replay_camera(store, camera)
        counting_step(small_case, store)
        kept = store.read_table("counting", "drops", camera_id="C1")
    assert [why for _, _, why in obs.unobservable] == blind
    assert got is not None and [why for _, _, why in got.observability.unobservable] == blind
    # the people's stay is rough time when read as blur (it would otherwise be blind)
    for r in (rough, got.rough):
        assert r.observed_s(20.0, 45.0) == (0.0 if on else 25.0)
    assert got.drops["t_s"].tolist() == kept["t_s"].tolist()
    counted = got.drops[[obs.observable_at(x) for x in got.drops["t_s"]]]
    assert ((counted["t_s"] - 30.0).abs() < 1.0).any() == (on and not blocked)
