"""The ground truth of a simulated case: what really happened, under `truth/`.

Only the simulator writes these files; only `pollwatch.evaluate` and tests read them, through
`read_truth`. docs/truth.md documents every file and column. `time`-like columns are aware
timestamps on the compressed election clock; `*_s` columns are seconds from the first frame of
the camera's recording, except `t_s` in fraud.parquet (seconds after polls open).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pollwatch.case import CasePaths
from pollwatch.errors import InputError
from pollwatch.simulate.election import Election
from pollwatch.simulate.people import APPEARANCE_COLUMNS, appearance_record
from pollwatch.simulate.plan import RenderedCamera
from pollwatch.simulate.schedule import CameraSchedule

__all__ = ["TRUTH_TABLES", "CameraFiles", "Truth", "build_truth", "read_truth", "write_truth"]

TRUTH_TABLES = (
    "stations",
    "checkpoints",
    "fraud",
    "carousels",
    "cameras",
    "conditions",
    "persons",
    "visits",
    "stops",
    "drops",
)
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class Truth:
    """Every truth table of a case (see docs/truth.md) and its summary."""

    stations: pd.DataFrame
    checkpoints: pd.DataFrame
    fraud: pd.DataFrame
    carousels: pd.DataFrame
    cameras: pd.DataFrame
    conditions: pd.DataFrame
    persons: pd.DataFrame
    visits: pd.DataFrame
    stops: pd.DataFrame
    drops: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CameraFiles:
    """How a rendered camera appears in cameras.csv (paths relative to the case)."""

    rendered: RenderedCamera
    polygon_in_csv: bool
    reference_image: str  # "" when the case gives none


def _aware(values: Any, tz: Any) -> pd.Series:
    """Timestamps in the election's UTC offset (empty or all-missing columns included)."""
    return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True)).dt.tz_convert(tz)


def _ts(election: Election, seconds: Any) -> pd.Series:
    """Aware timestamps of seconds after polls open (NaN gives NaT)."""
    ms = pd.to_timedelta(np.round(np.asarray(seconds, dtype=float) * 1000.0), unit="ms")
    return pd.Series(pd.Timestamp(election.clock.polls_open) + ms)


def _stations(e: Election, counts: dict[str, np.ndarray], rendered: set[str]) -> pd.DataFrame:
    s, t, off = e.stations, e.true, e.official()
    cols = ["station_id", "region", "district", "registered", "has_camera", "camera_id"]
    out = s[[*cols, "featured", "priority"]].copy()
    out.insert(6, "rendered", s["station_id"].isin(rendered).to_numpy())
    for col in ("voters", "taken", "cast", "invalid", *e.preset.candidates):
        out[f"true_{col}"] = t[col].to_numpy()
    out["carousel_ballots"] = e.carousel_ballots()
    out["stuffed_ballots"] = e.stuffed_ballots()
    out["inflation"] = e.inflation
    for j in range(e.n_intervals):
        out[f"inflation_{j + 1}"] = counts["inflation"][:, j]
    for col in ("ballots_issued", "ballots_cast", e.preset.incumbent):
        out[f"official_{col}"] = off[col].to_numpy()
    return out.reset_index(drop=True)


def _checkpoints(e: Election, counts: dict[str, np.ndarray]) -> pd.DataFrame:
    n, k = len(e.stations), e.n_intervals
    times = _ts(e, e.clock.checkpoints_s)
    frame = pd.DataFrame(
        {
            "station_id": np.repeat(e.stations["station_id"].to_numpy(), k),
            "checkpoint": np.tile(np.arange(1, k + 1), n),
            "time": times.iloc[np.tile(np.arange(k), n)].reset_index(drop=True),
        }
    )
    for name in ("legit", "carousel", "stuffed", "inflation"):
        frame[name] = np.cumsum(counts[name], axis=1).reshape(-1)
    frame["official"] = frame[["legit", "carousel", "stuffed", "inflation"]].sum(axis=1)
    return frame


_FRAUD_COLUMNS = ["station_id", "kind", "t_s", "interval", "ballots", "person_id", "group_id"]


