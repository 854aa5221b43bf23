"""The "audit" metric block: the camera audit against the simulator's camera conditions.

Per rendered and analysed camera, the truth's `conditions` (video seconds) give the expected
audit: the audio state (the audio condition covering at least a quarter of the recording, else
ok), the view state (`turned_away` → box_not_visible, `nudged` → shifted) and the picture
periods (`box_occluded` → blocked, `frozen`, `outage` → offline, `defocus` → blurred, `dark`).

Picture periods are scored on the time the condition can be seen at all: an outage hides
everything, a dark picture hides frozen, blocked and blurred, a view turned away from the box
hides a blocked box, and a frozen picture hides a condition that began after it froze. For
each kind: the share of the true time covered by the audit, the audit's false time (flagged
outside the truth) as a share of the flagged time and of the clean time, and the start/end
errors of each true range against the flagged range overlapping it most.

A camera nudged from its first frame with neither a `reference_image` nor a `box_polygon` in
cameras.csv shows the audit nothing to measure the nudge against (the issue: without a
reference, only whether the box is visible at all): `view.unseeable` lists such cameras and
`view.recall_seeable` is the recall over the other turned cameras. `recall` counts them all.

The network summary is checked against the truth as its sentences word it (whole percent):
the share of cameras in each sound and view state, and the share of the voting day's footage
not observable (not recorded, or under an outage, dark, frozen, blocked or defocused picture
or a view turned away; needs the cameras' `open_s` and the summary's polls times).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from pollwatch.audit.ranges import (
    clip_ranges,
    merge_ranges,
    subtract_ranges,
    total_duration,
    union_ranges,
)
from pollwatch.audit.summary import NOT_ANALYSED, camera_audit_frame, network_from_frame
from pollwatch.audit.types import TimeRange
from pollwatch.case import CasePaths
from pollwatch.evaluate.registry import METRICS
from pollwatch.evaluate.truthview import EvaluationError
from pollwatch.store import Camera, Store

__all__ = ["PERIODS", "audit_block", "audit_scores", "expected_audio", "expected_view"]

PERIODS = {  # truth condition kind → audit picture state
    "box_occluded": "blocked",
    "frozen": "frozen",
    "outage": "offline",
    "defocus": "blurred",
    "dark": "dark",
}
_HIDDEN_BY = {  # what hides each condition from the picture
    "blocked": ("outage", "dark", "turned_away"),
    "frozen": ("outage", "dark"),
    "blurred": ("outage", "dark"),
    "dark": ("outage",),
    "offline": (),
}
_AUDIO = ("audio_absent", "audio_muted", "audio_quiet")
_STATE_SHARE = 0.25


def _ranges(frame: pd.DataFrame) -> tuple[TimeRange, ...]:
    return merge_ranges(
        TimeRange(float(a), float(b))
        for a, b in zip(frame["start_s"], frame["end_s"], strict=True)
        if b > a
    )


def expected_audio(conditions: pd.DataFrame, duration_s: float) -> str:
    """The audio state the audit should report for one camera's conditions."""
    for kind in _AUDIO:
        rows = conditions[conditions["kind"] == kind]
        if total_duration(_ranges(rows)) >= _STATE_SHARE * duration_s:
            return kind.removeprefix("audio_")
    return "ok"


def expected_view(conditions: pd.DataFrame, duration_s: float) -> str:
    """The view state the audit should report: box_not_visible for a camera turned away,
    shifted for one nudged, for at least a quarter of the recording; else ok."""
    rows = conditions[conditions["kind"] == "view_shifted"]
    for label, state in (("turned_away", "box_not_visible"), ("nudged", "shifted")):
        chosen = rows[rows["label"] == label]
        if total_duration(_ranges(chosen)) >= _STATE_SHARE * duration_s:
            return state
    return "ok"


def _nudged_from_start(conditions: pd.DataFrame) -> bool:
    """Whether a `nudged` view condition starts at the recording's first frame."""
    nudges = conditions[(conditions["kind"] == "view_shifted") & (conditions["label"] == "nudged")]
    return bool((nudges["start_s"] <= 0.0).any())


def _frozen_over(
    conditions: pd.DataFrame, own: tuple[TimeRange, ...], fps: float | None = None
) -> tuple[TimeRange, ...]:
    """The frozen stretches that hide a condition: the frozen picture repeats the last frame
    drawn before the freeze began (at the camera's `fps`; without it, the freeze's start), so
    a condition not yet there then cannot be seen until the freeze ends (demo 184's board came
    17 ms before a freeze, after the frame the freeze repeats)."""
    frozen = _ranges(conditions[conditions["kind"] == "frozen"])

    def shown(start: float) -> float:
        return (math.ceil(start * fps - 1e-9) - 1) / fps if fps else start

    return tuple(f for f in frozen if not any(r.start <= shown(f.start) < r.end for r in own))


