"""The counter's error model and the tests built on it: pure functions, frozen results.

A camera's counter sees `N` ballots go into the box in some time range and reports `C` drops.
Each true drop is missed with probability `miss_rate`, and false drops arise at `false_rate`
per true drop, so

    C = Binomial(N, 1 - miss_rate) + Poisson(false_rate × N).

`count_bounds` inverts that model (which N are compatible with the C seen, an equal-tailed
interval), and `inflation_test` asks whether an official figure O is credibly above what was
seen: H0 "N ≥ O" (the official figure is no more than the ballots that went in), rejected when
C is improbably low for N = O — the least favourable N of H0, since P(C ≤ c | N) falls with N.
The rates come from `CounterErrors`, measured on simulated calibration cases (see
docs/counting.md) as one-sided 95% bounds on either side. Each side of a decision takes the
rates least favourable to it: a low count is least surprising when misses are frequent and
false drops rare, so the test and the upper bound of N take the miss rate's upper bound and
the false-drop rate's lower bound (false drops under H0 would make a low count *more*
surprising, and an upper false rate would flag honest stations); the lower bound of N takes
the other two. Time in a range the camera could not watch is folded into the miss rate
(`CounterErrors.thinned`): its ballots went in unseen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from scipy import stats

__all__ = [
    "CountBounds",
    "CounterErrors",
    "InflationTest",
    "count_bounds",
    "count_cdf",
    "inflation_test",
    "rate_lower",
    "rate_upper",
]


@dataclass(frozen=True)
class CounterErrors:
    """Per-drop error rates of the counter: `miss_rate` (a true drop not counted, taken
    ballots included when measured against official figures) and `false_rate` (false drops
    per true drop), both upper bounds, with their lower bounds `miss_rate_low` and
    `false_rate_low` (0: none measured, the safe side). `source` says where the figures were
    measured."""

    miss_rate: float
    false_rate: float
    source: str = ""
    miss_rate_low: float = 0.0
    false_rate_low: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.miss_rate < 1:
            raise ValueError(f"miss_rate must be in [0, 1), got {self.miss_rate}")
        if not 0 <= self.false_rate < 1:
            raise ValueError(f"false_rate must be in [0, 1), got {self.false_rate}")
        if not 0 <= self.miss_rate_low <= self.miss_rate:
            raise ValueError(f"miss_rate_low must be in [0, miss_rate], got {self.miss_rate_low}")
        if not 0 <= self.false_rate_low <= self.false_rate:
            raise ValueError(
                f"false_rate_low must be in [0, false_rate], got {self.false_rate_low}"
            )

    def fewest(self) -> CounterErrors:
        """The rates under which counts run lowest (most misses, fewest false drops): what
        a test of "the official figure went in" and the upper bound of N must assume."""
        return CounterErrors(self.miss_rate, self.false_rate_low, self.source)

    def most(self) -> CounterErrors:
        """The rates under which counts run highest: what the lower bound of N assumes."""
        return CounterErrors(self.miss_rate_low, self.false_rate, self.source)

    def thinned(self, seen_share: float) -> CounterErrors:
        """These rates over a range watched for `seen_share` (0..1] of its time: the
        ballots of the rest went in unseen, so a ballot is missed with probability
        1 − (1 − m)·share on the side that assumes most misses (arrivals spread evenly)."""
        if not 0 < seen_share <= 1:
            raise ValueError(f"seen_share must be in (0, 1], got {seen_share}")
        miss = 1.0 - (1.0 - self.miss_rate) * seen_share
        return replace(self, miss_rate=min(miss, 1.0 - 1e-9))


def _check_count(name: str, value: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


@lru_cache(maxsize=4096)
def _pmf(n: int, miss_rate: float, false_rate: float) -> tuple[float, ...]:
    """P(C = c | N = n) for c = 0 .. a bound beyond which the mass is negligible."""
    hits = stats.binom.pmf(np.arange(n + 1), n, 1.0 - miss_rate)
    mu = false_rate * n
    if mu <= 0:
        return tuple(float(p) for p in hits)
    top = int(stats.poisson.ppf(1 - 1e-12, mu)) + 1
    false = stats.poisson.pmf(np.arange(top + 1), mu)
    return tuple(float(p) for p in np.convolve(hits, false))


def count_cdf(c: int, n: int, errors: CounterErrors) -> float:
    """P(C ≤ c | N = n) under the counter's error model."""
    c, n = _check_count("c", c), _check_count("n", n)
    pmf = _pmf(n, errors.miss_rate, errors.false_rate)
    return float(min(1.0, sum(pmf[: c + 1])))


