"""Extrapolating the cameras' measured inflation to the stations without a camera."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic_elections import CANDIDATES, add_stuffing, camera_counts, clean_election

from pollwatch.errors import InputError
from pollwatch.forensics import extrapolate_inflation


def _case(seed: int, fraud: bool = True, fraction: float = 0.15):
    rng = np.random.default_rng(seed)
    f = clean_election(rng, regions=20, stations_per_region=50, station_sd=0.25)
    added = np.zeros(len(f), dtype=np.int64)
    if fraud:
        f, added = add_stuffing(f, rng, station_fraction=0.3, region_fraction=0.4)
    cameras = camera_counts(f, added, rng, fraction=fraction)
    return f.rename(columns={CANDIDATES[0]: "winner_votes"}), cameras, added


def test_interval_covers_the_truth_in_at_least_90_percent_of_runs() -> None:
    # target of the issue: synthetic fraud of known size, 100 runs, 95 % intervals
    covered, errors = 0, []
    for seed in range(100):
        stations, cameras, added = _case(seed)
        r = extrapolate_inflation(stations, cameras, seed=seed)
        covered += r.lower <= added.sum() <= r.upper
        errors.append((r.statistic - added.sum()) / added.sum())
    assert covered >= 90
    assert abs(np.mean(errors)) < 0.05  # nearly unbiased


def test_no_fraud_gives_an_interval_around_zero() -> None:
    stations, cameras, _ = _case(3, fraud=False)
    r = extrapolate_inflation(stations, cameras, seed=0)
    assert r.lower < 0 < r.upper
    assert abs(r.statistic) < 0.01 * stations["ballots_issued"].sum()


def test_station_table_and_bounds() -> None:
    stations, cameras, _ = _case(5)
    r = extrapolate_inflation(stations, cameras, seed=0)
    s = r.stations.set_index("station_id")
    measured = cameras[cameras["observable_share"] >= 0.8]
    partial = cameras[cameras["observable_share"] < 0.8]
    assert s.loc[measured["station_id"], "observed_by_camera"].all()
    assert not s.loc[partial["station_id"], "observed_by_camera"].any()
    issued = stations.set_index("station_id")["ballots_issued"]
    # measured stations: issued − observed
    first = measured.iloc[0]
    assert (
        s.loc[first["station_id"], "est_inflated"]
        == issued[first["station_id"]] - first["observed"]
    )
    # partially observed: within issued − [upper, lower]
    for row in partial.itertuples():
        est = s.loc[row.station_id, "est_inflated"]
        lo, hi = (
            issued[row.station_id] - row.observed_upper,
            issued[row.station_id] - row.observed_lower,
        )
        assert lo - 1e-9 <= est <= hi + 1e-9
    assert (s["est_inflated_lower"] <= s["est_inflated"] + 1e-9).all()
    assert (s["est_inflated"] <= s["est_inflated_upper"] + 1e-9).all()
    assert r.stations["est_inflated"].sum() == pytest.approx(r.statistic)
    assert r.regions["estimate"].sum() == pytest.approx(r.statistic)
    assert (r.regions["lower"] <= r.regions["estimate"]).all()
    assert r.n_measured == len(measured) and r.n_bounded == len(partial)


def test_bootstrap_method_and_anomaly_score_feature() -> None:
    stations, cameras, added = _case(6)
    stations = stations.assign(anomaly_score=np.where(added > 0, 3.0, 0.2))
    r = extrapolate_inflation(stations, cameras, method="bootstrap", n_boot=200, seed=1)
    assert "registered_x_score" in r.features and len(r.boot_totals) == 200
    assert r.lower < r.statistic < r.upper
    assert r.lower <= added.sum() <= r.upper


def test_unknown_and_repeated_camera_stations_are_reported() -> None:
    stations, cameras, _ = _case(7)
    extra = pd.DataFrame(
        [
            {"station_id": "nowhere", "observed": 5, "observed_lower": 4, "observed_upper": 6,
             "observable_share": 1.0},
            cameras.iloc[0].to_dict(),
        ]
    )  # fmt: skip
    r = extrapolate_inflation(stations, pd.concat([cameras, extra]), seed=0)
    messages = [p.message for p in r.excluded]
    assert any("unknown station nowhere" in m for m in messages)
    assert any("repeated station" in m for m in messages)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"drop_station": "ballots_issued"}, InputError, "ballots_issued"),
        ({"drop_camera": "observed"}, InputError, "observed"),
        ({"method": "magic"}, ValueError, "method"),
        ({"cameras": 1}, ValueError, "at least 2 measured"),
        ({"confidence": 1.5}, ValueError, "confidence"),
    ],
)
def test_bad_inputs(change: dict, error: type, message: str) -> None:
    stations, cameras, _ = _case(8)
    kwargs = {}
    if "drop_station" in change:
        stations = stations.drop(columns=[change["drop_station"]])
    if "drop_camera" in change:
        cameras = cameras.drop(columns=[change["drop_camera"]])
    if "cameras" in change:
        cameras = cameras[cameras["observable_share"] >= 0.8].head(1)
    for key in ("method", "confidence"):
        if key in change:
            kwargs[key] = change[key]
    with pytest.raises(error, match=message):
        extrapolate_inflation(stations, cameras, **kwargs)


@pytest.mark.parametrize(("by_region", "covered"), [(True, True), (False, False)])
def test_cameras_concentrated_in_one_region(by_region: bool, covered: bool) -> None:
    # every station of R00 inflated alike (its median moves with it, so the excess features
    # do not see it) and half of R00's stations watched against 5 % elsewhere: one
    # inflation per voter for all regions carries R00's rate over to the others
    rng = np.random.default_rng(11)
    f = clean_election(rng, regions=4, stations_per_region=300, station_sd=0.25)
    room = (f["registered"] - f["ballots_issued"]).to_numpy()
    added = np.where(f["region"] == "R00", np.round(0.15 * room), 0).astype(np.int64)
    for col in ("ballots_issued", "ballots_cast", CANDIDATES[0]):
        f[col] = f[col].to_numpy() + added
    watched = rng.random(len(f)) < np.where(f["region"] == "R00", 0.5, 0.05)
    true = (f["ballots_issued"].to_numpy() - added)[watched]
    cameras = pd.DataFrame(
        {
            "station_id": f["station_id"].to_numpy()[watched],
            "observed": true,
            "observed_lower": true - 2,
            "observed_upper": true + 2,
            "observable_share": 1.0,
        }
    )
    stations = f.rename(columns={CANDIDATES[0]: "winner_votes"})
    r = extrapolate_inflation(stations, cameras, by_region=by_region)
    assert bool(r.lower <= added.sum() <= r.upper) is covered
    assert any(name.startswith("registered_x_region:") for name in r.features) is by_region
