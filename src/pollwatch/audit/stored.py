"""The audit in the store: build a camera's auditor, save its result, read it back.

A camera step (the single engine pass per camera) builds the auditor with
`make_audit_analyser(camera, case_paths)`, runs it with the others, and hands the result to
`save_audit(store, camera, result)`, which writes the tables below (analyser "audit", per
camera) and replaces the camera's audit findings:

- `timeline`: part (sound, speech, view, picture), state, start_s, end_s, start_time, end_time:
  every state range of the recording;
- `unobservable`: start_s, end_s, start_time, end_time, reasons: when the ballot box could not
  be watched (offline, dark, frozen, blocked, blurred, box_not_visible), the ranges merged;
- `sound`: per audio window t_s, time, rms_dbfs, peak, zero_share, state, speech;
- `view`: per view sample t_s, time, state, shift_px, dx, dy, angle_deg, scale, visible;
- `picture`: per picture sample t_s, time, luma, sharpness, sharpness_ratio, box_changed;
- `row`: the camera's `CameraAuditRow` over the voting day (one row).

Counting code reads `read_unobservable(store, camera_id)` (or, inside the same engine pass,
`unobservable_table(result)`) and `observable_at(table, t_s)`: time that could not be watched
is unknown, never zero voters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cv2
import numpy as np
import pandas as pd

from pollwatch.audit.camera import NOT_OBSERVABLE_REASONS, CameraAuditor, CameraAuditResult
from pollwatch.audit.network import AuditFinding, CameraAuditRow, audit_findings, audit_row
from pollwatch.audit.ranges import union_ranges
from pollwatch.audit.types import TimeRange
from pollwatch.case import CasePaths
from pollwatch.errors import InputError
from pollwatch.store import Camera, Finding, Store, finding_id

__all__ = [
    "ANALYSER",
    "TIMELINE_PARTS",
    "AuditPart",
    "audit_part",
    "make_audit_analyser",
    "observable_at",
    "read_blind_ranges",
    "read_unobservable",
    "result_tables",
    "save_audit",
    "to_store_finding",
    "unobservable_table",
]

ANALYSER = "audit"
TIMELINE_PARTS = {
    "sound": ("absent", "muted", "quiet", "ok"),
    "speech": ("speech",),
    "view": ("ok", "shifted", "box_not_visible"),
    "picture": ("offline", "dark", "frozen", "blocked", "blurred"),
}
_RANGE_COLUMNS = ["start_s", "end_s", "start_time", "end_time"]


def make_audit_analyser(camera: Camera, paths: CasePaths) -> CameraAuditor:
    """The camera's auditor: its reference image (if any) loaded, its box polygon, its size.

    Raises `InputError` naming the file when the reference image cannot be read, ValueError
    when neither a reference image nor the probed picture size is known.
    """
    reference = None
    ref_path = camera.reference_path(paths.root)
    if ref_path is not None:
        # in colour: the auditors take its gray with BT.601 weights, as the video's luma is;
        # IMREAD_GRAYSCALE uses other weights, which shifts coloured surfaces by many levels
        reference = cv2.imread(str(ref_path), cv2.IMREAD_COLOR)
        if reference is None:
            raise InputError.at(ref_path, "the reference image cannot be read")
    size = (camera.width, camera.height) if camera.width and camera.height else None
    if reference is None and size is None:
        raise ValueError(
            f"camera {camera.camera_id}: no reference image and no probed picture size"
        )
    return CameraAuditor.create(
        reference=reference, box_polygon=camera.box_polygon, image_size=size
    )


def _wall(start: datetime | None, seconds: Sequence[float] | np.ndarray) -> pd.Series:
    values = np.asarray(seconds, dtype=float)
    if start is None:
        return pd.Series(pd.NaT, index=range(values.size), dtype="datetime64[ns, UTC]")
    base = pd.Timestamp(start)
    return pd.Series(base + pd.to_timedelta(values, unit="s"))


def _ranges_frame(
    ranges: Iterable[tuple[str, str, TimeRange]], start: datetime | None
) -> pd.DataFrame:
    rows = list(ranges)
    frame = pd.DataFrame(
        {
            "part": [p for p, _, _ in rows],
            "state": [s for _, s, _ in rows],
            "start_s": np.array([r.start for _, _, r in rows], dtype=float),
            "end_s": np.array([r.end for _, _, r in rows], dtype=float),
        }
    )
    frame["start_time"] = _wall(start, frame["start_s"])
    frame["end_time"] = _wall(start, frame["end_s"])
    return frame


def unobservable_table(result: CameraAuditResult) -> pd.DataFrame:
    """The merged not-observable ranges of a result (start_s, end_s, start_time, end_time,
    reasons: those covering part of it) — what `read_unobservable` reads back from the store,
    for code that holds the result of the same engine pass."""
    merged = union_ranges(*result.not_observable.values())
    reasons = [
        ",".join(
            name
            for name in NOT_OBSERVABLE_REASONS
            if any(o.start < r.end and r.start < o.end for o in result.not_observable[name])
        )
        for r in merged
    ]
    frame = _ranges_frame((("", "", r) for r in merged), result.start_time)
    return frame[_RANGE_COLUMNS].assign(reasons=pd.Series(reasons, dtype=str))


def result_tables(
    result: CameraAuditResult, row: CameraAuditRow | None = None
) -> dict[str, pd.DataFrame]:
    """The per-camera tables `save_audit` writes (see the module doc), by name."""
    audio, view, cond = result.audio, result.view, result.conditions
    parts = {
        "sound": audio.ranges,
        "speech": {"speech": audio.speech_ranges},
        "view": view.ranges,
        "picture": cond.ranges,
    }
    timeline = _ranges_frame(
        (
            (part, state, r)
            for part, states in TIMELINE_PARTS.items()
            for state in states
            for r in parts[part][state]
        ),
        result.start_time,
    )
    start = result.start_time
    tables = {
        "timeline": timeline,
        "unobservable": unobservable_table(result),
        "sound": pd.DataFrame(
            {
                "t_s": audio.t,
                "time": _wall(start, audio.t),
                "rms_dbfs": audio.rms_dbfs,
                "peak": audio.peak,
                "zero_share": audio.zero_share,
                "state": pd.Series(audio.states, dtype=str),
                "speech": audio.speech,
            }
        ),
        "view": pd.DataFrame(
            {
                "t_s": view.t,
                "time": _wall(start, view.t),
                "state": pd.Series(view.states, dtype=str),
                "shift_px": view.shift_px,
                "dx": view.dx,
                "dy": view.dy,
                "angle_deg": view.angle_deg,
                "scale": view.scale,
                "visible": view.visible,
            }
        ),
        "picture": pd.DataFrame(
            {
                "t_s": cond.t,
                "time": _wall(start, cond.t),
                "luma": cond.luma,
                "sharpness": cond.sharpness,
                "sharpness_ratio": cond.sharpness_ratio,
                "box_changed": cond.box_changed,
            }
        ),
    }
    if row is not None:
        record = dataclasses.asdict(row)
        changed = record["view_changed_at"]
        record["view_changed_at"] = pd.Timestamp(changed) if changed is not None else pd.NaT
        tables["row"] = pd.DataFrame([record])
    return tables


def to_store_finding(finding: AuditFinding) -> Finding:
    """An audit finding as the store's `Finding` (analyser "audit"; a stable id)."""
    return Finding(
        finding_id=finding_id(
            finding.kind, finding.camera_id, f"{finding.start_s:.1f}", f"{finding.end_s:.1f}"
        ),
        kind=finding.kind,
        analyser=ANALYSER,
        summary=finding.summary,
        station_id=finding.station_id,
        camera_id=finding.camera_id,
        t_start=finding.start_time,
        t_end=finding.end_time,
        score=finding.score,
        evidence={"start_s": finding.start_s, "end_s": finding.end_s, **finding.details},
    )


