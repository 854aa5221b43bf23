"""What the camera's sensor and processor add to a clean picture: exposure and noise.

Exposure is a per-frame brightness gain, all drawn up front from the plan's seed: a slow
lighting drift (daylight through the window, two slow sinusoids), occasional auto-exposure
corrections (a step of a few percent that settles back over a second or two) and the `dark`
condition's gain. It is applied to the I420 picture by lookup tables (luma around black level,
chroma around neutral). Noise is added from precomputed tiles at a random offset per frame, so
no random numbers are drawn per pixel per frame.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["Sensor", "exposure_curve"]

_BLACK = 16  # limited-range luma black level


def exposure_curve(n_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """Per-frame brightness gain (n_frames,) around 1: lighting drift and auto-exposure steps."""
    t = np.arange(n_frames) / fps
    p1, p2 = rng.uniform(0, 2 * math.pi, 2)
    period1, period2 = rng.uniform(900, 2400), rng.uniform(120, 360)
    gain = (
        1.0
        + 0.05 * np.sin(2 * math.pi * t / period1 + p1)
        + 0.02 * np.sin(2 * math.pi * t / period2 + p2)
    )
    duration = n_frames / fps
    n_events = rng.poisson(duration / 150.0)
    for start in np.sort(rng.uniform(0, duration, n_events)):
        step = rng.choice([-1, 1]) * rng.uniform(0.03, 0.07)
        tau = rng.uniform(0.8, 2.5)
        after = t >= start
        gain[after] *= 1.0 + step * np.exp(-(t[after] - start) / tau)
    return gain


class Sensor:
    """Adds exposure and noise to I420 pictures of one size, deterministically from a seed."""

    def __init__(
        self,
        width: int,
        height: int,
        rng: np.random.Generator,
        *,
        luma_sigma: float = 1.6,
        chroma_sigma: float = 0.9,
        margin: int = 48,
    ) -> None:
        if luma_sigma < 0 or chroma_sigma < 0:
            raise ValueError("noise sigmas must not be negative")
        self.width, self.height = width, height
        self._rng = rng
        self._margin = margin
        rows_c = height // 2
        self._luma = self._tiles(rng, height + margin, width + margin, luma_sigma)
        self._chroma = self._tiles(rng, rows_c + margin, width + margin, chroma_sigma)
        self._levels = np.arange(256, dtype=np.float32)

    @staticmethod
    def _tiles(
        rng: np.random.Generator, h: int, w: int, sigma: float
    ) -> tuple[np.ndarray, np.ndarray]:
        noise = rng.normal(0.0, sigma, (h, w)).astype(np.float32)
        noise = np.round(noise)
        return np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8)

    def _luts(self, gain: float) -> tuple[np.ndarray, np.ndarray]:
        lv = self._levels
        luma = np.clip(_BLACK + (lv - _BLACK) * gain + 0.5, 0, 255).astype(np.uint8)
        chroma_gain = min(gain, 1.0)  # brightness × gain scales colour differences too
        chroma = np.clip(128 + (lv - 128) * chroma_gain + 0.5, 0, 255).astype(np.uint8)
        return luma, chroma

    def apply(self, yuv: np.ndarray, gain: float, *, noise: bool = True) -> None:
        """Expose and add noise to an I420 picture ((H·3/2, W) uint8) in place."""
        h, w = self.height, self.width
        y_plane, c_planes = yuv[:h], yuv[h:]
        if abs(gain - 1.0) > 1e-4:
            luma_lut, chroma_lut = self._luts(gain)
            cv2.LUT(y_plane, luma_lut, dst=y_plane)
            if gain < 1.0:
                cv2.LUT(c_planes, chroma_lut, dst=c_planes)
        if not noise:
            return
        m = self._margin
        oy, ox, cy, cx = self._rng.integers(0, m, 4)
        pos, neg = self._luma
        cv2.add(y_plane, pos[oy : oy + h, ox : ox + w], dst=y_plane)
        cv2.subtract(y_plane, neg[oy : oy + h, ox : ox + w], dst=y_plane)
        pos, neg = self._chroma
        rows = c_planes.shape[0]
        cv2.add(c_planes, pos[cy : cy + rows, cx : cx + w], dst=c_planes)
        cv2.subtract(c_planes, neg[cy : cy + rows, cx : cx + w], dst=c_planes)
