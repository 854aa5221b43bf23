"""The box zone through a recording whose camera was nudged: one zone per steady view.

`VideoContext.box_zone` places the box once, on the first steady view of the first minutes
(their keyframes that agree with it: a nudge inside them does not blend two views). A camera
nudged later (a pan of a few degrees) shows the box tens of pixels away for the rest of the
day, and a fixed zone then watches the wall beside it. `box_views` reads a keyframe every
`every_s` before the pass (reached by seeking; one where phase correlation finds the first
view unmoved skips the feature match), registers the others against the first view with the
camera audit's `Registrar` (ORB + RANSAC, phase-correlation fallback), refines the moved zone
onto the box's own edges (`fit_polygon`) and cuts the recording into steady views: a new view
starts once `persist` keyframes in a row agree on a box position more than `shift_px` away
from the current one, and counts only where the box is seen there (its outline; on defocused
keyframes, whose outline is gone, the coarse picture: see `box_views`). Each view's zone is
its keyframes' median one. A view is watched from the frame the camera came to rest there
(`_moved_at`: the frames between the last keyframe of the view before and its first are
decoded, the first one that phase-correlates with that keyframe starts it) until the next
view's start; a camera still moving falls in the old view's time, whose watcher finds the
box's outline gone and the picture changed there and marks it not observable.
`ViewWatcher` runs one `BoxWatcher` per view, each frame going to its view's watcher.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np

from pollwatch.audit.geometry import ViewTransform, visible_fraction
from pollwatch.audit.registration import Registrar, phase_correlate
from pollwatch.audit.view import outline_support
from pollwatch.counting.boxzone import MIN_CONFIDENCE, BoxZone
from pollwatch.counting.watcher import BoxWatcher, WatchResult
from pollwatch.video.analyser import Needs
from pollwatch.video.boxfind import fit_polygon
from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo
from pollwatch.video.keyframes import KeyframeReader

__all__ = ["BoxView", "ViewWatcher", "box_views"]

_WORK_WIDTH = 320  # registration at this width: fast, and sub-pixel at full size is not needed


@dataclass(frozen=True)
class BoxView:
    """A steady view from `start_s` to `end_s` (recording seconds; `math.inf`: to the end) in
    which the box is `zone`."""

    start_s: float
    end_s: float
    zone: BoxZone


def _keyframes(
    path: str | Path | KeyframeReader, every_s: float
) -> Iterator[tuple[float, np.ndarray]]:
    """(time s, luma image) of the keyframe at or before every `every_s` seconds
    (`KeyframeReader.frames`, a given reader's skipping the keyframes it holds: only those
    frames are decoded); one keyframe seen twice (a GOP longer than `every_s`) is given once."""
    last = -math.inf
    reader = _reader(path)
    for frame in reader.frames(lambda d: [k * every_s for k in range(int(d // every_s) + 1)]):
        if frame.time is None or frame.time - last < every_s / 2:
            continue
        last = float(frame.time)
        yield last, _luma(frame)


def _reader(path: str | Path | KeyframeReader) -> KeyframeReader:
    return path if isinstance(path, KeyframeReader) else KeyframeReader(path)


def _luma(frame: Any) -> np.ndarray:
    """The luma plane of an `av.VideoFrame` as a (height, width) uint8 image."""
    plane = frame.planes[0]
    luma = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
    return np.ascontiguousarray(luma[: frame.height, : frame.width])


def _moved_at(
    reader: KeyframeReader, after_s: float, seen_s: float, view: np.ndarray, size: tuple[int, int]
) -> float:
    """When the camera came to rest at a new view: the first frame after `after_s` (the last
    keyframe still showing the view before) that phase correlation finds where the new view's
    first keyframe `view` (work size, seen at `seen_s`) is (`_unmoved`); `seen_s` when none
    is found or the frames cannot be read. A keyframe every `every_s` places a nudge only to
    that; the frames between say when (session 14: demo 190's three nudged cameras lost 8 s
    each to "box not in view", 9 ballots)."""
    registrar = Registrar(view)
    with contextlib.closing(reader.frames_between(after_s, seen_s)) as frames:
        for frame in frames:
            t = frame.time
            if t is None or t <= after_s or t >= seen_s:
                continue
            small = cv2.resize(_luma(frame), size, interpolation=cv2.INTER_AREA)
            if small.shape == view.shape and _unmoved(registrar, small):
                return float(t)
    return seen_s


def _unmoved(registrar: Registrar, small: np.ndarray) -> bool:
    """Whether phase correlation finds the keyframe where the reference is (under half a work
    pixel, a clear peak): a steady camera then costs one phase correlation per keyframe, not
    a feature match (the audit's cheap path), nor the reference's ORB features, which the
    `Registrar` finds only at its first feature match."""
    found = registrar.phase(small)
    return found is not None and found.quality >= 0.1 and np.hypot(*found.matrix[:, 2]) < 0.5


def _refined(gray: np.ndarray, polygon: np.ndarray, search: int = 12) -> np.ndarray:
    """`polygon` moved onto the box's own edges nearby (`fit_polygon`, the box finder's
    registration of an outline), where that fit is clear: a feature match over the whole
    room places the box only to several pixels."""
    fit = fit_polygon(gray, polygon, search=search)
    if fit is None or fit.confidence < MIN_CONFIDENCE:
        return polygon
    return polygon + np.array([fit.dx, fit.dy], float)


def _moved(transform: ViewTransform, polygon: np.ndarray, scale: float) -> np.ndarray:
    """The polygon (full-size pixels) as the view of `transform` (work-size pixels) shows it."""
    return transform.apply(polygon * scale) / scale


# a keyframe whose Laplacian variance (after a 1-pixel smoothing, which keeps sensor noise out
# of it) is under this share of the first view's is defocused (demo 87's cam-D005-005, σ 5 at
# 640 px: 0.050-0.059; its sharp keyframes 0.70-0.82): its box outline is gone, and ORB finds
# chance matches
_BLURRED = 0.1
# the coarse registration of a defocused keyframe needs a phase-correlation peak this clear
# (demo 87's cam-D005-005 after its nudge: 0.28-0.63 at 320 px; the tuning seeds' cameras
# turned away while defocused: none reaches it)
_MIN_COARSE_RESPONSE = 0.2
# the first view blurred by these Gaussian sigmas (work pixels) for a defocused keyframe
_SIGMAS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def _sharpness(small: np.ndarray) -> float:
    """Laplacian variance of `small` after a 1-pixel Gaussian (noise would dominate it)."""
    return float(cv2.Laplacian(cv2.GaussianBlur(small, (0, 0), 1.0), cv2.CV_32F).var())


class _Coarse:
    """The first view's coarse picture (work size) for keyframes much less sharp than it:
    `register` finds a defocused keyframe's translation by phase correlation against the first
    view blurred to the keyframe's sharpness; `better` says how much more the box's
    neighbourhood (its bounding box grown by a third each side) looks like the blurred first
    view's at the moved place than at the old one (normalised correlation, -2..2)."""

    def __init__(self, small: np.ndarray, polygon: np.ndarray) -> None:
        self._ref = small.astype(np.float32)
        self._ladder = [(s, cv2.GaussianBlur(self._ref, (0, 0), s)) for s in _SIGMAS]
        self._sharp = [_sharpness(b) for _, b in self._ladder]
        h, w = small.shape
        self._window = cv2.createHanningWindow((w, h), cv2.CV_32F)
        lo, hi = polygon.min(axis=0), polygon.max(axis=0)
        grow = (hi - lo) / 3
        self._lo = np.maximum(np.floor(lo - grow), 0).astype(int)
        self._hi = np.minimum(np.ceil(hi + grow), [w, h]).astype(int)

    def blurred(self, sharpness: float) -> np.ndarray:
        """The first view blurred to a keyframe's `sharpness` (`_sharpness`; the nearest of
        the ladder)."""
        sharp = max(sharpness, 1e-6)
        k = int(np.argmin([abs(math.log(max(s, 1e-6) / sharp)) for s in self._sharp]))
        return self._ladder[k][1]

    def register(self, small: np.ndarray, blurred: np.ndarray) -> ViewTransform | None:
        """The keyframe's translation from the first view (work pixels), None without a clear
        phase-correlation peak."""
        (dx, dy), response = phase_correlate(blurred, small.astype(np.float32), self._window)
        if response < _MIN_COARSE_RESPONSE:
            return None
        return ViewTransform(np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]), "phase", quality=response)

    def better(self, small: np.ndarray, blurred: np.ndarray, shift: np.ndarray) -> float:
        """NCC of the box's neighbourhood at the moved place minus at the old one; -inf when
        the moved neighbourhood leaves the picture."""
        (x0, y0), (x1, y1) = self._lo, self._hi
        dx, dy = np.round(shift).astype(int)
        h, w = small.shape
        if x0 + dx < 0 or y0 + dy < 0 or x1 + dx > w or y1 + dy > h:
            return -math.inf
        first = blurred[y0:y1, x0:x1]
        cur = small.astype(np.float32)
        return _ncc(first, cur[y0 + dy : y1 + dy, x0 + dx : x1 + dx]) - _ncc(
            first, cur[y0:y1, x0:x1]
        )


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    norm = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum()) / norm if norm > 0 else 0.0


