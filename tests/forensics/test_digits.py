"""Digit tests."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pollwatch.forensics import c05s, last_digit, p05s, second_digit_benford
from pollwatch.forensics.digits import BENFORD_SECOND

# Benford's law for the second digit as tabulated by Nigrini (2012, "Benford's Law", table
# 5.1) and its mean 4.187 used by Mebane's 2BL test (Mebane 2006).
NIGRINI = [0.11968, 0.11389, 0.10882, 0.10433, 0.10031, 0.09668, 0.09337, 0.09035, 0.08757, 0.085]


def test_second_digit_law_matches_the_published_table() -> None:
    np.testing.assert_allclose(BENFORD_SECOND, NIGRINI, atol=5e-6)
    assert BENFORD_SECOND.sum() == pytest.approx(1)
    assert np.arange(10) @ BENFORD_SECOND == pytest.approx(4.187, abs=5e-4)


def test_benford_counts_pass_and_uniform_counts_fail(rng: np.random.Generator) -> None:
    benford = np.floor(10 ** rng.uniform(1, 5, 20_000)).astype(int)  # log-uniform: Benford
    r = second_digit_benford(benford)
    assert r.pvalue > 0.001 and r.chi2_pvalue > 0.001
    flat = rng.integers(10, 100, 20_000)  # second digits uniform: mean 4.5
    r = second_digit_benford(flat)
    assert r.statistic == pytest.approx(4.5, abs=0.05) and r.pvalue < 1e-6
    assert "blind" in r.caveat


def test_last_digit_z_and_chi2_by_hand() -> None:
    counts = np.array([10, 11, 12, 13, 20, 25, 30, 35, 9, 150])  # 9 is below min_count
    r = last_digit(counts)
    digits = np.array([0, 1, 2, 3, 0, 5, 0, 5, 0])
    z = (digits.mean() - 4.5) / (np.sqrt(8.25) / np.sqrt(len(digits)))
    assert r.n == 9 and r.statistic == pytest.approx(digits.mean())
    assert r.pvalue == pytest.approx(2 * stats.norm.sf(abs(z)))
    freq = np.bincount(digits, minlength=10)
    assert r.chi2 == pytest.approx(((freq - 0.9) ** 2 / 0.9).sum())


def test_c05s_and_p05s_against_binomtest() -> None:
    counts = np.array([10, 15, 20, 21, 33, 47, 55, 68, 70, 99, 100, 12])
    r = c05s(counts)
    k = 6  # 10, 15, 20, 55, 70, 100
    assert int(np.isin(counts % 10, (0, 5)).sum()) == k
    assert r.statistic == pytest.approx(k / 12)
    assert r.pvalue == pytest.approx(stats.binomtest(k, 12, 0.2).pvalue)
    p = p05s(np.array([50, 49, 33, 0]), np.array([100, 100, 100, 0]))  # 50 %, 49 %, 33 %
    assert p.n == 3 and p.statistic == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: second_digit_benford(np.array([1.5])), "whole numbers"),
        (lambda: last_digit(np.array([-1])), "whole numbers"),
        (lambda: last_digit(np.array([1]), min_count=-1), "min_count"),
        (lambda: p05s(np.array([5]), np.array([4])), "above totals"),
        (lambda: p05s(np.array([5, 1]), np.array([9])), "same length"),
    ],
)
def test_bad_inputs(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_empty_inputs_give_nan() -> None:
    assert np.isnan(second_digit_benford(np.array([1, 2, 3])).statistic)
    assert np.isnan(c05s(np.array([], dtype=int)).pvalue)
