"""`VideoContext.box_zone` reads the whole recording's keyframe median only where the first
minutes' view gives no confident fit of cameras.csv's polygon, and then places the box on it."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from pollwatch.case import CasePaths
from pollwatch.counting.boxzone import MIN_CONFIDENCE
from pollwatch.store import Camera
from pollwatch.videostep import VideoContext

_POLYGON = ((60.0, 50.0), (120.0, 50.0), (120.0, 110.0), (60.0, 110.0))


def _view(dx: int | None) -> np.ndarray:
    """A grey room with the box's bright outline `dx` pixels right of the polygon (None:
    no box at all)."""
    image = np.full((160, 200, 3), 70, np.uint8)
    if dx is not None:
        pts = np.int32([[x + dx, y] for x, y in _POLYGON])
        cv2.polylines(image, [pts], True, (230, 230, 230), 1)
    return image


class _Reader:
    """A keyframe reader whose whole-recording median is `whole`; counts the reads."""

    def __init__(self, whole: np.ndarray | None) -> None:
        self.whole, self.reads = whole, 0

    def background(self, **_: object) -> np.ndarray | None:
        self.reads += 1
        return self.whole


@pytest.mark.parametrize(
    ("first", "whole", "reads", "shift"),
    [
        (0, 6, 0, (0, 0)),  # the first minutes show the box: the whole median is not read
        (4, None, 0, (4, 0)),  # ... where cameras.csv says, or a few pixels off it
        (None, 6, 1, (6, 0)),  # hidden then: the whole recording's median places it
        (None, None, 1, None),  # nowhere: read, nothing found, the polygon unconfirmed
    ],
)
def test_the_whole_median_is_read_only_when_needed(tmp_path, first, whole, reads, shift) -> None:
    camera = Camera("c1", "s1", "video/c1.mp4", datetime(2025, 3, 9, tzinfo=UTC), _POLYGON)
    reader = _Reader(None if whole is None else _view(whole))
    ctx = VideoContext(camera, CasePaths.of(tmp_path), tmp_path / "c1.mp4", _view(first), reader)
    zone = ctx.box_zone
    assert reader.reads == reads
    assert zone is not None
    if shift is None:
        assert zone.confidence < MIN_CONFIDENCE
    else:
        assert zone.confidence >= MIN_CONFIDENCE
        assert zone.shift[0] == shift[0]  # the view it was fitted on (rows: ±1, line width)
        assert abs(zone.shift[1] - shift[1]) <= 1
