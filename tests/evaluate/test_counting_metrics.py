"""Station-level inflation scoring of the "counting" metric block."""

from __future__ import annotations

import pandas as pd
import pytest

from pollwatch.evaluate.counting_metrics import (
    MIN_SCORED_BALLOTS,
    count_error_summary,
    inflation_scores,
    station_table,
)


@pytest.mark.parametrize(
    ("inflated", "observable", "inc", "seen", "clean"),
    [
        ([True, False], [True, True], [2, 0], True, False),  # inflated while watched
        ([True, False], [False, True], [2, 0], False, False),  # only while not watched
        ([False, False], [True, False], [1, 0], False, False),  # inflated, under 10%
        ([False, False], [False, False], [0, 0], False, True),  # clean
    ],
)
def test_a_station_is_inflated_where_an_inflated_interval_was_watched(
    inflated: list[bool], observable: list[bool], inc: list[int], seen: bool, clean: bool
) -> None:
    frame = pd.DataFrame(
        {
            "station_id": ["S1", "S1"],
            "inflated": inflated,
            "observable": observable,
            "inflation_inc": inc,
        }
    )
    row = station_table(frame).loc["S1"]
    assert bool(row["seen_inflated"]) is seen and bool(row["clean"]) is clean
    assert bool(row["inflated"]) is any(inflated)


def test_station_table_needs_its_columns() -> None:
    with pytest.raises(KeyError):
        station_table(pd.DataFrame({"station_id": ["S1"]}))


def _camera(true: int, found: int) -> dict:
    return {
        "true_ballots": true,
        "detected_ballots": found,
        "abs_pct_error": abs(found - true) / true if true else None,
    }


@pytest.mark.parametrize(
    ("cameras", "median", "p90", "scored", "few"),
    [
        # every camera with enough ballots enters the percentiles
        ([(20, 20), (20, 21), (10, 8)], 0.05, 0.17, 3, (0, 0, 0)),
        # a camera that saw one ballot (turned away after a minute) is summed apart
        ([(20, 20), (20, 21), (1, 0)], 0.025, 0.045, 2, (1, 1, 0)),
        # the threshold itself is scored
        ([(MIN_SCORED_BALLOTS, MIN_SCORED_BALLOTS + 1)], 0.2, 0.2, 1, (0, 0, 0)),
        # a camera with no true ballot has no relative error and is neither
        ([(0, 2), (3, 3)], None, None, 0, (1, 3, 3)),
    ],
)
def test_count_errors_are_read_on_cameras_with_enough_ballots(
    cameras: list[tuple[int, int]],
    median: float | None,
    p90: float | None,
    scored: int,
    few: tuple[int, int, int],
) -> None:
    got = count_error_summary({f"c{k}": _camera(t, f) for k, (t, f) in enumerate(cameras)})
    if median is None:
        assert got["median_abs_pct_error"] is None and got["p90_abs_pct_error"] is None
    else:
        assert got["median_abs_pct_error"] == pytest.approx(median)
        assert got["p90_abs_pct_error"] == pytest.approx(p90)
    assert got["cameras_scored"] == scored
    assert tuple(got["few_ballot_cameras"].values()) == few


def test_inflated_stations_are_banded_by_the_ballots_added_while_watched() -> None:
    frame = pd.DataFrame(
        {
            "station_id": ["S1", "S1", "S2", "S3", "S3", "S4"],
            "inflated": [True, True, True, True, True, False],
            "observable": [True, False, True, True, True, True],
            "inflation_inc": [1, 6, 2, 3, 4, 0],
            "clean": [False] * 5 + [True],
            "flagged": [False] * 6,
            "station_flagged": [False, False, True, True, True, False],
        }
    )
    scores = inflation_scores(frame)
    bands = scores["inflated_stations_by_seen_ballots"]
    # S1's six ballots fell while the camera could not watch: it counts one
    assert bands["1"] == {"stations": 1, "flagged": 0}
    assert bands["2"] == {"stations": 1, "flagged": 1}
    assert bands["5-9"] == {"stations": 1, "flagged": 1}
    assert bands["3-4"]["stations"] == bands["10+"]["stations"] == 0
    assert sum(b["stations"] for b in bands.values()) == scores["inflated_stations"] == 3
