"""Overlays draw on a copy and never on the input."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.video import Detections
from pollwatch.video.annotate import draw_detections, draw_track, draw_zone
from pollwatch.video.tracking import Track
from pollwatch.video.zone import Zone


def blank() -> np.ndarray:
    return np.zeros((60, 80, 3), np.uint8)


@pytest.mark.parametrize(
    "draw",
    [
        lambda img: draw_detections(img, Detections.from_xyxy([[5, 5, 30, 50]], 0.8)),
        lambda img: draw_detections(
            img, Detections.from_xyxy([[5, 5, 30, 50]], 0.8).with_tracker_id([3])
        ),
        lambda img: draw_track(
            img,
            Track(
                3,
                np.array([0.0, 1.0]),
                np.array([[5, 5, 15, 30], [20, 5, 30, 40]], np.float32),
                np.ones(2),
            ),
        ),
        lambda img: draw_zone(img, Zone.from_points([(10, 10), (40, 10), (40, 40)])),
    ],
)
def test_draws_on_a_copy(draw) -> None:
    image = blank()
    out = draw(image)
    assert out is not image and out.any() and not image.any()


def test_track_before_it_starts_draws_nothing() -> None:
    track = Track(1, np.array([5.0]), np.array([[1, 1, 9, 9]], np.float32), np.ones(1))
    assert not draw_track(blank(), track, until_s=1.0).any()
