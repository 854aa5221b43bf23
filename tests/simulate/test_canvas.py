"""The kept canvas: drawing only what changed gives the picture that drawing everything gives."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pollwatch.simulate.camera_model import PinholeCamera
from pollwatch.simulate.canvas import Canvas, Item
from pollwatch.simulate.depth_order import Drawable
from pollwatch.simulate.scene import Sprite

W, H = 640, 360
CAM = PinholeCamera(4.0, 0.05, 2.75, 0.0, 27.0, 0.0, 84.0, W, H)
BOOTH = Sprite(
    "booth",
    ((3.5, 3.0), (4.5, 3.0), (4.5, 3.5), (3.5, 3.5)),
    300,
    100,
    np.full((50, 50, 3), 77, np.uint8),
    np.full((50, 50), 255, np.uint8),
)


def _item(name: str, x: int, y: int, floor: tuple[float, float], still: bool = True) -> Item:
    """A disc of about 40×60 pixels at (x, y), standing at `floor` (metres)."""
    extent = (x - 22, y - 32, x + 22, y + 32)
    dist = CAM.floor_distance(*floor)
    d = Drawable("body", dist, (x - 20, y - 30, x + 20, y + 30), floor)
    return (name, (x, y) if still else None, extent, d)


def _paint(d: Drawable, frame: np.ndarray) -> None:
    x0, y0, x1, y1 = d.bbox
    colour = (int(d.dist * 40) % 256, 90, 200)
    centre, axes = ((x0 + x1) // 2, (y0 + y1) // 2), ((x1 - x0) // 2, (y1 - y0) // 2)
    cv2.ellipse(frame, centre, axes, 0, 0, 360, colour, -1, cv2.LINE_AA)


# frames of what is in the room: a seated pair that overlaps, someone walking past and
# behind the booth (hidden by it), someone who leaves
FRAMES = [
    [
        _item("a", 100, 100, (2.0, 5.0)),
        _item("b", 130, 110, (2.2, 4.0)),
        _item("c", 500, 200, (6.0, 2.5)),
    ],
    [
        _item("a", 100, 100, (2.0, 5.0)),
        _item("b", 130, 110, (2.2, 4.0)),
        _item("c", 500, 200, (6.0, 2.5)),
    ],
    [
        _item("a", 100, 100, (2.0, 5.0)),
        _item("b", 130, 110, (2.2, 4.0)),
        _item("w", 90, 140, (2.1, 3.0), False),
    ],
    [
        _item("a", 100, 100, (2.0, 5.0)),
        _item("b", 130, 112, (2.2, 4.0)),
        _item("w", 200, 120, (3.0, 3.5), False),
    ],
    [
        _item("a", 100, 100, (2.0, 5.0)),
        _item("b", 130, 112, (2.2, 4.0)),
        _item("w", 320, 120, (4.0, 5.0), False),
    ],
    [
        _item("a", 100, 100, (2.0, 5.0)),
        _item("b", 130, 112, (2.2, 4.0)),
        _item("w", 340, 125, (4.1, 5.2), False),
    ],
    [_item("a", 100, 100, (2.0, 5.0)), _item("b", 130, 112, (2.2, 4.0))],
    [],
]


@pytest.mark.parametrize("start", [0, 2, 5])
def test_drawing_what_changed_equals_drawing_everything(start: int) -> None:
    rng = np.random.default_rng(4)
    background = rng.integers(0, 256, (H, W, 3), np.uint8)
    kept = Canvas(W, H)
    for n, items in enumerate(FRAMES[start:] + FRAMES[:start]):
        got = kept.update("view", background, (BOOTH,), CAM, items, _paint).copy()
        fresh = Canvas(W, H)
        want = fresh.update("view", background, (BOOTH,), CAM, items, _paint, redraw=True)
        np.testing.assert_array_equal(got, want, err_msg=f"frame {n}")
        # outside what may have changed the picture is as it was
        assert kept.drawn == [extent for _, _, extent, _ in items]


def test_nothing_changed_draws_nothing_and_a_new_view_draws_everything() -> None:
    background = np.full((H, W, 3), 9, np.uint8)
    kept = Canvas(W, H)
    kept.update("view", background, (), CAM, FRAMES[0], _paint)
    assert kept.changed == [(0, 0, W, H)]
    kept.update("view", background, (), CAM, FRAMES[1], _paint)
    assert kept.changed == []
    other = np.full((H, W, 3), 200, np.uint8)
    frame = kept.update("turned", other, (), CAM, [], _paint)
    assert kept.changed == [(0, 0, W, H)] and np.all(frame == 200)
