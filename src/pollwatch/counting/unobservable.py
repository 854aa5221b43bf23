"""When the box could not be watched, or was watched with a degraded picture, from the box
watcher's series: too dark, the picture frozen, the box's outline gone (turned away, hidden
behind something) in `unobservable_ranges`; out of focus in `rough_ranges`; an outline lost
while the camera audit saw the picture out of focus is blur, not the box gone
(`outline_lost_to_blur`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pollwatch.counting.cues import rolling_median, runs
from pollwatch.counting.observability import Range

__all__ = ["outline_lost_to_blur", "rough_ranges", "unobservable_ranges"]

_NOT_IN_VIEW = "box not in view"
_SAME_VIEW = 0.9  # coarse picture's correlation with the last one the box was seen in: same view


def _outline_masks(series: pd.DataFrame, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(outline gone, coarse picture unchanged) per sample: the box's outline under 35% of
    the fitted view's and the coarse view's correlation at least `_SAME_VIEW`, each a running
    median over 6 s."""
    outline = series["outline"].to_numpy(float)
    gone = rolling_median(np.nan_to_num(outline, nan=1.0), t, 6.0) < 0.35
    if "view" not in series:
        return gone, np.zeros(len(t), bool)
    view = np.nan_to_num(series["view"].to_numpy(float), nan=0.0)
    return gone, rolling_median(view, t, 6.0) >= _SAME_VIEW


def _mask_ranges(
    t: np.ndarray, dt: float, mask: np.ndarray, reason: str, min_s: float, lead_s: float = 0.0
) -> list[Range]:
    """The runs of `mask` as (start, end, reason), each sample standing for `dt` around it,
    started `lead_s` earlier; runs shorter than `min_s` left out."""
    out: list[Range] = []
    for i, j in runs(mask):
        start, end = t[i] - 0.5 * dt - lead_s, t[j] + 0.5 * dt
        if end - start >= min_s:
            out.append((float(start), float(end), reason))
    return out


def rough_ranges(
    series: pd.DataFrame, *, min_s: float = 10.0, bridge_s: float = 30.0
) -> list[Range]:
    """When the box was watched with a degraded picture: out of focus (the outline's thin
    lines gone while the coarse picture stayed the same, see `unobservable_ranges`) for
    `min_s` or more, stretches less than `bridge_s` apart joined (a lens does not come back
    into focus for a few seconds: people at the box change the coarse picture meanwhile).
    The counter's errors there are those measured on defocused cameras."""
    if series.empty:
        return []
    t = series["t_s"].to_numpy(float)
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.1
    gone, same = _outline_masks(series, t)
    out: list[Range] = []
    for a, b, why in _mask_ranges(t, dt, gone & same, "box out of focus", min_s):
        if out and a - out[-1][1] < bridge_s:
            out[-1] = (out[-1][0], b, why)
        else:
            out.append((a, b, why))
    return out


def unobservable_ranges(series: pd.DataFrame, *, min_s: float = 2.0) -> list[Range]:
    """When the box could not be watched, from the watcher's series: too dark (the region's
    brightness under 45% of its median), the picture frozen (not a pixel changed for a
    second or more), the box's outline gone (its strength under 35% of the fitted view's
    for `min_s` or more) while the coarse picture changed too (`view` under 0.9: a lens out
    of focus loses the outline, not the picture). Ranges shorter than `min_s` are dropped (a
    passer-by)."""
    if series.empty:
        return []
    t = series["t_s"].to_numpy(float)
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.1
    luma = series["luma"].to_numpy(float)
    dark = luma < 0.45 * float(np.nanmedian(luma))
    still = series["motion"].to_numpy(float) == 0
    frozen = pd.Series(still).rolling(max(2, round(1.0 / dt)), min_periods=1).min()
    frozen = frozen.to_numpy(bool)
    gone, same = _outline_masks(series, t)
    out: list[Range] = []
    out += _mask_ranges(t, dt, dark, "too dark", min_s)
    # the run starts once a full second stood still
    out += _mask_ranges(t, dt, frozen, "picture frozen", min_s, lead_s=1.0)
    out += _mask_ranges(t, dt, gone & ~same, _NOT_IN_VIEW, min_s)
    return out


def outline_lost_to_blur(
    ranges: Sequence[Range], blurred: Sequence[Range]
) -> tuple[list[Range], list[Range]]:
    """`ranges` (`unobservable_ranges`'s) split into those kept and the "box not in view" ones
    lying wholly inside one of `blurred` (the camera audit's out-of-focus ranges), returned as
    "box out of focus" rough time. With the lens out of focus the outline is gone, and people
    at the box change the coarse picture, so `unobservable_ranges` reads each voter's stay as
    the box lost (session 10's hidden demo 114 cam-D002-007: 36 s, 9 ballots). A real turn
    or cover inside the blur is the audit's own `view`/`blocked` range, which this leaves be."""
    kept: list[Range] = []
    freed: list[Range] = []
    for a, b, why in ranges:
        if why == _NOT_IN_VIEW and any(x <= a and b <= y for x, y, _ in blurred):
            freed.append((a, b, "box out of focus"))
        else:
            kept.append((a, b, why))
    return kept, freed
