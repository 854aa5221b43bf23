"""Faults and sabotage on a rendered camera, drawn from the preset's rates.

Parameters passed to the renderer (see plan.ConditionKind): `view_shifted` {pan_deg, tilt_deg}
(the camera rotated; |pan| >= 50 deg, widened by `schedule` until the box is out of the
picture in that camera's room: label "turned_away"; a few degrees: label "nudged"),
`defocus` {sigma} in pixels, `dark` {gain} in 0..1, `audio_quiet` {gain_db}. The other kinds
take no parameters. The three audio conditions exclude each other; the rest are independent
and may overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollwatch.simulate.plan import CameraCondition
from pollwatch.simulate.presets import CameraFaults

__all__ = ["LabelledCondition", "sample_conditions"]


@dataclass(frozen=True)
class LabelledCondition:
    """A condition and its label in the truth (the kind, or turned_away / nudged)."""

    condition: CameraCondition
    label: str


def _r(x: float) -> float:
    return round(float(x), 3)


def sample_conditions(
    rng: np.random.Generator, faults: CameraFaults, duration_s: float
) -> list[LabelledCondition]:
    """The conditions of one camera whose recording lasts `duration_s` seconds."""
    d = duration_s
    u = rng.random(12)  # fixed number of draws per decision keeps the stream stable
    span = rng.uniform(size=(6, 2))
    out: list[LabelledCondition] = []

    def add(kind: str, start: float, end: float, label: str | None = None, **params: float):
        cond = CameraCondition(
            kind, _r(max(0.0, start)), _r(min(d, end)), {k: _r(v) for k, v in params.items()}
        )
        out.append(LabelledCondition(cond, label or kind))

    def stretch(i: int, lo: float, hi: float) -> tuple[float, float]:
        """A stretch of lo..hi of the recording starting in its 10%..80%."""
        start = (0.1 + 0.7 * span[i, 0]) * d
        return start, start + (lo + (hi - lo) * span[i, 1]) * d

    mid = (0.15 + 0.55 * u[2]) * d  # a mid-recording moment for "from then on" conditions
    a = u[0]
    if a < faults.audio_absent:
        add("audio_absent", 0.0, d)
    elif a < faults.audio_absent + faults.audio_muted:
        add("audio_muted", 0.0 if u[1] < 0.7 else mid, d)
    elif a < faults.audio_absent + faults.audio_muted + faults.audio_quiet:
        add("audio_quiet", 0.0, d, gain_db=-40.0)
    v = u[3]
    sign = 1.0 if u[5] < 0.5 else -1.0
    if v < faults.turned_away:
        start = 0.0 if u[4] < 0.6 else mid
        pan, tilt = sign * (50.0 + 25.0 * u[6]), -10.0 + 15.0 * u[7]
        add("view_shifted", start, d, "turned_away", pan_deg=pan, tilt_deg=tilt)
    elif v < faults.turned_away + faults.nudged:
        start = 0.0 if u[4] < 0.5 else mid
        pan, tilt = sign * (3.0 + 5.0 * u[6]), -3.0 + 6.0 * u[7]
        add("view_shifted", start, d, "nudged", pan_deg=pan, tilt_deg=tilt)
    draws = rng.random(5)
    if draws[0] < faults.box_occluded:
        add("box_occluded", *stretch(0, 0.1, 0.3))
    if draws[1] < faults.frozen:
        add("frozen", *stretch(1, 0.03, 0.1))
    if draws[2] < faults.outage:
        add("outage", *stretch(2, 0.03, 0.1))
    if draws[3] < faults.defocus:
        add("defocus", 0.0 if u[8] < 0.5 else mid, d, sigma=2.5 + 3.5 * u[9])
    if draws[4] < faults.dark:
        add("dark", *stretch(4, 0.05, 0.2), gain=0.05 + 0.2 * u[10])
    return out