def save_audit(
    store: Store, camera: Camera, result: CameraAuditResult, *, min_finding_s: float = 10.0
) -> CameraAuditRow:
    """Write the camera's audit tables and replace its audit findings (problems lasting at
    least `min_finding_s`); the row covers the election's voting day. Returns the row."""
    election = store.election()
    row = audit_row(
        result,
        camera_id=camera.camera_id,
        station_id=camera.station_id,
        day=(election.polls_open, election.polls_close),
    )
    for name, frame in result_tables(result, row).items():
        store.write_table(ANALYSER, name, frame, camera_id=camera.camera_id)
    findings = audit_findings(
        result,
        camera_id=camera.camera_id,
        station_id=camera.station_id,
        min_duration_s=min_finding_s,
    )
    store.replace_findings(
        ANALYSER, [to_store_finding(f) for f in findings], camera_id=camera.camera_id
    )
    return row


def read_unobservable(store: Store, camera_id: str) -> pd.DataFrame:
    """When the camera's ballot box could not be watched: start_s, end_s (video seconds),
    start_time, end_time, reasons. `NotFoundError` when the camera was not audited — then
    nothing is known about it, which is not the same as an empty table."""
    return store.read_table(ANALYSER, "unobservable", camera_id=camera_id)


def read_blind_ranges(store: Store, camera_id: str) -> list[tuple[float, float, str]]:
    """The camera's not-observable ranges one reason at a time: (start_s, end_s, reason) for
    every timeline range whose state is one of `NOT_OBSERVABLE_REASONS` (they may overlap).
    The `unobservable` table merges overlapping reasons into one range, so a reader that
    ignores some reasons (the counter watches on through blur) must read these instead: on
    demo 93 cam-D004-002 a day-long blur merged with a 58-s cover into one "blocked,blurred"
    range, and the whole day went blind. `NotFoundError` when the camera was not audited."""
    timeline = store.read_table(ANALYSER, "timeline", camera_id=camera_id)
    parts = timeline["part"].isin(["view", "picture"])
    blind = timeline[parts & timeline["state"].isin(NOT_OBSERVABLE_REASONS)]
    rows = blind[["start_s", "end_s", "state"]].itertuples(index=False, name=None)
    return [(float(a), float(b), str(r)) for a, b, r in rows]


