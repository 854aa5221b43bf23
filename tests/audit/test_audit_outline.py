"""Edge strength along a box polygon: the whole outline, and side by side."""

import audit_clips as clips
import numpy as np
import pytest

from pollwatch.audit.outline import (
    area_support,
    outline_below,
    outline_coverage,
    outline_support,
    side_supports,
)

BOX = np.array([(125, 100), (165, 100), (165, 150), (125, 150)], float)  # 320×180 pixels


def _wall(foot_row: int | None) -> np.ndarray:
    """A faintly textured wall, and from `foot_row` down a floor much lighter than it."""
    img = clips.textured_scene(320, 180).astype(np.float32) * 0.1 + 90
    if foot_row is not None:
        img[foot_row:] += 120
    return np.clip(img, 0, 255).astype(np.uint8)


def _with_box(img: np.ndarray) -> np.ndarray:
    out = img.copy()
    pts = np.round(BOX).astype(np.int32)
    clips.cv2.fillPoly(out, [pts], 200)
    clips.cv2.polylines(out, [pts], True, 20, 1)
    return out


@pytest.mark.parametrize(
    ("picture", "support", "coverage"),
    [
        ("box", (4.0, None), (0.9, 1.0)),  # edges all along the outline
        ("foot_under_bottom", (2.5, None), (0.0, 0.5)),  # one strong room edge, one side
        ("foot_under_top", (2.5, None), (0.0, 0.5)),
        ("bare_wall", (0.0, 2.0), (0.0, 0.3)),
    ],
)
def test_one_room_edge_under_one_side_is_not_an_outline(picture, support, coverage):
    img = {
        "box": _with_box(_wall(None)),
        "foot_under_bottom": _wall(150),
        "foot_under_top": _wall(100),
        "bare_wall": _wall(None),
    }[picture]
    whole = outline_support(img, BOX)
    assert whole >= support[0] and (support[1] is None or whole < support[1])
    assert coverage[0] <= outline_coverage(img, BOX) <= coverage[1]


def test_side_supports_are_per_side_and_skip_short_sides():
    img = _wall(150)
    sides = side_supports(img, BOX)
    assert sides.shape == (4,)
    assert int(np.argmax(sides)) == 2  # the bottom side, (165, 150) → (125, 150)
    with_stub = np.insert(BOX, 1, BOX[0] + [1.0, 0.0], axis=0)  # a 1-px side is not judged
    assert side_supports(img, with_stub).shape == (4,)


@pytest.mark.parametrize(
    "polygon",
    [BOX + np.array([1000.0, 0.0]), np.array([(10, 10), (11, 10), (10, 11)], float)],
)
def test_a_polygon_off_the_picture_or_without_sides_covers_nothing(polygon):
    assert outline_coverage(_wall(150), polygon) == 0.0


@pytest.mark.parametrize("search_px", [0, 2])
@pytest.mark.parametrize("level", [0.5, 1.3, 3.0, 100.0])
@pytest.mark.parametrize(
    ("picture", "shift"),
    [("box", 0.0), ("box", 1.6), ("box", 40.0), ("bare_wall", 0.0), ("box", 1000.0)],
)
def test_outline_below_says_what_the_support_says(picture, shift, level, search_px):
    """The search stops at the first place that reaches `level`: the answer is the whole
    search's (a number under `level`; False when no place is judged, off the picture)."""
    img = _with_box(_wall(None)) if picture == "box" else _wall(None)
    polygon = BOX + np.array([shift, 0.3])
    support = outline_support(img, polygon, search_px=search_px)
    expected = not np.isnan(support) and support < level
    assert outline_below(img, polygon, level, search_px=search_px) is expected


def _half_flat(box: bool) -> np.ndarray:
    """The right half a strongly textured scene, the left half (where BOX lies) a flat floor
    with faint noise; with the box drawn on it."""
    img = clips.textured_scene(320, 180).copy()
    rng = np.random.default_rng(1)
    img[:, :170] = np.clip(120 + rng.normal(0, 1.0, (180, 170)), 0, 255).astype(np.uint8)
    return _with_box(img) if box else img


@pytest.mark.parametrize(
    ("picture", "polygon", "low", "high"),
    [
        ("box", BOX, 1.0, None),  # the box on the flat floor: more edge than the picture
        ("floor", BOX, 0.0, 0.3),  # bare floor, much flatter than the picture at large
        ("noise", BOX, 0.9, 1.1),  # the same texture everywhere: about 1
        ("floor", BOX + np.array([1000.0, 0.0]), None, None),  # off the picture: nan
    ],
)
def test_area_support_compares_the_polygons_area_with_the_picture(picture, polygon, low, high):
    img = {
        "box": _half_flat(True),
        "floor": _half_flat(False),
        "noise": np.clip(120 + np.random.default_rng(2).normal(0, 20, (180, 320)), 0, 255).astype(
            np.uint8
        ),
    }[picture]
    got = area_support(img, polygon)
    if low is None:
        assert np.isnan(got)
        return
    assert got >= low and (high is None or got < high)
