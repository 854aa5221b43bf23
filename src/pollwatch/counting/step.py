"""Counting in the pipeline: a video part (one `BoxWatcher` per camera, in the shared pass) and
the "counting" case step (counts per checkpoint interval, turnout-inflation findings, CSVs).

Per camera, in the store under analyser "counting": `zone` (where the box was found), `series`
(the watcher's measurements), `drops`, `unobservable` (ranges with a reason), `rough` (ranges
watched with a degraded picture, counted with `ROUGH_ERRORS`) and `facts`. The
case step adds the case-level `counts` table and writes out/drops.csv and out/counts.csv.
Unobservable ranges from other parts (the camera audit) plug in through `OBSERVABILITY_SOURCES`:
`source(store, camera) -> [(start_s, end_s, reason), ...]` on the camera's clock.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from pollwatch.audit.stored import read_blind_ranges
from pollwatch.case import CasePaths
from pollwatch.counting.boxzone import BoxZone
from pollwatch.counting.calibration import COUNTER_ERRORS, ROUGH_ERRORS
from pollwatch.counting.drop_options import DropFinderOptions
from pollwatch.counting.drops import find_drops
from pollwatch.counting.observability import Observability, Range
from pollwatch.counting.turnout import (
    COUNT_COLUMNS,
    COUNTS_CSV_COLUMNS,
    checkpoint_intervals,
    count_intervals,
    inflation_findings,
    official_increments,
)
from pollwatch.counting.unobservable import (
    outline_lost_to_blur,
    rough_ranges,
    unobservable_ranges,
)
from pollwatch.counting.views import BoxView, ViewWatcher
from pollwatch.counting.watcher import SERIES_COLUMNS, WatchResult
from pollwatch.pipeline import CASE_STEPS
from pollwatch.registry import Registry
from pollwatch.store import Camera, NotFoundError, Store
from pollwatch.video import Analyser, VideoRun
from pollwatch.videostep import VIDEO_PARTS, VideoContext

__all__ = [
    "ANALYSER",
    "DROPS_CSV_COLUMNS",
    "NEW_BLIND_S",
    "OBSERVABILITY_SOURCES",
    "WATCHED_AUDIT_REASONS",
    "CountingPart",
    "Replayed",
    "audit_ranges",
    "camera_observability",
    "camera_rough",
    "counting_part",
    "counting_step",
    "replay_camera",
]

ANALYSER = "counting"
DROPS_CSV_COLUMNS = [
    "camera_id",
    "station_id",
    "time",
    "track_id",
    "dwell_s",
    "ballots",
    "confidence",
    "evidence",
]

ObservabilitySource = Callable[[Store, Camera], Sequence[Range]]
OBSERVABILITY_SOURCES: Registry[ObservabilitySource] = Registry("observability source", modules=())

# blind time other parts must add to the counter's own before the drops are found again: less
# is the edge of a range it knew (the audit ends a dark spell 0.7 s later), where a series cut
# anew would start in the middle of a hand and split it in two (demo 76's cam-D003-009)
NEW_BLIND_S = 2.0

# audit reasons under which the box was still watched: a blurred box is the counter's rough time,
# and its watcher judges for itself whether it still sees hands and the pile (the stuffing part
# reads the same ranges: on a defocused camera of demo seed 21, audited blurred all day, a
# stuffer's five hands were five clear drops)
WATCHED_AUDIT_REASONS = frozenset({"blurred"})

# whether the counter's "box not in view" lying wholly inside the audit's out-of-focus range is
# read as blur, rough time (`outline_lost_to_blur`), not the box lost. Off: of 128 cameras
# (tuning pool, session 10's tuning cases, hidden set, demo 118/120) it changed two, both
# tuning cameras defocused with voters at the box: count error 74% -> 37% and 39% -> 13%,
# matched +11 and +7, no non-voter added; but both now over-count (37 and 26 for 27 and 23
# true), and two truly inflated intervals of demo 114 went from "not observable" to watched
# and unflagged. Evidence on two tuning cameras only: off until fresh seeds with late
# defocus confirm it (docs/counting.md, session 10, "blur is not the box lost"). Session 11
# tried it on again: the fresh demo 134's cam-D006-004 counted 18 of 24 ballots on (4 off),
# but the freed time's ballots in the rough calibration (demo 110, 114: 34 ballots, 2
# missed, 14 false) narrow the rough miss bound (25% -> 18%), and demo 134 then flagged a
# clean interval and its station; with session 8's rough counts the freed time's over-count
# is not in the bounds. Off (docs/counting.md, session 11). Session 12 (blur12), with
# `blur_edges` and rough time recalibrated on every blurred tuning camera (88 ballots, 16
# missed, 29 false): no clean flag on 24 tuning and 3 fresh cases, but the freed time's false
# drops make the rough test expect 98% of the official figure (was 90%), two more truly
# inflated intervals are watched and unflagged, and the carousel pairs the blurred sightings
# (demo 134 precision 1.0 -> 0.57). Off until the blurred pile is read right. Session 13
# (blurread13), with the blurred pile read against its own paper and rough time calibrated
# with cameras as the independent unit (8 cameras, 101 ballots: effectively 39 for the miss
# rate, 14 for the false): p90 10.5% -> 9.3% and matched 94.9% -> 96.6% on 19 cases, no clean
# flag, but demo 110's blurred camera 42 of 27, two stuffing estimates off (9 -> 15 of 9, 4 -> 0
# of 5) and two more inflated intervals watched and unflagged; with `measures.UNDER_LINE_ROWS`
# 6 and the calibration again, p90 8.8%, demo 110 33 of 27, but the stuffing estimates (13 of
# 9, 10 of 5) and the two intervals stay: off
BLUR_IS_NOT_LOST = False


@OBSERVABILITY_SOURCES.registering("audit")
def audit_ranges(store: Store, camera: Camera) -> list[Range]:
    """The camera audit's unobservable ranges ("audit: frozen", ...), one reason at a time
    (`read_blind_ranges`: a blurred day merged with a short cover is not a blind day), the
    blurred ones left out; none for a camera not audited. The one reader of them: the
    stuffing part takes them through `camera_observability` too. The counter's own check
    takes a picture as frozen when not a pixel of the box zone changed for a second, which a
    frozen stream whose codec still stirs a few pixels never is (demo 83's cam-D002-010: 36 s
    frozen, an interval counted 2 of 5 and its clean station flagged); the audit sees the
    stream itself."""
    return _audit_reasons(store, camera, watched=False)


def _audit_reasons(store: Store, camera: Camera, *, watched: bool) -> list[Range]:
    """The camera audit's not-observable ranges (start_s, end_s, "audit: <reason>") whose
    reason is (`watched`) or is not one of `WATCHED_AUDIT_REASONS`; none for a camera not
    audited."""
    try:
        ranges = read_blind_ranges(store, camera.camera_id)
    except NotFoundError:
        return []
    return [(a, b, f"audit: {r}") for a, b, r in ranges if (r in WATCHED_AUDIT_REASONS) == watched]


@dataclass
class CountingPart:
    """The counter's share of a camera's pass: a `BoxWatcher` on the located box zone per
    steady view (`views`, see `pollwatch.counting.views`; the one zone for the whole recording
    when not given; no watcher when no box was found), then the drops and unobservable ranges
    they imply. The time between two views (the camera moving) is "view moving"."""

    camera: Camera
    zone: BoxZone | None
    views: Sequence[BoxView] | None = None

    def __post_init__(self) -> None:
        if self.zone is not None and not self.views:
            self.views = [BoxView(0.0, math.inf, self.zone)]
        self._analysers = [] if self.zone is None else [ViewWatcher(list(self.views or ()))]

    @property
    def analysers(self) -> Sequence[Analyser]:
        return self._analysers

    def save(self, results: Sequence[Any], run: VideoRun, store: Store) -> None:
        cid = self.camera.camera_id
        zone = self.zone
        end_s = _recording_end(run)
        gaps: list[Range] = [
            (g.start_s, end_s if g.end_s is None else g.end_s, f"{g.kind} video") for g in run.gaps
        ]
        if zone is None or not results:
            store.write_table(ANALYSER, "zone", _zone_frame(zone), camera_id=cid)
            series = pd.DataFrame(columns=SERIES_COLUMNS)
            own: list[Range] = [(0.0, end_s, "ballot box not found")]
            rough: list[Range] = []
            drops, facts = _no_drops(), {"step_px": np.nan}
        else:
            watched: list[tuple[BoxView, WatchResult]] = results[0]
            store.write_table(ANALYSER, "zone", _views_frame(watched), camera_id=cid)
            series, own, rough, drops, facts = _watch_views(watched, gaps, end_s)
        obs = Observability(0.0, end_s, tuple(gaps + own))
        drops = drops.assign(
            time=[self.camera.start_time + timedelta(seconds=float(t)) for t in drops["t_s"]]
        )
        store.write_table(ANALYSER, "series", series, camera_id=cid)
        store.write_table(ANALYSER, "drops", drops, camera_id=cid)
        store.write_table(ANALYSER, "unobservable", obs.to_frame(), camera_id=cid)
        store.write_table(
            ANALYSER, "rough", Observability(0.0, end_s, tuple(rough)).to_frame(), camera_id=cid
        )
        facts = {**facts, "recording_end_s": end_s, "frames": float(run.frames_delivered)}
        store.write_table(ANALYSER, "facts", pd.DataFrame([facts]), camera_id=cid)


def _watch_views(
    watched: list[tuple[BoxView, WatchResult]],
    gaps: list[Range],
    end_s: float,
    blurred: Sequence[Range] = (),
    options: DropFinderOptions | None = None,
) -> tuple[pd.DataFrame, list[Range], list[Range], pd.DataFrame, dict[str, float]]:
    """Series, own unobservable ranges, rough ranges, drops and facts over every view, each
    view's drops found in its own series (a view is a recording of its own: its own
    background, its own pile); the facts of the view watched longest. A view whose ballot
    slot was not seen is rough throughout (the hands over the slot were not watched), and so
    is one whose slot was only seen out of focus. `blurred`: the camera audit's out-of-focus
    ranges; `options`: the drop finder's thresholds (both `find_drops`')."""
    own: list[Range] = []
    rough: list[Range] = []
    for (view, _), (after, _) in itertools.pairwise(watched):
        if view.end_s < after.start_s:
            own.append((view.end_s, after.start_s, "view moving"))
    if watched[-1][0].end_s < end_s:
        own.append((watched[-1][0].end_s, end_s, "view moved, box not found again"))
    parts: list[pd.DataFrame] = []
    all_drops: list[pd.DataFrame] = []
    facts: dict[str, float] = {"step_px": np.nan}
    longest = -1
    visits = 0
    for _, watch in watched:
        if watch.series.empty and len(watched) > 1:
            continue  # a view no frame reached (a damaged tail): nothing was watched
        view_own = unobservable_ranges(watch.series)
        if BLUR_IS_NOT_LOST:
            view_own, freed = outline_lost_to_blur(view_own, blurred)
            rough.extend(freed)
        own.extend(view_own)
        rough.extend(rough_ranges(watch.series))
        drops, view_facts = find_drops(
            watch.series, watch.box_height_px, options, blind=gaps + own, blurred=blurred
        )
        if not watch.series.empty and np.isnan(view_facts.get("reaches", np.nan)):
            t = watch.series["t_s"]
            rough.append((float(t.iloc[0]), float(t.iloc[-1]), "no ballot slot seen"))
        elif not watch.series.empty and watch.slot_blurred:
            t = watch.series["t_s"]
            rough.append((float(t.iloc[0]), float(t.iloc[-1]), "ballot slot out of focus"))
            view_facts = {**view_facts, "slot_blurred": 1.0}
        drops = drops.assign(visit_id=drops["visit_id"] + visits)
        visits = int(drops["visit_id"].max()) + 1 if len(drops) else visits
        parts.append(watch.series)
        all_drops.append(drops)
        if len(watch.series) > longest:
            facts, longest = view_facts, len(watch.series)
    if not parts:
        return pd.DataFrame(columns=SERIES_COLUMNS), own, rough, _no_drops(), facts
    series = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    drops = pd.concat(all_drops, ignore_index=True) if len(all_drops) > 1 else all_drops[0]
    return series, own, rough, drops, facts


def _recording_end(run: VideoRun) -> float:
    last = run.last_s
    declared = run.info.duration_s
    if last is None:
        return float(declared or 0.0)
    frame_s = 1.0 / run.info.fps if run.info.fps else 0.0
    return float(last + frame_s)


def _zone_frame(zone: BoxZone | None) -> pd.DataFrame:
    if zone is None:
        return pd.DataFrame(
            [{"polygon": "", "confidence": 0.0, "method": "not found", "shift_x": 0, "shift_y": 0}]
        )
    return pd.DataFrame(
        [
            {
                "polygon": json.dumps([[round(x, 1), round(y, 1)] for x, y in zone.polygon]),
                "confidence": zone.confidence,
                "method": zone.method,
                "shift_x": zone.shift[0],
                "shift_y": zone.shift[1],
            }
        ]
    )


def _views_frame(watched: list[tuple[BoxView, WatchResult]]) -> pd.DataFrame:
    """`_zone_frame` of each view's zone, with the view's `start_s` and `end_s`."""
    return pd.concat(
        [
            _zone_frame(view.zone).assign(start_s=view.start_s, end_s=view.end_s)
            for view, _ in watched
        ],
        ignore_index=True,
    )


def _no_drops() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "t_s": pd.Series(dtype=float),
            "ballots": pd.Series(dtype=np.int64),
            "confidence": pd.Series(dtype=float),
            "evidence": pd.Series(dtype=str),
            "visit_id": pd.Series(dtype=np.int64),
            "dwell_s": pd.Series(dtype=float),
        }
    )


@VIDEO_PARTS.registering("counting", order=20)
def counting_part(ctx: VideoContext) -> CountingPart:
    """Locate the box (cameras.csv's polygon registered to the recording's first minutes or
    its whole length, else a reference image, else the recording's view), follow it through
    every later view of a nudged camera (`box_views`) and watch it."""
    return CountingPart(ctx.camera, ctx.box_zone, ctx.box_views)


def camera_rough(store: Store, camera: Camera, extent: Observability) -> Observability:
    """The camera's rough ranges (watched with a degraded picture) as an `Observability` over
    the recording's `extent` (`camera_observability`'s) whose unobservable ranges they are;
    none for a camera analysed before they were kept. With `BLUR_IS_NOT_LOST`, also the
    counter's "box not in view" read as blur (`_blur_not_lost`)."""
    try:
        frame = store.read_table(ANALYSER, "rough", camera_id=camera.camera_id)
    except NotFoundError:
        return Observability(extent.start_s, extent.end_s)
    rough = Observability.from_frame(frame, extent.start_s, extent.end_s)
    if BLUR_IS_NOT_LOST:
        stored = store.read_table(ANALYSER, "unobservable", camera_id=camera.camera_id)
        own = Observability.from_frame(stored, extent.start_s, extent.end_s)
        rough = rough.with_ranges(_blur_not_lost(store, camera, own)[1])
    return rough


