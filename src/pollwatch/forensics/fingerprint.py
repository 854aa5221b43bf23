"""The election fingerprint: a 2D histogram of turnout × winner share, weighted by voters.

Klimek, Yegorov, Hanel & Thurner (PNAS 109(41) 2012) call it the election's fingerprint: clean
elections show one compact, roughly round cluster; ballot stuffing smears it towards the upper
right corner (high turnout, high share) and extreme fraud piles stations at 100 % / 100 %.
Drawing is in `pollwatch.forensics.plots`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Fingerprint", "fingerprint"]


@dataclass(frozen=True)
class Fingerprint:
    """`counts[i, j]`: weight of stations with turnout in bin i and winner share in bin j.

    Bins are half-open ``[edge_k, edge_k+1)`` except the last, which includes 1 (values above 1
    are put in the last bin)."""

    counts: np.ndarray
    turnout_edges: np.ndarray
    share_edges: np.ndarray
    weighted_by: str
    stations: int

    def density(self) -> np.ndarray:
        """`counts` normalised to sum to 1."""
        total = self.counts.sum()
        return self.counts / total if total > 0 else self.counts

    def corner_mass(self, threshold: float = 0.95) -> float:
        """Share of the weight with both turnout and winner share ≥ `threshold`."""
        i = np.searchsorted(self.turnout_edges, threshold, side="left")
        j = np.searchsorted(self.share_edges, threshold, side="left")
        total = self.counts.sum()
        return float(self.counts[i:, j:].sum() / total) if total > 0 else 0.0


def fingerprint(
    turnout: np.ndarray,
    winner_share: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    bins: int = 100,
    weighted_by: str = "registered voters",
) -> Fingerprint:
    """Histogram stations by turnout and winner share (both in [0, 1]) into `bins` × `bins`
    cells, each station counting `weights` (e.g. its registered voters; 1 when None).
    Stations with a missing (NaN) turnout or share are left out."""
    t = np.asarray(turnout, dtype=float)
    s = np.asarray(winner_share, dtype=float)
    if t.shape != s.shape or t.ndim != 1:
        raise ValueError("turnout and winner_share must be 1-D arrays of the same length")
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != t.shape:
        raise ValueError("weights must have the length of turnout")
    if np.any(w < 0):
        raise ValueError("weights must be >= 0")
    ok = np.isfinite(t) & np.isfinite(s)
    if np.any((t[ok] < 0) | (s[ok] < 0) | (s[ok] > 1)):
        raise ValueError("turnout must be >= 0 and winner_share within [0, 1]")
    i = np.minimum((t[ok] * bins).astype(np.int64), bins - 1)
    j = np.minimum((s[ok] * bins).astype(np.int64), bins - 1)
    counts = np.bincount(i * bins + j, weights=w[ok], minlength=bins * bins)
    edges = np.linspace(0.0, 1.0, bins + 1)
    return Fingerprint(
        counts=counts.reshape(bins, bins),
        turnout_edges=edges,
        share_edges=edges.copy(),
        weighted_by=weighted_by if weights is not None else "stations",
        stations=int(ok.sum()),
    )
