"""Person detectors: adapters behind one small protocol, resolved by name.

The core knows no model. `get_detector_by_name("background")` is the default (no weights:
background subtraction on a downscaled gray frame); `get_detector_by_name("onnx",
model_path=...)` runs a user-supplied YOLO-format ONNX model (optional extra `onnx`, imported
only then).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from pollwatch.video.detections import Detections
from pollwatch.video.frame import Frame

__all__ = ["DETECTORS", "PersonDetector", "get_detector_by_name"]


@runtime_checkable
class PersonDetector(Protocol):
    """Finds people in a frame; boxes are in `frame.image` pixels, class id `PERSON`.

    `scale` is the downscale the detector reads frames at (a hint for the engine's `Needs`).
    A detector may keep state between frames (a background model); `reset()` forgets it.
    """

    @property
    def scale(self) -> float: ...

    def detect(self, frame: Frame) -> Detections:
        """The people in `frame`."""

    def reset(self) -> None:
        """Forget any state kept between frames."""


def _background(**kwargs: Any) -> PersonDetector:
    from pollwatch.video.detectors.background import BackgroundSubtractionDetector

    return BackgroundSubtractionDetector(**kwargs)


def _onnx(**kwargs: Any) -> PersonDetector:
    from pollwatch.video.detectors.yolo_onnx import OnnxYoloDetector

    return OnnxYoloDetector(**kwargs)


DETECTORS: dict[str, Callable[..., PersonDetector]] = {
    "background": _background,
    "onnx": _onnx,
}


def get_detector_by_name(name: str, **kwargs: Any) -> PersonDetector:
    """Build the detector registered as `name` with its keyword arguments."""
    try:
        factory = DETECTORS[name]
    except KeyError:
        raise ValueError(f"unknown detector {name!r}; known: {sorted(DETECTORS)}") from None
    return factory(**kwargs)
