"""Rendering a camera's recording: the file, the picture, the conditions, determinism."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from pollwatch.simulate import room
from pollwatch.simulate.ballot_box import box_polygon
from pollwatch.simulate.camera_model import ViewChange
from pollwatch.simulate.encode import EncodeSettings
from pollwatch.simulate.plan import (
    Appearance,
    CameraCondition,
    CameraPlan,
    Drop,
    RenderedCamera,
    Stop,
    Visit,
)
from pollwatch.simulate.render import (
    CameraRenderer,
    RenderSettings,
    box_in_view,
    render_camera,
)

W, H, FPS = 320, 180, 25
START = datetime(2024, 2, 7, 8, 0, tzinfo=UTC)
RED = Appearance(1.8, 1.1, (30, 30, 200), (50, 40, 40), (120, 150, 200), (20, 20, 30), 1.2, 1.8)
BLUE = Appearance(1.7, 1.0, (200, 80, 30), (30, 30, 30), (100, 130, 180), (40, 40, 40), 1.1, 1.7)

# a voter at the table (0.5–2.5 s), a stuffer at the box with a 10-ballot bundle at 2.0 s
TALKER = Visit("p1", "voter", RED, (Stop("table", 0.5, 2.5),))
STUFFER = Visit("p2", "stuffer", BLUE, (Stop("box", 0.8, 3.2),), (Drop(2.0, 10),))
CONDITIONS = (
    CameraCondition("outage", 4.0, 5.0),
    CameraCondition("frozen", 5.5, 6.5),
    CameraCondition("audio_muted", 6.0, 7.5),
)
PLAN = CameraPlan(
    "cam-1",
    "st-1",
    START,
    8.0,
    (TALKER, STUFFER),
    CONDITIONS,
    W,
    H,
    FPS,
    seed=11,
    box_initial_ballots=2,
    box_capacity_ballots=20,
)


def _decode(path: Path) -> tuple[list[float], list[np.ndarray]]:
    with av.open(str(path)) as c:
        frames = [(f.time, f.to_ndarray(format="bgr24")) for f in c.decode(video=0)]
    return [t for t, _ in frames], [f for _, f in frames]


def _audio(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Decoded samples and the time of each sample."""
    with av.open(str(path)) as c:
        chunks = [(f.time, f.to_ndarray()[0], f.sample_rate) for f in c.decode(audio=0)]
    times = np.concatenate([t + np.arange(len(x)) / sr for t, x, sr in chunks])
    return np.concatenate([x for _, x, _ in chunks]), times


def _at(times: list[float], t: float) -> int:
    return int(np.argmin(np.abs(np.array(times) - t)))


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[RenderedCamera, list[float], list[np.ndarray]]:
    out = tmp_path_factory.mktemp("render")
    # encoder behaviour (frozen pictures, bitrate) is checked at the standard 1 Mbit/s
    settings = RenderSettings(encode=EncodeSettings(video_bitrate=1_000_000))
    result = render_camera(PLAN, out / "cam.mp4", out / "cam.png", settings)
    times, frames = _decode(Path(result.video_path))
    return result, times, frames


def test_file_has_the_planned_size_rate_and_duration(rendered) -> None:
    result, times, frames = rendered
    with av.open(result.video_path) as c:
        v = c.streams.video[0]
        assert (v.codec_context.name, v.width, v.height) == ("h264", W, H)
        assert v.average_rate == FPS or v.guessed_rate == FPS
        assert [s.type for s in c.streams] == ["video", "audio"]
        assert c.metadata.get("creation_time", "").startswith("2024-02-07")
    assert times[0] == 0.0
    assert times[-1] == pytest.approx(PLAN.duration_s - 1 / FPS)
    assert frames[0].shape == (H, W, 3)
    assert result.frames == len(frames) == 8 * FPS - 1 * FPS  # one second of outage


def test_outage_is_a_gap_in_video_and_audio_timestamps(rendered) -> None:
    result, times, _ = rendered
    t = np.array(times)
    assert not np.any((t >= 4.0) & (t < 5.0))
    gaps = np.diff(t)
    assert gaps.max() == pytest.approx(1.0 + 1 / FPS) and np.sum(gaps > 1.5 / FPS) == 1
    _, at = _audio(Path(result.video_path))
    assert not np.any((at > 4.07) & (at < 4.93))
    assert np.any(at < 4.0) and np.any(at > 5.0)


