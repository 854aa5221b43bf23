"""The "case" metric block: what the store holds against what the simulator made, and the
fraud injected (for the later detector blocks to be read against)."""

from __future__ import annotations

from typing import Any

from pollwatch.case import CasePaths
from pollwatch.evaluate.registry import METRICS
from pollwatch.evaluate.truthview import case_truth
from pollwatch.store import Store

__all__ = ["case_block", "compare_ids"]


def compare_ids(stored: set[str], true: set[str]) -> dict[str, int]:
    """Counts of ids in the store, in the truth, and those in only one of them."""
    return {
        "store": len(stored),
        "truth": len(true),
        "missing": len(true - stored),
        "unexpected": len(stored - true),
    }


@METRICS.registering("case", order=0)
def case_block(paths: CasePaths, truth: Any) -> dict[str, Any]:
    """Stations and cameras stored vs simulated; fraud injected per kind (stations, votes)."""
    t = case_truth(truth)
    with Store.existing(paths.db_path) as store:
        stations = set(store.stations()["station_id"])
        cameras = set(store.cameras()["camera_id"])
    fraud = t.fraud[t.fraud["votes"] > 0]
    by_kind = fraud.groupby("kind", sort=True).agg(
        stations=("station_id", "nunique"), votes=("votes", "sum")
    )
    return {
        "stations": compare_ids(stations, set(t.station_ids)),
        "cameras": compare_ids(cameras, set(t.camera_ids)),
        "fraud": {
            "stations": int(fraud["station_id"].nunique()),
            "votes_added": int(fraud["votes"].sum()),
            "by_kind": {
                str(kind): {"stations": int(row.stations), "votes_added": int(row.votes)}
                for kind, row in by_kind.iterrows()
            },
        },
    }
