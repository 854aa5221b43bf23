"""Clips rendered by the simulator's renderer from hand-made camera plans.

`sabotaged_plan()` plans 40 s at 320×180 of the simulated room with a voter passing by: the
picture frozen 5–12 s, the camera nudged 8° from 14 s, no recording 30–33 s, the sound muted
from 20 s; `covered_plan()` plans 50 s of the picture's other states (dark, box covered,
blurred, turned away) with the sound turned down; `moved_behind_board_plan()` 60 s of a
camera out of focus all along, nudged while a board covers its box. `cut_audio` copies a file
with its audio packets after a time dropped or overwritten with garbage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np

from pollwatch.simulate.plan import (
    Appearance,
    CameraCondition,
    CameraPlan,
    RenderedCamera,
    Stop,
    Visit,
)

START = datetime(2025, 3, 9, 8, 0, tzinfo=UTC)
SECONDS = 40.0
FROZEN = (5.0, 12.0)
NUDGED_AT = 14.0
OUTAGE = (30.0, 33.0)
MUTED_AT = 20.0
AUDIO_CUT_AT = 10.0
VOTER = Appearance(1.75, 1.0, (40, 60, 190), (50, 40, 40), (110, 140, 190), (30, 30, 30), 1.2, 1.8)


@dataclass(frozen=True)
class Clip:
    """A rendered recording and what the renderer reported."""

    path: Path
    rendered: RenderedCamera
    plan: CameraPlan


def _plan(conditions: tuple[CameraCondition, ...], seconds: float = SECONDS) -> CameraPlan:
    walk = (
        Stop("entrance", 1.0, 1.0),
        Stop("table", 4.0, 7.0),
        Stop("box", 10.0, 12.0),
        Stop("exit", 16.0, 16.0),
    )
    return CameraPlan(
        "cam-test",
        "st-test",
        START,
        seconds,
        (Visit("v1", "voter", VOTER, walk),),
        conditions,
        width=320,
        height=180,
        fps=10,
        seed=7,
    )


def sabotaged_plan() -> CameraPlan:
    """The plan of the `sabotaged` clip (see the module doc)."""
    return _plan(
        (
            CameraCondition("frozen", *FROZEN),
            CameraCondition("view_shifted", NUDGED_AT, SECONDS, {"pan_deg": 8.0}),
            CameraCondition("outage", *OUTAGE),
            CameraCondition("audio_muted", MUTED_AT, SECONDS),
        )
    )


COVERED_SECONDS = 50.0
DARK = (2.0, 7.0)
COVERED = (9.0, 22.0)
DEFOCUSED = (24.0, 36.0)
TURNED_AT = 38.0


def covered_plan() -> CameraPlan:
    """50 s of the room with the lights down 2–7 s, a board before the box 9–22 s, the lens
    out of focus 24–36 s, the camera turned away from the box from 38 s, the sound turned
    down all along."""
    return _plan(
        (
            CameraCondition("dark", *DARK, {"gain": 0.1}),
            CameraCondition("box_occluded", *COVERED),
            CameraCondition("defocus", *DEFOCUSED, {"sigma": 4.0}),
            CameraCondition("view_shifted", TURNED_AT, COVERED_SECONDS, {"pan_deg": 70.0}),
            CameraCondition("audio_quiet", 0.0, COVERED_SECONDS, {"gain_db": -40.0}),
        ),
        COVERED_SECONDS,
    )


BOARD = (15.0, 45.0)
MOVED_AT = 30.0


def moved_behind_board_plan() -> CameraPlan:
    """60 s out of focus (σ 4 px) with a board before the box 15–45 s and the camera nudged
    6° at 30 s, while the board stands (demo 124's cam-D001-010, azerbaijan-2024 78's
    cam-D067-002)."""
    return _plan(
        (
            CameraCondition("defocus", 0.0, 60.0, {"sigma": 4.0}),
            CameraCondition("box_occluded", *BOARD),
            CameraCondition("view_shifted", MOVED_AT, 60.0, {"pan_deg": 6.0}),
        ),
        60.0,
    )


def cut_audio(source: Path, target: Path, after_s: float, how: str) -> None:
    """Copy `source` with its audio packets after `after_s` dropped or made garbage."""
    rng = np.random.default_rng(0)
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.dts is None:
                continue
            late = packet.stream.type == "audio" and float(packet.pts * packet.time_base) > after_s
            if late and how == "dropped":
                continue
            target_stream = streams[packet.stream.index]
            if late:
                bad = av.Packet(rng.integers(0, 256, packet.size, dtype=np.uint8).tobytes())
                bad.pts, bad.dts, bad.time_base = packet.pts, packet.dts, packet.time_base
                packet = bad
            packet.stream = target_stream
            out.mux(packet)
