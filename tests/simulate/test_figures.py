"""Figures: drawing stays inside the figure's extent, and reused drawings equal fresh ones."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from pollwatch.simulate.figures import Figure, FigurePalette
from pollwatch.simulate.motion import Pose
from pollwatch.simulate.plan import Appearance
from pollwatch.simulate.scene import room_look

W, H = 320, 180
LOOK = room_look(3, W, H)
HAT_BAG = Appearance(
    1.9, 1.2, (40, 40, 200), (60, 60, 60), (120, 150, 200), (20, 20, 30), 1.2, 1.8, True, (9, 9, 9)
)
PLAIN = Appearance(1.6, 0.9, (200, 90, 40), (30, 30, 30), (110, 140, 190), (40, 40, 40), 1.0, 1.7)
BOX = LOOK.box


def _pose(x: float, y: float, **kw: object) -> Pose:
    base = dict(facing=-math.pi / 2, walking=False, gait_phase=0.0, sit=0.0, sway=0.0)
    base.update(reach=None, ballots=0)
    base.update(kw)
    return Pose(x, y, **base)  # type: ignore[arg-type]


POSES = {
    "standing": (HAT_BAG, _pose(3.0, 4.0)),
    "walking": (PLAIN, _pose(2.0, 3.0, facing=0.3, walking=True, gait_phase=1.1)),
    "seated": (PLAIN, _pose(4.0, 5.5, sit=1.0, sway=0.004)),
    "near the camera": (HAT_BAG, _pose(4.2, 1.0, facing=math.pi / 2, walking=True)),
    "at the picture's edge": (PLAIN, _pose(2.0, 2.0, walking=True, gait_phase=2.5)),
    "dropping a bundle": (HAT_BAG, _pose(BOX.x, BOX.y - 0.55, reach=0.3, ballots=12)),
}


def _figure(look: Appearance, pose: Pose) -> Figure:
    colors = FigurePalette(look, LOOK.floor).at(0.9)
    return Figure.build(LOOK.camera, look, pose, BOX.slot, colors)


@pytest.mark.parametrize("name", list(POSES))
def test_drawing_stays_inside_the_extent(name: str) -> None:
    fig = _figure(*POSES[name])
    assert fig.bbox is not None and fig.extent is not None
    x0, y0, x1, y1 = fig.extent
    assert 0 <= x0 <= fig.bbox[0] and 0 <= y0 <= fig.bbox[1]
    assert fig.bbox[2] <= x1 <= W and fig.bbox[3] <= y1 <= H
    blank = np.full((H, W, 3), (1, 2, 3), np.uint8)
    frame = blank.copy()
    fig.draw_body(frame)
    fig.draw_reach(frame)
    ys, xs = np.nonzero(np.any(frame != blank, axis=2))
    assert len(xs) > 50
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1


def test_a_reused_drawing_equals_drawing_again() -> None:
    fig = _figure(*POSES["standing"])
    rng = np.random.default_rng(2)
    background = rng.integers(0, 256, (H, W, 3), np.uint8)

    def fresh(under: np.ndarray) -> np.ndarray:
        out = under.copy()
        _figure(*POSES["standing"]).draw_body(out)
        return out

    for _ in range(2):  # drawn, then pasted
        frame = background.copy()
        fig.draw_body(frame, reuse=True)
        np.testing.assert_array_equal(frame, fresh(background))
    # something else drawn under the figure first: it is drawn again, over that
    x0, y0, x1, y1 = fig.bbox  # type: ignore[misc]
    changed = background.copy()
    cv2.rectangle(changed, (x0, y0), ((x0 + x1) // 2, (y0 + y1) // 2), (0, 255, 0), -1)
    frame = changed.copy()
    fig.draw_body(frame, reuse=True)
    np.testing.assert_array_equal(frame, fresh(changed))
