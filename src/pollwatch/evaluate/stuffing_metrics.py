"""The "stuffing" metric block: `ballot_stuffing` findings against the simulator's stuffers.

A true event is a stuffer's visit on a rendered camera, from the first to the last of the
stuffer's hand movements (`truthview.stuffing_events`); it is *hidden* when a camera
condition that hides the box (outage, frozen, box occluded, dark, turned away) overlaps it.
A detected event is an observable `ballot_stuffing` finding (evidence `observable` true),
from its evidence's `start_s` to `end_s`. A `stuffing_not_observable` finding (a suspicious
period the box could not be watched; older stores: `ballot_stuffing` with `observable` false)
is a distinct, lower-grade kind: it never counts in precision, recall or the extra ballots,
only in `hidden_true_events_covered` and `not_observable_findings`. A true and a detected
event match when they overlap or lie within 5 s of each other (±5 s); pairs closest in
start time first, each used once.

* events: precision (matched detections / detections) and recall (matched true events /
  observable true events); a detection that matches no observable true event but a hidden
  one (a stuffer seen before the box was covered: demo 184 cam-D011-004's first 4 of 7
  hands) is neither right nor false: counted in `detections_of_hidden_events` and left out
  of the precision; hidden true events apart, with how many a not-observable finding
  covers and how many an audit finding that the box could not be seen covers
  (`hidden_true_events_covered_by_audit`: the camera turned away from the box, the box
  covered, the picture frozen, dark or gone: the observer is told the box was unwatched);
* extra ballots per station with an observable stuffer: the findings' estimated extra ballots
  summed against the true stuffed ballots, within ±25%; and whether the findings' 95% bounds
  (`extra_lower`..`extra_upper`, summed) hold the true number (`stations_within_bounds`,
  per found event `within_bounds`): are the bounds calibrated;
* clean cameras (no stuffer on them): the share with no observable finding, with no
  finding at all (not-observable periods included) and with a not-observable finding
  (`clean_cameras_with_not_observable`: legitimate voters block the box too), and with a
  busy blind period listed in the report apart from the findings, the pile unreadable
  across it (`clean_cameras_with_unwatched_listed`, from `stuffing/events`).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from pollwatch.case import CasePaths
from pollwatch.evaluate.matching import greedy_match
from pollwatch.evaluate.registry import METRICS
from pollwatch.evaluate.truthview import case_truth, hiding_ranges, stuffing_events
from pollwatch.store import NotFoundError, Store
from pollwatch.stuffing.findings import KIND, KINDS, unwatched

__all__ = ["match_events", "stuffing_block", "stuffing_scores"]

_TOLERANCE_S = 5.0
#: audit findings that say the box could not be watched
_BLINDING = ("box_not_visible", "camera_blocked", "camera_frozen", "camera_offline", "camera_dark")
_BALLOTS_WITHIN = 0.25


def match_events(
    true: list[tuple[float, float]], found: list[tuple[float, float]], within: float = 5.0
) -> np.ndarray:
    """For each true (start, end), the index of the found range matched to it (−1 if none):
    ranges that overlap or lie within `within` seconds of each other, closest starts first,
    one to one."""
    pairs = (
        (abs(a0 - b0), i, j)
        for i, (a0, a1) in enumerate(true)
        for j, (b0, b1) in enumerate(found)
        if b0 <= a1 + within and b1 >= a0 - within
    )
    return greedy_match(pairs, len(true))


def _overlaps(a: float, b: float, ranges: list[tuple[float, float]]) -> bool:
    return any(lo <= b and hi >= a for lo, hi in ranges)


def _within(true: int, lower: float, upper: float) -> bool | None:
    """Whether `true` lies in [lower, upper]; None when the bounds are unknown (NaN)."""
    if not (np.isfinite(lower) and np.isfinite(upper)):
        return None
    return bool(lower <= true <= upper)


def _share(k: int, n: int) -> float | None:
    return k / n if n else None


def stuffing_scores(
    findings: pd.DataFrame,
    events: pd.DataFrame,
    cameras: list[str],
    hidden: dict[str, list],
    listed: Collection[str] = (),
) -> dict[str, Any]:
    """Score `findings` (the store's, evidence as JSON text) against true `events`
    (`truthview.STUFFING_COLUMNS`) on the analysed `cameras`; `hidden`: per camera, the
    truth's ranges that hide the box; `listed`: the cameras with a busy blind period listed
    in the report apart from the findings (the pile unreadable across it)."""
    mine = findings[findings["kind"].isin(KINDS)]
    evidence = [json.loads(e or "{}") for e in mine["evidence"]]
    det = pd.DataFrame(
        {
            "camera_id": mine["camera_id"].astype(str).to_numpy(),
            "station_id": mine["station_id"].astype(str).to_numpy(),
            "start_s": np.asarray([float(e.get("start_s", np.nan)) for e in evidence], float),
            "end_s": np.asarray([float(e.get("end_s", np.nan)) for e in evidence], float),
            "extra": np.asarray([float(e.get("extra_ballots", 0)) for e in evidence], float),
            "lower": np.asarray([float(e.get("extra_lower", np.nan)) for e in evidence], float),
            "upper": np.asarray([float(e.get("extra_upper", np.nan)) for e in evidence], float),
            "observable": np.asarray(
                [
                    k == KIND and bool(e.get("observable", True))
                    for k, e in zip(mine["kind"], evidence, strict=True)
                ],
                bool,
            ),
        }
    )
    det = det[det["camera_id"].isin(cameras)]
    true = events[events["camera_id"].isin(cameras)].copy()
    true["hidden"] = np.asarray(
        [
            _overlaps(a, b, hidden.get(c, []))
            for c, a, b in true[["camera_id", "start_s", "end_s"]].itertuples(index=False)
        ],
        bool,
    )
    seen_det = det.loc[det["observable"].to_numpy(bool)]
    audit_blind = _audit_blind(findings)
    matched_true = matched_det = hidden_covered = hidden_by_audit = of_hidden = 0
    per_event = []
    for cam in cameras:
        t = true[true["camera_id"] == cam]
        tv = t[~t["hidden"]]
        d = seen_det[seen_det["camera_id"] == cam]
        m = match_events(
            list(zip(tv["start_s"], tv["end_s"], strict=True)),
            list(zip(d["start_s"], d["end_s"], strict=True)),
            _TOLERANCE_S,
        )
        matched_true += int((m >= 0).sum())
        matched_det += int((m >= 0).sum())
        # a detection left over that meets a hidden stuffer saw the part the box showed
        rest = d.drop(index=d.index[m[m >= 0]])
        th = t[t["hidden"]]
        of_hidden += int(
            (
                match_events(
                    list(zip(rest["start_s"], rest["end_s"], strict=True)),
                    list(zip(th["start_s"], th["end_s"], strict=True)),
                    _TOLERANCE_S,
                )
                >= 0
            ).sum()
        )
        for (_, row), j in zip(tv.iterrows(), m, strict=True):
            found = d.iloc[j] if j >= 0 else None
            per_event.append(
                {
                    "camera_id": cam,
                    "start_s": round(float(row["start_s"]), 2),
                    "ballots": int(row["ballots"]),
                    "found": found is not None,
                    "estimated": None if found is None else float(found["extra"]),
                    "bounds": None if found is None else [found["lower"], found["upper"]],
                    "within_bounds": None
                    if found is None
                    else _within(int(row["ballots"]), found["lower"], found["upper"]),
                }
            )
        blind = det[(det["camera_id"] == cam) & ~det["observable"]]
        blind_ranges = list(zip(blind["start_s"], blind["end_s"], strict=True))
        audit_ranges = audit_blind.get(cam, [])
        for row in t[t["hidden"]].itertuples(index=False):
            hidden_covered += int(_overlaps(row.start_s, row.end_s, blind_ranges))
            hidden_by_audit += int(_overlaps(row.start_s, row.end_s, audit_ranges))
    n_true_seen = int((~true["hidden"]).sum())
    stations = []
    for sid, t in true[~true["hidden"]].groupby("station_id"):
        here = seen_det[seen_det["station_id"] == sid]
        est = float(here["extra"].sum())
        truth_ballots = int(t["ballots"].sum())
        lower, upper = float(here["lower"].sum()), float(here["upper"].sum())
        stations.append(
            {
                "station_id": str(sid),
                "true": truth_ballots,
                "estimated": est,
                "bounds": [lower, upper],
                "within": bool(abs(est - truth_ballots) <= _BALLOTS_WITHIN * truth_ballots),
                "within_bounds": _within(truth_ballots, lower, upper),
            }
        )
    clean = [c for c in cameras if c not in set(true["camera_id"])]
    flagged = set(seen_det["camera_id"])
    any_flag = set(det["camera_id"])
    blind_flag = set(det.loc[~det["observable"].to_numpy(bool), "camera_id"])
    return {
        "cameras": len(cameras),
        "true_events": len(true),
        "true_events_observable": n_true_seen,
        "detected_events": len(seen_det),
        "matched": matched_true,
        "detections_of_hidden_events": of_hidden,
        "precision": _share(matched_det, len(seen_det) - of_hidden),
        "recall": _share(matched_true, n_true_seen),
        "events": per_event,
        "hidden_true_events": int(true["hidden"].sum()),
        "hidden_true_events_covered": hidden_covered,
        "hidden_true_events_covered_by_audit": hidden_by_audit,
        "not_observable_findings": int((~det["observable"]).sum()),
        "stations": stations,
        "stations_within_25pct": _share(sum(s["within"] for s in stations), len(stations)),
        "stations_within_bounds": _share(
            sum(bool(s["within_bounds"]) for s in stations), len(stations)
        ),
        "found_events_within_bounds": _share(
            sum(bool(e["within_bounds"]) for e in per_event if e["found"]),
            sum(e["found"] for e in per_event),
        ),
        "clean_cameras": len(clean),
        "clean_cameras_without_finding": _share(sum(c not in flagged for c in clean), len(clean)),
        "clean_cameras_without_any_finding": _share(
            sum(c not in any_flag for c in clean), len(clean)
        ),
        "clean_cameras_with_not_observable": _share(
            sum(c in blind_flag for c in clean), len(clean)
        ),
        "clean_cameras_with_unwatched_listed": _share(
            sum(c in set(listed) for c in clean), len(clean)
        ),
    }


def _audit_blind(findings: pd.DataFrame) -> dict[str, list[tuple[float, float]]]:
    """Per camera, the (start_s, end_s) of its audit findings that the box was unwatched."""
    out: dict[str, list[tuple[float, float]]] = {}
    for cam, kind, evidence in findings[["camera_id", "kind", "evidence"]].itertuples(index=False):
        e = json.loads(evidence or "{}")
        if kind in _BLINDING and "start_s" in e and "end_s" in e:
            out.setdefault(str(cam), []).append((float(e["start_s"]), float(e["end_s"])))
    return out


def _listed(store: Store, cameras: list[str]) -> list[str]:
    """The cameras whose `stuffing/events` hold a busy blind period that is not a finding."""
    out = []
    for cam in cameras:
        try:
            events = store.read_table("stuffing", "events", camera_id=cam)
        except NotFoundError:
            continue
        if not unwatched(events).empty:
            out.append(cam)
    return out


@METRICS.registering("stuffing", order=40)
def stuffing_block(paths: CasePaths, truth: Any) -> dict[str, Any]:
    """Stuffing events' precision and recall (±5 s), extra ballots per station within ±25%,
    and clean cameras without a finding (see the module docstring)."""
    with Store.existing(paths.db_path) as store:
        findings = store.findings()
        analysed = set(store.tables().query("analyser == 'stuffing'")["camera_id"])
        cameras = [c for c in case_truth(truth).camera_ids if c in analysed]
        listed = _listed(store, cameras)
    events = stuffing_events(truth)
    hidden = {c: hiding_ranges(truth, c) for c in cameras}
    return stuffing_scores(findings, events, cameras, hidden, listed)
