"""The box zone compared with the reference, cell by cell (the conditions' blocked test).

`zone_cells` compares two pictures inside a mask in square cells: a cell is unlike when two
textured cells correlate under `min_ncc`, or where either is flat, when their levels or
contrasts differ (a gain change is not a change); unmoved when it changed little since a
picture a little earlier. `ZoneCells` prepares the reference once for the 1-s samples.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["ZoneCells", "masked_ncc", "smooth_patch", "zone_cells"]

# `zone_cells`: a cell whose grey levels' std is under this is flat (too little texture to
# correlate: levels are compared instead), and their means are compared relative to the
# larger one, but never to less than `_LEVEL_FLOOR`
_FLAT_STD = 3.0
_LEVEL_FLOOR = 20.0


def masked_ncc(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Zero-mean normalised cross-correlation of two images inside `mask` (−1..1).

    Two flat regions correlate 1 if their means are within 20 levels, else 0; one flat and one
    textured region correlate 0.
    """
    x = a[mask].astype(np.float64)
    y = b[mask].astype(np.float64)
    if x.size == 0:
        raise ValueError("the mask is empty")
    x -= x.mean()
    y -= y.mean()
    sx, sy = math.sqrt(float(x @ x)), math.sqrt(float(y @ y))
    flat = 2.0 * math.sqrt(x.size)  # std under 2 levels
    if sx < flat and sy < flat:
        return 1.0 if abs(a[mask].mean() - b[mask].mean()) < 20 else 0.0
    if sx < flat or sy < flat:
        return 0.0
    return float(x @ y / (sx * sy))


def _padded(x: np.ndarray, cell: int) -> np.ndarray:
    """`x` as float32, zero-padded to whole cells."""
    h, w = x.shape
    return cv2.copyMakeBorder(
        x.astype(np.float32, copy=False), 0, -h % cell, 0, -w % cell, cv2.BORDER_CONSTANT, value=0
    )


def _cell_mean(x: np.ndarray, cell: int) -> np.ndarray:
    """The mean of every `cell`×`cell` block (exact: area resampling by a whole factor)."""
    h, w = x.shape
    return cv2.resize(x, (w // cell, h // cell), interpolation=cv2.INTER_AREA)


def zone_cells(
    a: np.ndarray,
    b: np.ndarray,
    mask: np.ndarray,
    *,
    cell: int = 8,
    min_ncc: float = 0.5,
    still: np.ndarray | None = None,
    still_mad: float = 3.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compare pictures `a` and `b` inside `mask`, in square cells of `cell` pixels.

    Returns (valid, unlike, unmoved) boolean arrays over the cell grid. `valid`: the cell is at
    least half inside the mask. `unlike`: two textured cells whose normalised cross-correlation
    is under `min_ncc`; where either is flat (std < 3), means more than 15 % of the larger
    apart, the larger taken as 20 levels at least (a gain change is not a change), or standard
    deviations more than max(3, half the larger) apart.
    `unmoved`: the mean absolute difference between `a` and `still` (the same zone a little
    earlier) is under `still_mad` (all False without `still`). Cells keep the comparison
    local: an unchanged strip of the zone (a table behind the box) cannot outweigh a board
    covering the rest. (`ZoneCells` prepares `b` and `mask` once for many pictures `a`.)
    """
    if a.shape != b.shape:
        raise ValueError(f"pictures and mask differ in shape: {a.shape}, {b.shape}, {mask.shape}")
    cells = ZoneCells(b, mask, cell=cell, min_ncc=min_ncc)
    if still is not None and still.shape != a.shape:
        raise ValueError(f"still has shape {still.shape}, not {a.shape}")
    return cells.compare(
        cells.pad(a), None if still is None else cells.pad(still), still_mad=still_mad
    )


class ZoneCells:
    """`zone_cells` against one picture `b` and `mask`, whose cells' statistics are computed
    once: the box zone's reference crop is compared with a sample every second."""

    def __init__(
        self, b: np.ndarray, mask: np.ndarray, *, cell: int = 8, min_ncc: float = 0.5
    ) -> None:
        if b.shape != mask.shape:
            raise ValueError(f"pictures and mask differ in shape: {b.shape}, {mask.shape}")
        self.shape, self.cell, self.min_ncc = b.shape, cell, min_ncc
        self._m = self.pad(mask)
        inside = _cell_mean(self._m, cell)
        self.valid = inside >= 0.5
        self.n_valid = int(np.count_nonzero(self.valid))
        self._n = np.maximum(inside, 1e-6)
        self._xb = self.pad(b)
        self._mb = self._mean(self._xb)
        self._vb = np.maximum(self._mean(self._xb * self._xb) - self._mb * self._mb, 0.0)
        self._sb = np.sqrt(self._vb)
        self._flat_b = self._sb < _FLAT_STD
        self._level_b = np.maximum(self._mb, _LEVEL_FLOOR)

    def pad(self, x: np.ndarray) -> np.ndarray:
        """`x` (of `shape`) as float32, zero-padded to whole cells: what `compare` takes."""
        if x.shape != self.shape:
            raise ValueError(f"picture has shape {x.shape}, not {self.shape}")
        return _padded(x, self.cell)

    def _mean(self, x: np.ndarray) -> np.ndarray:
        return _cell_mean(x * self._m, self.cell) / self._n

    def compare(
        self, xa: np.ndarray, still: np.ndarray | None = None, *, still_mad: float = 3.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(valid, unlike, unmoved) of the padded picture `xa` (`pad`), `still` padded too;
        see `zone_cells`."""
        return self.valid, self.unlike(xa), self.unmoved(xa, still, still_mad=still_mad)

    def unlike(self, xa: np.ndarray) -> np.ndarray:
        """The cells of the padded picture `xa` unlike the reference (`compare`'s second)."""
        n, cell = self._n, self.cell
        xam = xa * self._m  # the mask is 0 or 1: (x·y)·mask = (x·mask)·y bit for bit
        ma, mb = _cell_mean(xam, cell) / n, self._mb
        va, vb = np.maximum(_cell_mean(xam * xa, cell) / n - ma * ma, 0.0), self._vb
        ncc = (_cell_mean(xam * self._xb, cell) / n - ma * mb) / np.sqrt(np.maximum(va * vb, 1e-9))
        sa, sb = np.sqrt(va), self._sb
        near_flat = (sa < _FLAT_STD) | self._flat_b  # too little texture: compare levels
        if not near_flat.any():
            return ~(ncc >= self.min_ncc)
        similar = (np.abs(ma - mb) <= 0.15 * np.maximum(ma, self._level_b)) & (
            np.abs(sa - sb) <= np.maximum(3.0, 0.5 * np.maximum(sa, sb))
        )
        return ~np.where(near_flat, similar, ncc >= self.min_ncc)

    def unmoved(
        self, xa: np.ndarray, still: np.ndarray | None, *, still_mad: float = 3.0
    ) -> np.ndarray:
        """The cells of the padded picture `xa` whose mean absolute difference to `still`
        (padded too) is under `still_mad` (all False without `still`)."""
        if still is None:
            return np.zeros_like(self.valid)
        return self._mean(np.abs(xa - still)) < still_mad


def smooth_patch(patch: np.ndarray, sigma: float) -> np.ndarray:
    """`patch` blurred by `sigma` as float32 (what `zone_cells` compares in; OpenCV's bit-exact
    8-bit Gaussian costs five times as much: 113 against 22 us on a 72x56 zone)."""
    return cv2.GaussianBlur(patch.astype(np.float32), (0, 0), sigma)