def camera_observability(store: Store, camera: Camera) -> Observability:
    """The camera's recording extent and unobservable ranges: the counter's own, plus every
    registered `OBSERVABILITY_SOURCES` source's."""
    _, seen, sources = _camera_ranges(store, camera)
    return seen.with_ranges(sources)


def _camera_ranges(
    store: Store, camera: Camera
) -> tuple[Observability, Observability, list[Range]]:
    """The recording's extent with the unobservable ranges the counter's pass found (its own
    and the engine's gaps); the same with the whole recording blind where the box was never
    seen; every registered `OBSERVABILITY_SOURCES` source's ranges."""
    frame = store.read_table(ANALYSER, "unobservable", camera_id=camera.camera_id)
    facts = store.read_table(ANALYSER, "facts", camera_id=camera.camera_id)
    end_s = float(facts["recording_end_s"].iloc[0])
    own = Observability.from_frame(frame, 0.0, end_s)
    if BLUR_IS_NOT_LOST:
        own = Observability(0.0, end_s, tuple(_blur_not_lost(store, camera, own)[0]))
    seen = own
    try:
        zone = store.read_table(ANALYSER, "zone", camera_id=camera.camera_id)
    except NotFoundError:
        zone = pd.DataFrame()
    if _nothing_seen(zone, facts):
        seen = own.with_ranges([(0.0, end_s, "ballot box not seen")])
    return own, seen, _source_ranges(store, camera)


