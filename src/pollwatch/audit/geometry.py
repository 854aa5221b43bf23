"""Small plane geometry for the audit: polygons, affine view transforms, visible box share."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "ViewTransform",
    "clip_polygon_to_rect",
    "polygon_area",
    "polygon_mask",
    "visible_fraction",
]


def _as_polygon(points: object) -> np.ndarray:
    p = np.asarray(points, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] < 3:
        raise ValueError(f"a polygon needs at least 3 (x, y) points, got shape {p.shape}")
    return p


def polygon_area(points: object) -> float:
    """Area of a simple polygon (shoelace formula), always >= 0."""
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    if p.shape[0] < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def clip_polygon_to_rect(points: object, width: float, height: float) -> np.ndarray:
    """The part of a polygon inside [0, width] × [0, height] (Sutherland–Hodgman).

    Returns an (N, 2) array, N = 0 when nothing is inside.
    """
    poly = [tuple(p) for p in _as_polygon(points)]
    edges = (
        (lambda p: p[0] >= 0, lambda a, b: _cut(a, b, 0, 0.0)),
        (lambda p: p[0] <= width, lambda a, b: _cut(a, b, 0, width)),
        (lambda p: p[1] >= 0, lambda a, b: _cut(a, b, 1, 0.0)),
        (lambda p: p[1] <= height, lambda a, b: _cut(a, b, 1, height)),
    )
    for inside, cut in edges:
        out: list[tuple[float, float]] = []
        for i, cur in enumerate(poly):
            prev = poly[i - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cut(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cut(prev, cur))
        poly = out
        if not poly:
            break
    return np.asarray(poly, dtype=float).reshape(-1, 2)


def _cut(a: tuple[float, float], b: tuple[float, float], axis: int, value: float):
    t = (value - a[axis]) / (b[axis] - a[axis])
    return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))


def polygon_mask(points: object, shape: tuple[int, int]) -> np.ndarray:
    """A bool mask of `shape` (H, W) that is True inside the polygon."""
    import cv2

    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(_as_polygon(points)).astype(np.int32)], 1)
    return mask.astype(bool)


@dataclass(frozen=True)
class ViewTransform:
    """How the current view maps onto the reference: `matrix` (2×3) takes a point of the
    reference image to the same scene point in the current frame (analysis pixels).

    `method` tells how it was found; `quality` is the RANSAC inlier share for features or the
    peak response for phase correlation.
    """

    matrix: np.ndarray
    method: Literal["features", "phase", "identity"]
    inliers: int = 0
    quality: float = 1.0

    def __post_init__(self) -> None:
        m = np.asarray(self.matrix, dtype=float)
        if m.shape != (2, 3) or not np.isfinite(m).all():
            raise ValueError(f"matrix must be a finite 2x3 array, got {m.shape}")
        m.setflags(write=False)
        object.__setattr__(self, "matrix", m)

    @classmethod
    def identity(cls) -> ViewTransform:
        return cls(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), "identity")

    @property
    def scale(self) -> float:
        return float(math.hypot(self.matrix[0, 0], self.matrix[1, 0]))

    @property
    def angle_deg(self) -> float:
        """Rotation of the picture, degrees counter-clockwise as seen on screen."""
        return float(-math.degrees(math.atan2(self.matrix[1, 0], self.matrix[0, 0])))

    def apply(self, points: object) -> np.ndarray:
        """Map reference points (N, 2) into the current frame."""
        p = np.asarray(points, dtype=float).reshape(-1, 2)
        return p @ self.matrix[:, :2].T + self.matrix[:, 2]

    def displacement(self, point: tuple[float, float]) -> float:
        """How far (pixels) the scene point at `point` of the reference moved in the picture."""
        moved = self.apply([point])[0]
        return float(math.hypot(moved[0] - point[0], moved[1] - point[1]))


def visible_fraction(
    polygon: object, transform: ViewTransform, width: float, height: float
) -> float:
    """Share (0..1) of the reference polygon's area that lies inside the current frame."""
    ref = _as_polygon(polygon)
    area = polygon_area(ref)
    if area <= 0:
        raise ValueError("the polygon has zero area")
    moved = transform.apply(ref)
    inside = clip_polygon_to_rect(moved, width, height)
    visible = polygon_area(inside) if len(inside) >= 3 else 0.0
    return float(min(1.0, visible / (area * transform.scale**2)))
