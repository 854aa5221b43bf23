"""The counter on rendered clips: a crowded box, a commission member loitering beside it,
and a damaged recording."""

from __future__ import annotations

import dataclasses

import av
import cv2
import numpy as np
import pytest
from countclips import CROWDED, LOITER

from pollwatch.counting.boxzone import resolve_box_zone
from pollwatch.counting.drops import find_drops
from pollwatch.counting.unobservable import unobservable_ranges
from pollwatch.counting.watcher import (
    _BLURRED_SLOT_HATS,
    _SLOT_HAT,
    SERIES_COLUMNS,
    BoxRegions,
    BoxWatcher,
    _slot_line,
)
from pollwatch.simulate.plan import CameraCondition
from pollwatch.simulate.render import CameraRenderer
from pollwatch.video import analyse_video
from pollwatch.video.boxfind import keyframe_background
from pollwatch.video.scene import locate_box
from pollwatch.video.zone import Zone


def count(path, polygon=None):
    """Locate the box, watch it, find the drops: what the video step does for one camera."""
    zone = resolve_box_zone(keyframe_background(path), polygon)
    assert zone is not None
    run = analyse_video(path, [BoxWatcher(zone.zone)])
    watch = run.results[0]
    blind = [(g.start_s, g.end_s or 1e9, g.kind) for g in run.gaps]
    blind += unobservable_ranges(watch.series)
    drops, _facts = find_drops(watch.series, watch.box_height_px, blind=blind)
    return zone, watch, drops, blind


def true_drops(plan) -> list[float]:
    return sorted(d.t_s for v in plan.visits for d in v.drops)


@pytest.mark.parametrize("plan", [CROWDED, LOITER], ids=["crowded", "loiter"])
def test_every_voter_counted_and_nobody_else(render, plan) -> None:
    path = render(plan)
    polygon = CameraRenderer(plan).box_polygon()
    zone, watch, drops, _ = count(path, polygon)
    assert list(watch.series.columns) == SERIES_COLUMNS and zone.confidence > 0.1
    found = drops["t_s"].to_numpy()
    truth = true_drops(plan)
    assert int(drops["ballots"].sum()) == len(truth)
    for t in truth:  # each ballot matched by a drop within 2 s
        assert np.min(np.abs(found - t)) <= 2.0


@pytest.mark.parametrize("plan", [CROWDED, LOITER], ids=["crowded", "loiter"])
def test_skipping_still_samples_keeps_the_drops(render, plan) -> None:
    """Samples where nothing near the box moved repeat the last measures instead of taking
    them again: the drops are the same as measuring every sample, and so, closely, the series
    (every sample read: the idle rate is tested below)."""
    path = render(plan)
    zone = resolve_box_zone(keyframe_background(path), CameraRenderer(plan).box_polygon())
    series = []
    for skip in (True, False):
        run = analyse_video(path, [BoxWatcher(zone.zone, skip_still=skip, idle_fps=None)])
        watch = run.results[0]
        drops, _ = find_drops(watch.series, watch.box_height_px)
        series.append(watch.series)
        assert int(drops["ballots"].sum()) == len(true_drops(plan)), skip
    skipped, full = series
    assert skipped.shape == full.shape and (skipped["t_s"] == full["t_s"]).all()
    assert np.nanmax(np.abs(skipped["fill"] - full["fill"])) < 0.5
    assert np.nanmax(np.abs(skipped["fg"] - full["fg"])) < 0.02
    # motion is taken afresh on every sample, still or not
    assert np.array_equal(skipped["motion"], full["motion"], equal_nan=True)


