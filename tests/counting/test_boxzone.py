"""`resolve_box_zone` on a view out of focus: cameras.csv's polygon, which the blurred view's
lines cannot confirm, is placed by the view's low-passed registration on the reference image."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pollwatch.counting.boxzone import MIN_CONFIDENCE, resolve_box_zone

_POLYGON = ((300.0, 200.0), (370.0, 200.0), (370.0, 280.0), (300.0, 280.0))


def _room(dx: int = 0, dy: int = 0, sigma: float = 0.0, seed: int = 3) -> np.ndarray:
    """A 640×360 room (a wall, a floor, furniture as blocks of grey) with the box's thin
    bright outline, everything moved by (`dx`, `dy`), defocused with `sigma` px."""
    rng = np.random.default_rng(seed)
    image = np.full((360, 640, 3), 150, np.uint8)
    image[150:] = 95  # the floor
    for _ in range(12):
        x, y = int(rng.integers(0, 560)), int(rng.integers(0, 300))
        w, h = int(rng.integers(30, 120)), int(rng.integers(20, 80))
        grey = int(rng.integers(30, 230))
        cv2.rectangle(image, (x + dx, y + dy), (x + w + dx, y + h + dy), (grey,) * 3, -1)
    box = np.int32([[x + dx, y + dy] for x, y in _POLYGON])
    cv2.fillPoly(image, [box], (120, 120, 120))
    cv2.polylines(image, [box], True, (240, 240, 240), 1)
    return cv2.GaussianBlur(image, (0, 0), sigma) if sigma else image


@pytest.mark.parametrize(("dx", "dy"), [(0, 0), (24, -9), (-30, 6)])
def test_a_defocused_view_is_placed_on_the_reference(tmp_path, dx: int, dy: int) -> None:
    reference = tmp_path / "reference.png"
    cv2.imwrite(str(reference), _room())
    view = _room(dx, dy, sigma=6.0)
    unplaced = resolve_box_zone(view, _POLYGON, reference, soft=False)
    assert unplaced is not None
    assert unplaced.shift != (dx, dy) or unplaced.confidence < MIN_CONFIDENCE  # as before
    zone = resolve_box_zone(view, _POLYGON, reference)
    assert zone is not None and zone.reliable
    assert abs(zone.shift[0] - dx) <= 1 and abs(zone.shift[1] - dy) <= 1
    assert "low-passed" in zone.method


def test_a_sharp_view_keeps_its_fit_and_another_room_is_not_placed(tmp_path) -> None:
    reference = tmp_path / "reference.png"
    cv2.imwrite(str(reference), _room())
    sharp = resolve_box_zone(_room(12, 4), _POLYGON, reference)
    assert sharp is not None and "low-passed" not in sharp.method
    assert sharp.shift[0] == 12 and abs(sharp.shift[1] - 4) <= 1  # rows: ±1, line width
    cv2.imwrite(str(reference), _room(seed=11))  # a reference of another room: no match
    other = resolve_box_zone(_room(0, 0, sigma=6.0), _POLYGON, reference)
    unplaced = resolve_box_zone(_room(0, 0, sigma=6.0), _POLYGON, None)
    assert other == unplaced  # as without a reference
