"""The transparent ballot box on its stand: geometry, outline in pixels, and drawing.

The box is drawn every frame (its fill level changes and people pass behind it): the stand,
the ballots inside as a pale paper block whose top rises with the fill fraction (sub-pixel, so
the brightness of the box's lower part grows smoothly), then the clear plastic walls as a faint
tint with bright edges, and the slot on the lid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from pollwatch.simulate.camera_model import PinholeCamera
from pollwatch.simulate.drawing import SHIFT, cuboid_corners, shade, to_fixed, visible_faces

__all__ = ["BoxGeometry", "BoxPainter", "box_polygon", "box_roi"]

_EDGES = (
    (0, 1),
    (2, 3),
    (4, 5),
    (6, 7),
    (0, 2),
    (1, 3),
    (4, 6),
    (5, 7),
    (0, 4),
    (1, 5),
    (2, 6),
    (3, 7),
)
_PAPER = (236, 240, 242)


@dataclass(frozen=True)
class BoxGeometry:
    """Where the box stands and how big it is (metres); (x, y) is the centre of its footprint."""

    x: float
    y: float
    width: float = 0.5
    depth: float = 0.4
    height: float = 0.55
    stand_height: float = 0.6
    tint: tuple[int, int, int] = (235, 225, 215)
    stand_color: tuple[int, int, int] = (88, 92, 98)
    paper_lines: tuple[float, ...] = field(
        default_factory=lambda: tuple(np.sort(np.random.default_rng(11).uniform(0, 1, 24)))
    )

    @property
    def body(self) -> tuple[float, float, float, float, float, float]:
        """The plastic body as (x0, x1, y0, y1, z0, z1)."""
        z0 = self.stand_height
        return (
            self.x - self.width / 2,
            self.x + self.width / 2,
            self.y - self.depth / 2,
            self.y + self.depth / 2,
            z0,
            z0 + self.height,
        )

    @property
    def stand(self) -> tuple[float, float, float, float, float, float]:
        return (
            self.x - self.width / 2 - 0.05,
            self.x + self.width / 2 + 0.05,
            self.y - self.depth / 2 - 0.05,
            self.y + self.depth / 2 + 0.05,
            0.0,
            self.stand_height,
        )

    @property
    def slot(self) -> np.ndarray:
        """World point of the slot's centre on the lid."""
        return np.array([self.x, self.y, self.stand_height + self.height])

    @property
    def footprint(self) -> tuple[tuple[float, float], ...]:
        x0, x1, y0, y1, _, _ = self.stand
        return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def box_polygon(cam: PinholeCamera, box: BoxGeometry) -> np.ndarray:
    """The outline (convex hull) of the box body in pixels, (N, 2) float; empty if behind."""
    px, depth = cam.project(cuboid_corners(box.body))
    if np.any(depth <= 0.05):
        return np.zeros((0, 2))
    return cv2.convexHull(px.astype(np.float32))[:, 0, :].astype(np.float64)


def box_roi(cam: PinholeCamera, box: BoxGeometry) -> tuple[int, int, int, int] | None:
    """Pixel bounds (x0, y0, x1, y1) of box and stand inside the frame, None if not in view."""
    corners = np.vstack([cuboid_corners(box.body), cuboid_corners(box.stand)])
    px, depth = cam.project(corners)
    if np.any(depth <= 0.05):
        return 0, 0, cam.width, cam.height
    x0, y0 = np.floor(px.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(px.max(axis=0)).astype(int) + 3
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, cam.width), min(y1, cam.height)
    if x0 >= x1 or y0 >= y1:
        return None
    return int(x0), int(y0), int(x1), int(y1)


Polys = list[np.ndarray]


