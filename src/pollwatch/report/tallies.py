"""The numbers the report's overview shows, computed from the store's frames (no drawing).

Turnout is ballots issued / registered voters (what the intra-day checkpoints count); the
share of a candidate is of the valid votes (ballots cast minus invalid).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

__all__ = ["national_checkpoints", "national_results", "turnout_by_region"]


def national_results(results: pd.DataFrame, candidates: Sequence[str]) -> pd.DataFrame:
    """Votes per candidate over every station: candidate, votes, share of valid votes."""
    votes = results[list(candidates)].sum().astype("int64")
    valid = int(votes.sum())
    return pd.DataFrame(
        {
            "candidate": list(candidates),
            "votes": votes.to_numpy(),
            "share": votes.to_numpy() / valid if valid else float("nan"),
        }
    )


def turnout_by_region(stations: pd.DataFrame, protocols: pd.DataFrame) -> pd.DataFrame:
    """Per region: stations, registered, ballots_issued, ballots_cast, turnout; a last row
    "All regions" holds the national totals. Stations without a protocol count as registered
    but not as voting (their turnout is unknown, so they are left out of both)."""
    merged = stations[["station_id", "region"]].merge(
        protocols[["station_id", "registered", "ballots_issued", "ballots_cast"]],
        on="station_id",
        how="inner",
    )
    grouped = merged.groupby("region", sort=True).agg(
        stations=("station_id", "count"),
        registered=("registered", "sum"),
        ballots_issued=("ballots_issued", "sum"),
        ballots_cast=("ballots_cast", "sum"),
    )
    total = grouped.sum().to_frame("All regions").T
    frame = pd.concat([grouped, total]).rename_axis("region").reset_index()
    frame["turnout"] = frame["ballots_issued"] / frame["registered"].where(frame["registered"] > 0)
    return frame


def national_checkpoints(checkpoints: pd.DataFrame, stations: pd.DataFrame) -> pd.DataFrame:
    """The national cumulative turnout at each checkpoint time: time, stations (reporting),
    voters, registered (of the stations reporting then) and turnout = voters / registered."""
    columns = ["time", "stations", "voters", "registered", "turnout"]
    if checkpoints.empty:
        return pd.DataFrame(columns=columns)
    merged = checkpoints.merge(stations[["station_id", "registered"]], on="station_id")
    frame = (
        merged.groupby("time", sort=True)
        .agg(
            stations=("station_id", "count"),
            voters=("voters_cumulative", "sum"),
            registered=("registered", "sum"),
        )
        .reset_index()
    )
    frame["turnout"] = frame["voters"] / frame["registered"].where(frame["registered"] > 0)
    return frame[columns]
