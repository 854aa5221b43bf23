"""The box zone through a recording whose camera was nudged: one zone per steady view.

`VideoContext.box_zone` places the box once, on the view of the first minutes. A camera
nudged later (a pan of a few degrees) shows the box tens of pixels away for the rest of the
day, and a fixed zone then watches the wall beside it. `box_views` reads the recording's
keyframes before the pass (decoding keyframes only: about 1% of a full decode at a keyframe
every 2 s), registers each against the first view with the camera audit's `Registrar` (ORB +
RANSAC, phase-correlation fallback) and cuts the recording into steady views: a new view
starts once `persist` keyframes in a row agree on a box position more than `shift_px` away
from the current one. Each view's zone is the first zone moved by the median transform of its
keyframes; the time between the last keyframe of one view and the first of the next is
"view moving" (the nudge happened somewhere in it). `ViewWatcher` then runs one `BoxWatcher`
per view, each frame going to the watcher of the view it belongs to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import av
import cv2
import numpy as np

from pollwatch.audit.geometry import ViewTransform, visible_fraction
from pollwatch.audit.registration import Registrar
from pollwatch.audit.view import outline_support
from pollwatch.counting.boxzone import BoxZone
from pollwatch.counting.watcher import BoxWatcher, WatchResult
from pollwatch.video.analyser import Needs
from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo

__all__ = ["BoxView", "ViewWatcher", "box_views"]

_WORK_WIDTH = 320  # registration at this width: fast, and sub-pixel at full size is not needed


@dataclass(frozen=True)
class BoxView:
    """A steady view from `start_s` to `end_s` (recording seconds; `math.inf`: to the end) in
    which the box is `zone`."""

    start_s: float
    end_s: float
    zone: BoxZone


def _keyframes(path: str | Path, every_s: float):
    """(time s, gray image) of keyframes at least `every_s` apart."""
    last = -math.inf
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                return
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            try:
                for frame in container.decode(stream):
                    if frame.time is None or frame.time - last < every_s:
                        continue
                    last = float(frame.time)
                    yield last, frame.to_ndarray(format="gray")
            except (av.error.FFmpegError, OSError):
                return  # a damaged tail: the views found up to it stand
    except (av.error.FFmpegError, OSError):
        return


def _moved(transform: ViewTransform, polygon: np.ndarray, scale: float) -> np.ndarray:
    """The polygon (full-size pixels) as the view of `transform` (work-size pixels) shows it."""
    return transform.apply(polygon * scale) / scale


def box_views(
    path: str | Path,
    box: BoxZone,
    reference: np.ndarray,
    *,
    every_s: float = 4.0,
    shift_px: float = 4.0,
    persist: int = 2,
    min_support: float = 0.5,
) -> list[BoxView]:
    """The recording at `path` cut into steady views, each with its box zone; `box` is the
    zone on `reference` (the first view, BGR or gray, the recording's size). One view, `box`
    itself, when the camera never moved (or the keyframes cannot be read). A later view is
    kept only where the moved zone lies in the picture (90% of it) and still traces the box:
    its `outline_support` (the camera
    audit's edge strength along the outline) at least `min_support` of the first view's, and
    at least 1.8 (the 95th percentile of a polygon put anywhere else); the time of a view
    without the box belongs to no view, like the time the camera moved."""
    if every_s <= 0 or shift_px <= 0 or persist < 1:
        raise ValueError(
            f"every_s and shift_px must be positive and persist >= 1, got {every_s}, "
            f"{shift_px}, {persist}"
        )
    ref = reference if reference.ndim == 2 else cv2.cvtColor(reference, cv2.COLOR_BGR2GRAY)
    scale = min(1.0, _WORK_WIDTH / ref.shape[1])
    size = (round(ref.shape[1] * scale), round(ref.shape[0] * scale))
    registrar = Registrar(cv2.resize(ref, size, interpolation=cv2.INTER_AREA))
    polygon = np.asarray(box.polygon, float)
    centre = polygon.mean(axis=0)
    least = max(1.8, min_support * outline_support(ref, polygon))
    # steady views as (first t, last t, [(t, transform)], box seen); the first is the reference
    views: list[tuple[float, float, list[tuple[float, ViewTransform]], bool]] = [
        (0.0, 0.0, [(0.0, ViewTransform.identity())], True)
    ]
    pending: list[tuple[float, ViewTransform, float]] = []
    for t, gray in _keyframes(path, every_s):
        if gray.shape != ref.shape:
            continue
        found = registrar.estimate(cv2.resize(gray, size, interpolation=cv2.INTER_AREA))
        if found is None:
            continue
        at = _moved(found, centre[None], scale)[0]
        current = _moved(views[-1][2][-1][1], centre[None], scale)[0]
        if np.hypot(*(at - current)) <= shift_px:
            first, _, members, seen = views[-1]
            views[-1] = (first, t, [*members, (t, found)], seen)
            pending = []
            continue
        if pending:
            there = _moved(pending[0][1], centre[None], scale)[0]
            if np.hypot(*(at - there)) > shift_px:
                pending = []
        inside = visible_fraction(polygon * scale, found, *size) >= 0.9
        support = outline_support(gray, _moved(found, polygon, scale)) if inside else 0.0
        pending.append((t, found, support))
        if len(pending) >= persist:
            seen = max(p[2] for p in pending) >= least
            views.append((pending[0][0], pending[-1][0], [p[:2] for p in pending], seen))
            pending = []
    if len(views) == 1:
        return [BoxView(0.0, math.inf, box)]
    out = []
    for k, (first, last, members, seen) in enumerate(views):
        if not seen:
            continue
        start = 0.0 if k == 0 else first
        end = last if k + 1 < len(views) else math.inf  # then the view moved
        if k == 0:
            zone = box
        else:
            shifts = np.array([_moved(m, centre[None], scale)[0] for _, m in members])
            middle = members[int(np.argmin(np.hypot(*(shifts - np.median(shifts, 0)).T)))][1]
            moved = _moved(middle, polygon, scale)
            dx, dy = (np.median(shifts, 0) - centre).round().astype(int)
            zone = replace(
                box,
                polygon=tuple((float(x), float(y)) for x, y in moved),
                method=f"{box.method}; view moved at {first:.0f} s, re-registered",
                shift=(box.shift[0] + int(dx), box.shift[1] + int(dy)),
            )
        out.append(BoxView(start, end, zone))
    return out


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
