"""Crops of the box kept during the pass: only when the box's region changes (or now and then),
and the few around an event chosen for the frame strip."""

from __future__ import annotations

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


def test_box_frames_needs_a_zone() -> None:
    with pytest.raises(ValueError, match="zone"):
        BoxFrames([(0, 0), (1, 0), (1, 1)])  # type: ignore[arg-type]


def test_strip_frames_rejects_bad_count() -> None:
    with pytest.raises(ValueError, match="per_window"):
        strip_frames(run([False]).result(), [(0.0, 1.0)], per_window=0)
