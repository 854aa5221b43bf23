"""The "counting" metric block: ballot drops counted per camera, and turnout-inflation flags,
against the simulator's truth.

Only time the box could truly be watched is scored: the truth's camera conditions that hide it
(outage, frozen picture, box occluded, dark, camera turned away) are taken out, with a second
either side, from both the true and the detected drops. Within it:

* count error per camera: ballots detected − ballots truly dropped, as a share of the latter.
  Both sides are taken on the same time: the truth's drops and the detected ones in the time
  the box could truly be watched (a range the counter itself called not observable while
  the box was in view stays in: ballots it could not count there are its misses). The median
  and 90th percentile take the cameras with at least `MIN_SCORED_BALLOTS` true ballots in that
  time: below that one ballot is over 20% of the count, and a 2% or 5% error cannot be read
  from it (a camera turned away after a minute, a six-minute clip of a quiet station); those
  cameras are summed apart (`few_ballot_cameras`: how many, true and detected ballots);
* matched: true drops (hand movements) with a detected drop within ±2 s, one to one;
* non-voters counted: commission members, observers and passers-by who came near the box (a
  stop at `box_near`, a walk across in front of it) during which a detected drop matched no
  true drop, as a share of those who came near;
* inflation flags: an interval is *inflated* when its inflation is at least 10% of its true
  increment, *clean* when there is none; recall counts inflated intervals (and stations
  with one) flagged by a `turnout_inflation` finding, the false-flag rate clean ones flagged.
  Intervals the counter marked not observable cannot be flagged: they are reported apart,
  and so are stations whose every inflated interval was one of them. Station recall is also
  given per band of the ballots added while the camera watched
  (`inflated_stations_by_seen_ballots`): one or two extra ballots are within a counter's
  own error on a few dozen voters.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from pollwatch.case import CasePaths
from pollwatch.evaluate.matching import greedy_match
from pollwatch.evaluate.registry import METRICS
from pollwatch.evaluate.truthview import EvaluationError
from pollwatch.store import NotFoundError, Store

__all__ = [
    "MIN_SCORED_BALLOTS",
    "count_error_summary",
    "counting_block",
    "inflation_scores",
    "interval_table",
    "match_drops",
    "station_table",
]

_HIDING = {"outage", "frozen", "box_occluded", "dark"}
_MATCH_S = 2.0
_MARGIN_S = 1.0
MIN_SCORED_BALLOTS = 5  # a camera enters the count-error percentiles with this many true ballots


def _table(truth: Any, name: str) -> pd.DataFrame:
    value = truth.get(name) if isinstance(truth, dict) else getattr(truth, name, None)
    if not isinstance(value, pd.DataFrame):
        raise EvaluationError(f"the truth has no {name} table")
    return value


def match_drops(true_t: np.ndarray, found_t: np.ndarray, within: float = _MATCH_S) -> np.ndarray:
    """For each true drop time, the index of the detected drop matched to it (−1 if none):
    closest pairs first, each detected drop used once, at most `within` seconds apart."""
    pairs = (
        (abs(a - b), i, j)
        for i, a in enumerate(true_t)
        for j, b in enumerate(found_t)
        if abs(a - b) <= within
    )
    return greedy_match(pairs, len(true_t))


def _hidden(conditions: pd.DataFrame, camera_id: str) -> list[tuple[float, float]]:
    c = conditions[conditions["camera_id"] == camera_id]
    hide = c["kind"].isin(_HIDING) | (c["label"] == "turned_away")
    return [
        (float(a) - _MARGIN_S, float(b) + _MARGIN_S)
        for a, b in c.loc[hide, ["start_s", "end_s"]].itertuples(index=False)
    ]


def _outside(t: np.ndarray, ranges: list[tuple[float, float]]) -> np.ndarray:
    keep = np.ones(len(t), bool)
    for a, b in ranges:
        keep &= ~((t >= a) & (t <= b))
    return keep


def _near_windows(
    stops: pd.DataFrame, visits: pd.DataFrame, camera_id: str
) -> list[tuple[str, float, float]]:
    """(person, start, end) of each non-voter's time near the box: from leaving the stop
    before `box_near` to reaching the stop after it; a passer-by's walk across."""
    roles = visits[visits["camera_id"] == camera_id].set_index("person_id")["role"]
    s = stops[stops["camera_id"] == camera_id].sort_values(["person_id", "seq"])
    out = []
    for pid, rows in s.groupby("person_id"):
        role = roles.get(pid)
        if role not in ("commission", "observer", "passerby"):
            continue
        rows = rows.reset_index(drop=True)
        for k, r in rows.iterrows():
            if r["place"] == "box_near" or (
                role == "passerby"
                and r["place"] in ("pass_left", "pass_right")
                and k > 0
                and rows.loc[k - 1, "place"] in ("pass_left", "pass_right")
            ):
                start = float(rows.loc[k - 1, "leave_s"]) if k > 0 else float(r["arrive_s"])
                end = (
                    float(rows.loc[k + 1, "arrive_s"]) if k + 1 < len(rows) else float(r["leave_s"])
                )
                out.append((str(pid), start, end))
    return out


