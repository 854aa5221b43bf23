"""A user-supplied YOLO-format person detector run with onnxruntime (optional extra `onnx`).

The model's input size comes from its input shape (or `input_size` when the shape is dynamic).
Frames are letterboxed (aspect kept, grey 114 padding, RGB, 0..1, NCHW). Two output layouts
are decoded: YOLOv8-style (1, 4+nc, N) — cx, cy, w, h then class scores — and YOLOv5-style
(1, N, 5+nc) — cx, cy, w, h, objectness then class scores. Boxes whose best class is the person
class and whose score clears `confidence` are kept, mapped back to `frame.image` pixels and
thinned with OpenCV's NMS. No weights ship with pollwatch and none are downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from pollwatch.errors import InputError
from pollwatch.video.detections import PERSON, Detections
from pollwatch.video.frame import Frame

__all__ = ["Layout", "OnnxYoloDetector", "decode_yolo", "letterbox"]

Layout = Literal["auto", "v8", "v5"]
_PAD = 114


def letterbox(
    image: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Resize `image` into `size` (width, height) keeping its aspect, padding with grey.

    Returns the padded image, the resize ratio and the (left, top) padding, so that a point
    (x, y) of the padded image is ((x - left) / ratio, (y - top) / ratio) in the original.
    """
    width, height = size
    if width <= 0 or height <= 0:
        raise ValueError(f"size must be positive, got {size}")
    h, w = image.shape[:2]
    ratio = min(width / w, height / h)
    new_w, new_h = round(w * ratio), round(h * ratio)
    resized = image if (new_w, new_h) == (w, h) else cv2.resize(image, (new_w, new_h))
    left, top = (width - new_w) // 2, (height - new_h) // 2
    out = cv2.copyMakeBorder(
        resized, top, height - new_h - top, left, width - new_w - left,
        cv2.BORDER_CONSTANT, value=(_PAD, _PAD, _PAD),
    )  # fmt: skip
    return out, ratio, (left, top)


