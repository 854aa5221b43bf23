"""What one camera will show: the contract between the election scheduler and the renderer.

The scheduler (`schedule.py`) decides who enters the room, when, where they stop and for how
long, when a hand reaches the box slot, and which sabotage or faults hit the camera. The renderer
(`render.py`) draws exactly that: it must honour every stop and every drop time, so the plan's
times are the ground truth of what is on video.

Times are seconds from the first frame of the recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from pollwatch.simulate.room import BOX_PLACES

__all__ = [
    "Appearance",
    "CameraCondition",
    "CameraPlan",
    "ConditionKind",
    "Drop",
    "RenderedCamera",
    "Role",
    "Stop",
    "Visit",
    "repeat_visits",
]

Role = Literal["voter", "stuffer", "carousel", "commission", "observer", "passerby"]
ConditionKind = Literal[
    "audio_absent",  # the recording has no audio stream at all (whole recording)
    "audio_muted",  # digital silence: samples exactly zero
    "audio_quiet",  # turned down: real room sound, -40 dB or so
    "view_shifted",  # camera turned: params dx, dy (pixels), angle_deg, scale
    "box_occluded",  # a static object covers the ballot box
    "frozen",  # the picture stops changing while timestamps advance
    "outage",  # no frames at all in this range (gap in timestamps)
    "defocus",  # lens out of focus: params sigma (pixels)
    "dark",  # lights off / lens covered: params gain (0..1)
]


@dataclass(frozen=True)
class Appearance:
    """How a person looks; the same person (a carousel member) keeps it across cameras."""

    height_m: float  # 1.5 .. 2.0
    build: float  # width factor 0.8 .. 1.3
    shirt_bgr: tuple[int, int, int]
    trousers_bgr: tuple[int, int, int]
    skin_bgr: tuple[int, int, int]
    hair_bgr: tuple[int, int, int]
    speed_m_s: float  # walking speed 0.8 .. 1.6
    gait_hz: float  # steps per second 1.4 .. 2.2
    has_bag: bool = False
    hat_bgr: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class Stop:
    """A person stands at `place` (see room.py) from `arrive_s` to `leave_s`.

    Between two consecutive stops the person walks in a straight line, leaving the first at its
    `leave_s` and arriving at the next at its `arrive_s`.
    """

    place: str
    arrive_s: float
    leave_s: float

    def __post_init__(self) -> None:
        if self.leave_s < self.arrive_s:
            raise ValueError(f"stop at {self.place}: leave_s {self.leave_s} < arrive_s")


@dataclass(frozen=True)
class Drop:
    """A hand movement at the box slot at `t_s` putting `ballots` ballots in (a bundle if > 1)."""

    t_s: float
    ballots: int = 1


@dataclass(frozen=True)
class Visit:
    """One person's time in the room: their stops, in order, and their drops at the box."""

    person_id: str
    role: Role
    appearance: Appearance
    stops: tuple[Stop, ...]
    drops: tuple[Drop, ...] = ()
    group_id: str | None = None

    def __post_init__(self) -> None:
        if not self.stops:
            raise ValueError(f"visit of {self.person_id} has no stops")
        for a, b in zip(self.stops, self.stops[1:], strict=False):
            if b.arrive_s < a.leave_s:
                raise ValueError(f"visit of {self.person_id}: stops overlap at {b.place}")
        for d in self.drops:
            box = [
                s for s in self.stops if s.place in BOX_PLACES and s.arrive_s <= d.t_s <= s.leave_s
            ]
            if not box:
                raise ValueError(
                    f"visit of {self.person_id}: drop at {d.t_s} not during a box stop"
                )

    @property
    def enter_s(self) -> float:
        return self.stops[0].arrive_s

    @property
    def exit_s(self) -> float:
        return self.stops[-1].leave_s

    @property
    def ballots(self) -> int:
        return sum(d.ballots for d in self.drops)


@dataclass(frozen=True)
class CameraCondition:
    """A fault or act of sabotage on one camera from `start_s` to `end_s`."""

    kind: ConditionKind
    start_s: float
    end_s: float
    params: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CameraPlan:
    """Everything the renderer needs to produce one camera's recording."""

    camera_id: str
    station_id: str
    start_time: datetime  # wall-clock time of the first frame (timezone-aware)
    duration_s: float
    visits: tuple[Visit, ...]
    conditions: tuple[CameraCondition, ...] = ()
    width: int = 640
    height: int = 360
    fps: int = 25
    seed: int = 0
    box_initial_ballots: int = 0
    box_capacity_ballots: int = 1500  # ballots that fill the box to the top

    @property
    def has_audio(self) -> bool:
        return not any(c.kind == "audio_absent" for c in self.conditions)


@dataclass(frozen=True)
class RenderedCamera:
    """What the renderer reports back after writing one camera's recording.

    `box_polygon` is the ballot box outline in pixels of the intended (unshifted) view, as an
    operator would draw it on the reference image; `frames` the number of frames encoded.
    """

    camera_id: str
    video_path: str
    box_polygon: tuple[tuple[int, int], ...]
    frames: int
    reference_path: str | None = None


def repeat_visits(plan: CameraPlan, period_s: float, duration_s: float) -> CameraPlan:
    """`plan` lasting `duration_s`, its visits played again every `period_s` seconds: copy k
    (k ≥ 1) of a visit has every stop and drop `k * period_s` later, person id `<id>~k` (and
    group id `<group>~k`). As `build_schedule` clips a recording, a copy that enters at or after
    `duration_s` is left out and a copy keeps only its drops before it. The original visits and
    the conditions are kept as they are, so a `duration_s` up to `period_s` changes only the
    duration. Keeps a long benchmark clip as busy as the simulated day (whose visits all fall
    in its first minutes).

    Every visit must have left by `period_s` (else a copy would meet its original)."""
    if not period_s > 0:
        raise ValueError(f"period_s must be positive, got {period_s}")
    if not duration_s > 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    late = [v.person_id for v in plan.visits if v.exit_s > period_s]
    if late:
        raise ValueError(f"period_s {period_s}: visits {late[:3]} are still in the room after it")
    visits = list(plan.visits)
    k = 1
    while k * period_s < duration_s:
        dt = k * period_s
        visits += [
            Visit(
                f"{v.person_id}~{k}",
                v.role,
                v.appearance,
                tuple(Stop(s.place, _ms(s.arrive_s + dt), _ms(s.leave_s + dt)) for s in v.stops),
                tuple(Drop(_ms(d.t_s + dt), d.ballots) for d in v.drops if d.t_s + dt < duration_s),
                None if v.group_id is None else f"{v.group_id}~{k}",
            )
            for v in plan.visits
            if v.enter_s + dt < duration_s
        ]
        k += 1
    return replace(plan, duration_s=duration_s, visits=tuple(visits))


def _ms(t: float) -> float:
    return round(t, 3)  # plan times are whole milliseconds
