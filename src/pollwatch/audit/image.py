"""Picture conditions of a camera: offline, dark, frozen, blocked box zone, blur.

Cheap statistics on the downsized gray frame, sampled every `sample_every_s` (1 s):

- ``offline``: gaps handed by the engine (`on_gap`), jumps between frame times over `max_step_s`,
  and black frames (mean luma < `black_luma` 16 with std < `black_std` 2: a uniform "no signal"
  picture; a covered lens or lights off still shows some structure and counts as dark);
- ``dark``: mean luma < `dark_luma` (35 of 255; our textured test room measures 115, so a
  gain under 0.3 — lights off, lens covered — is dark);
- ``frozen``: the picture stops changing while time runs on, judged every 0.5 s by a
  `FreezeDetector` (see `pollwatch.audit.frozen`: against the camera's own noise floor);
- ``blocked``: at least `block_share` (60 %) of the box zone is both unlike the reference and
  static (`zone_cells`, in 8-px cells of the picture blurred by `zone_blur` 2 px: unlike when
  the cell's normalised cross-correlation is under 0.5, or a flat cell's mean moved by more
  than 15 %; static when its mean absolute change over `static_lag_s` 2 s is under
  `static_mad` 3 levels), for at least `blocked_min_s` (10 s); a blocked sample stands for the
  `static_lag_s` before it too. A person at the box moves and leaves within seconds; a board
  or a screen put in front of the box does neither. The zone is a ring around the box: the box
  polygon grown `zone_grow` (1.6) times about its centre minus the polygon shrunk to
  `zone_shrink` (0.6), so the box's own outline and the floor around it count while its inside
  does not: a transparent box fills with ballots during the day. Measured on the simulator:
  0.00–0.44 of the zone unlike the reference with a filling box and people passing, up to
  0.57 for a camera panned 7.7° (the view's similarity transform leaves the floor a few pixels
  off), 0.68–0.91 behind a whiteboard or a folding screen; one global correlation over the
  ring did not separate them (a table strip behind the box kept it at 0.79 behind a
  whiteboard). The zone
  follows the camera (the view's transform; blurred, because a similarity transform is a few
  pixels off a panned camera's floor) and is not judged while the box is out of view. A
  zone that reads blocked is tried again with the sample moved up to `zone_search_px` (3)
  each way: one that lines up nearby is not covered (a low-passed registration of a
  defocused camera may hold a place 3 px off; `ConditionsAuditor._aligned`).
  Without a box polygon the box is looked for in the reference (or the baseline) with
  `pollwatch.video.locate_box`, kept when its confidence is at least `locate_confidence`
  (0.25; measured on the simulator's rooms: 0.32–0.45 on the box, 0.18 on a baseline whose
  box was hidden);
- ``blurred``: sharpness (variance of the Laplacian over the variance of the image: gain
  invariant) below `blur_ratio` (0.25) of the camera's running baseline: it starts from the
  reference image (or the median of the first `baseline_s`) and then follows the median
  sharpness of the clearly focused samples (ratio ≥ 0.6) of the last `blur_window_s` (600 s),
  so scene and lighting changes move it while a defocus does not. Measured on two scenes: a
  Gaussian defocus of σ = 1 / 2 / 3 full-size pixels gives ratios 0.38–0.41 / 0.10–0.11 /
  0.05, a person in front of a plain wall 0.55, a 0.3 gain (darker room) 0.99–1.02; so
  σ ≥ 1.5 px is caught. A camera out of focus from its first frame, without a reference
  image, has a blurred baseline: so a sharpness under `blur_floor` (0.10, `SOFT_SHARPNESS`;
  see there for what it was measured on: in focus ≥ 0.13, defocused ≤ 0.085) is blurred
  whatever the baseline; a room that flat in focus would be called blurred.

Runs shorter than each condition's minimum are dropped after joining interruptions up to
`max_gap_s` (2 s).
"""

from __future__ import annotations

