"""The Klimek et al. (PNAS 2012) fraud model fit."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.forensics import klimek_fit
from pollwatch.forensics.klimek import mode_and_left_sd


def klimek_election(
    rng: np.random.Generator,
    n: int,
    f_i: float,
    f_e: float,
    *,
    alpha: float = 2.0,
    sigma_x: float = 0.3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An election drawn from the model as the paper describes it, written independently of
    the package: turnout ~ N(0.55, 0.07), share ~ N(0.4, 0.08); with probability f_i a
    station adds a fraction x ~ |N(0, sigma_x)| (< 1) of its non-voters to the winner and
    moves x^alpha of the others' votes; with probability f_e the same with
    x = 1 − |N(0, 0.075)|."""
    reg = rng.integers(500, 2500, n)
    a = np.clip(rng.normal(0.55, 0.07, n), 0.01, 0.99)
    v = np.clip(rng.normal(0.4, 0.08, n), 0.01, 0.99)
    winner = np.round(reg * a * v)
    others = np.round(reg * a * (1 - v))
    u = rng.random(n)
    x = np.zeros(n)
    for i in np.flatnonzero(u < f_i):
        while True:
            x[i] = abs(rng.normal(0, sigma_x))
            if x[i] < 1:
                break
    extreme = (u >= f_i) & (u < f_i + f_e)
    x[extreme] = 1 - np.abs(rng.normal(0, 0.075, extreme.sum()))
    stolen = np.round(x**alpha * others)
    winner = winner + np.floor(x * (reg - winner - others)) + stolen
    others = others - stolen
    cast = winner + others
    return reg, cast, cast, winner


@pytest.mark.parametrize(
    ("f_i", "f_e", "tol_i"), [(0.0, 0.0, 0.02), (0.1, 0.03, 0.04), (0.15, 0.02, 0.05)]
)
def test_recovers_known_fraud_with_known_shape(f_i: float, f_e: float, tol_i: float) -> None:
    rng = np.random.default_rng(7)
    data = klimek_election(rng, 20_000, f_i, f_e)
    r = klimek_fit(*data, alpha=2.0, sigma_x=0.3, n_boot=20, seed=1)
    assert r.f_i == pytest.approx(f_i, abs=tol_i)
    assert r.f_e == pytest.approx(f_e, abs=0.006)
    (lo_i, hi_i), (lo_e, hi_e) = r.ci()
    assert lo_i <= r.f_i <= hi_i and lo_e <= r.f_e <= hi_e
    assert r.turnout_mean == pytest.approx(0.55, abs=0.015)
    assert r.share_mean == pytest.approx(0.4, abs=0.02)


def test_widespread_incremental_fraud_is_underestimated() -> None:
    # A known weakness of the method (documented): when most stations are inflated, the
    # clean peak itself moves right and the clean model absorbs part of the fraud.
    data = klimek_election(np.random.default_rng(7), 20_000, 0.6, 0.02)
    r = klimek_fit(*data, alpha=2.0, sigma_x=0.3, n_boot=0, seed=1)
    assert 0.25 < r.f_i < 0.6
    assert r.turnout_mean > 0.57
    assert r.f_e == pytest.approx(0.02, abs=0.006)


def test_recovers_known_fraud_with_the_shape_fitted() -> None:
    rng = np.random.default_rng(8)
    data = klimek_election(rng, 20_000, 0.15, 0.03, alpha=2.0, sigma_x=0.4)
    r = klimek_fit(*data, n_boot=0, seed=2)
    assert r.f_i == pytest.approx(0.15, abs=0.05)
    assert r.f_e == pytest.approx(0.03, abs=0.006)
    assert set(r.shape_fits["stage"]) == {1, 2}
    assert r.sse == r.shape_fits[r.shape_fits["stage"] == 2]["sse"].min()


def test_mode_and_left_sd_of_a_normal_sample() -> None:
    # Reference: for a normal sample the mode is the mean and the RMS deviation of the
    # values below it is the standard deviation (half-normal second moment = sigma^2).
    x = np.random.default_rng(0).normal(0.6, 0.05, 200_000)
    mode, sd = mode_and_left_sd(x)
    assert mode == pytest.approx(0.6, abs=0.01)
    assert sd == pytest.approx(0.05, rel=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_boot": -1}, "n_boot"),
        ({"reps": 0}, "reps"),
        ({"alpha": 0.0}, "alpha"),
        ({"sigma_x": 3.0}, "sigma_x"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    data = klimek_election(np.random.default_rng(1), 200, 0.1, 0.0)
    with pytest.raises(ValueError, match=message):
        klimek_fit(*data, **kwargs)


def test_too_few_stations() -> None:
    with pytest.raises(ValueError, match="at least 100"):
        klimek_fit(np.full(5, 100), np.full(5, 50), np.full(5, 50), np.full(5, 20))


def test_ci_needs_a_confidence_in_0_1() -> None:
    data = klimek_election(np.random.default_rng(2), 500, 0.1, 0.0)
    r = klimek_fit(*data, alpha=2.0, sigma_x=0.3, n_boot=0, seed=0)
    assert np.isnan(r.ci()[0][0])
    with pytest.raises(ValueError, match="confidence"):
        r.ci(1.5)
