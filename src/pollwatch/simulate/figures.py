"""Drawing people: a 3-D stick skeleton with body volume, projected and filled with cv2.

`Figure.build` poses a skeleton for an `Appearance` and a `Pose` in the person's own frame
(forward, right, up), projects every point with one matrix product, and prepares the parts
(legs, shoes, torso, arms, head, hat, bag, the reaching arm and the ballot in its hand) with a
pixel bounding box. `draw_body` and `draw_reach` paint them far to near; the reaching arm is
apart so the renderer can put it in front of the ballot box while the body stays behind it.
The torso, bag and hat brim are billboards across the line of sight, so a person seen from
the side keeps the width of their chest's depth.
"""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np

from pollwatch.simulate.camera_model import PinholeCamera
from pollwatch.simulate.drawing import SHIFT, shade
from pollwatch.simulate.motion import Pose
from pollwatch.simulate.plan import Appearance

__all__ = ["Figure", "FigurePalette"]

_SHOE = (32, 32, 36)
_PAPER = (242, 244, 246)
_BAG = (40, 48, 60)
_LEG_SWING = 0.4  # radians
_KNEE_FLEX = 0.75
_SEAT_Z = 0.47
_ONE = 1 << SHIFT
# the shadow's outline around the feet, metres (forward, right for build 1)
_SHADOW_RING = tuple(
    (0.2 * math.sin(2 * math.pi * k / 10), 0.28 * math.cos(2 * math.pi * k / 10)) for k in range(10)
)
_LIMIT = float(1 << 26)


Color = tuple[int, int, int]


class FigurePalette:
    """A person's colours under a given light level (cached per quantised gain)."""

    def __init__(self, look: Appearance, floor: Color = (128, 128, 128)) -> None:
        self.look = look
        self.floor = floor
        self._cache: dict[int, dict[str, tuple[int, int, int]]] = {}

    def at(self, gain: float) -> dict[str, tuple[int, int, int]]:
        key = round(gain * 64)
        c = self._cache.get(key)
        if c is None:
            g = key / 64
            lk = self.look
            c = {
                "shirt": shade(lk.shirt_bgr, g),
                "sleeve": shade(lk.shirt_bgr, 0.92 * g),
                "trousers": shade(lk.trousers_bgr, g),
                "legs": shade(lk.trousers_bgr, 0.95 * g),
                "skin": shade(lk.skin_bgr, g),
                "neck": shade(lk.skin_bgr, 0.85 * g),
                "hair": shade(lk.hair_bgr, g),
                "shoe": shade(_SHOE, g),
                "bag": shade(_BAG, g),
                "hat": shade(lk.hat_bgr, g) if lk.hat_bgr is not None else (0, 0, 0),
                "paper": shade(_PAPER, g),
                "paper_top": shade(_PAPER, 0.88 * g),
                "shadow": shade(self.floor, 0.72 * g),
            }
            self._cache[key] = c
        return c


