"""Picture helpers shared by the view and picture-condition auditors.

Both auditors take the same camera geometry (a reference image, or the full-size frame size,
and an optional box polygon), sample the engine's cached gray frame at analysis width in
fixed time slots, bring the reference to that size once, and check their numeric arguments
the same way: all of that lives here, once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import cv2
import numpy as np

from pollwatch.video.frame import Frame

__all__ = [
    "CameraGeometry",
    "GrayMeasures",
    "analysis_reference",
    "camera_geometry",
    "check_arguments",
    "check_aspect",
    "frame_gray",
    "sample_slot",
    "sharpness",
    "to_analysis_gray",
]

CameraGeometry = tuple[tuple[int, int], np.ndarray | None]  # (full (w, h), polygon or None)


def camera_geometry(
    reference: np.ndarray | None, box_polygon: object, image_size: tuple[int, int] | None
) -> CameraGeometry:
    """The full-size picture (width, height) and the box polygon as an (N, 2) float array.

    The size is the reference image's, else `image_size`; a ValueError names the argument
    that is wrong or missing.
    """
    if reference is not None:
        ref = np.asarray(reference)
        if ref.dtype != np.uint8 or ref.ndim not in (2, 3) or min(ref.shape[:2]) < 16:
            raise ValueError(f"reference must be a uint8 image, got {ref.dtype} {ref.shape}")
        full = (ref.shape[1], ref.shape[0])
    elif image_size is not None:
        if len(image_size) != 2 or min(image_size) < 16:
            raise ValueError(f"image_size must be (width, height), got {image_size}")
        full = (int(image_size[0]), int(image_size[1]))
    else:
        raise ValueError("image_size is needed when there is no reference image")
    poly = None
    if box_polygon is not None:
        poly = np.asarray(box_polygon, dtype=float)
        if poly.ndim != 2 or poly.shape[1] != 2 or poly.shape[0] < 3:
            raise ValueError(f"box_polygon needs >= 3 (x, y) points, got {poly.shape}")
    return full, poly


def check_arguments(checks: Mapping[str, tuple[object, bool]]) -> None:
    """Raise a ValueError naming the first argument whose check (name → (value, ok)) failed."""
    for name, (value, ok) in checks.items():
        if not ok:
            raise ValueError(f"{name} is out of range: {value!r}")


def to_analysis_gray(image: np.ndarray, work_width: int) -> np.ndarray:
    """`image` (gray or BGR) as uint8 gray at most `work_width` wide, in a new array that
    shares no memory with `image`."""
    img = np.asarray(image)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if img.ndim != 2 or img.dtype != np.uint8:
        raise ValueError(f"expected a uint8 gray or BGR image, got {img.dtype} {img.shape}")
    h, w = img.shape
    if w > work_width:
        size = (work_width, max(1, round(h * work_width / w)))
        return cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    # always a copy (a few µs): the caller's array may be a view into a decoder's frame
    # buffer, which keeping would pin in memory, or a buffer the caller refills in place
    return img.copy()


def analysis_reference(reference: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The reference image as gray at the analysis frames' `shape` (rows, columns)."""
    gray = to_analysis_gray(reference, 10_000)
    return cv2.resize(gray, shape[::-1], interpolation=cv2.INTER_AREA)


def frame_gray(frame: Frame, work_width: int) -> np.ndarray:
    """The frame's gray picture at most `work_width` wide: read-only, computed once per frame
    and shared with every analyser asking for the same size (the engine's cache)."""
    return frame.gray(min(1.0, work_width / frame.width))


def sample_slot(t: float, every_s: float) -> int:
    """The sampling slot of time `t`: an analyser sampling every `every_s` seconds takes the
    first frame of each slot (as the engine does for `Needs.fps`), so frame-time jitter and
    skipped frames do not stretch the sampling interval."""
    return math.floor(t / every_s + 1e-6)


# A picture whose `sharpness` is under this is out of focus whatever the camera's baseline: the
# conditions' blur floor and the view's least sharpness for feature registration. Measured on
# the simulator's decoded cameras at 320 px (session 11, per sample, dark and frozen time left
# out): in focus 1st percentiles 0.13-0.17 on the lowest cameras (demo 126, azerbaijan-2024
# 74 and 75's rooms turned to bare walls), 0.29-0.45 on most; under a defocus of sigma 2.5-6
# px, 99th percentiles 0.017-0.085 (0.085: az 75's cam-D114-011, sigma 5.9, turned away to a
# flat wall, where sensor noise carries the Laplacian). Session 4's floor, 0.06, left that
# camera 64% unflagged.
SOFT_SHARPNESS = 0.10


def sharpness(gray: np.ndarray, std: float | None = None) -> float:
    """Variance of the Laplacian over the variance of the image (0 for a flat image); `std`:
    the image's standard deviation when already known (`cv2.meanStdDev`'s)."""
    g = np.asarray(gray)
    if g.dtype != np.uint8:
        g = np.clip(g, 0, 255).astype(np.uint8)
        std = None
    var = (float(cv2.meanStdDev(g)[1][0, 0]) if std is None else std) ** 2
    if var < 1e-6:
        return 0.0
    lap_std = float(cv2.meanStdDev(cv2.Laplacian(g, cv2.CV_16S))[1][0, 0])
    return lap_std**2 / var


class GrayMeasures:
    """The level (mean, standard deviation) and sharpness of the latest gray picture asked
    about, computed once: the view and conditions auditors sample the same frames (every
    view sample is a conditions sample too) and get the engine's one cached gray for them.
    Only read-only pictures are remembered (a writable one may change under the same name)."""

    def __init__(self) -> None:
        self._gray: np.ndarray | None = None
        self._level: tuple[float, float] | None = None
        self._sharpness: float | None = None

    def _forget_unless(self, gray: np.ndarray) -> None:
        if gray is not self._gray:
            self._gray = None if gray.flags.writeable else gray
            self._level = self._sharpness = None

    def level(self, gray: np.ndarray) -> tuple[float, float]:
        """`gray`'s mean and standard deviation (`cv2.meanStdDev`)."""
        self._forget_unless(gray)
        if self._level is None:
            m, sd = cv2.meanStdDev(gray)
            self._level = (float(m[0, 0]), float(sd[0, 0]))
        return self._level

    def sharpness(self, gray: np.ndarray) -> float:
        """`sharpness(gray)`."""
        std = self.level(gray)[1]
        if self._sharpness is None:
            self._sharpness = sharpness(gray, std)
        return self._sharpness


def check_aspect(shape: tuple[int, ...], full_size: tuple[int, int], t: float) -> None:
    """Refuse frames whose aspect ratio differs (> 2 %) from the reference / image size."""
    h, w = shape[:2]
    full_w, full_h = full_size
    if abs((w / h) / (full_w / full_h) - 1.0) > 0.02:
        raise ValueError(
            f"frame at {t:.2f} s is {w}x{h}, which does not have the aspect ratio of the "
            f"reference image / image_size {full_w}x{full_h}"
        )
