"""Shpilkin's estimate of anomalous votes for the winner.

Sergey Shpilkin's method (described e.g. in Cedar's "How to uncover electoral fraud in Russia
using statistics", code in Cedar-Russia/electoral_statistics, and ported to R by Kalinin &
Mebane's Election Forensics Toolkit, ``ComputeShpilkinMethod``): stations are binned by
turnout; the votes of each turnout bin are summed per candidate. In a clean election the
candidates' shares hardly depend on turnout. Below the *clean peak* (the mode of the votes'
turnout distribution; where fraud makes a second, higher mode at high turnout, as in Moscow in
2011, the lowest-turnout mode that reaches half the height of the highest one) the stations
are taken as clean; above it, the other candidates' votes
are taken as true and the winner's true votes as ``ratio × others``, where ``ratio`` =
winner / others around the peak. Everything the winner got beyond that is anomalous (ballot
stuffing, or votes moved from other candidates).

Per station: ``winner − ratio × others`` if the station's turnout bin lies above the peak, 0
otherwise (signed: noise makes it negative at some clean stations; the sum is unbiased, a
clipped sum would not be). The national total is the sum over stations.

The estimate is *not applicable* (NaN) where no clean peak can be found: fewer than
`min_stations` stations, less than half of the votes below `max_peak_turnout`, or a mode that
is the highest bin considered (the histogram keeps rising towards 100 %). A histogram of 1 %
bins shows a mode only over a few hundred stations: on the 60 small stations of the simulated
`demo-clean` election the fit put 8–25 % of the votes above a chance peak (3 seeds), hence
`min_stations` = 200 for the national fit. A region's fit, steadied (below), needs
`regional_min_stations` = 50: standing in for a small region, the national fit's values carry
whatever the national fit misreads.

*National and regional estimates.* The published figures (Shpilkin, Cedar) fit one clean
peak and one clean ratio for the whole country (`ShpilkinResult.national`). That reads every
difference between regions as fraud: where regions with a higher turnout also favour the
winner (genuinely, as in the simulated Azerbaijan), the national figure is several per cent of
the votes on a clean election. Measuring each region against its own clean peak and ratio
(`within_region`) does not, but it also absorbs fraud that lifts a whole region (Tatarstan,
Bashkortostan, Krasnodar in 2011): 12.5 M of the published 14.9 M.

With `regions`, the estimate (`statistic`, `anomalous_votes`, `method` "regions_with_evidence")
therefore counts a region only where the region itself shows the anomaly: its own fit finds
the winner's share rising above its own clean peak beyond sampling noise (one-sided z ≥ the
Bonferroni threshold for `regional_alpha` over the regions, z = the region's anomalous votes
over their standard error: the scatter of the stations above the peak plus the clean ratio's
error times the others' votes above it), or it has no clean peak of its own (not
applicable). Such a region is measured as the published method measures it, against the
national clean peak and ratio (its own peak and ratio are contaminated where fraud is
widespread); a region without evidence counts 0. A region's own fit is steadied: the peak is
found on a `regional_smoothing`-bin moving average (7) and the clean ratio is taken over every
station the method takes as clean (`regional_baseline="clean"`: all bins up to the peak +
`window`) rather than the peak ± `window` alone (`"peak"`, the published per-region fits). A
peak whose smoothing window, plus one bin, reaches the anomalous range (`max_peak_turnout`)
is not a clean peak (for the national 3-bin average: a peak at 93 % or above; for 7 bins:
91 % or above).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["ShpilkinResult", "shpilkin"]

#: A lower-turnout mode counts as the clean peak if it reaches this fraction of the highest.
PEAK_FRACTION = 0.5
_BASELINES = ("clean", "peak")


@dataclass(frozen=True)
class ShpilkinResult:
    """`statistic`: anomalous winner's votes (NaN when not applicable): with regions the
    national fit's values summed over the regions with evidence (`method`
    "regions_with_evidence", see the module docstring), else the national fit (`method`
    "national"). `national`: the national fit's figure (the published method).

    `station_anomalous` is aligned with the input and sums to `statistic`; `regions` (when
    regions were given) has one row per region: stations, winner_votes, attributed (sum of
    the national fit's station values), regional (the method run on the region alone),
    regional_peak, regional_share, z (the regional figure over its standard error), evidence
    (z at or above `z_threshold`, or no regional fit), counted (the region's part of
    `statistic`), reason (why `regional` is NaN). `within_region`: the sum of the regional
    fits, the national fit's values standing in where a region's is not applicable."""

    statistic: float
    applicable: bool
    reason: str
    peak_turnout: float
    clean_ratio: float
    winner_votes: int
    station_anomalous: np.ndarray
    bin_edges: np.ndarray
    winner_by_bin: np.ndarray
    others_by_bin: np.ndarray
    regions: pd.DataFrame | None = None
    within_region: float = float("nan")
    national: float = float("nan")
    method: str = "national"
    z_threshold: float = float("nan")

    @property
    def anomalous_votes(self) -> float:
        return self.statistic

    @property
    def clean_share(self) -> float:
        """The winner's share of valid votes around the clean peak."""
        return self.clean_ratio / (1.0 + self.clean_ratio)

    def fraction(self) -> float:
        """Anomalous votes as a fraction of the winner's official votes."""
        return self.statistic / self.winner_votes if self.winner_votes else float("nan")

    def expected_by_bin(self) -> np.ndarray:
        """The winner's votes per bin if the clean ratio held above the peak."""
        out = self.winner_by_bin.astype(float).copy()
        peak = round(self.peak_turnout / (self.bin_edges[1] - self.bin_edges[0]))
        out[peak + 1 :] = self.clean_ratio * self.others_by_bin[peak + 1 :]
        return out


@dataclass(frozen=True)
class _Fit:
    applicable: bool
    reason: str
    peak: int
    ratio: float
    station: np.ndarray
    z: float = float("nan")


def _fit(
    bins: np.ndarray,
    winner: np.ndarray,
    others: np.ndarray,
    n_bins: int,
    max_peak_bin: int,
    window: int,
    min_stations: int,
    smoothing: int = 3,
    baseline: str = "peak",
) -> tuple[_Fit, np.ndarray, np.ndarray]:
    w_bin = np.bincount(bins, weights=winner, minlength=n_bins)
    o_bin = np.bincount(bins, weights=others, minlength=n_bins)
    nan = np.full(len(bins), np.nan)

    def fail(reason: str) -> tuple[_Fit, np.ndarray, np.ndarray]:
        return _Fit(False, reason, -1, float("nan"), nan), w_bin, o_bin

    if len(bins) < min_stations:
        return fail(f"fewer than {min_stations} stations")
    votes = w_bin + o_bin
    total = votes.sum()
    if total <= 0 or votes[:max_peak_bin].sum() < 0.5 * total:
        return fail("most votes come from stations with turnout near 100 %")
    smooth = np.convolve(votes, np.ones(smoothing) / smoothing, mode="same")[:max_peak_bin]
    top = smooth.max()
    is_max = np.r_[False, (smooth[1:-1] >= smooth[:-2]) & (smooth[1:-1] > smooth[2:]), False]
    candidates = np.flatnonzero(is_max & (smooth >= PEAK_FRACTION * top))
    peak = int(candidates[0]) if len(candidates) else int(np.argmax(smooth))
    peak += int(np.argmax(votes[max(peak - 1, 0) : peak + 2])) - (1 if peak > 0 else 0)
    if peak + smoothing // 2 + 1 >= max_peak_bin:
        return fail("no turnout peak below the anomalous range")
    lo = 0 if baseline == "clean" else max(peak - window, 0)
    hi = peak + window + 1
    others_clean = o_bin[lo:hi].sum()
    if others_clean <= 0:
        return fail("no votes for other candidates around the peak")
    ratio = float(w_bin[lo:hi].sum() / others_clean)
    above = bins > peak
    station = np.where(above, winner - ratio * others, 0.0)
    return (
        _Fit(
            True,
            "",
            peak,
            ratio,
            station,
            _z(station, above, bins, peak, lo, hi, winner, others, ratio),
        ),
        w_bin,
        o_bin,
    )


def _z(
    station: np.ndarray,
    above: np.ndarray,
    bins: np.ndarray,
    peak: int,
    lo: int,
    hi: int,
    winner: np.ndarray,
    others: np.ndarray,
    ratio: float,
) -> float:
    """The anomalous total over its standard error: the scatter of the stations above the
    peak (their residuals winner − ratio × others) plus the clean ratio's sampling error
    (delta method over the baseline stations) times the others' votes above the peak."""
    base = (bins >= lo) & (bins < hi)
    resid = winner[base] - ratio * others[base]
    ratio_var = float(np.sum(resid**2)) / float(others[base].sum()) ** 2
    var = float(np.sum(station[above] ** 2)) + float(others[above].sum()) ** 2 * ratio_var
    return float(station.sum() / np.sqrt(var)) if var > 0 else 0.0


def shpilkin(
    registered: np.ndarray,
    ballots_issued: np.ndarray,
    winner_votes: np.ndarray,
    other_votes: np.ndarray,
    *,
    regions: np.ndarray | None = None,
    bin_width: float = 0.01,
    max_peak_turnout: float = 0.95,
    window: int = 1,
    min_stations: int = 200,
    regional_smoothing: int = 7,
    regional_baseline: str = "clean",
    regional_min_stations: int = 50,
    regional_alpha: float = 0.01,
) -> ShpilkinResult:
    """Anomalous winner's votes by Shpilkin's method, nationally, per station and (with
    `regions`) per region.

    Turnout = ballots issued / registered in bins of `bin_width`; the clean peak is the lowest
    local maximum of the valid votes' turnout histogram (3-bin moving average, below
    `max_peak_turnout`) that reaches `PEAK_FRACTION` of its highest bin, moved to the highest
    unsmoothed bin next to it; the clean ratio winner / others is taken over the peak bin ±
    `window` bins. With `regions` the estimate counts, with the national fit's values, the
    regions whose own fit (peak on a `regional_smoothing`-bin average, ratio over
    `regional_baseline` "clean": every bin up to the peak + `window`, or "peak": as the
    national fit) shows anomalous votes at family-wise level `regional_alpha` (Bonferroni
    over the regions) or is not applicable; the other regions count 0 (module docstring)."""
    arrays = [np.asarray(a, dtype=float) for a in (registered, ballots_issued)]
    winner = np.asarray(winner_votes, dtype=float)
    others = np.asarray(other_votes, dtype=float)
    n = len(winner)
    if any(a.shape != (n,) for a in (*arrays, others)):
        raise ValueError("registered, ballots_issued, winner_votes, other_votes: same length")
    if not 0 < bin_width <= 0.1:
        raise ValueError(f"bin_width must be in (0, 0.1], got {bin_width}")
    if not 0.5 <= max_peak_turnout <= 1:
        raise ValueError(f"max_peak_turnout must be in [0.5, 1], got {max_peak_turnout}")
    if window < 0 or min_stations < 1 or regional_min_stations < 1:
        raise ValueError("window must be >= 0, min_stations and regional_min_stations >= 1")
    if regional_smoothing < 1 or regional_smoothing % 2 == 0:
        raise ValueError(f"regional_smoothing must be odd and >= 1, got {regional_smoothing}")
    if not 0 < regional_alpha < 1:
        raise ValueError(f"regional_alpha must be in (0, 1), got {regional_alpha}")
    if regional_baseline not in _BASELINES:
        raise ValueError(
            f"regional_baseline must be one of {_BASELINES}, got {regional_baseline!r}"
        )
    if np.any(winner < 0) or np.any(others < 0):
        raise ValueError("votes must be >= 0")
    reg, issued = arrays
    ok = reg > 0
    n_bins = round(1 / bin_width)
    turnout = np.where(ok, issued / np.where(ok, reg, 1), 0.0)
    bins = np.minimum((turnout / bin_width + 1e-9).astype(np.int64), n_bins - 1)
    max_peak_bin = round(max_peak_turnout / bin_width)
    fit, w_bin, o_bin = _fit(
        bins[ok], winner[ok], others[ok], n_bins, max_peak_bin, window, min_stations
    )
    national = np.full(n, np.nan)
    national[ok] = fit.station
    station = national
    region_table = None
    within = float("nan")
    z_threshold = float("nan")
    if regions is not None:
        regions = np.asarray(regions, dtype=object)
        if regions.shape != (n,):
            raise ValueError("regions must have one entry per station")
        station = np.where(ok, 0.0, np.nan)
        own_station = national.copy()
        names = pd.unique(regions[ok])
        z_threshold = float(norm.isf(regional_alpha / max(len(names), 1)))
        rows = []
        for name in names:
            m = ok & (regions == name)
            own, _, _ = _fit(
                bins[m],
                winner[m],
                others[m],
                n_bins,
                max_peak_bin,
                window,
                regional_min_stations,
                regional_smoothing,
                regional_baseline,
            )
            if own.applicable:
                own_station[m] = own.station
            evidence = not own.applicable or own.z >= z_threshold
            if evidence:
                station[m] = national[m]
            rows.append(
                {
                    "region": name,
                    "stations": int(m.sum()),
                    "winner_votes": int(winner[m].sum()),
                    "attributed": float(np.nansum(national[m])) if fit.applicable else np.nan,
                    "regional": float(own.station.sum()) if own.applicable else np.nan,
                    "regional_peak": own.peak * bin_width if own.applicable else np.nan,
                    "regional_share": own.ratio / (1 + own.ratio) if own.applicable else np.nan,
                    "z": own.z,
                    "evidence": evidence,
                    "counted": float(np.nansum(station[m])) if fit.applicable else np.nan,
                    "reason": own.reason,
                }
            )
        region_table = pd.DataFrame(rows)
        within = float(np.nansum(own_station)) if fit.applicable else float("nan")
    if not fit.applicable:
        station = national
    total = float(np.nansum(station)) if fit.applicable else float("nan")
    return ShpilkinResult(
        statistic=total,
        applicable=fit.applicable,
        reason=fit.reason,
        peak_turnout=fit.peak * bin_width if fit.applicable else float("nan"),
        clean_ratio=fit.ratio,
        winner_votes=int(winner.sum()),
        station_anomalous=station,
        bin_edges=np.linspace(0.0, 1.0, n_bins + 1),
        winner_by_bin=w_bin,
        others_by_bin=o_bin,
        regions=region_table,
        within_region=within,
        national=float(np.nansum(national)) if fit.applicable else float("nan"),
        method="national" if regions is None else "regions_with_evidence",
        z_threshold=z_threshold,
    )
