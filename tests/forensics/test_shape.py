"""Distribution-shape tests: moments, dip, Sobyanin–Sukhovolsky, correlation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from synthetic_elections import CANDIDATES, add_stuffing, clean_election

from pollwatch.forensics import dip_test, moments, sobyanin_sukhovolsky, turnout_share_correlation


def test_moments_match_joanes_and_gill(rng: np.random.Generator) -> None:
    # Reference: G1 and G2 written out from Joanes & Gill (1998), "Comparing measures of
    # sample skewness and kurtosis", The Statistician 47(1), eqs. for G1, G2.
    x = rng.gamma(2.0, size=500)
    n = len(x)
    m2 = np.mean((x - x.mean()) ** 2)
    m3 = np.mean((x - x.mean()) ** 3)
    m4 = np.mean((x - x.mean()) ** 4)
    g1, g2 = m3 / m2**1.5, m4 / m2**2 - 3
    big_g1 = g1 * np.sqrt(n * (n - 1)) / (n - 2)
    big_g2 = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6)
    r = moments(x)
    assert r.skewness == pytest.approx(big_g1) and r.kurtosis == pytest.approx(big_g2)
    assert r.skew_pvalue < 0.001 and r.n == n


def test_dip_reference_values(rng: np.random.Generator) -> None:
    # Hartigan & Hartigan (1985): two equal point masses have the largest dip, 1/4.
    assert dip_test(np.r_[np.zeros(50), np.ones(50)]).statistic == pytest.approx(0.25)
    assert dip_test(rng.uniform(size=3000)).pvalue > 0.05
    bimodal = np.r_[rng.normal(0.45, 0.05, 3000), rng.normal(0.9, 0.03, 1000)]
    assert dip_test(bimodal).pvalue < 0.001


def test_slope_matches_weighted_least_squares(rng: np.random.Generator) -> None:
    # Reference: numpy.linalg.lstsq on the sqrt(weight)-scaled design, and its covariance.
    f, _ = add_stuffing(clean_election(rng, regions=10, stations_per_region=100), rng)
    reg = f["registered"].to_numpy(float)
    x = f["ballots_issued"].to_numpy() / reg
    y = f[CANDIDATES[0]].to_numpy() / reg
    sw = np.sqrt(reg)
    design = np.column_stack([np.ones_like(x), x]) * sw[:, None]
    beta, res, *_ = np.linalg.lstsq(design, y * sw, rcond=None)
    cov = res[0] / (len(x) - 2) * np.linalg.inv(design.T @ design)
    r = sobyanin_sukhovolsky(reg, f["ballots_issued"], f[CANDIDATES[0]])
    assert r.statistic == pytest.approx(beta[1]) and r.intercept == pytest.approx(beta[0])
    assert r.stderr == pytest.approx(np.sqrt(cov[1, 1]))
    lo, hi = r.ci()
    assert lo < r.statistic < hi


def test_within_region_slope_matches_dummy_regression(rng: np.random.Generator) -> None:
    # Reference: weighted least squares with one dummy column per region (fixed effects),
    # solved by numpy.linalg.lstsq: the same slope as demeaning within regions.
    f = clean_election(rng, regions=6, stations_per_region=80)
    reg = f["registered"].to_numpy(float)
    x = f["ballots_issued"].to_numpy() / reg
    y = f[CANDIDATES[0]].to_numpy() / reg
    dummies = (f["region"].to_numpy()[:, None] == np.unique(f["region"])[None, :]).astype(float)
    sw = np.sqrt(reg)
    design = np.column_stack([x, dummies]) * sw[:, None]
    beta, res, *_ = np.linalg.lstsq(design, y * sw, rcond=None)
    cov = res[0] / (len(x) - design.shape[1]) * np.linalg.inv(design.T @ design)
    r = sobyanin_sukhovolsky(reg, f["ballots_issued"], f[CANDIDATES[0]], groups=f["region"])
    assert r.statistic == pytest.approx(beta[0])
    assert r.stderr == pytest.approx(np.sqrt(cov[0, 0]))


def test_slope_clean_versus_stuffed(rng: np.random.Generator) -> None:
    clean = clean_election(rng, regions=1, stations_per_region=3000, station_sd=0.3)
    r = sobyanin_sukhovolsky(clean["registered"], clean["ballots_issued"], clean[CANDIDATES[0]])
    assert r.statistic == pytest.approx(r.reference, abs=0.1) and r.pvalue > 0.01
    stuffed, _ = add_stuffing(clean, rng, station_fraction=0.4)
    args = (stuffed["registered"], stuffed["ballots_issued"], stuffed[CANDIDATES[0]])
    r = sobyanin_sukhovolsky(*args)
    assert r.statistic > r.reference + 0.05 and r.pvalue < 1e-6


def test_correlation_matches_numpy(rng: np.random.Generator) -> None:
    t = rng.uniform(0.3, 0.9, 400)
    s = 0.5 * t + rng.normal(0, 0.1, 400)
    r = turnout_share_correlation(np.r_[t, np.nan], np.r_[s, 0.5])
    assert r.statistic == pytest.approx(np.corrcoef(t, s)[0, 1]) and r.n == 400
    assert r.spearman > 0.5 and r.pvalue < 1e-6


@pytest.mark.parametrize("constant", ["turnout", "share"])
def test_correlation_of_a_constant_column_is_undefined(constant: str) -> None:
    varying = np.linspace(0.3, 0.9, 10)
    t, s = (np.ones(10), varying) if constant == "turnout" else (varying, np.full(10, 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's ConstantInputWarning is not raised
        r = turnout_share_correlation(t, s)
    assert np.isnan([r.statistic, r.pvalue, r.spearman, r.spearman_pvalue]).all() and r.n == 10


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: moments(np.ones(5)), "at least 20"),
        (lambda: dip_test(np.ones((2, 2))), "1-D"),
        (lambda: sobyanin_sukhovolsky(np.ones(2), np.ones(2), np.ones(2)), "at least 3"),
        (lambda: sobyanin_sukhovolsky(np.full(5, 9), np.full(5, 3), np.ones(5)), "vary"),
        (lambda: sobyanin_sukhovolsky(np.ones(3), np.ones(3), np.ones(3), np.ones(2)), "groups"),
        (lambda: turnout_share_correlation(np.ones(3), np.ones(4)), "same length"),
    ],
)
def test_bad_inputs(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