import copy
import itertools
import math
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from pollwatch.audit.frozen import FreezeDetector, frame_difference
from pollwatch.audit.geometry import ViewTransform, polygon_mask, visible_fraction
from pollwatch.audit.picture import (
    SOFT_SHARPNESS,
    GrayMeasures,
    analysis_reference,
    camera_geometry,
    check_arguments,
    check_aspect,
    frame_gray,
    sample_slot,
    sharpness,
)
from pollwatch.audit.ranges import clip_ranges, fill_between, merge_ranges, ranges_from_samples
from pollwatch.audit.types import TimeRange
from pollwatch.audit.zone import ZoneCells, masked_ncc, smooth_patch, zone_cells
from pollwatch.video.analyser import Needs
from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo
from pollwatch.video.scene import locate_box

__all__ = [
    "CONDITIONS",
    "ConditionsAuditor",
    "ConditionsResult",
    "ZoneCells",
    "frame_difference",
    "masked_ncc",
    "sharpness",
    "zone_cells",
]

CONDITIONS = ("offline", "dark", "frozen", "blocked", "blurred")
_LOST = "box out of view"  # stands for the view while the box is lost: no box zone
_View = ViewTransform | None | str


@dataclass(frozen=True)
class ConditionsResult:
    """Time ranges of each picture condition (seconds from the first frame) and the samples."""

    ranges: dict[str, tuple[TimeRange, ...]]
    t: np.ndarray
    luma: np.ndarray
    sharpness_ratio: np.ndarray  # nan before a baseline exists
    sharpness: np.ndarray  # variance of the Laplacian over the variance of the image
    box_changed: np.ndarray  # share of the box zone unlike the reference; nan without a zone
    span: TimeRange
    box_polygon: tuple[tuple[float, float], ...] | None = None  # the zone's, full-size pixels
    box_located: bool = False  # True when the polygon came from `locate_box`

    def seconds(self, condition: str) -> float:
        """Total seconds in a condition."""
        return float(sum(r.duration for r in self.ranges[condition]))


def _since_lag(t: np.ndarray, core: np.ndarray, low: np.ndarray, lag: float) -> np.ndarray:
    """`core` widened back over the `lag` seconds before each core sample where `low` holds
    (a zone found unchanged for `lag` seconds was already covered then)."""
    out = core.copy()
    for i in np.flatnonzero(core & ~np.r_[False, core[:-1]]):  # the first sample of each run
        j = i - 1
        while j >= 0 and low[j] and t[i] - t[j] <= lag + 1e-6:
            out[j] = True
            j -= 1
    return out


