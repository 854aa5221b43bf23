"""The static room as one camera sees it: walls, floor, door, table, chairs, booths, props.

`room_look(seed, ...)` picks one camera's small variations (colours, camera pose, furniture
offsets); `StaticView.build(look, camera, door_open=..., occluder=...)` draws everything that does
not move into a background image and cuts every furniture piece that can hide a person into a
`Sprite` (its pixels, a mask and its floor footprint), so the per-frame renderer can paste it back
over a person standing behind it (painter's order, far to near).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from pollwatch.simulate import room
from pollwatch.simulate.ballot_box import BoxGeometry
from pollwatch.simulate.camera_model import PinholeCamera
from pollwatch.simulate.drawing import cuboid, fill_poly3d, line3d, shade

__all__ = ["WALL_HEIGHT_M", "Prop", "RoomLook", "Sprite", "StaticView", "room_look"]

WALL_HEIGHT_M = 3.0
Color = tuple[int, int, int]

_WALLS: tuple[Color, ...] = (
    (200, 222, 232),
    (192, 216, 198),
    (226, 212, 190),
    (205, 205, 202),
    (178, 226, 236),
)
_FLOORS: tuple[Color, ...] = ((138, 160, 178), (125, 128, 126), (68, 98, 138), (140, 126, 112))
_CLOTHS: tuple[Color, ...] = ((40, 40, 150), (128, 62, 32), (48, 100, 42), (52, 32, 108))
_CURTAINS: tuple[Color, ...] = ((98, 52, 30), (42, 32, 112), (108, 108, 104), (60, 92, 40))
_FLAGS: tuple[tuple[Color, Color, Color], ...] = (
    ((255, 255, 255), (160, 60, 0), (30, 30, 200)),
    ((200, 140, 40), (40, 40, 200), (60, 140, 40)),
    ((40, 40, 200), (240, 240, 240), (40, 140, 60)),
)


@dataclass(frozen=True)
class RoomLook:
    """One camera's variations: colours, where the camera hangs, small furniture offsets."""

    camera: PinholeCamera
    wall: Color
    floor: Color
    cloth: Color
    curtain: Color
    chair: Color
    door: Color
    flag: tuple[Color, Color, Color]
    table_dx: float
    table_dy: float
    box: BoxGeometry
    occluder_kind: int  # 0: whiteboard on an easel, 1: folding screen
    poster_colors: tuple[Color, ...]


def _jitter(rng: np.random.Generator, c: Color, amount: int = 10) -> Color:
    j = rng.integers(-amount, amount + 1, size=3)
    return tuple(int(np.clip(v + d, 0, 255)) for v, d in zip(c, j, strict=True))  # type: ignore[return-value]


def room_look(seed: int, width: int, height: int) -> RoomLook:
    """The per-camera variations drawn from `seed` (deterministic)."""
    rng = np.random.default_rng([seed, 0x5CE9E])
    camera = PinholeCamera(
        x=room.WIDTH / 2 + rng.uniform(-0.3, 0.3),
        y=0.05,
        z=2.75 + rng.uniform(-0.12, 0.12),
        yaw_deg=rng.uniform(-3.0, 3.0),
        pitch_deg=27.5 + rng.uniform(-2.0, 2.0),
        roll_deg=rng.uniform(-1.0, 1.0),
        hfov_deg=84.0 + rng.uniform(-4.0, 4.0),
        width=width,
        height=height,
    )
    box = BoxGeometry(
        x=room.BOX.x + rng.uniform(-0.05, 0.05),
        y=room.BOX.y - 0.45 + rng.uniform(-0.05, 0.03),
        tint=_jitter(rng, (235, 225, 215), 12),
    )
    return RoomLook(
        camera=camera,
        wall=_jitter(rng, _WALLS[rng.integers(len(_WALLS))]),
        floor=_jitter(rng, _FLOORS[rng.integers(len(_FLOORS))]),
        cloth=_jitter(rng, _CLOTHS[rng.integers(len(_CLOTHS))]),
        curtain=_jitter(rng, _CURTAINS[rng.integers(len(_CURTAINS))]),
        chair=_jitter(rng, (60, 60, 64), 20),
        door=_jitter(rng, (50, 90, 130), 15),
        flag=_FLAGS[rng.integers(len(_FLAGS))],
        table_dx=rng.uniform(-0.15, 0.15),
        table_dy=rng.uniform(-0.05, 0.1),
        box=box,
        occluder_kind=int(rng.integers(2)),
        poster_colors=tuple(_jitter(rng, (200, 200, 200), 55) for _ in range(8)),
    )


