"""From one camera's audit to the network: audit rows, findings, summary, observability.

Times in rows and findings are wall-clock (`datetime`) where the recording's start is known;
`*_s` durations are seconds within the voting day when one is given, else within the recording.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from pollwatch.audit.camera import CameraAuditResult
from pollwatch.audit.ranges import clip_ranges, invert_ranges, merge_ranges, total_duration
from pollwatch.audit.types import TimeRange

__all__ = [
    "FINDING_KINDS",
    "AuditFinding",
    "CameraAuditRow",
    "audit_findings",
    "audit_row",
    "network_summary",
    "observability_timeline",
]

FINDING_KINDS = (
    "audio_absent",
    "audio_muted",
    "view_shifted",
    "box_not_visible",
    "camera_blocked",
    "camera_frozen",
    "camera_offline",
    "camera_dark",
    "camera_blurred",
)


@dataclass(frozen=True)
class CameraAuditRow:
    """One camera's line in the network audit (out/camera_audit.csv)."""

    camera_id: str
    station_id: str
    audio_state: str  # absent | muted | quiet | ok
    audio_ok_share: float
    audio_level_dbfs: float
    speech_share: float
    view_state: str  # ok | shifted | box_not_visible | unknown (no frame could be judged)
    view_shift_px: float
    view_changed_at: datetime | None
    blocked_s: float
    blurred_s: float
    frozen_s: float
    offline_s: float
    dark_s: float
    observable_share: float
    observed_s: float  # the length of the period the shares refer to
    audio_absent_share: float = 0.0  # unrecorded time included
    audio_muted_share: float = 0.0
    audio_quiet_share: float = 0.0


@dataclass(frozen=True)
class AuditFinding:
    """A camera problem with its time range and evidence, for the store and the report.

    `score` (0..1) grows with the time lost: min(1, duration / 1 hour).
    """

    kind: str
    camera_id: str
    station_id: str
    start_s: float
    end_s: float
    start_time: datetime | None
    end_time: datetime | None
    score: float
    summary: str
    details: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in FINDING_KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}; known: {FINDING_KINDS}")
        if self.end_s < self.start_s:
            raise ValueError(f"finding end_s {self.end_s} < start_s {self.start_s}")


def _period(result: CameraAuditResult, day: tuple[datetime, datetime] | None) -> TimeRange:
    """The period the row describes, in seconds from the recording's first frame."""
    if day is None:
        return result.span
    start, end = day
    if end <= start:
        raise ValueError(f"the voting day ends ({end}) before it starts ({start})")
    if result.start_time is None:
        return TimeRange(0.0, (end - start).total_seconds())
    return TimeRange(
        (start - result.start_time).total_seconds(), (end - result.start_time).total_seconds()
    )


def observability_timeline(
    result: CameraAuditResult, day: tuple[datetime, datetime] | None = None
) -> tuple[TimeRange, ...]:
    """When the ballot box could be watched, in seconds from the recording's first frame,
    within the voting day if given. Everything else is unknown — never zero voters."""
    period = _period(result, day)
    if (result.start_time is None or result.frames == 0) and day is not None:
        return ()
    return clip_ranges(result.observable, period.start, period.end)


def _seconds(ranges: Sequence[TimeRange], period: TimeRange) -> float:
    return total_duration(clip_ranges(ranges, period.start, period.end))


def audit_row(
    result: CameraAuditResult,
    *,
    camera_id: str,
    station_id: str,
    day: tuple[datetime, datetime] | None = None,
) -> CameraAuditRow:
    """The camera's audit row; with a voting `day` (open, close) shares are of the day and time
    it did not record counts as offline."""
    period = _period(result, day)
    length = period.duration
    if (result.start_time is None or result.frames == 0) and day is not None:  # nothing recorded
        return CameraAuditRow(
            camera_id,
            station_id,
            "absent",
            0.0,
            -150.0,
            0.0,
            "box_not_visible",
            math.nan,
            None,
            0.0,
            0.0,
            0.0,
            length,
            0.0,
            0.0,
            length,
            audio_absent_share=1.0 if length else 0.0,
        )
    cond = result.conditions.ranges
    unrecorded = invert_ranges([result.span], period.start, period.end)
    offline = merge_ranges([*cond["offline"], *unrecorded])
    observable = observability_timeline(result, day)
    view = result.view
    sound = result.audio.ranges

    def share(ranges: Sequence[TimeRange]) -> float:
        return _seconds(ranges, period) / length if length else 0.0

    return CameraAuditRow(
        camera_id=camera_id,
        station_id=station_id,
        audio_state=result.audio.state,
        audio_ok_share=share(sound["ok"]),
        audio_level_dbfs=result.audio.level_dbfs,
        speech_share=result.audio.speech_share,
        view_state=view.state,
        view_shift_px=view.shift_px_median,
        view_changed_at=None if view.changed_at is None else result.wall(view.changed_at),
        blocked_s=_seconds(cond["blocked"], period),
        blurred_s=_seconds(cond["blurred"], period),
        frozen_s=_seconds(cond["frozen"], period),
        offline_s=_seconds(offline, period),
        dark_s=_seconds(cond["dark"], period),
        observable_share=total_duration(observable) / length if length else 0.0,
        observed_s=length,
        audio_absent_share=share(merge_ranges([*sound["absent"], *unrecorded])),
        audio_muted_share=share(sound["muted"]),
        audio_quiet_share=share(sound["quiet"]),
    )


def _clock(t: datetime | None, s: float) -> str:
    return t.strftime("%H:%M:%S") if t is not None else f"{s:.0f} s"