def test_frozen_picture_stops_changing(rendered) -> None:
    _, times, frames = rendered
    t = np.array(times)

    def step_diffs(lo: float, hi: float) -> np.ndarray:
        idx = np.nonzero((t >= lo) & (t < hi))[0]
        return np.array([np.abs(frames[i].astype(int) - frames[i + 1]).mean() for i in idx[:-1]])

    live, frozen = step_diffs(0.2, 0.7), step_diffs(5.55, 6.45)
    # the encoder refines the repeated picture for a few frames, then sends (almost) nothing
    assert frozen.max() < live.min()
    assert np.all(frozen[8:] < 0.15 * live.min())
    # the encoder input itself is bit-identical while frozen
    plan = replace(
        PLAN, visits=(), duration_s=6.4, conditions=(CameraCondition("frozen", 5.5, 6.5),)
    )
    held = [yuv for i, yuv in CameraRenderer(plan).frames() if i >= 137]
    assert len(held) == 23 and all(np.array_equal(held[0], h) for h in held)


def test_muted_audio_is_digital_silence(rendered) -> None:
    result, _, _ = rendered
    samples, at = _audio(Path(result.video_path))
    inside = (at > 6.15) & (at < 7.35)
    assert inside.sum() > 15_000 and np.all(samples[inside] == 0.0)
    before = (at > 2.0) & (at < 3.5)
    assert np.abs(samples[before]).max() > 1e-3


def test_box_fills_up_after_a_drop(rendered) -> None:
    result, times, frames = rendered
    poly = np.array(result.box_polygon, np.int32)
    inside = np.zeros((H, W), np.uint8)
    cv2.fillPoly(inside, [poly], 1)
    upper = (inside == 1) & (np.arange(H)[:, None] < poly[:, 1].mean())
    # seen from above, the paper's top surface rises into the upper part of the box
    before = frames[_at(times, 0.4)][upper].mean()  # nobody yet, 2 of 20 ballots
    after = frames[_at(times, 3.6)][upper].mean()  # stuffer gone, 12 of 20 ballots
    assert after - before > 15
    assert frames[_at(times, 1.9)][upper].mean() < after  # the drop is at 2.0 s


def test_person_is_visible_at_a_stop_and_gone_after(rendered) -> None:
    _, times, frames = rendered
    cam = CameraRenderer(PLAN).look.camera
    p = room.place("table")
    ((u, v),) = cam.project(np.array([[p.x, p.y, 1.0]]))[0].astype(int)
    region = (slice(v - 8, v + 8), slice(u - 5, u + 5))

    def diff(t: float) -> float:
        return float(np.abs(frames[_at(times, t)][region].astype(int) - frames[0][region]).mean())

    assert diff(1.5) > 30  # the voter stands at the table
    assert diff(3.0) < 8  # and has left


def test_box_polygon_and_reference_image(rendered) -> None:
    result, _, frames = rendered
    poly = np.array(result.box_polygon)
    assert len(poly) >= 4
    assert np.all((poly >= 0) & (poly < (W, H)))
    ref = cv2.imread(result.reference_path)
    assert ref.shape == (H, W, 3)
    inside = np.zeros((H, W), np.uint8)
    cv2.fillPoly(inside, [poly.astype(np.int32)], 1)
    # the reference shows the empty room: the first frame (nobody yet) looks the same
    assert np.abs(ref.astype(int) - frames[0]).mean() < 10
    assert ref[inside == 1].mean() > ref.mean()  # the box with its white ballots stands out


def test_same_plan_gives_identical_frames(tmp_path: Path) -> None:
    plan = replace(PLAN, duration_s=2.4, conditions=())
    a = render_camera(plan, tmp_path / "a.mp4")
    b = render_camera(plan, tmp_path / "b.mp4")
    _, fa = _decode(Path(a.video_path))
    _, fb = _decode(Path(b.video_path))
    assert len(fa) == len(fb) == 60
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb, strict=True))
    other = render_camera(replace(plan, seed=12), tmp_path / "c.mp4")
    assert not np.array_equal(_decode(Path(other.video_path))[1][0], fa[0])