def _camera_scores(store: Store, truth: Any, camera_id: str) -> dict[str, Any] | None:
    try:
        found = store.read_table("counting", "drops", camera_id=camera_id)
        unobs = store.read_table("counting", "unobservable", camera_id=camera_id)
    except NotFoundError:
        return None
    drops = _table(truth, "drops")
    true = drops[drops["camera_id"] == camera_id]
    hidden = _hidden(_table(truth, "conditions"), camera_id)
    tt = true["t_video_s"].to_numpy(float)
    keep_t = _outside(tt, hidden)
    ft = found["t_s"].to_numpy(float)
    keep_f = _outside(ft, hidden)
    tt, tb = tt[keep_t], true["ballots"].to_numpy(int)[keep_t]
    ft, fb = ft[keep_f], found["ballots"].to_numpy(int)[keep_f]
    matched = match_drops(tt, ft)
    extra = np.setdiff1d(np.arange(len(ft)), matched[matched >= 0])
    windows = _near_windows(_table(truth, "stops"), _table(truth, "visits"), camera_id)
    counted_people = {pid for pid, a, b in windows if any(a <= ft[j] <= b for j in extra)}
    people = {pid for pid, _, _ in windows}
    true_ballots, found_ballots = int(tb.sum()), int(fb.sum())
    blind = sum(max(0.0, b - a) for a, b, _ in unobs.itertuples(index=False))
    return {
        "true_drops": len(tt),
        "true_ballots": true_ballots,
        "detected_drops": len(ft),
        "detected_ballots": found_ballots,
        "matched": int((matched >= 0).sum()),
        "unmatched_detections": len(extra),
        "count_error": found_ballots - true_ballots,
        "abs_pct_error": abs(found_ballots - true_ballots) / true_ballots if true_ballots else None,
        "nonvoters_near_box": len(people),
        "nonvoters_counted": len(counted_people),
        "declared_unobservable_s": round(blind, 1),
    }


def interval_table(store: Store, truth: Any) -> pd.DataFrame:
    """The counter's counts per camera and interval with the truth's `inflation_inc` and
    `official_inc`, whether the interval was `inflated` (by 10% of its true increment) or
    `clean`, and whether a `turnout_inflation` finding `flagged` it; empty when nothing was
    counted."""
    try:
        counts = store.read_table("counting", "counts")
    except NotFoundError:
        return pd.DataFrame()
    if counts.empty:
        return pd.DataFrame()
    cps = _table(truth, "checkpoints").sort_values(["station_id", "checkpoint"])
    cps = cps.assign(
        inflation_inc=cps.groupby("station_id")["inflation"].diff().fillna(cps["inflation"]),
        official_inc=cps.groupby("station_id")["official"].diff().fillna(cps["official"]),
    )
    findings = store.findings()
    flags = findings[findings["kind"] == "turnout_inflation"]
    merged = counts.merge(
        cps[["station_id", "checkpoint", "inflation_inc", "official_inc"]],
        left_on=["station_id", "interval"],
        right_on=["station_id", "checkpoint"],
        how="left",
    )
    real = merged["official_inc"] - merged["inflation_inc"]
    merged["inflated"] = merged["inflation_inc"] >= 0.10 * real.clip(lower=1)
    merged["clean"] = merged["inflation_inc"] == 0
    interval_flag = set()
    for camera_id, evidence in zip(flags["camera_id"], flags["evidence"], strict=True):
        interval = _interval_of(evidence)
        if interval is not None:
            interval_flag.add((str(camera_id), interval))
    merged["flagged"] = [
        (str(c), int(i)) in interval_flag
        for c, i in zip(merged["camera_id"], merged["interval"], strict=True)
    ]
    merged["station_flagged"] = merged["station_id"].isin(set(flags["station_id"]))
    return merged


def inflation_scores(merged: pd.DataFrame) -> dict[str, Any]:
    """Recall and false-flag rates of the inflation findings over an `interval_table` (one
    case's, or several pooled: station ids must then be unique across cases)."""
    if merged.empty:
        return {}
    flagged_stations = set(merged.loc[merged["station_flagged"], "station_id"])
    seen = merged[merged["observable"]]
    inflated, clean = seen[seen["inflated"]], seen[seen["clean"]]
    stations = station_table(merged)
    st_inflated = stations[stations["seen_inflated"]]
    st_clean = stations[stations["clean"]]

    def share(k: int, n: int) -> float | None:
        return k / n if n else None

    return {
        "intervals": len(merged),
        "intervals_not_observable": int((~merged["observable"]).sum()),
        "inflated_intervals": len(inflated),
        "inflated_intervals_flagged": int(inflated["flagged"].sum()),
        "interval_recall": share(int(inflated["flagged"].sum()), len(inflated)),
        "clean_intervals": len(clean),
        "clean_intervals_flagged": int(clean["flagged"].sum()),
        "interval_false_flag_rate": share(int(clean["flagged"].sum()), len(clean)),
        "inflated_stations": len(st_inflated),
        "inflated_stations_not_observable": int(
            (stations["inflated"] & ~stations["seen_inflated"]).sum()
        ),
        "inflated_stations_flagged": sum(s in flagged_stations for s in st_inflated.index),
        "station_recall": share(
            sum(s in flagged_stations for s in st_inflated.index), len(st_inflated)
        ),
        "inflated_stations_by_seen_ballots": _recall_by_size(st_inflated, flagged_stations),
        "clean_stations": len(st_clean),
        "clean_stations_flagged": sum(s in flagged_stations for s in st_clean.index),
        "station_false_flag_rate": share(
            sum(s in flagged_stations for s in st_clean.index), len(st_clean)
        ),
    }


