"""Tests on the shape of the turnout and winner-share distributions.

* `moments`: skewness and excess kurtosis of the stations' values (Myagkov, Ordeshook &
  Shakin 2009: fraud adds a long right tail to turnout).
* `dip_test`: Hartigan & Hartigan's (1985) dip test of unimodality (the `diptest` package);
  a second, high-turnout mode is the classic sign of ballot stuffing.
* `sobyanin_sukhovolsky`: the slope of the winner's votes per registered voter on turnout
  across stations (Sobyanin & Sukhovolsky 1995), optionally within regions. Where extra
  turnout is genuine, the winner gets about their share of it; a slope near or above 1 means
  nearly all extra ballots went to the winner.
* `turnout_share_correlation`: Pearson and Spearman correlation of turnout and winner share.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import diptest
import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "CorrelationResult",
    "DipResult",
    "MomentsResult",
    "SlopeResult",
    "dip_test",
    "moments",
    "sobyanin_sukhovolsky",
    "turnout_share_correlation",
]


def _finite(x: np.ndarray, name: str, min_n: int) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D")
    x = x[np.isfinite(x)]
    if len(x) < min_n:
        raise ValueError(f"{name}: need at least {min_n} finite values, got {len(x)}")
    return x


@dataclass(frozen=True)
class MomentsResult:
    """Sample skewness (G1) and excess kurtosis (G2), bias-corrected as in SAS/SPSS/R e1071
    type 2 (Joanes & Gill 1998); `skew_pvalue`, `kurtosis_pvalue` from D'Agostino's tests."""

    skewness: float
    kurtosis: float
    skew_pvalue: float
    kurtosis_pvalue: float
    n: int


def moments(x: np.ndarray) -> MomentsResult:
    """Skewness and excess kurtosis of the finite values of `x` (at least 20)."""
    v = _finite(x, "x", 20)
    return MomentsResult(
        skewness=float(stats.skew(v, bias=False)),
        kurtosis=float(stats.kurtosis(v, bias=False)),
        skew_pvalue=float(stats.skewtest(v).pvalue),
        kurtosis_pvalue=float(stats.kurtosistest(v).pvalue),
        n=len(v),
    )


@dataclass(frozen=True)
class DipResult:
    """Hartigan's dip statistic (0 < dip ≤ 0.25) and its p-value against the uniform.

    `diptest` tabulates the null for n ≤ 72,000; beyond, the p-value is read at n = 72,000,
    which overstates it (conservative): the dip of a unimodal sample shrinks as 1/√n."""

    statistic: float
    pvalue: float
    n: int


def dip_test(x: np.ndarray) -> DipResult:
    """Hartigan's dip test of unimodality on the finite values of `x` (at least 4)."""
    v = _finite(x, "x", 4)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sample size exceeds", category=UserWarning)
        dip, pval = diptest.diptest(v)
    return DipResult(statistic=float(dip), pvalue=float(pval), n=len(v))


@dataclass(frozen=True)
class SlopeResult:
    """OLS slope of winner votes / registered on turnout, weighted by registered voters;
    `pvalue` one-sided for slope > `reference` (the winner's national share)."""

    statistic: float
    stderr: float
    intercept: float
    reference: float
    pvalue: float
    n: int

    def ci(self, confidence: float = 0.95) -> tuple[float, float]:
        """Normal-theory interval of the slope."""
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {confidence}")
        z = stats.norm.ppf((1 + confidence) / 2)
        return (self.statistic - z * self.stderr, self.statistic + z * self.stderr)


def sobyanin_sukhovolsky(
    registered: np.ndarray,
    ballots_issued: np.ndarray,
    winner_votes: np.ndarray,
    groups: np.ndarray | None = None,
) -> SlopeResult:
    """Regress the winner's votes per registered voter on turnout across stations (weighted
    by registered voters). With `groups` (regions) the slope is taken within groups (each
    group's weighted means removed), so differences between regions, which can correlate
    turnout and support in a clean election, do not move it."""
    reg = np.asarray(registered, dtype=float)
    issued = np.asarray(ballots_issued, dtype=float)
    win = np.asarray(winner_votes, dtype=float)
    if not reg.shape == issued.shape == win.shape or reg.ndim != 1:
        raise ValueError("registered, ballots_issued, winner_votes: 1-D, same length")
    if groups is not None and np.shape(groups) != reg.shape:
        raise ValueError("groups must have one entry per station")
    ok = reg > 0
    if ok.sum() < 3:
        raise ValueError("need at least 3 stations with registered voters")
    w = reg[ok]
    x = issued[ok] / w
    y = win[ok] / w
    codes = (
        np.zeros(len(w), dtype=np.int64)
        if groups is None
        else pd.factorize(np.asarray(groups, dtype=object)[ok])[0]
    )
    sw = np.bincount(codes, weights=w)
    xm = (np.bincount(codes, weights=w * x) / sw)[codes]
    ym = (np.bincount(codes, weights=w * y) / sw)[codes]
    sxx = np.sum(w * (x - xm) ** 2)
    if sxx <= 0:
        raise ValueError("turnout does not vary across stations")
    slope = float(np.sum(w * (x - xm) * (y - ym)) / sxx)
    resid = (y - ym) - slope * (x - xm)
    n = int(ok.sum())
    dof = max(n - 1 - int(codes.max()) - 1, 1)
    stderr = float(np.sqrt(np.sum(w * resid**2) / dof / sxx))
    intercept = float(np.average(y, weights=w) - slope * np.average(x, weights=w))
    reference = float(win[ok].sum() / issued[ok].sum()) if issued[ok].sum() > 0 else 0.0
    pvalue = float(stats.t.sf((slope - reference) / stderr, dof)) if stderr > 0 else 0.0
    return SlopeResult(slope, stderr, intercept, reference, pvalue, n)


@dataclass(frozen=True)
class CorrelationResult:
    """Pearson `statistic` (with `pvalue`) and Spearman `spearman` (with `spearman_pvalue`)."""

    statistic: float
    pvalue: float
    spearman: float
    spearman_pvalue: float
    n: int


def turnout_share_correlation(turnout: np.ndarray, winner_share: np.ndarray) -> CorrelationResult:
    """Correlation of turnout and winner share over stations where both are finite."""
    t = np.asarray(turnout, dtype=float)
    s = np.asarray(winner_share, dtype=float)
    if t.shape != s.shape or t.ndim != 1:
        raise ValueError("turnout and winner_share: 1-D, same length")
    ok = np.isfinite(t) & np.isfinite(s)
    if ok.sum() < 3:
        raise ValueError("need at least 3 stations with turnout and share")
    n = int(ok.sum())
    if np.ptp(t[ok]) == 0 or np.ptp(s[ok]) == 0:
        # a constant column (e.g. every station at 100% turnout): no correlation is defined
        return CorrelationResult(np.nan, np.nan, np.nan, np.nan, n)
    pearson = stats.pearsonr(t[ok], s[ok])
    spearman = stats.spearmanr(t[ok], s[ok])
    return CorrelationResult(
        statistic=float(pearson.statistic),
        pvalue=float(pearson.pvalue),
        spearman=float(spearman.statistic),
        spearman_pvalue=float(spearman.pvalue),
        n=n,
    )