def test_pictures_equal_converting_and_exposing_each_whole_frame() -> None:
    """Only what changed is drawn again and converted: check against the plain way (draw the
    whole picture, blur, convert the whole frame, expose, add noise)."""
    conditions = (
        CameraCondition("dark", 1.0, 1.6, {"gain": 0.4}),
        CameraCondition("defocus", 1.8, 2.1, {"sigma": 2.0}),
        CameraCondition("view_shifted", 2.2, 2.6, {"pan_deg": 8.0}),
        CameraCondition("box_occluded", 2.6, 3.0),
    )
    plan = replace(PLAN, duration_s=3.2, conditions=conditions)  # people come and go
    fast, plain = CameraRenderer(plan), CameraRenderer(plan)
    n = 0
    for i, yuv in fast.frames():
        t = i / FPS
        conds = plain.active(t)
        bgr = plain.compose(t, conds, redraw=True)
        gain = float(plain.exposure[i])
        for c in conds:
            if c.kind == "defocus":
                bgr = cv2.GaussianBlur(bgr, (0, 0), float(c.params["sigma"]))
            if c.kind == "dark":
                gain *= float(c.params["gain"])
        want = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)
        plain.sensor.apply(want, gain)
        np.testing.assert_array_equal(yuv, want, err_msg=f"frame {i}")
        n += 1
    assert n == 80


def test_large_pan_turns_the_box_out_of_view_and_audio_can_be_absent(tmp_path: Path) -> None:
    conditions = (
        CameraCondition("view_shifted", 1.0, 2.0, {"pan_deg": 75.0}),
        CameraCondition("audio_absent", 0.0, 2.0),
    )
    plan = replace(PLAN, visits=(), duration_s=2.0, conditions=conditions)
    result = render_camera(plan, tmp_path / "pan.mp4")
    with av.open(result.video_path) as c:
        assert [s.type for s in c.streams] == ["video"]
    times, frames = _decode(Path(result.video_path))
    assert np.abs(frames[_at(times, 1.5)].astype(int) - frames[0]).mean() > 20
    look = CameraRenderer(plan).look
    turned = box_polygon(look.camera.changed(ViewChange(pan_deg=75.0)), look.box)
    assert turned[:, 0].min() >= W or turned[:, 1].min() >= H


@pytest.mark.parametrize(
    ("params", "visible"),
    [({}, 1.0), ({"pan_deg": 75.0}, 0.0), ({"pan_deg": -75.0}, 0.0), ({"tilt_deg": 30.0}, 0.0)],
)
def test_box_in_view(params: dict, visible: float) -> None:
    plan = replace(PLAN, conditions=(CameraCondition("view_shifted", 1.0, 2.0, params),))
    assert box_in_view(plan, 0.5) == pytest.approx(1.0)
    assert box_in_view(plan, 1.5) == pytest.approx(visible)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (dict(duration_s=0.0), "duration_s"),
        (dict(width=321), "even"),
        (dict(box_capacity_ballots=0), "box_capacity_ballots"),
        (dict(conditions=(CameraCondition("melted", 0, 1),)), "unknown kind"),  # type: ignore[arg-type]
        (dict(conditions=(CameraCondition("dark", 2, 1, {"gain": 0.1}),)), "after start_s"),
        (dict(conditions=(CameraCondition("dark", 0, 1, {"gain": 3.0}),)), "gain"),
        (dict(conditions=(CameraCondition("defocus", 0, 1),)), "sigma"),
        (dict(conditions=(CameraCondition("view_shifted", 0, 1, {"yaw": 3.0}),)), "unknown params"),
        (dict(visits=(Visit("x", "voter", RED, (Stop("roof", 0, 1),)),)), "unknown place"),
    ],
)
def test_bad_plans_are_refused_with_a_clear_error(change: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CameraRenderer(replace(PLAN, **change))


@pytest.mark.parametrize("ring", [1, 3])
def test_pictures_written_into_a_ring_are_the_same(ring: int) -> None:
    """A picture from the ring stays as it was while the next ring - 1 are made."""
    plan = replace(PLAN, duration_s=1.2, conditions=(CameraCondition("frozen", 0.4, 0.6),))
    fresh = {i: yuv.copy() for i, yuv in CameraRenderer(plan).frames()}
    held: list[tuple[int, np.ndarray]] = []
    for i, yuv in CameraRenderer(plan).frames(ring=ring):
        held = [*held[len(held) - ring + 1 :], (i, yuv)] if ring > 1 else [(i, yuv)]
        for j, picture in held:
            np.testing.assert_array_equal(picture, fresh[j], err_msg=f"frame {j} at {i}")
    assert len(fresh) == 30


def test_an_empty_ring_is_refused() -> None:
    with pytest.raises(ValueError, match="ring"):
        next(CameraRenderer(PLAN).frames(ring=0))
