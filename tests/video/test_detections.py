"""Detections: the one container of the video pipeline."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pollwatch.video.detections import PERSON, Detections


def three() -> Detections:
    return Detections(
        xyxy=np.array([[0, 0, 10, 20], [5, 5, 15, 35], [100, 50, 120, 110]], np.float32),
        confidence=np.array([0.9, 0.4, 0.7], np.float32),
        class_id=np.array([0, 0, 2]),
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"xyxy": np.zeros((2, 3))}, "shape \\(N, 4\\)"),
        ({"xyxy": [[0, 0, 1, np.nan]]}, "finite"),
        ({"xyxy": [[5, 0, 1, 1]]}, "x2 >= x1"),
        ({"xyxy": [[0, 5, 1, 1]]}, "x2 >= x1 and y2 >= y1"),
        ({"confidence": [0.5, 0.5]}, "confidence must have shape"),
        ({"confidence": [1.5]}, "\\[0, 1\\]"),
        ({"class_id": [0, 1]}, "class_id must have shape"),
        ({"class_id": [0.5]}, "integers"),
        ({"tracker_id": [1, 2]}, "tracker_id must have shape"),
        ({"tracker_id": [1.5]}, "integers"),
        ({"data": {"emb": np.zeros((2, 8))}}, "data\\['emb'\\] must have 1 rows"),
    ],
)
def test_invalid_rows_raise(kwargs: dict, message: str) -> None:
    base = {"xyxy": [[0, 0, 1, 1]], "confidence": [0.5], "class_id": [0]}
    with pytest.raises(ValueError, match=message):
        Detections(**(base | kwargs))


def test_arrays_are_read_only_and_typed() -> None:
    d = three()
    assert d.xyxy.dtype == np.float32 and d.class_id.dtype == np.int32
    with pytest.raises(ValueError):
        d.xyxy[0, 0] = 3
    with pytest.raises(TypeError):
        d.data["x"] = np.zeros(3)  # type: ignore[index]


def test_constructor_does_not_share_caller_arrays() -> None:
    boxes = np.array([[0, 0, 1, 1]], np.float32)
    d = Detections.from_xyxy(boxes, 0.5)
    boxes[0, 0] = 0.5
    assert d.xyxy[0, 0] == 0 and boxes.flags.writeable


@pytest.mark.parametrize(
    ("index", "expected_rows"),
    [
        (np.array([True, False, True]), [0, 2]),
        (np.array([2, 0]), [2, 0]),
        (slice(1, None), [1, 2]),
        (1, [1]),
        (np.zeros(3, bool), []),
    ],
)
def test_indexing(index: object, expected_rows: list[int]) -> None:
    d = three().with_tracker_id([7, 8, 9])
    sub = d[index]
    assert len(sub) == len(expected_rows)
    np.testing.assert_array_equal(sub.xyxy, three().xyxy[expected_rows])
    np.testing.assert_array_equal(sub.tracker_id, np.array([7, 8, 9])[expected_rows])


def test_bad_mask_length_raises() -> None:
    with pytest.raises(IndexError, match="boolean mask"):
        three()[np.array([True, False])]


def test_merge_and_empty() -> None:
    d = three()
    merged = Detections.merge([d, Detections.empty(), d[np.array([True, False, False])]])
    assert len(merged) == 4
    np.testing.assert_array_equal(merged.class_id, [0, 0, 2, 0])
    assert len(Detections.merge([])) == 0
    assert Detections.empty(tracked=True).tracker_id is not None


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (lambda d: [d, d.with_tracker_id([1, 2, 3])], "tracker_id"),
        (lambda d: [d, replace(d, data={"emb": np.zeros((3, 2))})], "data keys"),
    ],
)
def test_merge_mismatch_raises(items, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Detections.merge(items(three()))


def test_geometry_helpers() -> None:
    d = Detections.from_xywh([[10, 20, 4, 30]], 0.8)
    np.testing.assert_allclose(d.xyxy, [[10, 20, 14, 50]])
    np.testing.assert_allclose(d.foot_points, [[12, 50]])
    np.testing.assert_allclose(d.centers, [[12, 35]])
    np.testing.assert_allclose(d.area, [120])
    np.testing.assert_allclose(d.scaled(2).xyxy, [[20, 40, 28, 100]])
    assert d.class_id[0] == PERSON
    with pytest.raises(ValueError, match="factor"):
        d.scaled(0)


def test_replace_makes_a_new_checked_object() -> None:
    d = three()
    e = replace(d, confidence=np.ones(3, np.float32))
    assert d.confidence[0] == pytest.approx(0.9) and e.confidence[0] == 1
    with pytest.raises(ValueError):
        replace(d, confidence=np.ones(2))


def test_supervision_round_trip() -> None:
    d = three().with_tracker_id([4, 5, 6])
    d = replace(d, data={"emb": np.arange(6).reshape(3, 2)})
    sv_d = d.to_supervision()
    assert len(sv_d) == 3
    back = Detections.from_supervision(sv_d)
    np.testing.assert_array_equal(back.xyxy, d.xyxy)
    np.testing.assert_array_equal(back.tracker_id, [4, 5, 6])
    np.testing.assert_array_equal(back.data["emb"], d.data["emb"])
