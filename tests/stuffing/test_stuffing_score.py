"""The episode test, the hidden-rise test and the extra-ballot bounds, against values worked
out by hand (independent of scipy where a closed form exists)."""

from __future__ import annotations

import math

import pytest

from pollwatch.counting.calibration import COUNTER_ERRORS
from pollwatch.counting.stats import count_bounds
from pollwatch.stuffing.score import (
    HIDDEN_DISPERSION,
    PILE_TAIL,
    PILE_TAIL_DECAY,
    PILE_TAIL_FROM,
    RISE_TAIL,
    RISE_TAIL_DECAY,
    RISE_TAIL_FROM,
    box_step_bounds,
    day_pvalue,
    episode_test,
    extra_ballots,
    hands_tail,
    hidden_dispersion,
    hidden_extra,
    pile_tail,
    rise_test,
)


@pytest.mark.parametrize(
    ("ballots", "rate", "episodes", "gap", "clustering", "pair"),
    [
        (5, 0.08, 25, 2.5, 1.0, 0.26),
        (2, 0.05, 10, 2.5, 1.0, 0.3),
        (8, 0.02, 40, 2.5, 2.0, 0.1),
        (1, 0.1, 5, 3, 1, 0.5),
        (3, 0.1, 1, 2.5, 0.5, 1.0),
    ],
)
def test_episode_test_matches_the_closed_form(
    ballots, rate, episodes, gap, clustering, pair
) -> None:
    got = episode_test(ballots, rate, episodes, gap_s=gap, clustering=clustering, pair_share=pair)
    q = 1.0 - math.exp(-clustering * rate * gap)  # the next ballot within a gap
    p_local = pair * q ** (ballots - 2) if ballots > 1 else 1.0
    assert got.q == pytest.approx(q)
    assert got.p_local == pytest.approx(p_local)
    assert got.pvalue == pytest.approx(1.0 - (1.0 - p_local) ** episodes)
    assert 0.0 <= got.score <= 15.0


def test_more_ballots_are_more_surprising() -> None:
    p = [episode_test(b, 0.08, 25).pvalue for b in range(2, 10)]
    assert p == sorted(p, reverse=True) and p[-1] < 1e-4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ballots": -1, "rate_per_s": 0.1, "episodes": 3}, "ballots"),
        ({"ballots": 3, "rate_per_s": -0.1, "episodes": 3}, "rate_per_s"),
        ({"ballots": 3, "rate_per_s": math.inf, "episodes": 3}, "rate_per_s"),
        ({"ballots": 3, "rate_per_s": 0.1, "episodes": 0}, "episodes"),
        ({"ballots": 3, "rate_per_s": 0.1, "episodes": 3, "gap_s": 0}, "gap_s"),
        ({"ballots": 3, "rate_per_s": 0.1, "episodes": 3, "pair_share": 0}, "pair_share"),
    ],
)
def test_episode_test_rejects_bad_input(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        episode_test(**kwargs)


@pytest.mark.parametrize(
    ("rise", "duration", "rate"), [(6.4, 60.0, 0.05), (3.0, 10.0, 0.1), (12.0, 90.0, 0.08)]
)
def test_rise_test_is_the_poisson_tail(rise, duration, rate) -> None:
    mu = rate * duration
    k = math.floor(rise)
    tail = 1.0 - sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(k))
    assert rise_test(rise, duration, rate, clustering=1.0) == pytest.approx(tail, rel=1e-9)


