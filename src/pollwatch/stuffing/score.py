"""How unlikely a drop episode is for legitimate voting, and how many ballots it added.

Legitimate voters reach the slot one after another; a family or two friends now and then drop
theirs together, and a busy box sees the next voter soon after. The test's model of an
episode's size B (ballots): it holds a second ballot with probability π (`PAIR_SHARE`: a
family, or the next voter within the episode gap), and grows by each further ballot with
probability q = 1 − exp(−c·λ·g): the next legitimate ballot comes within the gap g of the last,
for ballots arriving at the camera's own rate λ (its other counted ballots per second watched)
and the clustering factor c (`CLUSTERING`). Both π and c are measured on the demo-clean preset
by maximum likelihood (benchmarks/stuffing_calibration.py). So a legitimate episode holds B ≥ 3
ballots with probability π·q^(B−2); any of the camera's n episodes could have been the large
one, so the day's p-value is 1 − (1 − p)^n (Šidák). The extra ballots are B, one fewer at the
lower bound (the person at the slot may have been entitled to one), with the counter's 95%
interval for its measured miss and false-drop rates.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from pollwatch.counting.calibration import COUNTER_ERRORS
from pollwatch.counting.stats import CounterErrors, count_bounds

__all__ = [
    "BOX_STEP_ERROR",
    "BOX_STEP_RATIO",
    "CLUSTERING",
    "HANDS_TAIL_DECAY",
    "HANDS_TAIL_LOW_RES",
    "HIDDEN_DISPERSION",
    "HIDDEN_DISPERSION_BY_LENGTH",
    "PAIR_SHARE",
    "PILE_RATIO",
    "PILE_TAIL",
    "PILE_TAIL_DECAY",
    "PILE_TAIL_FROM",
    "RISE_TAIL",
    "RISE_TAIL_DECAY",
    "RISE_TAIL_FROM",
    "EpisodeTest",
    "box_step_bounds",
    "day_pvalue",
    "episode_test",
    "extra_ballots",
    "hands_tail",
    "hidden_dispersion",
    "hidden_extra",
    "pile_tail",
    "rise_test",
]

# measured on demo-clean seed 1 by benchmarks/stuffing_calibration.py (docs/stuffing.md): π
# as measured (0.23–0.26), c at its one-sided 95% upper bound: no legitimate episode of three
# in 14 of two or more (the maximum-likelihood c is near 0), one in 15 with the counter's
# earlier version (0.44); c = 1 (a Poisson stream of voters) covers both
PAIR_SHARE = 0.26  # share of legitimate episodes with two ballots or more
CLUSTERING = 1.0  # rate factor of the chance a legitimate episode grows beyond two
# The pile's reading has a tail the count model does not know: evidence that rests on the pile
# alone (a rise beyond the counted ballots) is no stronger than the chance a legitimate
# episode's pile reads that far above its ballots. One of 917 legitimate episodes with a
# readable pile on the tuning cases (demo 0, 1, 21-25, 31, 32, 41, 42, 71-73, demo-clean 1,
# 31, 41-43, 74, 75) read 5 or more ballots above those counted (5.94, demo 72; the next
# largest 4.33): 0.0052, the one-sided 95% Clopper-Pearson bound of 1/917.
PILE_TAIL = 0.0052
# ... and beyond 5 ballots the tail falls by this factor a ballot: over the same 917 episodes
# the 12 excesses above 2 ballots exceed it by 1.39 ballots in the mean (an exponential tail,
# 0.49 a ballot, P(>= 5) 0.0015 against 1/917 seen); 0.66 is exp(-1/2.41), 2.41 the one-sided
# 95% upper bound of that mean (chi-square, 24 degrees of freedom)
PILE_TAIL_DECAY = 0.66
PILE_TAIL_FROM = 5.0
# Between two episodes nobody stands at the box and the pile reads far more steadily: over
# 645 gaps of 8 s or more on legitimate time (94 cameras of the 640x360 tuning cases with a
# readable pile: demo 0, 1, 21-25, 31, 32, 41, 42, 71-73, 76-78, demo-clean 1, 31, 41-43, 74,
# 75, 79, 80; benchmarks/stuffing_calibration.py --legit-only) the pile rose by 1 ballot or more
# across 3 (1.01, 1.09, 2.30; none by 3): P(rise >= 1) at most 0.012 (the one-sided 95%
# Clopper-Pearson bound of 3/645), each further ballot a factor 0.56 (exp(-1/1.72), 1.72 the
# one-sided 95% upper bound of the three's mean excess over 1 ballot, 0.47; chi-square).
# The 2.30 was on the counter's rough time (the box out of focus), whose stretches now take
# PILE_TAIL (`detect._rises`); on the 642 left, 2 rose >= 1 (1.01, 1.09: bound 0.0098), and
# both values are kept, the larger side.
RISE_TAIL = 0.012
RISE_TAIL_DECAY = 0.56
RISE_TAIL_FROM = 1.0
# What a count of hand movements alone proves on a camera below the resolution the counter's
# error rates were measured at (640x360, `COUNTER_ERRORS`): at 320x180 the ballot slot is a
# dozen pixels and one voter's hand is now and then counted as several drops 1-2 s apart, as
# a stuffer's would be. Of 171 legitimate episodes on the 40 cameras of azerbaijan-2024-clean
# seeds 90 and 91 (320x180, 10 fps, the pile never readable) three were counted as 3, 4 and 5
# drops (each one voter's ballot): P(B >= 3) at most 0.045 (the one-sided 95% Clopper-Pearson
# bound of 3/171), each further drop a factor 0.5 (the three's sizes beyond 3, 0, 1 and 2:
# the geometric maximum-likelihood factor).
HANDS_TAIL_LOW_RES = 0.045
HANDS_TAIL_DECAY = 0.5
# The ballots the counter read off the pile for a bundle against the truth, on the eight
# bundles of the tuning cases (demo 0, 1, 22-24, 32, 41, 73): the true number was 0.73 to
# 1.33 times the counter's (demo 0: 8 for 11; demo 73: 8 for 6). A bundle's bounds reach at
# least that far.
PILE_RATIO = (0.73, 1.33)
# Legitimate voters come in bursts: over disjoint windows of watched time on the cameras
# without a stuffer of the 28 640x360 tuning cases (benchmarks/stuffing_calibration.py
# --legit-only, `window_dispersion`) the counted ballots' variance over their mean (the
# camera's rate outside the window times its length) was 1.26 for windows of 15 s, 1.61
# (30 s), 2.10 (60 s), 2.95 (90 s) and 2.80 (120 s): a Poisson count put 4% of 60-s windows
# below p = 0.01. A rise across a period the box was not watched is tested with that
# variance (a negative binomial of the Poisson's mean): with 3, at most 0.7% of the windows
# of any length fell below p = 0.02, and 0.65% (15 s) to 4.7% (120 s) below 0.05.
HIDDEN_DISPERSION = 3.0
# The same measured ratios (re-measured in session 10: 1.258, 1.606, 2.100, 2.952, 2.796) as
# (window length s, variance over mean) knots for a blind range of that length
# (`hidden_dispersion`): the 90-s knot is the cap 3.0, above the 90-s (2.95) and 120-s (2.80)
# ratios, so the dispersion never falls as the range grows. Taken so, 2.4% (15 s), 2.8%
# (30 s), 3.8% (60 s), 3.7% (90 s), 4.7% (120 s) of the windows fell below p = 0.05, at
# most 0.71% below 0.02.
HIDDEN_DISPERSION_BY_LENGTH = ((15.0, 1.26), (30.0, 1.61), (60.0, 2.10), (90.0, HIDDEN_DISPERSION))
# Where the counter resolved no per-ballot step, the pile may be read with a step of a share of
# the box's height (`DetectOptions.box_step`). On the 161 640x360 tuning cameras with a
# measured step (44 cases, docs/stuffing.md "A step from the box's height") the step over the
# box's height was 0.0107 in the median, 0.0129 at the 95th percentile: taken, a rise reads as
# fewer ballots than it holds on 95% of them. The measured step over 0.0129 x the height was
# 0.667-1.05 (2.5th-97.5th percentile; 0.57-1.93 in all, 9 of 161 above 1): the true ballots
# are the read ones over that, and the bounds of ballots read so are widened by it.
BOX_STEP_RATIO = 0.0129
BOX_STEP_ERROR = (0.667, 1.05)


@dataclass(frozen=True)
class EpisodeTest:
    """The test of one episode: `statistic` (ballots B), `q` (the chance a legitimate episode
    grows by one more ballot beyond two), `expected` (legitimate ballots expected within a
    gap), `p_local` (one episode: π·q^(B−2) for B ≥ 2) and `pvalue` (any of the day's
    episodes)."""

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
    pair_share: float = PAIR_SHARE,
) -> EpisodeTest:
    """Test an episode of B = `ballots` ballots against legitimate ballots at `rate_per_s`
    a second, episodes grouped with gap `gap_s`, any of `episodes` episodes eligible;
    `pair_share`: the share of legitimate episodes with two ballots or more."""
    if ballots < 0:
        raise ValueError(f"ballots must be >= 0, got {ballots}")
    if not rate_per_s >= 0 or not math.isfinite(rate_per_s):
        raise ValueError(f"rate_per_s must be finite and >= 0, got {rate_per_s}")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if not gap_s > 0 or not clustering > 0:
        raise ValueError("gap_s and clustering must be positive")
    if not 0 < pair_share <= 1:
        raise ValueError(f"pair_share must be in (0, 1], got {pair_share}")
    mu = clustering * rate_per_s * gap_s
    q = float(-np.expm1(-mu))
    p_local = float(pair_share * q ** (ballots - 2)) if ballots > 1 else 1.0
    return EpisodeTest(int(ballots), q, float(mu), p_local, day_pvalue(p_local, episodes))


def day_pvalue(p_local: float, chances: int) -> float:
    """The chance that any of `chances` independent tries reaches `p_local` (Šidák):
    1 − (1 − p)^n, without losing a small p to rounding."""
    if not 0 <= p_local <= 1 or chances < 1:
        raise ValueError(f"need p_local in [0, 1] and chances >= 1, got {p_local}, {chances}")
    return min(1.0, float(-np.expm1(chances * np.log1p(-min(p_local, 1.0 - 1e-16)))))


def rise_test(
    rise_ballots: float,
    duration_s: float,
    rate_per_s: float,
    *,
    clustering: float = CLUSTERING,
    dispersion: float = 1.0,
) -> float:
    """P-value of the pile rising by `rise_ballots` ballots during `duration_s` seconds the box
    could not be watched, for legitimate ballots at `rate_per_s` (one window, no multiplicity:
    the period is given, not searched for): Poisson, or with `dispersion` > 1 a negative
    binomial of the same mean and `dispersion` times its variance (bursts of voters,
    `HIDDEN_DISPERSION`)."""
    if not duration_s >= 0 or not rate_per_s >= 0:
        raise ValueError("duration_s and rate_per_s must be >= 0")
    if not dispersion >= 1:
        raise ValueError(f"dispersion must be >= 1, got {dispersion}")
    if not math.isfinite(rise_ballots) or rise_ballots <= 0:
        return 1.0
    mu = clustering * rate_per_s * duration_s
    return float(_legitimate(mu, dispersion).sf(math.floor(rise_ballots) - 1))


def _legitimate(mean: float, dispersion: float) -> Any:
    """The law of a count of legitimate ballots of this `mean`: Poisson, or with `dispersion`
    > 1 (and a positive mean) the negative binomial with `dispersion` times its variance."""
    if dispersion == 1 or mean <= 0:
        return stats.poisson(mean)
    return stats.nbinom(mean / (dispersion - 1.0), 1.0 / dispersion)


def pile_tail(
    excess: float,
    tail: float = PILE_TAIL,
    decay: float = PILE_TAIL_DECAY,
    start: float = PILE_TAIL_FROM,
) -> float:
    """The chance a legitimate episode's pile reads `excess` ballots or more above those
    counted: `tail` up to `start` ballots, times `decay` for each one beyond; `tail` where
    the excess is unknown (NaN). Between episodes (`RISE_TAIL`, `RISE_TAIL_DECAY`,
    `RISE_TAIL_FROM`): the chance the pile rose that far with no drop counted."""
    if not 0 <= tail <= 1 or not 0 < decay <= 1:
        raise ValueError(f"tail must be in [0, 1] and decay in (0, 1], got {tail}, {decay}")
    if not math.isfinite(excess) or excess <= start:
        return float(tail)
    return float(tail * decay ** (excess - start))


def hands_tail(
    ballots: int, tail: float = HANDS_TAIL_LOW_RES, decay: float = HANDS_TAIL_DECAY
) -> float:
    """The chance a legitimate episode is counted as `ballots` drops or more where the count
    of hand movements is not to be trusted (a low-resolution camera, the pile not backing
    it): `tail` for three, times `decay` for each further one; 1 below three."""
    if ballots < 0:
        raise ValueError(f"ballots must be >= 0, got {ballots}")
    if not 0 < tail <= 1 or not 0 < decay <= 1:
        raise ValueError(f"tail and decay must be in (0, 1], got {tail}, {decay}")
    return 1.0 if ballots < 3 else float(tail * decay ** (ballots - 3))


def extra_ballots(
    ballots: int,
    errors: CounterErrors = COUNTER_ERRORS,
    *,
    from_pile: bool = False,
    pile_ratio: tuple[float, float] = PILE_RATIO,
) -> tuple[int, int, int]:
    """(estimate, lower, upper) of the ballots an episode of `ballots` counted ballots added
    beyond the legitimate ones: all of them by estimate (one person's repeated drops); the
    bounds are the counter's 95% interval of the true number (`count_bounds`, from its
    measured miss and false-drop rates), one fewer at the lower end (the person's own
    ballot). `from_pile`: the ballots were read off the pile (a bundle): the bounds reach at
    least `pile_ratio` times the estimate."""
    if ballots < 0:
        raise ValueError(f"ballots must be >= 0, got {ballots}")
    bounds = count_bounds(int(ballots), errors)
    lower, upper = int(bounds.lower), int(max(bounds.upper, ballots))
    if from_pile:
        lower = min(lower, math.floor(pile_ratio[0] * ballots))
        upper = max(upper, math.ceil(pile_ratio[1] * ballots - 1e-9))
    return int(ballots), max(0, lower - 1), upper


def hidden_dispersion(
    duration_s: float,
    knots: tuple[tuple[float, float], ...] = HIDDEN_DISPERSION_BY_LENGTH,
) -> float:
    """Legitimate voters' burstiness (variance over mean) for a blind range of `duration_s`
    seconds, from the ratios measured on disjoint watched windows (`knots`, see
    `HIDDEN_DISPERSION`; benchmarks/stuffing_calibration.py --legit-only, `window_dispersion`):
    linear in the length between knots, the first knot's ratio at or below its length, the
    last knot's (the cap, 3.0) at or above its length. The knots must rise in length and not
    fall in ratio (a longer range never gets a smaller dispersion), each ratio >= 1."""
    if not math.isfinite(duration_s) or duration_s < 0:
        raise ValueError(f"duration_s must be finite and >= 0, got {duration_s}")
    lengths = [float(k[0]) for k in knots]
    ratios = [float(k[1]) for k in knots]
    if not knots or any(b <= a for a, b in itertools.pairwise(lengths)):
        raise ValueError(f"knots must be non-empty with rising lengths, got {knots}")
    if not ratios[0] >= 1 or any(not b >= a for a, b in itertools.pairwise(ratios)):
        raise ValueError(f"knot ratios must be >= 1 and not fall, got {knots}")
    return float(np.interp(duration_s, lengths, ratios))


def hidden_extra(
    ballots: float, expected: float, dispersion: float = HIDDEN_DISPERSION
) -> tuple[int, int, int]:
    """The ballots beyond legitimate voting in a pile rise of `ballots` across a period the
    box could not be watched, `expected` legitimate ones (mean) with `dispersion`: the
    estimate (the rise less the expected), its lower bound (the rise less the legitimate
    count's 95th percentile) and upper bound (the whole rise); zeros for NaN."""
    if not dispersion >= 1 or not expected >= 0:
        raise ValueError("dispersion must be >= 1 and expected >= 0")
    if not math.isfinite(ballots) or ballots <= 0:
        return 0, 0, 0
    whole = math.floor(ballots)
    q95 = float(_legitimate(expected, dispersion).ppf(0.95)) if expected > 0 else 0.0
    return max(0, round(ballots - expected)), max(0, whole - int(q95)), whole


def box_step_bounds(
    lower: int, upper: int, error: tuple[float, float] = BOX_STEP_ERROR
) -> tuple[int, int]:
    """Extra-ballot bounds (`lower`, `upper`) of ballots read off the pile with a step taken
    from the box's height, widened by the step's measured `error` (the measured step over
    the one taken, 95% range): the true ballots are the read ones over it."""
    lo, hi = error
    if not 0 < lo <= hi:
        raise ValueError(f"error must be 0 < low <= high, got {error}")
    return max(0, math.floor(lower / hi + 1e-9)), math.ceil(upper / lo - 1e-9)