def _blur_not_lost(
    store: Store, camera: Camera, own: Observability
) -> tuple[list[Range], list[Range]]:
    """The counter's own unobservable ranges `own`, split by `outline_lost_to_blur` with the
    camera audit's out-of-focus ranges: (kept, read as blur)."""
    return outline_lost_to_blur(list(own.unobservable), _blurred_ranges(store, camera))


def _source_ranges(store: Store, camera: Camera) -> list[Range]:
    """Every registered `OBSERVABILITY_SOURCES` source's unobservable ranges of the camera."""
    return [r for _, source in OBSERVABILITY_SOURCES.items() for r in source(store, camera)]


def _drops_again(
    store: Store,
    camera: Camera,
    blind: Observability,
    drops: pd.DataFrame,
    blurred: Sequence[Range] = (),
) -> pd.DataFrame:
    """The camera's drops found again in its stored series, each view's apart, with all of
    `blind`'s unobservable time left out, and stored in place of `drops`. The counter's pass knew
    only its own ranges and the engine's gaps; those other parts find (the audit's frozen
    picture) come after it, and a pile rise across them was read as ballots of the hand
    before (demo 83's cam-D002-010: 1 voter read as 5, the other 4 dropped while the picture
    stood frozen). `blurred`: the audit's out-of-focus ranges, which the counter's pass did
    not know (`find_drops`). `drops` as they were when the series or the views are not
    stored."""
    cid = camera.camera_id
    try:
        series = store.read_table(ANALYSER, "series", camera_id=cid)
        views = store.read_table(ANALYSER, "zone", camera_id=cid)
    except NotFoundError:
        return drops
    if series.empty or not str(views["polygon"].iloc[0]):
        return drops
    watched = _stored_views(series, views)
    found = _watch_views(watched, list(blind.unobservable), blind.end_s, blurred)[3]
    found = found.assign(
        time=[camera.start_time + timedelta(seconds=float(t)) for t in found["t_s"]]
    )
    store.write_table(ANALYSER, "drops", found, camera_id=cid)
    return found


