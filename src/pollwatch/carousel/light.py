"""The light at a camera's ballot box, read from the box's stand in the camera's empty view.

A voter's colours on camera are his clothes' colours times the light where he stands and the
camera's exposure, and these differ between polling stations (a room's light, the lens's fall
off towards the picture's edge, the exposure): one shirt's lightness moves by 10-20 Lab units
between two cameras, as much as between two shirts of one colour. The ballot box is the one
thing every station shows in the same colours, and its voter stands right behind it, so the
box's stand (the grey block below the transparent body, facing the camera) in the camera's
empty view gives the light there. `stand_level` reads it: the median luma of a patch just
below the box's outline, in its middle, when that patch is plain (a stand, not the floor's
pattern or the picture's edge). `light_factor` is the gain that brings it to a common level
(none when that gain is implausible: what was read is not the stand):
multiplied into a voter's crops, cameras become comparable (see docs/carousel.md,
"Session 11").
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_FACTOR", "STAND_LEVEL", "light_factor", "stand_level"]

#: the common level a stand is brought to (about the middle of the stands' luma on the
#: session 11 cameras, 74-82); only its being one constant matters
STAND_LEVEL = 76.0
#: a stand read this many times brighter or darker than `STAND_LEVEL` is something else: the
#: stands of 28 demo cameras (session 11) read 74-82 (factors 0.93-1.03); demo 116's
#: cam-D008-004 has a board hiding its box all day (read 217), and fresh demo 140's
#: cam-D006-001 no box in its empty view, only the floor's grey tiles (read 111: 0.69)
MAX_FACTOR = 1.25
_TOP, _BOTTOM = 0.06, 0.3  # the patch's rows below the outline, in box widths
_HALF_WIDTH = 0.2  # the patch's half width about the box's middle, in box widths
_MAX_SPREAD = 12.0  # a plain patch: its luma's interquartile range at most this (levels)
_MIN_PIXELS = 20
_LUMA = np.array([0.114, 0.587, 0.299])  # BGR → luma (ITU-R BT.601)


def stand_level(background: np.ndarray | None, box: np.ndarray | None) -> float | None:
    """The median luma of the box's stand in `background` (H×W×3 BGR, the empty view) below
    the box outline `box` ((K, 2) pixels); None when the patch is cut by the picture's edge,
    too small, or not plain."""
    if background is None or box is None:
        return None
    if background.ndim != 3 or background.shape[2] != 3:
        raise ValueError(f"background must be an HxWx3 BGR image, got {background.shape}")
    pts = np.asarray(box, np.float64).reshape(-1, 2)
    if not len(pts):
        raise ValueError("box must hold at least one point")
    (x0, _), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    width = x1 - x0
    r0, r1 = round(y1 + _TOP * width), round(y1 + _BOTTOM * width)
    c0, c1 = round((x0 + x1) / 2 - _HALF_WIDTH * width), round((x0 + x1) / 2 + _HALF_WIDTH * width)
    h, w = background.shape[:2]
    if r0 < 0 or c0 < 0 or r1 > h or c1 > w or (r1 - r0) * (c1 - c0) < _MIN_PIXELS:
        return None
    luma = background[r0:r1, c0:c1].reshape(-1, 3).astype(np.float64) @ _LUMA
    q1, med, q3 = np.quantile(luma, [0.25, 0.5, 0.75])
    if q3 - q1 > _MAX_SPREAD or med <= 0:
        return None
    return float(med)


def light_factor(
    level: float | None, reference: float = STAND_LEVEL, max_factor: float = MAX_FACTOR
) -> float:
    """The gain that brings a stand read at `level` to `reference`; 1 when the level is
    unknown or the gain would exceed `max_factor` either way (what was read is not the stand:
    the stands of 28 demo cameras are within 7% of one another)."""
    if not reference > 0:
        raise ValueError(f"reference must be positive, got {reference!r}")
    if not max_factor >= 1:
        raise ValueError(f"max_factor must be >= 1, got {max_factor!r}")
    if level is None:
        return 1.0
    factor = reference / level
    return factor if 1 / max_factor <= factor <= max_factor else 1.0
