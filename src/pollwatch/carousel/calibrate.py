"""Similarity → probability that two sightings show the same person.

A two-component mixture on Fisher-transformed similarities (z = atanh(s), which makes the
cosine of unrelated high-dimensional vectors close to normal):

    p(z) = (1 - prior) · N(z; null_mean, null_std) + prior · N(z; match_mean, match_std)
    P(same person | s) = prior · f1(z) / p(z)

fitted to the *target* pairs, i.e. the candidate pairs (nearest neighbours) that could be one
person by time and travel. The null component is not left free: it is fitted to the *decoy*
pairs, candidates that cannot be one person (too close in time for the trip between their
stations). They are chosen by the same nearest-neighbour search, so under the null hypothesis
that two sightings show different people their similarities follow the same law as the targets'
(the target–decoy idea of proteomics). The null's centre is the decoys' median and its spread the
larger of the two upper-tail estimates (84th − 50th percentile, (97.7th − 50th)/2), so that a
heavy upper tail widens it rather than being taken for matches. With fewer than `min_decoys`
decoys the null is Efron's empirical null instead: centre and lower half of the targets
themselves (matches are rare and lie in the upper tail). When same-person similarities are known
(`positives`, e.g. the two halves of one track embedded apart) the match component is fitted to
them; otherwise it is estimated with the prior by EM, its mean kept at least `min_separation`
null standard deviations above the null's. With no excess of targets over the null, the prior
goes to zero and every probability with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["SimilarityCalibration", "fisher_z", "fit_calibration"]

_CLIP = 0.9999


def fisher_z(similarity: np.ndarray | float) -> np.ndarray:
    """atanh of cosine similarity, clipped away from ±1."""
    return np.arctanh(np.clip(np.asarray(similarity, np.float64), -_CLIP, _CLIP))


@dataclass(frozen=True)
class SimilarityCalibration:
    """A fitted similarity → match-probability map (see module doc). `threshold` is the
    null's `1 - tail_mass` quantile in z; above it the null is a generalised Pareto tail
    (`tail_shape` ξ ≥ 0, `tail_scale`); `prior` is the share of matches among the target pairs
    above `threshold`."""

    threshold: float
    tail_mass: float
    tail_shape: float
    tail_scale: float
    match_mean: float
    match_std: float
    prior: float
    n_targets: int
    n_decoys: int
    null_method: str  # "decoys" or "empirical"
    match_method: str  # "positives", "em" or "none"

    def probability(self, similarity: np.ndarray | float) -> np.ndarray:
        """P(same person | similarity), elementwise (0 at or below `threshold`)."""
        z = fisher_z(similarity)
        out = np.zeros_like(z)
        above = z > self.threshold
        if self.prior <= 0 or not np.any(above):
            return out
        za = z[above]
        log0 = np.log1p(-self.prior) + stats.genpareto.logpdf(
            za - self.threshold, self.tail_shape, 0.0, self.tail_scale
        )
        log1 = np.log(self.prior) + stats.norm.logpdf(za, self.match_mean, self.match_std)
        out[above] = 1.0 / (1.0 + np.exp(np.clip(log0 - log1, -700, 700)))
        return out

    def similarity_at(self, probability: float) -> float:
        """The smallest similarity whose probability reaches `probability` (inf if none)."""
        if not 0 < probability < 1:
            raise ValueError(f"probability must be in (0, 1), got {probability!r}")
        grid = np.tanh(np.linspace(self.threshold, fisher_z(_CLIP), 4000))
        hit = np.flatnonzero(self.probability(grid) >= probability)
        return float(grid[hit[0]]) if len(hit) else float("inf")

    def to_dict(self) -> dict[str, float | int | str]:
        """Plain values, for JSON and the report."""
        return dict(self.__dict__)


def _tail_fit(exceedances: np.ndarray) -> tuple[float, float]:
    """Generalised Pareto (ξ, β) of exceedances, ξ kept >= 0 (at least an exponential tail)."""
    if len(exceedances) >= 20:
        shape, _, scale = stats.genpareto.fit(exceedances, floc=0.0)
        if shape > 0 and np.isfinite(scale):
            return float(min(shape, 0.5)), float(max(scale, 1e-4))
    return 0.0, float(max(np.mean(exceedances), 1e-4)) if len(exceedances) else 1e-2


def fit_calibration(
    target: np.ndarray,
    decoy: np.ndarray | None = None,
    *,
    positives: np.ndarray | None = None,
    min_decoys: int = 30,
    tail_mass: float = 0.1,
    min_separation: float = 3.0,
    min_matches: float = 2.0,
    max_iter: int = 300,
) -> SimilarityCalibration:
    """Fit the calibration to target similarities with the null from `decoy` similarities (or
    the empirical null when there are fewer than `min_decoys`); see the module doc."""
    zt = fisher_z(np.asarray(target, np.float64).ravel())
    if len(zt) < 2:
        raise ValueError(f"target needs at least 2 similarities, got {len(zt)}")
    if not isinstance(min_decoys, int) or min_decoys < 2:
        raise ValueError(f"min_decoys must be an integer >= 2, got {min_decoys!r}")
    if not 0 < tail_mass < 0.5:
        raise ValueError(f"tail_mass must be in (0, 0.5), got {tail_mass!r}")
    if min_separation < 0:
        raise ValueError(f"min_separation must be >= 0, got {min_separation!r}")
    zd = fisher_z(np.asarray(decoy, np.float64).ravel()) if decoy is not None else np.zeros(0)
    if len(zd) >= min_decoys:
        u = float(np.quantile(zd, 1 - tail_mass))
        shape, scale = _tail_fit(zd[zd > u] - u)
        null_method = "decoys"
    else:  # Efron's empirical null: a normal fitted to the centre of the targets
        q16, q50 = np.percentile(zt, [15.87, 50])
        sd = max(q50 - q16, 1e-3)
        u = float(q50 + stats.norm.isf(tail_mass) * sd)
        shape = 0.0
        scale = float(stats.norm.sf(u, q50, sd) / stats.norm.pdf(u, q50, sd))
        null_method = "empirical"
    floor = u + min_separation * scale
    za = zt[zt > u]
    common = dict(
        threshold=u,
        tail_mass=tail_mass,
        tail_shape=shape,
        tail_scale=scale,
        n_targets=len(zt),
        n_decoys=len(zd),
        null_method=null_method,
    )
    if len(za) < 2:
        return SimilarityCalibration(
            match_mean=floor, match_std=scale, prior=0.0, match_method="none", **common
        )
    log_f0 = stats.genpareto.logpdf(za - u, shape, 0.0, scale)
    if positives is not None and len(positives) >= 2:
        zp = fisher_z(np.asarray(positives, np.float64).ravel())
        mu1, sd1 = max(float(zp.mean()), floor), float(max(zp.std(ddof=1), 0.02))
        fit_match, match_method = False, "positives"
    else:
        top = za[za > floor]
        mu1 = float(top.mean()) if len(top) else floor + scale
        sd1 = float(max(top.std(), scale)) if len(top) > 1 else scale
        fit_match, match_method = True, "em"
    prior = min(0.99, max(float(np.mean(za > floor)), 1e-6))
    for _ in range(max_iter):
        a = np.log(prior) + stats.norm.logpdf(za, mu1, sd1)
        b = np.log1p(-prior) + log_f0
        resp = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        total = float(resp.sum())
        new_prior = min(0.99, total / len(za))
        if fit_match and total > 1e-9:
            mu1 = max(floor, float((resp * za).sum() / total))
            sd1 = max(float(np.sqrt((resp * (za - mu1) ** 2).sum() / total)), scale / 4, 1e-3)
        done = abs(new_prior - prior) < 1e-10
        prior = new_prior
        if done or prior < 1e-9:
            break
    if prior * len(za) < min_matches:  # fewer matches than that: call it none
        prior, match_method = 0.0, "none"
    return SimilarityCalibration(
        match_mean=float(mu1),
        match_std=float(sd1),
        prior=float(prior),
        match_method=match_method,
        **common,
    )
