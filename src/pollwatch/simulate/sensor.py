"""What the camera's sensor and processor add to a clean picture: exposure and noise.

Exposure is a per-frame brightness gain, all drawn up front from the plan's seed: a slow
lighting drift (daylight through the window, two slow sinusoids), occasional auto-exposure
corrections (a step of a few percent that settles back over a second or two) and the `dark`
condition's gain. It is applied to the I420 picture by lookup tables (luma around black level,
chroma around neutral); gains are rounded to 1/1024 (at most 0.11 of a code value at white),
so runs of frames share a table and an exposed background can be reused. Noise is added from
precomputed tiles at a random offset per frame (offsets drawn 256 frames at a time), so no
random numbers are drawn per pixel per frame. The noise is cut at ±5 sigma (`noise_limit`)
and stored as wrapping bytes, so it is added in one pass without saturation: every value it
is added to lies within the limits' margin from 0 and 255 (limited-range I420 does, 16–235
and 16–240, and the exposure tables clip to the margin: the brightest whites, above
255 − 5 sigma after a gain over 1, lose the rest of their highlight).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = [
    "GAIN_STEPS",
    "ExposureLuts",
    "Sensor",
    "expose_planes",
    "exposure_curve",
    "noise_limit",
]

_BLACK = 16  # limited-range luma black level
GAIN_STEPS = 1024  # exposure gains are rounded to 1/GAIN_STEPS

# (luma table, chroma table or None); None as a whole: the picture is left as it is
ExposureLuts = tuple[np.ndarray, np.ndarray | None] | None


def noise_limit(sigma: float) -> int:
    """The largest noise step (code values) added for a noise `sigma`: 5 sigma, at most 15
    (what limited-range I420 leaves above chroma's 240)."""
    if sigma < 0:
        raise ValueError(f"noise sigma must not be negative, got {sigma}")
    return min(math.ceil(5 * sigma), 15)


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
        self._luma = self._tile(rng, height + margin, width + margin, luma_sigma)
        self._chroma = self._tile(rng, rows_c + margin, width + margin, chroma_sigma)
        self._luma_margin, self._chroma_margin = noise_limit(luma_sigma), noise_limit(chroma_sigma)
        self._levels = np.arange(256, dtype=np.float32)
        self._lut_cache: tuple[int, ExposureLuts] | None = None
        self._offsets: list[list[int]] = []  # noise tile offsets, drawn 256 frames at a time

    @staticmethod
    def _tile(rng: np.random.Generator, h: int, w: int, sigma: float) -> np.ndarray:
        """Rounded Gaussian noise cut at ±`noise_limit(sigma)`, as wrapping bytes."""
        noise = np.round(rng.normal(0.0, sigma, (h, w)).astype(np.float32))
        limit = noise_limit(sigma)
        return np.clip(noise, -limit, limit).astype(np.int8).view(np.uint8)

    def luts(self, gain: float) -> tuple[int, ExposureLuts]:
        """The exposure of `gain` as (gain in 1/GAIN_STEPS, lookup tables), both cached."""
        q = round(gain * GAIN_STEPS)
        cached = self._lut_cache
        if cached is not None and cached[0] == q:
            return cached
        g = q / GAIN_STEPS
        tables: ExposureLuts = None
        if q != GAIN_STEPS:
            lv, ml, mc = self._levels, self._luma_margin, self._chroma_margin
            luma = np.clip(_BLACK + (lv - _BLACK) * g + 0.5, ml, 255 - ml).astype(np.uint8)
            chroma = None
            if g < 1.0:  # brightness × gain scales colour differences too
                chroma = np.clip(128 + (lv - 128) * g + 0.5, mc, 255 - mc).astype(np.uint8)
            tables = (luma, chroma)
        self._lut_cache = (q, tables)
        return self._lut_cache

    def expose(self, yuv: np.ndarray, luts: ExposureLuts) -> None:
        """Apply exposure tables from `luts` to an I420 picture ((H·3/2, W) uint8) in place."""
        if luts is None:
            return
        h = yuv.shape[0] * 2 // 3
        expose_planes(yuv[:h], yuv[h:], luts)

    def add_noise(self, yuv: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """This frame's sensor noise added to an I420 picture of the sensor's size, into `out`
        (by default in place); returns `out`."""
        if out is None:
            out = yuv
        h, w = self.height, self.width
        if not self._offsets:
            self._offsets = self._rng.integers(0, self._margin, (256, 4)).tolist()[::-1]
        oy, ox, cy, cx = self._offsets.pop()
        rows = yuv.shape[0] - h
        # wrapping byte addition of the signed noise (see the module doc): one pass a plane
        np.add(yuv[:h], self._luma[oy : oy + h, ox : ox + w], out=out[:h])
        np.add(yuv[h:], self._chroma[cy : cy + rows, cx : cx + w], out=out[h:])
        return out

    def apply(self, yuv: np.ndarray, gain: float, *, noise: bool = True) -> None:
        """Expose and add noise to an I420 picture ((H·3/2, W) uint8) in place."""
        self.expose(yuv, self.luts(gain)[1])
        if noise:
            self.add_noise(yuv)


def expose_planes(luma: np.ndarray, chroma: np.ndarray, luts: ExposureLuts) -> None:
    """Apply exposure tables to luma and chroma arrays (uint8) in place."""
    if luts is None:
        return
    luma_lut, chroma_lut = luts
    cv2.LUT(luma, luma_lut, dst=luma)
    if chroma_lut is not None:
        cv2.LUT(chroma, chroma_lut, dst=chroma)