@pytest.mark.parametrize("plan", [CROWDED, LOITER], ids=["crowded", "loiter"])
@pytest.mark.parametrize(("idle_fps", "run"), [(5.0, 1), (2.5, 3)])
def test_an_idle_box_is_read_at_the_idle_rate_and_keeps_the_drops(
    render, plan, monkeypatch, idle_fps, run
):
    """While nothing moved near the box for a second, samples are read at the idle rate only
    (at 5 of 10 a second, never two unread samples in a row; at 2.5, never more than three,
    a sample's time jittering by a frame): an unread row repeats the one before, but the last
    one before a read takes the smaller motion of the reads around it; the drops are those of
    reading all."""
    path = render(plan)
    zone = resolve_box_zone(keyframe_background(path), CameraRenderer(plan).box_polygon())
    read: list[float] = []  # `_moved` looks at every sample read, once
    moved = BoxWatcher._moved
    monkeypatch.setattr(BoxWatcher, "_moved", lambda self, *a: read.append(a[1]) or moved(self, *a))
    series = {}
    for idle in (None, idle_fps):
        read.clear()
        watch = analyse_video(path, [BoxWatcher(zone.zone, idle_fps=idle)]).results[0]
        drops, _ = find_drops(watch.series, watch.box_height_px)
        assert int(drops["ballots"].sum()) == len(true_drops(plan)), idle
        series[idle] = watch.series
        unread = ~watch.series["t_s"].isin(read).to_numpy()
    assert 0 < unread.sum() < len(unread) * run / (run + 1)
    longest = max(len(r) for r in "".join("x" if u else " " for u in unread).split())
    assert longest <= run and (run == 1 or longest > 1)
    full, idle_series = series[None], series[idle_fps]
    assert (full["t_s"] == idle_series["t_s"]).all()
    values = idle_series.drop(columns=["t_s", "motion"]).fillna(-1.0).to_numpy()
    assert (values[1:][unread[1:]] == values[:-1][unread[1:]]).all()
    motion = idle_series["motion"].to_numpy()
    last = unread[1:-1] & ~unread[2:]  # the last unread sample before a read
    around = np.fmin(motion[:-2], motion[2:])[last]  # the row before and the read after
    assert np.array_equal(motion[1:-1][last], around, equal_nan=True)
    inner = unread[1:-1] & unread[2:]  # an earlier one: the row before
    assert np.array_equal(motion[1:-1][inner], motion[:-2][inner], equal_nan=True)


@pytest.mark.parametrize(
    ("outline_s", "snapshot_s", "keep"), [(2.0, 2.0, 9), (4.0, 4.0, 5), (3.0, 4.0, 2)]
)
def test_the_periodic_checks_run_at_their_periods_and_keep_the_drops(
    render, monkeypatch, outline_s, snapshot_s, keep
):
    """The outline and view checks every `outline_every_s`, a background snapshot every
    `snapshot_every_s` (the median of the last `snapshot_keep`): each at its own period, and
    the drops of the crowded clip still all found."""
    path = render(CROWDED)
    zone = resolve_box_zone(keyframe_background(path), CameraRenderer(CROWDED).box_polygon())
    outlines: list[int] = []
    snapshots: list[int] = []
    outline, snapshot = BoxWatcher._outline, BoxWatcher._snapshot
    monkeypatch.setattr(
        BoxWatcher, "_outline", lambda self, *a: outlines.append(1) or outline(self, *a)
    )

    def _snapshot(self, *a):
        snapshot(self, *a)
        snapshots.append(len(self._s.snapshots))

    monkeypatch.setattr(BoxWatcher, "_snapshot", _snapshot)
    options = {"outline_every_s": outline_s, "snapshot_every_s": snapshot_s, "snapshot_keep": keep}
    watch = analyse_video(path, [BoxWatcher(zone.zone, **options)]).results[0]
    seconds = float(watch.series["t_s"].iloc[-1])
    # a check is due at its period, taken at the first sample after (a frame or two later)
    assert seconds / (outline_s + 0.2) <= len(outlines) <= seconds / outline_s + 1
    assert seconds / (snapshot_s + 0.2) <= len(snapshots) <= seconds / snapshot_s + 1
    assert max(snapshots) == keep
    drops, _ = find_drops(watch.series, watch.box_height_px)
    assert int(drops["ballots"].sum()) == len(true_drops(CROWDED))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fps": 0.0}, "fps must be positive"),
        ({"white_level": 1.0}, "white_level"),
        ({"idle_fps": 10.0}, "idle_fps must be in"),
        ({"idle_fps": -1.0}, "idle_fps must be in"),
        ({"idle_s": -0.5}, "idle_s must be"),
        ({"outline_every_s": 0.0}, "outline_every_s must be positive"),
        ({"snapshot_every_s": -2.0}, "snapshot_every_s must be positive"),
        ({"snapshot_keep": 0}, "snapshot_keep must be >= 1"),
    ],
)
def test_watcher_arguments_are_checked(kwargs: dict, message: str) -> None:
    zone = resolve_box_zone(None, ((1, 1), (9, 1), (9, 9)))
    assert zone is not None
    with pytest.raises(ValueError, match=message):
        BoxWatcher(zone.zone, **kwargs)