@dataclass(frozen=True)
class CountBounds:
    """The true count compatible with a counted one: `lower` ≤ N ≤ `upper` at `level`."""

    counted: int
    lower: int
    upper: int
    level: float


def count_bounds(
    counted: int, errors: CounterErrors, *, level: float = 0.95, extra: int = 0
) -> CountBounds:
    """Equal-tailed interval for the true number of drops N given `counted` drops.

    `lower` is the smallest N with P(C ≥ counted | N) > (1 − level)/2 under
    `errors.most()`, `upper` the largest N with P(C ≤ counted + extra | N) > (1 − level)/2
    under `errors.fewest()`. `extra` widens the upper side by drops
    whose attribution is uncertain (e.g. detected just outside the range, within the
    counter's timing error).
    """
    counted, extra = _check_count("counted", counted), _check_count("extra", extra)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    tail = (1 - level) / 2
    high, low = errors.most(), errors.fewest()
    lower = 0
    while lower < counted and 1 - count_cdf(counted - 1, lower, high) <= tail:
        lower += 1
    upper = counted + extra
    while count_cdf(counted + extra, upper + 1, low) > tail:
        upper += 1
    return CountBounds(counted, lower, upper, level)


@dataclass(frozen=True)
class InflationTest:
    """One-sided test of "the official figure is above the ballots that went in".

    `statistic` is official − counted (ballots the camera did not see), `pvalue`
    P(C ≤ counted | N = official). `excess_lower` is the smallest excess official − N
    compatible with the count at `alpha` (0 when not significant).
    """

    official: int
    counted: int
    statistic: int
    pvalue: float
    excess_lower: int
    alpha: float

    @property
    def significant(self) -> bool:
        return self.pvalue < self.alpha

    def excess_share(self) -> float:
        """The lower bound of the excess as a share of the official figure."""
        return self.excess_lower / self.official if self.official else 0.0


def inflation_test(
    official: int, counted: int, errors: CounterErrors, *, alpha: float = 0.01
) -> InflationTest:
    """Test H0 "N ≥ official" against "official > N" from `counted` drops under
    `errors.fewest()`; see the module docstring. A negative official increment (a count
    going down) is refused."""
    if isinstance(official, bool) or int(official) != official:
        raise ValueError(f"official must be a whole number, got {official!r}")
    if official < 0:
        raise ValueError(f"official must be >= 0, got {official}")
    official, counted = int(official), _check_count("counted", counted)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    low = errors.fewest()
    pvalue = count_cdf(counted, official, low) if counted < official else 1.0
    excess = 0
    if pvalue < alpha:
        # the largest N still compatible with the count bounds the excess from below
        n = counted
        while n + 1 < official and count_cdf(counted, n + 1, low) >= alpha:
            n += 1
        excess = official - n
    return InflationTest(
        official=official,
        counted=counted,
        statistic=official - counted,
        pvalue=float(min(1.0, max(0.0, pvalue))),
        excess_lower=excess,
        alpha=alpha,
    )


def _trials(k: int, n: int, level: float) -> tuple[int, int]:
    """`k` of `n` trials and a one-sided `level`, checked."""
    k, n = _check_count("k", k), _check_count("n", n)
    if k > n:
        raise ValueError(f"k ({k}) must not exceed n ({n})")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return k, n


def rate_upper(k: int, n: int, level: float = 0.95) -> float:
    """One-sided Clopper–Pearson upper bound of a rate seen `k` times in `n` trials (used to
    turn calibration counts into conservative `CounterErrors`)."""
    k, n = _trials(k, n, level)
    if k == n:
        return 1.0
    return float(stats.beta.ppf(level, k + 1, n - k))


def rate_lower(k: int, n: int, level: float = 0.95) -> float:
    """One-sided Clopper–Pearson lower bound of a rate seen `k` times in `n` trials."""
    k, n = _trials(k, n, level)
    if k == 0:
        return 0.0
    return float(stats.beta.ppf(1 - level, k, n - k + 1))
