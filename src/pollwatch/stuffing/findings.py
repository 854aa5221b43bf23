"""Stuffing events as findings (the shared findings table): `ballot_stuffing` for observable
events, `stuffing_not_observable` for suspicious periods the box could not be watched.

A flagged observable event (hands, bundle, rise) becomes a finding with its time range, the
estimated extra ballots and bounds (`score` is the estimate's lower bound, as the turnout
finding's score is the excess's), the calibrated p-value and the evidence: the episode's
insertions, dwell and its robust z, the pile's rise in ballots, the cues (`cues`: the
counter's evidence, and "N hands from one side of the slot" where the second cue, one
person's repeated hands, `stuffing.sides`, gave the p-value), and the frame strip's times
(`frames_s`, stored in `stuffing/frames`). A not-observable period (the box hidden while
someone was at it, and the pile, read on either side, risen beyond legitimate voting) is a
finding of its own, lower-grade kind `stuffing_not_observable` ("Suspicious, not
observable: ..."), with `evidence.observable` false, no p-value, `score` 0 and
`evidence.confidence` 0.2: it says the pile rose while the box could not be watched, not that
it was stuffed; the evaluation never counts it as a stuffing finding. A busy blind period
whose pile could not be read is an event that is not flagged: no finding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd

from pollwatch.store import Camera, Finding, finding_id
from pollwatch.stuffing.detect import Event
from pollwatch.stuffing.sides import ONE_SIDE_REASON

__all__ = ["ANALYSER", "KIND", "KINDS", "KIND_NOT_OBSERVABLE", "event_findings", "unwatched"]

ANALYSER = "stuffing"
KIND = "ballot_stuffing"
KIND_NOT_OBSERVABLE = "stuffing_not_observable"
KINDS = (KIND, KIND_NOT_OBSERVABLE)


def unwatched(events: pd.DataFrame) -> pd.DataFrame:
    """The rows of a camera's `stuffing/events` table that are busy blind periods whose pile
    could not be read (kind `hidden`, not flagged): listed in the report, not findings."""
    return events[(events["kind"] == "hidden") & ~events["flagged"].astype(bool)]


def _num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 3)


def _summary(e: Event) -> str:
    span = f"{e.end_s - e.start_s:.0f} s"
    if not e.observable:  # flagged only where the pile could be read across it
        share = f"{e.activity:.0%}" if math.isfinite(e.activity) else "an unknown share"
        return (
            f"Suspicious, not observable: the box could not be watched for {span} "
            f"({e.reasons}) while someone was at it {share} of the time; the pile rose by "
            f"about {e.fill_ballots:.0f} ballots across it ({e.expected:.1f} expected from "
            f"the camera's voters; beyond them {e.extra_lower}–{e.extra_upper})"
        )
    what = {
        "hands": f"{e.insertions} hand movements at the slot within {span}",
        "bundle": f"{e.insertions} hand movement(s) and a pile rise of {e.ballots} ballots",
        "rise": f"the pile rose by {e.ballots} ballots in {span} with no ballot seen going in",
    }[e.kind]
    if e.kind == "hands" and ONE_SIDE_REASON in e.reasons:  # sides.py: one person
        what += ", each from the same side of the slot (one person)"
    # what a rise's reasons add to "fill" (`detect._rise_reasons`): time not watched or out
    # of focus meanwhile, and "step from the box height" (`detect._widened`)
    if e.kind == "rise" and "; " in e.reasons:
        what += f" ({e.reasons.split('; ', 1)[1]})"
    return f"{what}: about {e.extra} extra ballots ({e.extra_lower}–{e.extra_upper})"


def event_findings(
    events: Sequence[Event], camera: Camera, frames_s: Sequence[float] = ()
) -> list[Finding]:
    """The findings of one camera's flagged events; `frames_s`: the times of the stored
    frame-strip crops (each finding lists those within its range, widened by 3 s)."""
    out = []
    start: datetime = camera.start_time
    for e in events:
        if not e.flagged:
            continue
        shown = [round(t, 2) for t in frames_s if e.start_s - 3.0 <= t <= e.end_s + 3.0]
        evidence = {
            "event": e.kind,
            "observable": e.observable,
            "start_s": round(e.start_s, 2),
            "end_s": round(e.end_s, 2),
            "ballots": e.ballots,
            "insertions": e.insertions,
            "counted": e.counted,
            "fill_ballots": _num(e.fill_ballots),
            "dwell_s": _num(e.dwell_s),
            "dwell_z": _num(e.dwell_z),
            "insertions_z": _num(e.insertions_z),
            "extra_ballots": e.extra,
            "extra_lower": e.extra_lower,
            "extra_upper": e.extra_upper,
            "expected": _num(e.expected),
            "p_local": e.p_local,
            "confidence": round(e.confidence, 4),
            "activity": _num(e.activity),
            "cues": e.reasons,
            "frames_s": shown,
            "frames_table": "stuffing/frames",
        }
        kind = KIND if e.observable else KIND_NOT_OBSERVABLE
        out.append(
            Finding(
                finding_id=finding_id(kind, camera.camera_id, e.kind, round(e.start_s, 1)),
                kind=kind,
                analyser=ANALYSER,
                summary=_summary(e),
                station_id=camera.station_id,
                camera_id=camera.camera_id,
                t_start=start + timedelta(seconds=e.start_s),
                t_end=start + timedelta(seconds=max(e.end_s, e.start_s)),
                score=float(e.extra_lower) if e.observable else 0.0,
                p_value=e.p_value if e.observable else None,
                evidence=evidence,
            )
        )
    return out
