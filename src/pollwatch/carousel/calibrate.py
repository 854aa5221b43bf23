"""Similarity → probability that two sightings show the same person.

Similarities are Fisher-transformed, z = atanh(s). Only the upper tail of the candidate pairs
matters, so the model is fitted above a threshold u, the (1 − `tail_mass`) quantile of the null:

    null  (different people):  z − u ~ generalised Pareto(shape ξ >= 0, scale β)
    match (one person):        z ~ Normal(match_mean, match_std)
    P(same | z) = π·LR(z)·B / (π·LR(z)·B + 1 − π),   LR = f_match / f_null made non-decreasing,

with π the share of matches among the target pairs above u and B an optional Bayes factor from
other evidence (a group travelling together, see grouping.py). Below u the probability is 0.

*Targets* are the candidate pairs (nearest neighbours) that could be one person by time and
travel. The null is fitted to *decoys*, candidates that cannot be one person (too close in time
for the trip between their stations): found by the same search, their similarities follow the
targets' law when two sightings show different people (the target–decoy idea of proteomics).
Two sightings of one camera closer than `together_s` are no decoys (detect.py): they may be one
voter's visit seen twice, or co-voters, whose similarity is no null's.
With fewer than `min_decoys` decoys, all candidates serve (an empirical null, Efron 2004: matches
are a small share of them). The tail is a generalised Pareto law fitted by matching the median
and 90th percentile of the exceedances (robust to the few matches at the very top), its shape
kept in [0, `max_shape`] (0.5 by default): at least exponential, which is conservative for a
bounded cosine (whose true tail is lighter), heavier when look-alikes make it so. (Until session
7 a tail heavier than the cap got shape 0.25, not the cap: the carousel step now sets the cap
at 0.25, docs/carousel.md.)

The match component is first sought as a normal law, fitted with π by EM, its mean kept above
the floor where fewer than `null_exceedance` null targets are expected so that the null's own
extreme values cannot pass for matches (a strong descriptor: matches stand clear of the null).
When EM finds fewer than `min_normal_matches` matches that way, the match component is uniform
from u up to the 99th percentile of `positives` (similarities known to be one person, e.g. a
track's two halves embedded apart; s = 0.9999 without them), π is its EM estimate (0 below
`min_matches` matches) but never below `min_prior` (0.001): a weak descriptor's matches may not
stand out of the null by similarity alone, yet a group travelling together can still show them
(its Bayes factor multiplies the odds). With that prior a lone pair needs a likelihood ratio of
about 10⁵ to reach 0.99.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["SimilarityCalibration", "fisher_z", "fit_calibration"]

_CLIP = 0.9999
_ZMAX = float(np.arctanh(_CLIP))


def fisher_z(similarity: np.ndarray | float) -> np.ndarray:
    """atanh of cosine similarity, clipped away from ±1."""
    return np.arctanh(np.clip(np.asarray(similarity, np.float64), -_CLIP, _CLIP))


@dataclass(frozen=True)
class SimilarityCalibration:
    """A fitted similarity → match-probability map (see module doc)."""

    threshold: float  # u, in z
    tail_mass: float
    tail_scale: float  # β
    tail_shape: float  # ξ >= 0 (0: exponential)
    match_mean: float
    match_std: float  # 0: the match component is uniform on (threshold, match_mean]
    prior: float  # π
    n_targets: int
    n_decoys: int
    null_method: str  # "decoys" or "empirical"
    match_method: str  # "em" (normal), "uniform" or "none"

    @functools.cached_property
    def _envelope(self) -> tuple[np.ndarray, np.ndarray]:
        grid = np.linspace(self.threshold, _ZMAX, 2048)
        null = stats.genpareto.logpdf(grid - self.threshold, self.tail_shape, 0.0, self.tail_scale)
        return grid, np.maximum.accumulate(self._log_match(grid) - null)

    def log_likelihood_ratio(self, similarity: np.ndarray | float) -> np.ndarray:
        """log f_match/f_null, made non-decreasing in similarity; -inf at or below u."""
        z = fisher_z(similarity)
        grid, envelope = self._envelope
        return np.where(z > self.threshold, np.interp(z, grid, envelope), -np.inf)

    def _log_match(self, z: np.ndarray) -> np.ndarray:
        if self.match_std > 0:
            return stats.norm.logpdf(z, self.match_mean, self.match_std)
        width = max(self.match_mean - self.threshold, 1e-6)  # uniform (flat beyond: envelope)
        return np.full(np.shape(z), -np.log(width))

    def probability(
        self, similarity: np.ndarray | float, bayes_factor: np.ndarray | float = 1.0
    ) -> np.ndarray:
        """P(same person | similarity), elementwise, times the odds of `bayes_factor`."""
        llr = self.log_likelihood_ratio(similarity)
        if self.prior <= 0:
            return np.zeros_like(llr)
        log_odds = np.log(self.prior) - np.log1p(-self.prior) + llr + np.log(bayes_factor)
        return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))

    def similarity_at(self, probability: float) -> float:
        """The smallest similarity whose probability reaches `probability` (inf if none)."""
        if not 0 < probability < 1:
            raise ValueError(f"probability must be in (0, 1), got {probability!r}")
        grid = np.tanh(np.linspace(self.threshold, _ZMAX, 4000))
        hit = np.flatnonzero(self.probability(grid) >= probability)
        return float(grid[hit[0]]) if len(hit) else float("inf")

    def to_dict(self) -> dict[str, float | int | str]:
        """Plain values, for JSON and the report."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _tail_fit(
    exceedances: np.ndarray, max_shape: float = 0.5, min_shape: float = 0.0
) -> tuple[float, float]:
    """Generalised Pareto (ξ, β) of exceedances by matching their median and 90th percentile,
    ξ kept in [`min_shape`, `max_shape`] (a tail heavier than that gets `max_shape`, a lighter
    one `min_shape`, β matching the median). Quantiles rather than maximum likelihood: the few
    matches among the candidates sit in the top of the tail and move neither quantile much."""
    if len(exceedances) < 10:
        return 0.0, float(max(np.mean(exceedances), 1e-4)) if len(exceedances) else 1e-2
    q50, q90 = (float(max(v, 1e-6)) for v in np.quantile(exceedances, [0.5, 0.9]))

    def ratio(xi: float) -> float:  # Q(0.9) / Q(0.5) of a GPD with shape xi
        return np.log(10) / np.log(2) if xi < 1e-9 else (10**xi - 1) / (2**xi - 1)

    observed = q90 / q50
    if observed <= ratio(0.0) or max_shape < 1e-9:
        xi = 0.0
    elif observed >= ratio(max_shape):  # (until session 7 a tail heavier than 0.5 got 0.25)
        xi = max_shape
    else:
        lo, hi = 0.0, max_shape
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if ratio(mid) < observed else (lo, mid)
        xi = (lo + hi) / 2
    xi = min(max(xi, min_shape), max_shape)
    if xi < 1e-9:
        return 0.0, q50 / float(np.log(2))
    return xi, q50 * xi / (2**xi - 1)


