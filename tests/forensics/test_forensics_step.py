"""The forensics case step: outputs, findings, counts.csv → observations, settings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pollwatch.case import CasePaths
from pollwatch.counting.calibration import COUNTER_ERRORS
from pollwatch.counting.stats import CounterErrors
from pollwatch.errors import InputError
from pollwatch.forensics import STATION_SCORE_COLUMNS
from pollwatch.forensics.step import (
    COUNTS_COLUMNS,
    ForensicsSettings,
    forensics_step,
    observations_from_counts,
)
from pollwatch.ingest import ingest_case
from pollwatch.pipeline import CASE_STEPS
from pollwatch.store import Store

FAST = ForensicsSettings(n_mc=50, n_boot=5)
# the documented top-level keys of out/forensics.json (docs/forensics.md)
JSON_KEYS = {
    "source",
    "stations",
    "registered",
    "ballots_issued",
    "ballots_cast",
    "winner",
    "winner_votes",
    "candidates",
    "turnout",
    "winner_share",
    "fingerprint",
    "integer_peaks",
    "shpilkin",
    "klimek",
    "digits",
    "distribution",
    "sobyanin_sukhovolsky",
    "turnout_share_correlation",
    "checkpoints",
    "anomaly_score",
    "extrapolation",
    "skipped",
    "seed",
    "elapsed_s",
}
DAY = ("2024-02-07T08:00:00+04:00", "2024-02-07T14:00:00+04:00", "2024-02-07T20:00:00+04:00")


def _counts(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(COUNTS_COLUMNS))


def _two_intervals(cam: str, station: str, seen: tuple[int, int], second_ok: bool = True):
    a, b = seen
    return [
        (cam, station, DAY[0], DAY[1], a, a - 2, a + 3, a + 10, "true"),
        (cam, station, DAY[1], DAY[2], b, b - 2, b + 3, b + 10, "true" if second_ok else "false"),
    ]


def _run(case: CasePaths, settings: ForensicsSettings = FAST):
    ingest_case(case.root)
    with Store(case.db_path) as store:
        report = forensics_step(case, store, settings=settings)
        return report, store.findings(), store.read_table("forensics", "stations")


def test_step_is_registered_after_the_other_case_steps() -> None:
    assert "forensics" in CASE_STEPS.names()
    assert CASE_STEPS.names()[-1] == "forensics"


def test_step_writes_documented_outputs_and_findings(small_case: CasePaths) -> None:
    _, findings, stations = _run(small_case)
    data = json.loads(small_case.out("forensics.json").read_text())
    assert set(data) == JSON_KEYS
    assert data["stations"] == 4 and data["extrapolation"] is None
    assert data["checkpoints"]["stations"] == 4  # turnout.csv was read from the store
    scores = pd.read_csv(small_case.out("station_scores.csv"), dtype={"station_id": str})
    assert tuple(scores.columns) == STATION_SCORE_COLUMNS
    assert scores["station_id"].tolist() == ["S1", "S2", "S3", "S4"]
    assert stations["station_id"].tolist() == ["S1", "S2", "S3", "S4"]
    assert stations["turnout"].iloc[0] == pytest.approx(610 / 1000)
    anomalies = findings[findings["kind"] == "forensic_anomaly"]
    # exactly the stations whose score reaches the threshold, each with its evidence
    expected = sorted(scores.loc[scores["anomaly_score"] >= 3, "station_id"])
    assert sorted(anomalies["station_id"]) == expected
    for row in anomalies.itertuples():
        evidence = json.loads(row.evidence)
        assert row.score >= 3 and evidence["tests"] and row.p_value == evidence["p_value"]
        assert "driven by" in row.summary
    assert set(findings["kind"]) <= {"forensic_anomaly", "checkpoint_anomaly"}
    assert (findings["analyser"] == "forensics").all()


def test_a_higher_threshold_flags_fewer_stations(small_case: CasePaths) -> None:
    _, low, _ = _run(small_case, ForensicsSettings(n_mc=50, n_boot=5, min_score=1.0))
    _, high, _ = _run(small_case, ForensicsSettings(n_mc=50, n_boot=5, min_score=15.0))
    assert (low["kind"] == "forensic_anomaly").sum() == 4
    assert (high["kind"] == "forensic_anomaly").sum() == 0


def test_counts_csv_feeds_the_extrapolation(small_case: CasePaths) -> None:
    counts = _counts(
        _two_intervals("C1", "S1", (200, 300)) + _two_intervals("C2", "S2", (250, 245))
    )
    counts.to_csv(small_case.out("counts.csv"), index=False)
    _run(small_case)
    data = json.loads(small_case.out("forensics.json").read_text())
    extra = data["extrapolation"]
    assert extra is not None and extra["measured_stations"] == 2
    scores = pd.read_csv(small_case.out("station_scores.csv"), dtype={"station_id": str})
    s = scores.set_index("station_id")
    assert s.loc["S1", "observed_by_camera"] and s.loc["S2", "observed_by_camera"]
    # issued − seen, the count corrected for the counter's mean bias (COUNTER_ERRORS)
    detected = 1 - COUNTER_ERRORS.miss_rate + COUNTER_ERRORS.false_rate
    assert s.loc["S1", "est_inflated"] == pytest.approx(610 - 500 / detected)
    assert s.loc["S2", "est_inflated"] == pytest.approx(505 - 495 / detected)
    assert not s.loc["S3", "observed_by_camera"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # fully observable: observed and bounds summed over the intervals
        (
            _two_intervals("C1", "S1", (10, 20)),
            {"observed": 30, "lower": 26, "upper": 36, "share": 1.0},
        ),
        # second half unobservable: bounds only; upper adds the official increment (20 + 10)
        (
            _two_intervals("C1", "S1", (10, 20), second_ok=False),
            {"observed": np.nan, "lower": 8, "upper": 43, "share": 0.5},
        ),
        # two cameras at one station: the one observable longest is kept
        (
            _two_intervals("C1", "S1", (10, 20), second_ok=False)
            + _two_intervals("C9", "S1", (11, 21)),
            {"observed": 32, "lower": 28, "upper": 38, "share": 1.0},
        ),
    ],
)
def test_observations_from_counts(rows: list[tuple], expected: dict[str, float]) -> None:
    obs = observations_from_counts(_counts(rows))
    assert len(obs) == 1 and obs["station_id"].iloc[0] == "S1"
    r = obs.iloc[0]
    np.testing.assert_equal(r["observed"], expected["observed"])
    assert r["observed_lower"] == expected["lower"]
    assert r["observed_upper"] == expected["upper"]
    assert r["observable_share"] == pytest.approx(expected["share"])


@pytest.mark.parametrize(
    ("miss", "false", "observed"),
    [(0.0, 0.0, 30.0), (0.2, 0.0, 37.5), (0.1, 0.1, 30.0), (0.151, 0.129, 30 / 0.978)],
)
def test_observations_are_corrected_for_the_counters_bias(
    miss: float, false: float, observed: float
) -> None:
    # E[counted] = (1 − miss + false) × true ballots (pollwatch.counting.stats): the
    # observed voters are counted / (1 − miss + false); bounds are the counter's own
    errors = CounterErrors(miss_rate=miss, false_rate=false)
    obs = observations_from_counts(_counts(_two_intervals("C1", "S1", (10, 20))), errors=errors)
    assert obs["observed"].iloc[0] == pytest.approx(observed)
    assert obs["observed_lower"].iloc[0] == 26 and obs["observed_upper"].iloc[0] == 36


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("counted", "many", "line 3, column 'counted'"),
        ("lower", -1, "line 3, column 'lower'"),
        ("interval_end", "noon", "line 3, column 'interval_end'"),
        ("observable", "maybe", "line 3, column 'observable'"),
        ("interval_end", DAY[0], "line 3"),  # ends before it starts
    ],
)
def test_bad_counts_rows_are_named(column: str, value: object, message: str) -> None:
    frame = _counts(_two_intervals("C1", "S1", (10, 20)))
    frame[column] = frame[column].astype(object)
    frame.loc[1, column] = value
    with pytest.raises(InputError, match=message):
        observations_from_counts(frame, file="counts.csv")


def test_counts_without_a_column_are_refused() -> None:
    frame = _counts(_two_intervals("C1", "S1", (10, 20))).drop(columns="observable")
    with pytest.raises(InputError, match="column 'observable'"):
        observations_from_counts(frame)


@pytest.mark.parametrize(
    "kwargs",
    [{"n_mc": 0}, {"n_boot": 0}, {"min_score": 0}, {"checkpoint_alpha": 1.5}],
)
def test_bad_settings_are_refused(kwargs: dict[str, float]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        ForensicsSettings(**kwargs)
