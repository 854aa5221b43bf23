"""From the cameras to the whole country: estimate the inflated ballots where no camera watched.

At a camera station the counting detector measured how many voters really came; the
*inflation* is ``ballots_issued − observed`` (ballots the protocol shows but nobody was seen
to cast). On the camera stations we relate it to what the official numbers show, by least
squares on station counts weighted by 1 / registered voters (the residual variance grows with
the station)::

    inflation ≈ b0 + b1·registered + b2·excess_issued + b3·excess_winner + b4·registered·score

where ``excess_issued = ballots_issued − registered × (the region's median turnout)`` and
``excess_winner = winner_votes − ballots_cast × (the region's median winner share)`` (what
stuffing adds to a station's numbers), and ``score`` the station's anomaly score when given;
with ``by_region`` (default), each region with at least `MIN_REGION_MEASURED` measured camera
stations also gets its own ``registered × [region]`` term (its own inflation per voter: a
post-stratified estimator, since the cameras need not be spread over the regions as the
stations are — in the simulated Azerbaijan they go to larger stations, many in Baku).
The uncovered stations get the fitted value; the national total is the sum of the measured
inflation at the camera stations and the fitted values elsewhere. With registered voters
among the features, the weighted normal equations make the camera stations' residuals sum to
zero, so the total equals the *regression (GREG) estimator* of survey sampling: nearly
unbiased when the cameras are a random sample of the stations, even if the linear relation is
only approximate.

Camera stations are *measured* when ``observable_share ≥ min_observable`` (the camera saw
that share of the day); the others give bounds only, ``[issued − observed_upper, issued −
observed_lower]``, and are predicted like uncovered stations, clipped to their bounds.

Confidence intervals (``method``): ``"hc3"`` (default) is ``estimate ± t · sqrt(c'Σc + σ²R +
Σ m²)`` with Σ the HC3 sandwich covariance of the coefficients (MacKinnon & White 1985; robust
to the unequal, heavy-tailed residuals of a few stuffed stations among many clean ones), c the
summed features of the uncovered stations, σ² the residual variance per registered voter, R
their registered voters and m the measurement errors of the camera counts (``[observed_lower,
observed_upper]`` read as a 95 % interval). ``"bootstrap"`` resamples the measured stations
(pairs, model refitted) with the same noise terms and takes percentiles; with a hundred or two
camera stations it is slightly too narrow (the pairs bootstrap inherits HC0's small-sample
bias), which is why HC3 is the default. Per-station intervals are HC3 prediction intervals.
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
#: a region gets its own inflation per registered voter from this many measured stations
MIN_REGION_MEASURED = 30


@dataclass(frozen=True)
class Extrapolation:
    """Estimated inflated ballots nationally (`statistic`, with `lower`, `upper`), per region
    (`regions`) and per station (`stations`: station_id, est_inflated, est_inflated_lower,
    est_inflated_upper, observed_by_camera)."""

    statistic: float
    lower: float
    upper: float
    method: str
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


def _check(stations: pd.DataFrame, cameras: pd.DataFrame) -> tuple[np.ndarray, list]:
    """The row of each camera's station in `stations` (-1: unknown, reported)."""
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
    index = pd.Index(stations["station_id"].astype(str).to_numpy(object))
    if index.has_duplicates:
        raise InputError.at("stations", "repeated station_id")
    cam_ids = cameras["station_id"].astype(str).to_numpy(object)
    pos = index.get_indexer(cam_ids)
    repeated = pd.Series(cam_ids).duplicated().to_numpy()
    out = [
        InputProblem("cameras", f"unknown station {cam_ids[i]}", line=int(i) + 2)
        for i in np.flatnonzero(pos < 0)
    ]
    out += [
        InputProblem("cameras", f"repeated station {cam_ids[i]}", line=int(i) + 2)
        for i in np.flatnonzero(repeated & (pos >= 0))
    ]
    return np.where(repeated, -1, pos), out