class BoxPainter:
    """Draws one box in one view; everything but the paper's top is projected once, up front."""

    def __init__(self, cam: PinholeCamera, box: BoxGeometry) -> None:
        self.cam = cam
        self.box = box
        self._cache: tuple[tuple[float, float], np.ndarray, np.ndarray] | None = None
        self._shades: dict[float, dict[str, Any]] = {}
        self._paper_at: tuple[float, np.ndarray] | None = None
        self.bounds = box_roi(cam, box)
        if self.bounds is None:
            return
        x0, y0 = self.bounds[:2]
        off = (x0, y0)

        def polys(faces: list[np.ndarray]) -> Polys:
            out = []
            for f in faces:
                px = cam.clip_polygon(np.asarray(f, dtype=np.float64))
                if px is not None:
                    out.append(to_fixed(px, off))
            return out

        def segments(pairs: list[tuple[np.ndarray, np.ndarray]]) -> Polys:
            out = []
            for a, b in pairs:
                px = cam.clip_segment(np.asarray(a, np.float64), np.asarray(b, np.float64))
                if px is not None:
                    out.append(to_fixed(px, off))
            return out

        self._stand = []
        for face, k in visible_faces(cam, box.stand):
            self._stand.extend((p, k) for p in polys([face]))
        bx0, bx1, by0, by1, bz0, bz1 = box.body
        corners = cuboid_corners(box.body)
        front = [
            (corners[a], corners[b])
            for a, b in _EDGES
            if (corners[a][1] + corners[b][1]) / 2 < box.y
        ]
        self._edges_back = segments([(corners[a], corners[b]) for a, b in _EDGES])
        self._edges_front = segments(front)
        self._tint = polys([f for f, _ in visible_faces(cam, box.body)])
        sx, sy, sz = box.slot
        self._slot = polys(
            [
                [
                    (sx - 0.11, sy - 0.012, sz),
                    (sx + 0.11, sy - 0.012, sz),
                    (sx + 0.11, sy + 0.012, sz),
                    (sx - 0.11, sy + 0.012, sz),
                ]
            ]
        )
        self._seal = polys(
            [
                [
                    (bx1 - 0.09, by0 - 0.002, bz1 - 0.06),
                    (bx1 - 0.03, by0 - 0.002, bz1 - 0.06),
                    (bx1 - 0.03, by0 - 0.002, bz1 - 0.02),
                    (bx1 - 0.09, by0 - 0.002, bz1 - 0.02),
                ]
            ]
        )
        inner = 0.012
        self._z0 = bz0 + inner
        self._span = box.height - 2 * inner
        block = (
            bx0 + inner,
            bx1 - inner,
            by0 + inner,
            by1 - inner,
            self._z0,
            self._z0 + self._span,
        )
        pc = cuboid_corners(block)
        self._paper_bottom = cam.to_camera(pc[:4])
        self._paper_up = cam.to_camera(pc[4:]) - self._paper_bottom  # camera-space per full height
        self._paper_faces = [(self._face_index(f, pc), k) for f, k in visible_faces(cam, block)]
        levels = np.asarray(box.paper_lines)
        self._line_levels = levels
        self._paper_lines = segments(
            [
                (
                    (block[0], block[2], self._z0 + v * self._span),
                    (block[1], block[2], self._z0 + v * self._span),
                )
                for v in levels
            ]
        )
        self._paper_in_front = bool(np.all(cam.to_camera(pc)[:, 2] > 0.05))

    @staticmethod
    def _face_index(face: np.ndarray, corners: np.ndarray) -> list[int]:
        return [int(np.argmin(np.abs(corners - p).sum(axis=1))) for p in face]

    def draw(
        self, frame: np.ndarray, fill: float, gain: float = 1.0
    ) -> tuple[int, int, int, int] | None:
        """Draw the box with `fill` (0..1) of its height in ballots; returns the bounds drawn.

        `gain` darkens the box like the room light around it. The last drawing is pasted again
        when fill, gain and the pixels under the box are as they were then.
        """
        if self.bounds is None:
            return None
        x0, y0, x1, y1 = self.bounds
        roi = frame[y0:y1, x0:x1]
        key = (fill, gain)
        cache = self._cache
        if cache is not None and cache[0] == key and cv2.norm(roi, cache[1], cv2.NORM_INF) == 0:
            np.copyto(roi, cache[2])
            return self.bounds
        before = roi.copy()
        self._paint(roi, fill, gain)
        self._cache = (key, before, roi.copy())
        return self.bounds

    def _colours(self, gain: float) -> dict[str, Any]:
        """The box's colours under `gain` (a view has one gain for its box: kept)."""
        c = self._shades.get(gain)
        if c is None:
            box = self.box
            c = {
                "stand": [shade(box.stand_color, k * gain) for _, k in self._stand],
                "back": shade(box.tint, 0.8 * gain),
                "paper": [shade(_PAPER, k * gain) for _, k in self._paper_faces],
                "lines": shade(_PAPER, 0.78 * gain),
                "tint": shade(box.tint, gain),
                "front": shade((245, 248, 250), gain),
                "slot": shade((35, 35, 40), gain),
                "seal": shade((40, 40, 190), gain),
            }
            self._shades[gain] = c
        return c

    def _paper_px(self, level: float) -> np.ndarray:
        """The paper block's corners in ROI pixels (fixed point) at `level` (kept per level)."""
        if self._paper_at is None or self._paper_at[0] != level:
            x0, y0 = self.bounds[:2] if self.bounds else (0, 0)
            cam_pts = np.vstack([self._paper_bottom, self._paper_bottom + level * self._paper_up])
            self._paper_at = (level, to_fixed(self.cam.camera_to_pixels(cam_pts), (x0, y0)))
        return self._paper_at[1]

    def _paint(self, roi: np.ndarray, fill: float, gain: float) -> None:
        colours = self._colours(gain)
        for (poly, _), colour in zip(self._stand, colours["stand"], strict=True):
            cv2.fillPoly(roi, [poly], colour, cv2.LINE_AA, SHIFT)
        cv2.polylines(roi, self._edges_back, False, colours["back"], 1, cv2.LINE_AA, SHIFT)
        level = min(max(fill, 0.0), 1.0)
        if level > 0 and self._paper_in_front:
            px = self._paper_px(level)
            for (idx, _), colour in zip(self._paper_faces, colours["paper"], strict=True):
                cv2.fillPoly(roi, [px[idx]], colour, cv2.LINE_AA, SHIFT)
            n = int(np.searchsorted(self._line_levels, level - 0.01))
            if n:
                cv2.polylines(
                    roi, self._paper_lines[:n], False, colours["lines"], 1, cv2.LINE_AA, SHIFT
                )
        overlay = roi.copy()
        cv2.fillPoly(overlay, self._tint, colours["tint"], cv2.LINE_AA, SHIFT)
        cv2.addWeighted(overlay, 0.2, roi, 0.8, 0.0, dst=roi)
        cv2.polylines(roi, self._edges_front, False, colours["front"], 1, cv2.LINE_AA, SHIFT)
        cv2.fillPoly(roi, self._slot, colours["slot"], cv2.LINE_AA, SHIFT)
        cv2.fillPoly(roi, self._seal, colours["seal"], cv2.LINE_AA, SHIFT)
