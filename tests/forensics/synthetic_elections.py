"""Synthetic elections for the forensics tests, independent of `pollwatch.simulate`.

A clean election: regions with their own mean turnout and winner share; each station's
rates scatter a little around its region's (logit-normal, `station_sd`), and every count is
binomial around them. Fraud is added on top with known size, so tests know the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

CANDIDATES = ("Avery", "Blake", "Casey")


def clean_election(
    rng: np.random.Generator,
    *,
    regions: int = 20,
    stations_per_region: int = 100,
    registered: tuple[int, int] = (300, 2500),
    turnout: tuple[float, float] = (0.55, 0.08),
    share: tuple[float, float] = (0.5, 0.08),
    station_sd: float = 0.1,
) -> pd.DataFrame:
    """A results table (station_id, region, registered, ballots_issued, ballots_cast, invalid,
    one column per candidate) of a clean election; the first candidate usually wins."""
    n = regions * stations_per_region
    region = np.repeat(np.arange(regions), stations_per_region)
    t_region = np.clip(rng.normal(*turnout, regions), 0.2, 0.9)
    s_region = np.clip(rng.normal(*share, regions), 0.2, 0.8)
    reg = rng.integers(registered[0], registered[1] + 1, n)
    p_t = expit(logit(t_region[region]) + rng.normal(0, station_sd, n))
    p_s = expit(logit(s_region[region]) + rng.normal(0, station_sd, n))
    issued = rng.binomial(reg, p_t)
    cast = issued - rng.binomial(issued, 0.002)
    invalid = rng.binomial(cast, 0.015)
    valid = cast - invalid
    winner = rng.binomial(valid, p_s)
    second = rng.binomial(valid - winner, 0.6)
    third = valid - winner - second
    return pd.DataFrame(
        {
            "station_id": [f"S{i:05d}" for i in range(n)],
            "region": [f"R{r:02d}" for r in region],
            "registered": reg,
            "ballots_issued": issued,
            "ballots_cast": cast,
            "invalid": invalid,
            CANDIDATES[0]: winner,
            CANDIDATES[1]: second,
            CANDIDATES[2]: third,
        }
    )


def add_stuffing(
    frame: pd.DataFrame,
    rng: np.random.Generator,
    *,
    station_fraction: float = 0.2,
    region_fraction: float = 1.0,
    size: tuple[float, float] = (0.05, 0.3),
) -> tuple[pd.DataFrame, np.ndarray]:
    """Stuff ballots for the first candidate: in `region_fraction` of the regions, each
    station with probability `station_fraction` gets a uniform `size` fraction of its
    non-voters as extra ballots. Returns the new table and the ballots added per station."""
    out = frame.copy()
    regions = out["region"].unique()
    chosen = set(rng.choice(regions, max(1, round(region_fraction * len(regions))), replace=False))
    hit = out["region"].isin(chosen).to_numpy() & (rng.random(len(out)) < station_fraction)
    room = (out["registered"] - out["ballots_issued"]).to_numpy()
    added = np.where(hit, np.round(rng.uniform(*size, len(out)) * room), 0).astype(np.int64)
    for col in ("ballots_issued", "ballots_cast", CANDIDATES[0]):
        out[col] = out[col].to_numpy() + added
    return out, added


def round_turnouts(
    frame: pd.DataFrame, rng: np.random.Generator, *, station_fraction: float = 0.02
) -> tuple[pd.DataFrame, np.ndarray]:
    """Rewrite the protocol of a fraction of stations so that turnout is a whole percentage
    (the added or removed ballots go to the first candidate); stations where no count gives
    a whole percentage within ±0.05 are left alone."""
    out = frame.copy()
    reg = out["registered"].to_numpy()
    whole = np.round(100 * out["ballots_issued"].to_numpy() / reg)
    target = np.round(whole * reg / 100)
    reachable = np.abs(100 * target / reg - whole) <= 0.05
    hit = (rng.random(len(out)) < station_fraction) & reachable
    delta = np.where(hit, target - out["ballots_issued"].to_numpy(), 0).astype(np.int64)
    delta = np.maximum(delta, -out[CANDIDATES[0]].to_numpy())
    for col in ("ballots_issued", "ballots_cast", CANDIDATES[0]):
        out[col] = out[col].to_numpy() + delta
    return out, hit


def camera_counts(
    frame: pd.DataFrame,
    added: np.ndarray,
    rng: np.random.Generator,
    *,
    fraction: float = 0.1,
    noise: float = 0.02,
    unobservable: float = 0.1,
) -> pd.DataFrame:
    """What a counting detector reports at a random `fraction` of stations: the voters
    really seen (issued − added) with relative noise `noise`, bounds ±2 noise; a share
    `unobservable` of the cameras saw only part of the day (bounds only)."""
    n = len(frame)
    pick = np.flatnonzero(rng.random(n) < fraction)
    true = (frame["ballots_issued"].to_numpy() - added)[pick].astype(float)
    seen = np.round(true * (1 + rng.normal(0, noise, len(pick))))
    share = np.where(rng.random(len(pick)) < unobservable, rng.uniform(0.1, 0.7, len(pick)), 1.0)
    partial = share < 1
    lower = np.where(partial, np.round(seen * share), np.floor(seen - 2 * noise * true))
    upper = np.where(
        partial, frame["registered"].to_numpy()[pick], np.ceil(seen + 2 * noise * true)
    )
    return pd.DataFrame(
        {
            "station_id": frame["station_id"].to_numpy()[pick],
            "observed": np.where(partial, np.nan, seen),
            "observed_lower": lower,
            "observed_upper": upper,
            "observable_share": share,
        }
    )


CHECKPOINT_TIMES = (
    "2024-02-07T10:00:00+04:00",
    "2024-02-07T12:00:00+04:00",
    "2024-02-07T15:00:00+04:00",
    "2024-02-07T18:00:00+04:00",
)
CHECKPOINT_SHARES = (0.12, 0.35, 0.62, 0.85)


def turnout_checkpoints(
    frame: pd.DataFrame, rng: np.random.Generator, added: np.ndarray | None = None
) -> pd.DataFrame:
    """Official intra-day counts (station_id, time, voters_cumulative): the true voters
    (ballots issued minus `added`) arrive over the day, the expected share having arrived by
    each time being CHECKPOINT_SHARES (multinomial draws). Stuffed ballots are not in them:
    they show up only in the final count, as a late surge."""
    true = frame["ballots_issued"].to_numpy() - (0 if added is None else added)
    shares = np.diff(np.r_[0.0, CHECKPOINT_SHARES, 1.0])
    counts = np.cumsum(rng.multinomial(true, shares)[:, :-1], axis=1)
    return pd.DataFrame(
        {
            "station_id": np.repeat(frame["station_id"].to_numpy(), len(CHECKPOINT_TIMES)),
            "time": np.tile(CHECKPOINT_TIMES, len(frame)),
            "voters_cumulative": counts.ravel(),
        }
    )
