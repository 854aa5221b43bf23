"""The watcher's short cuts for NumPy's statistics give NumPy's values to the last bit, and
the nearest ballot patch is the one a component-by-component search picks."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from pollwatch.counting.measures import _nearest_patch


def _reference_patch(new: np.ndarray, r: SimpleNamespace) -> tuple[float, float]:
    """The component-by-component search the vectorised one replaced."""
    n, _, stats, centroids = cv2.connectedComponentsWithStats(new, connectivity=8)
    best, best_x, best_d = 0.0, np.nan, np.inf
    for i in range(1, n):
        w, h, area = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT], stats[i, 4]
        if w > r.ballot_w or h > r.ballot_h or area < r.min_patch:
            continue
        x = (float(centroids[i][0]) + r.slot[0] - r.centre_x) / r.box_w
        if abs(x) <= 0.4 and abs(x) < best_d:
            best, best_x, best_d = float(area), x, abs(x)
    return best, best_x


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("density", [0.0, 0.02, 0.2, 0.6])
def test_nearest_patch_is_the_searchs(seed: int, density: float) -> None:
    rng = np.random.default_rng(seed)
    new = ((rng.random((40, 70)) < density) * 255).astype(np.uint8)
    new = cv2.dilate(new, np.ones((2, 3), np.uint8)) if seed % 2 else new
    r = SimpleNamespace(
        slot=(100 + seed, 50),
        centre_x=135.0,
        box_w=60.0 + seed,
        ballot_w=9.0,
        ballot_h=7.0,
        min_patch=2.0 + seed % 3,
    )
    got, want = _nearest_patch(new, r), _reference_patch(new, r)
    assert got[0] == want[0]
    assert got[1] == want[1] or (np.isnan(got[1]) and np.isnan(want[1]))


def test_nearest_patch_ties_go_to_the_first_component() -> None:
    new = np.zeros((10, 40), np.uint8)
    new[2:5, 5:8] = 255  # the same distance left and right of the middle (x = 20)
    new[2:5, 33:36] = 255
    r = SimpleNamespace(slot=(0, 0), centre_x=20.0, box_w=40.0, ballot_w=5, ballot_h=5, min_patch=1)
    assert _nearest_patch(new, r) == _reference_patch(new, r) == (9.0, (6.0 - 20.0) / 40.0)