def observable_at(unobservable: pd.DataFrame, t_s: Sequence[float] | np.ndarray) -> np.ndarray:
    """True where the video times `t_s` lie outside every unobservable range."""
    t = np.asarray(t_s, dtype=float)
    starts = unobservable["start_s"].to_numpy(float)
    ends = unobservable["end_s"].to_numpy(float)
    if starts.size == 0:
        return np.ones(t.shape, bool)
    order = np.argsort(starts)
    starts, ends = starts[order], np.maximum.accumulate(ends[order])
    k = np.searchsorted(starts, t, side="right") - 1
    inside = (k >= 0) & (t < ends[np.clip(k, 0, None)])
    return ~inside


@dataclass(frozen=True)
class AuditPart:
    """The audit's share of the single decode pass (pollwatch.videostep)."""

    camera: Camera
    analysers: tuple[CameraAuditor, ...]

    def save(self, results: Sequence[Any], run: Any, store: Store) -> None:
        save_audit(store, self.camera, results[0])


def audit_part(ctx: Any) -> AuditPart:
    """The audit part of a camera's pass: one `CameraAuditor`."""
    return AuditPart(ctx.camera, (make_audit_analyser(ctx.camera, ctx.paths),))


def _register() -> None:
    from pollwatch.videostep import VIDEO_PARTS

    VIDEO_PARTS.register("audit", audit_part, order=50)


_register()