def _features(
    st: pd.DataFrame, min_region: int, measured: np.ndarray | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    reg = st["registered"].to_numpy(float)
    issued = st["ballots_issued"].to_numpy(float)
    winner = st["winner_votes"].to_numpy(float)
    cast = st["ballots_cast"].to_numpy(float) if "ballots_cast" in st else issued
    codes = (
        pd.factorize(st["region"].astype(str).to_numpy(object))[0]
        if "region" in st
        else np.zeros(len(st), dtype=np.int64)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = pd.DataFrame(
            {
                "t": np.where(reg > 0, issued / reg, np.nan),
                "s": np.where(cast > 0, winner / cast, np.nan),
            }
        )
    medians = rates.groupby(codes).transform("median").to_numpy(copy=True)
    small = np.bincount(codes)[codes] < min_region
    medians[small] = rates.median().to_numpy()
    medians = np.nan_to_num(medians)
    cols = {
        "const": np.ones(len(st)),
        "registered": reg,
        "excess_issued": issued - reg * medians[:, 0],
        "excess_winner": winner - cast * medians[:, 1],
    }
    if "anomaly_score" in st:
        cols["registered_x_score"] = reg * np.nan_to_num(st["anomaly_score"].to_numpy(float))
    if measured is not None and "region" in st:
        # a region's own inflation per registered voter where it has enough measured
        # stations (post-stratification): cameras need not be spread over the regions as
        # the stations are
        seen = np.bincount(codes[measured], minlength=codes.max() + 1)
        names = pd.factorize(st["region"].astype(str).to_numpy(object))[1]
        own = [k for k in np.argsort(seen, kind="stable") if seen[k] >= MIN_REGION_MEASURED]
        # the other regions share `registered`'s coefficient, which needs measured stations
        # of its own: the smallest regions join them until it has enough
        while own and seen.sum() - seen[own].sum() < MIN_REGION_MEASURED:
            own = own[1:]
        for k in sorted(own):
            cols[f"registered_x_region:{names[k]}"] = reg * (codes == k)
    return np.column_stack(list(cols.values())), tuple(cols)


def _lstsq(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(x, y, rcond=None)[0]


@dataclass(frozen=True)
class _Parts:
    """What the interval of a total needs: the fit on the measured stations, the summed
    features and registered voters of the other stations of each group, and the group of each
    measured station."""

    x: np.ndarray
    y: np.ndarray
    y_fit: np.ndarray
    sd: np.ndarray
    dof: int
    cov: np.ndarray
    sigma2: float
    x_other: np.ndarray
    reg_other: np.ndarray
    measured_region: np.ndarray


def _national(p: _Parts) -> _Parts:
    return _Parts(
        x=p.x,
        y=p.y,
        y_fit=p.y_fit,
        sd=p.sd,
        dof=p.dof,
        cov=p.cov,
        sigma2=p.sigma2,
        x_other=p.x_other.sum(axis=0, keepdims=True),
        reg_other=np.array([p.reg_other.sum()]),
        measured_region=np.zeros(len(p.y), dtype=np.int64),
    )


def _hc3(
    p: _Parts, est: np.ndarray, confidence: float, n_boot: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, None]:
    """est ± t · sqrt(c' Cov_HC3 c + σ² · registered elsewhere + Σ measurement variances)."""
    n_groups = len(est)
    var = (
        np.einsum("ij,jk,ik->i", p.x_other, p.cov, p.x_other)
        + p.sigma2 * p.reg_other
        + np.bincount(p.measured_region, weights=p.sd**2, minlength=n_groups)
    )
    half = stats.t.ppf((1 + confidence) / 2, p.dof) * np.sqrt(np.maximum(var, 0))
    return est - half, est + half, None


def _bootstrap(
    p: _Parts, est: np.ndarray, confidence: float, n_boot: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile interval over `n_boot` resamples of the measured stations (pairs), with
    their measurement noise and the other stations' prediction noise."""
    n_groups = len(est)
    boot = np.empty((n_boot, n_groups))
    for b in range(n_boot):
        pick = rng.integers(0, len(p.y), len(p.y))
        beta = _lstsq(p.x[pick], p.y_fit[pick])
        s2 = float(np.sum((p.y_fit[pick] - p.x[pick] @ beta) ** 2) / p.dof)
        noise = rng.normal(0.0, 1.0, n_groups) * np.sqrt(s2 * p.reg_other)
        measured = p.y + rng.normal(0.0, 1.0, len(p.y)) * p.sd
        boot[b] = (
            p.x_other @ beta
            + noise
            + np.bincount(p.measured_region, weights=measured, minlength=n_groups)
        )
    q = [(1 - confidence) / 2, (1 + confidence) / 2]
    lo, hi = np.quantile(boot, q, axis=0)
    return lo, hi, boot


_INTERVALS = {"hc3": _hc3, "bootstrap": _bootstrap}


def extrapolate_inflation(
    stations: pd.DataFrame,
    cameras: pd.DataFrame,
    *,
    method: str = "hc3",
    n_boot: int = 500,
    confidence: float = 0.95,
    min_observable: float = 0.8,
    min_region: int = 10,
    by_region: bool = True,
    seed: int | np.random.Generator | None = None,
) -> Extrapolation:
    """Estimate inflated ballots at every station and nationally (see the module docstring).

    `stations`: station_id, registered, ballots_issued, winner_votes and optionally
    ballots_cast, region, anomaly_score. `cameras`: station_id, observed, observed_lower,
    observed_upper, observable_share (0..1)."""
    if n_boot < 1 or not 0 < confidence < 1 or not 0 <= min_observable <= 1:
        raise ValueError("n_boot >= 1, 0 < confidence < 1 and 0 <= min_observable <= 1")
    if method not in _INTERVALS:
        raise ValueError(f"method must be one of {sorted(_INTERVALS)}, got {method!r}")
    pos, excluded = _check(stations, cameras)
    st = stations.reset_index(drop=True)
    cam = cameras.reset_index(drop=True)[pos >= 0]
    idx = pos[pos >= 0]
    issued = st["ballots_issued"].to_numpy(float)
    reg = st["registered"].to_numpy(float)
    obs = cam["observed"].to_numpy(float)
    lo_b = issued[idx] - cam["observed_upper"].to_numpy(float)
    hi_b = issued[idx] - cam["observed_lower"].to_numpy(float)
    measured = (cam["observable_share"].to_numpy(float) >= min_observable) & np.isfinite(obs)
    mi = idx[measured]
    x_all, names = _features(st, min_region, mi if by_region else None)
    y = issued[mi] - obs[measured]
    sd = np.nan_to_num((hi_b[measured] - lo_b[measured]) / (2 * _Z95), nan=0.0).clip(min=0)
    x = x_all[mi]
    if len(mi) < x.shape[1] + 3:  # too few for the full model: a ratio to registered voters
        keep = [names.index("const"), names.index("registered")][: max(1, len(mi) - 1)]
        x_all, x, names = x_all[:, keep], x[:, keep], tuple(names[k] for k in keep)
    if len(mi) < 2:
        raise ValueError(f"need at least 2 measured camera stations, got {len(mi)}")
    # weighted least squares, weights 1 / registered (residual variance grows with the
    # station): ordinary least squares on rows scaled by 1 / sqrt(registered)
    scale = 1 / np.sqrt(np.maximum(reg[mi], 1))
    x, y_w = x * scale[:, None], y * scale
    beta = _lstsq(x, y_w)
    resid = y_w - x @ beta
    dof = max(len(y) - x.shape[1], 1)
    sigma2 = float(np.sum(resid**2) / dof)  # per registered voter
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
    # covariance of the coefficients: HC3 sandwich (MacKinnon & White 1985), robust to the
    # unequal and heavy-tailed residuals of a few stuffed stations among many clean ones
    bread = np.linalg.pinv(x.T @ x)
    lever = np.einsum("ij,jk,ik->i", x, bread, x)
    meat = (x.T * (resid / np.maximum(1 - lever, 1e-3)) ** 2) @ x
    cov = bread @ meat @ bread
    z = stats.t.ppf((1 + confidence) / 2, dof)
    var_fit = np.einsum("ij,jk,ik->i", x_all, cov, x_all)
    half = z * np.sqrt(np.maximum(var_fit, 0) + sigma2 * reg)
    st_lo = np.clip(est - half, lower_b, upper_b)
    st_hi = np.clip(est + half, lower_b, upper_b)
    st_lo[mi] = y - _Z95 * sd
    st_hi[mi] = y + _Z95 * sd
    # national and regional totals
    other = ~is_measured
    region = st["region"].astype(str).to_numpy(object) if "region" in st else np.full(len(st), "")
    codes, names_r = pd.factorize(region)
    n_r = len(names_r)
    parts = _Parts(
        x=x,
        y=y,
        y_fit=y_w,
        sd=sd,
        dof=dof,
        cov=cov,
        sigma2=sigma2,
        x_other=np.stack(
            [np.bincount(codes[other], weights=col[other], minlength=n_r) for col in x_all.T], 1
        ),
        reg_other=np.bincount(codes[other], weights=reg[other], minlength=n_r),
        measured_region=codes[mi],
    )
    region_est = np.bincount(codes, weights=est, minlength=n_r)
    rng = np.random.default_rng(seed)
    r_lo, r_hi, _ = _INTERVALS[method](parts, region_est, confidence, n_boot, rng)
    lo, hi, boot = _INTERVALS[method](
        _national(parts), np.array([est.sum()]), confidence, n_boot, rng
    )
    total = float(est.sum())
    return Extrapolation(
        statistic=total,
        lower=float(lo[0]),
        upper=float(hi[0]),
        method=method,
        confidence=confidence,
        measured_total=float(y.sum()),
        predicted_total=float(est[other].sum()),
        n_measured=len(mi),
        n_bounded=len(bounded),
        features=names,
        coefficients=tuple(float(c) for c in beta),
        boot_totals=boot[:, 0] if boot is not None else np.zeros(0),
        stations=pd.DataFrame(
            {
                "station_id": st["station_id"].astype(str).to_numpy(object),
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
