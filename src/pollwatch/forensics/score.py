"""A per-station anomaly score with a calibrated meaning.

Each station gets up to three one-sided p-values, each a tail probability under a model of a
clean station:

* ``p_fingerprint``: turnout and winner share jointly too high for the station's region.
  Both are robust z-scores within the region (`pollwatch.forensics.robust`: median centre,
  MAD spread net of binomial noise, so up to half a region may be anomalous without moving
  the reference); ``Z = (z_turnout + z_share) / sqrt(2 + 2ρ)`` with ρ their robust
  correlation, ``p = P(N(0, 1) ≥ Z)``. Ballot stuffing raises both.
* ``p_integer``: when the station's turnout or winner share is an integer percentage, the
  probability of that happening by chance under the binomial null of the integer test (the
  station's own rates); 1 otherwise.
* ``p_checkpoints`` (when checkpoints were given): the smaller of the late-surge and the
  round-increment p-values, Bonferroni-corrected (× 2); 1e-6 for an impossible count
  (checkpoint above the final or the register, a count going down) and 1e-4 for a sequence
  of increments identical to another station's (conventional floors, not calibrated).

They are combined by Šidák's correction of the smallest: ``p = 1 − (1 − min p)^m`` for m
components, a valid tail probability when the components are independent (conservative for
the discrete ones). ``anomaly_score = −log10(p)``, capped at 16: under the clean model
P(score ≥ s) ≤ 10^−s, so a score of 2 is a 1 % tail, 3 a 0.1 % tail. The score says how
surprising a station is, not how many votes were added (see Shpilkin's estimate and the
camera extrapolation for that). A region where most stations are falsified sets its own
reference and scores low: read the score together with the regional breakdown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from pollwatch.forensics.checkpoints import CheckpointResult
from pollwatch.forensics.integer_peaks import IntegerPeaksResult
from pollwatch.forensics.robust import robust_z
from pollwatch.forensics.stations import Stations

__all__ = ["MAX_SCORE", "AnomalyScores", "anomaly_scores"]

MAX_SCORE = 16.0
_IMPOSSIBLE = 1e-6
_IDENTICAL = 1e-4
_MAD = 1.4826


@dataclass(frozen=True)
class AnomalyScores:
    """`score` = −log10(`pvalue`) per station, aligned with the `Stations`; `components` has
    station_id, z_turnout, z_share, p_fingerprint, p_integer, p_checkpoints."""

    station_id: np.ndarray
    score: np.ndarray
    pvalue: np.ndarray
    components: pd.DataFrame
    rho: float

    def top(self, k: int = 20) -> pd.DataFrame:
        """The `k` highest-scoring stations with their components."""
        order = np.argsort(-np.nan_to_num(self.score, nan=-1.0), kind="stable")[:k]
        out = self.components.iloc[order].copy()
        out.insert(1, "anomaly_score", self.score[order])
        return out.reset_index(drop=True)

    def share_above(self, score: float) -> float:
        """Fraction of scored stations with a score ≥ `score`."""
        ok = np.isfinite(self.score)
        return float(np.mean(self.score[ok] >= score)) if ok.any() else float("nan")


def _robust_rho(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10:
        return 0.0
    plus = _MAD * np.median(np.abs(a[ok] + b[ok] - np.median(a[ok] + b[ok])))
    minus = _MAD * np.median(np.abs(a[ok] - b[ok] - np.median(a[ok] - b[ok])))
    if plus**2 + minus**2 == 0:
        return 0.0
    return float(np.clip((plus**2 - minus**2) / (plus**2 + minus**2), -0.95, 0.95))


def _checkpoint_p(ids: np.ndarray, result: CheckpointResult) -> np.ndarray:
    s = result.stations.set_index("station_id")
    p = np.minimum(2 * np.minimum(s["late_pvalue"], s["round_pvalue"]), 1.0)
    p = np.where(s["identical_group"] >= 0, np.minimum(p, _IDENTICAL), p)
    impossible = s["above_final"] | s["above_registered"] | s["decreasing"]
    p = pd.Series(np.where(impossible, _IMPOSSIBLE, p), index=s.index)
    return p.reindex(ids).to_numpy(dtype=float)


def anomaly_scores(
    stations: Stations,
    *,
    integer: IntegerPeaksResult | None = None,
    checkpoints: CheckpointResult | None = None,
    min_region: int = 30,
) -> AnomalyScores:
    """Score every station (see the module docstring). `integer` must come from the same
    `Stations`; stations without checkpoints get no checkpoint component."""
    n = len(stations)
    if integer is not None and len(integer.station_integer) != n:
        raise ValueError("integer: result of another set of stations")
    reg = stations.registered
    issued = np.minimum(stations.ballots_issued, reg)
    cast = stations.ballots_cast
    winner = np.minimum(stations.winner_votes, cast)
    z_t = robust_z(issued, reg, stations.region, min_group=min_region)
    z_s = robust_z(winner, cast, stations.region, min_group=min_region)
    rho = _robust_rho(z_t, z_s)
    z = (z_t + z_s) / np.sqrt(2 + 2 * rho)
    p_fp = stats.norm.sf(z)
    parts = [p_fp]
    p_int = np.ones(n)
    if integer is not None:
        hit = integer.station_integer
        p_int[hit] = integer.station_probability[hit]
        parts.append(p_int)
    p_cp = np.full(n, np.nan)
    if checkpoints is not None:
        p_cp = _checkpoint_p(stations.station_id, checkpoints)
        parts.append(p_cp)
    matrix = np.column_stack(parts)
    m = np.sum(np.isfinite(matrix), axis=1)
    pmin = np.nanmin(np.where(np.isfinite(matrix), matrix, np.inf), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        combined = np.where(m > 0, -np.expm1(m * np.log1p(-np.minimum(pmin, 1.0))), np.nan)
    combined = np.where(np.isfinite(combined), np.maximum(combined, 10.0**-MAX_SCORE), np.nan)
    score = np.minimum(-np.log10(combined), MAX_SCORE)
    components = pd.DataFrame(
        {
            "station_id": stations.station_id,
            "z_turnout": z_t,
            "z_share": z_s,
            "p_fingerprint": p_fp,
            "p_integer": p_int if integer is not None else np.nan,
            "p_checkpoints": p_cp,
        }
    )
    return AnomalyScores(
        station_id=stations.station_id,
        score=score,
        pvalue=combined,
        components=components,
        rho=rho,
    )
