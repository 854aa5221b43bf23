"""Zone, the scene background and locating the ballot box."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from videoclips import BOX_POLY, ClipSpec, Figure, iou, room

from pollwatch.video import Detections, analyse_video
from pollwatch.video.scene import SceneBackground, locate_box
from pollwatch.video.zone import Zone

SQUARE = Zone.from_points([(10, 10), (50, 10), (50, 50), (10, 50)])
BOX_XYXY = (*BOX_POLY[0], *BOX_POLY[2])


@pytest.mark.parametrize(
    ("point", "inside"),
    [((30, 30), True), ((10, 30), True), ((9, 30), False), ((60, 60), False), ((50, 50), True)],
)
def test_contains(point, inside: bool) -> None:
    assert SQUARE.contains([point]).tolist() == [inside]


def test_distance_and_geometry() -> None:
    assert SQUARE.distance([(30, 30), (0, 30)]).tolist() == [20.0, -10.0]
    assert SQUARE.area == 1600 and SQUARE.bbox == (10, 10, 50, 50)
    assert SQUARE.centroid == pytest.approx((30, 30))
    assert SQUARE.scaled(0.5).bbox == (5, 5, 25, 25)


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [("foot", [True, False]), ("center", [False, True]), ("top", [False, False])],
)
def test_trigger_by_anchor(anchor: str, expected: list[bool]) -> None:
    detections = Detections.from_xyxy([[20, -30, 40, 40], [20, 0, 40, 60]])
    assert SQUARE.trigger(detections, anchor).tolist() == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([(0, 0), (1, 1)], "K >= 3"),
        ([(0, 0), (1, 1), (2, 2)], "no area"),
        ([(0, 0), (1, np.inf), (2, 0)], "finite"),
    ],
)
def test_bad_polygons(points, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Zone.from_points(points)


def test_bad_anchor_and_factor() -> None:
    with pytest.raises(ValueError, match="anchor"):
        SQUARE.trigger(Detections.empty(), "head")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="factor"):
        SQUARE.scaled(-1)


@pytest.mark.parametrize(
    ("shift", "seed"),
    [((0, 0), 0), ((0, 0), 3), ((60, -20), 0), ((-80, 30), 1)],
)
def test_locate_box_in_a_static_view(shift, seed: int) -> None:
    matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    view = cv2.warpAffine(room(seed), matrix, (640, 360), borderMode=cv2.BORDER_REPLICATE)
    found = locate_box(view)
    assert found is not None
    expected = (
        BOX_XYXY[0] + shift[0],
        BOX_XYXY[1] + shift[1],
        BOX_XYXY[2] + shift[0],
        BOX_XYXY[3] + shift[1],
    )
    assert iou(found.zone.bbox, expected) > 0.7
    assert found.confidence > 0.5 and found.method in ("wireframe", "static")


def test_no_box_no_guess() -> None:
    assert locate_box(room(box=False)) is None


@pytest.mark.parametrize(
    ("draw", "method"),
    [
        # a bright filled poster: not a wireframe, but a bright rectangle
        (lambda v: cv2.rectangle(v, (520, 280), (570, 340), (235, 235, 235), -1), "static"),
        # an empty frame on the floor: a second wireframe
        (lambda v: cv2.rectangle(v, (500, 270), (560, 340), (245, 245, 245), 2), "wireframe"),
    ],
)
def test_distractor_lowers_confidence_and_stops_decide(draw, method: str) -> None:
    view = room()
    draw(view)
    # without the wireframe step the poster is the second bright rectangle; with it a frame is
    # the second wireframe
    alone = locate_box(view)
    clean = locate_box(room())
    assert alone is not None and clean is not None
    if method == "wireframe":
        assert alone.candidates == 2 and alone.confidence < clean.confidence
    # voters stop just below the real box
    stops = np.array([[320, 262], [310, 258], [330, 265], [100, 300]], np.float32)
    backed = locate_box(view, stops=stops)
    assert backed is not None and backed.method.endswith("+stops")
    assert iou(backed.zone.bbox, BOX_XYXY) > 0.7 and backed.confidence >= alone.confidence


def test_no_box_no_guess_out_of_focus() -> None:
    found = locate_box(cv2.GaussianBlur(room(box=False), (0, 0), 4.0))
    assert found is None or found.confidence < 0.5


def test_locate_box_checks_image() -> None:
    with pytest.raises(ValueError, match="uint8"):
        locate_box(np.zeros((10, 10), np.float32))


def test_scene_background_removes_passers_by(make_clip) -> None:
    walker = Figure(((0.0, 20, 300), (4.0, 620, 300)))
    path = make_clip(ClipSpec(seconds=4.0, figures=(walker,), noise=2.0, audio=False))
    analyser = SceneBackground(every_s=0.5, keep=9)
    result = analyse_video(path, [analyser]).results[0]
    assert result.frames == 8 and result.image.shape == (360, 640, 3)
    assert np.abs(result.image.astype(int) - room().astype(int)).mean() < 3.0
    found = locate_box(result.image)
    assert found is not None and iou(found.zone.bbox, BOX_XYXY) > 0.7


@pytest.mark.parametrize(("kwargs", "name"), [({"every_s": 0}, "every_s"), ({"keep": 0}, "keep")])
def test_scene_background_arguments(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        SceneBackground(**kwargs)