def test_the_box_is_found_without_a_polygon(render) -> None:
    path = render(LOITER)
    located = resolve_box_zone(keyframe_background(path))
    truth = np.asarray(CameraRenderer(LOITER).box_polygon(), float)
    assert located is not None and located.method.startswith("located")
    got = located.zone.bbox
    want = (*truth.min(axis=0), *truth.max(axis=0))
    assert np.abs(np.subtract(got, want)).max() <= 4


@pytest.mark.parametrize(
    ("kind", "params", "blind"),
    [("defocus", {"sigma": 2.5}, False), ("box_occluded", {}, True)],
)
def test_a_box_out_of_focus_is_watched_a_box_behind_a_screen_is_not(
    render, kind: str, params: dict, blind: bool
) -> None:
    condition = CameraCondition(kind, 12.0, 30.0, params)  # type: ignore[arg-type]
    plan = dataclasses.replace(LOITER, camera_id=f"loiter-{kind}", conditions=(condition,))
    _, _, _, ranges = count(render(plan), CameraRenderer(plan).box_polygon())
    hidden = [(a, b) for a, b, reason in ranges if reason == "box not in view"]
    assert bool(hidden) == blind
    if blind:
        assert hidden[0][0] == pytest.approx(12.0, abs=3.0) and hidden[-1][1] > 27.0


@pytest.mark.parametrize(("seed", "sigma"), [(1, 3.0), (1, 4.5), (2, 4.5), (4, 4.5)])
def test_the_box_is_found_out_of_focus(seed: int, sigma: float) -> None:
    """A lens out of focus turns the empty box's thin edges wide and faint (the far wall's
    window frame then outshines them): the box is still found, not the window."""
    plan = dataclasses.replace(
        LOITER, width=640, height=360, seed=seed, box_initial_ballots=0, box_capacity_ballots=42
    )
    renderer = CameraRenderer(plan)
    view = cv2.GaussianBlur(renderer.compose(0.0, [], people=False), (0, 0), sigma)
    noise = np.random.default_rng(seed).normal(0.0, 2.0, view.shape)
    found = locate_box(np.clip(view + noise, 0, 255).astype(np.uint8))
    truth = np.asarray(renderer.box_polygon(), float)
    want = (*truth.min(axis=0), *truth.max(axis=0))
    assert found is not None and found.method == "wireframe" and found.confidence >= 0.5
    assert np.abs(np.subtract(found.zone.bbox, want)).max() <= 6


