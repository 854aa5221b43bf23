"""Drawing world-space shapes into an image with a pinhole camera (sub-pixel, anti-aliased).

Every function takes an optional `offset` (x0, y0): the image is then a region of interest
whose top-left pixel is (x0, y0) of the full frame, so small moving things are drawn on small
arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pollwatch.simulate.camera_model import PinholeCamera

__all__ = [
    "SHIFT",
    "cuboid",
    "cuboid_corners",
    "fill_poly3d",
    "line3d",
    "shade",
    "to_fixed",
    "visible_faces",
]

SHIFT = 4  # cv2 fixed-point fractional bits: coordinates in 1/16 pixel
_ONE = 1 << SHIFT
_LIMIT = 1 << 26  # keep fixed-point coordinates well inside int32

Color = tuple[int, int, int]
Point3 = Sequence[float]


def shade(color: Sequence[int], factor: float) -> Color:
    """`color` scaled by `factor`, clipped to 0..255."""
    return tuple(int(min(255, max(0, round(c * factor)))) for c in color)  # type: ignore[return-value]


def to_fixed(pixels: np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Float pixel coordinates (N, 2) → cv2 fixed-point int32 (N, 2), shifted by `offset`."""
    p = (pixels - np.asarray(offset, dtype=np.float64)) * _ONE
    return np.clip(np.round(p), -_LIMIT, _LIMIT).astype(np.int32)


def fill_poly3d(
    img: np.ndarray,
    cam: PinholeCamera,
    points: Sequence[Point3] | np.ndarray,
    color: Sequence[int],
    offset: tuple[int, int] = (0, 0),
) -> None:
    """Fill a planar world polygon (clipped at the camera's near plane)."""
    px = cam.clip_polygon(np.asarray(points, dtype=np.float64))
    if px is None:
        return
    cv2.fillPoly(img, [to_fixed(px, offset)], tuple(int(c) for c in color), cv2.LINE_AA, SHIFT)


def line3d(
    img: np.ndarray,
    cam: PinholeCamera,
    a: Point3,
    b: Point3,
    color: Sequence[int],
    thickness: int = 1,
    offset: tuple[int, int] = (0, 0),
) -> None:
    """Draw a world segment (clipped at the camera's near plane)."""
    px = cam.clip_segment(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    if px is None:
        return
    p = to_fixed(px, offset)
    color = tuple(int(c) for c in color)
    cv2.line(img, tuple(p[0]), tuple(p[1]), color, thickness, cv2.LINE_AA, SHIFT)


# face: (corner indices into the 8 corners, outward normal, shading factor)
_FACES = (
    ((4, 5, 7, 6), (0, 0, 1), 1.0),  # top
    ((0, 1, 3, 2), (0, 0, -1), 0.5),  # bottom
    ((0, 1, 5, 4), (0, -1, 0), 0.88),  # front (towards the camera wall)
    ((2, 3, 7, 6), (0, 1, 0), 0.7),  # back
    ((0, 2, 6, 4), (-1, 0, 0), 0.8),  # left
    ((1, 3, 7, 5), (1, 0, 0), 0.76),  # right
)


def cuboid_corners(box: tuple[float, float, float, float, float, float]) -> np.ndarray:
    """The 8 corners (8, 3) of an axis-aligned box (x0, x1, y0, y1, z0, z1); bit 0 x, 1 y, 2 z."""
    x0, x1, y0, y1, z0, z1 = box
    return np.array(
        [[(x0, x1)[i & 1], (y0, y1)[(i >> 1) & 1], (z0, z1)[(i >> 2) & 1]] for i in range(8)]
    )


def visible_faces(
    cam: PinholeCamera, box: tuple[float, float, float, float, float, float]
) -> list[tuple[np.ndarray, float]]:
    """The faces of a box the camera sees: (corners (4, 3), shading factor) each."""
    corners = cuboid_corners(box)
    out = []
    for idx, normal, factor in _FACES:
        face = corners[list(idx)]
        if np.dot(cam.center - face.mean(axis=0), normal) > 0:
            out.append((face, factor))
    return out


def cuboid(
    img: np.ndarray,
    cam: PinholeCamera,
    box: tuple[float, float, float, float, float, float],
    color: Sequence[int],
    offset: tuple[int, int] = (0, 0),
) -> None:
    """Draw an opaque axis-aligned box, each visible face shaded by its orientation."""
    for face, factor in visible_faces(cam, box):
        fill_poly3d(img, cam, face, shade(color, factor), offset)
