"""One-to-one matching of true events to detected ones, shared by the metric blocks."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["greedy_match"]


def greedy_match(candidates: Iterable[tuple[float, int, int]], n_true: int) -> np.ndarray:
    """For each of `n_true` true events, the index of the detection matched to it (−1 if
    none): candidate pairs (distance, true index, detection index) are taken closest first,
    each true event and each detection used at most once."""
    out = np.full(n_true, -1)
    used: set[int] = set()
    for _, i, j in sorted(candidates):
        if out[i] < 0 and j not in used:
            out[i] = j
            used.add(j)
    return out
