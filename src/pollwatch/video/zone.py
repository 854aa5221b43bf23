"""A polygon zone in image pixels (the ballot box, a booth) with point-in-polygon tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from pollwatch.video.detections import Detections

__all__ = ["Anchor", "Zone"]

Anchor = Literal["foot", "center", "top"]


@dataclass(frozen=True, eq=False)
class Zone:
    """A polygon of at least three (x, y) vertices, in the pixels of some image.

    Zones from cameras.csv are in source-video pixels; `scaled(frame.source_scale)` brings
    them to `frame.image` pixels, `scaled(s)` to an analysis resolution.
    """

    polygon: np.ndarray

    def __post_init__(self) -> None:
        poly = np.asarray(self.polygon, np.float32)
        if poly.ndim != 2 or poly.shape[1] != 2 or poly.shape[0] < 3:
            raise ValueError(f"polygon must be (K >= 3, 2) points, got shape {poly.shape}")
        if not np.all(np.isfinite(poly)):
            raise ValueError("polygon must be finite")
        if abs(cv2.contourArea(poly)) <= 0:
            raise ValueError("polygon has no area")
        poly = poly.copy()
        poly.flags.writeable = False
        object.__setattr__(self, "polygon", poly)

    @classmethod
    def from_points(cls, points: Sequence[Sequence[float]]) -> Zone:
        """A zone from [(x, y), ...]."""
        return cls(np.asarray(points, np.float32))

    @property
    def area(self) -> float:
        return float(abs(cv2.contourArea(self.polygon)))

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(x1, y1, x2, y2) bounding box."""
        x1, y1 = self.polygon.min(axis=0)
        x2, y2 = self.polygon.max(axis=0)
        return float(x1), float(y1), float(x2), float(y2)

    @property
    def centroid(self) -> tuple[float, float]:
        m = cv2.moments(self.polygon)
        return m["m10"] / m["m00"], m["m01"] / m["m00"]

    def scaled(self, factor: float) -> Zone:
        """The zone with every coordinate multiplied by `factor`."""
        if not factor > 0:
            raise ValueError(f"factor must be positive, got {factor}")
        return Zone(self.polygon * np.float32(factor))

    def contains(self, points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Boolean mask: which (N, 2) points lie inside the polygon or on its edge."""
        pts = np.asarray(points, np.float32).reshape(-1, 2)
        return np.array(
            [cv2.pointPolygonTest(self.polygon, (float(x), float(y)), False) >= 0 for x, y in pts],
            dtype=bool,
        )

    def distance(self, points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Signed distance of (N, 2) points to the edge: positive inside, negative outside."""
        pts = np.asarray(points, np.float32).reshape(-1, 2)
        return np.array(
            [cv2.pointPolygonTest(self.polygon, (float(x), float(y)), True) for x, y in pts],
            dtype=np.float32,
        )

    def trigger(self, detections: Detections, anchor: Anchor = "foot") -> np.ndarray:
        """Boolean mask of the detections whose anchor point is in the zone."""
        if anchor == "foot":
            points = detections.foot_points
        elif anchor == "center":
            points = detections.centers
        elif anchor == "top":
            points = np.stack([detections.xyxy[:, [0, 2]].mean(1), detections.xyxy[:, 1]], 1)
        else:
            raise ValueError(f"anchor must be foot, center or top, got {anchor!r}")
        return self.contains(points)
