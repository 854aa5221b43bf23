"""Building I420 pictures from dirty rectangles: the same picture as converting everything."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pollwatch.simulate.picture import DirtyRects, PictureMaker
from pollwatch.simulate.sensor import Sensor

W, H = 96, 64


@pytest.mark.parametrize(
    ("rect", "marked"),
    [
        ((4, 6, 10, 12), [(4, 6, 10, 12)]),  # already even
        ((3, 5, 9, 11), [(2, 4, 10, 12)]),  # grown to even bounds
        ((-5, -3, 3, 3), [(0, 0, 4, 4)]),  # clipped at the top left
        ((90, 60, 120, 99), [(90, 60, 96, 64)]),  # and at the bottom right
        ((40, 40, 40, 50), []),  # empty
        ((200, 10, 220, 20), []),  # outside
        (None, []),
    ],
)
def test_dirty_rects_are_clipped_and_even(rect, marked) -> None:
    d = DirtyRects(W, H)
    d.add(rect)
    assert d.merged() == marked


def test_overlapping_rects_are_merged_and_all_marks_the_frame() -> None:
    d = DirtyRects(W, H)
    for r in [(0, 0, 10, 10), (20, 20, 30, 30), (8, 8, 22, 22), (60, 0, 70, 4)]:
        d.add(r)
    assert sorted(d.merged()) == [(0, 0, 30, 30), (60, 0, 70, 4)]
    d.add_all()
    assert d.merged() == [(0, 0, W, H)]
    d.clear()
    assert d.merged() == []


@pytest.mark.parametrize("make", [lambda: DirtyRects(95, 64), lambda: PictureMaker(96, 63)])
def test_odd_sizes_are_refused(make) -> None:
    with pytest.raises(ValueError, match="even"):
        make()


def test_a_canvas_of_the_wrong_size_is_refused() -> None:
    bg = np.zeros((H, W, 3), np.uint8)
    with pytest.raises(ValueError, match="canvas"):
        PictureMaker(W, H).picture(bg[:, :-2], "v", bg, [], [], (1024, None))


def _reference(canvas: np.ndarray, sensor: Sensor, gain: float) -> np.ndarray:
    yuv = cv2.cvtColor(canvas, cv2.COLOR_BGR2YUV_I420)
    sensor.expose(yuv, sensor.luts(gain)[1])
    return yuv


def test_pictures_equal_converting_and_exposing_the_whole_canvas() -> None:
    rng = np.random.default_rng(5)
    backgrounds = {k: rng.integers(0, 256, (H, W, 3), np.uint8) for k in ("a", "b")}
    sensor = Sensor(W, H, rng, luma_sigma=0.0, chroma_sigma=0.0)
    maker = PictureMaker(W, H)
    last: list[tuple[int, int, int, int]] = []
    # views and gains change between some frames; gain < 1 also darkens the colours
    frames = [("a", 1.0), ("a", 1.0), ("a", 1.07), *[("a", 1.07)] * 4, ("b", 1.07), ("b", 0.6)]
    for n, (key, gain) in enumerate([*frames, ("b", 0.6), ("a", 0.6), ("a", 0.6)]):
        canvas = backgrounds[key].copy()
        drawn = []
        for _ in range(n % 5):  # none to four things drawn
            x, y = (int(v) for v in rng.integers(0, (W - 8, H - 8)))
            w, h = (int(v) for v in rng.integers(1, 30, 2))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            cv2.rectangle(canvas, (x, y), (x + w - 1, y + h - 1), colour, -1)
            drawn.append((x, y, x + w, y + h))
        # changed: what is drawn now or was drawn last time
        got = maker.picture(canvas, key, backgrounds[key], drawn, drawn + last, sensor.luts(gain))
        last = drawn
        np.testing.assert_array_equal(got, _reference(canvas, sensor, gain))
