"""Crops of the box kept during the pass: only when the box's region changes (or now and then),
and the few around an event chosen for the frame strip."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from pollwatch.stuffing.frames import FRAME_COLUMNS, BoxFrames, crop_region, strip_frames
from pollwatch.video.frame import Frame, Gap
from pollwatch.video.zone import Zone

ZONE = Zone.from_points([(40, 60), (80, 60), (80, 100), (40, 100)])


def frame(t: float, busy: bool) -> Frame:
    image = np.full((120, 160, 3), 90, np.uint8)
    if busy:  # someone's shirt over the box
        image[20:90, 50:75] = (20, 20, 20)
    return Frame.from_image(image, pts_s=t)


def run(pattern: list[bool], **kwargs) -> BoxFrames:
    keeper = BoxFrames(ZONE, **kwargs)
    for i, busy in enumerate(pattern):
        keeper.update(frame(i * 0.5, busy))
    return keeper


def test_crop_region_around_the_box() -> None:
    assert crop_region(ZONE, 160, 120) == (16, 4, 104, 108)
    assert crop_region(ZONE, 70, 50) == (16, 4, 70, 50)  # clipped to the picture


def test_keeps_changes_and_an_idle_frame_now_and_then() -> None:
    # 10 s still, someone steps in and out, 10 s still: 2 fps
    pattern = [False] * 20 + [True] * 2 + [False] * 20
    kept = run(pattern, idle_s=5.0).result()
    times = kept.times.tolist()
    assert times[:3] == [0.0, 5.0, 10.0]  # idle: one every 5 s
    assert 10.0 in times and 11.0 in times  # in and out
    assert len(times) == len(kept.jpegs) <= 8
    assert all(j.startswith(b"\xff\xd8") for j in kept.jpegs)


def test_a_gap_keeps_the_next_frame() -> None:
    keeper = run([False] * 3)
    keeper.on_gap(Gap(1.5, 4.0, "outage", "no frames"))
    keeper.update(frame(4.0, False))
    assert keeper.result().times.tolist() == [0.0, 4.0]
    keeper.reset()
    assert keeper.result().times.size == 0


MOVED = Zone.from_points([(100, 20), (140, 20), (140, 60), (100, 60)])


def test_crops_follow_the_box_into_a_later_view() -> None:
    # the camera was nudged at 5 s: from then on the box is at MOVED; its crop is taken there
    keeper = BoxFrames(ZONE, views=[(5.0, MOVED)], idle_s=100.0)
    for i in range(20):
        image = np.full((120, 160, 3), 90, np.uint8)
        image[20:60, 100:140] = 200  # the box, in the new view only
        keeper.update(Frame.from_image(image, pts_s=i * 0.5))
    kept = keeper.result()
    assert kept.times.tolist() == [0.0, 5.0]  # the first frame of each view
    first, second = (cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_COLOR) for j in kept.jpegs)
    x0, y0, x1, y1 = crop_region(ZONE, 160, 120)
    assert first.shape[:2] == (y1 - y0, x1 - x0) and kept.region == (x0, y0, x1, y1)
    mx0, my0, mx1, my1 = crop_region(MOVED, 160, 120)
    assert second.shape[:2] == (my1 - my0, mx1 - mx0)
    assert second.mean() > first.mean() + 20  # the bright box is in the second crop


def test_strip_frames_spreads_over_the_window() -> None:
    kept = run([i % 2 == 0 for i in range(40)], change=1.0).result()  # every frame kept
    strip = strip_frames(kept, [(5.0, 12.0), (6.0, 8.0)], per_window=4)
    assert list(strip.columns) == FRAME_COLUMNS
    t = strip["t_s"].tolist()
    assert t == sorted(set(t)) and min(t) >= 3.0 and max(t) <= 15.0
    assert 4 <= len(t) <= 8 and all(p.startswith(b"\x89PNG") for p in strip["png"])
    assert strip_frames(kept, []).empty


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fps": 0}, "fps"),
        ({"idle_s": 0}, "idle_s"),
        ({"change": -1}, "change"),
        ({"quality": 5}, "quality"),
        ({"max_frames": 0}, "max_frames"),
    ],
)
def test_box_frames_rejects_bad_arguments(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        BoxFrames(ZONE, **kwargs)


@pytest.mark.parametrize(
    ("zone", "views", "message"),
    [
        ([(0, 0), (1, 0), (1, 1)], (), "Zones"),
        (ZONE, [(5.0, [(0, 0), (1, 0), (1, 1)])], "Zones"),
        (ZONE, [(0.0, MOVED)], "time order"),
        (ZONE, [(8.0, MOVED), (6.0, ZONE)], "time order"),
    ],
)
def test_box_frames_needs_zones_in_time_order(zone, views, message) -> None:
    with pytest.raises(ValueError, match=message):
        BoxFrames(zone, views=views)


def test_strip_frames_rejects_bad_count() -> None:
    with pytest.raises(ValueError, match="per_window"):
        strip_frames(run([False]).result(), [(0.0, 1.0)], per_window=0)


@pytest.mark.parametrize(
    ("confidence", "background", "want_starts"),
    [
        (0.9, np.zeros((120, 160, 3), np.uint8), [140.0]),  # the crop follows the later view
        (0.1, np.zeros((120, 160, 3), np.uint8), []),  # an unreliable zone: not followed
        (0.9, None, []),  # no picture of the first minutes to register against
    ],
)
def test_stuffing_part_follows_the_counter_s_views(
    monkeypatch, confidence, background, want_starts
) -> None:
    from pollwatch.counting import views as views_module
    from pollwatch.counting.boxzone import BoxZone
    from pollwatch.counting.views import BoxView
    from pollwatch.stuffing import step
    from pollwatch.videostep import VideoContext

    polygon = ((40.0, 60.0), (80.0, 60.0), (80.0, 100.0), (40.0, 100.0))
    zone = BoxZone(polygon, confidence, "test", (0, 0))
    moved = BoxZone(tuple((x + 60, y - 40) for x, y in polygon), confidence, "moved", (60, -40))
    views = [BoxView(0.0, 140.0, zone), BoxView(140.0, np.inf, moved)]
    monkeypatch.setattr(views_module, "box_views", lambda path, box, reference: views)
    ctx = VideoContext(None, None, "x.mp4", background)  # type: ignore[arg-type]
    vars(ctx)["box_zone"] = zone  # as if located (a cached property)
    part = step.stuffing_part(ctx)
    frames = part.analysers[0]
    assert isinstance(frames, BoxFrames) and frames._starts == want_starts
    assert step.stuffing_part(SimpleNamespace(box_zone=None)) is None  # type: ignore[arg-type]