def _share(k: float, n: float) -> float | None:
    return k / n if n > 0 else None


def _errors(values: Iterable[float]) -> dict[str, float | None]:
    v = np.abs(np.asarray(list(values), dtype=float))
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "median_abs_s": None, "max_abs_s": None}
    return {"n": int(v.size), "median_abs_s": float(np.median(v)), "max_abs_s": float(v.max())}


def _period_scores(
    cameras: pd.DataFrame,
    conditions: pd.DataFrame,
    timeline: pd.DataFrame,
    kind: str,
    state: str,
) -> dict[str, Any]:
    true_s = covered_s = flagged_s = false_s = clean_s = 0.0
    starts: list[float] = []
    ends: list[float] = []
    missed = 0
    for cam in cameras.itertuples():
        mine = conditions[conditions["camera_id"] == cam.camera_id]
        span = TimeRange(0.0, float(cam.duration_s))
        hiders = mine[mine["kind"].isin(_HIDDEN_BY[state]) | mine["label"].isin(_HIDDEN_BY[state])]
        own = clip_ranges(_ranges(mine[mine["kind"] == kind]), 0, span.end)
        fps = getattr(cam, "fps", None)
        frozen_over = _frozen_over(mine, own, fps) if kind != "frozen" else ()
        hidden = union_ranges(_ranges(hiders), frozen_over)
        truth = subtract_ranges(own, hidden)
        seen = timeline[(timeline["camera_id"] == cam.camera_id)]
        flagged = subtract_ranges(
            _ranges(seen[(seen["part"] == "picture") & (seen["state"] == state)]), hidden
        )
        clean = subtract_ranges(subtract_ranges([span], hidden), truth)
        true_s += total_duration(truth)
        covered_s += total_duration(t for r in truth for t in clip_ranges(flagged, r.start, r.end))
        flagged_s += total_duration(flagged)
        false_s += total_duration(subtract_ranges(flagged, truth))
        clean_s += total_duration(clean)
        for r in merge_ranges(truth, max_gap=1.0):
            overlaps = [(total_duration(clip_ranges([f], r.start, r.end)), f) for f in flagged]
            best = max(overlaps, default=(0.0, None), key=lambda o: o[0])
            if best[1] is None or best[0] <= 0:
                missed += 1
                continue
            starts.append(best[1].start - r.start)
            ends.append(best[1].end - r.end)
    return {
        "true_s": true_s,
        "covered_share": _share(covered_s, true_s),
        "flagged_s": flagged_s,
        "false_share_of_flagged": _share(false_s, flagged_s),
        "false_share_of_clean": _share(false_s, clean_s),
        "ranges_missed": missed,
        "start_error": _errors(starts),
        "end_error": _errors(ends),
    }


def _pct(k: int, n: int) -> str:
    return f"{100.0 * k / n:.0f}%" if n else "n/a"


