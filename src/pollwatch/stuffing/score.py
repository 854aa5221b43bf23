"""How unlikely a drop episode is for legitimate voting, and how many ballots it added.

Legitimate voters reach the slot one after another; now and then a family or a group drops
theirs within a few seconds of each other. The test's model: an episode grows by one more
ballot whenever the next legitimate ballot comes within the episode gap g of the last, which
for ballots arriving at the camera's own rate λ (its other counted ballots per second
watched), made burstier by the clustering factor c (`CLUSTERING`, measured on the demo-clean
preset), happens with probability q = 1 − exp(−c·λ·g). So a legitimate episode holds B or
more ballots with probability q^(B − 1); any of the camera's n episodes could have been the
large one, so the day's p-value is 1 − (1 − q^(B−1))^n (Šidák). The extra ballots are B, one
fewer at the lower bound (the person at the slot may have been entitled to one), with the
counter's 95% interval for its measured miss and false-drop rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from pollwatch.counting.calibration import COUNTER_ERRORS
from pollwatch.counting.stats import CounterErrors, count_bounds

__all__ = ["CLUSTERING", "EpisodeTest", "episode_test", "extra_ballots", "rise_test"]

# legitimate ballots bunch a little more than a Poisson process would: the factor that fits
# the episode sizes of the demo-clean preset (seed 1), by maximum likelihood (docs/stuffing.md)
CLUSTERING = 1.0


@dataclass(frozen=True)
class EpisodeTest:
    """The test of one episode: `statistic` (ballots B), `q` (the chance a legitimate episode
    grows by one more ballot), `expected` (legitimate ballots expected within a gap),
    `p_local` (one episode: q^(B−1)) and `pvalue` (any of the day's episodes)."""

    statistic: int
    q: float
    expected: float
    p_local: float
    pvalue: float

    @property
    def score(self) -> float:
        """−log10 of the p-value, capped at 15."""
        return float(min(15.0, -math.log10(max(self.pvalue, 1e-15))))


def episode_test(
    ballots: int,
    rate_per_s: float,
    episodes: int,
    *,
    gap_s: float = 2.5,
    clustering: float = CLUSTERING,
) -> EpisodeTest:
    """Test an episode of B = `ballots` ballots against legitimate ballots at `rate_per_s`
    a second, episodes grouped with gap `gap_s`, any of `episodes` episodes eligible."""
    if ballots < 0:
        raise ValueError(f"ballots must be >= 0, got {ballots}")
    if not rate_per_s >= 0 or not math.isfinite(rate_per_s):
        raise ValueError(f"rate_per_s must be finite and >= 0, got {rate_per_s}")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if not gap_s > 0 or not clustering > 0:
        raise ValueError("gap_s and clustering must be positive")
    mu = clustering * rate_per_s * gap_s
    q = float(-np.expm1(-mu))
    p_local = float(q ** (ballots - 1)) if ballots > 1 else 1.0
    # 1 − (1 − p)^n without losing small p to rounding
    p_day = float(-np.expm1(episodes * np.log1p(-min(p_local, 1.0 - 1e-16))))
    return EpisodeTest(int(ballots), q, float(mu), p_local, min(1.0, p_day))


def rise_test(
    rise_ballots: float, duration_s: float, rate_per_s: float, *, clustering: float = CLUSTERING
) -> float:
    """P-value of the pile rising by `rise_ballots` ballots during `duration_s` seconds the box
    could not be watched, for legitimate ballots at `rate_per_s` (one window, no multiplicity:
    the period is given, not searched for)."""
    if not duration_s >= 0 or not rate_per_s >= 0:
        raise ValueError("duration_s and rate_per_s must be >= 0")
    if not math.isfinite(rise_ballots) or rise_ballots <= 0:
        return 1.0
    mu = clustering * rate_per_s * duration_s
    return float(stats.poisson.sf(math.floor(rise_ballots) - 1, mu))


def extra_ballots(ballots: int, errors: CounterErrors = COUNTER_ERRORS) -> tuple[int, int, int]:
    """(estimate, lower, upper) of the ballots an episode of `ballots` counted ballots added
    beyond the legitimate ones: all of them by estimate (one person's repeated drops); the
    bounds are the counter's 95% interval of the true number (`count_bounds`, from its
    measured miss and false-drop rates), one fewer at the lower end (the person's own
    ballot)."""
    if ballots < 0:
        raise ValueError(f"ballots must be >= 0, got {ballots}")
    bounds = count_bounds(int(ballots), errors)
    return int(ballots), max(0, int(bounds.lower) - 1), int(max(bounds.upper, ballots))