def _smooth(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return u * u * (3 - 2 * u)


def _two_bone(
    s: np.ndarray, t: np.ndarray, a: float, b: float, bend: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Elbow and hand for a shoulder `s` reaching to `t` with bones a, b, bending towards `bend`."""
    d_vec = t - s
    norm = float(np.linalg.norm(d_vec))
    u = d_vec / max(norm, 1e-9)
    d = min(max(norm, 1e-6), 0.999 * (a + b))
    v = bend - float(np.dot(bend, u)) * u
    v /= max(float(np.linalg.norm(v)), 1e-9)
    cos_phi = (a * a + d * d - b * b) / (2 * a * d)
    phi = math.acos(min(max(cos_phi, -1.0), 1.0))
    return s + a * (math.cos(phi) * u + math.sin(phi) * v), s + d * u


def hand_path(u: float, rest: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """Hand position during a drop: rest → above the slot → into it (u = 0.5) → back to rest."""
    above = slot + np.array([0.0, 0.0, 0.19])
    into = slot + np.array([0.0, 0.0, 0.05])
    if u < 0.35:
        return rest + (above - rest) * _smooth(u / 0.35)
    if u < 0.5:
        return above + (into - above) * _smooth((u - 0.35) / 0.15)
    return into + (rest - into) * _smooth((u - 0.5) / 0.5)


class Figure:
    """One person's projected body for one frame."""

    __slots__ = ("_drawn", "bbox", "body", "extent", "reach", "shadow", "shadow_color", "x", "y")

    def __init__(self) -> None:
        self.bbox: tuple[int, int, int, int] | None = None
        self.extent: tuple[int, int, int, int] | None = None  # every pixel drawing may touch
        self.body: list[tuple] = []
        self.reach: list[tuple] = []
        self.shadow: np.ndarray | None = None
        self.shadow_color: Color = (0, 0, 0)
        self.x = self.y = 0.0
        self._drawn: tuple[np.ndarray, np.ndarray] | None = None  # extent before, after

    @property
    def has_reach(self) -> bool:
        return bool(self.reach)

    @classmethod
    def build(
        cls,
        cam: PinholeCamera,
        look: Appearance,
        pose: Pose,
        slot: np.ndarray | None,
        colors: dict[str, tuple[int, int, int]],
    ) -> Figure:
        """Pose the skeleton, project it and prepare the drawing (nothing is drawn yet)."""
        fig = cls()
        fig.x, fig.y = pose.x, pose.y
        h, build, sit = look.height_m, look.build, pose.sit
        cf, sf = math.cos(pose.facing), math.sin(pose.facing)
        # the line-of-sight "across" direction in the person's frame (for billboards)
        vx, vy = pose.x - cam.x, pose.y - cam.y
        vn = math.hypot(vx, vy) or 1.0
        ax_w, ay_w = -vy / vn, vx / vn
        acr_f, acr_r = ax_w * cf + ay_w * sf, ax_w * sf - ay_w * cf
        thigh, shin, torso_len = 0.245 * h, 0.235 * h, 0.345 * h
        hip_w, sh_w = 0.05 * h * build, 0.1 * h * build
        upper, fore = 0.17 * h, 0.2 * h
        swing = _LEG_SWING * math.sin(pose.gait_phase) if pose.walking else 0.0
        cosp = math.cos(pose.gait_phase) if pose.walking else 0.0
        legs = []
        for side, alpha, kappa in (
            (-1.0, swing, _KNEE_FLEX * max(0.0, cosp)),
            (1.0, -swing, _KNEE_FLEX * max(0.0, -cosp)),
        ):
            legs.append(
                (side, alpha + (math.pi / 2 - alpha) * sit, kappa + (math.pi / 2 - kappa) * sit)
            )
        stand_hip = max(thigh * math.cos(a) + shin * math.cos(a - k) for _, a, k in legs)
        hip_z = stand_hip + (_SEAT_Z - stand_hip) * sit
        hip_a = -0.12 * sit
        pts: list[tuple[float, float, float]] = []
        for side, alpha, kappa in legs:
            ka = hip_a + thigh * math.sin(alpha)
            kz = hip_z - thigh * math.cos(alpha)
            fa = ka + shin * math.sin(alpha - kappa)
            fz = kz - shin * math.cos(alpha - kappa)
            b = side * hip_w
            pts += [(hip_a, b, hip_z), (ka, b, kz), (fa, b, fz), (fa + 0.12, b, fz)]
        # upper body (shifted sideways by sway, forward by a lean towards the box)
        lean_a, lean_b = 0.0, pose.sway
        reach_local = None
        if pose.reach is not None and slot is not None:
            # rows: the person's forward, right and up axes in world coordinates
            axes = np.array([[cf, sf, 0.0], [sf, -cf, 0.0], [0.0, 0.0, 1.0]])
            base = np.array([pose.x, pose.y, 0.0])
            sh_world = base + axes.T @ np.array([hip_a, sh_w, hip_z + torso_len])
            rest = sh_world - (0.0, 0.0, 0.8 * (upper + fore)) + 0.08 * axes[0]
            target = hand_path(pose.reach, rest, slot)
            need = float(np.linalg.norm(target - sh_world)) - 0.97 * (upper + fore)
            local_t = axes @ (target - base)
            if need > 0:
                dirn = local_t[:2] - (hip_a, sh_w)
                dn = float(np.linalg.norm(dirn)) or 1.0
                lean_a += min(need, 0.25) * dirn[0] / dn
                lean_b += min(need, 0.25) * dirn[1] / dn
            reach_local = local_t
        sh_a, sh_z = hip_a + lean_a, hip_z + torso_len
        arm_swing = -0.6 * swing
        arms = []
        for side in (-1.0, 1.0):
            s = (sh_a, side * sh_w + lean_b, sh_z - 0.01 * h)
            if side > 0 and reach_local is not None:
                e, hnd = _two_bone(
                    np.array(s), reach_local, upper, fore, np.array([0.0, 0.5, -1.0])
                )
                el, hd = tuple(e), tuple(hnd)
            elif sit > 0.5:
                el = (s[0] + 0.25 * upper, s[1], s[2] - 0.97 * upper)
                hd = (el[0] + 0.95 * fore, el[1], el[2] - 0.3 * fore)
            else:
                g = side * arm_swing
                el = (s[0] + upper * math.sin(g), s[1] + 0.02 * side, s[2] - upper * math.cos(g))
                g2 = (
                    g
                    + 0.25
                    + (0.5 * max(0.0, math.sin(side * pose.gait_phase)) if pose.walking else 0.0)
                )
                hd = (el[0] + fore * math.sin(g2), el[1], el[2] - fore * math.cos(g2))
            arms.append(len(pts))
            pts += [s, el, hd]
        half = math.hypot(0.115 * h * build * acr_r, 0.07 * h * acr_f)
        waist = 0.85 * half
        hz = hip_z - 0.06
        ta = hip_a + 0.5 * lean_a
        torso = len(pts)
        pts += [
            (sh_a + half * acr_f, lean_b + half * acr_r, sh_z),
            (sh_a - half * acr_f, lean_b - half * acr_r, sh_z),
            (ta - waist * acr_f, 0.5 * lean_b - waist * acr_r, hz),
            (ta + waist * acr_f, 0.5 * lean_b + waist * acr_r, hz),
        ]
        pelvis = len(pts)
        for k, dz in ((0.55, 0.16), (-0.55, 0.16), (-0.4, -0.03), (0.4, -0.03)):
            pts.append((hip_a + k * waist * acr_f, k * waist * acr_r, hz + dz))
        neck = len(pts)
        pts += [(sh_a, lean_b, sh_z - 0.02), (sh_a, lean_b, sh_z + 0.04 * h)]
        head_z = sh_z + 0.1 * h
        head = len(pts)
        pts += [
            (sh_a + 0.014 * h, lean_b, head_z - 0.006 * h),
            (sh_a - 0.006 * h, lean_b, head_z + 0.008 * h),
        ]
        extras = len(pts)
        if look.hat_bgr is not None:
            top_z = head_z + 0.05 * h
            pts += [
                (sh_a, lean_b, top_z),
                (sh_a + 0.11 * acr_f, lean_b + 0.11 * acr_r, top_z - 0.02 * h),
                (sh_a - 0.11 * acr_f, lean_b - 0.11 * acr_r, top_z - 0.02 * h),
            ]
        bag = len(pts)
        if look.has_bag:
            bb, bz = 0.16 * h * build, hip_z + 0.04
            for k, dz in ((1, 0.12), (-1, 0.12), (-1, -0.12), (1, -0.12)):
                pts.append((hip_a + 0.13 * k * acr_f, bb + 0.13 * k * acr_r, bz + dz))
            pts.append((hip_a, bb, bz))
        ballot = len(pts)
        if reach_local is not None and pose.reach is not None and pose.reach < 0.5:
            pts += _ballot_corners(tuple(pts[arms[1] + 2]), float(slot[2]), pose.ballots)  # type: ignore[index]
        shadow = len(pts)
        pts += [(a, build * b, 0.0) for a, b in _SHADOW_RING]
        # person frame → pixels in one product: (u·z, v·z, z) = local · M + offset
        (p00, p01, p02, p03), (p10, p11, p12, p13), (p20, p21, p22, p23) = cam.projection_rows
        x, y = pose.x, pose.y
        # rows: the matrix M (3 rows), then the offset
        m = np.array(
            (
                cf * p00 + sf * p01,
                cf * p10 + sf * p11,
                cf * p20 + sf * p21,
                sf * p00 - cf * p01,
                sf * p10 - cf * p11,
                sf * p20 - cf * p21,
                p02,
                p12,
                p22,
                p00 * x + p01 * y + p03,
                p10 * x + p11 * y + p13,
                p20 * x + p21 * y + p23,
            )
        ).reshape(4, 3)
        # from an iterator of floats: a quarter of what np.array costs on a list of tuples
        flat = np.fromiter(itertools.chain.from_iterable(pts), np.float64, 3 * len(pts))
        uvz = flat.reshape(-1, 3) @ m[:3]
        uvz += m[3]
        zl = uvz[:, 2].tolist()
        if min(zl[:shadow]) <= 0.1:
            return fig
        px = uvz[:, :2] / uvz[:, 2:]
        (lo, lo_shadow), (hi, hi_shadow) = (
            np.minimum.reduceat(px, (0, shadow)).tolist(),
            np.maximum.reduceat(px, (0, shadow)).tolist(),
        )
        ppm = cam.focal_px / zl[torso]
        margin = 0.15 * ppm + 2
        x0, y0 = max(int(lo[0] - margin), 0), max(int(lo[1] - margin), 0)
        x1, y1 = min(int(hi[0] + margin) + 1, cam.width), min(int(hi[1] + margin) + 1, cam.height)
        if x0 >= x1 or y0 >= y1:
            return fig
        fig.bbox = (x0, y0, x1, y1)
        fixed = px * _ONE
        low = _ONE * min(lo[0], lo[1], lo_shadow[0], lo_shadow[1])
        high = _ONE * max(hi[0], hi[1], hi_shadow[0], hi_shadow[1])
        if not (low >= -_LIMIT and high <= _LIMIT):  # clip is slow on small arrays: if needed
            fixed = fixed.clip(-_LIMIT, _LIMIT)
        fixed = fixed.astype(np.int32)
        if min(zl[shadow:]) > 0.1:
            fig.shadow = fixed[shadow:]
            fig.shadow_color = colors["shadow"]
            lo = [min(lo[0], lo_shadow[0]), min(lo[1], lo_shadow[1])]
            hi = [max(hi[0], hi_shadow[0]), max(hi[1], hi_shadow[1])]
        tz = zl[torso] + 0.01
        face_first = zl[head] > zl[head + 1]  # face farther than the back of the head
        # (depth, kind, points, colour, width in metres); kinds: 0 polylines (points: runs of
        # consecutive points as (first, end) each), 1 a filled polygon (points: first, end),
        # 2 a disc around one point (its index)
        body: list[tuple] = [
            # both legs share colour and width, so their order does not matter: one call each
            (min(zl[1], zl[5]), 0, ((0, 3), (4, 7)), "legs", 0.13 * build),
            (min(zl[2], zl[6]) - 0.001, 0, ((2, 4), (6, 8)), "shoe", 0.07),
            (tz + 0.002, 1, (pelvis, pelvis + 4), "trousers", 0.0),
            (tz, 1, (torso, torso + 4), "shirt", 0.0),
            (tz - 0.001, 0, ((neck, neck + 2),), "neck", 0.06 * build),
            # the head is drawn over the torso, its far side first
            (tz - 0.003 - 0.0005 * (not face_first), 2, head, "skin", 0.055 * h),
            (tz - 0.003 - 0.0005 * face_first, 2, head + 1, "hair", 0.058 * h),
        ]
        if look.hat_bgr is not None:
            body.append((tz - 0.005, 2, extras, "hat", 0.05 * h))
            body.append((tz - 0.006, 0, ((extras + 1, extras + 3),), "hat", 0.03))
        if look.has_bag:
            body.append((zl[bag + 4], 1, (bag, bag + 4), "bag", 0.0))
        reach: list[tuple] = []
        for side, ai in enumerate(arms):
            target = reach if (side == 1 and reach_local is not None) else body
            target.append((zl[ai + 1], 0, ((ai, ai + 3),), "sleeve", 0.08 * build))
            target.append((zl[ai + 2] - 0.001, 2, ai + 2, "skin", 0.045))
        for j in range(ballot, shadow, 4):
            colour = "paper" if j == ballot else "paper_top"
            reach.append((zl[ballot] - 0.01 - 0.001 * j, 1, (j, j + 4), colour, 0.0))
        body.sort(key=_depth, reverse=True)  # far to near; stable for equal depths
        reach.sort(key=_depth, reverse=True)
        fig.body, pad_body = _prepared(body, fixed, ppm, colors)
        fig.reach, pad_reach = _prepared(reach, fixed, ppm, colors)
        # what drawing touches: every point used, grown by the widest line or disc
        pad = max(pad_body, pad_reach)
        fig.extent = (
            min(max(math.floor(lo[0] - pad), 0), x0),
            min(max(math.floor(lo[1] - pad), 0), y0),
            max(min(math.ceil(hi[0] + pad) + 1, cam.width), x1),
            max(min(math.ceil(hi[1] + pad) + 1, cam.height), y1),
        )
        return fig

    def draw_shadow(self, frame: np.ndarray) -> None:
        """The soft shadow on the floor around the feet, in the floor's shaded colour."""
        if self.shadow is not None:
            cv2.fillPoly(frame, [self.shadow], self.shadow_color, cv2.LINE_AA, SHIFT)

    def draw_body(self, frame: np.ndarray, *, reuse: bool = False) -> None:
        """Paint the shadow and every part but the reaching arm, far to near.

        With `reuse` (a figure drawn again in later frames) the pixels drawn are kept, and
        pasted instead of drawing again while the pixels under the figure are as they were.
        """
        if self.bbox is None or self.extent is None:
            return
        if not reuse:
            self.draw_shadow(frame)
            _paint(frame, self.body)
            return
        x0, y0, x1, y1 = self.extent
        roi = frame[y0:y1, x0:x1]
        drawn = self._drawn
        if drawn is not None and cv2.norm(roi, drawn[0], cv2.NORM_INF) == 0:
            np.copyto(roi, drawn[1])
            return
        before = roi.copy()
        self.draw_shadow(frame)
        _paint(frame, self.body)
        self._drawn = (before, roi.copy())

    def draw_reach(self, frame: np.ndarray) -> None:
        """Paint the reaching arm and the ballot in its hand."""
        if self.bbox is not None:
            _paint(frame, self.reach)


def _ballot_corners(
    hand: tuple[float, float, float], slot_z: float, ballots: int
) -> list[tuple[float, float, float]]:
    """The paper held below the hand (person's frame), cut at the lid; a bundle also has a top."""
    a, b, hz = hand
    top, bottom = hz - 0.01, max(hz - 0.15, slot_z)
    thick = min(0.004 + 0.0025 * (ballots - 1), 0.09)
    front = a + 0.5 * thick
    quad = [
        (front, b - 0.05, top),
        (front, b + 0.05, top),
        (front, b + 0.05, bottom),
        (front, b - 0.05, bottom),
    ]
    if ballots <= 1:
        return quad
    back = a - 0.5 * thick
    return [
        *quad,
        (front, b - 0.05, top),
        (front, b + 0.05, top),
        (back, b + 0.05, top),
        (back, b - 0.05, top),
    ]


def _depth(part: tuple) -> float:
    return part[0]


def _prepared(
    parts: list[tuple], fixed: np.ndarray, ppm: float, colors: dict[str, Color]
) -> tuple[list[tuple], float]:
    """Parts as (kind, points, colour, size, line type), ready for cv2, and how far drawing
    them reaches beyond their points (pixels: half the widest line or the largest radius, and
    two for anti-aliasing)."""
    out = []
    pad = 2.0
    points = None
    for _, kind, idx, colour_key, width in parts:
        color = colors[colour_key]
        if kind == 0:
            size = max(1, round(width * ppm))
            pad = max(pad, size / 2 + 2)
            # thick limbs are drawn without anti-aliasing: as good after compression, faster
            line_type = cv2.LINE_AA if size < 5 else cv2.LINE_8
            out.append((0, [fixed[a:b] for a, b in idx], color, size, line_type))
        elif kind == 1:
            out.append((1, [fixed[idx[0] : idx[1]]], color, 0, cv2.LINE_AA))
        else:
            radius = max(round(width * ppm * _ONE), _ONE // 2)
            pad = max(pad, radius / _ONE + 2)
            if points is None:
                points = fixed.tolist()
            out.append((2, tuple(points[idx]), color, radius, cv2.LINE_AA))
    return out, pad


def _paint(frame: np.ndarray, parts: list[tuple]) -> None:
    for kind, pts, color, size, line_type in parts:
        if kind == 0:
            cv2.polylines(frame, pts, False, color, size, line_type, SHIFT)
        elif kind == 1:
            cv2.fillPoly(frame, pts, color, line_type, SHIFT)
        else:
            cv2.circle(frame, pts, size, color, -1, line_type, SHIFT)
