"""The "video" camera step: one decode pass per camera, shared by every video part.

Parts that watch the recording (counting voters now; the camera audit, stuffing and
re-identification later) register a factory in `VIDEO_PARTS`. For each camera the step builds
a `VideoContext` (the camera, its recording, a median view of its first minutes), asks every
factory for its part, runs all their analysers in a single `analyse_video` pass, and hands each
part its own analysers' results to store. A factory returns None to sit a camera out.

    @VIDEO_PARTS.registering("mine")
    def my_part(ctx: VideoContext) -> VideoPart | None:
        return MyPart(ctx)           # .analysers, .save(results, run, store)
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from pollwatch.case import CasePaths
from pollwatch.pipeline import CAMERA_STEPS
from pollwatch.registry import Registry
from pollwatch.store import Camera, Store
from pollwatch.video import Analyser, EngineOptions, VideoRun, analyse_video
from pollwatch.video.keyframes import KeyframeReader, lazy_background

if TYPE_CHECKING:  # counting imports this module: the zone's finder is imported when used
    from pollwatch.counting.boxzone import BoxZone
    from pollwatch.counting.views import BoxView

__all__ = [
    "VIDEO_PARTS",
    "VideoContext",
    "VideoPart",
    "VideoPartFactory",
    "get_video_part_by_name",
    "video_step",
]

# the first minutes show the view the camera was set up with (a later turn is the audit's)
_BACKGROUND_S = 180.0


@dataclass(frozen=True, eq=False)
class VideoContext:
    """What a part may know before the pass: the camera, the case, the recording's path and
    `background`, the per-pixel median of the keyframes of its first minutes that show the
    first steady view (`first_view`: a camera nudged a minute in gives the view before the
    nudge, which cameras.csv's polygon and `box_views` start from; BGR, None when no frame
    could be decoded); `box_zone`, the ballot box located once for every part.
    `keyframes`: the recording's `KeyframeReader` that took `background` (its keyframes are
    not decoded again by the later looks; a new one when not given)."""

    camera: Camera
    paths: CasePaths
    path: Path
    background: np.ndarray | None
    keyframes: KeyframeReader | None = None

    @cached_property
    def _reader(self) -> KeyframeReader:
        return self.keyframes if self.keyframes is not None else KeyframeReader(self.path)

    @cached_property
    def box_zone(self) -> BoxZone | None:
        """The ballot box in this recording (`resolve_box_zone`): cameras.csv's polygon
        registered to the first minutes' view or, when that fails, to the whole recording's
        keyframes; else the reference image; else the view itself. None when not found."""
        from pollwatch.counting.boxzone import resolve_box_zone

        cam = self.camera
        return resolve_box_zone(
            self.background,
            cam.box_polygon,
            cam.reference_path(self.paths.root),
            others=lazy_background(self._reader) if cam.box_polygon is not None else (),
        )

    @cached_property
    def box_views(self) -> list[BoxView]:
        """The box through the day, one `BoxView` per steady view of a camera nudged mid-day
        (`pollwatch.counting.views.box_views`, keyframes read once for every part that follows
        the box); empty when the box is not located reliably on a first-minutes picture."""
        zone = self.box_zone
        if zone is None or self.background is None or not zone.reliable:
            return []
        from pollwatch.counting.views import box_views

        return box_views(self._reader, zone, self.background)  # the keyframes read once


class VideoPart(Protocol):
    """One part's share of the pass: its analysers, and what to store from their results."""

    @property
    def analysers(self) -> Sequence[Analyser]: ...

    def save(self, results: Sequence[Any], run: VideoRun, store: Store) -> None:
        """Store what the analysers found; `results` are theirs, in the same order."""


VideoPartFactory = Callable[[VideoContext], VideoPart | None]

VIDEO_PARTS: Registry[VideoPartFactory] = Registry(
    "video part",
    modules=(
        "pollwatch.counting.step",
        "pollwatch.audit.stored",
        "pollwatch.stuffing.step",
        "pollwatch.carousel.voters",
    ),
)


def get_video_part_by_name(name: str) -> VideoPartFactory:
    """The video part factory registered as `name`."""
    return VIDEO_PARTS.get(name)


@CAMERA_STEPS.registering("video", order=10)
def video_step(camera: Camera, paths: CasePaths, store: Store) -> None:
    """Run every registered video part's analysers over the camera's recording in one pass
    (one decoder thread: cameras are the unit of parallel work) and let each part store its
    results."""
    path = camera.source_path(paths.root)
    if path is None:
        raise ValueError(f"{camera.source}: stream addresses are not analysed; record a file")
    # each keyframe decoded once for every look, all of them through one open container
    keyframes = KeyframeReader(path)  # opens the file at its first read
    # The objects alive before this camera (modules, the pipeline, earlier cameras' results)
    # are left out of its collections: on azerbaijan-2024 70's cameras the collector's time
    # fell from 0.19-0.21 to 0.03-0.04 of the bare decode, about 3% of the step
    # (benchmarks/camera_step.py; docs/video.md, "The collector").
    # A caller that froze objects itself keeps them frozen: only what this step froze thaws.
    own_freeze = gc.get_freeze_count() == 0
    if own_freeze:
        gc.freeze()
    try:
        background = keyframes.background(until_s=_BACKGROUND_S, first_view_only=True)
        ctx = VideoContext(camera, paths, path, background, keyframes)
        parts = [(name, factory(ctx)) for name, factory in VIDEO_PARTS.items()]
        keyframes.close()  # its decoder's buffers are not held through the pass
        chosen = [(name, part) for name, part in parts if part is not None]
        analysers = [a for _, part in chosen for a in part.analysers]
        run = analyse_video(
            path, analysers, start_time=camera.start_time, options=EngineOptions(threads=1)
        )
        results = dict(zip(map(id, analysers), run.results, strict=True))
        for _, part in chosen:
            part.save([results[id(a)] for a in part.analysers], run, store)
    finally:
        keyframes.close()
        if own_freeze:
            gc.unfreeze()
    store.set_job_progress(camera.camera_id, "video", float(run.last_s or 0.0))