def audit_scores(
    rows: pd.DataFrame,
    timeline: pd.DataFrame,
    conditions: pd.DataFrame,
    cameras: pd.DataFrame,
    network: dict[str, Any] | None = None,
    summary: dict[str, Any] | None = None,
    *,
    unguided: Iterable[str] = (),
) -> dict[str, Any]:
    """Score the audit of the analysed cameras.

    `rows`: `camera_audit_frame` (camera_id, audio_state, view_state...); `timeline`: the
    stacked audit/timeline tables (camera_id, part, state, start_s, end_s); `conditions` and
    `cameras` (camera_id, duration_s) from the truth; `network`: the network summary to check
    against the truth's condition counts (and truth/summary.json's `summary`); `unguided`:
    the cameras with neither a reference image nor a box polygon (see the module doc).
    """
    analysed = rows[rows["audio_state"] != NOT_ANALYSED]
    cams = cameras[cameras["camera_id"].isin(analysed["camera_id"])].copy()
    cams["duration_s"] = cams["duration_s"].astype(float)
    by_id = analysed.set_index("camera_id")
    audio_true, audio_pred, view_true, view_pred = [], [], [], []
    audio_change: list[float] = []
    view_change: list[float] = []
    unguided = set(unguided)
    unseeable: list[str] = []
    for cam in cams.itertuples():
        mine = conditions[conditions["camera_id"] == cam.camera_id]
        audio_true.append(expected_audio(mine, cam.duration_s))
        audio_pred.append(str(by_id.loc[cam.camera_id, "audio_state"]))
        view_true.append(expected_view(mine, cam.duration_s))
        if cam.camera_id in unguided and view_true[-1] == "shifted" and _nudged_from_start(mine):
            unseeable.append(str(cam.camera_id))
        view_pred.append(str(by_id.loc[cam.camera_id, "view_state"]))
        seen = timeline[timeline["camera_id"] == cam.camera_id]
        for kind, part, states, out in (
            ("audio_muted", "sound", ("muted",), audio_change),
            ("view_shifted", "view", ("shifted", "box_not_visible"), view_change),
        ):
            late = mine[(mine["kind"] == kind) & (mine["start_s"] > 0)]
            flagged = seen[(seen["part"] == part) & seen["state"].isin(states)]
            for start in late["start_s"]:
                after = flagged[flagged["end_s"] > start - 30.0]
                out.append(float(after["start_s"].min()) - float(start) if len(after) else math.inf)
    at, ap = np.array(audio_true, dtype=object), np.array(audio_pred, dtype=object)
    vt, vp = np.array(view_true, dtype=object), np.array(view_pred, dtype=object)
    presence_t = np.where(np.isin(at, ["ok", "quiet"]), "sound", at)
    presence_p = np.where(np.isin(ap, ["ok", "quiet"]), "sound", ap)
    sound = np.isin(at, ["ok", "quiet"])
    turned = vt != "ok"
    seeable = turned & ~np.isin(cams["camera_id"].to_numpy(), unseeable)
    called = np.isin(vp, ["shifted", "box_not_visible"])  # "unknown": the view was not judged
    confusion: dict[str, dict[str, int]] = {}
    for t, p in zip(at, ap, strict=True):
        confusion.setdefault(t, {}).setdefault(p, 0)
        confusion[t][p] += 1
    result: dict[str, Any] = {
        "cameras": len(cams),
        "audio": {
            "absent_muted_sound_accuracy": _share(float((presence_t == presence_p).sum()), at.size),
            "quiet_vs_ok_accuracy": _share(float((at[sound] == ap[sound]).sum()), sound.sum()),
            "state_accuracy": _share(float((at == ap).sum()), at.size),
            "confusion": confusion,
            "muted_change_error": _errors(audio_change),
            "muted_changes_missed": sum(math.isinf(e) for e in audio_change),
        },
        "view": {
            "cameras_turned": int(turned.sum()),
            "recall": _share(float(called[turned].sum()), turned.sum()),
            "state_recall": _share(float((vp[turned] == vt[turned]).sum()), turned.sum()),
            "false_alarms": _share(float(called[~turned].sum()), (~turned).sum()),
            "unknown": int((vp == "unknown").sum()),
            "box_not_visible_recall": _share(
                float((vp[vt == "box_not_visible"] == "box_not_visible").sum()),
                (vt == "box_not_visible").sum(),
            ),
            "shifted_recall": _share(float(called[vt == "shifted"].sum()), (vt == "shifted").sum()),
            "unseeable": unseeable,
            "recall_seeable": _share(float(called[seeable].sum()), seeable.sum()),
            "change_error": _errors(view_change),
            "changes_missed": sum(math.isinf(e) for e in view_change),
            "per_camera": {
                str(c): {"truth": str(t), "audit": str(p)}
                for c, t, p in zip(cams["camera_id"], vt, vp, strict=True)
            },
        },
        "periods": {
            state: _period_scores(cams, conditions, timeline, kind, state)
            for kind, state in PERIODS.items()
        },
    }
    if network is not None:
        result["network"] = _network_check(network, at, vt, summary)
        blind = _true_not_observable(cams, conditions, summary)
        if blind is not None:
            result["network"]["not_observable"] = _blind_check(network, blind)
            result["network"]["all_equal"] &= result["network"]["not_observable"]["equal"]
    return result


_BLINDING = ("outage", "dark", "frozen", "box_occluded", "defocus", "turned_away")


def _true_not_observable(
    cameras: pd.DataFrame, conditions: pd.DataFrame, summary: dict[str, Any] | None
) -> tuple[float, float] | None:
    """(seconds, total seconds) of the analysed cameras' voting days during which the box
    could not be watched, by the truth: not recorded, or under a condition that hides it (the
    audit's not-observable reasons); None without the day or the cameras' opening times."""
    if not summary or "open_s" not in cameras.columns:
        return None
    try:
        day_s = (
            pd.Timestamp(summary["polls_close"]) - pd.Timestamp(summary["polls_open"])
        ).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None
    blind = total = 0.0
    for cam in cameras.itertuples():
        day = TimeRange(float(cam.open_s), float(cam.open_s) + day_s)
        mine = conditions[conditions["camera_id"] == cam.camera_id]
        hiders = _ranges(mine[mine["kind"].isin(_BLINDING) | mine["label"].isin(_BLINDING)])
        seen = subtract_ranges([TimeRange(0.0, float(cam.duration_s))], hiders)
        total += day.duration
        blind += day.duration - total_duration(clip_ranges(seen, day.start, day.end))
    return blind, total


