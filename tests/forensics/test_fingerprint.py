"""The election fingerprint and its drawing."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.forensics import fingerprint
from pollwatch.forensics.plots import plot_fingerprint, plot_percent_histogram, plot_shpilkin
from pollwatch.forensics.shpilkin import shpilkin

PNG = b"\x89PNG\r\n\x1a\n"


def test_matches_numpy_histogram2d(rng: np.random.Generator) -> None:
    # Reference: numpy.histogram2d on the same bins (an independent implementation).
    t = rng.uniform(0, 1, 5000)
    s = rng.uniform(0, 1, 5000)
    w = rng.integers(100, 3000, 5000)
    fp = fingerprint(t, s, w, bins=40)
    expected, _, _ = np.histogram2d(t, s, bins=40, range=[[0, 1], [0, 1]], weights=w)
    np.testing.assert_allclose(fp.counts, expected)
    assert fp.stations == 5000 and fp.density().sum() == pytest.approx(1)


def test_edges_nan_and_corner() -> None:
    t = np.array([1.0, 1.3, 0.5, np.nan])
    s = np.array([1.0, 0.97, 0.5, 0.5])
    fp = fingerprint(t, s, bins=100)
    assert fp.stations == 3 and fp.weighted_by == "stations"
    assert fp.counts[99, 99] == 1 and fp.counts[99, 97] == 1  # turnout > 1 in the last bin
    assert fp.corner_mass(0.95) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((np.ones(3), np.ones(2)), {}, "same length"),
        ((np.ones(3), np.ones(3)), {"bins": 0}, "bins"),
        ((np.ones(3), np.ones(3), -np.ones(3)), {}, "weights"),
        ((np.ones(3), np.full(3, 1.5)), {}, "within"),
    ],
)
def test_bad_inputs(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fingerprint(*args, **kwargs)


def test_plots_are_png(rng: np.random.Generator) -> None:
    t = rng.normal(0.6, 0.1, 2000).clip(0, 1)
    s = rng.normal(0.5, 0.1, 2000).clip(0, 1)
    assert plot_fingerprint(fingerprint(t, s)).startswith(PNG)
    assert plot_percent_histogram(100 * t).startswith(PNG)
    reg = np.full(2000, 1000)
    res = shpilkin(reg, np.round(reg * t), np.round(reg * t * s), np.round(reg * t * (1 - s)))
    assert plot_shpilkin(res).startswith(PNG)
