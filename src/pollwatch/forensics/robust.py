"""Robust per-group z-scores of binomial proportions: the 'clean station' model shared by the
anomaly score and the checkpoint tests.

A proportion k/n (turnout, winner share, late share of the day's ballots) is put on the logit
scale, ``y = logit((k + 0.5) / (n + 1))``. Within a group (a region), clean stations scatter
around a common centre with a between-station spread τ plus binomial noise of variance
≈ 1 / (n p (1 − p)). The centre is the group's median; τ² is the squared MAD (× 1.4826) minus
the median binomial variance (at least 0). Both are robust to up to half the group being
anomalous. ``z = (y − centre) / sqrt(τ² + 1 / (n p (1 − p)))`` is then ≈ N(0, 1) for a clean
station. Groups with fewer than `min_group` stations use the pooled (national) estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

__all__ = ["logit_proportion", "robust_z"]

_MAD = 1.4826


def logit_proportion(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """logit((k + 0.5) / (n + 1)), finite for 0 ≤ k ≤ n."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    return logit((k + 0.5) / (n + 1.0))


def _centre_scale(y: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    centre = float(np.median(y))
    p = expit(centre)
    binom = 1.0 / (n * p * (1 - p))
    mad = _MAD * float(np.median(np.abs(y - centre)))
    tau2 = max(mad**2 - float(np.median(binom)), 0.0)
    return centre, tau2


def robust_z(
    k: np.ndarray,
    n: np.ndarray,
    groups: np.ndarray | None = None,
    *,
    min_group: int = 30,
) -> np.ndarray:
    """Robust z-score of each proportion k/n within its group (NaN where n = 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    if k.shape != n.shape or k.ndim != 1:
        raise ValueError("k and n must be 1-D arrays of the same length")
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("need 0 <= k <= n")
    if min_group < 3:
        raise ValueError(f"min_group must be >= 3, got {min_group}")
    z = np.full(len(k), np.nan)
    ok = n > 0
    if ok.sum() < 3:
        return z
    y = logit_proportion(k, n)
    g = (
        np.zeros(len(k), dtype=np.int64)
        if groups is None
        else pd.factorize(np.asarray(groups, dtype=object))[0]
    )
    pooled = _centre_scale(y[ok], n[ok])
    for gid in np.unique(g[ok]):
        m = ok & (g == gid)
        centre, tau2 = _centre_scale(y[m], n[m]) if m.sum() >= min_group else pooled
        p = expit(centre)
        z[m] = (y[m] - centre) / np.sqrt(tau2 + 1.0 / (n[m] * p * (1 - p)))
    return z
