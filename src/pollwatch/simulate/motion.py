"""Where a person is and what they are doing at any time of their visit (no drawing here).

A `Track` turns a `Visit` into a `Pose` for any time: at a stop the person stands (or sits, at
commission and observer seats) exactly at the place from `arrive_s` to `leave_s`; between two
stops they walk the straight line at constant speed; around each drop their hand reaches the box
slot (`reach` runs 0→1 over `REACH_S`, the ballot goes in at 0.5, i.e. at the drop time).
"""

from __future__ import annotations

import bisect
import math
import zlib
from dataclasses import dataclass

from pollwatch.simulate import room
from pollwatch.simulate.plan import Appearance, Visit

__all__ = ["REACH_S", "SIT_S", "Pose", "Track", "stop_facing"]

REACH_S = 0.9  # the whole hand movement of one drop, centred on the drop time
SIT_S = 0.7  # time to sit down or stand up
TURN_S = 0.5  # time to turn towards a stop's facing after arriving
_DOWN = -math.pi / 2  # facing the camera wall (−y)


@dataclass(frozen=True)
class Pose:
    """A person's state at one instant; angles are floor-plane radians (0 = +x, π/2 = +y)."""

    x: float
    y: float
    facing: float
    walking: bool
    gait_phase: float  # radians; legs swing as sin(gait_phase)
    sit: float  # 0 standing .. 1 seated
    sway: float  # sideways lean of the upper body, metres
    reach: float | None  # progress of a drop's hand movement 0..1, None when not reaching
    ballots: int  # ballots in the hand during a reach


def _angle_to(a: room.Point, b: room.Point) -> float:
    return math.atan2(b.y - a.y, b.x - a.x)


def stop_facing(place: str) -> float | None:
    """The direction a person faces while stopped at `place`, None to keep the walking one."""
    if place.startswith("commission"):
        return _DOWN
    if place.startswith("observer"):
        return 0.0
    if place.startswith("booth"):
        return 0.0
    if place == "table":
        return math.pi / 2
    if place == "table_queue":
        return _angle_to(room.TABLE_QUEUE, room.TABLE)
    if place in (*room.BOX_PLACES, "box_queue"):
        return _DOWN
    if place == "box_near":
        return _angle_to(room.BOX_NEAR, room.BOX)
    return None


def _blend_angle(a: float, b: float, u: float) -> float:
    """From angle a to b the short way round, u in 0..1."""
    d = (b - a + math.pi) % (2 * math.pi) - math.pi
    return a + d * min(max(u, 0.0), 1.0)


def _seeded_phase(person_id: str, salt: int) -> float:
    return (zlib.crc32(f"{person_id}/{salt}".encode()) % 10_000) / 10_000 * 2 * math.pi


class Track:
    """The path of one visit through the room, evaluated at any time."""

    def __init__(self, visit: Visit) -> None:
        self.visit = visit
        self.appearance: Appearance = visit.appearance
        self.points = [room.place(s.place) for s in visit.stops]
        self._arrive = [s.arrive_s for s in visit.stops]
        self._leave = [s.leave_s for s in visit.stops]
        self.seated = [s.place.startswith(("commission", "observer")) for s in visit.stops]
        walk_dirs = [
            _angle_to(a, b) if a != b else None
            for a, b in zip(self.points, self.points[1:], strict=False)
        ]
        self.walk_dirs = walk_dirs
        self.facings: list[float] = []
        for i, stop in enumerate(visit.stops):
            face = stop_facing(stop.place)
            if face is None:
                nxt = walk_dirs[i] if i < len(walk_dirs) else None
                prev = walk_dirs[i - 1] if i > 0 else None
                face = nxt if nxt is not None else prev if prev is not None else _DOWN
            self.facings.append(face)
        self.drop_times = [d.t_s for d in visit.drops]
        self.drop_ballots = [d.ballots for d in visit.drops]
        self._sway_phase = _seeded_phase(visit.person_id, 1)
        self._gait_phase = _seeded_phase(visit.person_id, 2)

    @property
    def enter_s(self) -> float:
        return self.visit.enter_s

    @property
    def exit_s(self) -> float:
        return self.visit.exit_s

    def pose_at(self, t: float) -> Pose | None:
        """The pose at time `t`, None when the person is not in the room."""
        if t < self.enter_s or t > self.exit_s:
            return None
        i = bisect.bisect_right(self._arrive, t) - 1
        a = self.appearance
        arrive, leave = self._arrive[i], self._leave[i]
        if t <= leave:  # at stop i
            p = self.points[i]
            face = self.facings[i]
            if i > 0 and self.walk_dirs[i - 1] is not None and t - arrive < TURN_S:
                face = _blend_angle(self.walk_dirs[i - 1], face, (t - arrive) / TURN_S)
            if i < len(self.walk_dirs) and self.walk_dirs[i] is not None and leave - t < TURN_S:
                face = _blend_angle(face, self.walk_dirs[i], 1 - (leave - t) / TURN_S)
            sit = 0.0
            if self.seated[i]:  # sit down after walking in, stand up before walking out
                sit = 1.0
                if i > 0:
                    sit = min(sit, (t - arrive) / SIT_S)
                if i < len(self.points) - 1:
                    sit = min(sit, (leave - t) / SIT_S)
            sway = 0.012 * (1 - 0.6 * sit) * math.sin(2 * math.pi * 0.23 * t + self._sway_phase)
            reach, ballots = self._reach(t)
            return Pose(p.x, p.y, face, False, 0.0, max(sit, 0.0), sway, reach, ballots)
        # walking from stop i to stop i + 1
        a_pt, b_pt = self.points[i], self.points[i + 1]
        t0, t1 = leave, self._arrive[i + 1]
        u = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
        x = a_pt.x + (b_pt.x - a_pt.x) * u
        y = a_pt.y + (b_pt.y - a_pt.y) * u
        face = self.walk_dirs[i] if self.walk_dirs[i] is not None else self.facings[i]
        phase = math.pi * a.gait_hz * (t - t0) + self._gait_phase
        return Pose(x, y, face, True, phase, 0.0, 0.0, None, 0)

    def _reach(self, t: float) -> tuple[float | None, int]:
        best: tuple[float | None, int] = (None, 0)
        nearest = REACH_S
        for when, ballots in zip(self.drop_times, self.drop_ballots, strict=True):
            if abs(t - when) <= min(nearest, REACH_S / 2):
                nearest = abs(t - when)
                best = ((t - when) / REACH_S + 0.5, ballots)
        return best