def _fraud(e: Election, counts: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per injected act: inflation per station and interval, each stuffer visit,
    each carousel stop."""
    r, j = np.nonzero(counts["inflation"])
    inflation = pd.DataFrame(
        {
            "station_id": e.stations["station_id"].to_numpy()[r],
            "kind": "inflation",
            "t_s": np.nan,
            "interval": j + 1,
            "ballots": counts["inflation"][r, j],
        }
    )
    rows: list[dict[str, Any]] = []
    for ev in e.stuffing:
        kind = "stuffing-bundle" if ev.bundle else "stuffing-hands"
        rows.append(
            {
                "station_id": ev.station_id,
                "kind": kind,
                "t_s": ev.time_s,
                "ballots": ev.ballots,
                "person_id": ev.person_id,
            }
        )
    for g in e.carousels:
        for stop in g.stops:
            rows.append(
                {
                    "station_id": stop.station_id,
                    "kind": "carousel",
                    "t_s": stop.arrive_s,
                    "ballots": g.size,
                    "group_id": g.group_id,
                }
            )
    events = pd.DataFrame(rows, columns=_FRAUD_COLUMNS)
    if len(events):
        events["interval"] = e.clock.interval_index(events["t_s"].to_numpy(dtype=float)) + 1
    parts = [f for f in (inflation, events) if len(f)]
    frame = pd.concat(parts, ignore_index=True) if parts else events
    frame = frame.reindex(columns=_FRAUD_COLUMNS)
    frame["interval"] = frame["interval"].astype(np.int64)
    frame["ballots"] = frame["ballots"].astype(np.int64)
    frame["t_s"] = frame["t_s"].astype(float)
    frame[["person_id", "group_id"]] = frame[["person_id", "group_id"]].fillna("")
    cams = dict(zip(e.stations["station_id"], e.stations["camera_id"], strict=True))
    frame.insert(1, "camera_id", frame["station_id"].map(cams))
    frame.insert(4, "time", _ts(e, frame["t_s"]))
    keys = ["station_id", "kind", "interval", "t_s"]
    return frame.sort_values(keys, kind="stable", ignore_index=True)


def _carousels(e: Election, schedules: list[CameraSchedule]) -> pd.DataFrame:
    """Planned stops of every carousel group, and when it was seen on rendered cameras."""
    seen: dict[tuple[str, str], list[pd.Timestamp]] = {}
    for s in schedules:
        start = pd.Timestamp(s.plan.start_time)
        for v in s.plan.visits:
            if v.role == "carousel" and v.group_id is not None:
                times = seen.setdefault((v.group_id, s.plan.station_id), [])
                times += [start + pd.Timedelta(seconds=t) for t in (v.enter_s, v.exit_s)]
    cams = dict(zip(e.stations["station_id"], e.stations["camera_id"], strict=True))
    rows = []
    for g in e.carousels:
        for j, stop in enumerate(g.stops):
            times = seen.get((g.group_id, stop.station_id), [pd.NaT])
            rows.append(
                {
                    "group_id": g.group_id,
                    "seq": j + 1,
                    "station_id": stop.station_id,
                    "camera_id": cams[stop.station_id],
                    "members": g.size,
                    "arrive_time": pd.Timestamp(e.clock.at(stop.arrive_s)),
                    "leave_time": pd.Timestamp(e.clock.at(stop.leave_s)),
                    "travel_km": stop.travel_km,
                    "travel_s": stop.travel_s,
                    "seen_enter_time": min(times),
                    "seen_exit_time": max(times),
                }
            )
    frame = pd.DataFrame(rows, columns=list(_empty_carousel_columns()))
    tz = e.clock.polls_open.tzinfo
    for c in ("arrive_time", "leave_time", "seen_enter_time", "seen_exit_time"):
        frame[c] = _aware(frame[c], tz)
    return frame


def _empty_carousel_columns() -> tuple[str, ...]:
    return (
        "group_id",
        "seq",
        "station_id",
        "camera_id",
        "members",
        "arrive_time",
        "leave_time",
        "travel_km",
        "travel_s",
        "seen_enter_time",
        "seen_exit_time",
    )


def _cameras(
    e: Election, schedules: list[CameraSchedule], files: dict[str, CameraFiles]
) -> pd.DataFrame:
    s = e.stations[e.stations["has_camera"]].sort_values("priority")
    by_cam = {sch.plan.camera_id: sch for sch in schedules}
    rows = []
    for cam, sid, featured, prio in s[
        ["camera_id", "station_id", "featured", "priority"]
    ].itertuples(index=False):
        rec: dict[str, Any] = {
            "camera_id": cam,
            "station_id": sid,
            "featured": featured,
            "priority": prio,
            "rendered": cam in by_cam,
        }
        sch, f = by_cam.get(cam), files.get(cam)
        if sch is not None:
            p = sch.plan
            rec.update(
                start_time=pd.Timestamp(p.start_time),
                duration_s=p.duration_s,
                open_s=sch.open_s,
                width=p.width,
                height=p.height,
                fps=p.fps,
                box_initial_ballots=p.box_initial_ballots,
                box_capacity_ballots=p.box_capacity_ballots,
            )
        if f is not None:
            rec.update(
                frames=f.rendered.frames,
                box_polygon=json.dumps([list(pt) for pt in f.rendered.box_polygon]),
                polygon_in_csv=f.polygon_in_csv,
                reference_image=f.reference_image,
            )
        rows.append(rec)
    cols = [
        "camera_id",
        "station_id",
        "featured",
        "priority",
        "rendered",
        "start_time",
        "duration_s",
        "open_s",
        "width",
        "height",
        "fps",
        "box_initial_ballots",
        "box_capacity_ballots",
        "frames",
        "box_polygon",
        "polygon_in_csv",
        "reference_image",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    frame["start_time"] = _aware(frame["start_time"], e.clock.polls_open.tzinfo)
    for c in ("width", "height", "fps", "box_initial_ballots", "box_capacity_ballots", "frames"):
        frame[c] = frame[c].astype("Int64")
    frame["polygon_in_csv"] = frame["polygon_in_csv"].astype("boolean")
    for c in ("box_polygon", "reference_image"):
        frame[c] = frame[c].astype(object).fillna("").astype(str)
    return frame


def _conditions(schedules: list[CameraSchedule], tz: Any) -> pd.DataFrame:
    rows = []
    for s in schedules:
        start = pd.Timestamp(s.plan.start_time)
        for lc in s.conditions:
            c = lc.condition
            rows.append(
                {
                    "camera_id": s.plan.camera_id,
                    "kind": c.kind,
                    "label": lc.label,
                    "start_s": c.start_s,
                    "end_s": c.end_s,
                    "start_time": start + pd.Timedelta(seconds=c.start_s),
                    "end_time": start + pd.Timedelta(seconds=c.end_s),
                    "params": json.dumps(c.params, sort_keys=True),
                }
            )
    cols = ["camera_id", "kind", "label", "start_s", "end_s", "start_time", "end_time", "params"]
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("start_time", "end_time"):
        frame[c] = _aware(frame[c], tz)
    return frame


def _people(schedules: list[CameraSchedule], tz: Any) -> tuple[pd.DataFrame, ...]:
    persons: dict[str, dict[str, Any]] = {}
    visits, stops, drops = [], [], []
    for s in schedules:
        p, start = s.plan, pd.Timestamp(s.plan.start_time)
        for v in p.visits:
            group = v.group_id or ""
            persons.setdefault(
                v.person_id,
                {
                    "person_id": v.person_id,
                    "role": v.role,
                    "group_id": group,
                    **appearance_record(v.appearance),
                },
            )
            visits.append(
                {
                    "camera_id": p.camera_id,
                    "station_id": p.station_id,
                    "person_id": v.person_id,
                    "role": v.role,
                    "group_id": group,
                    "enter_s": v.enter_s,
                    "exit_s": v.exit_s,
                    "ballots": v.ballots,
                    "counted_s": s.counted_s.get(v.person_id, np.nan),
                }
            )
            for k, st in enumerate(v.stops):
                stops.append(
                    {
                        "camera_id": p.camera_id,
                        "person_id": v.person_id,
                        "seq": k + 1,
                        "place": st.place,
                        "arrive_s": st.arrive_s,
                        "leave_s": st.leave_s,
                    }
                )
            for d in v.drops:
                drops.append(
                    {
                        "camera_id": p.camera_id,
                        "station_id": p.station_id,
                        "time": start + pd.Timedelta(seconds=d.t_s),
                        "t_video_s": d.t_s,
                        "person_id": v.person_id,
                        "role": v.role,
                        "ballots": d.ballots,
                    }
                )
    person_cols = ["person_id", "role", "group_id", *APPEARANCE_COLUMNS]
    visit_cols = [
        "camera_id",
        "station_id",
        "person_id",
        "role",
        "group_id",
        "enter_s",
        "exit_s",
        "ballots",
        "counted_s",
    ]
    stop_cols = ["camera_id", "person_id", "seq", "place", "arrive_s", "leave_s"]
    drop_cols = ["camera_id", "station_id", "time", "t_video_s", "person_id", "role", "ballots"]
    persons_f = pd.DataFrame(list(persons.values()), columns=person_cols)
    for c in APPEARANCE_COLUMNS:
        if c.startswith("hat_"):
            persons_f[c] = persons_f[c].astype("Int64")
    drops_f = pd.DataFrame(drops, columns=drop_cols)
    drops_f["time"] = _aware(drops_f["time"], tz)
    drops_f = drops_f.sort_values(["camera_id", "t_video_s"], kind="stable", ignore_index=True)
    return (
        persons_f.sort_values("person_id", ignore_index=True),
        pd.DataFrame(visits, columns=visit_cols),
        pd.DataFrame(stops, columns=stop_cols),
        drops_f,
    )


def _share(num: float, den: float) -> float:
    return round(float(num) / float(den), 6) if den else 0.0


def _summary(e: Election, stations: pd.DataFrame, conditions: pd.DataFrame) -> dict[str, Any]:
    p = e.preset
    cands = [f"true_{c}" for c in p.candidates]
    valid_true = stations[cands].to_numpy().sum()
    off = e.official()
    valid_off = off[list(p.candidates)].to_numpy().sum()
    reg = stations["registered"].sum()
    return {
        "preset": p.name,
        "seed": e.seed,
        "clean": p.clean,
        "time_scale": p.time_scale,
        "clip_s": p.clip_s,
        "polls_open": e.clock.polls_open.isoformat(),
        "polls_close": e.clock.polls_close.isoformat(),
        "stations": len(stations),
        "cameras": int(stations["has_camera"].sum()),
        "rendered": int(stations["rendered"].sum()),
        "registered": int(reg),
        "true_turnout": _share(stations["true_voters"].sum(), reg),
        "true_winner_share": _share(stations[f"true_{p.incumbent}"].sum(), valid_true),
        "official_turnout": _share(off["ballots_issued"].sum(), reg),
        "official_winner_share": _share(off[p.incumbent].sum(), valid_off),
        "inflated_stations": int((e.inflation > 0).sum()),
        "inflation_ballots": int(e.inflation.sum()),
        "stuffing_events": len(e.stuffing),
        "stuffed_ballots": int(e.stuffed_ballots().sum()),
        "carousel_groups": len(e.carousels),
        "carousel_ballots": int(e.carousel_ballots().sum()),
        "conditions": {
            k: int(v) for k, v in conditions["label"].value_counts().sort_index().items()
        },
        "calibration_logit": [round(x, 6) for x in e.calibration],
    }


def build_truth(
    election: Election,
    schedules: list[CameraSchedule],
    counts: dict[str, np.ndarray],
    files: dict[str, CameraFiles],
) -> Truth:
    """Every truth table of a simulated case. `counts` are `Election.interval_counts` with
    the rendered cameras' schedules; `files` what went into cameras.csv per camera."""
    rendered = {s.plan.station_id for s in schedules}
    stations = _stations(election, counts, rendered)
    tz = election.clock.polls_open.tzinfo
    conditions = _conditions(schedules, tz)
    persons, visits, stops, drops = _people(schedules, tz)
    return Truth(
        stations=stations,
        checkpoints=_checkpoints(election, counts),
        fraud=_fraud(election, counts),
        carousels=_carousels(election, schedules),
        cameras=_cameras(election, schedules, files),
        conditions=conditions,
        persons=persons,
        visits=visits,
        stops=stops,
        drops=drops,
        summary=_summary(election, stations, conditions),
    )


def write_truth(truth_dir: Path, truth: Truth) -> None:
    """Write every table as Parquet and the summary as JSON into `truth_dir`."""
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name in TRUTH_TABLES:
        getattr(truth, name).to_parquet(truth_dir / f"{name}.parquet", index=False)
    text = json.dumps(truth.summary, indent=2, sort_keys=True)
    (truth_dir / SUMMARY_FILE).write_text(text + "\n", encoding="utf-8")


def read_truth(case_root: str | Path) -> Truth:
    """The ground truth of the simulated case at `case_root` (its truth/ folder)."""
    truth_dir = CasePaths.of(case_root).truth_dir
    missing = [f"{n}.parquet" for n in TRUTH_TABLES if not (truth_dir / f"{n}.parquet").is_file()]
    if not (truth_dir / SUMMARY_FILE).is_file():
        missing.append(SUMMARY_FILE)
    if missing:
        raise InputError.at(
            truth_dir, f"not a simulated case's truth: missing {', '.join(missing)}"
        )
    tables = {n: pd.read_parquet(truth_dir / f"{n}.parquet") for n in TRUTH_TABLES}
    summary = json.loads((truth_dir / SUMMARY_FILE).read_text(encoding="utf-8"))
    return Truth(**tables, summary=summary)
