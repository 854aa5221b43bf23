"""Integer-percentage peaks (Kobak, Shpilkin & Pshenichnikov, Ann. Appl. Stat. 10(1) 2016).

People who write a protocol's numbers by hand to reach a target tend to pick round
percentages, so a forged election has too many stations whose turnout or winner share is an
integer percentage. The test counts stations whose turnout *or* winner share lies within
±`tolerance_pp` percentage points of an integer and compares the count with a binomial null:
each station's ballots issued ~ Binomial(registered, its turnout) and winner's votes ~
Binomial(ballots cast, its winner share), independently.

Methods of computing the null (both give the same null distribution):

* ``"exact"`` (default, fast): the probability p_i that station i comes out integer is summed
  exactly from binomial probabilities (`scipy.special.gammaln`), and each Monte Carlo
  repetition draws the stations' integer/non-integer outcomes as Bernoulli(p_i). The expected
  count is Σ p_i exactly.
* ``"binomial"`` (Kobak et al.'s procedure, slow): each repetition draws new binomial counts
  for every station; the expected count is the repetitions' mean.

Filters as in Kobak et al.: registered ≥ 100, at least one ballot issued and one cast, turnout
and winner share ≤ 99 %.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, xlog1py, xlogy

__all__ = ["IntegerPeaksResult", "integer_percentages", "integer_probability", "is_integer_pct"]

_EPS = 1e-9


@dataclass(frozen=True)
class IntegerPeaksResult:
    """`statistic` = excess = observed − expected integer stations; `pvalue` from the null.

    Station arrays are aligned with the input (NaN / False for filtered-out stations)."""

    statistic: float
    pvalue: float
    observed: int
    expected: float
    null_q999: float
    null_excess: np.ndarray
    stations: int
    n_mc: int
    method: str
    station_integer: np.ndarray
    station_probability: np.ndarray

    @property
    def excess(self) -> float:
        return self.statistic

    def null_quantile(self, q: float) -> float:
        """The `q` quantile of the excess under the null."""
        return float(np.quantile(self.null_excess, q))


def is_integer_pct(k: np.ndarray, n: np.ndarray, tolerance_pp: float = 0.05) -> np.ndarray:
    """Whether 100·k/n lies within ±`tolerance_pp` of an integer (inclusive); False if n = 0."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = 100.0 * k / n
        dist = np.abs(pct - np.round(pct))
    return (n > 0) & (dist <= tolerance_pp + _EPS)


def integer_probability(
    n: np.ndarray, p: np.ndarray, tolerance_pp: float = 0.05, width_sd: float = 8.0
) -> np.ndarray:
    """P(100·K/n within ±`tolerance_pp` of an integer) for K ~ Binomial(n, p), per element.

    Exact up to the binomial mass beyond ±`width_sd` standard deviations (< 1e-14)."""
    n = np.asarray(n, dtype=np.int64)
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    if n.shape != p.shape or n.ndim != 1:
        raise ValueError("n and p must be 1-D arrays of the same length")
    if np.any(n <= 0):
        raise ValueError("n must be > 0")
    nf = n.astype(float)
    sd = np.sqrt(nf * p * (1.0 - p))
    k_lo = np.clip(np.floor(nf * p - width_sd * sd - 1), 0, nf)
    k_hi = np.clip(np.ceil(nf * p + width_sd * sd + 1), 0, nf)
    m_lo = np.floor(100.0 * k_lo / nf).astype(np.int64)
    m_hi = np.ceil(100.0 * k_hi / nf).astype(np.int64)
    # one entry per (station, integer percentage m) in range
    width = m_hi - m_lo + 1
    station = np.repeat(np.arange(len(n)), width)
    start = np.repeat(np.cumsum(width) - width, width)
    m = m_lo[station] + (np.arange(len(station)) - start)
    ns = nf[station]
    lo = np.maximum(np.ceil(ns * (m - tolerance_pp) / 100.0 - _EPS), k_lo[station])
    hi = np.minimum(np.floor(ns * (m + tolerance_pp) / 100.0 + _EPS), k_hi[station])
    count = np.maximum(hi - lo + 1, 0).astype(np.int64)
    # one entry per (station, k) with an integer percentage
    station2 = np.repeat(station, count)
    start2 = np.repeat(np.cumsum(count) - count, count)
    k = np.repeat(lo, count) + (np.arange(len(station2)) - start2)
    n2 = n[station2]
    p2 = p[station2]
    log_factorial = gammaln(np.arange(int(n.max()) + 1) + 1.0)
    ki = k.astype(np.int64)
    logpmf = (
        log_factorial[n2]
        - log_factorial[ki]
        - log_factorial[n2 - ki]
        + xlogy(k, p2)
        + xlog1py(n2 - k, -p2)
    )
    return np.minimum(np.bincount(station2, weights=np.exp(logpmf), minlength=len(n)), 1.0)


