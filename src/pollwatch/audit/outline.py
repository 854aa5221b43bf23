"""Does the picture trace a box polygon's outline? Edge strength along a polygon.

`outline_support` is the whole outline's edge strength against the band around it;
`outline_coverage` asks it side by side, so that one strong edge of the room (a wall's foot,
a table's rim) lying under one side cannot stand for a box: a box shows edges along most of
its outline. Measured at 320 px on the simulator's rooms (azerbaijan-2024 seeds 61-66, demo
52-54 and 71-75; the baseline of every camera with a polygon and no reference image, and the
reference images): the box where the polygon says, coverage 0.65-1.0 (its near face's three
sides 4.8-10.5, the far top edges often faint, 0.6-5); the polygon of a camera turned away
from its first frame, 0.04-0.33, and 0.33 where one side lay on a room edge of support 11.7
(azerbaijan-2024 seed 65, cam-D056-013: whole-outline support 3.1, over the 2.5 that took it
for the box); the best `fit_polygon` place of a turned camera within 80 px, at most 0.41;
a camera nudged before it started recording, at the refitted place, 0.84-1.0.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import cv2
import numpy as np

from pollwatch.audit.geometry import polygon_mask

__all__ = ["area_support", "outline_below", "outline_coverage", "outline_support", "side_supports"]

_SIDE_FULL = 4.0  # a side whose edge is this many times its surround's counts in full
_MIN_SIDE_PX = 3.0  # shorter sides are not judged on their own


def _gradients(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = np.asarray(gray)
    return cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)


def _band(poly: np.ndarray, shape: tuple[int, ...], exclude: np.ndarray) -> np.ndarray:
    """The band around the polygon out to 1.8× its size, without `exclude`."""
    centre = poly.mean(axis=0)
    return polygon_mask(centre + (poly - centre) * 1.8, shape[:2]) & ~exclude


def outline_support(gray: np.ndarray, polygon: np.ndarray, search_px: int = 0) -> float:
    """How strongly the picture has edges along `polygon` (image pixels): the mean gradient
    magnitude on its 2-px outline over that in the band around it (out to 1.8× its size);
    with `search_px`, the best over the polygon moved up to that many pixels each way (a
    registered polygon may be a few pixels off)."""
    best = math.nan
    for ratio in _ratios(gray, polygon, search_px):
        if not math.isnan(ratio) and (math.isnan(best) or ratio > best):
            best = ratio
    return best


def outline_below(gray: np.ndarray, polygon: np.ndarray, level: float, search_px: int = 0) -> bool:
    """Whether `outline_support(gray, polygon, search_px)` is a number under `level`; the
    places are tried nearest first and the search stops at one that reaches `level` (a box
    in view mostly does at the first: 25 places cost 6 ms at 320x180, load 27)."""
    judged = False
    for ratio in _ratios(gray, polygon, search_px):
        if ratio >= level:
            return False
        judged = judged or not math.isnan(ratio)
    return judged


def _ratios(gray: np.ndarray, polygon: np.ndarray, search_px: int) -> Iterator[float]:
    """`_outline_ratio` at every place within `search_px` each way, nearest first."""
    magnitude = cv2.magnitude(*_gradients(gray))
    poly = np.asarray(polygon, dtype=float)
    steps = range(-search_px, search_px + 1)
    for dx, dy in sorted(itertools.product(steps, steps), key=lambda d: abs(d[0]) + abs(d[1])):
        yield _outline_ratio(magnitude, poly + np.array([dx, dy], float))


def _outline_ratio(magnitude: np.ndarray, poly: np.ndarray) -> float:
    outline = np.zeros(magnitude.shape[:2], np.uint8)
    cv2.polylines(outline, [np.round(poly).astype(np.int32)], True, 1, 2)
    on = outline.astype(bool)
    band = _band(poly, magnitude.shape, on)
    if not on.any() or not band.any():
        return math.nan
    return float(magnitude[on].mean() / (magnitude[band].mean() + 1e-6))


def side_supports(gray: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Per side of `polygon` (those at least 3 px long), the mean gradient across the side
    (along its normal) on its 2-px line over the mean gradient magnitude in the band around
    the polygon; empty when the polygon has no such side or no band in the picture."""
    gx, gy = _gradients(gray)
    poly = np.asarray(polygon, dtype=float)
    shape = gx.shape
    band = _band(poly, shape, polygon_mask(poly, shape))
    if not band.any():
        return np.zeros(0)
    surround = float(cv2.magnitude(gx, gy)[band].mean()) + 1e-6
    out = []
    for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        length = float(np.hypot(*(b - a)))
        if length < _MIN_SIDE_PX:
            continue
        normal = np.array([a[1] - b[1], b[0] - a[0]]) / length
        line = np.zeros(shape, np.uint8)
        cv2.line(line, tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int)), 1, 2)
        on = line.astype(bool)
        across = np.abs(gx[on] * normal[0] + gy[on] * normal[1]) if on.any() else np.zeros(1)
        out.append(float(across.mean()) / surround)
    return np.asarray(out, dtype=float)


def outline_coverage(gray: np.ndarray, polygon: np.ndarray) -> float:
    """How much of the polygon's outline the picture traces, side by side (0..1): the mean
    over its sides of min(1, side support / 4) (`side_supports`); 0 without a judged side."""
    sides = side_supports(gray, polygon)
    return float(np.minimum(sides / _SIDE_FULL, 1.0).mean()) if sides.size else 0.0


def area_support(gray: np.ndarray, polygon: np.ndarray, grow: float = 1.2) -> float:
    """The mean gradient magnitude over the polygon's area (grown `grow` times about its
    centre) over that of the whole picture: whether the polygon lies on something with
    more structure than the picture at large (a box: its rims, slot, seal, stand) or on a
    stretch of bare floor or wall. nan when the grown polygon covers no pixel."""
    magnitude = cv2.magnitude(*_gradients(gray))
    poly = np.asarray(polygon, dtype=float)
    centre = poly.mean(axis=0)
    area = polygon_mask(centre + (poly - centre) * grow, magnitude.shape[:2])
    if not area.any():
        return math.nan
    return float(magnitude[area].mean() / (magnitude.mean() + 1e-6))