@pytest.mark.parametrize("rise", [0.0, -2.0, math.nan])
def test_no_rise_is_no_evidence(rise) -> None:
    assert rise_test(rise, 30.0, 0.1) == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"duration_s": -1.0}, "duration_s"), ({"dispersion": 0.5}, "dispersion")],
)
def test_rise_test_rejects_bad_input(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        rise_test(3.0, **{"duration_s": 30.0, "rate_per_s": 0.1, **kwargs})


@pytest.mark.parametrize(
    ("rise", "duration", "rate", "dispersion"),
    [(6.4, 60.0, 0.05, 3.0), (11.0, 60.0, 31 / 540, 3.0), (3.0, 10.0, 0.1, 2.0)],
)
def test_dispersed_rise_test_is_the_negative_binomial_tail(rise, duration, rate, dispersion):
    mu, k = rate * duration, math.floor(rise)
    # the negative binomial of mean mu and variance dispersion * mu: r = mu / (d - 1) failures
    r, p = mu / (dispersion - 1.0), 1.0 / dispersion
    pmf = [
        math.gamma(r + i) / (math.gamma(r) * math.factorial(i)) * p**r * (1 - p) ** i
        for i in range(k)
    ]
    got = rise_test(rise, duration, rate, clustering=1.0, dispersion=dispersion)
    assert got == pytest.approx(1.0 - sum(pmf), rel=1e-6)
    # bursts of voters make a rise less unlikely than a Poisson stream does
    assert got > rise_test(rise, duration, rate, clustering=1.0)


@pytest.mark.parametrize(
    ("ballots", "expected", "want"),
    [
        # demo 72: a stuffer's 6 hidden behind a blocked box for 108 s, the pile up 16.1
        # with 4.6 legitimate expected (8 came): 12 beyond them, 4-16 (the 95th percentile
        # of the legitimate count is 12)
        (16.1, 4.6, (12, 4, 16)),
        (6.3, 1.3, (5, 1, 6)),
        (2.0, 4.0, (0, 0, 2)),  # less than expected: none beyond
        (math.nan, 4.0, (0, 0, 0)),
        (5.0, 0.0, (5, 5, 5)),
    ],
)
def test_hidden_extra(ballots, expected, want) -> None:
    assert hidden_extra(ballots, expected) == want


def test_hidden_extra_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="dispersion"):
        hidden_extra(3.0, 1.0, 0.5)


@pytest.mark.parametrize("ballots", [0, 1, 5, 9, 40])
def test_extra_ballots_bounds(ballots) -> None:
    est, lower, upper = extra_ballots(ballots)
    b = count_bounds(ballots, COUNTER_ERRORS)
    assert est == ballots
    assert lower == max(0, b.lower - 1) and upper == max(b.upper, ballots)
    assert lower <= est <= upper


@pytest.mark.parametrize(("ballots", "want"), [(6, (6, 3, 8)), (11, (11, 7, 15)), (1, (1, 0, 2))])
def test_a_bundle_s_bounds_reach_the_pile_s_errors(ballots, want) -> None:
    # demo 73: a bundle of 8 read off the pile as 6; the bounds reach 0.73-1.33 times it
    got = extra_ballots(ballots, from_pile=True)
    plain = extra_ballots(ballots)
    assert got == want
    assert got[1] <= plain[1] and got[2] >= plain[2]


@pytest.mark.parametrize(("ballots", "want"), [(0, 1.0), (2, 1.0), (3, 0.045), (5, 0.01125)])
def test_hands_tail(ballots, want) -> None:
    assert hands_tail(ballots) == pytest.approx(want)


_EPISODE = (PILE_TAIL, PILE_TAIL_DECAY, PILE_TAIL_FROM)
_BETWEEN = (RISE_TAIL, RISE_TAIL_DECAY, RISE_TAIL_FROM)


@pytest.mark.parametrize(
    ("tail", "excess", "want"),
    [
        (_EPISODE, math.nan, 0.0052),
        (_EPISODE, 0.0, 0.0052),
        (_EPISODE, 5.0, 0.0052),
        (_EPISODE, 7.0, 0.0052 * 0.66**2),
        (_EPISODE, 12.5, 0.0052 * 0.66**7.5),
        (_BETWEEN, math.nan, 0.012),
        (_BETWEEN, 0.5, 0.012),
        (_BETWEEN, 1.0, 0.012),
        (_BETWEEN, 4.0, 0.012 * 0.56**3),
        (_BETWEEN, 6.5, 0.012 * 0.56**5.5),
    ],
)
def test_pile_tail(tail, excess, want) -> None:
    """Within an episode (the defaults) and between episodes (RISE_TAIL)."""
    assert pile_tail(excess, *tail) == pytest.approx(want)
    if tail is _EPISODE:
        assert pile_tail(excess) == pytest.approx(want)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: extra_ballots(-1), "ballots"),
        (lambda: hands_tail(-1), "ballots"),
        (lambda: hands_tail(4, tail=0.0), "tail"),
        (lambda: pile_tail(6.0, decay=0.0), "decay"),
    ],
)
def test_extra_ballots_and_hands_tail_reject_bad_input(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("p", "n", "want"),
    [(0.0045, 21, 1 - (1 - 0.0045) ** 21), (1e-20, 10, 1e-19), (1.0, 3, 1.0), (0.3, 1, 0.3)],
)
def test_day_pvalue_is_sidak(p, n, want) -> None:
    assert day_pvalue(p, n) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize(("p", "n"), [(-0.1, 3), (1.5, 3), (0.1, 0)])
