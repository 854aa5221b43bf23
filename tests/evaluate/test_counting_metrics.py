"""Station-level inflation scoring of the "counting" metric block."""

from __future__ import annotations

import pandas as pd
import pytest

from pollwatch.evaluate.counting_metrics import station_table


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
