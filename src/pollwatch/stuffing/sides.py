"""A second cue for few-ballot stuffing: several hands at the slot from one side of it.

Two voters can stand behind the box at once, shoulder to shoulder (`box` and `box_side`), and
each reaches the slot from where they stand, so their arms come in from opposite sides of it
(`pollwatch.counting.arms`: the watcher's `arm_l`, `arm_r`, the share of pixels that moved
left and right of the slot). One person dropping ballot after ballot reaches in from the same
side every time. Legitimate hands 2 s apart or less are two people (a voter who follows
another at the same place steps in only after the first one left: at demo's dwell at the box
that takes longer), so a run of hands one to two seconds apart all from one side is one
person's repeated insertions: what three hands of a stuffer look like, and what three voters
(a family, or a voter and two friends) do not.

The test (`side_pvalue`): a legitimate episode holds a run of r ≥ 3 hands with at most
`DetectOptions.side_cadence_s` between neighbours with probability at most `SIDE_RUN_TAIL`,
and a pair of neighbouring legitimate hands within that cadence comes from one side with
probability at most `SIDE_PAIR_TAIL`; the run's p-value per episode is
SIDE_RUN_TAIL · SIDE_PAIR_TAIL^(r−2) (only r − 2 of its r − 1 pairs counted: the first pair
is given away), any of the camera's n episodes eligible (`score.day_pvalue`). Both figures
are measured (docs/stuffing.md, "Session 10"). The pile must not refute the run: where it
can be read, it rose by at least the run's hands less `DetectOptions.side_refute` ballots (a
voter's one hand counted three times is one ballot on the pile). The arms are the watcher's
at the counter's calibrated resolution only. An episode whose p-value this cue gave says
"r " + `ONE_SIDE_REASON` in its reasons.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pollwatch.counting.arms import ARM_COLUMNS

__all__ = [
    "ONE_SIDE_REASON",
    "SIDE_PAIR_TAIL",
    "SIDE_RUN_TAIL",
    "hand_sides",
    "hand_times",
    "one_person_pauses",
    "pile_refutes",
    "seen_times",
    "side_pvalue",
    "side_run",
    "side_runs",
]

# Of 2539 legitimate episodes on the 640x360 tuning cameras (the 298-camera pool and session
# 9's cases, azerbaijan-2024 left out) 20 held three hands or more each within 2 s of the
# one before, 2 of them refuted by the pile (rose 0.63 and 1.06 for 3 hands: one voter
# counted three times); 0.0105 is the one-sided 95% Clopper-Pearson bound of 18/2539 (kept:
# session 8's demo 96, 98, 99, demo-clean 97, 101 add 0 of 237, bound 0.0096).
SIDE_RUN_TAIL = 0.0105
# Of 58 pairs of neighbouring legitimate hands within 2 s on the series with arm columns
# (session 9's demo 102, 104, 106, 108, demo-clean 103, 105: 0 of 37; session 8's demo 96,
# 98, 99, demo-clean 97, 101: 1 of 21, demo 98 cam-D002-007 at 322.6 s, two voters 0.6 s
# apart both read "R") one came from one side: 0.079 is the one-sided 95% Clopper-Pearson
# bound of 1/58. The stuffers' 14 pairs on session 9's cases: all from one side.
SIDE_PAIR_TAIL = 0.079
#: what an event's reasons say after the run's length where this cue gave its p-value
#: (`detect.camera_events`; `findings` reads it back for the summary)
ONE_SIDE_REASON = "hands from one side of the slot"


def hand_times(times: Sequence[float] | np.ndarray, hand_gap_s: float) -> np.ndarray:
    """The hand movements among drop `times`: drops less than `hand_gap_s` after the one
    before are the same movement (`episodes.EpisodeOptions.hand_gap_s`)."""
    t = np.sort(np.asarray(times, float))
    if not t.size:
        return t
    keep = np.r_[True, np.diff(t) >= hand_gap_s]
    return t[keep]


def seen_times(drops: pd.DataFrame) -> np.ndarray:
    """The times of the counter's drops (`counting/drops`) a hand was seen going in: not
    those only the pile showed (evidence "fill": the counter places them where the pile's
    level passed a step, and the arms then say nothing of who reached in; demo 182
    cam-D001-007, three such drops 0.6 s apart on a camera whose arms read "L" at nearly
    every hand were flagged as one person's run of three). Every drop's without an
    `evidence` column."""
    t = drops["t_s"].to_numpy(float)
    if "evidence" not in drops:
        return t
    return t[(drops["evidence"].astype(str) != "fill").to_numpy()]


def hand_sides(
    series: pd.DataFrame,
    hands: Sequence[float] | np.ndarray,
    *,
    before_s: float = 0.8,
    after_s: float = 0.2,
    lean: float = 0.6,
    min_motion: float = 0.05,
) -> str:
    """Which side of the slot each hand's arm came from: "L" or "R" where at least `lean` of
    the arm windows' largest motion in [t − `before_s`, t + `after_s`] was on that side, "B"
    (both) otherwise, "?" where the arms moved less than `min_motion` together or the series
    has no arm columns (older stores) or no sample then."""
    if not 0.5 < lean <= 1:
        raise ValueError(f"lean must be in (0.5, 1], got {lean!r}")
    if not (before_s >= 0 and after_s >= 0 and min_motion >= 0):
        raise ValueError("before_s, after_s and min_motion must be >= 0")
    if any(c not in series for c in ARM_COLUMNS):
        return "?" * len(hands)
    t = series["t_s"].to_numpy(float)
    arms = series[list(ARM_COLUMNS)].to_numpy(float)
    out = []
    for h in hands:
        near = arms[(t >= h - before_s) & (t <= h + after_s)]
        moved = np.isfinite(near).any(axis=0)
        if not moved.all():
            out.append("?")
            continue
        left, right = np.nanmax(near, axis=0)
        if left + right < min_motion:
            out.append("?")
        elif left >= lean * (left + right):
            out.append("L")
        elif right >= lean * (left + right):
            out.append("R")
        else:
            out.append("B")
    return "".join(out)


def side_runs(hands: Sequence[float] | np.ndarray, sides: str, cadence_s: float) -> np.ndarray:
    """Per hand: how many hands in a row from its side ("L" or "R"), each within `cadence_s`
    of the one before, end at it (0 for a hand of no known side)."""
    if len(hands) != len(sides):
        raise ValueError(f"{len(hands)} hands but {len(sides)} sides")
    out = np.zeros(len(sides), int)
    for k, side in enumerate(sides):
        if side in "LR":
            same = k and sides[k - 1] == side and hands[k] - hands[k - 1] <= cadence_s
            out[k] = out[k - 1] + 1 if same else 1
    return out


def side_run(hands: Sequence[float] | np.ndarray, sides: str, cadence_s: float) -> int:
    """The most hands in a row from one side ("L" or "R"), each within `cadence_s` of the
    one before; 0 when no hand's side is known."""
    runs = side_runs(hands, sides, cadence_s)
    return int(runs.max()) if len(runs) else 0


def one_person_pauses(
    hands: np.ndarray, sides: str, *, cadence_s: float, gap_s: float, pause_s: float, run: int
) -> np.ndarray:
    """The hand times that continue the episode before them across a pause longer than
    `gap_s` (at most `pause_s`): one person still at the box. The pause lies between a run
    of at least `run` hands from one side of the slot (`side_runs`, each within `cadence_s`
    of the one before) and another such run from the same side (demo 178 cam-D001-004: a
    stuffer's seven hands from the left, the counter missing the fourth, 3.0 s between the
    third and the fifth: two findings of 3). A voter stepping in after another one reaches
    the slot once."""
    if len(hands) != len(sides):
        raise ValueError(f"{len(hands)} hands but {len(sides)} sides")
    t = np.asarray(hands, float)
    if t.size < 2 or not pause_s > gap_s:
        return t[:0]
    ending = side_runs(t, sides, cadence_s)
    starting = side_runs(-t[::-1], sides[::-1], cadence_s)[::-1]  # the runs read backwards
    gaps = np.diff(t)
    same = np.array([sides[k] == sides[k + 1] for k in range(t.size - 1)])
    runs = (ending[:-1] >= run) & (starting[1:] >= run)
    return t[1:][(gaps > gap_s) & (gaps <= pause_s) & same & runs]


def pile_refutes(fill_ballots: float, run: int, margin: float) -> bool:
    """Whether the pile, where read (`fill_ballots` finite), refutes a one-sided run of `run`
    hands: it rose less than `run` − `margin` ballots (one voter's hand counted several
    times); never where it was not read (NaN)."""
    fill = float(fill_ballots)
    return math.isfinite(fill) and fill < run - margin


def side_pvalue(
    run: int,
    *,
    run_tail: float = SIDE_RUN_TAIL,
    pair_tail: float = SIDE_PAIR_TAIL,
) -> float:
    """The chance a legitimate episode holds a one-sided run of `run` hands (module doc):
    run_tail · pair_tail^(run − 2) from three hands on, 1 below."""
    if not (0 < run_tail <= 1 and 0 < pair_tail <= 1):
        raise ValueError("run_tail and pair_tail must be in (0, 1]")
    if run < 3:
        return 1.0
    return float(run_tail * pair_tail ** (run - 2))
