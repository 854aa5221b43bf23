"""From the cameras to the whole country: estimate the inflated ballots where no camera watched.

At a camera station the counting detector measured how many voters really came; the
*inflation* is ``ballots_issued − observed`` (ballots the protocol shows but nobody was seen
to cast). On the camera stations we relate it to what the official numbers show, by least
squares on station counts::

    inflation ≈ b0 + b1·registered + b2·excess_issued + b3·excess_winner + b4·registered·score

where ``excess_issued = ballots_issued − registered × (the region's median turnout)`` and
``excess_winner = winner_votes − ballots_cast × (the region's median winner share)`` (what
stuffing adds to a station's numbers), and ``score`` the station's anomaly score when given.
The uncovered stations get the fitted value; the national total is the sum of the measured
inflation at the camera stations and the fitted values elsewhere. With an intercept the
residuals of the camera stations sum to zero, so the total equals the *regression (GREG)
estimator* of survey sampling: nearly unbiased when the cameras are a random sample of the
stations, even if the linear relation is only approximate.

Camera stations are *measured* when ``observable_share ≥ min_observable`` (the camera saw
that share of the day); the others give bounds only, ``[issued − observed_upper, issued −
observed_lower]``, and are predicted like uncovered stations, clipped to their bounds.

Confidence interval: percentile bootstrap over the measured stations (pairs resampled and
the model refitted), adding each replicate's measurement noise (``[observed_lower,
observed_upper]`` read as a 95 % interval) and the prediction noise of the uncovered stations
(residual variance per registered voter × their registered voters, normal approximation).
Per-station intervals are normal-theory prediction intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from pollwatch.errors import InputError, InputProblem

__all__ = ["Extrapolation", "extrapolate_inflation"]

STATION_COLUMNS = ("station_id", "registered", "ballots_issued", "winner_votes")
CAMERA_COLUMNS = ("station_id", "observed", "observed_lower", "observed_upper", "observable_share")
_Z95 = 1.959964


@dataclass(frozen=True)
class Extrapolation:
    """Estimated inflated ballots nationally (`statistic`, with `lower`, `upper`), per region
    (`regions`) and per station (`stations`: station_id, est_inflated, est_inflated_lower,
    est_inflated_upper, observed_by_camera)."""

    statistic: float
    lower: float
    upper: float
    confidence: float
    measured_total: float
    predicted_total: float
    n_measured: int
    n_bounded: int
    features: tuple[str, ...]
    coefficients: tuple[float, ...]
    boot_totals: np.ndarray
    stations: pd.DataFrame
    regions: pd.DataFrame
    excluded: tuple[InputProblem, ...] = ()

    def ci(self) -> tuple[float, float]:
        return (self.lower, self.upper)


def _check(stations: pd.DataFrame, cameras: pd.DataFrame) -> list[InputProblem]:
    problems = [
        InputProblem("stations", "missing column", column=c)
        for c in STATION_COLUMNS
        if c not in stations
    ]
    problems += [
        InputProblem("cameras", "missing column", column=c)
        for c in CAMERA_COLUMNS
        if c not in cameras
    ]
    if problems:
        raise InputError(problems)
    if stations["station_id"].astype(str).duplicated().any():
        raise InputError.at("stations", "repeated station_id")
    known = set(stations["station_id"].astype(str))
    out = []
    for i, sid in enumerate(cameras["station_id"].astype(str)):
        if sid not in known:
            out.append(InputProblem("cameras", f"unknown station {sid}", line=i + 2))
    return out


def _features(st: pd.DataFrame, min_region: int) -> tuple[np.ndarray, tuple[str, ...]]:
    reg = st["registered"].to_numpy(float)
    issued = st["ballots_issued"].to_numpy(float)
    winner = st["winner_votes"].to_numpy(float)
    cast = st["ballots_cast"].to_numpy(float) if "ballots_cast" in st else issued
    region = st["region"].astype(str) if "region" in st else pd.Series([""] * len(st))
    with np.errstate(invalid="ignore", divide="ignore"):
        t = pd.Series(np.where(reg > 0, issued / reg, np.nan))
        s = pd.Series(np.where(cast > 0, winner / cast, np.nan))
    size = region.map(region.value_counts()).to_numpy()
    t_med = np.where(size >= min_region, t.groupby(region.values).transform("median"), t.median())
    s_med = np.where(size >= min_region, s.groupby(region.values).transform("median"), s.median())
    cols = {
        "const": np.ones(len(st)),
        "registered": reg,
        "excess_issued": issued - reg * np.nan_to_num(t_med),
        "excess_winner": winner - cast * np.nan_to_num(s_med),
    }
    if "anomaly_score" in st:
        cols["registered_x_score"] = reg * np.nan_to_num(st["anomaly_score"].to_numpy(float))
    return np.column_stack(list(cols.values())), tuple(cols)


def _lstsq(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(x, y, rcond=None)[0]


def extrapolate_inflation(
    stations: pd.DataFrame,
    cameras: pd.DataFrame,
    *,
    n_boot: int = 500,
    confidence: float = 0.95,
    min_observable: float = 0.8,
    min_region: int = 10,
    seed: int | np.random.Generator | None = None,
) -> Extrapolation:
    """Estimate inflated ballots at every station and nationally (see the module docstring).

    `stations`: station_id, registered, ballots_issued, winner_votes and optionally
    ballots_cast, region, anomaly_score. `cameras`: station_id, observed, observed_lower,
    observed_upper, observable_share (0..1)."""
    if n_boot < 1 or not 0 < confidence < 1 or not 0 <= min_observable <= 1:
        raise ValueError("n_boot >= 1, 0 < confidence < 1 and 0 <= min_observable <= 1")
    excluded = _check(stations, cameras)
    st = stations.reset_index(drop=True).assign(station_id=stations["station_id"].astype(str))
    cam = cameras.assign(station_id=cameras["station_id"].astype(str))
    cam = cam[cam["station_id"].isin(set(st["station_id"]))].drop_duplicates("station_id")
    x_all, names = _features(st, min_region)
    row = pd.Series(np.arange(len(st)), index=st["station_id"])
    idx = row.reindex(cam["station_id"]).to_numpy()
    issued = st["ballots_issued"].to_numpy(float)
    reg = st["registered"].to_numpy(float)
    obs = cam["observed"].to_numpy(float)
    lo_b = issued[idx] - cam["observed_upper"].to_numpy(float)
    hi_b = issued[idx] - cam["observed_lower"].to_numpy(float)
    measured = (cam["observable_share"].to_numpy(float) >= min_observable) & np.isfinite(obs)
    mi = idx[measured]
    y = issued[mi] - obs[measured]
    sd = np.nan_to_num((hi_b[measured] - lo_b[measured]) / (2 * _Z95), nan=0.0).clip(min=0)
    x = x_all[mi]
    if len(mi) < x.shape[1] + 3:  # too few for the full model: a ratio to registered voters
        keep = [names.index("const"), names.index("registered")][: max(1, len(mi) - 1)]
        x_all, x, names = x_all[:, keep], x[:, keep], tuple(names[k] for k in keep)
    if len(mi) < 2:
        raise ValueError(f"need at least 2 measured camera stations, got {len(mi)}")
    beta = _lstsq(x, y)
    resid = y - x @ beta
    dof = max(len(y) - x.shape[1], 1)
    sigma2 = float(np.sum(resid**2 / np.maximum(reg[mi], 1)) / dof)  # per registered voter
    est = x_all @ beta
    lower_b = np.full(len(st), -np.inf)
    upper_b = np.full(len(st), np.inf)
    bounded = idx[~measured]
    lower_b[bounded] = np.nan_to_num(lo_b[~measured], nan=-np.inf)
    upper_b[bounded] = np.nan_to_num(hi_b[~measured], nan=np.inf)
    est = np.clip(est, lower_b, upper_b)
    est[mi] = y
    is_measured = np.zeros(len(st), dtype=bool)
    is_measured[mi] = True
    # per-station prediction intervals: HC1 sandwich covariance of the fit + residual noise
    z = stats.norm.ppf((1 + confidence) / 2)
    bread = np.linalg.pinv(x.T @ x)
    cov = bread @ (x.T * resid**2) @ x @ bread * len(y) / dof
    var_fit = np.einsum("ij,jk,ik->i", x_all, cov, x_all)
    half = z * np.sqrt(np.maximum(var_fit, 0) + sigma2 * reg)
    st_lo = np.clip(est - half, lower_b, upper_b)
    st_hi = np.clip(est + half, lower_b, upper_b)
    st_lo[mi] = y - z * sd
    st_hi[mi] = y + z * sd
    # bootstrap of the national and regional totals
    rng = np.random.default_rng(seed)
    other = ~is_measured
    region = st["region"].astype(str).to_numpy(object) if "region" in st else np.full(len(st), "")
    codes, names_r = pd.factorize(region)
    n_r = len(names_r)
    x_other_r = np.zeros((n_r, x_all.shape[1]))
    np.add.at(x_other_r, codes[other], x_all[other])
    reg_other_r = np.bincount(codes[other], weights=reg[other], minlength=n_r)
    boot_r = np.empty((n_boot, n_r))
    for b in range(n_boot):
        pick = rng.integers(0, len(y), len(y))
        y_b = y + rng.normal(0.0, 1.0, len(y)) * sd
        beta_b = _lstsq(x[pick], y[pick])
        res_b = y[pick] - x[pick] @ beta_b
        s2_b = float(np.sum(res_b**2 / np.maximum(reg[mi][pick], 1)) / dof)
        pred_r = x_other_r @ beta_b + rng.normal(0.0, 1.0, n_r) * np.sqrt(s2_b * reg_other_r)
        boot_r[b] = pred_r + np.bincount(codes[mi], weights=y_b, minlength=n_r)
    boot = boot_r.sum(axis=1)
    q = [(1 - confidence) / 2, (1 + confidence) / 2]
    total = float(est.sum())
    lo, hi = np.quantile(boot, q)
    region_est = np.bincount(codes, weights=est, minlength=n_r)
    r_lo, r_hi = np.quantile(boot_r, q, axis=0)
    return Extrapolation(
        statistic=total,
        lower=float(lo),
        upper=float(hi),
        confidence=confidence,
        measured_total=float(y.sum()),
        predicted_total=float(est[other].sum()),
        n_measured=len(mi),
        n_bounded=len(bounded),
        features=names,
        coefficients=tuple(float(c) for c in beta),
        boot_totals=boot,
        stations=pd.DataFrame(
            {
                "station_id": st["station_id"],
                "est_inflated": est,
                "est_inflated_lower": st_lo,
                "est_inflated_upper": st_hi,
                "observed_by_camera": is_measured,
            }
        ),
        regions=pd.DataFrame(
            {"region": list(names_r), "estimate": region_est, "lower": r_lo, "upper": r_hi}
        ),
        excluded=tuple(excluded),
    )
