"""Arms moving in on the ballot slot from its left and from its right.

Two voters can stand behind the box at once, shoulder to shoulder: one behind it, one beside
that one. Each reaches the slot with the right arm from where they stand, so the two arms
arrive from opposite sides of the slot. When both drop within half a second, their hands over
the slot join into one covering (`pollwatch.counting.cues.slot_hands`), and the covering alone
cannot tell one voter from two; the arms beside the slot can.

`arm_motion` is the watcher's measure (`arm_l`, `arm_r` in its series): per sample, the share
of pixels that moved since the sample before it (luma changed by more than `MOVED` levels) in
a window left and right of the slot, from 0.4 box heights above the lid's far edge to 0.15 below
it, 0.1 to 0.5 box widths from the box's middle. A hand over the slot moves pixels on the side
its arm comes from; two voters' hands, on both sides.

`arms_in_hand` reads a hand's span of those series: how much moved on each side while it
covered the slot.
"""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd

__all__ = ["ARM_COLUMNS", "MOVED", "arm_motion", "arm_windows", "arms_in_hand"]

ARM_COLUMNS = ("arm_l", "arm_r")
MOVED = 15  # a luma level changing by more than this from one sample to the next: moved
_ROWS = (-0.4, 0.15)  # the windows' rows, box heights from the lid's far edge (up: negative)
_COLS = (0.1, 0.5)  # their columns, box widths from the box's middle, each side


def arm_windows(
    regions: object, shape: tuple[int, int]
) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """Rows and columns of the left and right arm windows in a watch region of `shape` (rows,
    columns) for the watcher's `BoxRegions` `regions`."""
    height, width = shape
    wx, wy = regions.watch[:2]
    top, cx = regions.box_top - wy, regions.centre_x - wx
    h, w = regions.box_h, regions.box_w

    def clip(a: float, b: float, n: int) -> slice:
        lo = int(min(max(round(a), 0), n))
        return slice(lo, int(min(max(round(b), lo), n)))

    rows = clip(top + _ROWS[0] * h, top + _ROWS[1] * h, height)
    left = clip(cx - _COLS[1] * w, cx - _COLS[0] * w, width)
    right = clip(cx + _COLS[0] * w, cx + _COLS[1] * w, width)
    return (rows, left), (rows, right)


def arm_motion(luma: np.ndarray, regions: object) -> tuple[np.ndarray, np.ndarray]:
    """Per sample of the stacked watch-region luma `luma` (K × rows × columns, in time order),
    the share of the left and of the right arm window (`arm_windows`) whose pixels changed by
    more than `MOVED` since the sample before; NaN for the first sample (nothing before it)
    and for an empty window."""
    n = len(luma)
    left, right = np.full(n, np.nan), np.full(n, np.nan)
    if n < 2:
        return left, right
    for out, (rows, cols) in zip((left, right), arm_windows(regions, luma.shape[1:3]), strict=True):
        part = luma[:, rows, cols]
        size = part[0].size
        if not size:
            continue
        k, h, w = part.shape
        flat = np.ascontiguousarray(part).reshape(k * h, w)
        moved = cv2.compare(cv2.absdiff(flat[h:], flat[:-h]), MOVED, cv2.CMP_GT)
        out[1:] = np.count_nonzero(moved.reshape(k - 1, -1), axis=1) / size
    return left, right


def arms_in_hand(series: pd.DataFrame, start: float, end: float) -> tuple[float, float]:
    """The most that moved in the left and in the right arm window (`arm_l`, `arm_r`) from
    `start` to `end` seconds; NaN for a side the series lacks or never measured then."""
    t = series["t_s"].to_numpy(float)
    sel = (t >= start) & (t <= end)
    out = []
    for name in ARM_COLUMNS:
        values = series[name].to_numpy(float)[sel] if name in series else np.array([])
        values = values[np.isfinite(values)]
        out.append(float(values.max()) if len(values) else np.nan)
    return out[0], out[1]
