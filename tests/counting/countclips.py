"""Hand-built camera plans for the counting tests (320×180, 10 fps): a crowded box and a
commission member loitering beside it. conftest.py renders them once per session."""

from __future__ import annotations

from datetime import UTC, datetime

from pollwatch.simulate.plan import Appearance, CameraPlan, Drop, Stop, Visit
from pollwatch.simulate.room import walk_time

START = datetime(2025, 3, 9, 7, 59, 50, tzinfo=UTC)
LOOKS = [
    Appearance(1.75, 1.0, (40, 40, 180), (50, 35, 25), (120, 150, 200), (20, 20, 25), 1.2, 1.8),
    Appearance(1.68, 1.1, (160, 80, 30), (30, 30, 30), (95, 130, 175), (30, 40, 60), 1.1, 1.7),
    Appearance(1.82, 0.9, (60, 140, 60), (110, 100, 90), (150, 180, 225), (60, 80, 110), 1.3, 1.9),
    Appearance(1.62, 1.2, (130, 50, 110), (60, 80, 100), (70, 100, 140), (20, 20, 25), 1.0, 1.6),
]


def voter(pid: str, look: Appearance, at_box: float, stay: float = 4.0) -> Visit:
    """Booth → box (the ballot goes in half-way through the stay) → exit."""
    walk_in = walk_time("booth1", "box", look.speed_m_s)
    out = at_box + stay + walk_time("box", "exit", look.speed_m_s)
    stops = (
        Stop("booth1", at_box - walk_in - 1.0, at_box - walk_in),
        Stop("box", at_box, at_box + stay),
        Stop("exit", out, out),
    )
    return Visit(pid, "voter", look, stops, (Drop(round(at_box + stay / 2, 3)),))


def loiterer(pid: str, look: Appearance, at: float, stay: float) -> Visit:
    """A commission member walks from the table to beside the box, stays, and goes back."""
    there = walk_time("commission1", "box_near", look.speed_m_s)
    stops = (
        Stop("commission1", 0.0, at - there),
        Stop("box_near", at, at + stay),
        Stop("commission1", at + stay + there, at + stay + there + 30.0),
    )
    return Visit(pid, "commission", look, stops)


def passer(pid: str, look: Appearance, at: float) -> Visit:
    a = at + walk_time("entrance", "pass_left", look.speed_m_s)
    b = a + walk_time("pass_left", "pass_right", look.speed_m_s)
    out = b + 1.0 + walk_time("pass_right", "exit", look.speed_m_s)
    stops = (
        Stop("entrance", at, at),
        Stop("pass_left", a, a),
        Stop("pass_right", b, b + 1.0),
        Stop("exit", out, out),
    )
    return Visit(pid, "passerby", look, stops)


def plan(camera_id: str, seconds: float, visits: tuple[Visit, ...]) -> CameraPlan:
    return CameraPlan(
        camera_id,
        "st-" + camera_id,
        START,
        seconds,
        visits,
        width=320,
        height=180,
        fps=10,
        seed=7,
        box_initial_ballots=3,
        box_capacity_ballots=20,
    )


# four voters, two of them at the box together (their ballots go in 1.5 s apart)
CROWDED = plan(
    "crowd",
    30.0,
    (
        voter("v1", LOOKS[0], 3.0),
        voter("v2", LOOKS[1], 4.5),
        voter("v3", LOOKS[2], 12.0),
        voter("v4", LOOKS[3], 19.0, stay=5.0),
    ),
)
# a commission member beside the box for 8 s, a passer-by in front of it, one voter
LOITER = plan(
    "loiter",
    30.0,
    (
        loiterer("c1", LOOKS[1], 4.0, 8.0),
        passer("p1", LOOKS[2], 9.0),
        voter("v1", LOOKS[0], 18.0),
    ),
)