class _Steady(NamedTuple):
    """A steady view while `box_views` reads the keyframes."""

    first_s: float  # its first keyframe's time
    last_s: float  # its last keyframe's so far
    polygons: list[np.ndarray]  # the box polygon at each of its keyframes
    seen: bool  # whether the box is seen there
    before_s: float  # the last keyframe's time of the view before
    image: np.ndarray  # its first keyframe at work size


class _Pending(NamedTuple):
    """A keyframe away from the current view, waiting for `persist` in a row."""

    t: float
    polygon: np.ndarray
    support: float  # outline support of the moved polygon
    gain: float | None  # the coarse appearance gain (defocused keyframes), else None
    image: np.ndarray  # the keyframe at work size


def box_views(
    path: str | Path | KeyframeReader,
    box: BoxZone,
    reference: np.ndarray,
    *,
    every_s: float = 10.0,
    shift_px: float = 4.0,
    persist: int = 2,
    min_support: float = 0.5,
    coarse: bool = False,
) -> list[BoxView]:
    """The recording at `path` cut into steady views, each with its box zone; `box` is the
    zone on `reference` (the first view, BGR or gray, the recording's size). One view, `box`
    itself, when the camera never moved (or the keyframes cannot be read). A later view is
    kept only where the moved zone lies in the picture (90% of it) and still traces the box:
    its `outline_support` (the camera audit's edge strength along the outline) at least
    `min_support` of the first view's, and at least 1.8 (the 95th percentile of a polygon put
    anywhere else); a view without the box is no view: the one before is watched on, its
    watcher finding the box gone as it would without this. With `coarse`, a keyframe much
    less sharp than the first view (`_BLURRED`), which has no outline to trace, is registered
    by phase correlation against the first view blurred to its sharpness (`_Coarse`), and a
    steady move of such keyframes is a view when the moved zone lies in the picture and the
    box's neighbourhood looks more like the blurred first view's at the moved place than at
    the old one. Off in the pipeline: on the one camera it finds (demo 87's cam-D005-005,
    nudged and defocused σ 5 together) the watcher then counted 48 ballots of 29 on the
    defocused box, a claim outside the rough-time error bounds, where "not observable"
    claimed nothing (docs/counting.md). `path` may be the
    recording's `KeyframeReader`, whose kept keyframes are not decoded again (the same frames)."""
    if every_s <= 0 or shift_px <= 0 or persist < 1:
        raise ValueError(
            f"every_s and shift_px must be positive and persist >= 1, got {every_s}, "
            f"{shift_px}, {persist}"
        )
    ref = reference if reference.ndim == 2 else cv2.cvtColor(reference, cv2.COLOR_BGR2GRAY)
    scale = min(1.0, _WORK_WIDTH / ref.shape[1])
    size = (round(ref.shape[1] * scale), round(ref.shape[0] * scale))
    reference_small = cv2.resize(ref, size, interpolation=cv2.INTER_AREA)
    registrar = Registrar(reference_small)
    polygon = np.asarray(box.polygon, float)
    centre = polygon.mean(axis=0)
    least: float | None = None  # the support a moved view needs, found when first asked
    sharp = _BLURRED * _sharpness(reference_small) if coarse else 0.0
    picture: _Coarse | None = None  # the first view's coarse picture, made when first needed
    views = [_Steady(0.0, 0.0, [polygon], True, 0.0, reference_small)]
    pending: list[_Pending] = []
    reader = _reader(path)
    for t, gray in _keyframes(reader, every_s):
        if gray.shape != ref.shape:
            continue
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        gain = None
        if _unmoved(registrar, small):
            found, moved = ViewTransform.identity(), polygon
        elif coarse and (sharpness := _sharpness(small)) < sharp:
            # defocused: no outline to register or refine on; the coarse picture instead
            picture = picture or _Coarse(reference_small, polygon * scale)
            blurred = picture.blurred(sharpness)
            found = picture.register(small, blurred)
            if found is None:
                continue
            moved = _moved(found, polygon, scale)
            gain = picture.better(small, blurred, found.matrix[:, 2])
        else:
            found = registrar.estimate(small)
            if found is None:
                continue
            moved = _refined(gray, _moved(found, polygon, scale))
        at = moved.mean(axis=0)
        if np.hypot(*(at - views[-1].polygons[-1].mean(axis=0))) <= shift_px:
            views[-1] = views[-1]._replace(last_s=t, polygons=[*views[-1].polygons, moved])
            pending = []
            continue
        if pending and np.hypot(*(at - pending[0].polygon.mean(axis=0))) > shift_px:
            pending = []
        inside = visible_fraction(polygon * scale, found, *size) >= 0.9
        support = outline_support(gray, moved) if inside else 0.0
        pending.append(_Pending(t, moved, support, gain if inside else None, small))
        if len(pending) >= persist:
            if least is None:
                least = max(1.8, min_support * outline_support(ref, polygon))
            seen = max(p.support for p in pending) >= least or _coarse_seen(pending)
            polygons = [p.polygon for p in pending]
            first, last = pending[0], pending[-1]
            views.append(_Steady(first.t, last.t, polygons, seen, views[-1].last_s, first.image))
            pending = []
    kept = [(k, view) for k, view in enumerate(views) if view.seen]
    # each later view from the frame the camera came to rest there, between the keyframes
    starts = [
        0.0 if k == 0 else _moved_at(reader, view.before_s, view.first_s, view.image, size)
        for k, view in kept
    ]
    out = []
    for n, (k, view) in enumerate(kept):
        start = starts[n]
        # a view is watched until the next one with the box: from the moment the camera moves
        # its watcher sees the box's outline gone and the picture changed (not observable)
        end = starts[n + 1] if n + 1 < len(kept) else math.inf
        if end <= start:
            # the recording already showed the next view at its first keyframe (`reference`,
            # the first minutes' median, shows a view the camera moved to soon after): this
            # one is never on screen
            continue
        if k == 0:
            zone = box
        else:
            centres = np.array([m.mean(axis=0) for m in view.polygons])
            middle = np.median(centres, axis=0)
            moved = view.polygons[int(np.argmin(np.hypot(*(centres - middle).T)))]
            dx, dy = (middle - centre).round().astype(int)
            zone = replace(
                box,
                polygon=tuple((float(x), float(y)) for x, y in moved),
                method=f"{box.method}; view moved at {view.first_s:.0f} s, re-registered",
                shift=(box.shift[0] + int(dx), box.shift[1] + int(dy)),
            )
        out.append(BoxView(start, end, zone))
    return out