DrawFn = Callable[[np.ndarray, PinholeCamera], None]


@dataclass(frozen=True)
class Prop:
    """A static piece of furniture: how to draw it and the floor area it stands on."""

    name: str
    footprint: tuple[tuple[float, float], ...]  # convex floor polygon, metres
    draw: DrawFn

    def distance(self, camera: PinholeCamera) -> float:
        """Floor distance from the camera to the footprint's nearest corner (painter's order)."""
        return min(camera.floor_distance(x, y) for x, y in self.footprint)


@dataclass(frozen=True)
class Sprite:
    """A prop's pixels in one view: paste `patch` where `mask` over [y0:y1, x0:x1]."""

    name: str
    footprint: tuple[tuple[float, float], ...]
    x0: int
    y0: int
    patch: np.ndarray
    mask: np.ndarray

    @property
    def x1(self) -> int:
        return self.x0 + self.patch.shape[1]

    @property
    def y1(self) -> int:
        return self.y0 + self.patch.shape[0]

    @cached_property
    def bounds(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in pixels."""
        return self.x0, self.y0, self.x1, self.y1

    def paste(self, frame: np.ndarray, region: tuple[int, int, int, int] | None = None) -> None:
        """Draw the prop over whatever is in `frame` below it, within `region` (x0, y0, x1, y1)."""
        x0, y0, x1, y1 = self.x0, self.y0, self.x1, self.y1
        if region is not None:
            x0, y0 = max(x0, region[0]), max(y0, region[1])
            x1, y1 = min(x1, region[2]), min(y1, region[3])
            if x0 >= x1 or y0 >= y1:
                return
        sy, sx = slice(y0 - self.y0, y1 - self.y0), slice(x0 - self.x0, x1 - self.x0)
        cv2.copyTo(self.patch[sy, sx], self.mask[sy, sx], frame[y0:y1, x0:x1])


def _rect(x0: float, x1: float, y0: float, y1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


# ---------------------------------------------------------------- walls, floor, door


def _draw_shell(img: np.ndarray, cam: PinholeCamera, look: RoomLook, door_open: bool) -> None:
    w, d, h = room.WIDTH, room.DEPTH, WALL_HEIGHT_M
    img[:] = shade(look.wall, 0.6)
    fill_poly3d(img, cam, [(0, 0, h), (w, 0, h), (w, d, h), (0, d, h)], shade(look.wall, 1.08))
    fill_poly3d(img, cam, [(0, 0, 0), (w, 0, 0), (w, d, 0), (0, d, 0)], look.floor)
    tile = shade(look.floor, 0.86)
    for x in np.arange(0.5, w, 0.5):
        line3d(img, cam, (x, 0, 0), (x, d, 0), tile)
    for y in np.arange(0.5, d, 0.5):
        line3d(img, cam, (0, y, 0), (w, y, 0), tile)
    far, side = look.wall, shade(look.wall, 0.9)
    fill_poly3d(img, cam, [(0, d, 0), (w, d, 0), (w, d, h), (0, d, h)], far)
    fill_poly3d(img, cam, [(0, 0, 0), (0, d, 0), (0, d, h), (0, 0, h)], side)
    fill_poly3d(img, cam, [(w, 0, 0), (w, d, 0), (w, d, h), (w, 0, h)], shade(look.wall, 0.95))
    skirting = shade(look.floor, 0.6)
    fill_poly3d(img, cam, [(0, d, 0), (w, d, 0), (w, d, 0.1), (0, d, 0.1)], skirting)
    fill_poly3d(img, cam, [(0, 0, 0), (0, d, 0), (0, d, 0.1), (0, 0, 0.1)], skirting)
    fill_poly3d(img, cam, [(w, 0, 0), (w, d, 0), (w, d, 0.1), (w, 0, 0.1)], skirting)
    edge = shade(look.wall, 0.75)
    line3d(img, cam, (0, d, 0), (0, d, h), edge)
    line3d(img, cam, (w, d, 0), (w, d, h), edge)
    _draw_far_wall(img, cam, look)
    _draw_door(img, cam, look, door_open)


def _draw_far_wall(img: np.ndarray, cam: PinholeCamera, look: RoomLook) -> None:
    d = room.DEPTH - 0.005
    # window with blinds on the right of the far wall
    fill_poly3d(
        img, cam, [(5.7, d, 0.85), (7.5, d, 0.85), (7.5, d, 2.35), (5.7, d, 2.35)], (90, 90, 95)
    )
    fill_poly3d(
        img,
        cam,
        [(5.78, d, 0.92), (7.42, d, 0.92), (7.42, d, 2.28), (5.78, d, 2.28)],
        (238, 232, 222),
    )
    for z in np.arange(0.98, 2.28, 0.09):
        line3d(img, cam, (5.78, d, z), (7.42, d, z), (205, 200, 192))
    line3d(img, cam, (6.6, d, 0.92), (6.6, d, 2.28), (90, 90, 95), 2)
    # information stand with candidate posters on the left
    fill_poly3d(
        img, cam, [(0.7, d, 0.9), (2.3, d, 0.9), (2.3, d, 2.1), (0.7, d, 2.1)], (70, 110, 150)
    )
    for i, c in enumerate(look.poster_colors):
        x0 = 0.78 + (i % 4) * 0.38
        z0 = 1.52 if i < 4 else 0.98
        fill_poly3d(
            img,
            cam,
            [(x0, d, z0), (x0 + 0.32, d, z0), (x0 + 0.32, d, z0 + 0.5), (x0, d, z0 + 0.5)],
            c,
        )
        fill_poly3d(
            img,
            cam,
            [
                (x0 + 0.08, d, z0 + 0.22),
                (x0 + 0.24, d, z0 + 0.22),
                (x0 + 0.24, d, z0 + 0.44),
                (x0 + 0.08, d, z0 + 0.44),
            ],
            shade(c, 0.55),
        )
    # flag behind the commission, a clock
    fx = 3.35 + look.table_dx
    for i, c in enumerate(look.flag):
        z1 = 2.45 - i * 0.2
        fill_poly3d(
            img,
            cam,
            [(fx, d, z1 - 0.2), (fx + 0.75, d, z1 - 0.2), (fx + 0.75, d, z1), (fx, d, z1)],
            c,
        )
    line3d(img, cam, (fx, d, 1.4), (fx, d, 2.5), (40, 40, 40), 2)
    cx, cz = 4.9, 2.55
    ring = [
        (cx + 0.16 * math.cos(a), d, cz + 0.16 * math.sin(a))
        for a in np.linspace(0, 2 * math.pi, 20, endpoint=False)
    ]
    fill_poly3d(img, cam, ring, (245, 245, 245))
    line3d(img, cam, (cx, d, cz), (cx, d, cz + 0.11), (20, 20, 20), 2)
    line3d(img, cam, (cx, d, cz), (cx + 0.08, d, cz - 0.04), (20, 20, 20), 2)


def _draw_door(img: np.ndarray, cam: PinholeCamera, look: RoomLook, door_open: bool) -> None:
    y0, y1, top = room.ENTRANCE.y - 0.5, room.ENTRANCE.y + 0.5, 2.1
    x = 0.005
    frame = shade(look.door, 0.6)
    fill_poly3d(
        img,
        cam,
        [
            (x, y0 - 0.07, 0),
            (x, y1 + 0.07, 0),
            (x, y1 + 0.07, top + 0.07),
            (x, y0 - 0.07, top + 0.07),
        ],
        frame,
    )
    if not door_open:
        fill_poly3d(img, cam, [(x, y0, 0), (x, y1, 0), (x, y1, top), (x, y0, top)], look.door)
        fill_poly3d(
            img,
            cam,
            [(x, y0 + 0.1, 0.9), (x, y0 + 0.2, 0.9), (x, y0 + 0.2, 1.0), (x, y0 + 0.1, 1.0)],
            (170, 170, 175),
        )
        return
    fill_poly3d(img, cam, [(x, y0, 0), (x, y1, 0), (x, y1, top), (x, y0, top)], (58, 62, 66))
    fill_poly3d(img, cam, [(x, y0, 0), (x, y1, 0), (x, y1, 0.35), (x, y0, 0.35)], (95, 100, 105))
    angle = math.radians(78)
    free = (math.sin(angle) * (y1 - y0), y1 - math.cos(angle) * (y1 - y0))
    leaf = [(0.02, y1, 0), (free[0], free[1], 0), (free[0], free[1], top), (0.02, y1, top)]
    fill_poly3d(img, cam, leaf, shade(look.door, 0.85))


# ---------------------------------------------------------------- furniture


def _table_rect(look: RoomLook) -> tuple[float, float, float, float]:
    x0 = room.TABLE.x - 1.2 + look.table_dx
    y0 = room.TABLE.y + 0.3 + look.table_dy
    return x0, x0 + 3.2, y0, y0 + 0.55


def _draw_table(img: np.ndarray, cam: PinholeCamera, look: RoomLook) -> None:
    x0, x1, y0, y1 = _table_rect(look)
    cuboid(img, cam, (x0, x1, y0, y1, 0.0, 0.76), look.cloth)
    rng = np.random.default_rng(7)
    for i in range(7):
        px = x0 + 0.2 + i * 0.43 + rng.uniform(-0.05, 0.05)
        py = y0 + rng.uniform(0.08, 0.25)
        paper = [
            (px, py, 0.762),
            (px + 0.21, py, 0.762),
            (px + 0.21, py + 0.28, 0.762),
            (px, py + 0.28, 0.762),
        ]
        fill_poly3d(img, cam, paper, (238, 240, 242) if i % 3 else (200, 215, 225))
    for px in (x0 + 0.6, x0 + 1.9):
        cuboid(img, cam, (px, px + 0.2, y0 + 0.1, y0 + 0.38, 0.76, 0.86), (232, 236, 238))
    cuboid(img, cam, (x1 - 0.6, x1 - 0.25, y0 + 0.2, y0 + 0.45, 0.76, 0.79), (45, 45, 48))


def _draw_chair(
    img: np.ndarray,
    cam: PinholeCamera,
    look: RoomLook,
    seat: room.Point,
    facing: tuple[float, float],
) -> None:
    fx, fy = facing
    lx, ly = fy, -fx  # the sitter's right
    cx, cy = seat.x - 0.08 * fx, seat.y - 0.08 * fy

    def pt(f: float, r: float, z: float) -> tuple[float, float, float]:
        return (cx + f * fx + r * lx, cy + f * fy + r * ly, z)

    for f, r in ((0.18, 0.2), (0.18, -0.2), (-0.2, 0.2), (-0.2, -0.2)):
        line3d(img, cam, pt(f, r, 0), pt(f, r, 0.45), shade(look.chair, 0.6), 2)
    fill_poly3d(
        img,
        cam,
        [pt(0.2, 0.22, 0.46), pt(0.2, -0.22, 0.46), pt(-0.22, -0.22, 0.46), pt(-0.22, 0.22, 0.46)],
        look.chair,
    )
    fill_poly3d(
        img,
        cam,
        [
            pt(-0.22, 0.22, 0.46),
            pt(-0.22, -0.22, 0.46),
            pt(-0.25, -0.22, 0.95),
            pt(-0.25, 0.22, 0.95),
        ],
        shade(look.chair, 0.85),
    )


def _chair_back(seat: room.Point, facing: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    fx, fy = facing
    lx, ly = fy, -fx
    cx, cy = seat.x - 0.33 * fx, seat.y - 0.33 * fy
    return tuple(
        (cx + a * fx + b * lx, cy + a * fy + b * ly)
        for a, b in ((-0.04, -0.23), (0.04, -0.23), (0.04, 0.23), (-0.04, 0.23))
    )


BOOTH_FRONT_X = 6.75


def _booth_rect(i: int) -> tuple[float, float, float, float]:
    b = room.BOOTHS[i]
    return BOOTH_FRONT_X, room.WIDTH - 0.05, b.y - 0.45, b.y + 0.45


def _draw_booth(img: np.ndarray, cam: PinholeCamera, look: RoomLook, i: int) -> None:
    x0, x1, y0, y1 = _booth_rect(i)
    panel = (222, 224, 226)
    for y in (y0, y1):
        fill_poly3d(
            img, cam, [(x0, y, 0.3), (x1, y, 0.3), (x1, y, 2.0), (x0, y, 2.0)], shade(panel, 0.92)
        )
        line3d(img, cam, (x0, y, 0), (x0, y, 2.2), (70, 70, 70), 2)
    fill_poly3d(img, cam, [(x0, y0, 1.95), (x0, y1, 1.95), (x0, y1, 2.22), (x0, y0, 2.22)], panel)
    fill_poly3d(
        img,
        cam,
        [(x0, y0 + 0.3, 2.02), (x0, y1 - 0.3, 2.02), (x0, y1 - 0.3, 2.15), (x0, y0 + 0.3, 2.15)],
        look.flag[1],
    )
    folds = np.linspace(y0, y1, 10)
    for k, (ya, yb) in enumerate(itertools.pairwise(folds)):
        colour = look.curtain if k % 2 else shade(look.curtain, 0.8)
        fill_poly3d(
            img,
            cam,
            [
                (x0 - 0.01, ya, 0.45),
                (x0 - 0.01, yb, 0.45),
                (x0 - 0.01, yb, 1.95),
                (x0 - 0.01, ya, 1.95),
            ],
            colour,
        )
    line3d(img, cam, (x0 - 0.02, y0, 1.96), (x0 - 0.02, y1, 1.96), (80, 80, 80), 2)


def _draw_occluder(img: np.ndarray, cam: PinholeCamera, look: RoomLook) -> None:
    b = look.box
    y = b.y - b.depth / 2 - 0.16
    x0, x1 = b.x - 0.6, b.x + 0.6
    if look.occluder_kind == 0:  # whiteboard on an easel
        for xl in (x0 + 0.12, x1 - 0.12):
            line3d(img, cam, (xl, y + 0.05, 0), (xl, y, 1.95), (60, 60, 60), 3)
        fill_poly3d(
            img, cam, [(x0, y, 0.35), (x1, y, 0.35), (x1, y, 1.9), (x0, y, 1.9)], (110, 110, 115)
        )
        fill_poly3d(
            img,
            cam,
            [
                (x0 + 0.03, y - 0.005, 0.38),
                (x1 - 0.03, y - 0.005, 0.38),
                (x1 - 0.03, y - 0.005, 1.87),
                (x0 + 0.03, y - 0.005, 1.87),
            ],
            (236, 238, 240),
        )
        for k, c in enumerate(look.poster_colors[:3]):
            z = 1.6 - k * 0.35
            line3d(
                img, cam, (x0 + 0.15, y - 0.01, z), (x1 - 0.3, y - 0.01, z - 0.05), shade(c, 0.5), 2
            )
    else:  # three-panel folding screen
        xs = np.linspace(x0, x1, 4)
        for k, (xa, xb) in enumerate(itertools.pairwise(xs)):
            ya, yb = (y, y - 0.12) if k % 2 == 0 else (y - 0.12, y)
            colour = look.curtain if k % 2 else shade(look.curtain, 0.8)
            fill_poly3d(
                img, cam, [(xa, ya, 0.05), (xb, yb, 0.05), (xb, yb, 1.9), (xa, ya, 1.9)], colour
            )
            line3d(img, cam, (xa, ya, 0.0), (xa, ya, 1.92), (50, 50, 50), 2)


def _occluder_rect(look: RoomLook) -> tuple[float, float, float, float]:
    b = look.box
    y = b.y - b.depth / 2 - 0.16
    return b.x - 0.6, b.x + 0.6, y - 0.14, y + 0.06


def _props(look: RoomLook, occluder: bool) -> list[Prop]:
    props = [
        Prop("table", _rect(*_table_rect(look)), lambda im, c: _draw_table(im, c, look)),
    ]
    for i in range(len(room.BOOTHS)):
        props.append(
            Prop(
                f"booth{i}", _rect(*_booth_rect(i)), lambda im, c, i=i: _draw_booth(im, c, look, i)
            )
        )
    for i, seat in enumerate(room.COMMISSION_SEATS):
        seat_shifted = room.Point(seat.x + look.table_dx, seat.y)
        props.append(
            Prop(
                f"chair_c{i}",
                _chair_back(seat_shifted, (0.0, -1.0)),
                lambda im, c, s=seat_shifted: _draw_chair(im, c, look, s, (0.0, -1.0)),
            )
        )
    for i, seat in enumerate(room.OBSERVER_SEATS):
        props.append(
            Prop(
                f"chair_o{i}",
                _chair_back(seat, (1.0, 0.0)),
                lambda im, c, s=seat: _draw_chair(im, c, look, s, (1.0, 0.0)),
            )
        )
    if occluder:
        props.append(
            Prop(
                "occluder", _rect(*_occluder_rect(look)), lambda im, c: _draw_occluder(im, c, look)
            )
        )
    return props


def _lighting(cam: PinholeCamera) -> np.ndarray:
    """Lens vignetting and uneven ceiling light as a per-pixel gain (H, W, 1) float32."""
    return _lighting_of_size(cam.height, cam.width)


@functools.lru_cache(maxsize=4)
def _lighting_of_size(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (w / 2)) ** 2
    gain = (1.0 - 0.2 * r2 - 0.06 * (1 - yy / h))[..., None].astype(np.float32)
    gain.setflags(write=False)
    return gain


@dataclass(frozen=True)
class StaticView:
    """Everything still in one view: the background image and the props that can hide people."""

    camera: PinholeCamera
    background: np.ndarray  # (H, W, 3) uint8 BGR, lighting baked in
    sprites: tuple[Sprite, ...]  # far to near
    lighting: np.ndarray  # (H, W, 1) float32 gain, for shading what moves

    @classmethod
    def build(
        cls,
        look: RoomLook,
        camera: PinholeCamera,
        *,
        door_open: bool = False,
        occluder: bool = False,
        masks: dict[str, tuple[int, int, np.ndarray] | None] | None = None,
    ) -> StaticView:
        """Draw the room for `camera` (which may be `look.camera` turned by a sabotage).

        `masks` keeps the props' masks (they do not depend on the door) for other views
        with the same camera: pass the same dict for each.
        """
        h, w = camera.height, camera.width
        img = np.empty((h, w, 3), np.uint8)
        _draw_shell(img, camera, look, door_open)
        props = sorted(_props(look, occluder), key=lambda p: -p.distance(camera))
        if masks is None:
            masks = {}
        black = white = None
        for p in props:
            p.draw(img, camera)
            if p.name not in masks:
                if black is None or white is None:
                    black, white = np.empty_like(img), np.empty_like(img)
                m = _paint_mask(p, camera, black, white)
                x0, y0, mw, mh = cv2.boundingRect(m)
                masks[p.name] = (x0, y0, m[y0 : y0 + mh, x0 : x0 + mw].copy()) if mw else None
        lighting = _lighting(camera)
        lit = np.clip(img.astype(np.float32) * lighting, 0, 255).astype(np.uint8)
        sprites = []
        for p in props:
            cut = masks[p.name]
            if cut is None:
                continue
            x0, y0, mask = cut
            patch = lit[y0 : y0 + mask.shape[0], x0 : x0 + mask.shape[1]].copy()
            sprites.append(Sprite(p.name, p.footprint, x0, y0, patch, mask))
        lit.setflags(write=False)
        return cls(camera, lit, tuple(sprites), lighting)


def _paint_mask(
    prop: Prop, camera: PinholeCamera, black: np.ndarray, white: np.ndarray
) -> np.ndarray:
    """Pixels a prop paints opaquely (255, else 0): draw it on black and on white (two frame
    buffers to use), keep where both agree."""
    h, w = camera.height, camera.width
    black.fill(0)
    white.fill(255)
    prop.draw(black, camera)
    prop.draw(white, camera)
    differ = cv2.reduce(cv2.absdiff(black, white).reshape(h * w, 3), 1, cv2.REDUCE_MAX)
    return cv2.compare(differ.reshape(h, w), 0, cv2.CMP_EQ)
