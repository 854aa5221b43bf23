"""Where a person is at any time: stops honoured exactly, straight walks, reaches at drops."""

from __future__ import annotations

import math

import pytest

from pollwatch.simulate import room
from pollwatch.simulate.motion import REACH_S, Track
from pollwatch.simulate.plan import Appearance, Drop, Stop, Visit

LOOK = Appearance(1.75, 1.0, (40, 40, 200), (60, 60, 60), (120, 150, 200), (20, 20, 30), 1.2, 1.8)
VISIT = Visit(
    "v1",
    "voter",
    LOOK,
    (
        Stop("entrance", 0.0, 0.5),
        Stop("table", 4.0, 10.0),
        Stop("booth1", 14.0, 20.0),
        Stop("box", 24.0, 27.0),
        Stop("exit", 33.0, 33.5),
    ),
    (Drop(25.5, 1),),
)


@pytest.mark.parametrize(
    ("t", "place"),
    [
        (0.0, "entrance"),
        (0.5, "entrance"),
        (4.0, "table"),
        (7.3, "table"),
        (10.0, "table"),
        (14.0, "booth1"),
        (24.0, "box"),
        (27.0, "box"),
        (33.5, "exit"),
    ],
)
def test_at_a_stop_the_person_is_exactly_at_the_place(t: float, place: str) -> None:
    pose = Track(VISIT).pose_at(t)
    assert pose is not None and not pose.walking
    p = room.place(place)
    assert (pose.x, pose.y) == (p.x, p.y)


def test_between_stops_the_walk_is_a_straight_line_at_constant_speed() -> None:
    track = Track(VISIT)
    a, b = room.place("table"), room.place("booth1")
    pose = track.pose_at(12.0)  # halfway from 10 to 14
    assert pose is not None and pose.walking
    assert pose.x == pytest.approx((a.x + b.x) / 2) and pose.y == pytest.approx((a.y + b.y) / 2)
    assert pose.facing == pytest.approx(math.atan2(b.y - a.y, b.x - a.x))


@pytest.mark.parametrize("t", [-0.01, 33.51, 100.0])
def test_outside_the_visit_there_is_nobody(t: float) -> None:
    assert Track(VISIT).pose_at(t) is None


@pytest.mark.parametrize(
    ("t", "reach"),
    [
        (25.5 - REACH_S / 2 - 0.01, None),
        (25.5 - REACH_S / 4, 0.25),
        (25.5, 0.5),
        (25.5 + REACH_S / 2, 1.0),
        (25.5 + REACH_S / 2 + 0.01, None),
    ],
)
def test_the_hand_movement_is_centred_on_the_drop(t: float, reach: float | None) -> None:
    pose = Track(VISIT).pose_at(t)
    assert pose is not None
    if reach is None:
        assert pose.reach is None
    else:
        assert pose.reach == pytest.approx(reach) and pose.ballots == 1


def test_commission_sit_and_voters_face_the_booth_wall() -> None:
    clerk = Visit("c", "commission", LOOK, (Stop("commission1", 0.0, 100.0),))
    assert Track(clerk).pose_at(50.0).sit == 1.0  # type: ignore[union-attr]
    at_booth = Track(VISIT).pose_at(17.0)
    assert at_booth is not None and at_booth.facing == pytest.approx(0.0) and at_booth.sit == 0.0
