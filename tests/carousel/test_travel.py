"""Travel-time feasibility and the sightings/stations containers."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.carousel import Sightings, StationLocations, TravelModel, haversine_km

# One degree of latitude on a sphere of the IUGG mean radius 6371.0088 km: 2πR/360.
ONE_DEGREE_KM = 2 * np.pi * 6371.0088 / 360


def test_haversine_reference() -> None:
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(ONE_DEGREE_KM, rel=1e-9)
    assert haversine_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(ONE_DEGREE_KM, rel=1e-9)
    # Moscow (55.7558, 37.6173) – Saint Petersburg (59.9343, 30.3351): about 634 km.
    assert haversine_km(55.7558, 37.6173, 59.9343, 30.3351) == pytest.approx(634, abs=3)


# Stations: A and B 30 km apart (north–south), C 1 km from A.
STATIONS = StationLocations.from_mapping(
    {
        "A": (40.0, 49.0),
        "B": (40.0 + 30 / ONE_DEGREE_KM, 49.0),
        "C": (40.0 + 1 / ONE_DEGREE_KM, 49.0),
    }
)
MIN = 60.0


@pytest.mark.parametrize(
    ("a", "b", "gap_s", "model", "ok"),
    [
        ("A", "A", 5 * MIN, TravelModel(), False),  # one visit seen twice
        ("A", "A", 15 * MIN, TravelModel(), True),  # came back: twice at one station
        ("A", "B", 20 * MIN, TravelModel(), False),  # 30 km need 30 min at 60 km/h
        ("A", "B", 31 * MIN, TravelModel(), True),
        ("A", "B", 31 * MIN, TravelModel(max_speed_kmh=30), False),  # now 60 min
        ("A", "B", 3.1 * MIN, TravelModel(time_scale=10), True),  # day compressed 10×
        ("A", "B", 2.9 * MIN, TravelModel(time_scale=10), False),
        ("A", "C", 3 * MIN, TravelModel(), False),  # 1 km: the 5 min minimum applies
        ("A", "C", 6 * MIN, TravelModel(), True),
        ("A", "B", 10 * 3600, TravelModel(max_gap_s=8 * 3600), False),
    ],
)
def test_feasible(a: str, b: str, gap_s: float, model: TravelModel, ok: bool) -> None:
    s = Sightings.from_arrays(
        ["t1", "t2"], ["c1", "c2"], [a, b], [1e9, 1e9 + gap_s], np.eye(2, 4, dtype=np.float32)
    )
    assert model.feasible(s, STATIONS, np.array([0]), np.array([1]))[0] == ok
    assert model.feasible(s, STATIONS, np.array([1]), np.array([0]))[0] == ok
    assert not model.feasible(s, STATIONS, np.array([0]), np.array([0]))[0]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"max_speed_kmh": 0}, "max_speed_kmh"),
        ({"time_scale": -1}, "time_scale"),
        ({"min_travel_s": -5}, "min_travel_s"),
        ({"min_revisit_s": float("nan")}, "min_revisit_s"),
        ({"max_gap_s": 0}, "max_gap_s"),
    ],
)
def test_travel_bad_arguments(kwargs: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        TravelModel(**kwargs)


def test_unknown_station_is_named() -> None:
    s = Sightings.from_arrays(["t"], ["c"], ["Z9"], [0.0], np.eye(1, 3, dtype=np.float32))
    with pytest.raises(ValueError, match="Z9"):
        TravelModel().feasible(s, STATIONS, np.array([0]), np.array([0]))


@pytest.mark.parametrize(
    ("change", "argument"),
    [
        ({"embedding": np.ones((2, 3), np.float32)}, "L2-normalised"),
        ({"embedding": np.eye(2, 3, dtype=np.float64)}, "float32"),
        ({"embedding": np.eye(3, 3, dtype=np.float32)}, "embedding"),
        ({"time": np.array([0.0, np.inf])}, "time"),
        ({"camera_id": np.array(["c"])}, "camera_id"),
    ],
)
def test_sightings_checked(change: dict, argument: str) -> None:
    cols = dict(
        track_key=np.array(["a", "b"]),
        camera_id=np.array(["c", "c"]),
        station_id=np.array(["A", "A"]),
        time=np.array([0.0, 1.0]),
        embedding=np.eye(2, 3, dtype=np.float32),
    )
    cols.update(change)
    with pytest.raises(ValueError, match=argument):
        Sightings(**cols)


def test_sightings_container() -> None:
    s = Sightings.from_arrays(
        ["a", "b", "c"], ["c1"] * 3, ["A"] * 3, [0.0, 1.0, 2.0], np.eye(3, dtype=np.float32)
    )
    assert len(s[s.time > 0.5]) == 2
    both = Sightings.merge([s, Sightings.empty(3)])
    assert len(both) == 3 and both.dim == 3
    assert Sightings.from_records([s.record(1)]).track_key[0] == "b"
    with pytest.raises(ValueError, match="dim"):
        Sightings.from_records([])
    with pytest.raises(ValueError, match="lat"):
        StationLocations.from_mapping({"X": (95.0, 0.0)})
