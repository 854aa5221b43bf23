"""Watching the ballot box: per-frame measurements of a small region around it.

`BoxWatcher` is an engine analyser. It reads only the pixels around the box (`Frame.ycc_region`)
several times a second and records, per sampled frame:

* `white`, `white_x` — the largest ballot-sized patch of paper-white pixels at the lid that are
  not in the recent background, within 0.4 box widths of the box's middle (pixels, 0 when
  none), and its centre's offset from the box's middle in box widths: the ballot in a voter's
  hand shows there for about half a second before it goes in at the slot (a white shirt
  passing by makes larger patches, or patches further out, which are not counted);
* `fill` — the height in pixels of the paper pile inside the transparent box (the far top edge
  of the pile, to a fraction of a pixel; NaN when no pile can be seen): it steps up with every
  ballot that goes in;
* `fill_contrast`, `fill_above` — how clearly that edge stands out (paper minus what the box
  shows above the pile), and that brightness above the pile (the floor through the box, or
  someone standing behind it); `fill_line` — rows between that edge and the nearest of the
  box's own bright edges (where the two meet the position is unreliable);
* `fg` — the share of the region around the box that differs from the recent background
  (someone at, behind or in front of the box);
* `luma` — the region's mean brightness (lights off, lens covered);
* `outline` — how strongly the box's outline shows, relative to its strength in the view the
  zone was fitted on (checked every 2 s: the box hidden or the camera turned);
* `view` — the correlation of the coarse picture around the box (blurred, an eighth of the
  size, the box's own bounding box left out: its pile grows)
  with that of the last picture where the outline showed clearly and nobody was at the box
  (`fg` under 0.05), taken as it was or blurred
  by 2.5 or 5 px (the best of the three), checked with `outline`: a lens going out of focus
  erases the outline's thin lines but keeps the coarse picture (about 1), a camera turned
  away or a screen put in front changes it;
* `motion` — mean absolute change of the region since the previous sample (a frozen picture);
* `slot_cover` — the share of the slot's pixels (the thin dark line on the lid, found in the
  recent background) that something in front of the box covers: the hand and the ballot going
  in hide it for a fraction of a second, whatever the voter wears, while the people behind the
  box (drawn over by it) and beside it do not (NaN while no slot is seen);
* `front` — the share of the box's bottom (its lowest 15%, middle columns) that differs from
  the recent background: someone passing in front of the box, not a hand over its lid.

A sample in which no pixel of the half-size watch region moved by more than 12 luma levels
since the measures were last taken repeats them (only `motion` is measured afresh; every 2 s,
with the background and outline checks, all are taken: `skip_still`, on by default). On
`benchmarks/video.py`'s clip a third of the samples repeat. Only whole rows repeat: gating the
slot's or the fill band's measures on their own part of the picture (session 4) changed drops
on a camera without a polygon (demo seed 71): the paper-white patch is a count of pixels over
a threshold, which the encoder's noise moves by a few pixels where no pixel moved by more than
8 levels, and the fill band's column profile moves by a level or two where a smooth shadow
crosses it; repeating either lost true drops there (see docs/video.md, session 5).

With `idle_fps` (2.5 by default since session 11; 5 in sessions 6-10), while no pixel of the
slot's surroundings and the box below them (`BoxRegions.near`) moved for `idle_s` (1 s),
samples are read at that rate only (two of every three samples at 10 fps are not read): an
unread sample repeats the row before it; the last unread one before a read takes, for
`motion`, the smaller of the reads' before and after it (at 5 fps, one unread sample between
two reads: a frozen picture's run of zero motion then starts and ends where it would at the
full rate, though a keyframe's jump falls next to it; at 2.5 fps the run can start a sample
later); the background and outline checks every 2 s are never skipped. A voter's hand
reaches the box through those pixels, and the full rate is back from the first sample that
sees it. On the tuning seeds' box cameras neither rate changes a drop time or an evaluation
figure; at 5 fps it leaves a quarter to a third of the samples unread there, at 2.5 fps
36-47 % (docs/video.md, sessions 6 and 11).

The measures are taken a batch of samples at a time (`pollwatch.counting.measures`): each
measured sample's watch region is copied from the frame's planes as it arrives, and the
samples between two background snapshots (2 s) are measured together with the same
operations on the stacked regions, giving the same series to the last bit; only the
still/idle gate and `motion` are taken sample by sample.

Turning these series into drops is `pollwatch.counting.drops`; the watcher only measures.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np
import pandas as pd

from pollwatch.counting.arms import ARM_COLUMNS, arm_motion
from pollwatch.counting.measures import (
    Focus,
    SampleBatch,
    changed_shares,
    fill_heights,
    line_rows,
    mean_luma,
    slot_cover,
    white_patches,
)
from pollwatch.video.analyser import Needs
from pollwatch.video.boxfind import line_map, median_image
from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo
from pollwatch.video.zone import Zone

__all__ = ["SERIES_COLUMNS", "BoxRegions", "BoxWatcher", "WatchResult"]

SERIES_COLUMNS = [
    "t_s",
    "white",
    "white_x",
    "fill",
    "fill_contrast",
    "fill_above",
    "fill_line",
    "fg",
    "luma",
    "outline",
    "view",
    "motion",
    "slot_cover",
    "front",
    *ARM_COLUMNS,  # arms moving in on the slot from its left and right (`counting.arms`)
]

# the columns a sample's measures fill (`_flush`'s table), and where each one is in it
_MEASURES = [c for c in SERIES_COLUMNS if c not in ("t_s", "motion")]
_AT = {name: k for k, name in enumerate(_MEASURES)}
_BATCH = 32  # samples measured together at most (`SampleBatch`)
_WHITE_CHROMA = 14  # |Cb − 128|, |Cr − 128| of paper (neutral)
_BG_EVERY_S = 2.0  # a background snapshot every this many seconds ...
_BG_KEEP = 9  # ... and the median of this many of them
_OUTLINE_EVERY_S = 2.0  # seconds between two outline (and view) checks, by default
_DEFOCUS_SIGMAS = (0.0, 2.5, 5.0)  # the reference view also compared blurred by these (px)
_NOBODY = 0.05  # at most this share of the region changed: nobody at the box
_OUTLINE_SEEN = 0.7  # an outline this strong: the box in view, its coarse picture the reference
_SLOT_AFTER = 5  # the slot is looked for once this many background snapshots are kept
# The box's own lines in the fill band (`line_rows`) are read from a view's first sample; when
# that sample, judged once the background has settled (`_SLOT_AFTER` snapshots), shows someone
# at the box (`fg` at least `_NOBODY`), the rows of the first sample that shows nobody are
# added (session 14, linerows14: a view starting with a voter behind the box read its lines a
# row apart, and the pile's edge read beside a line made a false bundle of 4 on demo 190
# cam-D002-002; docs/counting.md "Session 14 (linerows14 ...)"). False: the first sample's kept.
LINES_REREAD = True
_SLOT_HAT = 9  # rows of the black top-hat that finds a sharp slot ...
_BLURRED_SLOT_HATS = (15, 21)  # ... and those tried while none was found: a slot blurred by a
# lens out of focus (σ 2.5–5 px) is a bar 5–10 rows thick, which a 9-row top-hat flattens
_BLURRED_CORE = 0.8  # a blurred slot's pixels: at least this share of its darkest's depth
_STILL_LEVEL = 12  # a half-size luma pixel differing by more than this from the last ...
_STILL_PIXELS = 0  # ... fully measured sample (at most this many of them): nothing moved


@dataclass(frozen=True)
class BoxRegions:
    """The image regions watched around a box zone (pixels of `frame.image`), as
    (x0, y0, x1, y1) boxes, derived from the zone's bounding box of width w, height h:

    `watch` — everything watched: 0.25 w either side, from 1.3 h above the box to its bottom;
    `slot` — where a ballot shows before it goes in: 0.1 w either side, 0.35 h above the lid
    to 0.3 h below its top; `fill` — the middle columns of the box (clear of its edges and a
    seal in a corner) over its whole height, where the paper pile's top edge is measured.
    """

    watch: tuple[int, int, int, int]
    slot: tuple[int, int, int, int]
    fill: tuple[int, int, int, int]
    outline: np.ndarray  # the zone polygon, in watch-region pixels
    box_w: float
    box_h: float
    box_top: float
    centre_x: float
    ballot_w: float  # the largest patch still taken for a ballot in a hand: 0.35 w × 0.4 h
    ballot_h: float
    min_patch: float  # the smallest: 0.002 h²

    @classmethod
    def around(cls, zone: Zone, width: int, height: int) -> BoxRegions:
        x0, y0, x1, y1 = zone.bbox
        w, h = x1 - x0, y1 - y0

        def clip(a: float, b: float, c: float, d: float) -> tuple[int, int, int, int]:
            return (
                int(max(0, round(a))),
                int(max(0, round(b))),
                int(min(width, round(c))),
                int(min(height, round(d))),
            )

        watch = clip(x0 - 0.25 * w, y0 - 1.3 * h, x1 + 0.25 * w, y1 + 2)
        slot = clip(x0 - 0.1 * w, y0 - 0.35 * h, x1 + 0.1 * w, y0 + 0.3 * h)
        fill = clip(x0 + 0.25 * w, y0, x1 - 0.3 * w, y1)
        outline = zone.polygon - np.float32([watch[0], watch[1]])
        return cls(
            watch, slot, fill, outline, w, h, y0, (x0 + x1) / 2, 0.35 * w, 0.4 * h, 0.002 * h * h
        )

    @property
    def bottom(self) -> tuple[slice, slice]:
        """Rows and columns of the half-size watch region showing the box's lowest 15%
        (middle columns): what only something in front of the box hides."""
        rows, cols = self.local(self.fill)
        stop = max(rows.stop // 2, 1)
        start = min(max(round((rows.stop - 0.15 * self.box_h) / 2), 0), stop - 1)
        return slice(start, stop), slice(cols.start // 2, max(cols.stop // 2, cols.start // 2 + 1))

    @property
    def near(self) -> tuple[slice, slice]:
        """Rows and columns of the half-size watch region showing the slot's surroundings
        and the box below them: where a voter's hand and ballot move."""
        return self.half((self.slot[0], self.slot[1], self.slot[2], self.watch[3]))

    def local(self, box: tuple[int, int, int, int]) -> tuple[slice, slice]:
        """Row and column slices of `box` inside the watch region."""
        wx, wy = self.watch[:2]
        return slice(box[1] - wy, box[3] - wy), slice(box[0] - wx, box[2] - wx)

    def half(self, box: tuple[int, int, int, int]) -> tuple[slice, slice]:
        """Row and column slices covering `box` in the half-size watch region."""
        wx, wy = self.watch[:2]
        rows = slice((box[1] - wy) // 2, -(-(box[3] - wy) // 2))
        return rows, slice((box[0] - wx) // 2, -(-(box[2] - wx) // 2))


@dataclass(frozen=True, eq=False)
class WatchResult:
    """The measured series (a DataFrame of `SERIES_COLUMNS`, one row per sampled frame), the
    regions watched, the gaps the engine reported, the per-ballot fill resolution hint
    `box_height_px` (the zone's height, for plausibility checks), and whether the ballot
    slot was only ever seen out of focus (`slot_blurred`: its hands are rough evidence)."""

    series: pd.DataFrame
    regions: BoxRegions | None
    gaps: tuple[Gap, ...]
    box_height_px: float
    slot_blurred: bool = False


@dataclass
class _State:
    # per row: its time, its motion and which measured sample's measures it holds
    times: list[float] = field(default_factory=list)
    motion: list[float] = field(default_factory=list)
    source: list[int] = field(default_factory=list)
    measured: int = 0  # samples measured (or waiting in `batch`)
    measures: list[np.ndarray] = field(default_factory=list)  # per batch: K × _MEASURES
    batch: SampleBatch | None = None  # the measured samples waiting to be measured
    snapshots: deque = field(default_factory=lambda: deque(maxlen=_BG_KEEP))
    background: np.ndarray | None = None
    last_snapshot: float = -np.inf
    previous: np.ndarray | None = None
    outline_ref: float | None = None
    outline: float = np.nan
    view: float = np.nan
    view_ref: np.ndarray | None = None  # luma of the last view with the outline clear
    # `_coarse` of view_ref at each defocus sigma, around the box, those not flat
    view_coarse: list[np.ndarray] | None = None
    last_outline: float = -np.inf
    samples: int = 0
    regions: BoxRegions | None = None
    gaps: list[Gap] = field(default_factory=list)
    bg_white: np.ndarray | None = None
    slot_background: np.ndarray | None = None
    slot_luma: np.ndarray | None = None
    lines: np.ndarray | None = None  # rows of the fill band where the box's own edges run
    # the half-size region of the sample `lines` were read from, until it is judged
    # (`LINES_REREAD`): None once judged clear or read again
    lines_from: np.ndarray | None = None
    lines_from_clear: bool | None = None  # whether nobody was at the box in it (once judged)
    focus: Focus = field(default_factory=Focus)  # whether the pile's edge was last out of focus
    white_low: tuple[float, float, float] = (0.0, 0.0, 0.0)
    white_high: tuple[float, float, float] = (0.0, 0.0, 0.0)
    slot_mask: np.ndarray | None = None  # the slot's pixels in the slot region
    slot_sharp: bool = False  # a sharp slot was found (blurred ones are no longer looked for)
    slot_index: np.ndarray | None = None  # their flat indices
    slot_ref: np.ndarray | None = None  # their background values (N × 3)
    outline_pts: np.ndarray | None = None  # the zone's outline, in watch-region pixels
    around: tuple[tuple[int, ...], np.ndarray] | None = None  # `_around_box` for a shape
    anchor: np.ndarray | None = None  # the half-size luma when the measures were last taken
    active_until: float = -np.inf  # something moved near the box: the full rate until then
    last_read: float = -np.inf  # the last sample whose picture was read
    unread: bool = False  # the last row repeats the one before it (not read)


class BoxWatcher:
    """Measures the box zone `zone` (polygon in `frame.image` pixels) `fps` times a second;
    see the module docstring. `white_level`: lowest luma of paper-white as a share of the
    brightest background pixels around the box (the box's own edges, lit like the ballot: a
    light grey shirt stays below it). `skip_still` repeats the measures of a sample in which
    nothing near the box moved; `idle_fps` (None: off; needs `skip_still`) reads samples at
    that rate only while the slot and the box stood still for `idle_s` seconds (see the
    module docstring). The periodic work: the outline and view checks every
    `outline_every_s`, a background snapshot every `snapshot_every_s`, the background the
    median of the last `snapshot_keep` snapshots (2 s, 2 s and 9 by default; longer periods
    cost less and change the series: docs/video.md, session 11)."""

    def __init__(
        self,
        zone: Zone,
        *,
        fps: float = 10.0,
        white_level: float = 0.9,
        skip_still: bool = True,
        idle_fps: float | None = 2.5,
        idle_s: float = 1.0,
        outline_every_s: float = _OUTLINE_EVERY_S,
        snapshot_every_s: float = _BG_EVERY_S,
        snapshot_keep: int = _BG_KEEP,
    ) -> None:
        if not isinstance(zone, Zone):
            raise ValueError(f"zone must be a Zone, got {type(zone).__name__}")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if not 0 < white_level < 1:
            raise ValueError(f"white_level must be in (0, 1), got {white_level}")
        if idle_fps is not None and not 0 < idle_fps < fps:
            raise ValueError(f"idle_fps must be in (0, fps) or None, got {idle_fps}")
        if not idle_s >= 0:
            raise ValueError(f"idle_s must be >= 0, got {idle_s}")
        if not outline_every_s > 0:
            raise ValueError(f"outline_every_s must be positive, got {outline_every_s}")
        if not snapshot_every_s > 0:
            raise ValueError(f"snapshot_every_s must be positive, got {snapshot_every_s}")
        if not snapshot_keep >= 1:
            raise ValueError(f"snapshot_keep must be >= 1, got {snapshot_keep}")
        self.zone = zone
        # a sample is read at most every `_idle_dt` s while nothing moved near the box for
        # `idle_s` (0.75 of the idle period: the engine's samples jitter by a frame)
        self._idle_dt = 0.75 / idle_fps if idle_fps and skip_still else 0.0
        self.idle_s = float(idle_s)
        self.outline_every_s = float(outline_every_s)
        self.snapshot_every_s = float(snapshot_every_s)
        self.snapshot_keep = int(snapshot_keep)
        self.white_level = float(white_level)
        self.skip_still = bool(skip_still)
        self._needs = Needs(video=True, fps=float(fps))
        self.reset()

    @property
    def needs(self) -> Needs:
        return self._needs

    def reset(self) -> None:
        self._s = _State(snapshots=deque(maxlen=self.snapshot_keep))

    def start(self, info: StreamInfo) -> None:
        self._s.regions = BoxRegions.around(self.zone, info.width, info.height)

    def on_audio(self, chunk: AudioChunk) -> None:
        """The box is watched, not heard."""

    def on_gap(self, gap: Gap) -> None:
        """After a gap the background is taken afresh."""
        self._flush()
        s = self._s
        s.gaps.append(gap)
        s.snapshots.clear()
        s.background, s.previous, s.last_snapshot = None, None, -np.inf
        s.anchor, s.unread = None, False
        s.bg_white, s.slot_background, s.slot_ref = None, None, None

    def update(self, frame: Frame) -> None:
        s = self._s
        if s.regions is None:  # a frame without start(): take the frame's size
            s.regions = BoxRegions.around(self.zone, frame.width, frame.height)
        r = s.regions
        # the watch region's planes are copied into the batch; its luma at half size
        # (every other pixel, as a nearest-neighbour halving picks them) tells whether
        # anything in it moved since the measures were last taken (`_moved`): when nothing
        # did, they are not taken again (the periodic ones always are). The measures of the
        # samples kept are taken for the whole batch at once (`_flush`).
        x0, y0, x1, y1 = r.watch
        rows, cols = min(y1, frame.height) - max(0, y0), min(x1, frame.width) - max(0, x0)
        if rows <= 0 or cols <= 0:
            return
        t = frame.pts_s
        if self._idle(t):  # nothing moved near the box lately: this sample is not read
            s.samples += 1
            self._repeat(t, s.motion[-1])
            s.unread = True
            return
        s.last_read = t
        snapshot = t - s.last_snapshot >= self.snapshot_every_s
        if snapshot or (s.batch is not None and s.batch.full):
            self._flush()  # the samples before use the background before
        planes = frame.region_planes(*r.watch)
        batch = s.batch
        if batch is None or batch.key != SampleBatch.key_of(planes, r.slot):
            self._flush()
            half = (max(1, rows // 2), max(1, cols // 2))
            batch = s.batch = SampleBatch(planes, r.slot, half, _BATCH)
        small_luma = batch.add(planes)
        change = None  # its change since the previous sample (the gate's too, mostly)
        if s.previous is not None and s.previous.shape == small_luma.shape:
            change = cv2.absdiff(small_luma, s.previous)
        motion = cv2.mean(change)[0] if change is not None else np.nan
        if s.anchor is not s.previous:  # the measures were last taken before the previous
            change = None
        s.previous = small_luma
        if s.unread:  # the unread sample before: the smaller motion of the reads around it
            s.motion[-1] = float(np.fmin(s.motion[-1], motion))
            s.unread = False
        outline = t - s.last_outline >= self.outline_every_s
        s.samples += 1
        if not self._moved(small_luma, t, snapshot or outline, change):
            self._repeat(t, motion)  # nothing near the box moved: every measure but motion
            return
        if snapshot:
            s.last_snapshot, batch.snapshot = t, True
        if outline:
            s.last_outline = t
        batch.commit(outline_due=outline)
        s.times.append(t)
        s.motion.append(motion)
        s.source.append(s.measured)
        s.measured += 1

    def _repeat(self, t: float, motion: float) -> None:
        """A row repeating the last one's measures, with its own time and `motion`."""
        s = self._s
        s.times.append(t)
        s.motion.append(motion)
        s.source.append(s.source[-1])

    def _flush(self) -> None:
        """Measure the samples waiting in the batch (the first one's picture first becoming
        a background snapshot when it was due) with the background as it stands."""
        s, batch = self._s, self._s.batch
        if batch is None or not batch.count:
            return
        r = s.regions
        small, luma, slot = batch.stacks()
        if batch.snapshot:
            self._snapshot(small[0], slot[0])
        n = batch.count
        out = np.empty((n, len(_MEASURES)))
        if s.background is not None and s.background.shape == small.shape[1:]:
            out[:, _AT["fg"]], out[:, _AT["front"]] = changed_shares(small, s.background, r.bottom)
        else:
            out[:, _AT["fg"]], out[:, _AT["front"]] = 0.0, np.nan
        if s.bg_white is not None and s.slot_luma is not None:
            out[:, _AT["white"]], out[:, _AT["white_x"]] = white_patches(
                slot, s.white_low, s.white_high, s.bg_white, s.slot_luma, r
            )
        else:
            out[:, _AT["white"]], out[:, _AT["white_x"]] = 0.0, np.nan
        if s.slot_mask is None or s.slot_ref is None or slot.shape[1:3] != s.slot_mask.shape:
            out[:, _AT["slot_cover"]] = np.nan
        else:
            out[:, _AT["slot_cover"]] = slot_cover(slot, s.slot_index, s.slot_ref)
        band = r.local(r.fill)
        if s.lines is None and s.background is not None:
            s.lines = line_rows(luma[0], band)
            s.lines_from = small[0].copy() if LINES_REREAD else None
        elif s.lines_from is not None:
            self._lines_again(small, luma, out[:, _AT["fg"]], band)
        out[:, _AT["fill"] : _AT["fill_line"] + 1] = fill_heights(luma, band, s.lines, s.focus)
        out[:, _AT["luma"]] = mean_luma(luma)
        out[:, _AT["arm_l"]], out[:, _AT["arm_r"]] = arm_motion(luma, r)
        for k, due in enumerate(batch.outline_due):  # every 2 s, in time order
            if due:
                s.outline = self._outline(luma[k], r)
                seen = s.outline >= _OUTLINE_SEEN and out[k, _AT["fg"]] < _NOBODY
                s.view = self._view(luma[k], r, seen=seen)
            out[k, _AT["outline"]], out[k, _AT["view"]] = s.outline, s.view
        s.measures.append(out)
        batch.count, batch.outline_due, batch.snapshot = 0, [], False

    def _lines_again(
        self, small: np.ndarray, luma: np.ndarray, fg: np.ndarray, band: tuple[slice, slice]
    ) -> None:
        """`LINES_REREAD`: once the background has settled, judge the sample the line rows
        were read from against it; when someone was at the box then, read them again from
        the first sample of this batch (`small`, `luma`, its `fg`) that shows nobody, and add
        the rows it shows."""
        s = self._s
        settled = len(s.snapshots) >= min(_SLOT_AFTER, self.snapshot_keep)
        if not settled or s.background is None or s.background.shape != s.lines_from.shape:
            return
        if s.lines_from_clear is None:
            first, _ = changed_shares(s.lines_from[None], s.background, s.regions.bottom)
            s.lines_from_clear = bool(first[0] < _NOBODY)
        if s.lines_from_clear:
            s.lines_from = None
            return
        clear = np.flatnonzero(fg < _NOBODY)
        if clear.size:  # rows only added: a background settled with people in it can
            # take someone for nobody, whose picture then misses a line (the crowded test clip)
            s.lines, s.lines_from = np.union1d(s.lines, line_rows(luma[clear[0]], band)), None

    def _idle(self, t: float) -> bool:
        """Whether the sample at `t` is left unread: with `idle_fps`, while nothing moved
        near the box (`_moved`) for `idle_s`, samples are read at that rate only (the
        background and outline checks are never skipped)."""
        s = self._s
        return (
            t - s.last_read < self._idle_dt
            and t >= s.active_until
            and bool(s.times)
            and t - s.last_snapshot < self.snapshot_every_s
            and t - s.last_outline < self.outline_every_s
        )

    def _moved(
        self, luma: np.ndarray, t: float, force: bool = False, change: np.ndarray | None = None
    ) -> bool:
        """Whether `luma` (the half-size luma of the watch region) moved since the measures
        were last taken: a pixel differs from then by more than `_STILL_LEVEL` (the
        encoder's noise in a still room stays below). When it did (or with `force`, or
        without `skip_still`) the measures are taken now: `luma` is kept. A pixel of the
        slot's and the box's part of it that moved keeps the full rate for `idle_s`.
        `change`: `luma`'s absolute difference from then, when already known."""
        s = self._s
        anchor = s.anchor
        if not self.skip_still:
            s.anchor = luma
            return True
        if anchor is None or anchor.shape != luma.shape:
            s.active_until = t + self.idle_s
        else:
            if change is None:
                change = cv2.absdiff(luma, anchor)
            moved = cv2.compare(change, _STILL_LEVEL, cv2.CMP_GT)
            near = s.regions.near if self._idle_dt and s.regions is not None else None
            if near is not None and cv2.countNonZero(moved[near]) > _STILL_PIXELS:
                s.active_until = t + self.idle_s
            if not force and cv2.countNonZero(moved) <= _STILL_PIXELS:
                return False
        s.anchor = luma
        return True

    def _snapshot(self, small: np.ndarray, slot: np.ndarray) -> None:
        """Keep a snapshot; the background is the median of the last few. Paper-white pixels
        of the background's slot region (box edges, a white wall) do not count as new paper."""
        s = self._s
        # both regions' pixels in one array: one per-pixel median for the two
        both = np.concatenate([small.ravel(), slot.ravel()])
        if s.snapshots and s.snapshots[-1].shape != both.shape:
            s.snapshots.clear()
        s.snapshots.append(both)
        both = median_image(list(s.snapshots))
        s.background = both[: small.size].reshape(small.shape)
        base = s.slot_background = both[small.size :].reshape(slot.shape)
        s.slot_luma = cv2.extractChannel(base, 0)
        level = self.white_level * _percentile(base[..., 0], 99) if base.size else 255.0
        s.white_low = (level, 128 - _WHITE_CHROMA, 128 - _WHITE_CHROMA)
        s.white_high = (255, 128 + _WHITE_CHROMA, 128 + _WHITE_CHROMA)
        s.bg_white = cv2.inRange(base, s.white_low, s.white_high)
        # the slot is looked for at once, then again in every settled background (kept
        # where a search finds none: someone standing behind the box for long)
        if s.regions is not None and (
            s.slot_mask is None or len(s.snapshots) >= min(_SLOT_AFTER, self.snapshot_keep)
        ):
            found = _slot_line(s.slot_luma, s.regions)
            s.slot_sharp |= found is not None
            for hat in () if s.slot_sharp else _BLURRED_SLOT_HATS:
                # no sharp slot in this recording yet: perhaps a blurred one (a lens out of
                # focus); a sharp slot found later replaces it
                found = _slot_line(s.slot_luma, s.regions, hat=hat)
                if found is not None:
                    break
            if found is not None:
                s.slot_mask, s.slot_index = found, np.flatnonzero(found)
        if s.slot_mask is not None and s.slot_mask.shape == base.shape[:2]:
            s.slot_ref = base.reshape(-1, 3)[s.slot_index]

    def _outline(self, luma: np.ndarray, r: BoxRegions) -> float:
        lines = line_map(luma)
        s = self._s
        if s.outline_pts is None:  # the zone's outline points, once per recording
            s.outline_pts = np.round(_outline_points(r.outline)).astype(int)
        pts = s.outline_pts
        h, w = lines.shape
        inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
        if not inside.any():
            return 0.0
        dil = cv2.dilate(lines, np.ones((3, 3), np.uint8))
        value = float(dil[pts[inside, 1], pts[inside, 0]].mean()) * float(inside.mean())
        if s.outline_ref is None and value > 0:
            s.outline_ref = value
        elif s.outline_ref is not None:  # the reference follows slow changes in lighting
            s.outline_ref = max(s.outline_ref * 0.995, min(value, 2 * s.outline_ref))
        return value / s.outline_ref if s.outline_ref else 0.0

    def _view(self, luma: np.ndarray, r: BoxRegions, *, seen: bool) -> float:
        """How well the coarse picture around the box (the box itself left out: its pile
        grows) matches the last one where the box's outline was `seen` clearly, that one taken
        as it is or out of focus (blurred by `_DEFOCUS_SIGMAS`): the best correlation (NaN
        while the picture is flat)."""
        s = self._s
        fresh = seen or s.view_ref is None or s.view_ref.shape != luma.shape
        if fresh:
            s.view_ref, s.view_coarse = luma.copy(), None
        if s.around is None or s.around[0] != luma.shape:  # once per region size
            s.around = (luma.shape, _around_box(luma.shape, r.outline))
        around = s.around[1]
        now = _coarse(luma)[around]
        if now.size < 4 or float(now.std()) < 1.0:
            return np.nan
        if fresh:  # the reference is this very picture: a perfect match
            return 1.0
        if s.view_coarse is None:  # the reference's coarse pictures, once per reference
            # (those not flat: a flat one is never compared)
            coarse = (_coarse(s.view_ref, sigma)[around] for sigma in _DEFOCUS_SIGMAS)
            s.view_coarse = [ref for ref in coarse if float(ref.std()) >= 1.0]
        best = np.nan
        for ref in s.view_coarse:
            value = _correlation(now, ref)
            if np.isnan(best) or value > best:  # np.nanmax of the two
                best = value
        return float(best)

    def result(self) -> WatchResult:
        self._flush()
        s = self._s
        if s.times:
            measured = np.concatenate(s.measures)[s.source]
            columns = {"t_s": np.array(s.times, float), "motion": np.array(s.motion, float)}
            columns |= {name: measured[:, k] for k, name in enumerate(_MEASURES)}
            series = pd.DataFrame({name: columns[name] for name in SERIES_COLUMNS})
        else:
            series = pd.DataFrame([], columns=SERIES_COLUMNS)
        _, y0, _, y1 = self.zone.bbox
        blurred = s.slot_mask is not None and not s.slot_sharp
        return WatchResult(series, s.regions, tuple(s.gaps), float(y1 - y0), blurred)


def _coarse(luma: np.ndarray, sigma: float = 0.0) -> np.ndarray:
    """The picture (first blurred by `sigma`, when given) blurred and shrunk to an eighth,
    flat (float32). Blurred as float32: OpenCV's bit-exact 8-bit Gaussian of these widths
    costs three to four times as much."""
    h, w = luma.shape
    size = (max(2, w // 8), max(2, h // 8))
    image = luma.astype(np.float32)
    if sigma:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    small = cv2.resize(cv2.GaussianBlur(image, (0, 0), 4.0), size, interpolation=cv2.INTER_AREA)
    return small.ravel()


def _percentile(values: np.ndarray, q: int) -> float:
    """`float(np.percentile(values, q))` of integer `values` (not empty): its "linear"
    arithmetic step by step (the two order statistics around (n − 1) q / 100 and NumPy's
    `_lerp` between them) without its argument handling, which costs several times the
    partition on a few thousand pixels."""
    flat = values.ravel()
    n = flat.size
    virtual = (n - 1) * (q / 100)
    if virtual >= n - 1:
        return float(flat.max())
    below = math.floor(virtual)
    part = np.partition(flat, (below, below + 1))
    a, b = int(part[below]), int(part[below + 1])
    t = virtual - below
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """`np.corrcoef(a, b)[0, 1]` of two flat arrays, its arithmetic step by step (the same
    float64 operations in the same order) without its argument handling, which costs ten
    times the arithmetic on arrays of a few hundred cells."""
    x = np.empty((2, a.size))
    x[0], x[1] = a, b
    x -= x.mean(axis=1)[:, None]
    c = np.dot(x, x.T.conj())
    c *= np.true_divide(1, a.size - 1)
    sd = np.sqrt(np.diag(c))
    return float(np.clip(c[0, 1] / sd[0] / sd[1], -1, 1))


def _around_box(shape: tuple[int, ...], outline: np.ndarray) -> np.ndarray:
    """Which cells of `_coarse`'s grid lie outside the box's bounding box (4 px margin)."""
    h, w = shape[:2]
    rows = (np.arange(max(2, h // 8)) + 0.5) * h / max(2, h // 8)
    cols = (np.arange(max(2, w // 8)) + 0.5) * w / max(2, w // 8)
    (x0, y0), (x1, y1) = outline.min(axis=0) - 4, outline.max(axis=0) + 4
    inside = ((rows >= y0) & (rows <= y1))[:, None] & ((cols >= x0) & (cols <= x1))[None, :]
    return ~inside.ravel()


def _outline_points(poly: np.ndarray) -> np.ndarray:
    pts = []
    for j in range(len(poly)):
        p, q = poly[j], poly[(j + 1) % len(poly)]
        n = max(int(np.hypot(*(q - p))), 1)
        pts.append(p + np.linspace(0, 1, n, endpoint=False)[:, None] * (q - p))
    return np.concatenate(pts)


def _slot_line(luma: np.ndarray, r: BoxRegions, *, hat: int = _SLOT_HAT) -> np.ndarray | None:
    """The slot on the box's lid in the slot region's background luma: the widest thin dark
    horizontal line (black top-hat `hat` rows tall) in the middle of the box's upper part, at
    least 0.15 box widths long and four times as wide as it is thick; None when there is none.
    A top-hat taller than `_SLOT_HAT` looks for a slot out of focus: a bar at least 3 rows
    thick (a sharp one is found by the sharp top-hat)."""
    x0, y0 = r.slot[0], r.slot[1]
    top = round(r.box_top) - y0  # the box's top row in the slot region
    a, b = max(0, top - round(0.1 * r.box_h)), max(0, top + round(0.45 * r.box_h))
    c0 = max(0, round(r.centre_x - 0.3 * r.box_w) - x0)
    c1 = max(c0, round(r.centre_x + 0.3 * r.box_w) - x0)
    part = luma[a:b, c0:c1]
    if part.shape[0] < 5 or part.shape[1] < 5:
        return None
    dark = cv2.morphologyEx(
        part, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (1, hat))
    )
    level = max(30.0, 0.55 * float(dark.max()))
    n, labels, stats, _ = cv2.connectedComponentsWithStats((dark > level).astype(np.uint8), 8)
    best, best_w = 0, 0
    thick = 3 if hat > _SLOT_HAT else 1
    for i in range(1, n):
        w, h = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]
        if w >= 0.15 * r.box_w and w >= 4 * h and h >= thick and w > best_w:
            best, best_w = i, w
    if not best:
        return None
    mask = np.zeros(luma.shape, bool)
    found = labels == best
    if hat > _SLOT_HAT:  # out of focus: the bar's dark core, not its blurred shoulders,
        # which an arm passing above the slot darkens too
        found &= dark >= _BLURRED_CORE * float(dark[found].max())
    mask[a:b, c0:c1] = found
    return mask
