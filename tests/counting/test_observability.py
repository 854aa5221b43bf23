"""When the box could be watched: ranges merged, shares, reasons, plug-in ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pollwatch.counting.observability import Observability, ranges_from_wall
from pollwatch.video.frame import Gap

START = datetime(2025, 3, 9, 8, 0, tzinfo=UTC)


def test_ranges_merge_and_shares() -> None:
    obs = Observability(0.0, 100.0, ((10, 20, "outage video"), (15, 30, "too dark"), (50, 50, "x")))
    assert obs.unobservable == ((10.0, 30.0, "outage video; too dark"),)
    assert obs.observed_s(0, 100) == 80.0
    assert obs.observed_share(0, 40) == pytest.approx(0.5)
    assert obs.observed_share(90, 120) == pytest.approx(1 / 3)  # after the recording: blind
    assert obs.reasons(25, 110) == ["not recorded", "outage video", "too dark"]
    assert obs.observable_at(5) and not obs.observable_at(12) and not obs.observable_at(101)


def test_from_gaps_and_plug_in_ranges() -> None:
    gaps = [Gap(40.0, 45.0, "outage", "r"), Gap(80.0, None, "truncated", "r")]
    obs = Observability.from_gaps(gaps, 0.0, 100.0)
    assert obs.unobservable == ((40.0, 45.0, "outage video"), (80.0, 100.0, "truncated video"))
    audit = ranges_from_wall(
        [(START + timedelta(seconds=5), START + timedelta(seconds=8), "camera turned")], START
    )
    both = obs.with_ranges(audit)
    assert both.unobservable[0] == (5.0, 8.0, "camera turned")
    assert Observability.from_frame(both.to_frame(), 0.0, 100.0) == both


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Observability(10.0, 5.0), "must not be before"),
        (lambda: ranges_from_wall([(datetime(2025, 1, 1), START, "x")], START), "UTC offset"),
    ],
)
def test_bad_input(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
