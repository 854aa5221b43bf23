"""The counter's error model and its tests, against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from pollwatch.counting.stats import (
    CounterErrors,
    count_bounds,
    count_cdf,
    inflation_test,
    rate_lower,
    rate_upper,
)

EXACT = CounterErrors(0.0, 0.0)
TYPICAL = CounterErrors(0.03, 0.02)


def _cdf_by_sum(c: int, n: int, e: CounterErrors) -> float:
    """P(Bin(n, 1 − m) + Poisson(f n) ≤ c), summed term by term (independent of the code's
    convolution)."""
    return sum(
        stats.binom.pmf(k, n, 1 - e.miss_rate) * stats.poisson.cdf(c - k, e.false_rate * n)
        for k in range(0, min(c, n) + 1)
    )


@pytest.mark.parametrize(("c", "n"), [(0, 0), (0, 5), (4, 5), (5, 5), (9, 10), (12, 10), (30, 40)])
def test_cdf_matches_a_term_by_term_sum(c: int, n: int) -> None:
    assert count_cdf(c, n, TYPICAL) == pytest.approx(_cdf_by_sum(c, n, TYPICAL), abs=1e-9)


def test_without_false_drops_the_cdf_is_binomial() -> None:
    e = CounterErrors(0.05, 0.0)
    for c in range(11):  # reference: scipy's binomial distribution
        assert count_cdf(c, 10, e) == pytest.approx(stats.binom.cdf(c, 10, 0.95))


def test_inflation_test_by_hand() -> None:
    # official 10, counted 8, miss 2%, no false drops: P(C <= 8) = 1 − 0.98^10 − 10·0.02·0.98^9
    e = CounterErrors(0.02, 0.0)
    expected = 1 - 0.98**10 - 10 * 0.02 * 0.98**9
    test = inflation_test(10, 8, e, alpha=0.05)
    assert test.pvalue == pytest.approx(expected)
    assert test.statistic == 2 and test.significant == (expected < 0.05)


@pytest.mark.parametrize(
    ("official", "counted", "significant"),
    [
        (10, 10, False),
        (10, 12, False),
        (30, 20, True),
        (0, 0, False),
        (5, 0, True),
        (12, 11, False),
    ],
)
def test_inflation_test_decides(official: int, counted: int, significant: bool) -> None:
    test = inflation_test(official, counted, TYPICAL, alpha=0.01)
    assert test.significant is significant
    if counted >= official:
        assert test.pvalue == 1.0
    if significant:  # the excess bound: the largest N still compatible with the count
        n, low = official - test.excess_lower, TYPICAL.fewest()
        assert _cdf_by_sum(counted, n, low) >= 0.01 > _cdf_by_sum(counted, n + 1, low)
    else:
        assert test.excess_lower == 0


@pytest.mark.parametrize(
    ("errors", "official", "counted"),
    [
        (CounterErrors(0.03, 0.05), 20, 17),
        (CounterErrors(0.03, 0.05, false_rate_low=0.01), 30, 26),
        (CounterErrors(0.1, 0.2, miss_rate_low=0.05, false_rate_low=0.02), 12, 9),
    ],
)
def test_the_test_assumes_the_fewest_false_drops(
    errors: CounterErrors, official: int, counted: int
) -> None:
    # false drops under H0 make a low count more surprising: the test must take the false
    # rate's lower bound, or honest stations get flagged when false drops are rarer
    test = inflation_test(official, counted, errors)
    low = CounterErrors(errors.miss_rate, errors.false_rate_low)
    assert test.pvalue == pytest.approx(_cdf_by_sum(counted, official, low))
    assert test.pvalue >= _cdf_by_sum(counted, official, errors)


@pytest.mark.parametrize(("share", "miss"), [(1.0, 0.02), (0.5, 0.51), (0.9, 0.118)])
def test_thinned_misses_the_ballots_of_unwatched_time(share: float, miss: float) -> None:
    e = CounterErrors(0.02, 0.03, miss_rate_low=0.01, false_rate_low=0.01).thinned(share)
    assert e.miss_rate == pytest.approx(miss)
    assert (e.miss_rate_low, e.false_rate, e.false_rate_low) == (0.01, 0.03, 0.01)


def test_lower_bound_takes_the_most_false_drops() -> None:
    e = CounterErrors(0.1, 0.1, miss_rate_low=0.0, false_rate_low=0.0)
    b = count_bounds(10, e)
    high = e.most()
    assert 1 - count_cdf(9, b.lower, high) > 0.025
    assert b.lower == 0 or 1 - count_cdf(9, b.lower - 1, high) <= 0.025


def test_exact_counter_bounds_are_the_count() -> None:
    b = count_bounds(7, EXACT)
    assert (b.lower, b.upper) == (7, 7)
    assert count_bounds(7, EXACT, extra=2).upper == 9


@pytest.mark.parametrize("counted", [0, 1, 5, 20, 60])
def test_bounds_contain_the_count_and_widen_with_errors(counted: int) -> None:
    narrow = count_bounds(counted, CounterErrors(0.01, 0.01))
    wide = count_bounds(counted, CounterErrors(0.1, 0.1))
    assert narrow.lower <= counted <= narrow.upper
    assert wide.lower <= narrow.lower and wide.upper >= narrow.upper
    # the upper bound is the largest N whose count is not improbably low, under the rates
    # that make counts lowest (the most misses, the fewest false drops)
    wide_e = CounterErrors(0.1, 0.1).fewest()
    assert (wide_e.miss_rate, wide_e.false_rate) == (0.1, 0.0)
    assert count_cdf(counted, wide.upper, wide_e) > 0.025
    assert count_cdf(counted, wide.upper + 1, wide_e) <= 0.025


@pytest.mark.parametrize(("k", "n"), [(0, 100), (3, 50), (10, 10)])
def test_rate_lower_is_clopper_pearson(k: int, n: int) -> None:
    if k == 0:
        assert rate_lower(k, n) == 0.0
    else:  # the binomial upper tail at the bound is 5%
        p = rate_lower(k, n)
        assert stats.binom.sf(k - 1, n, p) == pytest.approx(0.05, abs=1e-6)


@pytest.mark.parametrize(("k", "n"), [(0, 100), (3, 50), (10, 10)])
def test_rate_upper_is_clopper_pearson(k: int, n: int) -> None:
    if k == 0:  # closed form: 1 − 0.05^(1/n)
        assert rate_upper(k, n) == pytest.approx(1 - 0.05 ** (1 / n))
    elif k == n:
        assert rate_upper(k, n) == 1.0
    else:  # the binomial tail at the bound is 5%
        p = rate_upper(k, n)
        assert stats.binom.cdf(k, n, p) == pytest.approx(0.05, abs=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: CounterErrors(1.0, 0.0), "miss_rate"),
        (lambda: CounterErrors(0.0, -0.1), "false_rate"),
        (lambda: CounterErrors(0.1, 0.1, miss_rate_low=0.2), "miss_rate_low"),
        (lambda: CounterErrors(0.1, 0.1, false_rate_low=-0.1), "false_rate_low"),
        (lambda: CounterErrors(0.1, 0.1).thinned(0.0), "seen_share"),
        (lambda: rate_lower(4, 3), "must not exceed"),
        (lambda: count_cdf(-1, 3, TYPICAL), "c must be"),
        (lambda: count_cdf(2, 2.5, TYPICAL), "n must be"),
        (lambda: count_bounds(3, TYPICAL, level=1.0), "level"),
        (lambda: count_bounds(True, TYPICAL), "counted"),
        (lambda: inflation_test(-1, 0, TYPICAL), "official must be >= 0"),
        (lambda: inflation_test(3, 2, TYPICAL, alpha=0), "alpha"),
        (lambda: rate_upper(5, 3), "must not exceed"),
    ],
)
def test_bad_arguments(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_excess_share() -> None:
    test = inflation_test(30, 20, TYPICAL)
    assert test.excess_share() == pytest.approx(test.excess_lower / 30)
    assert math.isclose(inflation_test(0, 0, TYPICAL).excess_share(), 0.0)
    assert np.isfinite(test.pvalue)
