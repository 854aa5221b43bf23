"""A pinhole camera hanging on the room's near wall: pose, projection, near-plane clipping.

World coordinates are room.py floor metres with z up: x left→right, y away from the camera wall,
z height above the floor. Camera coordinates follow OpenCV (x right, y down, z forward), so a
world point X maps to pixels through `K · R · (X − C)`.

`yaw_deg` turns the camera to the right (towards +x), `pitch_deg` looks down, `roll_deg` turns
the picture clockwise. A sabotage "pan" adds to the yaw, a "tilt" (positive = up) subtracts from
the pitch; `scale` multiplies the focal length (zoom) and `dx`/`dy` shift the principal point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

__all__ = ["NEAR_M", "PinholeCamera", "ViewChange"]

NEAR_M = 0.05  # near clipping plane, metres in front of the lens


@dataclass(frozen=True)
class ViewChange:
    """How far a camera has been turned from its intended view (all zero = intended view)."""

    pan_deg: float = 0.0
    tilt_deg: float = 0.0
    roll_deg: float = 0.0
    scale: float = 1.0
    dx: float = 0.0
    dy: float = 0.0

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ValueError(f"scale must be positive, got {self.scale}")

    def combine(self, other: ViewChange) -> ViewChange:
        """Both changes applied together (angles and shifts add, scales multiply)."""
        return ViewChange(
            self.pan_deg + other.pan_deg,
            self.tilt_deg + other.tilt_deg,
            self.roll_deg + other.roll_deg,
            self.scale * other.scale,
            self.dx + other.dx,
            self.dy + other.dy,
        )

    @property
    def is_identity(self) -> bool:
        return self == ViewChange()


@dataclass(frozen=True)
class PinholeCamera:
    """A distortion-free camera with square pixels; `hfov_deg` is the horizontal field of view."""

    x: float
    y: float
    z: float
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    hfov_deg: float
    width: int
    height: int
    scale: float = 1.0
    dx: float = 0.0
    dy: float = 0.0

    def __post_init__(self) -> None:
        if self.width < 2 or self.height < 2:
            raise ValueError(f"image size must be at least 2×2, got {self.width}×{self.height}")
        if not 1.0 < self.hfov_deg < 170.0:
            raise ValueError(f"hfov_deg must be in (1, 170), got {self.hfov_deg}")
        if not self.scale > 0:
            raise ValueError(f"scale must be positive, got {self.scale}")

    @cached_property
    def focal_px(self) -> float:
        """Focal length in pixels."""
        return self.scale * (self.width / 2) / math.tan(math.radians(self.hfov_deg) / 2)

    @cached_property
    def center(self) -> np.ndarray:
        return np.array([self.x, self.y, self.z])

    @cached_property
    def rotation(self) -> np.ndarray:
        """3×3 world→camera rotation; its rows are the camera's right, down and forward axes."""
        yaw, pitch, roll = (math.radians(a) for a in (self.yaw_deg, self.pitch_deg, self.roll_deg))
        forward = np.array(
            [math.sin(yaw) * math.cos(pitch), math.cos(yaw) * math.cos(pitch), -math.sin(pitch)]
        )
        right0 = np.array([math.cos(yaw), -math.sin(yaw), 0.0])
        down0 = np.cross(forward, right0)
        right = math.cos(roll) * right0 + math.sin(roll) * down0
        down = -math.sin(roll) * right0 + math.cos(roll) * down0
        return np.stack([right, down, forward])

    @cached_property
    def intrinsics(self) -> np.ndarray:
        """The 3×3 matrix K."""
        f = self.focal_px
        return np.array(
            [[f, 0.0, self.width / 2 + self.dx], [0.0, f, self.height / 2 + self.dy], [0, 0, 1]]
        )

    @cached_property
    def projection_matrix(self) -> np.ndarray:
        """The 3×4 matrix P = K [R | −R C]."""
        r = self.rotation
        return self.intrinsics @ np.hstack([r, (-r @ self.center)[:, None]])

    @cached_property
    def projection_rows(self) -> tuple[tuple[float, float, float, float], ...]:
        """P's rows as Python floats (for projecting a few points without numpy)."""
        return tuple(tuple(float(v) for v in row) for row in self.projection_matrix)

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) → camera coordinates (N, 3)."""
        return (np.asarray(points, dtype=np.float64) - self.center) @ self.rotation.T

    def camera_to_pixels(self, cam_points: np.ndarray) -> np.ndarray:
        """Camera coordinates (N, 3) with z > 0 → pixel coordinates (N, 2)."""
        k = self.intrinsics
        z = cam_points[:, 2]
        u = k[0, 0] * cam_points[:, 0] / z + k[0, 2]
        v = k[1, 1] * cam_points[:, 1] / z + k[1, 2]
        return np.stack([u, v], axis=1)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, 3) → (pixels (N, 2), depth along the optical axis (N,)).

        Points behind the near plane get NaN pixels.
        """
        cam = self.to_camera(np.atleast_2d(points))
        depth = cam[:, 2]
        safe = np.where(depth > NEAR_M, depth, np.nan)
        return self.camera_to_pixels(np.column_stack([cam[:, :2], safe])), depth

    def clip_polygon(self, points: np.ndarray) -> np.ndarray | None:
        """Pixels of a planar world polygon (N, 3) cut at the near plane; None if all behind."""
        cam = self.to_camera(points)
        inside = cam[:, 2] >= NEAR_M
        if inside.all():
            return self.camera_to_pixels(cam)
        if not inside.any():
            return None
        out: list[np.ndarray] = []
        n = len(cam)
        for i in range(n):
            a, b = cam[i], cam[(i + 1) % n]
            a_in, b_in = a[2] >= NEAR_M, b[2] >= NEAR_M
            if a_in:
                out.append(a)
            if a_in != b_in:
                t = (NEAR_M - a[2]) / (b[2] - a[2])
                out.append(a + t * (b - a))
        if len(out) < 3:
            return None
        return self.camera_to_pixels(np.array(out))

    def clip_segment(self, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        """Pixels (2, 2) of a world segment cut at the near plane; None if wholly behind."""
        cam = self.to_camera(np.stack([a, b]))
        za, zb = cam[:, 2]
        if za < NEAR_M and zb < NEAR_M:
            return None
        if za < NEAR_M or zb < NEAR_M:
            t = (NEAR_M - za) / (zb - za)
            cut = cam[0] + t * (cam[1] - cam[0])
            cam = np.stack([cut, cam[1]]) if za < NEAR_M else np.stack([cam[0], cut])
        return self.camera_to_pixels(cam)

    def pixels_per_metre(self, points: np.ndarray) -> np.ndarray:
        """Image size in pixels of one metre seen face-on at each world point (N, 3)."""
        depth = self.to_camera(np.atleast_2d(points))[:, 2]
        return self.focal_px / np.maximum(depth, NEAR_M)

    def floor_distance(self, x: float, y: float) -> float:
        """Horizontal distance from the camera to a floor point (used for painter's order)."""
        return math.hypot(x - self.x, y - self.y)

    def changed(self, change: ViewChange) -> PinholeCamera:
        """This camera turned, zoomed or shifted by `change`."""
        if change.is_identity:
            return self
        return replace(
            self,
            yaw_deg=self.yaw_deg + change.pan_deg,
            pitch_deg=self.pitch_deg - change.tilt_deg,
            roll_deg=self.roll_deg + change.roll_deg,
            scale=self.scale * change.scale,
            dx=self.dx + change.dx,
            dy=self.dy + change.dy,
        )
