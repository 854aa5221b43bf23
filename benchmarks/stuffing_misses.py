"""Why each true stuffer of analysed simulated cases was or was not found; prints JSON.

For every stuffer visit on a rendered camera (the case's truth, read through
`pollwatch.evaluate`) the detector is run on the camera's stored tables (`stuffing.stored`,
as the case step reads them) and the visit is described: whether a flagged observable event
is matched to its hands within ±5 s, one event to one stuffer (`found`, the metric's rule:
`evaluate.stuffing_metrics.match_events`), whether a condition of the truth
hid the box then (`hidden`), whether the stuffer stood beside the box first (`paused_s`, the
truth's `box_near` stop), and what the detector had to go on within 6 s of the hands: the
counter's drops there (time, ballots, evidence), the candidate events (kind, hand movements,
ballots counted, the pile's rise in ballots, p-value), the share of the watcher's samples
with a readable pile (`pile_readable`: contrast and distance from the box's own edges as the
counter takes them), the closest the pile's edge came to one of the box's edges
(`fill_line_min`, rows), the mean changed share of the watched region (`fg_mean`) and the
side of the slot each of the counter's hand movements there came from (`hand_sides`:
`stuffing.sides.hand_sides`, "L"/"R"/"B" both/"?" unread; one person's hands share a side).

    PYTHONPATH=src python benchmarks/stuffing_misses.py [--missed-only] CASE [CASE ...]

The rows are the cause table of docs/stuffing.md ("Session 8"); the diagnostic reads the truth
and never feeds the detector.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from pollwatch.case import CasePaths
from pollwatch.evaluate.stuffing_metrics import match_events
from pollwatch.evaluate.truthview import hiding_ranges, load_truth, stuffing_events
from pollwatch.store import NotFoundError, Store
from pollwatch.stuffing.detect import DetectOptions, Event
from pollwatch.stuffing.fill import readable_samples
from pollwatch.stuffing.sides import hand_sides, hand_times
from pollwatch.stuffing.step import stored_events
from pollwatch.stuffing.stored import CameraData, camera_data

AROUND_S = 6.0  # what the detector had near the hands
MATCH_S = 5.0  # a flagged event this close to the hands finds them (evaluate's rule)
HAND_GAP_S = DetectOptions().episodes.hand_gap_s  # drops closer are one hand movement


def _num(x: float | None, digits: int = 2) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else round(float(x), digits)


def _pause(stops: pd.DataFrame, person: str) -> float:
    """Seconds the stuffer stood beside the box (`box_near`) before reaching it; 0 if not."""
    mine = stops[(stops["person_id"] == person) & (stops["place"] == "box_near")]
    return float((mine["leave_s"] - mine["arrive_s"]).sum()) if len(mine) else 0.0


def _series_near(series: pd.DataFrame, a: float, b: float) -> dict[str, float | None]:
    w = series[(series["t_s"] >= a) & (series["t_s"] <= b)]
    if w.empty:
        return {"pile_readable": None, "fill_line_min": None, "fg_mean": None}
    readable = readable_samples(w)
    line = w["fill_line"].to_numpy(float) if "fill_line" in w else np.full(len(w), np.inf)
    finite = line[np.isfinite(line)]
    return {
        "pile_readable": _num(float(readable.mean())),
        "fill_line_min": _num(float(finite.min())) if finite.size else None,
        "fg_mean": _num(float(np.nanmean(w["fg"].to_numpy(float)))) if "fg" in w else None,
    }


def _matched(
    events: pd.DataFrame, truth: Any, camera_id: str, found_all: list[Event]
) -> set[tuple[float, float]]:
    """The (start, end) of the camera's stuffer visits that the metric counts as found: those
    not hidden, matched one to one to flagged observable events (`match_events`)."""
    hiding = hiding_ranges(truth, camera_id)
    mine = events[events["camera_id"] == camera_id]
    true = [
        (float(a), float(b))
        for a, b in zip(mine["start_s"], mine["end_s"], strict=True)
        if not any(lo <= b and hi >= a for lo, hi in hiding)
    ]
    flagged = [(e.start_s, e.end_s) for e in found_all if e.flagged and e.observable]
    m = match_events(true, flagged, MATCH_S)
    return {t for t, j in zip(true, m, strict=True) if j >= 0}


def case_rows(case: str, missed_only: bool = False) -> list[dict[str, Any]]:
    """One row per stuffer visit of `case` (see the module's docstring)."""
    paths = CasePaths.of(case)
    truth = load_truth(paths)
    events = stuffing_events(truth)
    stops = truth.stops if hasattr(truth, "stops") else truth["stops"]
    rows: list[dict[str, Any]] = []
    seen: dict[str, tuple[CameraData, list[Event]] | None] = {}  # the detector once a camera
    with Store.existing(paths.db_path) as store:
        cams = {c.camera_id: c for c in store.camera_records()}
        for ev in events.itertuples(index=False):
            cam = cams.get(str(ev.camera_id))
            if cam is None:
                continue
            if cam.camera_id not in seen:
                try:
                    data = camera_data(store, cam)
                except NotFoundError:
                    seen[cam.camera_id] = None
                else:
                    seen[cam.camera_id] = (data, stored_events(data))
            if seen[cam.camera_id] is None:
                continue
            data, found_all = seen[cam.camera_id]
            a, b = float(ev.start_s), float(ev.end_s)
            hidden = any(lo <= b and hi >= a for lo, hi in hiding_ranges(truth, cam.camera_id))
            found = not hidden and (a, b) in _matched(events, truth, cam.camera_id, found_all)
            if missed_only and (found or hidden):
                continue
            lo, hi = a - AROUND_S, b + AROUND_S
            drops = data.drops[(data.drops["t_s"] >= lo) & (data.drops["t_s"] <= hi)]
            near = [e for e in found_all if e.start_s <= hi and e.end_s >= lo]
            hands = hand_times(drops["t_s"].to_numpy(float), HAND_GAP_S)
            rows.append(
                {
                    "case": case,
                    "camera_id": cam.camera_id,
                    "start_s": round(a, 2),
                    "end_s": round(b, 2),
                    "ballots": int(ev.ballots),
                    "hands": int(ev.drops),
                    "found": found,
                    "hidden": hidden,
                    "paused_s": round(_pause(stops, str(ev.person_id)), 1),
                    "drops": [
                        [round(float(t), 2), int(n), str(e)]
                        for t, n, e in drops[["t_s", "ballots", "evidence"]].itertuples(index=False)
                    ],
                    "events": [
                        [
                            e.kind,
                            round(e.start_s, 2),
                            e.insertions,
                            e.counted,
                            _num(e.fill_ballots),
                            _num(e.p_value, 4),
                            e.flagged,
                        ]
                        for e in near
                    ],
                    "hand_sides": hand_sides(data.series, hands),
                    "step_px": _num(data.step_px),
                    **_series_near(data.series, lo, hi),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="+")
    parser.add_argument(
        "--missed-only", action="store_true", help="only observable stuffers not found"
    )
    args = parser.parse_args()
    rows = [r for case in args.cases for r in case_rows(case, args.missed_only)]
    seen = [r for r in rows if not r["hidden"]]
    head = {"stuffers": len(rows), "observable": len(seen), "found": sum(r["found"] for r in seen)}
    body = ",\n  ".join(json.dumps(r) for r in rows)  # one stuffer a line
    print(json.dumps(head)[:-1] + ', "rows": [\n  ' + body + "\n]}")


if __name__ == "__main__":
    main()
