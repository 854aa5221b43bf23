"""Integer-percentage peaks (Kobak, Shpilkin & Pshenichnikov 2016)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from synthetic_elections import CANDIDATES, clean_election, round_turnouts

from pollwatch.forensics import integer_percentages
from pollwatch.forensics.integer_peaks import integer_probability, is_integer_pct


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        (1, 2000, True),  # 0.05 %: on the ±0.05 boundary, inclusive
        (3, 2000, False),  # 0.15 %
        (601, 1000, False),  # 60.1 %
        (600, 1000, True),
        (1201, 2000, True),  # 60.05 %: boundary
        (1203, 2000, False),  # 60.15 %
        (5, 0, False),
    ],
)
def test_is_integer_pct(k: int, n: int, expected: bool) -> None:
    assert bool(is_integer_pct(np.array([k]), np.array([n]))[0]) is expected


# Reference: brute-force sum of scipy.stats.binom.pmf over every k whose percentage is
# within ±0.05 of an integer (an independent implementation of the same probability).
@pytest.mark.parametrize(
    ("n", "p"),
    [(100, 0.5), (137, 0.33), (999, 0.61), (2000, 0.999), (2500, 0.0), (1500, 1.0), (3001, 0.07)],
)
def test_integer_probability_matches_brute_force(n: int, p: float) -> None:
    k = np.arange(n + 1)
    pct = 100 * k / n
    hit = np.abs(pct - np.round(pct)) <= 0.05 + 1e-9
    expected = stats.binom.pmf(k[hit], n, p).sum()
    got = integer_probability(np.array([n]), np.array([p]))[0]
    assert got == pytest.approx(expected, abs=1e-12)


def test_exact_and_binomial_methods_agree(rng: np.random.Generator) -> None:
    # Kobak et al.'s own procedure (new binomial counts each repetition) against the exact
    # per-station probabilities: same expected count, same null spread.
    f = clean_election(rng, regions=5, stations_per_region=200)
    args = (f["registered"], f["ballots_issued"], f["ballots_cast"], f[CANDIDATES[0]])
    exact = integer_percentages(*args, n_mc=2000, seed=1)
    brute = integer_percentages(*args, n_mc=400, seed=2, method="binomial")
    assert exact.observed == brute.observed
    sd = brute.null_excess.std()
    assert brute.expected == pytest.approx(exact.expected, abs=4 * sd / np.sqrt(400))
    assert exact.null_excess.std() == pytest.approx(sd, rel=0.15)
    assert np.nansum(exact.station_probability) == pytest.approx(exact.expected)


def test_clean_elections_are_rarely_flagged() -> None:
    # 100 clean synthetic elections: p < 0.01 in at most 2 % of them (target of the issue)
    flagged = 0
    for seed in range(100):
        f = clean_election(np.random.default_rng(seed), regions=10, stations_per_region=100)
        r = integer_percentages(
            f["registered"], f["ballots_issued"], f["ballots_cast"], f[CANDIDATES[0]],
            n_mc=200, seed=seed,
        )  # fmt: skip
        flagged += r.pvalue < 0.01
    assert flagged <= 2


def test_rewritten_protocols_are_detected(rng: np.random.Generator) -> None:
    f, hit = round_turnouts(
        clean_election(rng, regions=10, stations_per_region=200), rng, station_fraction=0.05
    )
    r = integer_percentages(
        f["registered"], f["ballots_issued"], f["ballots_cast"], f[CANDIDATES[0]], n_mc=500, seed=3
    )
    assert r.pvalue < 0.01
    assert r.excess == pytest.approx(hit.sum() * 0.85, rel=0.35)  # ~15 % were integer anyway
    assert r.station_integer[hit].all()


def test_filters_follow_kobak_et_al() -> None:
    reg = np.array([99, 100, 1000, 1000, 1000, 1000])
    issued = np.array([50, 50, 0, 995, 500, 500])
    cast = np.array([50, 50, 0, 995, 500, 500])
    winner = np.array([10, 10, 0, 10, 496, 200])
    r = integer_percentages(reg, issued, cast, winner, n_mc=10, seed=0)
    # < 100 registered, no ballot, turnout > 99 %, share > 99 % are left out
    assert r.stations == 2
    assert np.isnan(r.station_probability[[0, 2, 3, 4]]).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_mc": 0}, "n_mc"),
        ({"method": "magic"}, "method"),
        ({"tolerance_pp": 0.7}, "tolerance_pp"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    one = np.array([1000])
    with pytest.raises(ValueError, match=message):
        integer_percentages(one, one // 2, one // 2, one // 4, **kwargs)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="same length"):
        integer_percentages(np.array([1, 2]), np.array([1]), np.array([1]), np.array([1]))
    with pytest.raises(ValueError, match="above ballots_cast"):
        integer_percentages(np.array([9]), np.array([5]), np.array([5]), np.array([6]))
    with pytest.raises(ValueError, match="n must be > 0"):
        integer_probability(np.array([0]), np.array([0.5]))
