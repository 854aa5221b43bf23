"""Shpilkin's estimate of anomalous votes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic_elections import CANDIDATES, add_stuffing, clean_election

from pollwatch.forensics import shpilkin


def _args(f: pd.DataFrame) -> tuple:
    winner = f[CANDIDATES[0]]
    others = f[list(CANDIDATES[1:])].sum(axis=1)
    return f["registered"], f["ballots_issued"], winner, others


def _loop_reference(reg, issued, winner, others) -> float:
    """Independent re-implementation of the definitions in plain Python loops: 1 % bins,
    3-bin moving average of valid votes, lowest local maximum reaching half of the highest
    below 95 %, moved to the highest raw bin beside it, ratio over the peak ± 1 bin,
    winner − ratio × others above the peak."""
    votes = [0.0] * 100
    w_bin = [0.0] * 100
    o_bin = [0.0] * 100
    for r, g, w, o in zip(reg, issued, winner, others, strict=True):
        b = min(int(g / r * 100 + 1e-9), 99)
        votes[b] += w + o
        w_bin[b] += w
        o_bin[b] += o
    smooth = [sum(votes[max(i - 1, 0) : i + 2]) / 3 for i in range(100)][:95]
    top = max(smooth)
    peak = next(
        i
        for i in range(1, 94)
        if smooth[i] >= smooth[i - 1] and smooth[i] > smooth[i + 1] and smooth[i] >= top / 2
    )
    peak = max((peak - 1, peak, peak + 1), key=lambda b: (votes[b], -b))
    ratio = sum(w_bin[peak - 1 : peak + 2]) / sum(o_bin[peak - 1 : peak + 2])
    return sum(w_bin[b] - ratio * o_bin[b] for b in range(peak + 1, 100))


def test_matches_a_loop_implementation(rng: np.random.Generator) -> None:
    f, _ = add_stuffing(clean_election(rng, regions=8, stations_per_region=150), rng)
    r = shpilkin(*_args(f))
    assert r.anomalous_votes == pytest.approx(_loop_reference(*_args(f)), rel=1e-9)


def test_hand_computed_example() -> None:
    # 60 stations of 1000 voters: 40 at 50 % turnout (winner 200, others 300), 20 at 80 %
    # (winner 500, others 300). Peak at 50 %: ratio 2/3; above it the winner should have had
    # 200 per station, so 20 × 300 = 6,000 votes are anomalous.
    reg = np.full(60, 1000)
    issued = np.r_[np.full(40, 500), np.full(20, 800)]
    winner = np.r_[np.full(40, 200), np.full(20, 500)]
    others = np.full(60, 300)
    r = shpilkin(reg, issued, winner, others, min_stations=10)
    assert r.applicable and r.peak_turnout == pytest.approx(0.5)
    assert r.clean_share == pytest.approx(0.4)
    assert r.anomalous_votes == pytest.approx(6000)
    assert r.station_anomalous[:40].sum() == 0 and r.station_anomalous[40:] == pytest.approx(300)


def _clean_runs(regional_sd: float, runs: int) -> np.ndarray:
    out = []
    for seed in range(runs):
        f = clean_election(
            np.random.default_rng(seed),
            regions=50,
            stations_per_region=200,
            station_sd=0.25,
            turnout=(0.55, regional_sd),
            share=(0.5, regional_sd),
        )
        r = shpilkin(*_args(f), regions=f["region"])
        valid = f[list(CANDIDATES)].to_numpy().sum()
        out.append((r.national / valid, r.anomalous_votes / valid))
    return np.abs(np.array(out))


def test_clean_elections_have_under_one_percent() -> None:
    # Target of the issue: Shpilkin's estimate < 1 % of the votes on clean elections (the
    # 100-election run is benchmarks/forensics_clean.py; here 15). With regions alike in
    # turnout and share both figures stay under 1 %; where regions differ (sd 5 points) chance
    # correlation between regional turnout and share can move the national figure past 1 %
    # (docs/forensics.md), the within-region one stays under.
    alike = _clean_runs(0.01, 15)
    assert alike.max() < 0.01
    differ = _clean_runs(0.05, 15)
    assert differ[:, 1].max() < 0.01


def test_stuffing_is_mostly_recovered(rng: np.random.Generator) -> None:
    f, added = add_stuffing(
        clean_election(rng, regions=10, stations_per_region=200), rng, station_fraction=0.3
    )
    r = shpilkin(*_args(f))
    # stuffed stations that stay below the clean peak are missed: an underestimate
    assert 0.5 * added.sum() < r.anomalous_votes < 1.1 * added.sum()


def test_regions_and_not_applicable(rng: np.random.Generator) -> None:
    f = clean_election(rng, regions=3, stations_per_region=250)
    ok = f["region"] == "R02"
    f.loc[ok, "ballots_issued"] = (f.loc[ok, "registered"] * 0.99).round().astype(int)
    r = shpilkin(*_args(f), regions=f["region"])
    table = r.regions.set_index("region")
    assert np.isnan(table.loc["R02", "regional"])
    assert "near 100 %" in table.loc["R02", "reason"]
    # the estimate is the sum of the regional fits, the national fit standing in for R02
    assert r.method == "within_region"
    assert table.loc["R00", "regional"] == pytest.approx(
        np.nansum(r.station_anomalous[f["region"] == "R00"])
    )
    assert table.loc["R02", "attributed"] == pytest.approx(
        np.nansum(r.station_anomalous[f["region"] == "R02"])
    )
    assert r.anomalous_votes == pytest.approx(np.nansum(r.station_anomalous))
    assert r.anomalous_votes == pytest.approx(table["regional"].fillna(table["attributed"]).sum())
    national = shpilkin(*_args(f))
    assert national.method == "national"
    assert r.national == pytest.approx(national.anomalous_votes)
    assert table["attributed"].sum() == pytest.approx(national.anomalous_votes)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bin_width": 0.5}, "bin_width"),
        ({"max_peak_turnout": 0.2}, "max_peak_turnout"),
        ({"window": -1}, "window"),
        ({"regions": np.array(["a"])}, "regions"),
        ({"regional_smoothing": 4}, "regional_smoothing"),
        ({"regional_min_stations": 0}, "regional_min_stations"),
        ({"regional_baseline": "mode"}, "regional_baseline"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    one = np.ones(3)
    with pytest.raises(ValueError, match=message):
        shpilkin(one * 100, one * 50, one * 20, one * 20, **kwargs)


def test_too_few_stations_is_not_applicable() -> None:
    r = shpilkin(np.full(5, 100), np.full(5, 50), np.full(5, 20), np.full(5, 20))
    assert not r.applicable and np.isnan(r.anomalous_votes) and "fewer than" in r.reason