def _blurred_ranges(store: Store, camera: Camera) -> list[Range]:
    """The camera audit's ranges with the picture out of focus (`WATCHED_AUDIT_REASONS`:
    watched on, rough time); none for a camera not audited."""
    return _audit_reasons(store, camera, watched=True)


class Replayed(NamedTuple):
    """A camera's decisions taken anew from its stored series (`replay_camera`)."""

    # as the store's `drops` table after `counting_step` (no `time` column): those in
    # unobservable time are still in, as `counting_step` leaves them out only when counting
    drops: pd.DataFrame
    observability: Observability  # as `camera_observability` gives it
    rough: Observability  # as `camera_rough` gives it


def replay_camera(
    store: Store, camera: Camera, options: DropFinderOptions | None = None
) -> Replayed | None:
    """The camera's drops, unobservable and rough time decided anew from its stored watcher
    series and views with this code's decision logic, as `CountingPart.save` and then
    `counting_step` take them (the drops found again with the other parts' blind time when
    it adds `NEW_BLIND_S` or more, or with the audit's out-of-focus ranges); None where no
    series or no box is stored. Where `counting_step` keeps the pass's drops, these may
    differ from them: the box's height comes from the stored polygon (kept to 0.1 px), and
    an engine gap stored merged with one of the counter's ranges is taken whole. No video is
    read: the watcher's measures are the stored ones (a change to them needs `analyse`
    again). `options`: the drop finder's thresholds (the defaults when None). For
    calibrating the counter on analysed cases (benchmarks/counting_calibration.py
    `--replay`) and trying thresholds on them (benchmarks/counting_replay.py)."""
    cid = camera.camera_id
    try:
        series = store.read_table(ANALYSER, "series", camera_id=cid)
        views = store.read_table(ANALYSER, "zone", camera_id=cid)
        stored = store.read_table(ANALYSER, "unobservable", camera_id=cid)
        facts = store.read_table(ANALYSER, "facts", camera_id=cid)
    except NotFoundError:
        return None
    if series.empty or views.empty or not str(views["polygon"].iloc[0]):
        return None
    end_s = float(facts["recording_end_s"].iloc[0])
    # the engine's gaps (a stored range merged with one is kept whole: the counter's own
    # ranges in it are found again anyway)
    gaps = [
        (float(a), float(b), str(why))
        for a, b, why in stored.itertuples(index=False)
        if any(x.endswith(" video") for x in str(why).split("; "))
    ]
    watched = _blurred_as_stored(store, cid, _stored_views(series, views))
    _, own, rough, drops, found = _watch_views(watched, gaps, end_s, options=options)
    blurred = _blurred_ranges(store, camera)
    if BLUR_IS_NOT_LOST:  # as `_camera_ranges` and `camera_rough` take the stored ranges
        own, freed = outline_lost_to_blur(own, blurred)
        rough = rough + freed
    mine = Observability(0.0, end_s, tuple(gaps + own))
    seen = mine
    if _nothing_seen(views, pd.DataFrame([found])):
        seen = mine.with_ranges([(0.0, end_s, "ballot box not seen")])
    sources = _source_ranges(store, camera)
    blind = mine.with_ranges(sources)
    if mine.observed_s(0.0, end_s) - blind.observed_s(0.0, end_s) >= NEW_BLIND_S:
        drops = _watch_views(watched, list(blind.unobservable), end_s, blurred, options)[3]
    elif blurred:  # as `counting_step`: found again with the audit's blur
        drops = _watch_views(watched, list(mine.unobservable), end_s, blurred, options)[3]
    return Replayed(drops, seen.with_ranges(sources), Observability(0.0, end_s, tuple(rough)))


