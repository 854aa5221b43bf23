"""Arms moving in on the slot: the windows beside it, the per-sample motion there, and a
hand's span of it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwatch.counting.arms import arm_motion, arm_windows, arms_in_hand
from pollwatch.counting.watcher import BoxRegions
from pollwatch.video.zone import Zone

# a box 40 px wide and 50 tall, its lid's far edge at row 100, in a 320 × 240 picture
_ZONE = Zone(np.float32([[100, 100], [140, 100], [140, 150], [100, 150]]))
_REGIONS = BoxRegions.around(_ZONE, 320, 240)


def _stack(n: int) -> np.ndarray:
    x0, y0, x1, y1 = _REGIONS.watch
    return np.full((n, y1 - y0, x1 - x0), 80, np.uint8)


def test_windows_lie_beside_the_slot() -> None:
    (rows, left), (rows_r, right) = arm_windows(_REGIONS, _stack(1).shape[1:])
    wx, wy = _REGIONS.watch[:2]
    assert rows == rows_r
    # 0.4 box heights above the lid's far edge to 0.15 below it
    assert (rows.start + wy, rows.stop + wy) == (80, 107)
    # 0.1 to 0.5 box widths either side of the middle (x 120)
    assert (left.start + wx, left.stop + wx) == (100, 116)
    assert (right.start + wx, right.stop + wx) == (124, 140)


@pytest.mark.parametrize(
    ("x", "level", "left", "right"),
    [
        (105, 200, True, False),  # an arm coming in from the left
        (130, 200, False, True),  # from the right
        (120, 200, False, False),  # the hand at the slot itself: neither side
        (105, 90, False, False),  # a change of 10 levels: noise, not an arm
    ],
)
def test_motion_on_the_side_an_arm_moved(x: int, level: int, left: bool, right: bool) -> None:
    luma = _stack(3)
    wx, wy = _REGIONS.watch[:2]
    luma[1, 90 - wy : 96 - wy, x - wx : x - wx + 4] = level  # in the second sample only
    got_l, got_r = arm_motion(luma, _REGIONS)
    assert np.isnan(got_l[0]) and np.isnan(got_r[0])  # nothing before the first sample
    # it moves in (sample 1) and out again (sample 2)
    assert (got_l[1:] > 0).all() == left and (got_r[1:] > 0).all() == right
    if left:
        assert got_l[1] == pytest.approx(24 / (27 * 16))


def test_one_sample_has_nothing_to_compare_with() -> None:
    got_l, got_r = arm_motion(_stack(1), _REGIONS)
    assert np.isnan(got_l).all() and np.isnan(got_r).all()


_BOTH = {"arm_l": [0.1, 0.5, np.nan, 0.0], "arm_r": [0.0, 0.2, 0.3, 0.9]}


@pytest.mark.parametrize(
    ("columns", "start", "end", "expected"),
    [
        (_BOTH, 0.1, 0.25, (0.5, 0.3)),  # the unmeasured sample (NaN) skipped
        (_BOTH, 5, 6, (np.nan,) * 2),  # no sample in the span
        ({"arm_l": [0.1, 0.5, 0.2, 0.0]}, 0.0, 0.4, (0.5, np.nan)),  # a series without arm_r
        ({}, 0.0, 0.4, (np.nan, np.nan)),  # a series from before the arms were measured
    ],
)
def test_arms_in_hand(
    columns: dict[str, list[float]], start: float, end: float, expected: tuple[float, float]
) -> None:
    series = pd.DataFrame({"t_s": [0.0, 0.1, 0.2, 0.3], **columns})
    np.testing.assert_equal(arms_in_hand(series, start, end), expected)
