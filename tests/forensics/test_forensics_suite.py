"""The whole suite: run_forensics, the JSON report, station_scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
from synthetic_elections import add_stuffing, camera_counts, clean_election, turnout_checkpoints

from pollwatch.errors import InputError
from pollwatch.forensics import STATION_SCORE_COLUMNS, run_forensics, station_scores

REQUIRED_KEYS = [
    ("stations",),
    ("turnout",),
    ("winner_share",),
    ("integer_peaks", "excess"),
    ("integer_peaks", "null_q999"),
    ("integer_peaks", "p_value"),
    ("shpilkin", "anomalous_votes"),
    ("klimek", "f_i"),
    ("klimek", "f_e"),
]


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(21)
    f = clean_election(rng, regions=10, stations_per_region=100, station_sd=0.25)
    f, added = add_stuffing(f, rng, station_fraction=0.2, region_fraction=0.5)
    checkpoints = turnout_checkpoints(f, rng, added)
    cameras = camera_counts(f, added, rng, fraction=0.2)
    regions = f[["station_id", "region"]]
    results = f.drop(columns=["region"])
    results.loc[5, "ballots_issued"] = -1  # malformed: excluded and reported
    report = run_forensics(
        results,
        regions=regions,
        checkpoints=checkpoints,
        observations=cameras,
        n_mc=100,
        n_boot=10,
        seed=3,
    )
    return report, added


def test_json_has_the_documented_keys(case) -> None:
    report, _ = case
    d = json.loads(report.to_json())
    for path in REQUIRED_KEYS:
        value = d
        for key in path:
            value = value[key]
        assert isinstance(value, int | float), path
    assert d["stations"] == 999 and d["source"]["excluded_rows"] == 1
    assert "line 7" in d["source"]["excluded"][0]
    assert d["winner"] == "Avery" and 0 < d["turnout"] < 1
    assert d["checkpoints"]["stations"] == 999
    assert d["extrapolation"]["ci"][0] <= d["extrapolation"]["inflated_ballots"]
    assert d["skipped"] == {}
    assert "blind" in d["digits"]["caveat"]


def test_regions_come_from_the_stations_table(case) -> None:
    report, _ = case
    assert set(report.stations.region) == {f"R{i:02d}" for i in range(10)}
    assert len(report.shpilkin.regions) == 10


def test_station_scores(case) -> None:
    report, added = case
    s = station_scores(report)
    assert tuple(s.columns) == STATION_SCORE_COLUMNS and len(s) == 999
    assert s["observed_by_camera"].dtype == bool and s["observed_by_camera"].sum() > 100
    assert s["est_inflated"].notna().all()
    hit = np.delete(added, 5) > 0  # row 5 was excluded
    assert s["anomaly_score"][hit].mean() > 2 * s["anomaly_score"][~hit].mean()


def test_summary_mentions_each_test(case) -> None:
    text = case[0].summary()
    for word in ("integer percentages", "Shpilkin", "Klimek", "Benford", "anomaly score"):
        assert word in text


def test_small_election_skips_what_cannot_run() -> None:
    f = clean_election(np.random.default_rng(2), regions=1, stations_per_region=30)
    report = run_forensics(f, n_mc=20, n_boot=0)
    assert "klimek" in report.skipped and report.klimek is None
    assert "shpilkin" in report.skipped
    d = report.to_dict()
    assert d["klimek"] is None and d["integer_peaks"]["n_mc"] == 20
    s = station_scores(report)
    assert s["est_inflated"].isna().all() and not s["observed_by_camera"].any()


def test_errors() -> None:
    f = clean_election(np.random.default_rng(3), regions=1, stations_per_region=30)
    with pytest.raises(InputError, match="ballots_issued"):
        run_forensics(f.drop(columns=["ballots_issued"]))
    bad = f.assign(registered=-1)
    with pytest.raises(InputError, match="no usable station"):
        run_forensics(bad)
    with pytest.raises(InputError, match="station_id and region"):
        run_forensics(f, regions=f[["station_id"]])
