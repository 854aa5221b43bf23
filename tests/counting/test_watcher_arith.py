"""The watcher's short cuts for NumPy's statistics give NumPy's values to the last bit, and
the nearest ballot patch is the one a component-by-component search picks."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from pollwatch.counting.measures import _nearest_patch, _nearest_patches
from pollwatch.counting.watcher import _correlation, _percentile


def _pairs(seed: int, size: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = (rng.random(size) * 200).astype(np.float32)
    b = {
        "unrelated": (rng.random(size) * 255).astype(np.float32),
        "related": (0.7 * a + rng.random(size).astype(np.float32) * 20).astype(np.float32),
        "same": a.copy(),
        "opposite": -a,
        "offset": a + np.float32(1e4),
    }[kind]
    return a, b


@pytest.mark.parametrize("kind", ["unrelated", "related", "same", "opposite", "offset"])
@pytest.mark.parametrize("size", [4, 5, 37, 208, 999])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_correlation_is_numpys(seed: int, size: int, kind: str) -> None:
    a, b = _pairs(seed, size, kind)
    assert _correlation(a, b) == float(np.corrcoef(a, b)[0, 1])


def test_correlation_of_a_flat_array_is_nan_like_numpys() -> None:
    a, b = np.ones(10, np.float32), np.arange(10, dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(_correlation(a, b))


@pytest.mark.parametrize("q", [1, 50, 99, 100])
@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (2, 3), (7, 5), (58, 84), (101, 3)])
@pytest.mark.parametrize("spread", [1, 3, 256])  # 1: one value everywhere
def test_percentile_is_numpys(q: int, shape: tuple[int, int], spread: int) -> None:
    rng = np.random.default_rng(sum(shape) * spread + q)
    image = rng.integers(0, spread, (*shape, 3)).astype(np.uint8)
    assert _percentile(image[..., 0], q) == float(np.percentile(image[..., 0], q))


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


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("count", [1, 2, 7])
def test_nearest_patches_are_each_masks_own(seed: int, count: int) -> None:
    # the masks labelled together give each mask's own patch; components touching a mask's
    # last and the next one's first row stay apart
    rng = np.random.default_rng(seed)
    masks = ((rng.random((count, 12, 50)) < 0.3) * 255).astype(np.uint8)
    masks[:, -1, ::2] = masks[:, 0, ::2] = 255
    r = SimpleNamespace(
        slot=(10, 0), centre_x=35.0, box_w=40.0, ballot_w=8, ballot_h=6, min_patch=1.0 + seed % 3
    )
    area, x = _nearest_patches(masks, r)
    for k in range(count):
        want = _reference_patch(masks[k], r)
        assert area[k] == want[0]
        assert x[k] == want[1] or (np.isnan(x[k]) and np.isnan(want[1]))
