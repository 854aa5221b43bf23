"""The ONNX YOLO adapter, on tiny models built here with onnx.helper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

from pollwatch.errors import InputError  # noqa: E402
from pollwatch.video import Frame, get_detector_by_name  # noqa: E402
from pollwatch.video.detectors.yolo_onnx import (  # noqa: E402
    OnnxYoloDetector,
    decode_yolo,
    letterbox,
)

IMAGE_W, IMAGE_H = 200, 100
# letterboxed into 64×64: ratio 0.32, the image fills 64×32 and is padded 16 px top and bottom
RATIO, LEFT, TOP = 0.32, 0, 16


def constant_model(path: Path, output: np.ndarray, input_hw=(64, 64)) -> Path:
    """A model that reads its input (so it is a real graph) and emits `output`."""
    h, w = input_hw
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, h, w])
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))
    nodes = [
        helper.make_node("ReduceSum", ["images"], ["total"], keepdims=0),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        helper.make_node("Add", ["boxes", "nothing"], ["output0"]),
    ]
    inits = [
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("boxes", TensorProto.FLOAT, list(output.shape), output.ravel().tolist()),
    ]
    graph = helper.make_graph(nodes, "constant", [images], [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def to_input(box_xyxy):
    """An original-image box as (cx, cy, w, h) in model-input pixels."""
    x1, y1, x2, y2 = (np.asarray(box_xyxy, float) * RATIO) + [LEFT, TOP, LEFT, TOP]
    return [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]


PERSON_A = [20, 10, 60, 90]
PERSON_B = [120, 30, 150, 95]
CHAIR = [80, 40, 110, 80]


def rows(layout: str) -> np.ndarray:
    """Predictions for 2 classes (person, chair), with a duplicate of PERSON_A for NMS."""
    preds = [  # cx, cy, w, h, [obj], person, chair
        (to_input(PERSON_A), 0.9, 0.1),
        (to_input([21, 11, 61, 91]), 0.8, 0.1),  # duplicate: NMS removes it
        (to_input(PERSON_B), 0.6, 0.2),
        (to_input(CHAIR), 0.3, 0.9),  # a chair: filtered by class
        (to_input([0, 0, 10, 10]), 0.1, 0.05),  # too unsure
    ] + [([0.0, 0.0, 1.0, 1.0], 0.0, 0.0)] * 20  # real models emit thousands of rows
    if layout == "v8":
        table = np.array([[*b, p, c] for b, p, c in preds], np.float32)
        return table.T[None]  # (1, 4 + nc, N)
    table = np.array([[*b, 1.0, p, c] for b, p, c in preds], np.float32)
    return table[None]  # (1, N, 5 + nc)


@pytest.mark.parametrize("layout", ["v8", "v5"])
@pytest.mark.parametrize("named", [False, True])
def test_boxes_map_back_to_image_pixels(tmp_path: Path, layout: str, named: bool) -> None:
    model = constant_model(tmp_path / "m.onnx", rows(layout))
    detector = get_detector_by_name(
        "onnx", model_path=model, confidence=0.35, layout=layout if named else "auto"
    )
    assert isinstance(detector, OnnxYoloDetector) and detector.input_size == (64, 64)
    image = np.full((IMAGE_H, IMAGE_W, 3), 90, np.uint8)
    found = detector.detect(Frame.from_image(image))
    order = np.argsort(-found.confidence)
    np.testing.assert_allclose(found.xyxy[order], [PERSON_A, PERSON_B], atol=0.5)
    np.testing.assert_allclose(found.confidence[order], [0.9, 0.6], atol=1e-5)
    assert set(found.class_id) == {0}


def test_scale_maps_back_to_frame_pixels(tmp_path: Path) -> None:
    # At scale 0.5 the model sees a 100×50 image, letterboxed with ratio 0.64 (same padding):
    # the model's boxes are PERSON_A / 2 in that image, so PERSON_A again in frame pixels.
    model = constant_model(tmp_path / "m.onnx", rows("v8"))
    detector = OnnxYoloDetector(model, scale=0.5)
    found = detector.detect(Frame.from_image(np.zeros((IMAGE_H, IMAGE_W, 3), np.uint8)))
    biggest = found.xyxy[np.argmax(found.confidence)]
    np.testing.assert_allclose(biggest, PERSON_A, atol=0.5)


def test_letterbox_geometry() -> None:
    image = np.full((IMAGE_H, IMAGE_W, 3), 200, np.uint8)
    padded, ratio, (left, top) = letterbox(image, (64, 64))
    assert padded.shape == (64, 64, 3) and ratio == pytest.approx(RATIO)
    assert (left, top) == (LEFT, TOP)
    assert padded[0, 0, 0] == 114 and padded[32, 32, 0] == 200


def test_preprocess_is_rgb_nchw_unit_range(tmp_path: Path) -> None:
    detector = OnnxYoloDetector(constant_model(tmp_path / "m.onnx", rows("v8")))
    image = np.zeros((64, 64, 3), np.uint8)
    image[..., 2] = 255  # red in BGR
    blob, ratio, pad = detector.preprocess(image)
    assert blob.shape == (1, 3, 64, 64) and blob.dtype == np.float32
    assert blob[0, 0].max() == 1.0 and blob[0, 2].max() == 0.0 and ratio == 1.0 and pad == (0, 0)


@pytest.mark.parametrize(
    ("output", "kwargs", "message"),
    [
        (np.zeros((2, 6, 10)), {}, "batch of one"),
        (np.zeros((1, 2, 3, 4)), {}, "output"),
        (np.zeros((1, 6, 10)), {"layout": "v9"}, "layout"),
        (np.zeros((1, 6, 10)), {"class_id": 5}, "class_id 5"),
    ],
)
def test_decode_errors(output, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_yolo(output, confidence=0.5, **kwargs)


def test_dynamic_input_shape_uses_input_size(tmp_path: Path) -> None:
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, "h", "w"])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, None)
    graph = helper.make_graph(
        [helper.make_node("ReduceMax", ["images"], ["out"], keepdims=1)], "dyn", [images], [out]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "dyn.onnx"
    onnx.save(model, str(path))
    assert OnnxYoloDetector(path, input_size=(96, 64)).input_size == (96, 64)
    assert OnnxYoloDetector(path).input_size == (640, 640)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model_path": "missing.onnx"}, InputError, "not found"),
        ({"confidence": 2}, ValueError, "confidence"),
        ({"iou": 0}, ValueError, "iou"),
        ({"layout": "v7"}, ValueError, "layout"),
        ({"scale": 0}, ValueError, "scale"),
        ({"class_id": -1}, ValueError, "class_id"),
        ({"input_size": (32, 32)}, ValueError, "input_size"),
    ],
)
def test_arguments_checked(tmp_path: Path, kwargs: dict, error, message: str) -> None:
    model = constant_model(tmp_path / "m.onnx", rows("v8"))
    with pytest.raises(error, match=message):
        OnnxYoloDetector(**({"model_path": model} | kwargs))


def test_not_a_model_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x00junk" * 10)
    with pytest.raises(InputError, match=r"junk\.onnx.*not a loadable ONNX model"):
        OnnxYoloDetector(path)
