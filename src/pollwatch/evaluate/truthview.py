"""The one place evaluation reads the simulator's ground truth, through a small adapter.

`load_truth` calls `pollwatch.simulate.truth.read_truth(case_root)`; `case_truth` maps what it
returns onto `CaseTruth`, the shape metric blocks rely on. The adapter expects (as attributes
or mapping keys) `stations` (a DataFrame with station_id), `cameras` (camera_id) and `fraud`
(station_id, kind, ballots: one row per fraud event, ballots added to the official count),
summed per station and kind into `CaseTruth.fraud`. `stuffing_events` gives the stuffing
events as seen on camera (from `drops`: the stuffers' hand movements) and `hiding_ranges` the
camera conditions that hide the box. If the simulator's truth changes shape, only this module
changes.

`carousel_truth` maps the voters' ballot drops (`drops`: camera_id, station_id, t_video_s,
person_id, role) and the carousel groups' planned stops (`carousels`: group_id, station_id,
camera_id) onto `CarouselTruth` for the carousel block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pollwatch.case import CasePaths
from pollwatch.errors import PollwatchError

__all__ = [
    "CarouselTruth",
    "CaseTruth",
    "EvaluationError",
    "carousel_truth",
    "case_truth",
    "hiding_ranges",
    "load_truth",
    "stuffing_events",
]

FRAUD_COLUMNS = ("station_id", "kind", "votes")
STUFFING_COLUMNS = ["camera_id", "station_id", "person_id", "start_s", "end_s", "ballots", "drops"]
# camera conditions that hide the ballot box (a view turned away: label "turned_away")
_HIDING = ("outage", "frozen", "box_occluded", "dark")


class EvaluationError(PollwatchError):
    """The case cannot be evaluated (no ground truth, or truth of an unexpected shape)."""


@dataclass(frozen=True)
class CaseTruth:
    """What every metric block may know about a simulated case."""

    station_ids: tuple[str, ...]
    camera_ids: tuple[str, ...]
    fraud: pd.DataFrame  # station_id, kind, votes

    def __post_init__(self) -> None:
        missing = [c for c in FRAUD_COLUMNS if c not in self.fraud.columns]
        if missing:
            raise ValueError(f"fraud lacks column(s) {missing}")


def load_truth(paths: CasePaths) -> Any:
    """The simulator's ground truth of the case; EvaluationError for a case without truth/."""
    if not paths.truth_dir.is_dir():
        raise EvaluationError(
            f"{paths.truth_dir} does not exist: only simulated cases can be evaluated"
        )
    from pollwatch.simulate.truth import read_truth

    return read_truth(paths.root)


def _part(truth: Any, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    value = truth.get(name) if isinstance(truth, dict) else getattr(truth, name, None)
    if not isinstance(value, pd.DataFrame):
        raise EvaluationError(f"the truth has no {name} table")
    missing = [c for c in columns if c not in value.columns]
    if missing:
        raise EvaluationError(f"the truth's {name} table lacks column(s) {', '.join(missing)}")
    return value


def case_truth(truth: Any) -> CaseTruth:
    """Adapt the simulator's truth object to `CaseTruth`."""
    stations = _part(truth, "stations", ("station_id",))
    cameras = _part(truth, "cameras", ("camera_id",))
    events = _part(truth, "fraud", ("station_id", "kind", "ballots"))
    # one row per fraud event (ballots added to the official count) → per station and kind
    fraud = (
        events.groupby(["station_id", "kind"], as_index=False)["ballots"]
        .sum()
        .rename(columns={"ballots": "votes"})
    )
    if "rendered" in cameras.columns:  # cameras whose recording exists in the case
        cameras = cameras[cameras["rendered"].astype(bool)]
    return CaseTruth(
        station_ids=tuple(stations["station_id"].astype(str)),
        camera_ids=tuple(cameras["camera_id"].astype(str)),
        fraud=fraud[list(FRAUD_COLUMNS)].reset_index(drop=True),
    )


def stuffing_events(truth: Any) -> pd.DataFrame:
    """One row per stuffer visit on a rendered camera (`STUFFING_COLUMNS`): the first and
    last hand movement (video seconds of that camera), the ballots and the hand movements."""
    drops = _part(truth, "drops", ("camera_id", "station_id", "t_video_s", "person_id", "role"))
    mine = drops[drops["role"] == "stuffer"]
    if mine.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in STUFFING_COLUMNS})
    grouped = mine.groupby(["camera_id", "station_id", "person_id"], as_index=False).agg(
        start_s=("t_video_s", "min"),
        end_s=("t_video_s", "max"),
        ballots=("ballots", "sum"),
        drops=("t_video_s", "size"),
    )
    return grouped[STUFFING_COLUMNS].sort_values(["camera_id", "start_s"]).reset_index(drop=True)


def hiding_ranges(truth: Any, camera_id: str) -> list[tuple[float, float]]:
    """(start_s, end_s) of the camera's conditions that hide the box."""
    c = _part(truth, "conditions", ("camera_id", "kind", "label", "start_s", "end_s"))
    c = c[c["camera_id"] == camera_id]
    hide = c["kind"].isin(_HIDING) | (c["label"] == "turned_away")
    return [(float(a), float(b)) for a, b in c.loc[hide, ["start_s", "end_s"]].to_numpy()]


@dataclass(frozen=True)
class CarouselTruth:
    """Who dropped a ballot when on camera, and where carousel groups voted.

    `drops`: camera_id, station_id, t_s (seconds into the recording), person_id, group_id
    ("" for no group), one row per ballot drop of a voter (commission and stuffers left out);
    `stops`: group_id, station_id, camera_id, one row per planned station of a group."""

    drops: pd.DataFrame
    stops: pd.DataFrame


def carousel_truth(truth: Any) -> CarouselTruth:
    """Adapt the simulator's truth object to `CarouselTruth`."""
    drops = _part(truth, "drops", ("camera_id", "station_id", "t_video_s", "person_id", "role"))
    stops = _part(truth, "carousels", ("group_id", "station_id", "camera_id"))
    groups: dict[str, str] = {}
    persons = truth.get("persons") if isinstance(truth, dict) else getattr(truth, "persons", None)
    if isinstance(persons, pd.DataFrame) and {"person_id", "group_id"} <= set(persons.columns):
        groups = dict(zip(persons["person_id"], persons["group_id"].fillna(""), strict=True))
    voters = drops[drops["role"].isin(["voter", "carousel"])]
    frame = pd.DataFrame(
        {
            "camera_id": voters["camera_id"].astype(str),
            "station_id": voters["station_id"].astype(str),
            "t_s": voters["t_video_s"].astype(float),
            "person_id": voters["person_id"].astype(str),
            "group_id": voters["person_id"].map(groups).fillna("").astype(str),
        }
    ).reset_index(drop=True)
    return CarouselTruth(frame, stops[["group_id", "station_id", "camera_id"]].astype(str))
