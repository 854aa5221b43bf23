"""Sensor noise and exposure: the noise's level and limits, and one-pass addition."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.simulate.sensor import Sensor, noise_limit

W, H = 320, 180


@pytest.mark.parametrize(
    ("sigma", "limit"), [(0.0, 0), (0.9, 5), (1.6, 8), (2.0, 10), (3.0, 15), (10.0, 15)]
)
def test_noise_limit_is_five_sigma_within_the_limited_range_margin(sigma, limit) -> None:
    assert noise_limit(sigma) == limit


def test_a_negative_sigma_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        noise_limit(-0.1)
    with pytest.raises(ValueError, match="negative"):
        Sensor(W, H, np.random.default_rng(0), luma_sigma=-1.0)


@pytest.mark.parametrize(("luma", "chroma"), [(1.6, 0.9), (3.0, 2.0)])
def test_noise_has_its_level_and_equals_saturating_addition(luma, chroma) -> None:
    """On limited-range pictures (and exposed ones) the wrapping addition never wraps."""
    rng = np.random.default_rng(7)
    sensor = Sensor(W, H, rng, luma_sigma=luma, chroma_sigma=chroma)
    yuv = np.empty((H * 3 // 2, W), np.uint8)
    yuv[:H] = rng.integers(16, 236, (H, W))
    yuv[H:] = rng.integers(16, 241, (H // 2, W))
    yuv[:8] = 235  # white and black rows, the extremes
    yuv[8:16] = 16
    bright = yuv.copy()
    sensor.expose(bright, sensor.luts(1.2)[1])  # whites pushed to the top of the table
    for clean in (yuv, bright):
        for _ in range(3):
            got = sensor.add_noise(clean, np.empty_like(clean)).astype(int)
            noise = got - clean
            assert np.abs(noise[:H]).max() <= noise_limit(luma)
            assert np.abs(noise[H:]).max() <= noise_limit(chroma)
            # noise rounded to whole code values: its variance grows by 1/12
            assert noise[:H].std() == pytest.approx(np.hypot(luma, 12**-0.5), rel=0.03)
            assert noise[H:].std() == pytest.approx(np.hypot(chroma, 12**-0.5), rel=0.03)
            assert abs(noise.mean()) < 0.05
            assert got.min() >= 0 and got.max() <= 255


def test_bright_exposure_keeps_room_for_the_noise() -> None:
    sensor = Sensor(W, H, np.random.default_rng(0), luma_sigma=1.6, chroma_sigma=0.9)
    luma, _ = sensor.luts(1.2)[1]  # type: ignore[misc]
    assert luma.max() == 255 - 8 and luma.min() >= 8
    _, (_, chroma_dark) = sensor.luts(0.5)  # type: ignore[misc]
    assert chroma_dark is not None and chroma_dark.min() >= 5 and chroma_dark.max() <= 250