def audit_findings(
    result: CameraAuditResult,
    *,
    camera_id: str,
    station_id: str,
    min_duration_s: float = 60.0,
) -> list[AuditFinding]:
    """A finding for every problem range lasting at least `min_duration_s`."""
    if min_duration_s < 0:
        raise ValueError(f"min_duration_s must be >= 0, got {min_duration_s}")
    cond, view, audio = result.conditions.ranges, result.view, result.audio
    sources: list[tuple[str, tuple[TimeRange, ...], str]] = [
        ("audio_absent", audio.ranges["absent"], "no sound recorded"),
        ("audio_muted", audio.ranges["muted"], "sound muted (digital silence)"),
        ("view_shifted", view.ranges["shifted"], "view turned away from the intended angle"),
        ("box_not_visible", view.ranges["box_not_visible"], "ballot box not in view"),
        ("camera_blocked", cond["blocked"], "ballot box covered by a static object"),
        ("camera_frozen", cond["frozen"], "picture frozen while time ran on"),
        ("camera_offline", cond["offline"], "no picture"),
        ("camera_dark", cond["dark"], "picture too dark"),
        ("camera_blurred", cond["blurred"], "picture out of focus"),
    ]
    out: list[AuditFinding] = []
    for kind, ranges, what in sources:
        for r in ranges:
            if r.duration < min_duration_s:
                continue
            details = {"duration_s": r.duration}
            text = f"{what} from {_clock(result.wall(r.start), r.start)} to " + _clock(
                result.wall(r.end), r.end
            )
            if kind == "view_shifted":
                inside = (view.t >= r.start) & (view.t < r.end)
                shift = view.shift_px[inside]
                shift = shift[np.isfinite(shift)]
                if shift.size:
                    details["shift_px"] = float(np.median(shift))
                    text += f" (moved {details['shift_px']:.0f} px)"
                if view.box_cut:  # neither reference nor polygon: moved, by an unknown amount
                    details["box_cut"] = True
                    text += "; the box cut by the frame's edge from the first frame"
                if math.isfinite(view.shift_confidence):  # no reference: the box found off
                    details["confidence"] = view.shift_confidence  # its polygon from the start
                    text += (
                        "; the box's outline found off its polygon from the first frame, "
                        f"confidence {view.shift_confidence:.2f}"
                    )
            out.append(
                AuditFinding(
                    kind=kind,
                    camera_id=camera_id,
                    station_id=station_id,
                    start_s=r.start,
                    end_s=r.end,
                    start_time=result.wall(r.start),
                    end_time=result.wall(r.end),
                    score=min(1.0, r.duration / 3600.0),
                    summary=text,
                    details=details,
                )
            )
    return out


def _pct(k: int, n: int) -> str:
    return f"{100.0 * k / n:.0f}%" if n else "n/a"


def network_summary(
    rows: Sequence[CameraAuditRow], not_analysed: Sequence[str] = ()
) -> dict[str, object]:
    """The network's audit in observers' words and numbers (for out/network_summary.json).

    Shares are of the analysed cameras (`rows`); cameras listed in `not_analysed` have no
    audit, so nothing is known about them: they are named, never counted as clean.
    """
    n = len(rows)
    count = {
        "audio_" + s: sum(r.audio_state == s for r in rows)
        for s in ("absent", "muted", "quiet", "ok")
    }
    count.update(
        {
            "view_" + s: sum(r.view_state == s for r in rows)
            for s in ("ok", "shifted", "box_not_visible", "unknown")
        }
    )
    turned = count["view_shifted"] + count["view_box_not_visible"]
    no_sound = count["audio_absent"] + count["audio_muted"]
    hours = {
        k: sum(getattr(r, k) for r in rows) / 3600.0
        for k in ("offline_s", "dark_s", "frozen_s", "blocked_s", "blurred_s")
    }
    total_h = sum(r.observed_s for r in rows) / 3600.0
    blind_h = sum((1.0 - r.observable_share) * r.observed_s for r in rows) / 3600.0
    turned_ids = [r.camera_id for r in rows if r.view_state in ("shifted", "box_not_visible")]
    sentences = [
        f"sound muted on {count['audio_muted']} of {n} cameras ({_pct(count['audio_muted'], n)})",
        f"no sound recorded on {count['audio_absent']} of {n} cameras "
        f"({_pct(count['audio_absent'], n)})",
        f"sound turned down on {count['audio_quiet']} of {n} cameras "
        f"({_pct(count['audio_quiet'], n)})",
        f"view turned away from the ballot box on {turned} of {n} cameras ({_pct(turned, n)}): "
        f"shifted on {count['view_shifted']}, box not visible on {count['view_box_not_visible']}",
    ]
    if count["view_unknown"]:
        sentences.append(
            f"view not judged on {count['view_unknown']} of {n} cameras "
            f"({_pct(count['view_unknown'], n)}): the picture was too dark, flat or blurred "
            "throughout"
        )
    sentences.append(
        f"{blind_h:.1f} hours of footage not observable out of {total_h:.1f} "
        f"({100.0 * blind_h / total_h if total_h else 0.0:.0f}%)"
    )
    if not_analysed:
        k = len(not_analysed)
        sentences.append(
            f"{k} of {n + k} cameras not analysed ({_pct(k, n + k)}): nothing is known of them"
        )
    return {
        "cameras": n,
        "not_analysed": len(not_analysed),
        "not_analysed_camera_ids": list(not_analysed),
        "counts": count,
        "cameras_without_usable_sound": no_sound,
        "cameras_turned_away": turned,
        "turned_away_camera_ids": turned_ids,
        "hours": {
            "total": total_h,
            "not_observable": blind_h,
            **{k.removesuffix("_s"): v for k, v in hours.items()},
        },
        "observable_share": 1.0 - blind_h / total_h if total_h else 0.0,
        "sentences": sentences,
    }