def _blurred_as_stored(
    store: Store, camera_id: str, watched: list[tuple[BoxView, WatchResult]]
) -> list[tuple[BoxView, WatchResult]]:
    """`watched` with each view's `slot_blurred` as the watcher found it: a view whose series
    begins in a stored rough range "ballot slot out of focus" (the series keeps no such
    flag)."""
    try:
        rough = store.read_table(ANALYSER, "rough", camera_id=camera_id)
    except NotFoundError:
        return watched
    spans = [
        (float(a), float(b))
        for a, b, why in rough.itertuples(index=False)
        if "ballot slot out of focus" in str(why).split("; ")
    ]
    out = []
    for view, watch in watched:
        t = watch.series["t_s"]
        first = float(t.iloc[0]) if len(t) else math.nan
        blurred = any(a <= first <= b for a, b in spans)
        out.append((view, replace(watch, slot_blurred=blurred)))
    return out


def _stored_views(series: pd.DataFrame, views: pd.DataFrame) -> list[tuple[BoxView, WatchResult]]:
    """The views of a stored `zone` table (`_views_frame`), each with its part of the stored
    `series`, as `_watch_views` takes them; a table stored before views were kept is one."""
    if "start_s" not in views:
        views = views.assign(start_s=0.0, end_s=math.inf)
    watched: list[tuple[BoxView, WatchResult]] = []
    for row in views.itertuples(index=False):
        corners = tuple((float(x), float(y)) for x, y in json.loads(row.polygon))
        zone = BoxZone(corners, float(row.confidence), str(row.method))
        view = BoxView(float(row.start_s), float(row.end_s), zone)
        t = series["t_s"]
        part = series[(t >= view.start_s) & (t < view.end_s)] if len(views) > 1 else series
        _, y0, _, y1 = zone.zone.bbox
        watched.append((view, WatchResult(part.reset_index(drop=True), None, (), float(y1 - y0))))
    return watched


