"""The box watcher's measures of a batch of samples at once.

`BoxWatcher` copies the watch region of every sample it measures into a `SampleBatch` (three
slices of the frame's planes) and measures the batch in one go when the background is about
to change (a snapshot every 2 s), at a gap, when the batch is full, or at the end: a few
OpenCV/NumPy calls over the stacked regions instead of a few dozen per sample on arrays of a
few thousand pixels, where the calls' own overhead weighed more than the pixels. Every measure
is computed as the per-sample code computed it (the same operations, element by element, on
the same pixels): the series is the same to the last bit.

A measure is a function of the batch's stacked regions (`small`: the half-size watch region,
luma and chroma; `luma`: the watch region's luma; `slot`: the slot region, luma and chroma)
and of the background the watcher holds, returning one value per sample.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pandas as pd

from pollwatch.video.frame import RegionPlanes

__all__ = [
    "Focus",
    "SampleBatch",
    "changed_shares",
    "fill_heights",
    "line_rows",
    "mean_luma",
    "slot_cover",
    "white_patches",
]

_CHANGE = 18  # a luma or chroma level differing by more than this from the background
_SAME_PAPER = 25  # a background paper pixel within this of its luma is the same paper
_SLOT_CHANGE = 40  # a slot pixel differing from the background by more than this is covered
_SLOT_REACH = 0.4  # a ballot in a hand is within this many box widths of the box's middle
# the pile's edge is read only where the rows just below it are paper (stuffing, session 9: a
# body or shadow behind only the box's upper part pulled what the box shows above the pile
# down, and the climb went on up the bare floor to the body's lower edge, 15 ballots high)
_PAPER_ROWS = 3  # how many rows below the edge are averaged
_PAPER_SHARE = 0.3  # their mean is paper within this share of the contrast of the paper's luma
# The paper's luma read again as the median of the rows from the first edge found down to the
# band's "body" row, where that is brighter than the body row alone: a defocused box's bottom
# edge darkens the body row, the midpoint falls and the crossing climbs the blurred edge's tail.
# Session 12 read every pile so (off: it moved sharp cameras' counts both ways and the stuffing
# clips' six hands went unflagged); since session 13 only a blurred one, below, and on: sharp
# reads are main's to the bit, blurred minus sharp on the simulator's drawing +0.33..+2.67 ->
# -0.17..+0.98 px, and on the blurred tuning cameras (switch `BLUR_IS_NOT_LOST` off) counts
# unchanged, matched +1 and -1; docs/counting.md "Session 13 (blurread13 ...)".
PAPER_FROM_PILE = True
# ... and only in a batch whose edges are out of focus: more than half of them span more
# rows than this, their contrast over their steepest row step (within `_EDGE_REACH` rows of the
# first crossing; a Gaussian-blurred step spans 2.5 σ; a sharp pile's edge 1-2.6 rows on the
# 17 tuning cases' cameras, a σ 3-5.5 one 4-13). One decision a batch (2 s at most), not a
# sample: the two reads differ by up to 3 px, a sample's span scatters by 2 rows
_BLURRED_EDGE_ROWS = 4.0
_EDGE_REACH = 4
# and only a batch of at least this many edges read is judged (2-4 edges of a sharp camera's
# short batch spanned 4.2-5.7 rows: demo 124 cam-D002-001, demo 126 cam-D005-007, clean 119
# cam-D004-002); a shorter one is read as the last batch judged (`Focus`)
_FOCUS_EDGES = 5
# In a batch out of focus, an edge up to this many rows under one of the box's lines is given
# as on the line (`fill_line` 0: the drop finder and the stuffing part do not read it): the
# line's blurred bump holds the edge's tail up there (the simulator's drawing of demo 110
# cam-D005-001 at σ 4.7: +1.2..2.2 px where the sharp edge is 1-6.5 rows under the line).
# 0: off (session 13 measured it, docs/counting.md "Session 13 (blurread13 ...)")
UNDER_LINE_ROWS = 0


class Focus:
    """Whether the last batch judged (`PAPER_FROM_PILE`) was out of focus: a batch of too few
    edges to judge is read as it was. One per watcher."""

    def __init__(self) -> None:
        self.out_of_focus = False


class SampleBatch:
    """Preallocated room for up to `capacity` samples of one region geometry: each sample's
    luma and chroma crops (`RegionPlanes`), with the slot region `slot` (image pixels, inside
    the region) and the half-size region's `half` rows and columns. `add` copies a sample in
    at `count` (kept only once `commit`ted); `stacks()` gives the committed samples' half-size
    region, luma and slot region as `Frame.ycc_region` reads them."""

    def __init__(
        self,
        planes: RegionPlanes,
        slot: tuple[int, int, int, int],
        half: tuple[int, int],
        capacity: int,
    ) -> None:
        self.key = self.key_of(planes, slot)
        self.luma = np.empty((capacity, *planes.luma.shape), np.uint8)
        self.cb = np.empty((capacity, *planes.cb.shape), np.uint8)
        self.cr = np.empty_like(self.cb)
        self.count = 0
        self.outline_due: list[bool] = []
        self.snapshot = False  # the first sample's picture becomes a background snapshot
        x0, y0, x1, y1 = planes.box
        fy, fx = planes.fy, planes.fx
        hh, hw = half
        # the slot region clipped as the region is (it lies inside it)
        sx0, sy0 = min(max(slot[0], x0), x1), min(max(slot[1], y0), y1)
        sx1, sy1 = max(min(slot[2], x1), sx0), max(min(slot[3], y1), sy0)
        # image pixel (y, x) goes with chroma (y // fy − y0 // fy, x // fx − x0 // fx)
        self._half = (
            _picks((y0 + 2 * np.arange(hh)) // fy - y0 // fy),
            _picks((x0 + 2 * np.arange(hw)) // fx - x0 // fx),
            slice(0, 2 * hh, 2),
            slice(0, 2 * hw, 2),
        )
        self._slot = (
            _picks(np.arange(sy0, sy1) // fy - y0 // fy),
            _picks(np.arange(sx0, sx1) // fx - x0 // fx),
            slice(sy0 - y0, sy1 - y0),
            slice(sx0 - x0, sx1 - x0),
        )

    @staticmethod
    def key_of(planes: RegionPlanes, slot: tuple[int, int, int, int]) -> tuple[Any, ...]:
        """The geometry a batch holds: a sample of another key needs a batch of its own."""
        return (planes.box, planes.luma.shape, planes.cb.shape, planes.fy, planes.fx, slot)

    @property
    def full(self) -> bool:
        return self.count >= len(self.luma)

    def add(self, planes: RegionPlanes) -> np.ndarray:
        """Copy a sample in at `count` (not yet kept) and return its half-size luma (its own
        array, contiguous)."""
        k = self.count
        np.copyto(self.luma[k], planes.luma)
        np.copyto(self.cb[k], planes.cb)
        np.copyto(self.cr[k], planes.cr)
        rows, cols = self._half[2:]
        return np.ascontiguousarray(self.luma[k, rows, cols])

    def commit(self, *, outline_due: bool) -> None:
        """Keep the sample last added (measured at the next `stacks`)."""
        self.count += 1
        self.outline_due.append(outline_due)

    def stacks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The committed samples' half-size watch region (K × h × w × 3), luma (K × H × W)
        and slot region (K × h' × w' × 3), luma and chroma, as `Frame.ycc_region` gives them."""
        n = self.count
        luma, cb, cr = self.luma[:n], self.cb[:n], self.cr[:n]
        return (
            _ycc(luma, cb, cr, *self._half),
            luma,
            _ycc(luma, cb, cr, *self._slot),
        )