def _null_exact(
    issued: np.ndarray,
    registered: np.ndarray,
    winner: np.ndarray,
    cast: np.ndarray,
    tolerance_pp: float,
    n_mc: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float, np.ndarray]:
    pt = integer_probability(registered, issued / registered, tolerance_pp)
    ps = integer_probability(cast, winner / cast, tolerance_pp)
    prob = 1.0 - (1.0 - pt) * (1.0 - ps)
    counts = np.empty(n_mc)
    chunk = max(1, 2_000_000 // max(len(prob), 1))
    p32 = prob.astype(np.float32)
    for start in range(0, n_mc, chunk):
        reps = min(chunk, n_mc - start)
        u = rng.random((reps, len(prob)), dtype=np.float32)
        counts[start : start + reps] = (u < p32).sum(axis=1)
    return counts, float(prob.sum()), prob


def _null_binomial(
    issued: np.ndarray,
    registered: np.ndarray,
    winner: np.ndarray,
    cast: np.ndarray,
    tolerance_pp: float,
    n_mc: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float, np.ndarray]:
    counts = np.empty(n_mc)
    hits = np.zeros(len(issued))
    for b in range(n_mc):
        g = rng.binomial(registered, issued / registered)
        w = rng.binomial(cast, winner / cast)
        ints = is_integer_pct(g, registered, tolerance_pp) | is_integer_pct(w, cast, tolerance_pp)
        counts[b] = ints.sum()
        hits += ints
    return counts, float(counts.mean()), hits / max(n_mc, 1)


_METHODS: dict[str, Callable[..., tuple[np.ndarray, float, np.ndarray]]] = {
    "exact": _null_exact,
    "binomial": _null_binomial,
}


def integer_percentages(
    registered: np.ndarray,
    ballots_issued: np.ndarray,
    ballots_cast: np.ndarray,
    winner_votes: np.ndarray,
    *,
    n_mc: int = 1000,
    seed: int | np.random.Generator | None = None,
    method: str = "exact",
    tolerance_pp: float = 0.05,
    min_registered: int = 100,
    max_rate: float = 0.99,
) -> IntegerPeaksResult:
    """Excess of stations with an integer-percentage turnout or winner share over a binomial
    Monte Carlo null of `n_mc` repetitions; `pvalue` = (1 + #null excess ≥ observed) /
    (n_mc + 1)."""
    arrays = [np.asarray(a) for a in (registered, ballots_issued, ballots_cast, winner_votes)]
    n = len(arrays[0])
    if any(a.shape != (n,) for a in arrays):
        raise ValueError("registered, ballots_issued, ballots_cast, winner_votes: same length")
    if n_mc < 1:
        raise ValueError(f"n_mc must be >= 1, got {n_mc}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {sorted(_METHODS)}, got {method!r}")
    if not 0 < tolerance_pp < 0.5:
        raise ValueError(f"tolerance_pp must be in (0, 0.5), got {tolerance_pp}")
    reg, issued, cast, winner = (a.astype(np.int64) for a in arrays)
    if np.any(winner > cast):
        raise ValueError("winner_votes above ballots_cast")
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (
            (reg >= min_registered)
            & (issued > 0)
            & (cast > 0)
            & (issued <= max_rate * reg + _EPS)
            & (winner <= max_rate * cast + _EPS)
        )
    rng = np.random.default_rng(seed)
    r, g, c, w = reg[keep], issued[keep], cast[keep], winner[keep]
    integer = is_integer_pct(g, r, tolerance_pp) | is_integer_pct(w, c, tolerance_pp)
    observed = int(integer.sum())
    if len(r):
        counts, expected, prob = _METHODS[method](g, r, w, c, tolerance_pp, n_mc, rng)
    else:
        counts, expected, prob = np.zeros(n_mc), 0.0, np.zeros(0)
    null = counts - expected
    excess = observed - expected
    station_integer = np.zeros(n, dtype=bool)
    station_integer[keep] = integer
    station_prob = np.full(n, np.nan)
    station_prob[keep] = prob
    return IntegerPeaksResult(
        statistic=float(excess),
        pvalue=float((1 + np.sum(null >= excess)) / (n_mc + 1)),
        observed=observed,
        expected=float(expected),
        null_q999=float(np.quantile(null, 0.999)),
        null_excess=null,
        stations=int(keep.sum()),
        n_mc=n_mc,
        method=method,
        station_integer=station_integer,
        station_probability=station_prob,
    )