def test_day_pvalue_rejects_bad_input(p, n) -> None:
    with pytest.raises(ValueError, match="p_local"):
        day_pvalue(p, n)


@pytest.mark.parametrize(
    ("lower", "upper", "error", "want"),
    [
        # the measured error (0.667, 1.05): the upper bound 1.5 times, the lower one 1/1.05
        (4, 10, (0.667, 1.05), (3, 15)),
        (21, 30, (0.667, 1.05), (20, 45)),
        (0, 0, (0.667, 1.05), (0, 0)),
        # no error: the bounds as they were
        (4, 10, (1.0, 1.0), (4, 10)),
        (5, 9, (0.5, 2.0), (2, 18)),
    ],
)
def test_box_step_bounds(lower, upper, error, want) -> None:
    assert box_step_bounds(lower, upper, error) == want


@pytest.mark.parametrize("error", [(0.0, 1.0), (1.2, 1.0), (-0.5, 1.0)])
def test_box_step_bounds_rejects_bad_error(error) -> None:
    with pytest.raises(ValueError, match="error"):
        box_step_bounds(1, 2, error)


@pytest.mark.parametrize(
    ("duration", "dispersion"),
    [
        (0.0, 1.26),  # at or below the shortest window: its ratio
        (10.0, 1.26),
        (15.0, 1.26),
        (22.5, 1.435),  # halfway between 15 s (1.26) and 30 s (1.61)
        (30.0, 1.61),
        (45.0, 1.855),
        (60.0, 2.10),
        (66.0, 2.28),  # demo 116's blind range: a fifth of the way from 2.10 to 3.0
        (75.0, 2.55),
        (90.0, 3.0),  # the cap, above the measured 2.95 (90 s) and 2.80 (120 s)
        (120.0, 3.0),
        (3600.0, 3.0),
    ],
)
def test_hidden_dispersion_is_linear_in_the_length(duration, dispersion) -> None:
    assert hidden_dispersion(duration) == pytest.approx(dispersion, abs=1e-9)


@pytest.mark.parametrize(
    ("duration", "knots", "message"),
    [
        (-1.0, ((15.0, 1.26),), "duration_s"),
        (math.nan, ((15.0, 1.26),), "duration_s"),
        (math.inf, ((15.0, 1.26),), "duration_s"),
        (30.0, (), "rising lengths"),
        (30.0, ((30.0, 1.5), (15.0, 2.0)), "rising lengths"),
        (30.0, ((15.0, 1.5), (15.0, 2.0)), "rising lengths"),
        (30.0, ((15.0, 0.9), (30.0, 2.0)), "not fall"),
        (30.0, ((15.0, 2.0), (30.0, 1.5)), "not fall"),
    ],
)
def test_hidden_dispersion_rejects_bad_input(duration, knots, message) -> None:
    with pytest.raises(ValueError, match=message):
        hidden_dispersion(duration, knots)


@pytest.mark.parametrize(
    ("rise", "below_with_length", "below_with_constant"),
    [
        (11.0, True, False),  # demo 116: 8 stuffed and about 3-4 voters; only the new rule
        (13.0, True, True),  # a larger rise: both
        (8.0, False, False),  # within the voters' burstiness either way
    ],
)
def test_a_busy_66_s_blind_range_like_demo_116(
    rise, below_with_length, below_with_constant
) -> None:
    # 4.2 ballots expected in 66 s (19 counted in 298 s watched)
    with_length = rise_test(
        rise, 66.0, 4.2 / 66.0, clustering=1.0, dispersion=hidden_dispersion(66.0)
    )
    constant = rise_test(rise, 66.0, 4.2 / 66.0, clustering=1.0, dispersion=HIDDEN_DISPERSION)
    assert (with_length < 0.05) is below_with_length
    assert (constant < 0.05) is below_with_constant
    assert with_length < constant
