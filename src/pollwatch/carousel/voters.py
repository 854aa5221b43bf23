"""Voter appearance in the video pass: a few crops per person track, one embedding per voter.

`VoterCrops` is an analyser: it tracks people (`PersonTracker`, background detector) at a low
frame rate and keeps, per track, at most `max_crops` crops spread over the track's length (a
crop at least `every_s` after the track's previous one; when a track has `max_crops`, every
other crop is dropped and its spacing doubles). Crops are cut from the frame at half size (one small
colour conversion per sampled frame) and shrunk to `crop_height` rows, so memory stays a few
kilobytes per track. With the camera's empty view (`background`) each crop gets a mask of the
person's pixels: those that differ from the view by more than `mask_threshold` levels. A crop
whose box touches the image border or overlaps another person's box is skipped (it would mix
two people).

`VoterPart` (video part "carousel", after "counting") stores, once the pass is over, one sighting
per voter visit: by default each person's stay at the box found in the slot crops
(`pollwatch.carousel.visits`), and each stay beside the box found in the side crops during which the
counter counted a drop (`track_id` `SIDE_TRACK`); with `source="track"` it gets the camera's ballot
drops from the counting part, finds for each drop the track that stood at the ballot box then
(`drop_tracks`), and stores one sighting per voter track (analyser "carousel", table "sightings"):
camera, station, drop time, track, crops used (those from `before_s` before the drop to `after_s`
after it, when the voter stands at the box), the appearance embedding (from `pollwatch.reid`,
"colour" unless configured) and the similarity of the track's two halves embedded apart (a known
same-person pair, for calibration).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import cv2
import numpy as np
import pandas as pd

from pollwatch.carousel.light import STAND_LEVEL, light_factor, stand_level
from pollwatch.carousel.visits import VisitRules, slot_visits
from pollwatch.reid import AppearanceEmbedder, EmbeddingUnavailable, get_embedder_by_name
from pollwatch.reid.parts import PartColourEmbedder
from pollwatch.store import Camera, NotFoundError, Store
from pollwatch.video import Frame, Gap, PersonTracker, StreamInfo, TrackingResult, VideoRun
from pollwatch.video.analyser import Needs
from pollwatch.video.frame import AudioChunk
from pollwatch.videostep import VIDEO_PARTS, VideoContext

__all__ = [
    "ANALYSER",
    "FOLLOW_VIEWS",
    "LIGHT_REFERENCE",
    "SIDE_CROPS",
    "SIDE_FILL",
    "SIDE_TRACK",
    "SIGHTING_COLUMNS",
    "SLOT_MIN_SHARE",
    "TRIM_CENTRE",
    "CropPool",
    "TrackCrops",
    "VoterCrops",
    "VoterPart",
    "box_distance",
    "drop_tracks",
    "voter_part",
]

ANALYSER = "carousel"
#: `track_id` of a sighting from the side crops (a voter beside the one at the box); -1: the
#: slot crops
SIDE_TRACK = -2
#: whether `voter_part` follows the box into the later views of a nudged camera (session 6:
#: measured, off; session 14, crop14: since the views start at their first frame (counting14),
#: demo 176's and 190's nudged cameras' crops show the voter again, 45 -> 48 of 128 pairs on
#: twelve demo seeds, all right, clean stations 0 of 15; docs/carousel.md)
FOLLOW_VIEWS = True
#: whether `voter_part` keeps the side crops too (a second voter beside the one at the box;
#: session 9: demo 1 rendered with the queue at the box 1 -> 12 of 18 pairs found, all right;
#: docs/carousel.md)
SIDE_CROPS = True
#: `VoterCrops.side_fill` for `voter_part`: a side column kept without a person box over it
#: while half its lower part is a person's (session 9: tuning 36 -> 41 of 54 pairs, demo 102
#: 0 -> 6 of 15, all right; clean stations 0 of 9; docs/carousel.md)
SIDE_FILL: float | None = 0.5
#: `VoterPart.light_reference` for `voter_part`: every camera's crops brought to one light,
#: read from its ballot box's stand (session 11: tuning 6 -> 14 of 43 pairs with the step's
#: cross-station null of other cameras' pairs 10 -> 19, all right, clean stations 0 of 7;
#: docs/carousel.md)
LIGHT_REFERENCE: float | None = STAND_LEVEL
#: `VoterCrops.trim_centre` for `voter_part` (None: a crop starts at the first row with 10%
#: of its pixels the person's): the descriptor's central 60% of the columns (session 12:
#: demo 128's cam-D002-011 started two members' crops at a blob at the edge above their
#: heads, and their head bands were empty; with `SLOT_MIN_SHARE` and the step's chain
#: confidence, end to end on the 18 tuning cases 40 -> 50 pairs, 75 -> 81 countable,
#: precision 40/41 -> 50/53, clean stations 0 of 102 (a replay of stored crops gave 54 of
#: 83); docs/carousel.md)
TRIM_CENTRE: float | None = 0.6
#: `VoterCrops.slot_min_share` for `voter_part`: a slot or side crop over a voter standing
#: behind the box is often under 20% the voter's (the person crops' floor; session 12: the
#: frames of missed stays at the box on demo 114 and 128 were dropped by it 57 of 194 and
#: 164 of 256 times; docs/carousel.md)
SLOT_MIN_SHARE = 0.1
SIGHTING_COLUMNS = [
    "track_key",
    "camera_id",
    "station_id",
    "t_s",
    "time",
    "track_id",
    "drops",
    "crops",
    "halves_similarity",
    "crop_times",
    "embedding",
]


@dataclass(frozen=True, eq=False)
class CropPool:
    """Crops of one track (BGR, `crop_height` rows), their times and masks (None: no mask)."""

    times: tuple[float, ...]
    crops: tuple[np.ndarray, ...]
    masks: tuple[np.ndarray | None, ...]

    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.crops) + sum(
            m.nbytes for m in self.masks if m is not None
        )

    def within(self, start: float, end: float) -> CropPool:
        """The crops taken between `start` and `end` seconds."""
        keep = [k for k, t in enumerate(self.times) if start <= t <= end]
        return CropPool(
            tuple(self.times[k] for k in keep),
            tuple(self.crops[k] for k in keep),
            tuple(self.masks[k] for k in keep),
        )

    def __add__(self, other: CropPool) -> CropPool:
        return CropPool(
            self.times + other.times, self.crops + other.crops, self.masks + other.masks
        )

    def usable(self) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        """The crops for an embedder, with masks when at least half of them have one (then
        only the crops with a mask)."""
        keep, masked = self._usable()
        crops = [self.crops[k] for k in keep]
        return crops, ([self.masks[k] for k in keep] if masked else None)  # type: ignore[misc]

    def usable_times(self) -> list[float]:
        """The times of the crops `usable` gives."""
        return [float(self.times[k]) for k in self._usable()[0]]

    def _usable(self) -> tuple[list[int], bool]:
        with_mask = [k for k, m in enumerate(self.masks) if m is not None]
        if not with_mask or 2 * len(with_mask) < len(self.crops):
            return list(range(len(self.crops))), False
        return with_mask, True


_EMPTY = CropPool((), (), ())


@dataclass(frozen=True, eq=False)
class TrackCrops:
    """What `VoterCrops` kept: every track's trajectory and, per track id, its crops near the
    ballot box (`near`) and elsewhere (`away`); and the `slot` crops (see `VoterCrops`)."""

    tracking: TrackingResult
    near: dict[int, CropPool]
    away: dict[int, CropPool]
    slot: CropPool = field(default_factory=lambda: _EMPTY)
    sides: dict[str, CropPool] = field(default_factory=dict)  # "left", "right": side crops

    def nbytes(self) -> int:
        """Bytes held by the crops and their masks."""
        pools = [p for d in (self.near, self.away, self.sides) for p in d.values()]
        return sum(p.nbytes() for p in [*pools, self.slot])

    def pool(self, track_id: int, *, near: bool) -> CropPool:
        return (self.near if near else self.away).get(track_id, _EMPTY)


@dataclass
class _Kept:
    every_s: float
    times: list[float] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)
    masks: list[np.ndarray | None] = field(default_factory=list)

    def add(self, t: float, crop: np.ndarray, mask: np.ndarray | None, limit: int) -> None:
        self.times.append(t)
        self.crops.append(crop)
        self.masks.append(mask)
        if len(self.crops) > limit:  # thin: keep them spread over the track
            self.times, self.crops, self.masks = (
                self.times[::2],
                self.crops[::2],
                self.masks[::2],
            )
            self.every_s *= 2

    def pool(self) -> CropPool:
        return CropPool(tuple(self.times), tuple(self.crops), tuple(self.masks))


def box_distance(boxes: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Per person box (N×4), the gap between it and the ballot box outline's bounding box, in
    units of the person box's height (0: they overlap)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    px0, py0 = polygon.min(axis=0)
    px1, py1 = polygon.max(axis=0)
    dx = np.maximum(0.0, np.maximum(b[:, 0] - px1, px0 - b[:, 2]))
    dy = np.maximum(0.0, np.maximum(b[:, 1] - py1, py0 - b[:, 3]))
    return np.hypot(dx, dy) / np.maximum(b[:, 3] - b[:, 1], 1.0)


class VoterCrops:
    """Track people and keep a few crops of each track; see the module docstring.

    `tracker`: a `PersonTracker` (default: background detector at `fps`); `max_crops`: crops
    kept per track; `every_s`: least time between two crops of a track at first;
    `crop_height`: rows of a kept crop; `min_height_px`: smallest box cropped (frame pixels);
    `max_overlap`: a box sharing more than this share of its area with another is skipped;
    `box`: the ballot box outline ((K, 2) frame pixels): crops of a person within
    `near_distance` box heights of it go to the track's `near` pool (up to `near_crops`, at
    least `near_every_s` apart), so the moments around a ballot drop stay well covered.

    With a box and the empty view, while a person box reaches the ballot box the *slot crop*
    is kept too (at most one per `slot_every_s`, `slot_crops` in all, thinned like a track's
    pool): the view above the ballot box, as wide as the box plus `slot_margin` of its width
    on each side, from the highest person box there down to the box's lid, with the mask of
    the pixels that differ from the empty view, its rows trimmed to the person's. It shows
    whoever stands at the box, whatever the tracker made of a queue (a group voting one after
    another is often one blob), and without the box's body in front of the voter's legs.

    `views`: (start_s, end_s, outline) of the box in the later steady views of a camera nudged
    mid-day (`VideoContext.box_views` after the first; `box` is the first view's). There the
    slot column follows the moved box, the empty view is shifted as the box moved, and the
    crop's mask keeps only what is connected to the lid, the voter's pixels (away from the box
    the shifted view no longer fits, and what stands behind the box would pass for the
    voter); the crop starts at the top of the highest person box, as in the first view.

    `side_crops` (off by default): the *side crops* too, of a second voter standing beside
    the one at the box (shoulder to shoulder, reaching over to the slot): on each side of the
    box a column `side_offset` box widths from its centre to the column's middle, `side_width`
    box widths wide (a ballot box is about as wide as the gap between two people's middles),
    from the top of the person boxes there down to the box's lid, as the slot crop, when a
    person box covers the column's middle half and reaches below `side_reach` of the box's
    height (1: its lowest point; a person standing level with the box; one queueing behind it
    stands higher in the picture). `side_fill` (None: off): without such a person box (the
    tracker often makes the two people at the box one blob, or loses the one beside it), the
    column from the top of the person boxes at the box down to the lid is kept when at least
    this share of its lower half differs from the empty view. `trim_centre` (None: off): a
    slot or side crop starts at the first row where the person shows in this central share
    of its columns too (`trimmed`). `slot_min_share`: a slot or side crop is kept when at
    least this share of its pixels differ from the empty view (a person crop: 0.2)."""

    def __init__(
        self,
        tracker: PersonTracker | None = None,
        *,
        fps: float = 4.0,
        max_crops: int = 8,
        every_s: float = 0.5,
        crop_height: int = 64,
        min_height_px: float = 24.0,
        max_overlap: float = 0.15,
        background: np.ndarray | None = None,
        scale: float = 0.5,
        mask_threshold: float = 30.0,
        box: np.ndarray | None = None,
        near_distance: float = 0.75,
        near_crops: int = 12,
        near_every_s: float = 0.5,
        slot_every_s: float = 0.25,
        slot_crops: int = 4096,
        slot_margin: float = 0.15,
        views: Sequence[tuple[float, float, np.ndarray]] = (),
        side_crops: bool = False,
        side_offset: float = 1.0,
        side_width: float = 0.8,
        side_reach: float = 1.0,
        side_fill: float | None = None,
        trim_centre: float | None = None,
        slot_min_share: float = 0.2,
    ) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if not isinstance(max_crops, int) or max_crops < 2:
            raise ValueError(f"max_crops must be an integer >= 2, got {max_crops!r}")
        if not every_s > 0:
            raise ValueError(f"every_s must be positive, got {every_s}")
        if not isinstance(crop_height, int) or crop_height < 16:
            raise ValueError(f"crop_height must be an integer >= 16, got {crop_height!r}")
        if not min_height_px > 0:
            raise ValueError(f"min_height_px must be positive, got {min_height_px}")
        if not 0 <= max_overlap <= 1:
            raise ValueError(f"max_overlap must be in [0, 1], got {max_overlap}")
        if not 0 < scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        if background is not None and (background.ndim != 3 or background.shape[2] != 3):
            raise ValueError(f"background must be an HxWx3 BGR image, got {background.shape}")
        self.tracker = PersonTracker(fps=fps) if tracker is None else tracker
        if not isinstance(self.tracker, PersonTracker):
            raise ValueError(f"tracker must be a PersonTracker, got {type(tracker).__name__}")
        self.max_crops, self.every_s, self.crop_height = max_crops, float(every_s), crop_height
        self.min_height_px, self.max_overlap = float(min_height_px), float(max_overlap)
        self.background, self.scale = background, float(scale)
        self.mask_threshold = float(mask_threshold)
        self.box = None if box is None else np.asarray(box, np.float64).reshape(-1, 2)
        if self.box is not None and len(self.box) < 1:
            raise ValueError("box must hold at least one point")
        if not isinstance(near_crops, int) or near_crops < 2:
            raise ValueError(f"near_crops must be an integer >= 2, got {near_crops!r}")
        self.near_distance, self.near_crops = float(near_distance), near_crops
        self.near_every_s = float(near_every_s)
        if not slot_every_s > 0:
            raise ValueError(f"slot_every_s must be positive, got {slot_every_s}")
        if not isinstance(slot_crops, int) or slot_crops < 2:
            raise ValueError(f"slot_crops must be an integer >= 2, got {slot_crops!r}")
        if not 0 <= slot_margin <= 1:
            raise ValueError(f"slot_margin must be in [0, 1], got {slot_margin}")
        self.slot_every_s, self.slot_crops = float(slot_every_s), slot_crops
        self.slot_margin = float(slot_margin)
        if not side_width > 0 or not side_offset >= side_width / 2:
            raise ValueError(
                f"side_width must be positive and side_offset at least half of it, got "
                f"{side_width!r}, {side_offset!r}"
            )
        self.side_crops = bool(side_crops)
        self.side_offset, self.side_width = float(side_offset), float(side_width)
        if not 0 <= side_reach <= 1:
            raise ValueError(f"side_reach must be in [0, 1], got {side_reach!r}")
        self.side_reach = float(side_reach)
        if side_fill is not None and not 0 < side_fill <= 1:
            raise ValueError(f"side_fill must be in (0, 1] or None, got {side_fill!r}")
        self.side_fill = side_fill
        if trim_centre is not None and not 0 < trim_centre <= 1:
            raise ValueError(f"trim_centre must be in (0, 1] or None, got {trim_centre!r}")
        self.trim_centre = trim_centre
        if not 0 < slot_min_share < 0.92:
            raise ValueError(f"slot_min_share must be in (0, 0.92), got {slot_min_share!r}")
        self.slot_min_share = float(slot_min_share)
        self.views = [
            (float(a), float(b), np.asarray(p, np.float64).reshape(-1, 2)) for a, b, p in views
        ]
        if any(len(p) < 1 or not a < b for a, b, p in self.views):
            raise ValueError("views must be (start_s, end_s, polygon) with start_s < end_s")
        self._bg: np.ndarray | None = None
        self._bg_key: tuple[tuple[int, int], tuple[float, float]] | None = None
        self.reset()

    @property
    def needs(self) -> Needs:
        return self.tracker.needs

    def reset(self) -> None:
        self.tracker.reset()
        self._kept: dict[int, _Kept] = {}
        self._near: dict[int, _Kept] = {}
        self._slot = _Kept(self.slot_every_s)
        self._sides = {side: _Kept(self.slot_every_s) for side in ("left", "right")}

    def start(self, info: StreamInfo) -> None:
        self.tracker.start(info)

    def on_audio(self, chunk: AudioChunk) -> None:
        """Appearance ignores audio."""

    def on_gap(self, gap: Gap) -> None:
        self.tracker.on_gap(gap)

    def update(self, frame: Frame) -> None:
        self.tracker.update(frame)
        det = self.tracker.latest
        ids = det.tracker_id
        if ids is None or not len(ids):
            return
        boxes = det.xyxy.astype(np.float64)
        overlap = _overlap_share(boxes)
        t = frame.pts_s
        box, moved = self._view(t)
        near = (
            np.zeros(len(boxes), bool)
            if box is None
            else box_distance(boxes, box) <= self.near_distance
        )
        if near.any() and self.background is not None and box is not None:
            self._keep_slot(frame, boxes[near], box, moved)
            if self.side_crops and moved == (0, 0):
                for side in self._sides:
                    self._keep_side(frame, boxes[near], box, side)
        for k, tid in enumerate(ids.tolist()):
            if tid < 0:
                continue
            if near[k]:
                kept = self._near.setdefault(tid, _Kept(self.near_every_s))
                limit = self.near_crops
            else:
                kept = self._kept.setdefault(tid, _Kept(self.every_s))
                limit = self.max_crops
            if kept.times and t - kept.times[-1] < kept.every_s:
                continue
            x0, y0, x1, y1 = boxes[k]
            inside = x0 > 1 and y0 > 1 and x1 < frame.width - 2 and y1 < frame.height - 2
            if not inside or y1 - y0 < self.min_height_px or overlap[k] > self.max_overlap:
                continue
            cut = self._crop(frame, boxes[k])
            if cut is None:
                continue
            kept.add(t, cut[0], cut[1], limit)

    def _view(self, t: float) -> tuple[np.ndarray | None, tuple[int, int]]:
        """The ballot box outline at `t` (a later steady view's, see `views`) and how far it
        moved from `box` (frame pixels; (0, 0): the first view)."""
        if self.box is None:
            return None, (0, 0)
        for start, end, polygon in self.views:
            if start <= t < end:
                dx, dy = np.round(polygon.mean(axis=0) - self.box.mean(axis=0)).astype(int)
                return polygon, (int(dx), int(dy))
        return self.box, (0, 0)

    def _keep_slot(
        self, frame: Frame, people: np.ndarray, box: np.ndarray, moved: tuple[int, int]
    ) -> None:
        """Keep the slot crop of this frame (see the class doc) when it shows a person. In a
        view moved from the first (`moved`), the empty view is shifted with the box, and the
        mask keeps only what is connected to the box's lid (the voter at the box): far from
        the box the shifted empty view no longer fits (parallax), so the mask alone cannot
        trim what stands behind the box (the commission)."""
        t, kept = frame.pts_s, self._slot
        if kept.times and t - kept.times[-1] < kept.every_s:
            return
        bx0, by0 = box.min(axis=0)
        bx1 = float(box[:, 0].max())
        pad = self.slot_margin * (bx1 - bx0)
        over = (people[:, 2] > bx0 - pad) & (people[:, 0] < bx1 + pad) & (people[:, 1] < by0)
        if not over.any():
            return
        column = np.array([bx0 - pad, people[over, 1].min(), bx1 + pad, by0])
        cut = self._crop(frame, column, moved, self.slot_min_share)
        if cut is None or cut[1] is None:
            return
        crop, mask = cut
        if moved != (0, 0):  # the voter's pixels: those connected to the box's lid
            mask = _touching_bottom(mask)
        person = self.trimmed(crop, mask)
        if person is not None:
            kept.add(t, *person, self.slot_crops)

    def _keep_side(self, frame: Frame, people: np.ndarray, box: np.ndarray, side: str) -> None:
        """Keep the side crop (see the class doc) of this frame on `side` of the box."""
        t, kept = frame.pts_s, self._sides[side]
        if kept.times and t - kept.times[-1] < kept.every_s:
            return
        bx0, by0 = box.min(axis=0)
        bx1, by1 = box.max(axis=0)
        width = bx1 - bx0
        mid = (bx0 + bx1) / 2 + (1 if side == "right" else -1) * self.side_offset * width
        half = self.side_width * width / 2
        there = (
            (people[:, 0] <= mid - half / 2)
            & (people[:, 2] >= mid + half / 2)
            & (people[:, 1] < by0)
            & (people[:, 3] >= by0 + self.side_reach * (by1 - by0))
        )
        if not there.any() and self.side_fill is None:
            return
        top = people[there if there.any() else slice(None), 1].min()
        cut = self._crop(
            frame, np.array([mid - half, top, mid + half, by0]), (0, 0), self.slot_min_share
        )
        if cut is None or cut[1] is None:
            return
        crop, mask = cut
        if not there.any() and mask[len(mask) // 2 :].mean() < self.side_fill:
            return
        person = self.trimmed(crop, mask)
        if person is not None:
            kept.add(t, *person, self.slot_crops)

    def trimmed(self, crop: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """A slot or side crop and its mask from the person's first row: the first where at
        least 10% of the pixels differ from the empty view, and with `trim_centre` 10% of the
        central `trim_centre` of the columns too (the descriptor's part colours read those:
        something moving at the crop's edge above the voter's head, a passer-by or the
        commission, made the crop start there, and the head band saw no person); None with
        fewer than 8 such rows."""
        person = mask.mean(axis=1) >= 0.1
        if self.trim_centre is not None:
            width = mask.shape[1]
            margin = min(round(width * (1 - self.trim_centre) / 2), (width - 1) // 2)
            person &= mask[:, margin : width - margin].mean(axis=1) >= 0.1
        rows = np.flatnonzero(person)
        if len(rows) < 8:
            return None
        return crop[rows[0] :], mask[rows[0] :]

    def _crop(
        self,
        frame: Frame,
        box: np.ndarray,
        moved: tuple[int, int] = (0, 0),
        min_share: float = 0.2,
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        image = frame.bgr(self.scale)
        f = image.shape[1] / frame.width
        x0, y0 = max(0, int(box[0] * f)), max(0, int(box[1] * f))
        x1, y1 = (
            min(image.shape[1], int(np.ceil(box[2] * f))),
            min(image.shape[0], int(np.ceil(box[3] * f))),
        )
        if y1 - y0 < 8 or x1 - x0 < 3:
            return None
        crop = image[y0:y1, x0:x1]
        shift = (moved[0] * f, moved[1] * f)
        mask = self._mask(crop, image.shape[:2], (x0, y0, x1, y1), shift, min_share)
        h, w = crop.shape[:2]
        if h > self.crop_height:
            size = (max(2, round(w * self.crop_height / h)), self.crop_height)
            crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
            if mask is not None:
                mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
        return np.ascontiguousarray(crop), mask

    def _mask(
        self,
        crop: np.ndarray,
        shape: tuple[int, int],
        box: tuple[int, int, int, int],
        shift: tuple[float, float] = (0.0, 0.0),
        min_share: float = 0.2,
    ) -> np.ndarray | None:
        """The person's pixels: those that differ from the empty view (moved by `shift`
        pixels of `shape`) (None without one, or when the share is implausible: the view
        changed (over 92%), or the person is hardly seen (under `min_share`))."""
        if self.background is None:
            return None
        if self._bg is None or self._bg_key != (shape, shift):
            self._bg_key = (shape, shift)
            bg = cv2.resize(self.background, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
            if shift != (0.0, 0.0):
                move = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
                bg = cv2.warpAffine(bg, move, (shape[1], shape[0]), borderMode=cv2.BORDER_REPLICATE)
            self._bg = bg.astype(np.int16)
        x0, y0, x1, y1 = box
        diff = np.abs(crop.astype(np.int16) - self._bg[y0:y1, x0:x1]).max(axis=2)
        mask = cv2.medianBlur((diff > self.mask_threshold).astype(np.uint8), 3)
        share = float(mask.mean())
        if not min_share <= share <= 0.92:
            return None
        return mask

    def result(self) -> TrackCrops:
        return TrackCrops(
            self.tracker.result(),
            {tid: k.pool() for tid, k in self._near.items() if k.crops},
            {tid: k.pool() for tid, k in self._kept.items() if k.crops},
            self._slot.pool(),
            {side: k.pool() for side, k in self._sides.items() if k.crops},
        )


def _touching_bottom(mask: np.ndarray) -> np.ndarray:
    """The parts of `mask` (uint8 0/1) connected to its bottom two rows."""
    n, labels = cv2.connectedComponents(mask, connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[-2:])] = True
    keep[0] = False
    return keep[labels].astype(np.uint8)


def _overlap_share(boxes: np.ndarray) -> np.ndarray:
    """Per box, the largest share of its area covered by another box."""
    n = len(boxes)
    if n < 2:
        return np.zeros(n)
    x0 = np.maximum(boxes[:, None, 0], boxes[None, :, 0])
    y0 = np.maximum(boxes[:, None, 1], boxes[None, :, 1])
    x1 = np.minimum(boxes[:, None, 2], boxes[None, :, 2])
    y1 = np.minimum(boxes[:, None, 3], boxes[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    np.fill_diagonal(inter, 0.0)
    area = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1e-6)
    return (inter / area[:, None]).max(axis=1)


def drop_tracks(
    tracking: TrackingResult,
    drop_times: np.ndarray,
    box_polygon: np.ndarray,
    *,
    before_s: float = 2.0,
    after_s: float = 1.0,
    max_distance: float = 0.75,
    centred: float = 0.5,
) -> np.ndarray:
    """For each drop time, the id of the track that stood at the ballot box then (-1: none).

    A track qualifies when it has a box within [t − `before_s`, t + `after_s`]; among those,
    the one whose box came closest to the ballot box's outline `box_polygon` ((K, 2) pixels)
    wins, if that distance is at most `max_distance` of its box height; the horizontal offset
    of its centre from the box's, times `centred`, is added (of several people at the box, the
    one in front of the slot votes)."""
    poly = np.asarray(box_polygon, np.float64).reshape(-1, 2)
    if len(poly) < 1:
        raise ValueError("box_polygon must hold at least one point")
    out = np.full(len(drop_times), -1, np.int64)
    centre = float(poly[:, 0].min() + poly[:, 0].max()) / 2
    for k, t in enumerate(np.asarray(drop_times, np.float64)):
        best, best_d = -1, np.inf
        for track in tracking.tracks:
            sel = (track.times >= t - before_s) & (track.times <= t + after_s)
            if not sel.any():
                continue
            b = track.boxes[sel].astype(np.float64)
            # the gap to the box, and among those at it the one centred on it (the slot)
            off = np.abs((b[:, 0] + b[:, 2]) / 2 - centre) / np.maximum(b[:, 3] - b[:, 1], 1.0)
            d = float(np.min(box_distance(b, poly) + centred * off))
            if d < best_d:
                best, best_d = track.track_id, d
        if best_d <= max_distance:
            out[k] = best
    return out


@dataclass
class VoterPart:
    """The carousel's share of a camera's pass (see module doc). `source` "visits" (default):
    the voters are the visits at the box found in the slot crops alone (`slot_visits` with
    `visit_rules`, people told apart by `splitter`'s part colours), whether or not the counter
    counted a drop; "slot": a voter
    visit is one drop (drops closer than `slot_visit_s` are one), seen in the slot crops from
    `slot_before_s` before it to `slot_after_s` after; "track": the drop's track (`drop_tracks`),
    its crops from `before_s` before to `after_s` after (drops of one track closer than
    `same_visit_s` are one visit)."""

    camera: Camera
    embedder: AppearanceEmbedder
    crops: VoterCrops = field(default_factory=VoterCrops)
    source: str = "visits"
    visit_rules: VisitRules = field(default_factory=VisitRules)
    splitter: PartColourEmbedder = field(default_factory=PartColourEmbedder)
    slot_before_s: float = 1.5
    slot_after_s: float = 0.5
    slot_visit_s: float = 1.0
    merge_gap_s: float = 2.0  # visit pieces this close in time whose embeddings are ...
    merge_alike: float = 0.5  # ... this alike (cosine) are one voter's visit (session 6; was 0.8)
    anchor_s: float | None = None  # a visit is timed at the counted drop during it (None: no)
    fold_alike: float | None = None  # a piece without a drop joins its neighbour from this cosine
    before_s: float = 3.0  # crops of the track this long before a drop ...
    after_s: float = 1.5  # ... to this long after it show its voter
    same_visit_s: float = 2.5  # drops of one track closer than this are one voter's
    whole_track: bool = False  # a track with one visit: all of its crops (tracks of the
    # background detector swap people too often in a busy room: off by default)
    side_slack_s: float = 0.5  # a side visit is a voter's when a counted drop falls during
    # its crops (this much slack); else someone standing by or waiting (the side crops are
    # kept only with `VoterCrops(side_crops=True)`)
    #: the crops are embedded with their colours times the camera's light factor, the box
    #: stand's level in the empty view brought to this one (`pollwatch.carousel.light`;
    #: None: as taken)
    light_reference: float | None = None

    def __post_init__(self) -> None:
        if self.source not in ("visits", "slot", "track"):
            raise ValueError(f"source must be 'visits', 'slot' or 'track', got {self.source!r}")
        if not self.merge_gap_s >= 0:
            raise ValueError(f"merge_gap_s must be >= 0, got {self.merge_gap_s!r}")
        if not -1 <= self.merge_alike <= 1:
            raise ValueError(f"merge_alike must be a cosine in [-1, 1], got {self.merge_alike!r}")
        if self.fold_alike is not None and not -1 <= self.fold_alike <= 1:
            raise ValueError(f"fold_alike must be a cosine in [-1, 1], got {self.fold_alike!r}")
        if self.anchor_s is not None and not self.anchor_s >= 0:
            raise ValueError(f"anchor_s must be >= 0 or None, got {self.anchor_s!r}")
        if self.light_reference is not None and not self.light_reference > 0:
            raise ValueError(
                f"light_reference must be positive or None, got {self.light_reference!r}"
            )
        self._gain = 1.0
        if self.light_reference is not None:
            level = stand_level(self.crops.background, self.crops.box)
            self._gain = light_factor(level, self.light_reference)

    @property
    def analysers(self) -> Sequence[Any]:
        return [self.crops]

    def save(self, results: Sequence[Any], run: VideoRun, store: Store) -> None:
        cid = self.camera.camera_id
        kept: TrackCrops = results[0]
        try:
            drops = store.read_table("counting", "drops", camera_id=cid)
            zone = store.read_table("counting", "zone", camera_id=cid)
        except NotFoundError:
            drops, zone = pd.DataFrame({"t_s": []}), pd.DataFrame({"polygon": [""]})
        polygon = str(zone["polygon"].iloc[0]) if len(zone) else ""
        rows: list[dict[str, Any]] = []
        if self.source == "visits":
            rows = self._visit_sightings(kept, drops["t_s"].to_numpy(float))
            for pool in kept.sides.values():
                rows += self._side_sightings(pool, drops["t_s"].to_numpy(float))
        elif polygon and len(drops):
            times = drops["t_s"].to_numpy(float)
            owners = (
                np.full(len(times), -1, np.int64)
                if self.source == "slot"
                else drop_tracks(kept.tracking, times, np.asarray(json.loads(polygon)))
            )
            rows = self._sightings(kept, times, owners)
        frame = pd.DataFrame(rows, columns=SIGHTING_COLUMNS)
        store.write_table(ANALYSER, "sightings", frame, camera_id=cid)

    def _pool(
        self, kept: TrackCrops, tid: int, t: float, alone: bool, lo: float, hi: float
    ) -> CropPool:
        """The crops that show the voter of a drop at `t` (track `tid`, `alone`: the track
        has no other visit); slot crops only between `lo` and `hi` (halfway to the camera's
        previous and next voter visits: voters close in time must not share crops)."""
        if self.source == "slot":
            return kept.slot.within(max(t - self.slot_before_s, lo), min(t + self.slot_after_s, hi))
        pool = kept.pool(tid, near=True)
        window = pool.within(t - self.before_s, t + self.after_s)
        # the crops around the drop show the voter at the box; the rest of a track only when
        # it dropped one ballot and `whole_track` (tracks may swap people)
        if alone and self.whole_track:
            return (window if window.crops else pool) + kept.pool(tid, near=False)
        return window

    def _visit_sightings(
        self, kept: TrackCrops, drops: np.ndarray | None = None
    ) -> list[dict[str, Any]]:
        """One sighting per person's visit at the box in the slot crops (see `slot_visits`),
        timed at the counter's drop (`drops`, seconds) during it where there is one
        (`anchor_s`)."""
        drops = np.zeros(0) if drops is None else np.asarray(drops, np.float64)
        rows, pieces = self._pool_visits(kept.slot, drops)
        if self.anchor_s is not None:
            self._anchor(rows, [[kept.slot.times[k] for k in ks] for ks in pieces], drops)
        return rows

    def _side_sightings(self, side: CropPool, drops: np.ndarray) -> list[dict[str, Any]]:
        """One sighting per visit in one side's crops (see `VoterCrops`) during which the
        counter counted a drop (`side_slack_s`): the voter beside the one at the box."""
        rows, pieces = self._pool_visits(side, drops)
        out = []
        for row, ks in zip(rows, pieces, strict=True):
            times = [side.times[k] for k in ks]
            lo, hi = min(times) - self.side_slack_s, max(times) + self.side_slack_s
            if not np.any((drops >= lo) & (drops <= hi)):
                continue
            row["track_id"] = SIDE_TRACK
            row["track_key"] = row["track_key"].replace("/slot@", "/side@")
            out.append(row)
        return out

    def _pool_visits(
        self, slot: CropPool, drops: np.ndarray
    ) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
        """The sightings of the people's visits in `slot` (see `slot_visits`) and each one's
        crops (indices)."""
        order = _live(slot, np.argsort(np.asarray(slot.times, np.float64), kind="stable"))
        colours = []
        for k in order:
            c = self.splitter.part_colours(slot.crops[k], slot.masks[k])
            colours.append(None if c is None else self.splitter.scaled(c))
        times = np.asarray(slot.times, np.float64)[order]
        rows: list[dict[str, Any]] = []
        pieces: list[np.ndarray] = []  # the slot crops of each row
        for _, idx in slot_visits(times, colours, self.visit_rules):
            ks = order[idx]
            row = self._slot_row(slot, ks)
            if row is None:
                continue
            # a voter's visit cut in two (a pose change): the pieces are one person's when
            # they follow each other closely and look alike as wholes
            if rows and self._one_person(rows[-1], row, slot, pieces[-1], ks, drops):
                ks = np.sort(np.r_[pieces[-1], ks])
                merged = self._slot_row(slot, ks)
                if merged is not None:
                    rows[-1], pieces[-1] = merged, ks
                    continue
            rows.append(row)
            pieces.append(ks)
        return rows, pieces

    @staticmethod
    def _drops_during(slot: CropPool, ks: np.ndarray, drops: np.ndarray) -> int:
        """How many counted drops fall during the slot crops `ks`."""
        times = [slot.times[k] for k in ks]
        return int(np.sum((drops >= min(times)) & (drops <= max(times))))

    def _anchor(
        self, rows: list[dict[str, Any]], spans: list[list[float]], drops: np.ndarray
    ) -> None:
        """Time each visit (slot crops at `spans`' times) at the counted drop during it
        (`anchor_s` of slack) nearest its median time; a drop times one visit, the one whose
        median is nearest. `drops` counts the drops within `anchor_s` of a visit."""
        slack = float(self.anchor_s or 0.0)
        claims: dict[float, tuple[float, int]] = {}
        for k, (row, times) in enumerate(zip(rows, spans, strict=True)):
            inside = drops[(drops >= min(times) - slack) & (drops <= max(times) + slack)]
            row["drops"] = len(inside)
            if len(inside):
                t = float(inside[np.argmin(np.abs(inside - row["t_s"]))])
                gap = abs(t - row["t_s"])
                if t not in claims or gap < claims[t][0]:
                    claims[t] = (gap, k)
        for t, (_, k) in claims.items():
            rows[k]["t_s"] = t
            rows[k]["time"] = self.camera.start_time + timedelta(seconds=t)
            rows[k]["track_key"] = f"{self.camera.camera_id}/slot@{t:.1f}"

    def _slot_row(self, slot: CropPool, ks: np.ndarray) -> dict[str, Any] | None:
        """The sighting of the slot crops `ks`, timed at their median time."""
        pool = CropPool(
            tuple(slot.times[k] for k in ks),
            tuple(slot.crops[k] for k in ks),
            tuple(slot.masks[k] for k in ks),
        )
        return self._row(pool, -1, float(np.median(pool.times)), 0)  # the counter is not read

    def _one_person(
        self,
        a: dict[str, Any],
        b: dict[str, Any],
        slot: CropPool,
        first: np.ndarray,
        second: np.ndarray,
        drops: np.ndarray,
    ) -> bool:
        """Whether visit pieces `a` then `b` (slot crops `first`, `second`) are one voter's:
        they follow each other within `merge_gap_s` and look alike (`merge_alike`, or
        `fold_alike` when the counter counted one drop during the two, a piece without one
        being the voter stepping up or away)."""
        gap = min(slot.times[k] for k in second) - max(slot.times[k] for k in first)
        if gap > self.merge_gap_s:
            return False
        cos = float(np.dot(a["embedding"], b["embedding"]))
        alike = self.merge_alike
        if self.anchor_s is not None and self.fold_alike is not None:
            counts = (
                self._drops_during(slot, first, drops),
                self._drops_during(slot, second, drops),
            )
            if sorted(counts) == [0, 1]:
                alike = min(alike, self.fold_alike)
        return cos >= alike

    def _sightings(
        self, kept: TrackCrops, times: np.ndarray, owners: np.ndarray
    ) -> list[dict[str, Any]]:
        rows = []
        if self.source == "slot":
            one = np.zeros(len(times), np.int64)
            visits = [(-1, t, n, a) for _, t, n, a in _visits(times, one, self.slot_visit_s)]
        else:
            visits = _visits(times, owners, self.same_visit_s)
        starts = np.sort([v[1] for v in visits])
        for tid, t, n_drops, alone in visits:
            k = int(np.searchsorted(starts, t))
            lo = (starts[k - 1] + t) / 2 if k > 0 else -np.inf
            hi = (starts[k + 1] + t) / 2 if k + 1 < len(starts) else np.inf
            pool = self._pool(kept, tid, t, alone, lo, hi)
            row = self._row(pool, tid, t, n_drops)
            if row is not None:
                rows.append(row)
        return rows

    def _row(self, pool: CropPool, tid: int, t: float, n_drops: int) -> dict[str, Any] | None:
        """The sighting of a voter at `t` seen in `pool` (None: nothing to embed)."""
        cam = self.camera
        crops, masks = pool.usable()
        if not crops:
            return None
        if self._gain != 1.0:
            crops = [np.clip(c * np.float32(self._gain), 0, 255).astype(np.uint8) for c in crops]
        try:
            emb = self.embedder.embed(crops, masks)
            halves = np.nan
            if len(crops) >= 4:
                h = len(crops) // 2
                first = self.embedder.embed(crops[:h], None if masks is None else masks[:h])
                second = self.embedder.embed(crops[h:], None if masks is None else masks[h:])
                halves = float(first @ second)
        except EmbeddingUnavailable:
            return None
        return {
            "track_key": f"{cam.camera_id}/{tid if tid >= 0 else 'slot'}@{t:.1f}",
            "camera_id": cam.camera_id,
            "station_id": cam.station_id,
            "t_s": t,
            "time": cam.start_time + timedelta(seconds=t),
            "track_id": int(tid),
            "drops": n_drops,
            "crops": len(crops),
            "halves_similarity": halves,
            "crop_times": pool.usable_times(),
            "embedding": np.asarray(emb, np.float32).tolist(),
        }


def _live(pool: CropPool, order: np.ndarray, noise: int = 2) -> np.ndarray:
    """`order` (time-ordered crop indices) without the crops of a frozen picture: a crop
    equal to the one before it (every pixel within `noise` levels; a live camera's noise
    changes some pixel more) shows nobody new."""
    keep: list[int] = []
    for k in order.tolist():
        if keep:
            a, b = pool.crops[keep[-1]], pool.crops[k]
            if a.shape == b.shape and int(np.abs(a.astype(np.int16) - b).max()) <= noise:
                continue
        keep.append(k)
    return np.asarray(keep, np.int64)


def _visits(
    times: np.ndarray, owners: np.ndarray, same_visit_s: float
) -> list[tuple[int, float, int, bool]]:
    """(track, time, drops, alone) per voter visit: a track's drops closer than `same_visit_s`
    to the previous one are one voter's; `alone` when the track has no other visit."""
    out: list[tuple[int, float, int, bool]] = []
    for tid in sorted(set(owners[owners >= 0].tolist())):
        mine = np.sort(times[owners == tid])
        starts = [0] + [k for k in range(1, len(mine)) if mine[k] - mine[k - 1] >= same_visit_s]
        ends = [*starts[1:], len(mine)]
        for a, b in zip(starts, ends, strict=True):
            out.append((int(tid), float(mine[a]), b - a, len(starts) == 1))
    return out


@VIDEO_PARTS.registering("carousel", order=30)
def voter_part(ctx: VideoContext) -> VoterPart:
    """Keep crops of every person track and of the view above the ballot box; after the pass,
    embed each person's visit at the box found in the slot crops (`slot_visits`) with the
    built-in part-colour descriptor, its colours brought to one light (`LIGHT_REFERENCE`)."""
    zone = ctx.box_zone
    box = None if zone is None else np.asarray(zone.polygon, np.float64)
    # a camera nudged mid-day: the later steady views' boxes (the first is `box`); off
    # (FOLLOW_VIEWS, see docs/carousel.md: on the tuning seeds it cost 3 pairs)
    views = (
        [(v.start_s, v.end_s, np.asarray(v.zone.polygon)) for v in ctx.box_views[1:]]
        if FOLLOW_VIEWS
        else []
    )
    crops = VoterCrops(
        background=ctx.background,
        box=box,
        views=views,
        side_crops=SIDE_CROPS,
        side_fill=SIDE_FILL,
        trim_centre=TRIM_CENTRE,
        slot_min_share=SLOT_MIN_SHARE,
    )
    embedder = get_embedder_by_name("parts")
    return VoterPart(ctx.camera, embedder, crops, light_reference=LIGHT_REFERENCE)