def _blind_check(network: dict[str, Any], truth: tuple[float, float]) -> dict[str, Any]:
    """The summary's share of footage not observable against the truth's, as the sentence
    words it (whole percent)."""
    hours = network.get("hours", {})
    ours = float(hours.get("not_observable", 0.0)) / max(float(hours.get("total", 0.0)), 1e-9)
    theirs = truth[0] / truth[1] if truth[1] else 0.0
    return {
        "summary_share": ours,
        "truth_share": theirs,
        "summary_pct": f"{100.0 * ours:.0f}%",
        "truth_pct": f"{100.0 * theirs:.0f}%",
        "equal": f"{100.0 * ours:.0f}%" == f"{100.0 * theirs:.0f}%",
    }


_SUMMARY_LABELS = {  # network summary count → truth/summary.json condition label
    "audio_absent": "audio_absent",
    "audio_muted": "audio_muted",
    "audio_quiet": "audio_quiet",
    "view_shifted": "nudged",
    "view_box_not_visible": "turned_away",
}


def _network_check(
    network: dict[str, Any],
    audio: np.ndarray,
    view: np.ndarray,
    summary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The network summary's counts and percentages against the truth: the states the
    conditions imply for the analysed cameras, and (when every rendered camera was analysed)
    the condition counts of truth/summary.json."""
    n = int(network["cameras"])
    counts = network["counts"]
    implied = {
        "audio_absent": int((audio == "absent").sum()),
        "audio_muted": int((audio == "muted").sum()),
        "audio_quiet": int((audio == "quiet").sum()),
        "view_shifted": int((view == "shifted").sum()),
        "view_box_not_visible": int((view == "box_not_visible").sum()),
    }
    listed = (summary or {}).get("conditions")
    rendered = int((summary or {}).get("rendered", -1))
    out: dict[str, Any] = {}
    for key, truth_count in implied.items():
        ours = int(counts[key])
        entry: dict[str, Any] = {
            "summary": ours,
            "truth": truth_count,
            "summary_pct": _pct(ours, n),
            "truth_pct": _pct(truth_count, n),
            "equal": _pct(ours, n) == _pct(truth_count, n),
        }
        if isinstance(listed, dict) and rendered == n:
            told = int(listed.get(_SUMMARY_LABELS[key], 0))
            entry["truth_summary_json"] = told
            entry["equal"] = entry["equal"] and _pct(ours, n) == _pct(told, n)
        out[key] = entry
    out["all_equal"] = all(v["equal"] for v in out.values())
    return out


def _truth_table(truth: Any, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    value = truth.get(name) if isinstance(truth, dict) else getattr(truth, name, None)
    if not isinstance(value, pd.DataFrame):
        raise EvaluationError(f"the truth has no {name} table")
    missing = [c for c in columns if c not in value.columns]
    if missing:
        raise EvaluationError(f"the truth's {name} table lacks column(s) {', '.join(missing)}")
    return value


def _unguided(camera: Camera) -> bool:
    """Neither a reference image nor a box polygon: nothing says where the view should be."""
    return camera.reference_image is None and not camera.box_polygon


@METRICS.registering("audit", order=20)
def audit_block(paths: CasePaths, truth: Any) -> dict[str, Any]:
    """The camera audit against the truth's camera conditions (see the module doc); only
    the cameras with a stored audit are scored."""
    with Store.existing(paths.db_path) as store:
        rows = camera_audit_frame(store)
        timeline = store.read_tables("audit", "timeline")
        unguided = [c.camera_id for c in store.camera_records() if _unguided(c)]
    analysed = rows[rows["audio_state"] != NOT_ANALYSED]
    if analysed.empty:
        return {"cameras": 0, "not_analysed": len(rows)}
    conditions = _truth_table(
        truth, "conditions", ("camera_id", "kind", "label", "start_s", "end_s")
    )
    cameras = _truth_table(truth, "cameras", ("camera_id", "duration_s"))
    summary = truth.get("summary") if isinstance(truth, dict) else getattr(truth, "summary", None)
    scores = audit_scores(
        rows,
        timeline,
        conditions,
        cameras,
        network_from_frame(rows),
        summary or None,
        unguided=unguided,
    )
    scores["not_analysed"] = len(rows) - len(analysed)
    return scores
