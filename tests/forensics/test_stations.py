"""The `Stations` container."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwatch.forensics import Stations


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "station_id": ["a", "b", "c"],
            "region": ["north", "north", "south"],
            "registered": [1000, 800, 0],
            "ballots_issued": [600, 400, 0],
            "ballots_cast": [598, 400, 0],
            "invalid": [8, 0, 0],
            "Ann": [300, 100, 0],
            "Bob": [290, 300, 0],
        }
    )


def test_derived_quantities_by_hand() -> None:
    st = Stations.from_frame(_frame())
    # Bob has 590 votes against Ann's 400: Bob wins
    assert st.winner_name == "Bob"
    assert st.candidates == ("Ann", "Bob")
    np.testing.assert_allclose(st.turnout, [0.6, 0.5, np.nan])
    np.testing.assert_allclose(st.winner_share, [290 / 598, 300 / 400, np.nan])
    np.testing.assert_array_equal(st.other_votes, [300, 100, 0])
    assert st.national_turnout() == pytest.approx(1000 / 1800)
    assert st.national_winner_share() == pytest.approx(590 / 998)


def test_explicit_winner_and_masks() -> None:
    st = Stations.from_frame(_frame(), winner="Ann")
    assert st.winner_name == "Ann"
    sub = st[np.array([True, False, True])]
    assert list(sub.station_id) == ["a", "c"] and sub.winner_name == "Ann"
    with pytest.raises(ValueError, match="boolean mask"):
        st[np.array([0, 1])]


def test_arrays_are_read_only() -> None:
    st = Stations.from_frame(_frame())
    with pytest.raises(ValueError):
        st.registered[0] = 5


def test_cast_defaults_to_votes_plus_invalid() -> None:
    st = Stations.from_frame(_frame().drop(columns=["ballots_cast"]))
    np.testing.assert_array_equal(st.ballots_cast, [598, 400, 0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"registered": np.array([1, 2])}, "registered"),
        ({"ballots_issued": np.array([1, -2, 3])}, "ballots_issued"),
        ({"votes": np.ones((3, 3))}, "candidates"),
        ({"votes": -np.ones((3, 2))}, "votes"),
        ({"winner": 5}, "winner"),
        ({"region": np.array(["x"])}, "region"),
    ],
)
def test_bad_fields(change: dict, message: str) -> None:
    base = {
        "station_id": np.array(["a", "b", "c"]),
        "region": np.array(["r", "r", "r"]),
        "registered": np.array([10, 10, 10]),
        "ballots_issued": np.array([5, 5, 5]),
        "ballots_cast": np.array([5, 5, 5]),
        "invalid": np.array([0, 0, 0]),
        "votes": np.array([[3, 2], [3, 2], [3, 2]]),
        "candidates": ("x", "y"),
    }
    with pytest.raises(ValueError, match=message):
        Stations(**{**base, **change})


def test_missing_columns() -> None:
    with pytest.raises(ValueError, match="registered"):
        Stations.from_frame(_frame().drop(columns=["registered"]))