def _picks(index: np.ndarray) -> slice | np.ndarray:
    """`index` as a slice where it is one (a view, no copy), else itself."""
    if len(index) and (np.diff(index) == 1).all():
        return slice(int(index[0]), int(index[-1]) + 1)
    return index


def _ycc(
    luma: np.ndarray,
    cb: np.ndarray,
    cr: np.ndarray,
    chroma_rows: slice | np.ndarray,
    chroma_cols: slice | np.ndarray,
    rows: slice,
    cols: slice,
) -> np.ndarray:
    part = luma[:, rows, cols]
    out = np.empty((*part.shape, 3), np.uint8)
    out[..., 0] = part
    for channel, plane in ((1, cb), (2, cr)):
        picked = (
            plane[:, chroma_rows]
            if isinstance(chroma_rows, slice)
            else plane.take(chroma_rows, axis=1)
        )
        if isinstance(chroma_cols, slice):
            out[..., channel] = picked[:, :, chroma_cols]
        else:
            out[..., channel] = picked.take(chroma_cols, axis=2)
    return out


def _tiled(image: np.ndarray, n: int) -> np.ndarray:
    """`n` copies of `image` stacked along its rows (OpenCV's binary operations need equal
    shapes, not broadcasting)."""
    return np.ascontiguousarray(np.broadcast_to(image, (n, *image.shape))).reshape(
        n * image.shape[0], *image.shape[1:]
    )


