"""Digit tests on vote counts (Mebane; Beber & Scacco 2012).

* `second_digit_benford`: the mean second digit of counts ≥ 10 against the second-digit
  Benford law (2BL, mean 4.187; Mebane 2006), z-test on the mean plus Pearson's χ² (9 df).
* `last_digit`: last digits of counts ≥ `min_count` against uniform (mean 4.5), z and χ².
* `c05s`: share of counts whose last digit is 0 or 5 against 0.2 (exact binomial test).
* `p05s`: share of rounded percentages whose last digit is 0 or 5 against 0.2.

These tests are nearly blind to the frauds found in Russian elections (ballot stuffing and
rewritten protocols leave digits looking natural; Mebane 2013, "Using vote counts' digits to
diagnose strategic voting"): a test that passes is not evidence of a clean election. Every
result carries that caveat in `caveat`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "BENFORD_SECOND",
    "CAVEAT",
    "DigitTestResult",
    "c05s",
    "last_digit",
    "p05s",
    "second_digit_benford",
]

#: P(second digit = d) under Benford's law, d = 0..9.
BENFORD_SECOND = np.array(
    [sum(np.log10(1 + 1 / (10 * k + d)) for k in range(1, 10)) for d in range(10)]
)
CAVEAT = (
    "digit tests are nearly blind to ballot stuffing and rewritten protocols (Mebane 2013): "
    "no rejection is not evidence of a clean election"
)


@dataclass(frozen=True)
class DigitTestResult:
    """`statistic` (mean digit, or share of 0/5 digits) against `expected` over `n` values;
    `pvalue` two-sided; `chi2`, `chi2_pvalue` for the full digit distribution when defined."""

    test: str
    statistic: float
    expected: float
    pvalue: float
    n: int
    chi2: float = float("nan")
    chi2_pvalue: float = float("nan")
    caveat: str = CAVEAT


def _counts(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D")
    if x.size and (np.any(x < 0) or np.any(x != np.round(x))):
        raise ValueError(f"{name} must be whole numbers >= 0")
    return x.astype(np.int64)


def _mean_test(test: str, digits: np.ndarray, probs: np.ndarray, min_n: int = 1) -> DigitTestResult:
    n = len(digits)
    d = np.arange(10)
    mean = float(d @ probs)
    if n < min_n:
        return DigitTestResult(test, float("nan"), mean, float("nan"), n)
    sd = float(np.sqrt((d**2) @ probs - mean**2))
    observed = float(digits.mean())
    z = (observed - mean) / (sd / np.sqrt(n))
    freq = np.bincount(digits, minlength=10)
    chi2, chi2_p = stats.chisquare(freq, probs * n)
    return DigitTestResult(
        test=test,
        statistic=observed,
        expected=mean,
        pvalue=float(2 * stats.norm.sf(abs(z))),
        n=n,
        chi2=float(chi2),
        chi2_pvalue=float(chi2_p),
    )


def second_digit_benford(counts: np.ndarray) -> DigitTestResult:
    """Mean second digit of the counts ≥ 10 against Benford's second-digit law."""
    x = _counts(counts, "counts")
    x = x[x >= 10]
    second = (x // 10 ** (np.floor(np.log10(x)).astype(np.int64) - 1)) % 10
    return _mean_test("second_digit_benford", second, BENFORD_SECOND)


def last_digit(counts: np.ndarray, *, min_count: int = 10) -> DigitTestResult:
    """Mean last digit of the counts ≥ `min_count` against uniform digits."""
    if min_count < 0:
        raise ValueError(f"min_count must be >= 0, got {min_count}")
    x = _counts(counts, "counts")
    return _mean_test("last_digit", x[x >= min_count] % 10, np.full(10, 0.1))


def _share05(test: str, last: np.ndarray) -> DigitTestResult:
    n = len(last)
    if n == 0:
        return DigitTestResult(test, float("nan"), 0.2, float("nan"), 0)
    k = int(np.isin(last, (0, 5)).sum())
    return DigitTestResult(
        test=test,
        statistic=k / n,
        expected=0.2,
        pvalue=float(stats.binomtest(k, n, 0.2).pvalue),
        n=n,
    )


def c05s(counts: np.ndarray, *, min_count: int = 10) -> DigitTestResult:
    """Share of counts ≥ `min_count` whose last digit is 0 or 5, against 0.2."""
    x = _counts(counts, "counts")
    return _share05("c05s", x[x >= min_count] % 10)


def p05s(votes: np.ndarray, totals: np.ndarray) -> DigitTestResult:
    """Share of rounded percentages 100·votes/totals (totals > 0) whose last digit is 0 or 5."""
    v = _counts(votes, "votes")
    t = _counts(totals, "totals")
    if v.shape != t.shape:
        raise ValueError("votes and totals must have the same length")
    if np.any(v > t):
        raise ValueError("votes above totals")
    ok = t > 0
    pct = np.floor(100.0 * v[ok] / t[ok] + 0.5).astype(np.int64)
    return _share05("p05s", pct % 10)
