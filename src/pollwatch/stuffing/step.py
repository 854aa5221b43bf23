"""Ballot stuffing in the pipeline: a video part that keeps crops of the box during the shared
pass (frames around candidate events only are stored), and the "stuffing" case step that turns
the counter's stored measurements into events, findings and out/box_fill.csv.

Per camera, under analyser "stuffing": `frames` (t_s, png: the frame strip's crops), `fill`
(t_s, time, fill_px, fill_level: the pile's level every second) and `events` (every candidate,
flagged or not: `detect.EVENT_COLUMNS`). The case step runs after counting (order 30) and
needs no video: it reads what counting and the audit stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pandas as pd

from pollwatch.case import CasePaths
from pollwatch.pipeline import CASE_STEPS
from pollwatch.store import Camera, NotFoundError, Store
from pollwatch.stuffing.detect import DetectOptions, Event, camera_events, events_frame
from pollwatch.stuffing.findings import ANALYSER, event_findings
from pollwatch.stuffing.frames import FRAME_COLUMNS, BoxFrames, BoxFramesResult, strip_frames
from pollwatch.stuffing.stored import CameraData, camera_data
from pollwatch.video import Analyser, VideoRun
from pollwatch.videostep import VIDEO_PARTS, VideoContext

__all__ = [
    "BOX_FILL_COLUMNS",
    "StuffingPart",
    "camera_stuffing",
    "stored_events",
    "stuffing_part",
    "stuffing_step",
]

BOX_FILL_COLUMNS = ["camera_id", "time", "fill_level"]


def _candidates(events: Sequence[Event]) -> list[tuple[float, float]]:
    """Windows worth pictures: flagged events, and episodes of several ballots."""
    return [
        (e.start_s, e.end_s)
        for e in events
        if e.flagged or (e.ballots >= 2 and (e.p_value is None or e.p_value < 0.5))
    ]


def stored_events(data: CameraData, options: DetectOptions | None = None) -> list[Event]:
    """`camera_events` of one camera's stored inputs (`stored.camera_data`), at its frame
    height: what the case step finds on it."""
    return camera_events(
        data.drops,
        data.series,
        data.curve,
        data.step_px,
        data.observability,
        options,
        frame_height=data.camera.height,
    )


class StuffingPart:
    """The stuffing detector's share of a camera's pass: one `BoxFrames`. Saved after the
    counter's part (it reads the counter's fresh tables to choose the crops worth keeping)."""

    def __init__(self, camera: Camera, frames: BoxFrames) -> None:
        self.camera = camera
        self._analysers = [frames]

    @property
    def analysers(self) -> Sequence[Analyser]:
        return self._analysers

    def save(self, results: Sequence[Any], run: VideoRun, store: Store) -> None:
        kept: BoxFramesResult = results[0]
        try:
            data = camera_data(store, self.camera)
        except NotFoundError:  # the counter could not watch this camera
            windows: list[tuple[float, float]] = []
        else:
            events = stored_events(data)
            windows = _candidates(events)
        frames = strip_frames(kept, windows)
        store.write_table(ANALYSER, "frames", frames, camera_id=self.camera.camera_id)


@VIDEO_PARTS.registering("stuffing", order=60)
def stuffing_part(ctx: VideoContext) -> StuffingPart | None:
    """Crops of the box for the evidence, following the box through every later steady view
    of a nudged camera (`box_views`, as the counter does); None when the box cannot be
    located (the counter then has nothing to offer either)."""
    zone = ctx.box_zone
    if zone is None:
        return None
    # the counter's views, found once per camera (a keyframe every 10 s, ~0.3 s CPU); the
    # first is the located zone unless the recording began in another view
    views = ctx.box_views
    first = views[0].zone.zone if views else zone.zone
    later = [(v.start_s, v.zone.zone) for v in views[1:]]
    return StuffingPart(ctx.camera, BoxFrames(first, views=later))


def camera_stuffing(
    store: Store, camera: Camera, options: DetectOptions | None = None
) -> tuple[list[Event], pd.DataFrame]:
    """One camera's events and its fill level every second (t_s, time, fill_px,
    fill_level); `NotFoundError` when its counting step has not run."""
    data = camera_data(store, camera)
    events = stored_events(data, options)
    fill = (
        data.curve.resampled()
        if data.curve is not None
        else pd.DataFrame({c: pd.Series(dtype=float) for c in ("t_s", "fill_px", "fill_level")})
    )
    fill.insert(1, "time", [camera.start_time + timedelta(seconds=float(t)) for t in fill["t_s"]])
    return events, fill


@CASE_STEPS.registering("stuffing", order=30)
def stuffing_step(paths: CasePaths, store: Store) -> None:
    """Stuffing events per camera, `ballot_stuffing` and `stuffing_not_observable` findings
    and out/box_fill.csv."""
    findings, fills = [], []
    for cam in store.camera_records():
        try:
            events, fill = camera_stuffing(store, cam)
        except NotFoundError:  # the camera's video step has not run (or failed)
            continue
        try:
            frames = store.read_table(ANALYSER, "frames", camera_id=cam.camera_id)
        except NotFoundError:
            frames = pd.DataFrame(columns=FRAME_COLUMNS)
        store.write_table(ANALYSER, "events", events_frame(events), camera_id=cam.camera_id)
        store.write_table(ANALYSER, "fill", fill, camera_id=cam.camera_id)
        findings += event_findings(events, cam, frames["t_s"].tolist())
        fills.append(fill.assign(camera_id=cam.camera_id))
    store.replace_findings(ANALYSER, findings)
    _write_box_fill(paths, fills)


def _write_box_fill(paths: CasePaths, fills: list[pd.DataFrame]) -> None:
    frame = pd.concat(fills, ignore_index=True) if fills else pd.DataFrame(columns=["time"])
    if not frame.empty:
        frame = frame.assign(
            time=frame["time"].map(lambda t: pd.Timestamp(t).isoformat(timespec="milliseconds")),
            fill_level=frame["fill_level"].round(4),
        )
    frame.reindex(columns=BOX_FILL_COLUMNS).to_csv(paths.out("box_fill.csv"), index=False)
