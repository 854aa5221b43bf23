"""The per-station anomaly score and the robust regional model under it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from synthetic_elections import add_stuffing, clean_election, turnout_checkpoints

from pollwatch.forensics import (
    Stations,
    anomaly_scores,
    checkpoint_consistency,
    integer_percentages,
)
from pollwatch.forensics.robust import robust_z


def test_robust_z_is_standard_normal_on_binomial_data(rng: np.random.Generator) -> None:
    # Reference: a clean group's z-scores follow N(0, 1) (Kolmogorov–Smirnov against scipy's
    # normal), even with a between-station spread and unequal station sizes.
    n = rng.integers(200, 3000, 4000)
    p = 1 / (1 + np.exp(-(0.3 + rng.normal(0, 0.2, 4000))))
    z = robust_z(rng.binomial(n, p), n)
    assert stats.kstest(z, "norm").pvalue > 0.01
    # a contaminated half does not move the reference of the other half much
    k = rng.binomial(n, p)
    k[:1500] = np.minimum(n[:1500], k[:1500] + n[:1500] // 5)
    z = robust_z(k, n)
    assert abs(np.median(z[1500:])) < 0.5


def _scored(seed: int, fraud: bool) -> tuple:
    rng = np.random.default_rng(seed)
    f = clean_election(rng, regions=20, stations_per_region=200, station_sd=0.25)
    added = np.zeros(len(f), dtype=int)
    if fraud:
        f, added = add_stuffing(f, rng, station_fraction=0.2, region_fraction=0.5)
    st = Stations.from_frame(f)
    ints = integer_percentages(
        st.registered, st.ballots_issued, st.ballots_cast, st.winner_votes, n_mc=20, seed=1
    )
    cps = checkpoint_consistency(turnout_checkpoints(f, rng, added), f)
    return anomaly_scores(st, integer=ints, checkpoints=cps), added


@pytest.mark.parametrize("seed", [0, 1])
def test_score_is_calibrated_on_clean_elections(seed: int) -> None:
    # a score ≥ s is a 10^-s tail under the clean model: at most ~1 % ≥ 2, ~10 % ≥ 1
    scores, _ = _scored(seed, fraud=False)
    assert scores.share_above(2) <= 0.01
    assert scores.share_above(1) <= 0.10
    assert np.mean(scores.components["p_fingerprint"] < 0.05) == pytest.approx(0.05, abs=0.02)


def test_stuffed_stations_score_high() -> None:
    scores, added = _scored(3, fraud=True)
    hit = added > 0
    auc = stats.mannwhitneyu(scores.score[hit], scores.score[~hit]).statistic / (
        hit.sum() * (~hit).sum()
    )
    assert auc > 0.9
    assert np.mean(scores.score[hit] >= 2) > 0.4 and np.mean(scores.score[~hit] >= 2) < 0.01
    top = scores.top(20)
    assert list(top.columns[:2]) == ["station_id", "anomaly_score"]
    assert top["anomaly_score"].is_monotonic_decreasing


def test_components_without_optional_inputs() -> None:
    f = clean_election(np.random.default_rng(4), regions=2, stations_per_region=50)
    f.loc[0, ["ballots_issued", "ballots_cast", "invalid"]] = 0
    f.loc[0, ["Avery", "Blake", "Casey"]] = 0
    s = anomaly_scores(Stations.from_frame(f))
    assert np.isnan(s.score[0]) and np.isfinite(s.score[1:]).all()
    assert s.components["p_integer"].isna().all() and s.components["p_checkpoints"].isna().all()


def test_integer_result_of_other_stations() -> None:
    f = clean_election(np.random.default_rng(5), regions=2, stations_per_region=50)
    st = Stations.from_frame(f)
    other = integer_percentages(
        st.registered[:10], st.ballots_issued[:10], st.ballots_cast[:10], st.winner_votes[:10]
    )
    with pytest.raises(ValueError, match="another set"):
        anomaly_scores(st, integer=other)
