"""Named random streams: one independent, reproducible generator per part of the simulation.

Every part of the simulator draws from its own stream, named by strings (`"true"`,
`"camera", "D003-012"`), so that adding or removing one part never shifts the draws of
another: the `-clean` variant of a preset draws the same true results as the preset itself,
and a camera's schedule does not depend on how many other cameras are rendered.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["stream"]


def stream(seed: int, *names: str) -> np.random.Generator:
    """A generator determined by `seed` and `names` alone (stable across runs and platforms)."""
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    keys = [zlib.crc32(name.encode("utf-8")) for name in names]
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))