def _coarse_seen(pending: list[_Pending]) -> bool:
    """A steady move of defocused keyframes is a view of the box when every one of them was
    registered coarsely with the moved zone in the picture, and the box's neighbourhood looks
    more like the blurred first view's at the moved place than at the old one (on the sum)."""
    gains = [p.gain for p in pending]
    if any(g is None or not math.isfinite(g) for g in gains):
        return False
    return sum(gains) > 0  # type: ignore[arg-type]


class ViewWatcher:
    """One `BoxWatcher` per steady view (see `box_views`); a frame goes to the watcher of the
    view it lies in, frames between views (the camera moving) to none. `result()` is a list
    of (view, `WatchResult`)."""

    def __init__(self, views: list[BoxView], **watcher_options: float) -> None:
        if not views:
            raise ValueError("views must not be empty")
        self.views = list(views)
        self._watchers = [BoxWatcher(v.zone.zone, **watcher_options) for v in self.views]
        self._current = 0

    @property
    def needs(self) -> Needs:
        return self._watchers[0].needs

    def reset(self) -> None:
        self._current = 0
        for w in self._watchers:
            w.reset()

    def start(self, info: StreamInfo) -> None:
        for w in self._watchers:
            w.start(info)

    def on_audio(self, chunk: AudioChunk) -> None:
        """The box is watched, not heard."""

    def on_gap(self, gap: Gap) -> None:
        for w in self._watchers:
            w.on_gap(gap)

    def update(self, frame: Frame) -> None:
        t = frame.pts_s
        while self._current + 1 < len(self.views) and t >= self.views[self._current + 1].start_s:
            self._current += 1
        view = self.views[self._current]
        if view.start_s <= t <= view.end_s:
            self._watchers[self._current].update(frame)

    def result(self) -> list[tuple[BoxView, WatchResult]]:
        return [(v, w.result()) for v, w in zip(self.views, self._watchers, strict=True)]