def fit_calibration(
    target: np.ndarray,
    decoy: np.ndarray | None = None,
    *,
    positives: np.ndarray | None = None,
    min_decoys: int = 1000,
    tail_mass: float = 0.1,
    null_exceedance: float = 0.01,
    min_matches: float = 0.5,
    min_normal_matches: float = 5.0,
    min_prior: float = 1e-3,
    max_iter: int = 300,
    max_shape: float = 0.5,
    min_shape: float = 0.0,
) -> SimilarityCalibration:
    """Fit the calibration to target similarities with the null from `decoy` similarities (or
    all candidates when there are fewer than `min_decoys`); see the module doc."""
    zt = fisher_z(np.asarray(target, np.float64).ravel())
    if len(zt) < 2:
        raise ValueError(f"target needs at least 2 similarities, got {len(zt)}")
    if not isinstance(min_decoys, int) or min_decoys < 2:
        raise ValueError(f"min_decoys must be an integer >= 2, got {min_decoys!r}")
    if not 0 < tail_mass < 0.5:
        raise ValueError(f"tail_mass must be in (0, 0.5), got {tail_mass!r}")
    if not 0 < null_exceedance < 1:
        raise ValueError(f"null_exceedance must be in (0, 1), got {null_exceedance!r}")
    if not 0 <= min_prior < 1:
        raise ValueError(f"min_prior must be in [0, 1), got {min_prior!r}")
    zd = fisher_z(np.asarray(decoy, np.float64).ravel()) if decoy is not None else np.zeros(0)
    if len(zd) >= min_decoys:
        null_method, zn = "decoys", zd
    else:
        null_method, zn = "empirical", np.concatenate([zt, zd])
    u = float(np.quantile(zn, 1 - tail_mass))
    exceed = zn[zn > u] - u
    if not 0 <= min_shape <= max_shape <= 0.5:
        raise ValueError(
            f"need 0 <= min_shape <= max_shape <= 0.5, got {min_shape!r}, {max_shape!r}"
        )
    shape, scale = _tail_fit(exceed, max_shape, min_shape)
    za = zt[zt > u]
    n_above = max(len(za), 1)
    floor = u + float(stats.genpareto.isf(null_exceedance / n_above, shape, 0.0, scale))
    common = dict(
        threshold=u,
        tail_mass=tail_mass,
        tail_scale=scale,
        tail_shape=shape,
        n_targets=len(zt),
        n_decoys=len(zd),
        null_method=null_method,
    )
    if len(za) < 1:
        return SimilarityCalibration(
            match_mean=floor, match_std=scale, prior=0.0, match_method="none", **common
        )
    log_f0 = stats.genpareto.logpdf(za - u, shape, 0.0, scale)
    # 1. a normal match component, well clear of the null's extremes
    top = za[za > floor]
    mu1 = float(top.mean()) if len(top) else floor + scale
    sd1 = float(max(top.std(), scale)) if len(top) > 1 else scale
    prior = min(0.99, max(float(np.mean(za > floor)), 1e-6))
    for _ in range(max_iter):
        resp = _responsibility(prior, stats.norm.logpdf(za, mu1, sd1), log_f0)
        total = float(resp.sum())
        new_prior = min(0.99, total / len(za))
        if total > 1e-9:
            mu1 = max(floor, float((resp * za).sum() / total))
            sd1 = max(float(np.sqrt((resp * (za - mu1) ** 2).sum() / total)), scale / 4, 1e-3)
        done = abs(new_prior - prior) < 1e-10
        prior = new_prior
        if done or prior < 1e-9:
            break
    if prior * len(za) >= min_normal_matches:
        return SimilarityCalibration(
            match_mean=float(mu1),
            match_std=float(sd1),
            prior=float(prior),
            match_method="em",
            **common,
        )
    # 2. none: a uniform match component up to what two halves of one track reach
    upper = _ZMAX
    if positives is not None and len(positives) >= 2:
        upper = float(np.quantile(fisher_z(np.asarray(positives, np.float64).ravel()), 0.99))
    upper = max(upper, u + scale)
    log_f1 = np.where(za <= upper, -np.log(upper - u), -np.inf)
    prior = 0.01
    for _ in range(max_iter):
        new_prior = min(0.99, float(_responsibility(prior, log_f1, log_f0).mean()))
        done = abs(new_prior - prior) < 1e-10
        prior = new_prior
        if done or prior < 1e-9:
            break
    prior = prior if prior * len(za) >= min_matches else 0.0
    prior = max(prior, min_prior)  # similarity alone may not show a weak descriptor's matches
    return SimilarityCalibration(
        match_mean=upper,
        match_std=0.0,
        prior=float(prior),
        match_method="uniform" if prior > 0 else "none",
        **common,
    )


def _responsibility(prior: float, log_f1: np.ndarray, log_f0: np.ndarray) -> np.ndarray:
    a = np.log(prior) + log_f1
    b = np.log1p(-prior) + log_f0
    return 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
