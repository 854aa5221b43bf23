"""Checkpoint consistency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic_elections import CHECKPOINT_TIMES, add_stuffing, clean_election, turnout_checkpoints

from pollwatch.errors import InputError
from pollwatch.forensics import checkpoint_consistency


@pytest.fixture
def election(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    f = clean_election(rng, regions=5, stations_per_region=200)
    g, added = add_stuffing(f, rng, station_fraction=0.1, size=(0.2, 0.4))
    return g, turnout_checkpoints(g, rng, added), added


def test_clean_stations_are_calibrated(rng: np.random.Generator) -> None:
    # the late-surge p-value is a tail probability: ≈ 1 % of clean stations below 0.01
    f = clean_election(rng, regions=5, stations_per_region=400)
    r = checkpoint_consistency(turnout_checkpoints(f, rng), f)
    s = r.stations
    assert len(s) == 2000 and (s["checkpoints"] == 4).all()
    assert np.mean(s["late_pvalue"] < 0.01) < 0.02
    assert np.mean(s["round_pvalue"] < 0.01) < 0.02
    assert not (s["above_final"] | s["decreasing"]).any() and r.identical_groups == ()
    # reference: last digits of counts ≥ 10 are uniform, 10 % multiples of 10
    assert r.round_share == pytest.approx(0.1, abs=0.01) and r.round_pvalue > 0.001


def test_late_stuffing_is_a_late_surge(election) -> None:
    g, cp, added = election
    s = checkpoint_consistency(cp, g).stations.set_index("station_id")
    p = s.loc[g["station_id"], "late_pvalue"].to_numpy()
    assert np.mean(p[added > 0] < 0.001) > 0.9
    assert np.mean(p[added == 0] < 0.001) < 0.01


def test_impossible_identical_and_round(election) -> None:
    g, cp, _ = election
    cp = cp.copy()
    ids = g["station_id"].to_numpy()
    first = cp["station_id"] == ids[0]
    cp.loc[first, "voters_cumulative"] = cp.loc[first, "voters_cumulative"] + 5000  # > final
    second = (cp["station_id"] == ids[1]).to_numpy()
    cp.loc[second, "voters_cumulative"] = cp.loc[second, "voters_cumulative"].to_numpy()[::-1]
    # two stations with the same day: copy station 3's numbers onto station 4
    g = g.copy()
    g.loc[g["station_id"] == ids[4], ["ballots_issued", "registered"]] = g.loc[
        g["station_id"] == ids[3], ["ballots_issued", "registered"]
    ].to_numpy()
    cp.loc[cp["station_id"] == ids[4], "voters_cumulative"] = cp.loc[
        cp["station_id"] == ids[3], "voters_cumulative"
    ].to_numpy()
    # a station reporting only round increments
    fifth = cp["station_id"] == ids[5]
    cp.loc[fifth, "voters_cumulative"] = [100, 200, 300, 400]
    g.loc[g["station_id"] == ids[5], "ballots_issued"] = 500
    r = checkpoint_consistency(cp, g)
    s = r.stations.set_index("station_id")
    assert s.loc[ids[0], "above_final"] and s.loc[ids[0], "above_registered"]
    assert s.loc[ids[1], "decreasing"]
    assert (ids[3], ids[4]) in r.identical_groups
    assert s.loc[ids[5], "round_pvalue"] < 1e-4
    flagged = set(r.flagged(0.001)["station_id"])
    assert {ids[0], ids[1], ids[3], ids[4], ids[5]} <= flagged
    assert r.counts()["above_final"] >= 1


def test_bad_rows_are_excluded_with_their_line(election) -> None:
    g, cp, _ = election
    cp = cp.astype({"voters_cumulative": object, "time": object}).copy()
    cp.loc[0, "time"] = "noon"
    cp.loc[1, "voters_cumulative"] = "many"
    cp.loc[2, "voters_cumulative"] = -3
    cp.loc[3, "station_id"] = "nowhere"
    r = checkpoint_consistency(cp, g)
    assert [p.line for p in r.excluded] == [2, 3, 4, 5]
    assert "ISO 8601" in r.excluded[0].message and "unknown station" in r.excluded[3].message


def test_missing_columns() -> None:
    with pytest.raises(InputError, match="voters_cumulative"):
        checkpoint_consistency(
            pd.DataFrame({"station_id": ["a"], "time": [CHECKPOINT_TIMES[0]]}),
            pd.DataFrame({"station_id": ["a"], "ballots_issued": [1], "registered": [2]}),
        )
    with pytest.raises(ValueError, match="round_base"):
        checkpoint_consistency(pd.DataFrame(), pd.DataFrame(), round_base=1)
