"""Counts per checkpoint interval against the official increments; inflation findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from pollwatch.counting.observability import Observability
from pollwatch.counting.stats import CounterErrors, inflation_test
from pollwatch.counting.turnout import (
    ALPHA,
    DAY_ALPHA,
    checkpoint_intervals,
    count_intervals,
    inflation_findings,
    interval_errors,
    official_increments,
)
from pollwatch.store import Election

OPEN = datetime(2025, 3, 9, 8, 0, tzinfo=UTC)
ELECTION = Election(
    name="test",
    polls_open=OPEN,
    polls_close=OPEN + timedelta(seconds=300),
    checkpoints=tuple(OPEN + timedelta(seconds=s) for s in (100, 200, 300)),
    candidates=("a", "b"),
)
START = OPEN - timedelta(seconds=10)  # the recording starts 10 s before the polls open
ERRORS = CounterErrors(0.02, 0.02)


def drops(video_seconds: list[float], evidence: str = "burst+fill") -> pd.DataFrame:
    return pd.DataFrame(
        {"t_s": video_seconds, "ballots": [1] * len(video_seconds), "evidence": evidence}
    )


def counts(
    seen: list[float], official: list[int | None], obs: Observability, **options: object
) -> pd.DataFrame:
    return count_intervals(
        drops(seen),
        obs,
        camera_id="c1",
        station_id="s1",
        start_time=START,
        election=ELECTION,
        official=official,
        **{"errors": ERRORS, **options},  # type: ignore[arg-type]
    )


def every(n: int, a: float, b: float) -> list[float]:
    return list(np.linspace(a + 1, b - 1, n))


FULL = Observability(0.0, 330.0)


def test_intervals_and_official_increments() -> None:
    ivs = checkpoint_intervals(ELECTION)
    assert [(i.index, (i.end - i.start).seconds) for i in ivs] == [(1, 100), (2, 100), (3, 100)]
    cps = pd.DataFrame(
        {
            "station_id": ["s1"] * 3 + ["s2"],
            "time": [*ELECTION.checkpoints, ELECTION.checkpoints[0]],
            "voters_cumulative": [5, 12, 20, 3],
        }
    )
    assert official_increments(cps, "s1", ivs) == [5, 7, 8]
    assert official_increments(cps, "s2", ivs) == [3, None, None]


def test_an_honest_station_is_not_flagged() -> None:
    seen = every(10, 10, 110) + every(12, 110, 210) + every(15, 210, 310)
    c = counts(seen, [10, 12, 15], FULL)
    assert c["counted"].tolist() == [10, 12, 15] and c["observable"].all()
    assert (c["lower"] <= c["counted"]).all() and (c["upper"] >= c["counted"]).all()
    assert inflation_findings(c, ERRORS) == []


def test_inflation_is_flagged_per_interval_and_for_the_day() -> None:
    seen = every(10, 10, 110) + every(12, 110, 210) + every(15, 210, 310)
    c = counts(seen, [10, 12, 25], FULL)
    found = inflation_findings(c, ERRORS)
    assert {f.kind for f in found} == {"turnout_inflation"}
    interval = [f for f in found if f.evidence.get("interval") == 3]
    assert len(interval) == 1 and interval[0].t_start == ELECTION.checkpoints[1]
    assert interval[0].p_value < 0.01 and interval[0].score >= 5
    assert any("intervals" in f.evidence for f in found)  # the whole observable day


@pytest.mark.parametrize(
    ("miss", "official", "interval_p", "day_p"),
    [
        # the last interval at p 0.0074: under 0.01, not under ALPHA; the day at p 0.026
        (0.04, [10, 12, 20], (0.005, 0.01), (DAY_ALPHA, 0.03)),
        # one more in the second interval: the day at 0.007
        (0.04, [10, 13, 20], (0.005, 0.01), (0.005, 0.01)),
        # the day at p 0.015, between 0.01 and DAY_ALPHA: the station's finding alone
        (0.035, [10, 13, 19], (0.02, 0.03), (0.01, DAY_ALPHA)),
    ],
)
def test_intervals_are_flagged_at_alpha_and_the_day_at_day_alpha(
    miss: float,
    official: list[int],
    interval_p: tuple[float, float],
    day_p: tuple[float, float],
) -> None:
    errors = CounterErrors(miss, miss)
    seen = every(10, 10, 110) + every(12, 110, 210) + every(15, 210, 310)
    c = counts(seen, official, FULL, errors=errors)
    assert interval_p[0] < c["p_value"].min() < interval_p[1]
    found = inflation_findings(c, errors)
    assert not [f for f in found if "interval" in f.evidence]  # none under ALPHA
    day = [f for f in found if "intervals" in f.evidence]
    if day_p[1] <= DAY_ALPHA:
        assert len(day) == 1 and day_p[0] < day[0].p_value < day_p[1]
    else:
        assert day == []
    assert ALPHA < 0.01 < DAY_ALPHA


def test_a_blind_interval_is_not_observable_and_never_tested() -> None:
    seen = every(10, 10, 110) + every(15, 210, 310)  # nothing seen in the outage
    obs = Observability(0.0, 330.0, ((110.0, 210.0, "outage video"),))
    c = counts(seen, [10, 12, 15], obs)
    assert c["observable"].tolist() == [True, False, True]
    assert np.isnan(c.loc[1, "p_value"]) and np.isnan(c.loc[1, "upper"])
    assert inflation_findings(c, ERRORS) == []


def test_voters_in_line_at_the_close_count_in_the_last_interval() -> None:
    c = counts([315.0, 320.0], [0, 0, 2], Observability(0.0, 330.0))
    assert c["counted"].tolist() == [0, 0, 2]


def test_drops_near_an_edge_are_taken_the_way_least_favourable_to_a_finding() -> None:
    # 10 official in interval 1, 9 seen inside it and one 0.5 s after its end
    seen = [*every(9, 10, 100), 110.5]
    c = counts(seen, [10, 1, 0], FULL)
    assert c.loc[0, "counted"] == 9 and c.loc[0, "extra"] == 1
    assert c.loc[0, "p_value"] == 1.0


def test_the_day_counts_a_drop_near_an_inner_edge_once() -> None:
    # 30 official over the day, 27 seen, one of them 0.5 s after the first checkpoint: it
    # widens interval 1's count, but the day's count only once (inside interval 2): 27
    # against 30 is significant at a 1% miss rate, 28 would not be
    errors = CounterErrors(0.01, 0.0)
    seen = [*every(9, 15, 105), 110.5, *every(8, 115, 205), *every(9, 215, 305)]
    c = counts(seen, [10, 10, 10], FULL, errors=errors)
    assert c["counted"].tolist() == [9, 9, 9] and c["extra"].tolist() == [1, 0, 0]
    day = [f for f in inflation_findings(c, errors) if "intervals" in f.evidence]
    assert len(day) == 1 and day[0].evidence["counted"] == 27
    assert day[0].p_value == pytest.approx(inflation_test(30, 27, errors).pvalue)
    assert not inflation_test(30, 28, errors).significant


@pytest.mark.parametrize(
    ("rough_ranges", "rough_rows"),
    [
        ((), [False, False, False]),
        (((120.0, 200.0, "box out of focus"),), [False, True, False]),
        (((0.0, 330.0, "no ballot slot seen"),), [True, True, True]),
    ],
)
def test_rough_time_is_tested_with_the_rough_rates(rough_ranges, rough_rows) -> None:
    seen = every(10, 15, 105) + every(6, 115, 205) + every(15, 215, 305)
    rough_errors = CounterErrors(0.5, 0.3)
    rough = Observability(0.0, 330.0, rough_ranges)
    c = counts(seen, [10, 12, 15], FULL, rough=rough, rough_errors=rough_errors)
    assert c["rough"].tolist() == rough_rows
    used = rough_errors if rough_rows[1] else ERRORS
    assert c.loc[1, "p_value"] == pytest.approx(inflation_test(12, 6, used).pvalue)
    found = inflation_findings(c, ERRORS, rough_errors=rough_errors)
    assert any(f.evidence.get("interval") == 2 for f in found) is (not rough_rows[1])


def test_unwatched_time_in_an_observable_interval_is_missed_ballots() -> None:
    # interval 2 watched for 99% of its time: its test takes 1% of the ballots as unseen
    obs = Observability(0.0, 330.0, ((150.0, 151.0, "outage video"),))
    seen = every(10, 15, 105) + every(10, 115, 205) + every(15, 215, 305)
    c = counts(seen, [10, 12, 15], obs)
    assert c["observable"].all() and c.loc[1, "observed_share"] == pytest.approx(0.99)
    thinned = ERRORS.thinned(0.99)
    assert c.loc[1, "p_value"] == pytest.approx(inflation_test(12, 10, thinned).pvalue)
    assert c.loc[1, "p_value"] > inflation_test(12, 10, ERRORS).pvalue


ROUGH = CounterErrors(0.4, 0.2)


@pytest.mark.parametrize(
    ("rough", "share", "want"),
    [
        (False, 1.0, ERRORS),  # clear and fully watched: the rates as measured
        (True, 1.0, ROUGH),  # rough: the rates measured on rough time
        (False, 0.5, ERRORS.thinned(0.5)),  # half unwatched: half the ballots went in unseen
        (True, 0.9, ROUGH.thinned(0.9)),
        (False, 0.0, ERRORS),  # nothing watched: nothing to thin by (never tested)
        (False, 1.2, ERRORS),  # a share over 1 (rounding) counts as fully watched
    ],
)
def test_interval_errors(rough: bool, share: float, want: CounterErrors) -> None:
    got = interval_errors(ERRORS, ROUGH, rough=rough, observed_share=share)
    assert got.miss_rate == pytest.approx(want.miss_rate)
    assert (got.false_rate, got.false_rate_low) == (want.false_rate, want.false_rate_low)


def test_interval_errors_without_rough_rates_keep_the_clear_ones() -> None:
    got = interval_errors(ERRORS, None, rough=True, observed_share=1.0)
    assert got.miss_rate == pytest.approx(ERRORS.miss_rate)
    assert got.false_rate == ERRORS.false_rate


def test_official_count_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="intervals"):
        counts([], [1, 2], FULL)