@pytest.mark.parametrize(
    ("seed", "sigma", "sharp", "blurred"),
    [
        (1, 0.0, True, True),
        (2, 2.0, True, True),
        # out of focus (demo 93's cam-D004-002: σ 2.7): a bar 6 rows thick that the sharp
        # top-hat flattens under its 30 levels, found by a taller one
        (1, 2.7, False, True),
        (2, 2.7, False, True),
        (4, 3.5, False, True),
        # σ 5 (demo 94's cam-D003-004): a smudge 25 levels deep, no slot
        (1, 5.0, False, False),
        (4, 5.0, False, False),
    ],
)
def test_the_slot_is_found_out_of_focus(seed: int, sigma: float, sharp: bool, blurred: bool):
    plan = dataclasses.replace(
        LOITER, width=640, height=360, seed=seed, box_initial_ballots=0, box_capacity_ballots=42
    )
    renderer = CameraRenderer(plan)
    view = renderer.compose(0.0, [], people=False).astype(float)
    if sigma:
        view = cv2.GaussianBlur(view, (0, 0), sigma)
    noise = np.random.default_rng(seed).normal(0.0, 2.0, view.shape)
    luma = cv2.cvtColor(np.clip(view + noise, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY)
    r = BoxRegions.around(Zone(np.asarray(renderer.box_polygon(), np.float32)), 640, 360)
    part = luma[r.slot[1] : r.slot[3], r.slot[0] : r.slot[2]]
    assert (_slot_line(part, r, hat=_SLOT_HAT) is not None) == sharp
    found = [_slot_line(part, r, hat=hat) for hat in _BLURRED_SLOT_HATS]
    assert any(mask is not None for mask in found) == blurred
    # a lid without a slot shows none, sharp or blurred
    flat = np.full_like(part, int(np.median(part)))
    assert all(_slot_line(flat, r, hat=hat) is None for hat in (_SLOT_HAT, *_BLURRED_SLOT_HATS))


def _remux(src, dst) -> None:
    """Copy the video packets into another container (Matroska keeps its index up front, so
    a cut file still opens; the simulator's MP4 has it at the end)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)


def test_a_truncated_recording_counts_up_to_the_damage(render, tmp_path) -> None:
    cut = tmp_path / "cut.mkv"
    _remux(render(CROWDED), cut)
    data = cut.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.55)])
    polygon = CameraRenderer(CROWDED).box_polygon()
    _, watch, drops, blind = count(cut, polygon)
    end = float(watch.series["t_s"].max())
    assert 8.0 < end < 25.0
    # the rest of the recording is not observable, and says why
    assert any(abs(a - end) < 1.0 and reason == "truncated" for a, _, reason in blind)
    seen = [t for t in true_drops(CROWDED) if t < end - 1]
    assert int(drops["ballots"].sum()) == len(seen)


def test_an_unreadable_recording_is_blind_throughout(render, tmp_path) -> None:
    cut = tmp_path / "cut.mp4"  # the index is at the end of the simulator's MP4: cut, it is lost
    data = render(CROWDED).read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    run = analyse_video(cut, [BoxWatcher(resolve_box_zone(None, ((1, 1), (9, 1), (9, 9))).zone)])
    assert [g.kind for g in run.gaps] == ["unreadable"]
    assert run.results[0].series.empty


def test_the_same_recording_gives_the_same_drops(render) -> None:
    path = render(CROWDED)
    polygon = CameraRenderer(CROWDED).box_polygon()
    first = count(path, polygon)[2]
    second = count(path, polygon)[2]
    assert first.equals(second)


def test_a_polygon_is_registered_on_the_clearer_view(render) -> None:
    """A view where the box is hidden gives no confident fit; another view of the recording
    does, and wins."""
    path = render(LOITER)
    polygon = CameraRenderer(LOITER).box_polygon()
    clear = keyframe_background(path)
    hidden = np.full_like(clear, 90)
    zone = resolve_box_zone(hidden, polygon, others=(clear,))
    assert zone is not None and zone.reliable and zone.shift == (0, 0)
    alone = resolve_box_zone(hidden, polygon)
    assert alone is not None and not alone.reliable and alone.method == "cameras.csv, not confirmed"


def test_a_confident_first_view_is_not_overruled_by_a_later_one(render) -> None:
    """A camera nudged later shows the box elsewhere over the whole recording: however sharp
    that view, the first minutes' confident fit places the box."""
    path = render(LOITER)
    polygon = CameraRenderer(LOITER).box_polygon()
    clear = keyframe_background(path)
    # a noisier first view: a confident fit, less so than the later view's
    noise = np.random.default_rng(0).normal(0, 8, clear.shape)
    softer = np.clip(clear + noise, 0, 255).astype(np.uint8)
    later = cv2.warpAffine(
        clear,
        np.float32([[1, 0, -14], [0, 1, 0]]),
        clear.shape[1::-1],
        borderMode=cv2.BORDER_REPLICATE,
    )
    assert resolve_box_zone(softer, polygon).reliable
    zone = resolve_box_zone(softer, polygon, others=(later,))
    assert zone is not None and zone.shift == (0, 0)
