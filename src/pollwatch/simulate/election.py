"""True results, injected fraud and the official figures of a whole simulated election.

Each station's true turnout and incumbent share are logit-normal around its region's means;
voters, invalid ballots and votes are then binomial / multinomial draws, so clean stations show
ordinary sampling noise. The two national means are calibrated so that the *official* figures
(true results plus the preset's inflation) hit the preset's targets: official turnout (ballots
issued / registered) and the incumbent's share of valid votes. The `-clean` variant shares the
calibration and the true results, and has no fraud.

Official = true + fraud, per station:
  ballots_issued = voters + carousel + stuffed + inflation
  ballots_cast   = ballots_issued - taken      (taken: voters who left with their ballot)
  incumbent      = true incumbent votes + carousel + stuffed + inflation
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from pollwatch.simulate.clock import Clock, interval_shares
from pollwatch.simulate.fraud import (
    CarouselGroup,
    StuffingEvent,
    inflation_intents,
    plan_carousels,
    plan_stuffing,
)
from pollwatch.simulate.geography import build_stations, camera_priority
from pollwatch.simulate.presets import Preset
from pollwatch.simulate.streams import stream

__all__ = ["Election", "IntervalCounts", "simulate_election"]

_CURVE_CONCENTRATION = 150.0  # station-to-station noise of the intra-day curve (Dirichlet)


@dataclass(frozen=True)
class IntervalCounts:
    """Ballots per checkpoint interval at one station, by origin (each shape (k,))."""

    legit: np.ndarray  # local voters, counted when their ballot goes in (or leaves the room)
    carousel: np.ndarray
    stuffed: np.ndarray


@dataclass(frozen=True)
class Election:
    """A simulated election before any camera is rendered (see the module docstring)."""

    preset: Preset
    seed: int
    clock: Clock
    stations: pd.DataFrame  # geography.STATION_COLUMNS + camera_id, featured, priority
    priority: tuple[int, ...]  # rows of the camera stations in rendering order
    true: pd.DataFrame  # station_id, voters, taken, cast, invalid, one column per candidate
    inflation: np.ndarray  # votes added per station
    inflation_intervals: np.ndarray  # (stations, intervals)
    stuffing: tuple[StuffingEvent, ...]
    carousels: tuple[CarouselGroup, ...]
    legit_intervals: np.ndarray  # (stations, intervals): synthesised intra-day curve
    calibration: tuple[float, float]  # national logit means of true turnout, incumbent share

    @property
    def n_intervals(self) -> int:
        return len(self.clock.checkpoint_hours)

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {sid: i for i, sid in enumerate(self.stations["station_id"])}

    def carousel_ballots(self) -> np.ndarray:
        out = np.zeros(len(self.stations), dtype=np.int64)
        rows = self._rows
        for g in self.carousels:
            for s in g.stops:
                out[rows[s.station_id]] += g.size
        return out

    def stuffed_ballots(self) -> np.ndarray:
        out = np.zeros(len(self.stations), dtype=np.int64)
        rows = self._rows
        for e in self.stuffing:
            out[rows[e.station_id]] += e.ballots
        return out

    @cached_property
    def _official(self) -> pd.DataFrame:
        """results.csv: station_id, registered, ballots_issued, ballots_cast, invalid, votes."""
        extra = self.carousel_ballots() + self.stuffed_ballots() + self.inflation
        t = self.true
        out = pd.DataFrame(
            {
                "station_id": t["station_id"],
                "registered": self.stations["registered"].to_numpy(),
                "ballots_issued": t["voters"].to_numpy() + extra,
                "ballots_cast": t["cast"].to_numpy() + extra,
                "invalid": t["invalid"].to_numpy(),
            }
        )
        for c in self.preset.candidates:
            out[c] = t[c].to_numpy()
        out[self.preset.incumbent] += extra
        return out

    def official(self) -> pd.DataFrame:
        """results.csv: station_id, registered, ballots_issued, ballots_cast, invalid, votes."""
        return self._official.copy()

    def interval_counts(self, observed: Mapping[str, IntervalCounts]) -> dict[str, np.ndarray]:
        """Per station and checkpoint interval: legit, carousel, stuffed and inflation ballots.

        Stations in `observed` (rendered cameras) take their counts from the camera schedule;
        the others from the synthesised curve and the planned fraud times."""
        n, k = len(self.stations), self.n_intervals
        carousel = np.zeros((n, k), dtype=np.int64)
        stuffed = np.zeros((n, k), dtype=np.int64)
        rows = self._rows
        for g in self.carousels:
            for s in g.stops:
                carousel[rows[s.station_id], self.clock.interval_index(s.arrive_s)] += g.size
        for e in self.stuffing:
            stuffed[rows[e.station_id], self.clock.interval_index(e.time_s)] += e.ballots
        legit = self.legit_intervals.copy()
        for sid, counts in observed.items():
            r = rows[sid]
            legit[r], carousel[r], stuffed[r] = counts.legit, counts.carousel, counts.stuffed
        return {
            "legit": legit,
            "carousel": carousel,
            "stuffed": stuffed,
            "inflation": self.inflation_intervals,
        }


def _station_means(
    preset: Preset, stations: pd.DataFrame, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed per-station logit offsets of turnout and incumbent share, and minor shares."""
    rng = stream(seed, "true-noise")
    n = len(stations)
    shift_t = {r.name: r.turnout_shift for r in preset.regions}
    shift_w = {r.name: r.winner_shift for r in preset.regions}
    region = stations["region"]
    off_t = region.map(shift_t).to_numpy(float) + preset.turnout_spread * rng.normal(size=n)
    off_w = region.map(shift_w).to_numpy(float) + preset.winner_spread * rng.normal(size=n)
    alpha = 30.0 * np.asarray(preset.minor_weights) / sum(preset.minor_weights)
    g = rng.gamma(np.broadcast_to(alpha, (n, len(alpha))))
    return off_t, off_w, g / g.sum(axis=1, keepdims=True)


