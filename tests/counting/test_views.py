"""Following the box through a nudged camera's views (`box_views`, `ViewWatcher`)."""

from __future__ import annotations

import math
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from pollwatch.counting.boxzone import BoxZone
from pollwatch.counting.views import BoxView, ViewWatcher, box_views
from pollwatch.video.frame import Frame

BOX = ((280.0, 180.0), (350.0, 180.0), (350.0, 260.0), (280.0, 260.0))
SIZE = (640, 360)


def _room() -> np.ndarray:
    """A textured room (blocks for the registration to hold on to) with a wireframe box."""
    rng = np.random.default_rng(3)
    img = np.full((SIZE[1], SIZE[0], 3), 120, np.uint8)
    for _ in range(60):
        x, y = int(rng.integers(0, SIZE[0] - 40)), int(rng.integers(0, SIZE[1] - 40))
        grey = int(rng.integers(30, 230))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(8, 40)), y + 20), (grey,) * 3, -1)
    cv2.rectangle(img, (280, 180), (350, 260), (60, 60, 60), -1)
    cv2.polylines(img, [np.array(BOX, np.int32)], True, (250, 250, 250), 2)
    return img


def _write(path: Path, views: list[tuple[float, np.ndarray]], seconds: float, gop: int = 5) -> Path:
    """An H.264 clip at 5 fps, a keyframe every `gop` frames (a second), showing `views` from
    their times."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = *SIZE, "yuv420p"
        stream.options = {"g": str(gop), "keyint_min": str(gop)}
        for i in range(round(seconds * 5)):
            image = [img for t, img in views if t <= i / 5][-1]
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode())
    return path


def _moved(img: np.ndarray, dx: float, dy: float, angle: float = 0.0) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D((320, 180), angle, 1.0)
    matrix[:, 2] += (dx, dy)
    return cv2.warpAffine(img, matrix, SIZE, borderMode=cv2.BORDER_REPLICATE)


def _defocused(img: np.ndarray) -> np.ndarray:
    """Out of focus (a Gaussian of 5 px, as the simulator's defocus) with sensor noise."""
    noise = np.random.default_rng(5).normal(0, 3, img.shape)
    return np.clip(cv2.GaussianBlur(img, (0, 0), 5.0) + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("later", "expect"),
    [
        ("same", [(0, 0)]),  # a steady camera: one view, the zone as it was
        ("nudged", [(0, 0), (-24, 10)]),  # panned: a second view, the zone moved with it
        ("away", [(0, 0)]),  # turned to a wall without the box: no second view
        # panned and defocused (demo 87's cam-D005-005): no outline left, the coarse picture
        # registers it
        ("nudged, defocused", [(0, 0), (-24, 10)]),
        ("defocused", [(0, 0)]),  # defocused where it stood: no new view
        ("away, defocused", [(0, 0)]),  # turned away and defocused: no view
    ],
)
def test_box_views_follow_a_nudge(tmp_path: Path, later: str, expect: list) -> None:
    room = _room()
    after = {
        "same": room,
        "nudged": _moved(room, -24, 10),
        "away": _moved(room, -340, 0),  # panned far: the box left the picture
        "nudged, defocused": _defocused(_moved(room, -24, 10)),
        "defocused": _defocused(room),
        "away, defocused": _defocused(_moved(room, -340, 0)),
    }[later]
    clip = _write(tmp_path / "c.mp4", [(0.0, room), (12.0, after)], 24.0)
    box = BoxZone(BOX, 0.9, "cameras.csv")
    views = box_views(clip, box, room, every_s=1.0, coarse=True)
    if "defocused" in later:  # without the coarse check no defocused view is taken
        assert len(box_views(clip, box, room, every_s=1.0)) == 1
    shifts = np.array([v.zone.shift for v in views], float)
    assert shifts.shape == (len(expect), 2)
    assert shifts == pytest.approx(np.array(expect, float), abs=1)
    assert views[0].start_s == 0.0 and views[0].zone == box
    if later.startswith("nudged") and len(expect) == 2:
        assert views[0].end_s == views[1].start_s and 12.0 <= views[1].start_s <= 14.0
        assert views[1].end_s == math.inf
        moved = np.array(views[1].zone.polygon) - np.array(BOX)
        assert moved == pytest.approx(np.tile([-24, 10], (4, 1)), abs=1.5)
    else:  # no second view with the box: the first is watched on (its watcher sees it go)
        assert views[0].end_s == math.inf


@pytest.mark.parametrize("nudge", [13.4, 20.0, 26.2])
def test_a_new_view_starts_when_the_camera_moved(tmp_path: Path, nudge: float) -> None:
    """Keyframes read every 10 s place a nudge only to 10 s; the new view starts at the first
    frame showing it (a keyframe every 2 s: found between keyframes too), and the view before
    ends there (demo 190's nudged cameras lost 8 s each to "box not in view")."""
    room = _room()
    clip = _write(tmp_path / "c.mp4", [(0.0, room), (nudge, _moved(room, -24, 10))], 50.0, gop=10)
    views = box_views(clip, BoxZone(BOX, 0.9, "cameras.csv"), room, every_s=10.0)
    assert [v.zone.shift for v in views] == [(0, 0), (-24, 10)]
    assert views[1].start_s == pytest.approx(nudge, abs=0.01)
    assert views[0].end_s == views[1].start_s and views[1].end_s == math.inf


def test_box_views_when_the_recording_starts_elsewhere(tmp_path: Path) -> None:
    """The first minutes' median (the reference) shows the view the camera moved to at 12 s:
    the views start at 0 s with the view on screen then, in time order, none of them empty
    (azerbaijan-2024 seed 67's cam-D075-009 gave a second view starting at 0 s)."""
    room = _room()
    clip = _write(tmp_path / "c.mp4", [(0.0, _moved(room, -24, 10)), (12.0, room)], 24.0)
    box = BoxZone(BOX, 0.9, "cameras.csv")
    views = box_views(clip, box, room, every_s=1.0)
    assert [v.zone.shift for v in views] == [(-24, 10), (0, 0)]
    assert views[0].start_s == 0.0 and views[0].end_s == views[1].start_s
    assert 12.0 <= views[1].start_s <= 14.0 and views[1].end_s == math.inf
    assert all(v.end_s > v.start_s for v in views)


def test_box_views_arguments(tmp_path: Path) -> None:
    box = BoxZone(BOX, 0.9, "cameras.csv")
    with pytest.raises(ValueError, match="every_s"):
        box_views(tmp_path / "none.mp4", box, _room(), every_s=0.0)
    # a recording that cannot be read: the one zone, for the whole recording
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    assert box_views(tmp_path / "bad.mp4", box, _room()) == [BoxView(0.0, math.inf, box)]


def test_view_watcher_gives_each_view_its_frames() -> None:
    first = BoxZone(BOX, 0.9, "cameras.csv")
    second = BoxZone(tuple((x - 24, y + 10) for x, y in BOX), 0.9, "moved", (-24, 10))
    watcher = ViewWatcher([BoxView(0.0, 3.0, first), BoxView(4.0, math.inf, second)])
    image = _room()
    for t in np.arange(0.0, 8.0, 0.1):
        watcher.update(Frame.from_image(image, pts_s=float(t)))
    (v1, r1), (v2, r2) = watcher.result()
    assert (v1.zone, v2.zone) == (first, second)
    assert r1.series["t_s"].max() <= 3.0 and r2.series["t_s"].min() >= 4.0
    assert len(r1.series) == 31 and len(r2.series) == 40  # none from the 1 s of moving
    with pytest.raises(ValueError, match="empty"):
        ViewWatcher([])


def test_a_steady_camera_needs_no_feature_match(tmp_path: Path, monkeypatch) -> None:
    """Every keyframe of a steady camera is found unmoved by phase correlation: no feature
    match is made, so the reference's ORB features (found by the `Registrar` at its first
    feature match) are never computed, and the views are the ones a feature match would give
    (one, the zone as it was)."""
    from pollwatch.audit.registration import Registrar

    room = _room()
    clip = _write(tmp_path / "c.mp4", [(0.0, room)], 12.0)
    box = BoxZone(BOX, 0.9, "cameras.csv")

    def no_features(*args: object, **kwargs: object) -> None:
        raise AssertionError("the feature match was built for a steady camera")

    monkeypatch.setattr(Registrar, "features", no_features)
    assert box_views(clip, box, room, every_s=1.0) == [BoxView(0.0, math.inf, box)]
    # a nudged camera does build it
    nudged = _write(tmp_path / "n.mp4", [(0.0, room), (4.0, _moved(room, -24, 10))], 12.0)
    with pytest.raises(AssertionError, match="feature match"):
        box_views(nudged, box, room, every_s=1.0)
