"""Voter visits from slot crops: runs, dwell, people told apart by colour."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.carousel.visits import VisitRules, slot_runs, slot_visits

RED, BLUE = np.array([0.0, 0.0, 0.0]), np.array([5.0, 0.0, 0.0])  # kernel units


@pytest.mark.parametrize(
    ("times", "gap", "runs"),
    [
        ([], 1.0, []),
        ([1.0], 1.0, [(0, 1)]),
        ([1.0, 1.5, 2.0, 5.0, 5.5], 1.0, [(0, 3), (3, 5)]),
        ([1.0, 2.0, 3.0], 1.0, [(0, 3)]),  # a gap of exactly run_gap_s keeps the run
        ([1.0, 2.0, 3.0], 0.5, [(0, 1), (1, 2), (2, 3)]),
    ],
)
def test_slot_runs(times: list[float], gap: float, runs: list[tuple[int, int]]) -> None:
    assert slot_runs(np.array(times), gap) == runs


def _run(start: float, colours: list[np.ndarray], step: float = 0.5) -> tuple[list, list]:
    return [start + step * k for k in range(len(colours))], list(colours)


@pytest.mark.parametrize(
    ("people", "expected"),
    [
        ([RED] * 8, [(1.75, 8)]),  # one voter, 3.5 s at the slot
        ([RED] * 8 + [BLUE] * 8, [(1.75, 8), (5.75, 8)]),  # two voters one after another
        ([RED] * 4, []),  # 1.5 s: passing by, not voting
        ([RED] * 2 + [BLUE] * 6, [(1.75, 8)]),  # 2 crops of another: not split off
        ([RED + 0.3 * (k % 2) for k in range(8)], [(1.75, 8)]),  # noise does not split
    ],
)
def test_slot_visits(people: list[np.ndarray], expected: list[tuple[float, int]]) -> None:
    times, colours = _run(0.0, people)
    got = slot_visits(np.array(times), colours)
    assert [(t, len(idx)) for t, idx in got] == expected


def test_slot_visits_caps_people_by_dwell_and_skips_unusable_crops() -> None:
    colours = [RED, BLUE, RED + 10, BLUE + 10] * 2  # four colours in 3.5 s
    times, _ = _run(0.0, colours)
    rules = VisitRules(min_crops=1, per_person_s=2.0)
    assert len(slot_visits(np.array(times), colours, rules)) == 2  # 3.5 s: at most 2 people
    gappy = [RED, None, RED, None, RED, None, RED, None]
    got = slot_visits(np.array(times), gappy)
    assert [idx.tolist() for _, idx in got] == [[0, 2, 4, 6]]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"run_gap_s": 0}, "run_gap_s"),
        ({"min_dwell_s": -1}, "min_dwell_s"),
        ({"per_person_s": 0}, "per_person_s"),
        ({"alike": 1.0}, "alike"),
        ({"min_crops": 0}, "min_crops"),
        ({"window": 2}, "window"),
    ],
)
def test_visit_rules_checked(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        VisitRules(**kwargs)


@pytest.mark.parametrize(
    ("times", "colours", "message"),
    [
        ([0.0, 1.0], [RED], "one colour row per time"),
        ([1.0, 0.0], [RED, RED], "sorted"),
    ],
)
def test_slot_visits_bad_input(times: list[float], colours: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        slot_visits(np.array(times), colours)


def test_slot_visits_split_a_queue_of_three() -> None:
    green = np.array([0.0, 5.0, 0.0])
    times, colours = _run(0.0, [RED] * 8 + [BLUE] * 8 + [green] * 8)
    got = slot_visits(np.array(times), colours)
    assert [idx.tolist() for _, idx in got] == [
        list(range(0, 8)),
        list(range(8, 16)),
        list(range(16, 24)),
    ]