def _calibrate(
    preset: Preset, registered: np.ndarray, off_t: np.ndarray, off_w: np.ndarray, f: np.ndarray
) -> tuple[float, float]:
    """National logit means that make the expected official figures hit the targets."""
    a, b = float(logit(preset.target_turnout)), float(logit(preset.target_winner))
    keep = (1.0 - preset.taken_rate) * (1.0 - preset.invalid_rate)
    for _ in range(200):
        voters = registered * expit(a + off_t)
        add = np.minimum(f * voters, registered - voters)
        turnout = (voters + add).sum() / registered.sum()
        valid = voters * keep
        winner = (valid * expit(b + off_w) + add).sum() / (valid + add).sum()
        step_a = logit(preset.target_turnout) - logit(turnout)
        step_b = logit(preset.target_winner) - logit(winner)
        a, b = a + float(step_a), b + float(step_b)
        if abs(step_a) < 1e-7 and abs(step_b) < 1e-7:
            return a, b
    raise ValueError(
        f"preset {preset.name!r}: cannot reach turnout {preset.target_turnout} and winner "
        f"share {preset.target_winner} with its inflation (reached {turnout:.4f}, {winner:.4f})"
    )


def _true_results(
    preset: Preset, stations: pd.DataFrame, seed: int, ab: tuple[float, float], means: tuple
) -> pd.DataFrame:
    rng = stream(seed, "true")
    off_t, off_w, minor = means
    reg = stations["registered"].to_numpy(np.int64)
    voters = rng.binomial(reg, expit(ab[0] + off_t))
    taken = rng.binomial(voters, preset.taken_rate)
    cast = voters - taken
    invalid = rng.binomial(cast, preset.invalid_rate)
    w = expit(ab[1] + off_w)
    p = np.column_stack([w, (1.0 - w)[:, None] * minor])
    votes = rng.multinomial(cast - invalid, p / p.sum(axis=1, keepdims=True))
    frame = pd.DataFrame(
        {
            "station_id": stations["station_id"],
            "voters": voters,
            "taken": taken,
            "cast": cast,
            "invalid": invalid,
        }
    )
    for j, c in enumerate(preset.candidates):
        frame[c] = votes[:, j]
    return frame


def _split_counts(rng: np.random.Generator, totals: np.ndarray, p: np.ndarray) -> np.ndarray:
    return rng.multinomial(totals.astype(np.int64), p).astype(np.int64)


def simulate_election(preset: Preset, seed: int) -> Election:
    """The whole election for `preset` and `seed`: stations, true results, fraud, curves."""
    clock = Clock.of(preset)
    stations = build_stations(preset, seed)
    priority = camera_priority(stations, preset, seed)
    featured = priority[: preset.render]
    rank = np.full(len(stations), -1)
    rank[priority] = np.arange(len(priority))
    stations = stations.assign(priority=rank, featured=(rank >= 0) & (rank < preset.render))

    intents = inflation_intents(stations, preset, featured, seed)
    means = _station_means(preset, stations, seed)
    reg = stations["registered"].to_numpy(float)
    ab = _calibrate(preset, reg, means[0], means[1], intents)
    true = _true_results(preset, stations, seed, ab, means)

    n, k = len(stations), len(clock.checkpoint_hours)
    voters = true["voters"].to_numpy(np.int64)
    headroom = stations["registered"].to_numpy(np.int64) - voters
    carousels: tuple[CarouselGroup, ...] = ()
    stuffing: tuple[StuffingEvent, ...] = ()
    inflation = np.zeros(n, dtype=np.int64)
    if not preset.clean:
        carousels = plan_carousels(stations, headroom, featured, preset, clock, seed)
        stuffing = plan_stuffing(stations, headroom, featured, preset, clock, seed)
        inflation = np.clip(np.round(intents * voters).astype(np.int64), 0, headroom)

    rng = stream(seed, "checkpoints")
    weights = np.asarray(preset.fraud.inflation_weights, dtype=float)
    infl_split = _split_counts(rng, inflation, np.broadcast_to(weights / weights.sum(), (n, k)))
    shares = interval_shares(clock.checkpoint_hours, clock.polls_hours)
    g = rng.gamma(np.broadcast_to(_CURVE_CONCENTRATION * shares, (n, k)))
    legit = _split_counts(rng, voters, g / g.sum(axis=1, keepdims=True))
    return Election(
        preset=preset,
        seed=seed,
        clock=clock,
        stations=stations,
        priority=tuple(priority),
        true=true,
        inflation=inflation,
        inflation_intervals=infl_split,
        stuffing=stuffing,
        carousels=carousels,
        legit_intervals=legit,
        calibration=ab,
    )
