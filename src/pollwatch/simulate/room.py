"""The simulated polling-station room, in floor metres.

The floor is a rectangle `WIDTH` × `DEPTH` metres. x runs left→right as the camera sees it,
y runs away from the camera (y = 0 is the wall the camera hangs on, y = DEPTH the far wall).
Every place a person can go is a named point on that floor; the renderer projects the floor
into the image with its own camera model, and the scheduler uses the same points to derive
walking times, so motion on video and the schedule agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "BOOTHS",
    "BOX",
    "BOX_NEAR",
    "BOX_PLACES",
    "BOX_QUEUE",
    "BOX_SIDE",
    "COMMISSION_SEATS",
    "DEPTH",
    "ENTRANCE",
    "OBSERVER_SEATS",
    "PASS_LEFT",
    "PASS_RIGHT",
    "TABLE",
    "TABLE_QUEUE",
    "WIDTH",
    "Point",
    "place",
    "walk_time",
]

WIDTH = 8.0
DEPTH = 7.0


@dataclass(frozen=True)
class Point:
    """A point on the floor, in metres."""

    x: float
    y: float

    def distance(self, other: Point) -> float:
        return math.hypot(self.x - other.x, self.y - other.y)


ENTRANCE = Point(0.3, 5.6)  # door on the left wall, near the far corner; also the exit
TABLE = Point(3.2, 5.3)  # where a voter stands to receive a ballot (commission sits behind)
TABLE_QUEUE = Point(1.8, 5.0)  # head of the queue for the table
COMMISSION_SEATS = (Point(2.6, 6.4), Point(3.6, 6.4), Point(4.6, 6.4))
BOOTHS = (Point(7.2, 5.2), Point(7.2, 4.0), Point(7.2, 2.8))  # voting booths on the right wall
BOX = Point(4.2, 2.6)  # the transparent ballot box, in the middle of the room, near the camera
BOX_NEAR = Point(5.1, 2.4)  # standing beside the box without voting
BOX_SIDE = Point(BOX.x + 0.5, BOX.y)  # a second voter at the box at once, shoulder to shoulder
BOX_PLACES = ("box", "box_side")  # where a voter stands to drop a ballot
BOX_QUEUE = Point(BOX.x + 0.25, BOX.y + 0.8)  # waiting behind both places for one to free
OBSERVER_SEATS = (Point(1.0, 2.0), Point(0.8, 3.2))
PASS_LEFT = Point(1.0, 1.6)  # ends of a walk across the front of the box
PASS_RIGHT = Point(7.0, 1.6)

_PLACES: dict[str, Point] = {
    "entrance": ENTRANCE,
    "exit": ENTRANCE,
    "table": TABLE,
    "table_queue": TABLE_QUEUE,
    "box": BOX,
    "box_near": BOX_NEAR,
    "box_side": BOX_SIDE,
    "box_queue": BOX_QUEUE,
    "pass_left": PASS_LEFT,
    "pass_right": PASS_RIGHT,
    **{f"booth{i}": p for i, p in enumerate(BOOTHS)},
    **{f"commission{i}": p for i, p in enumerate(COMMISSION_SEATS)},
    **{f"observer{i}": p for i, p in enumerate(OBSERVER_SEATS)},
}


def place(name: str) -> Point:
    """The floor point of a named place ("box", "booth0", "commission1", ...)."""
    try:
        return _PLACES[name]
    except KeyError:
        raise ValueError(f"unknown place {name!r}; known: {sorted(_PLACES)}") from None


def walk_time(a: str, b: str, speed_m_s: float) -> float:
    """Seconds to walk between two named places at `speed_m_s` (a straight line)."""
    if speed_m_s <= 0:
        raise ValueError(f"speed_m_s must be positive, got {speed_m_s}")
    return place(a).distance(place(b)) / speed_m_s