def decode_yolo(
    output: np.ndarray, *, layout: Layout = "auto", confidence: float, class_id: int = PERSON
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N×4 xyxy, model-input pixels) and scores of `class_id` from a raw YOLO output.

    "auto" reads (1, A, N) with A < N as YOLOv8 (attributes first) and anything else as
    YOLOv5 (rows first); name the layout when a model is exported otherwise.
    """
    out = np.asarray(output, np.float32)
    if out.ndim == 3:
        if out.shape[0] != 1:
            raise ValueError(f"expected a batch of one, got output shape {out.shape}")
        out = out[0]
    if out.ndim != 2:
        raise ValueError(f"expected a (1, A, N) or (1, N, A) output, got shape {output.shape}")
    if layout == "auto":
        layout = "v8" if out.shape[0] < out.shape[1] else "v5"
    if layout == "v8":
        rows = out.T
        first_class = 4
        scores_all = rows[:, 4:]
    elif layout == "v5":
        rows = out
        first_class = 5
        scores_all = rows[:, 5:] * rows[:, 4:5]
    else:
        raise ValueError(f"layout must be auto, v8 or v5, got {layout!r}")
    n_classes = rows.shape[1] - first_class
    if not 0 <= class_id < n_classes:
        raise ValueError(f"class_id {class_id} outside the model's {n_classes} classes")
    best = scores_all.argmax(axis=1)
    score = scores_all[np.arange(len(rows)), class_id]
    keep = (best == class_id) & (score >= confidence)
    cx, cy, w, h = rows[keep, 0], rows[keep, 1], rows[keep, 2], rows[keep, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes.reshape(-1, 4), score[keep]


class OnnxYoloDetector:
    """Person detection with a YOLO ONNX model; see the module docstring.

    `model_path`: the .onnx file; `confidence`: lowest person score kept; `iou`: NMS overlap;
    `class_id`: the person class in the model's classes (0 for COCO); `layout`: output layout;
    `input_size`: (width, height) for models with a dynamic input shape; `scale`: downscale
    of `frame.image` fed to the model; `threads`: onnxruntime intra-op threads.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        confidence: float = 0.35,
        iou: float = 0.45,
        class_id: int = PERSON,
        layout: Layout = "auto",
        input_size: tuple[int, int] | None = None,
        scale: float = 1.0,
        threads: int = 1,
        providers: list[str] | None = None,
    ) -> None:
        if not 0 <= confidence <= 1:
            raise ValueError(f"confidence must be in [0, 1], got {confidence}")
        if not 0 < iou <= 1:
            raise ValueError(f"iou must be in (0, 1], got {iou}")
        if layout not in ("auto", "v8", "v5"):
            raise ValueError(f"layout must be auto, v8 or v5, got {layout!r}")
        if not 0 < scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        if class_id < 0:
            raise ValueError(f"class_id must be >= 0, got {class_id}")
        if threads < 0:
            raise ValueError(f"threads must be >= 0, got {threads}")
        path = Path(model_path)
        if not path.is_file():
            raise InputError.at(path, "ONNX model file not found")
        try:
            import onnxruntime as ort
        except ImportError as err:  # pragma: no cover - depends on the install
            raise ImportError(
                "the ONNX detector needs the extra: pip install 'pollwatch[onnx]'"
            ) from err
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(path), options, providers=providers or ["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own untyped errors
            raise InputError.at(path, f"not a loadable ONNX model: {err}") from err
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        self._dtype = np.float16 if "float16" in model_input.type else np.float32
        self.input_size = self._input_size(model_input.shape, input_size, path)
        self.confidence = float(confidence)
        self.iou = float(iou)
        self.class_id = int(class_id)
        self.layout: Layout = layout
        self._scale = float(scale)

    @staticmethod
    def _input_size(shape: list[Any], given: tuple[int, int] | None, path: Path) -> tuple[int, int]:
        if len(shape) != 4:
            raise InputError.at(path, f"model input must be NCHW, got shape {shape}")
        h, w = shape[2], shape[3]
        if isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0:
            if given is not None and tuple(given) != (w, h):
                raise ValueError(f"input_size {given} differs from the model's fixed {(w, h)}")
            return w, h
        if given is None:
            return 640, 640
        if len(given) != 2 or min(given) <= 0:
            raise ValueError(f"input_size must be (width, height), got {given}")
        return int(given[0]), int(given[1])

    @property
    def scale(self) -> float:
        return self._scale

    def reset(self) -> None:
        """The model keeps no state between frames."""

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, float, tuple[int, int]]:
        """The model's input blob for a BGR image, with the letterbox ratio and padding."""
        padded, ratio, pad = letterbox(image, self.input_size)
        rgb = cv2.cvtColor(padded, cv2.COLOR_BGR2RGB)
        blob = (rgb.transpose(2, 0, 1)[None].astype(np.float32) / 255.0).astype(self._dtype)
        return np.ascontiguousarray(blob), ratio, pad

    def detect(self, frame: Frame) -> Detections:
        """People in `frame`, boxes in `frame.image` pixels."""
        image = frame.bgr(self._scale)
        blob, ratio, (left, top) = self.preprocess(image)
        output = self._session.run(None, {self._input_name: blob})[0]
        boxes, scores = decode_yolo(
            output, layout=self.layout, confidence=self.confidence, class_id=self.class_id
        )
        if len(boxes) == 0:
            return Detections.empty()
        boxes = (boxes - np.array([left, top, left, top], np.float32)) / np.float32(ratio)
        h, w = image.shape[:2]
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
        xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])
        keep = cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), self.confidence, self.iou)
        keep = np.asarray(keep, dtype=int).reshape(-1)
        return Detections.from_xyxy(
            boxes[keep] / np.float32(self._scale), scores[keep].clip(0, 1), PERSON
        )