def _nothing_seen(zone: pd.DataFrame, facts: pd.DataFrame) -> bool:
    """A box located with little confidence where the whole recording showed no slot and no
    readable paper pile: white patches at the lid are then all there is, and on a box that
    may not be one they could be anything (a camera turned to a wall of posters shows them).
    Whatever was watched, its count must not pass for a count."""
    row = facts.iloc[0]
    # a slot seen only out of focus is no proof either: a blurred dark bar on the wrong thing
    blurred = float(row.get("slot_blurred", 0.0)) > 0
    return bool(
        not zone.empty
        and float(zone["confidence"].iloc[0]) < 0.5
        and (np.isnan(float(row.get("reaches", np.nan))) or blurred)
        and np.isnan(float(row.get("step_px", np.nan)))
    )


@CASE_STEPS.registering("counting", order=20)
def counting_step(paths: CasePaths, store: Store) -> None:
    """Counts per camera and checkpoint interval against the official increments, with
    bounds; `turnout_inflation` findings; out/drops.csv and out/counts.csv."""
    election = store.election()
    checkpoints = store.checkpoints()
    intervals = checkpoint_intervals(election)
    all_counts, all_drops, findings = [], [], []
    for cam in store.camera_records():
        try:
            drops = store.read_table(ANALYSER, "drops", camera_id=cam.camera_id)
            own, box_seen, sources = _camera_ranges(store, cam)  # each table and source read once
            obs = box_seen.with_ranges(sources)  # `camera_observability`
            rough = camera_rough(store, cam, obs)
        except NotFoundError:  # the camera's video step has not run (or failed)
            continue
        blind = own.with_ranges(sources)
        blurred = _blurred_ranges(store, cam)
        if own.observed_s(0.0, own.end_s) - blind.observed_s(0.0, own.end_s) >= NEW_BLIND_S:
            drops = _drops_again(store, cam, blind, drops, blurred)
        elif blurred:  # the pass did not know the audit's blur: found again with it
            drops = _drops_again(store, cam, own, drops, blurred)
        seen = [obs.observable_at(t) for t in drops["t_s"]] if len(drops) else []
        drops = drops[np.asarray(seen, bool)] if len(drops) else drops
        official = official_increments(checkpoints, cam.station_id, intervals)
        counts = count_intervals(
            drops,
            obs,
            camera_id=cam.camera_id,
            station_id=cam.station_id,
            start_time=cam.start_time,
            election=election,
            official=official,
            errors=COUNTER_ERRORS,
            rough=rough,
            rough_errors=ROUGH_ERRORS,
        )
        findings += inflation_findings(
            counts, COUNTER_ERRORS, rough_errors=ROUGH_ERRORS, analyser=ANALYSER
        )
        all_counts.append(counts)
        all_drops.append(
            drops.assign(
                camera_id=cam.camera_id, station_id=cam.station_id, track_id=drops["visit_id"]
            )
        )
    counts = (
        pd.concat(all_counts, ignore_index=True)
        if all_counts
        else pd.DataFrame(columns=COUNT_COLUMNS)
    )
    store.write_table(ANALYSER, "counts", counts)
    store.replace_findings(ANALYSER, findings)
    _write_csvs(paths, all_drops, counts)


def _iso(values: pd.Series) -> pd.Series:
    return values.map(lambda t: pd.Timestamp(t).isoformat(timespec="milliseconds"))


def _write_csvs(paths: CasePaths, drops: list[pd.DataFrame], counts: pd.DataFrame) -> None:
    frame = (
        pd.concat(drops, ignore_index=True) if drops else pd.DataFrame(columns=DROPS_CSV_COLUMNS)
    )
    if not frame.empty:
        frame = frame.assign(time=_iso(frame["time"]), dwell_s=frame["dwell_s"].round(2))
    frame.reindex(columns=DROPS_CSV_COLUMNS).to_csv(paths.out("drops.csv"), index=False)
    shown = counts.reindex(columns=list(COUNTS_CSV_COLUMNS))
    if not shown.empty:
        shown = shown.assign(
            interval_start=_iso(shown["interval_start"]),
            interval_end=_iso(shown["interval_end"]),
            upper=shown["upper"].astype("Int64"),
            official=shown["official"].astype("Int64"),
        )
    shown.to_csv(paths.out("counts.csv"), index=False)
