"""Painter's order: who hides whom."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.simulate.camera_model import PinholeCamera
from pollwatch.simulate.depth_order import Drawable, boxes_overlap, painter_order, segment_hits
from pollwatch.simulate.scene import Sprite

SQUARE = ((2.0, 2.0), (3.0, 2.0), (3.0, 3.0), (2.0, 3.0))  # counter-clockwise
CAM = PinholeCamera(4.0, 0.05, 2.75, 0.0, 27.0, 0.0, 84.0, 640, 360)


@pytest.mark.parametrize(
    ("point", "poly", "hits"),
    [
        ((2.5, 4.0), SQUARE, True),  # straight behind the square
        ((2.5, 2.5), SQUARE, True),  # inside it
        ((2.5, 1.5), SQUARE, False),  # in front of it
        ((5.0, 4.0), SQUARE, False),  # beside it
        ((2.5, 4.0), tuple(reversed(SQUARE)), True),  # clockwise footprint
    ],
)
def test_segment_hits(point: tuple[float, float], poly, hits: bool) -> None:
    assert segment_hits((2.5, 0.0), point, poly) is hits


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [((0, 0, 10, 10), (5, 5, 15, 15), True), ((0, 0, 10, 10), (10, 0, 20, 10), False)],
)
def test_boxes_overlap(a, b, overlap: bool) -> None:
    assert boxes_overlap(a, b) is overlap


def _sprite() -> Sprite:
    patch = np.zeros((50, 50, 3), np.uint8)
    mask = np.full((50, 50), 255, np.uint8)
    return Sprite("booth", ((3.5, 3.0), (4.5, 3.0), (4.5, 3.5), (3.5, 3.5)), 300, 100, patch, mask)


def test_furniture_is_pasted_over_whom_it_hides_and_under_who_stands_in_front() -> None:
    behind = Drawable("body", 5.0, (310, 90, 340, 160), (4.0, 5.0))
    front = Drawable("body", 2.0, (320, 120, 350, 200), (4.0, 2.0))
    order = painter_order([front, behind], (_sprite(),), CAM)
    assert [d.kind for d in order] == ["body", "sprite", "body"]
    assert order[0] is behind and order[2] is front
    assert order[1].region == behind.bbox


def test_furniture_hiding_nobody_is_left_out() -> None:
    front = Drawable("body", 2.0, (320, 120, 350, 200), (4.0, 2.0))
    assert painter_order([front], (_sprite(),), CAM) == [front]
