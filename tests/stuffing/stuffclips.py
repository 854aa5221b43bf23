"""Hand-built camera plans for the stuffing tests (320×180, 10 fps): voters only, voters and a
stuffer dropping ballots one by one, voters and a stuffer dropping a bundle. conftest.py
renders them once per session."""

from __future__ import annotations

from datetime import UTC, datetime

from pollwatch.simulate.plan import Appearance, CameraPlan, Drop, Stop, Visit
from pollwatch.simulate.room import walk_time

START = datetime(2025, 3, 9, 9, 30, 0, tzinfo=UTC)
# voters' looks: height, build, shirt, trousers, skin, hair (BGR), speed, gait
LOOKS = [
    Appearance(1.70, 1.0, (50, 60, 170), (60, 40, 30), (115, 145, 195), (25, 25, 30), 1.2, 1.8),
    Appearance(1.66, 1.1, (150, 90, 40), (35, 35, 35), (90, 125, 170), (35, 45, 65), 1.1, 1.7),
    Appearance(1.80, 0.9, (70, 130, 70), (100, 95, 85), (145, 175, 220), (55, 75, 105), 1.3, 1.9),
    Appearance(1.64, 1.2, (120, 60, 120), (70, 85, 95), (75, 105, 145), (25, 25, 30), 1.0, 1.6),
]
STUFFER_LOOK = Appearance(
    1.78, 1.0, (30, 90, 150), (40, 40, 40), (110, 140, 190), (25, 25, 30), 1.2, 1.8
)
HANDS = (21.0, 22.5, 24.0, 25.4, 26.9, 28.3)  # six ballots one by one
BUNDLE = 8
VOTES = (5.0, 12.0, 38.0, 46.0)  # four voters, one ballot each


def at_box(
    pid: str,
    look: Appearance,
    drops: tuple[Drop, ...],
    *,
    role: str = "voter",
    came: str = "booth1",
) -> Visit:
    """From `came` to the box, a second before the first drop, until a second after the last
    (a voter's one drop, a stuffer's many), then out."""
    first, last = min(d.t_s for d in drops), max(d.t_s for d in drops)
    there = first - 1.0
    left = there - walk_time(came, "box", look.speed_m_s)
    out = last + 1.0 + walk_time("box", "exit", look.speed_m_s)
    stops = (Stop(came, left - 1.0, left), Stop("box", there, last + 1.0), Stop("exit", out, out))
    return Visit(pid, role, look, stops, drops)  # type: ignore[arg-type]


def clip(name: str, visits: tuple[Visit, ...]) -> CameraPlan:
    """52 s at 320×180, 10 fps; a box holding 3 of its 30 ballots at the start."""
    size = {"width": 320, "height": 180, "fps": 10, "seed": 11}
    box = {"box_initial_ballots": 3, "box_capacity_ballots": 30}
    return CameraPlan(name, "st-" + name, START, 52.0, visits, **size, **box)


_VOTERS = tuple(
    at_box(f"v{i}", look, (Drop(t),)) for i, (look, t) in enumerate(zip(LOOKS, VOTES, strict=True))
)
CLEAN = clip("clean", _VOTERS)
_HANDS = tuple(Drop(t) for t in HANDS)
HANDS_CLIP = clip(
    "hands", (*_VOTERS, at_box("s1", STUFFER_LOOK, _HANDS, role="stuffer", came="entrance"))
)
_BUNDLE = (Drop(23.0, BUNDLE),)
BUNDLE_CLIP = clip(
    "bundle", (*_VOTERS, at_box("s1", STUFFER_LOOK, _BUNDLE, role="stuffer", came="entrance"))
)