def changed_shares(
    small: np.ndarray, background: np.ndarray, bottom: tuple[slice, slice]
) -> tuple[np.ndarray, np.ndarray]:
    """Per sample, the share of the half-size watch region whose luma or a chroma channel
    differs from `background` by more than 18 (`fg`), and the same share in its `bottom`
    rows and columns (`front`; NaN where that part is empty)."""
    n, h, w = small.shape[:3]
    diff = cv2.absdiff(small.reshape(n * h, w, 3), _tiled(background, n))
    same = cv2.inRange(diff, (0, 0, 0), (_CHANGE, _CHANGE, _CHANGE)).reshape(n, h, w)
    fg = (h * w - np.count_nonzero(same.reshape(n, -1), axis=1)) / (h * w)
    part = same[:, bottom[0], bottom[1]]
    size = part[0].size if n else 0
    if not size:
        return fg, np.full(n, np.nan)
    return fg, (size - np.count_nonzero(part.reshape(n, -1), axis=1)) / size


def white_patches(
    slot: np.ndarray,
    low: tuple[float, float, float],
    high: tuple[float, float, float],
    bg_white: np.ndarray,
    bg_luma: np.ndarray,
    regions: object,
) -> tuple[np.ndarray, np.ndarray]:
    """Per sample, the largest ballot-sized patch of paper-white pixels (between `low` and
    `high`) of the slot region that are not a paper-white pixel of the background
    (`bg_white`) unchanged (luma within 25 of `bg_luma`), within 0.4 box widths of the box's
    middle (its area in pixels, 0 when none), and its centre's offset from the middle in box
    widths (NaN when none). `regions` is the watcher's `BoxRegions`."""
    n, h, w = slot.shape[:3]
    white, white_x = np.zeros(n), np.full(n, np.nan)
    if n == 0 or slot[0].size == 0:
        return white, white_x
    flat = slot.reshape(n * h, w, 3)
    paper = cv2.inRange(flat, low, high)
    luma = cv2.extractChannel(flat, 0)
    same = cv2.compare(cv2.absdiff(luma, _tiled(bg_luma, n)), _SAME_PAPER, cv2.CMP_LT)
    new = cv2.bitwise_and(paper, cv2.bitwise_not(cv2.bitwise_and(_tiled(bg_white, n), same)))
    counts = np.count_nonzero(new.reshape(n, -1), axis=1)
    todo = np.flatnonzero(counts >= regions.min_patch)  # else too few for any patch
    if todo.size:
        white[todo], white_x[todo] = _nearest_patches(new.reshape(n, h, w)[todo], regions)
    return white, white_x


def _nearest_patch(new: np.ndarray, r: object) -> tuple[float, float]:
    """The ballot-sized patch of `new` nearest the slot (a shirt's fragments elsewhere do
    not count): area and offset, or 0 and NaN. Ties go to the first component."""
    area, x = _nearest_patches(new[None], r)
    return float(area[0]), float(x[0])


def _nearest_patches(new: np.ndarray, r: object) -> tuple[np.ndarray, np.ndarray]:
    """`_nearest_patch` of each of the K masks `new` (K × h × w), with one labelling: the
    masks one below the other, a blank row after each (no component spans two), label
    numbers in raster order as each mask's own labelling gives them; a component's sample
    is its top row's. Areas and offsets of each sample's patch (0 and NaN where none)."""
    k, h, w = new.shape
    area, offset = np.zeros(k), np.full(k, np.nan)
    stacked = np.zeros((k, h + 1, w), np.uint8)
    stacked[:, :h] = new
    n, _, stats, centroids = cv2.connectedComponentsWithStats(
        stacked.reshape(k * (h + 1), w), connectivity=8
    )
    stats, x = stats[1:n], (centroids[1:n, 0] + r.slot[0] - r.centre_x) / r.box_w
    reach = np.abs(x)
    fits = (
        (stats[:, cv2.CC_STAT_WIDTH] <= r.ballot_w)
        & (stats[:, cv2.CC_STAT_HEIGHT] <= r.ballot_h)
        & (stats[:, cv2.CC_STAT_AREA] >= r.min_patch)
        & (reach <= _SLOT_REACH)
    )
    found = np.flatnonzero(fits)
    if not found.size:
        return area, offset
    sample = stats[found, cv2.CC_STAT_TOP] // (h + 1)
    order = np.lexsort((found, reach[found], sample))  # per sample the nearest, then the first
    first = np.r_[True, np.diff(sample[order]) != 0]
    best, at = found[order][first], sample[order][first]
    area[at] = stats[best, cv2.CC_STAT_AREA]
    offset[at] = x[best]
    return area, offset


