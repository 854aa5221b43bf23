"""The plan's own helpers: a camera's visits repeated to fill a longer clip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pollwatch.simulate.election import simulate_election
from pollwatch.simulate.people import sample_appearance
from pollwatch.simulate.plan import CameraPlan, Drop, Stop, Visit, repeat_visits
from pollwatch.simulate.presets import get_preset
from pollwatch.simulate.schedule import build_schedule
from pollwatch.simulate.streams import stream


def _plan(visits: tuple[Visit, ...], duration_s: float = 100.0) -> CameraPlan:
    return CameraPlan("cam", "st", datetime(2025, 3, 9, tzinfo=UTC), duration_s, visits)


def _voter(pid: str, enter: float, drop: float, group: str | None = None) -> Visit:
    look = sample_appearance(stream(0, "test", pid))
    stops = (Stop("entrance", enter, enter), Stop("box", drop - 2.0, drop + 2.0))
    stops += (Stop("exit", drop + 5.0, drop + 5.0),)
    return Visit(pid, "voter", look, stops, (Drop(drop),), group)


def test_copies_are_shifted_by_whole_periods_and_end_with_the_clip() -> None:
    a, b = _voter("a", 10.0, 20.0, "fam"), _voter("b", 60.0, 92.0)
    out = repeat_visits(_plan((a, b)), 100.0, 250.0)
    assert out.duration_s == 250.0
    by_id = {v.person_id: v for v in out.visits}
    # b~2 would enter at 260 s, past the clip's end; a~2 enters at 210 s and drops at 220 s
    assert sorted(by_id) == ["a", "a~1", "a~2", "b", "b~1"]
    assert by_id["a"] is a and by_id["b"] is b
    for pid, k in [("a~1", 1), ("a~2", 2), ("b~1", 1)]:
        copy, orig = by_id[pid], by_id[pid.split("~")[0]]
        assert [(s.place, s.arrive_s - 100.0 * k, s.leave_s - 100.0 * k) for s in copy.stops] == [
            (s.place, s.arrive_s, s.leave_s) for s in orig.stops
        ]
        assert [d.t_s - 100.0 * k for d in copy.drops] == [d.t_s for d in orig.drops]
    assert by_id["a~2"].group_id == "fam~2" and by_id["b~1"].group_id is None


def test_a_copy_keeps_only_the_drops_before_the_end() -> None:
    out = repeat_visits(_plan((_voter("a", 10.0, 95.0),)), 100.0, 194.0)
    (copy,) = [v for v in out.visits if v.person_id == "a~1"]
    assert copy.enter_s == 110.0 and copy.drops == ()  # its drop would be at 195 s


def test_the_demo_day_repeated_over_an_hour() -> None:
    election = simulate_election(get_preset("demo"), 1)
    plan = build_schedule(election, int(election.priority[0])).plan
    day = plan.duration_s
    out = repeat_visits(plan, day, 3600.0)
    copies = 3600.0 / day
    assert len(out.visits) == sum(int(copies) + (v.enter_s + int(copies) * day < 3600.0)
                                  for v in plan.visits)  # fmt: skip
    assert max(v.enter_s for v in out.visits) < 3600.0
    assert max(d.t_s for v in out.visits for d in v.drops) < 3600.0
    drops = [d.t_s for v in out.visits for d in v.drops]
    assert len(drops) > 9 * len([d for v in plan.visits for d in v.drops])
    assert len({v.person_id for v in out.visits}) == len(out.visits)
    # up to the day's length only the duration changes
    assert repeat_visits(plan, day, 120.0).visits == plan.visits


@pytest.mark.parametrize(
    ("period", "duration", "match"),
    [(0.0, 10.0, "period_s"), (50.0, 0.0, "duration_s"), (20.0, 100.0, "still in the room")],
)
def test_bad_arguments(period: float, duration: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        repeat_visits(_plan((_voter("a", 10.0, 20.0),)), period, duration)