class ConditionsAuditor:
    """Finds offline, dark, frozen, blocked and blurred stretches (see the module doc)."""

    def __init__(
        self,
        *,
        reference: np.ndarray | None = None,
        box_polygon: object = None,
        image_size: tuple[int, int] | None = None,
        sample_every_s: float = 1.0,
        work_width: int = 320,
        baseline_s: float = 60.0,
        max_step_s: float = 2.0,
        black_luma: float = 16.0,
        black_std: float = 2.0,
        dark_luma: float = 35.0,
        freeze: FreezeDetector | None = None,
        block_share: float = 0.6,
        zone_grow: float = 1.6,
        zone_shrink: float = 0.6,
        zone_blur: float = 2.0,
        zone_search_px: int | None = 3,
        static_mad: float = 3.0,
        static_lag_s: float = 2.0,
        blocked_min_s: float = 10.0,
        blur_ratio: float = 0.25,
        blur_floor: float = SOFT_SHARPNESS,
        locate_confidence: float | None = 0.25,
        blur_min_s: float = 10.0,
        blur_window_s: float = 600.0,
        max_gap_s: float = 2.0,
        min_duration_s: float = 3.0,
        measures: GrayMeasures | None = None,
    ) -> None:
        full, poly = camera_geometry(reference, box_polygon, image_size)
        checks = {
            "sample_every_s": (sample_every_s, 0.05 <= sample_every_s <= 10),
            "work_width": (work_width, 64 <= work_width <= 1920),
            "baseline_s": (baseline_s, baseline_s >= 0),
            "max_step_s": (max_step_s, max_step_s > sample_every_s),
            "black_luma": (black_luma, 0 <= black_luma < dark_luma),
            "dark_luma": (dark_luma, black_luma < dark_luma < 255),
            "block_share": (block_share, 0 < block_share <= 1),
            "zone_grow": (zone_grow, zone_grow >= 1),
            "zone_shrink": (zone_shrink, 0 <= zone_shrink < 1),
            "zone_blur": (zone_blur, 0 <= zone_blur <= 10),
            "zone_search_px": (zone_search_px, zone_search_px is None or 0 <= zone_search_px <= 8),
            "static_mad": (static_mad, static_mad > 0),
            "static_lag_s": (static_lag_s, static_lag_s >= sample_every_s),
            "blur_ratio": (blur_ratio, 0 < blur_ratio < 1),
            "blur_floor": (blur_floor, blur_floor >= 0),
            "locate_confidence": (
                locate_confidence,
                locate_confidence is None or 0 <= locate_confidence <= 1,
            ),
            "blocked_min_s": (blocked_min_s, blocked_min_s >= 0),
            "blur_min_s": (blur_min_s, blur_min_s >= 0),
            "blur_window_s": (blur_window_s, blur_window_s > 0),
            "max_gap_s": (max_gap_s, max_gap_s >= 0),
            "min_duration_s": (min_duration_s, min_duration_s >= 0),
        }
        check_arguments(checks)
        if freeze is not None and not isinstance(freeze, FreezeDetector):
            raise ValueError(f"freeze must be a FreezeDetector, got {type(freeze).__name__}")
        self.freeze = freeze or FreezeDetector()
        self.measures = measures or GrayMeasures()  # shared with the view auditor
        self.reference = reference
        self.box_polygon = poly
        self.full_size = full
        self.sample_every_s = sample_every_s
        self.work_width = work_width
        self.baseline_s = baseline_s
        self.max_step_s = max_step_s
        self.black_luma, self.black_std, self.dark_luma = black_luma, black_std, dark_luma
        self.block_share, self.static_mad = block_share, static_mad
        self.static_lag_s = static_lag_s
        self.zone_grow, self.zone_shrink, self.zone_blur = zone_grow, zone_shrink, zone_blur
        self.zone_search_px = zone_search_px
        self.blocked_min_s = blocked_min_s
        self.blur_ratio, self.blur_min_s, self.blur_floor = blur_ratio, blur_min_s, blur_floor
        self.locate_confidence = locate_confidence
        self.blur_window_s = blur_window_s
        self.max_gap_s, self.min_duration_s = max_gap_s, min_duration_s
        self.reset()

    def reset(self) -> None:
        """Forget everything seen (the reference image is kept)."""
        self._ref: np.ndarray | None = None  # reference at analysis scale
        self._sharp_baseline = math.nan  # sharpness an in-focus picture of this camera has
        self._sharp_recent: deque[tuple[float, float]] = deque()
        self._sharp_count = 0
        self._baseline: list[np.ndarray] = []
        self._pending: list[tuple[float, np.ndarray, _View]] = []
        self._rows: list[tuple[float, float, float, float, float, float, float]] = []
        self._gaps: list[TimeRange] = []  # told by the engine
        self._jumps: list[TimeRange] = []  # seen between delivered frames (less exact)
        # recent box crops for staticness: time, crop shape, the crop padded to whole cells
        self._lagged: list[tuple[float, tuple[int, ...], np.ndarray]] = []
        self.freeze.reset()
        self._slot = -1
        self._freeze_slot = -1
        self._last_t: float | None = None
        self._frame_dt = 0.0  # the stream's frame interval, else the last regular step seen
        self._stream_dt: float | None = None
        self._end = 0.0
        self._zone_key: object = None
        self._unaligned: tuple[object, np.ndarray] | None = None  # (zone key, smoothed crop)
        self._zone_polygon = self.box_polygon  # given, or located in the reference
        self._located = False
        self._zone: tuple[ZoneCells, tuple[slice, slice]] | None = None

    # -- engine callbacks -------------------------------------------------------------------
    @property
    def needs(self) -> Needs:
        """Video only, one frame per sample or per freeze pair, whichever comes more often."""
        return Needs(video=True, fps=max(1.0 / self.sample_every_s, 1.0 / self.freeze.every_s))

    def start(self, info: StreamInfo) -> None:
        """The stream's frame interval ends the last frame's time range."""
        if info.fps > 0:
            self._stream_dt = self._frame_dt = 1.0 / info.fps

    def on_audio(self, chunk: AudioChunk) -> None:
        """Sound is the audio audit's business."""

    def on_gap(self, gap: Gap) -> None:
        """A stretch without frames: offline (a gap of unknown end is a file that could not
        be read at all: nothing to place)."""
        if gap.end_s is not None and gap.end_s > gap.start_s:
            self._gaps.append(TimeRange(float(gap.start_s), float(gap.end_s)))
            self._end = max(self._end, float(gap.end_s))

    def update(
        self, frame: Frame, view: ViewTransform | None = None, *, box_visible: bool = True
    ) -> None:
        """Sample the first frame of every `sample_every_s` slot; `view` (from a `ViewAuditor`,
        analysis pixels) moves the box zone with the camera; `box_visible` False (the view
        lost the box) leaves the box zone unjudged."""
        t = float(frame.pts_s)
        if self._last_t is not None:
            step = t - self._last_t
            if step > self.max_step_s:  # a jump the engine may not have reported
                self._jumps.append(TimeRange(min(self._last_t + self._frame_dt, t), t))
            elif step > 0 and self._stream_dt is None:
                self._frame_dt = step
        self._last_t = t
        self._end = max(self._end, t)
        freeze_slot = sample_slot(t, self.freeze.every_s)
        slot = sample_slot(t, self.sample_every_s)
        if freeze_slot <= self._freeze_slot and slot <= self._slot:
            return
        gray = frame_gray(frame, self.work_width)
        if freeze_slot > self._freeze_slot:
            self._freeze_slot = freeze_slot
            mean, std = self.measures.level(gray)
            black = mean < self.black_luma and std < self.black_std
            self.freeze.feed(t, gray, lit=mean >= self.dark_luma and not black)
        if slot <= self._slot:
            return
        self._slot = slot
        view = view if box_visible else _LOST
        if self._ref is None:
            check_aspect(gray.shape, self.full_size, t)
            if self.reference is not None:
                self._set_reference(analysis_reference(self.reference, gray.shape))
            else:
                self._pending.append((t, gray, view))
                mean = gray.mean()
                if mean >= self.dark_luma and (
                    not self._baseline or t - self._pending[0][0] >= len(self._baseline)
                ):
                    self._baseline.append(gray)  # about one frame per second
                if t - self._pending[0][0] >= self.baseline_s:
                    self._finish_baseline()
                return
        self._judge(t, gray, view)

    def _set_reference(self, ref: np.ndarray) -> None:
        self._ref = ref
        self._sharp_baseline = sharpness(ref)
        if self._zone_polygon is None and self.locate_confidence is not None:
            found = locate_box(ref)
            if found is not None and found.confidence >= self.locate_confidence:
                scale = self.full_size[0] / ref.shape[1]
                self._zone_polygon = np.asarray(found.polygon, dtype=float) * scale
                self._located = True

    def _finish_baseline(self) -> None:
        frames = self._baseline or [g for _, g, _ in self._pending]
        frames = frames[:: max(1, len(frames) // 15)]  # 15 frames erase passers-by
        self._set_reference(np.median(np.stack(frames), axis=0).astype(np.uint8))
        pending, self._pending, self._baseline = self._pending, [], []
        for t, gray, view in pending:
            self._judge(t, gray, view)

    # -- per sample -------------------------------------------------------------------------
    def _box_zone(self, shape: tuple[int, int], view: _View):
        """(the reference crop's cells, crop slices) of the box zone in the current frame, or
        None."""
        if self._zone_polygon is None or self._ref is None or isinstance(view, str):
            return None
        key = (shape, None if view is None else view.matrix.tobytes())
        if key == self._zone_key:
            return self._zone
        self._zone_key = key
        h, w = shape
        poly = self._zone_polygon * (w / self.full_size[0])
        ref = self._ref
        if view is not None:
            if visible_fraction(poly, view, w, h) < 0.5:
                self._zone = None
                return None
            poly = view.apply(poly)
            ref = cv2.warpAffine(self._ref, view.matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
        centre = poly.mean(axis=0)
        grown = centre + (poly - centre) * self.zone_grow
        x0, y0 = np.floor(grown.min(axis=0)).astype(int).clip(0)
        x1, y1 = np.ceil(grown.max(axis=0)).astype(int) + 1
        x1, y1 = min(x1, w), min(y1, h)
        if x1 - x0 < 3 or y1 - y0 < 3:
            self._zone = None
            return None
        crop = (slice(y0, y1), slice(x0, x1))
        size = (y1 - y0, x1 - x0)
        mask = polygon_mask(grown - (x0, y0), size)
        if self.zone_shrink > 0:
            inside = centre + (poly - centre) * self.zone_shrink
            mask &= ~polygon_mask(inside - (x0, y0), size)
        ref_crop = ref[crop]
        if self.zone_blur > 0:
            ref_crop = smooth_patch(ref_crop, self.zone_blur)
        self._zone = (ZoneCells(ref_crop, mask), crop) if mask.any() else None
        return self._zone

    def _judge(self, t: float, gray: np.ndarray, view: _View) -> None:
        mean, std = self.measures.level(gray)
        sharp = self.measures.sharpness(gray)
        ratio = sharp / self._sharp_baseline if self._sharp_baseline > 0 else math.nan
        if ratio >= 0.6 and mean >= self.dark_luma:  # clearly in focus: feeds the baseline
            self._sharp_recent.append((t, sharp))
            while t - self._sharp_recent[0][0] > self.blur_window_s:
                self._sharp_recent.popleft()
            self._sharp_count += 1
            if self._sharp_count % 20 == 0:  # refresh the median every 20 focused samples
                self._sharp_baseline = float(np.median([v for _, v in self._sharp_recent]))
        changed = covered = math.nan
        zone = self._box_zone(gray.shape, view)
        if zone is not None:
            cells, crop = zone
            patch = gray[crop]
            smooth = cells.pad(smooth_patch(patch, self.zone_blur) if self.zone_blur else patch)
            self._lagged.append((t, patch.shape, smooth))
            while len(self._lagged) > 1 and t - self._lagged[1][0] >= self.static_lag_s:
                self._lagged.pop(0)
            lag_t, lag_shape, lag_patch = self._lagged[0]
            lagged = t - lag_t >= self.static_lag_s * 0.99 and lag_shape == patch.shape
            valid, unlike = cells.valid, cells.unlike(smooth)
            if cells.n_valid:
                unlike &= valid
                changed = np.count_nonzero(unlike) / cells.n_valid  # = unlike[valid].mean()
                if changed >= self.block_share:
                    unlike, changed = self._aligned(gray, crop, cells, (unlike, changed), smooth)
                covered = 0.0  # at most `changed`: it matters only from `block_share` on
                if changed >= self.block_share:
                    unmoved = cells.unmoved(
                        smooth, lag_patch if lagged else None, still_mad=self.static_mad
                    )
                    covered = np.count_nonzero(unlike & unmoved) / cells.n_valid
        else:
            self._lagged.clear()
        self._rows.append((t, mean, std, ratio, changed, covered, sharp))

    def _aligned(
        self,
        gray: np.ndarray,
        crop: tuple[slice, slice],
        cells: ZoneCells,
        found: tuple[np.ndarray, float],
        smooth: np.ndarray,
    ) -> tuple[np.ndarray, float]:
        """The (unlike cells, their share) `found` of a zone that reads blocked, with the
        sample's crop moved up to `zone_search_px` each way, nearest first, until it reads
        unblocked: the view's similarity transform may leave a panned (or blurred) camera's
        zone a few pixels off, and a zone that lines up nearby is not covered. demo 198's
        cam-D006-006 (nudged 7.2 deg and defocused σ 5.8 all day, a reference): its low-passed
        registration held a place 3 px from where the zone lined up for 42 s, 0.60 of the
        zone unlike and still (blocked, no board), 0.28 at the better place. A zone (padded,
        `smooth`) that stays as it was when no place lined up (mean absolute change under
        `static_mad`, the same view) is not searched again: a board stands for minutes."""
        if not self.zone_search_px:
            return found
        memo = self._unaligned
        if (
            memo is not None
            and memo[0] == self._zone_key
            and memo[1].shape == smooth.shape
            and float(np.abs(smooth - memo[1]).mean()) < self.static_mad
        ):
            return found
        (ys, xs), r = crop, self.zone_search_px
        h, w = gray.shape
        steps = range(-r, r + 1)
        for dx, dy in sorted(itertools.product(steps, steps), key=lambda d: abs(d[0]) + abs(d[1])):
            y0, x0 = ys.start + dy, xs.start + dx
            if (dx, dy) == (0, 0) or min(y0, x0) < 0 or ys.stop + dy > h or xs.stop + dx > w:
                continue
            patch = gray[y0 : ys.stop + dy, x0 : xs.stop + dx]
            moved = cells.unlike(
                cells.pad(smooth_patch(patch, self.zone_blur) if self.zone_blur else patch)
            )
            moved &= cells.valid
            share = np.count_nonzero(moved) / cells.n_valid
            if share < self.block_share:
                return moved, share
        self._unaligned = (self._zone_key, smooth)
        return found

    # -- result -----------------------------------------------------------------------------
    def result(self) -> ConditionsResult:
        """The conditions so far (samples waiting for a baseline are judged against it)."""
        source = self
        if self._ref is None and self._pending:
            source = copy.deepcopy(self)
            source._finish_baseline()
        rows = source._rows
        cols = [np.asarray(c) for c in zip(*rows, strict=True)] if rows else [np.empty(0)] * 7
        t, mean, std, ratio, changed, covered, sharp = cols
        t = t.astype(float)
        mean, std, ratio, changed, covered, sharp = (
            c.astype(float) for c in (mean, std, ratio, changed, covered, sharp)
        )
        black = (mean < self.black_luma) & (std < self.black_std)
        dark = (mean < self.dark_luma) & ~black
        seen = ~black & ~dark
        blocked = _since_lag(
            t,
            seen & (covered >= self.block_share),
            seen & (changed >= self.block_share),
            self.static_lag_s,
        )
        # a few seconds between blocked samples when the zone was unjudged or unlike but
        # moving (azerbaijan-2024 78's cam-D067-002: nudged behind the board, its view lost
        # for 5 s) stay blocked; a sample with the box zone like the reference breaks it
        unclear = seen & ~blocked & ~(changed < self.block_share)  # nan (unjudged) or unlike
        blocked = fill_between(blocked, unclear, t, self.blocked_min_s)
        blurred = seen & ((ratio < self.blur_ratio) | (sharp < self.blur_floor))
        step = 1.5 * self.sample_every_s  # a sample stands for its own interval, no more

        def runs(flags: np.ndarray, min_s: float, gap_s: float) -> tuple[TimeRange, ...]:
            return ranges_from_samples(t, flags, step=step, max_gap=gap_s, min_duration=min_s)

        gap, min_s = self.max_gap_s, self.min_duration_s
        jumps = [
            j
            for j in self._jumps
            if not any(g.start < j.end and j.start < g.end for g in self._gaps)
        ]
        ranges = {
            "offline": merge_ranges([*self._gaps, *jumps, *runs(black, min_s, gap)], max_gap=gap),
            "dark": runs(dark, min_s, gap),
            "frozen": self.freeze.ranges(),
            "blocked": runs(blocked, self.blocked_min_s, gap),
            "blurred": runs(blurred, self.blur_min_s, gap),
        }
        last_frame_end = self._last_t + self._frame_dt if self._last_t is not None else 0.0
        end = max(self._end, last_frame_end)
        return ConditionsResult(
            ranges={k: clip_ranges(v, 0.0, end) for k, v in ranges.items()},
            t=t,
            luma=mean,
            sharpness_ratio=ratio,
            sharpness=sharp,
            box_polygon=None
            if source._zone_polygon is None
            else tuple((float(x), float(y)) for x, y in source._zone_polygon),
            box_located=source._located,
            box_changed=changed,
            span=TimeRange(0.0, end),
        )