def station_table(intervals: pd.DataFrame) -> pd.DataFrame:
    """Per station (index) from its intervals (`station_id`, `inflated`, `observable`,
    `inflation_inc`): `inflated` (any interval), `seen_inflated` (an inflated interval that
    could be watched: only those stations can be flagged, the others are reported apart),
    `seen_inflation` (the ballots added in the intervals that could be watched) and `clean`
    (no inflation at all)."""
    watched = intervals["observable"].astype(bool)
    seen = intervals.assign(
        seen_inflated=intervals["inflated"] & watched,
        seen_inflation=intervals["inflation_inc"].where(watched, 0),
    )
    return seen.groupby("station_id").agg(
        inflated=("inflated", "any"),
        seen_inflated=("seen_inflated", "any"),
        seen_inflation=("seen_inflation", "sum"),
        clean=("inflation_inc", lambda s: bool((s == 0).all())),
    )


#: bands of a station's inflation in the intervals it could be watched, in ballots: a
#: counter that misses or adds one ballot in thirty cannot tell one or two extra ballots
#: from its own error (`benchmarks/inflation_power.py`), so recall is reported per band
_SIZE_BANDS = ((1, 1, "1"), (2, 2, "2"), (3, 4, "3-4"), (5, 9, "5-9"), (10, float("inf"), "10+"))


def _recall_by_size(inflated: pd.DataFrame, flagged: set[str]) -> dict[str, dict[str, int]]:
    """Inflated stations (a `station_table`'s rows) and how many were flagged, per band of
    their `seen_inflation` in ballots."""
    out = {}
    for low, high, name in _SIZE_BANDS:
        band = inflated[inflated["seen_inflation"].between(low, high)]
        out[name] = {
            "stations": len(band),
            "flagged": sum(s in flagged for s in band.index),
        }
    return out


def _interval_of(evidence: str) -> int | None:
    value = json.loads(evidence or "{}").get("interval")
    return None if value is None else int(value)


def count_error_summary(per_camera: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The median and 90th percentile of the per-camera count error (`abs_pct_error`) over
    the cameras with at least `MIN_SCORED_BALLOTS` true ballots, how many those were, and the
    other cameras with a true ballot summed apart (`few_ballot_cameras`)."""
    scored = [s for s in per_camera.values() if s["true_ballots"] >= MIN_SCORED_BALLOTS]
    few = [s for s in per_camera.values() if 0 < s["true_ballots"] < MIN_SCORED_BALLOTS]
    errors = [s["abs_pct_error"] for s in scored]
    return {
        "median_abs_pct_error": float(np.median(errors)) if errors else None,
        "p90_abs_pct_error": float(np.percentile(errors, 90)) if errors else None,
        "cameras_scored": len(scored),
        "few_ballot_cameras": {
            "cameras": len(few),
            "true_ballots": sum(s["true_ballots"] for s in few),
            "detected_ballots": sum(s["detected_ballots"] for s in few),
        },
    }


@METRICS.registering("counting", order=30)
def counting_block(paths: CasePaths, truth: Any) -> dict[str, Any]:
    """Per-camera drop counts and matches, the summary figures of the issue's targets (count
    errors as `count_error_summary` takes them), and inflation-flag recall and false-flag
    rates (see the module docstring)."""
    with Store.existing(paths.db_path) as store:
        cameras = list(store.cameras()["camera_id"])
        per_camera = {c: s for c in cameras if (s := _camera_scores(store, truth, c)) is not None}
        inflation = inflation_scores(interval_table(store, truth))
    true_drops = sum(s["true_drops"] for s in per_camera.values())
    near = sum(s["nonvoters_near_box"] for s in per_camera.values())
    return {
        "cameras": per_camera,
        **count_error_summary(per_camera),
        "matched_share": sum(s["matched"] for s in per_camera.values()) / true_drops
        if true_drops
        else None,
        "nonvoters_counted_share": sum(s["nonvoters_counted"] for s in per_camera.values()) / near
        if near
        else None,
        "inflation": inflation,
    }
