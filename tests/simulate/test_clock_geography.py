"""The compressed clock, the day's curve, stations on the map and the rendering order."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from pollwatch.simulate.clock import Clock, interval_shares, sample_arrival_hours
from pollwatch.simulate.geography import (
    build_stations,
    camera_priority,
    distance_km,
    expected_table_load,
    road_seconds,
)
from pollwatch.simulate.presets import get_preset
from pollwatch.simulate.streams import stream


@pytest.mark.parametrize(
    ("scale", "close", "first_cp"),
    [(1.0, "19:00:00", "10:00:00"), (2.0, "13:30:00", "09:00:00"),
     (180.0, "08:03:40", "08:00:40"), (7.0, "09:34:17.143", "08:17:08.571")],
)  # fmt: skip
def test_clock_compresses_the_day(scale: float, close: str, first_cp: str) -> None:
    clock = Clock.of(get_preset("azerbaijan-2024").with_time_scale(scale))
    assert clock.polls_open.isoformat() == "2024-02-07T08:00:00+04:00"
    assert clock.polls_close.isoformat(timespec="milliseconds").startswith(
        "2024-02-07T" + close.split(".")[0]
    )
    assert clock.polls_close - clock.polls_open == timedelta(seconds=clock.close_s)
    assert str(clock.checkpoints[0].time()).startswith(first_cp[:8])
    assert clock.checkpoints[-1] == clock.polls_close


@pytest.mark.parametrize(
    ("t_s", "interval"), [(0.0, 0), (36.0, 0), (36.001, 1), (197.0, 4), (198.0, 4), (999.0, 4)]
)
def test_interval_index(t_s: float, interval: int) -> None:
    clock = Clock.of(get_preset("tiny"))  # checkpoints at 36, 72, 126, 162, 198 s
    assert int(clock.interval_index(t_s)) == interval


def test_clock_needs_an_offset() -> None:
    clock = Clock.of(get_preset("tiny"))
    with pytest.raises(ValueError, match="timezone"):
        Clock(clock.polls_open.replace(tzinfo=None), 1.0, 11.0, (11.0,))


def test_day_curve_has_two_peaks() -> None:
    shares = interval_shares((2, 4, 7, 9, 11), 11.0)
    assert shares.sum() == pytest.approx(1.0)
    per_hour = shares / np.diff([0, 2, 4, 7, 9, 11])
    assert per_hour[1] > per_hour[2] < per_hour[3]  # morning and evening peaks
    hours = sample_arrival_hours(stream(0, "x"), 5000, 11.0)
    assert (np.diff(hours) >= 0).all() and hours[0] >= 0 and hours[-1] <= 11
    counts = np.histogram(hours, [0, 2, 4, 7, 9, 11])[0] / 5000
    assert counts == pytest.approx(shares, abs=0.03)


@pytest.mark.parametrize("name", ["tiny", "demo", "azerbaijan-2024"])
def test_stations(name: str) -> None:
    p = get_preset(name)
    s = build_stations(p, 1)
    assert len(s) == p.n_stations and s["station_id"].is_unique
    assert s["has_camera"].sum() == p.n_cameras
    assert (s["camera_id"] != "").sum() == p.n_cameras
    lo, hi = p.registered_range
    assert s["registered"].between(lo, hi).all()
    assert set(s["region"]) <= {r.name for r in p.regions}
    spread = s.groupby("district")[["lat", "lon"]].std().max().max()
    assert spread < 0.2  # stations of a district lie within a few km of each other


def test_camera_priority_featured_cluster() -> None:
    p = get_preset("azerbaijan-2024")
    s = build_stations(p, 0)
    order = camera_priority(s, p, 0)
    assert sorted(order) == sorted(np.flatnonzero(s["has_camera"]).tolist())
    featured = s.iloc[order[: p.render]]
    assert (expected_table_load(featured["registered"], p) <= p.max_table_load).all()
    first = featured.iloc[0]
    d = distance_km(first.lat, first.lon, featured["lat"], featured["lon"])
    assert d.max() < 60


@pytest.mark.parametrize(("km", "scale", "seconds"), [(25.0, 1.0, 4680.0), (10.0, 180.0, 10.4)])
def test_road_seconds(km: float, scale: float, seconds: float) -> None:
    p = get_preset("tiny").with_time_scale(scale)
    assert road_seconds(km, p) == pytest.approx(seconds)


def test_streams_are_independent_and_stable() -> None:
    a = stream(5, "camera", "D001-001").random(3)
    assert (a == stream(5, "camera", "D001-001").random(3)).all()
    assert not (a == stream(5, "camera", "D001-002").random(3)).any()
    with pytest.raises(ValueError, match="seed"):
        stream(-1, "x")