def slot_cover(slot: np.ndarray, index: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per sample, the share of the slot's pixels (flat `index` into the slot region) that
    differ from their background values `reference` (N × 3) by more than 40 in a channel."""
    n = len(slot)
    pixels = slot.reshape(n, -1, 3)[:, index].reshape(n * len(index), 3)
    diff = cv2.absdiff(pixels, _tiled(reference, n)).reshape(n, len(index), 3)
    return np.count_nonzero(diff.max(axis=2) > _SLOT_CHANGE, axis=1) / len(index)


def mean_luma(luma: np.ndarray) -> np.ndarray:
    """Per sample, the region's mean luma (`cv2.mean`'s arithmetic: the sum times 1/n)."""
    n = len(luma)
    size = luma[0].size if n else 1
    return luma.reshape(n, -1).sum(axis=1, dtype=np.int64) * (1.0 / size)


def _profiles(luma: np.ndarray, band: tuple[slice, slice]) -> np.ndarray:
    """Per sample, the column-mean luma profile of the `band` rows and columns (float32, as
    `cv2.reduce` averages one row)."""
    part = np.ascontiguousarray(luma[:, band[0], band[1]])
    n, h, w = part.shape
    return cv2.reduce(part.reshape(n * h, w), 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).reshape(n, h)


def line_rows(luma: np.ndarray, band: tuple[slice, slice]) -> np.ndarray:
    """Rows of the fill `band` (of one sample's luma) crossed by the box's own bright edges
    (thin peaks of its column profile): where the pile's edge meets one, its position cannot
    be read."""
    part = luma[band[0], band[1]]
    if part.size == 0:
        return np.zeros(0, int)
    profile = _profiles(part[None], (slice(None), slice(None)))[0]
    local = pd.Series(profile).rolling(9, center=True, min_periods=1).median().to_numpy()
    return np.flatnonzero(profile - local > 25)


def fill_heights(
    luma: np.ndarray,
    band: tuple[slice, slice],
    lines: np.ndarray | None,
    focus: Focus | None = None,
) -> np.ndarray:
    """Per sample (rows of the result): the height (pixels above the box's bottom) of the
    far top edge of the paper pile in the fill `band`, to a fraction of a pixel (NaN without
    a visible pile), the edge's contrast, the brightness above the pile and the rows from
    the edge to the nearest of `lines`.

    The band's column-mean luma profile is climbed from a row just above the box's bottom
    while it stays above the midpoint between the pile and what the box shows above it; the
    edge found is the pile's only where the rows just below it are paper (a bare floor seen
    through the box can lie above that midpoint when a body darkens only the box's upper
    part: the climb then stops at the body, not at the pile). With `PAPER_FROM_PILE`, a batch
    whose edges are out of focus is read against the pile's own paper; `focus` keeps the
    last judgement for a batch too short to judge (none: such a batch is read as sharp)."""
    n = len(luma)
    rows = len(range(*band[0].indices(luma.shape[1]))) if n else 0
    cols = len(range(*band[1].indices(luma.shape[2]))) if n else 0
    if rows < 8 or cols < 2:
        return np.tile([np.nan, 0.0, np.nan, np.inf], (n, 1))
    return _fill_edges(_profiles(luma, band), lines, focus or Focus())


def _fill_edges(profiles: np.ndarray, lines: np.ndarray | None, focus: Focus) -> np.ndarray:
    """`fill_heights` of each profile (row), the arithmetic of one profile at a time: the
    midpoint compared with the float32 profile as a float32 (NumPy's rule for a Python
    float against a float32 array), every other step in float64."""
    k, n = profiles.shape
    out = np.tile([np.nan, 0.0, np.nan, np.inf], (k, 1))
    body = n - 1 - max(1, round(0.12 * n))
    top = profiles[:, : max(1, int(0.4 * n))]
    above = np.partition(top, top.shape[1] // 2, axis=1)[:, top.shape[1] // 2].astype(float)
    paper = profiles[:, body].astype(float)
    contrast = paper - above
    out[:, 1], out[:, 2] = np.maximum(contrast, 0.0), above
    mid = 0.5 * (paper + above)
    dark = profiles[:, :body] <= mid.astype(np.float32)[:, None]
    seen = (contrast >= 30) & dark.any(axis=1)
    if not seen.any():
        return out
    rows = np.flatnonzero(seen)
    y = body - np.argmax(dark[rows, ::-1], axis=1)  # one past the last dark row
    paper_below = _paper_below(profiles[rows], y, body, paper[rows] - _PAPER_SHARE * contrast[rows])
    blurred = PAPER_FROM_PILE and _out_of_focus(profiles[rows], y, contrast[rows], focus)
    if blurred:  # which samples read a pile is decided above: only the edge moves
        mid, y = _mid_from_pile(profiles[rows], y, body, paper[rows], above[rows], mid, rows)
    a = profiles[rows, y - 1].astype(float)
    b = profiles[rows, y].astype(float)
    step = b - a
    safe = np.where(step != 0, step, 1.0)
    edge = np.where(step != 0, y - (b - mid[rows]) / safe, y.astype(float))
    rows, edge = rows[paper_below], edge[paper_below]
    out[rows, 0] = n - 1 - edge
    out[rows, 1] = contrast[rows]
    if lines is not None and lines.size:
        out[rows, 3] = np.min(np.abs(lines[None, :] - edge[:, None]), axis=1)
        if blurred and UNDER_LINE_ROWS:  # read as on the line: not read
            under = edge[:, None] - lines[None, :]
            out[rows[((under > 0) & (under <= UNDER_LINE_ROWS)).any(axis=1)], 3] = 0.0
    return out


def _out_of_focus(profiles: np.ndarray, y: np.ndarray, contrast: np.ndarray, focus: Focus) -> bool:
    """Whether the edges of a batch are out of focus: more than half of them span more than
    `_BLURRED_EDGE_ROWS` rows (an edge's span: its contrast over the steepest one-row rise of
    its profile into a row within `_EDGE_REACH` of `y`, the first crossing's bright row);
    with fewer than `_FOCUS_EDGES` edges, `focus`'s last judgement (kept there)."""
    if len(y) < _FOCUS_EDGES:
        return focus.out_of_focus
    rise = np.diff(profiles, axis=1)  # rise[:, r - 1]: into row r
    at = np.clip(y[:, None] + np.arange(-_EDGE_REACH - 1, _EDGE_REACH - 1), 0, rise.shape[1] - 1)
    steep = np.take_along_axis(rise, at, axis=1).max(axis=1)
    focus.out_of_focus = 2 * np.count_nonzero(contrast > _BLURRED_EDGE_ROWS * steep) > len(y)
    return focus.out_of_focus


def _mid_from_pile(
    profiles: np.ndarray,
    y: np.ndarray,
    body: int,
    paper: np.ndarray,
    above: np.ndarray,
    mid: np.ndarray,
    rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The midpoint with the paper read as the median of the rows `y` .. `body` of each
    profile (where brighter than the body row), and the edge's first bright row found again
    against it, walking down from `y` (the pile's own rows only: a darker strip at the box's
    bottom is not climbed to): `mid` (all samples) and `y` (the `rows` read) updated."""
    at = np.arange(body + 1)
    inside = at[None, :] >= y[:, None]
    part = np.sort(np.where(inside, profiles[:, : body + 1], np.inf), axis=1)
    count = body + 1 - y
    low = np.take_along_axis(part, ((count - 1) // 2)[:, None], axis=1)[:, 0]
    high = np.take_along_axis(part, (count // 2)[:, None], axis=1)[:, 0]
    pile = (low + high) / np.float32(2)  # the median of the rows inside, as float32
    mid = mid.copy()
    mid[rows] = 0.5 * (np.maximum(pile, paper) + above)
    bright = (profiles[:, : body + 1] > mid[rows].astype(np.float32)[:, None]) & inside
    bright[:, body] = True
    return mid, np.argmax(bright, axis=1)


def _paper_below(profiles: np.ndarray, y: np.ndarray, body: int, least: np.ndarray) -> np.ndarray:
    """Whether the `_PAPER_ROWS` rows below each edge are paper: `y` is the edge's first
    bright row, the rows read are those after it, none past `body`; their mean at least
    `least`. True where no such row is left (the edge at the bottom)."""
    at = y[:, None] + 1 + np.arange(_PAPER_ROWS)[None, :]
    inside = at <= body
    vals = np.take_along_axis(profiles, np.minimum(at, body), axis=1).astype(float)
    count = inside.sum(axis=1)
    mean = np.where(inside, vals, 0.0).sum(axis=1) / np.maximum(count, 1)
    return (count == 0) | (mean >= least)
