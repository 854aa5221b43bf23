"""Synthetic sightings with planted carousels, for the benchmark and the tests.

Analysis code never imports this module. Persons are random unit vectors in `dim` dimensions;
each sighting is its person's vector plus isotropic Gaussian noise of total norm about `noise`,
re-normalised, so that two sightings of one person have cosine ≈ 1 / (1 + noise²) and two
different people ≈ 0 ± 1/√dim. Ordinary voters are seen once, at a random station and time of
the day; carousel groups of `group_size` persons travel together through `visits` nearby
stations, each member voting within `spread_s` of the group's arrival; a few members come back to
a station they already voted at.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from pollwatch.carousel.sightings import Sightings, StationLocations
from pollwatch.carousel.travel import haversine_km

__all__ = ["PlantedSet", "make_planted_set", "pairwise_scores", "recovered_groups"]

DAY_START = 1_707_285_600.0  # 2024-02-07 06:00 UTC (08:00 at UTC+4... close enough for tests)


@dataclass(frozen=True, eq=False)
class PlantedSet:
    """Sightings with the person and group that produced each (group -1: not a carousel)."""

    sightings: Sightings
    stations: StationLocations
    person: np.ndarray
    group: np.ndarray


def make_planted_set(
    *,
    n_sightings: int,
    n_stations: int,
    n_groups: int,
    group_size: tuple[int, int] = (4, 10),
    visits: tuple[int, int] = (3, 5),
    dim: int = 128,
    noise: float = 0.42,
    day_s: float = 12 * 3600.0,
    spread_s: float = 600.0,
    revisit_fraction: float = 0.05,
    area_km: float = 60.0,
    time_scale: float = 1.0,
    seed: int = 0,
) -> PlantedSet:
    """A planted set (see module doc); all times and spreads are divided by `time_scale`."""
    if n_sightings < 1 or n_stations < 1 or n_groups < 0:
        raise ValueError("n_sightings and n_stations must be >= 1, n_groups >= 0")
    rng = np.random.default_rng(seed)
    lat0, lon0 = 40.4, 49.9
    km_lat, km_lon = 1 / 111.0, 1 / (111.0 * np.cos(np.radians(lat0)))
    xy = rng.uniform(0, area_km, (n_stations, 2))
    lat, lon = lat0 + xy[:, 0] * km_lat, lon0 + xy[:, 1] * km_lon
    station_ids = np.array([f"S{i:05d}" for i in range(n_stations)])
    stations = StationLocations(station_ids, lat, lon)
    ts = time_scale

    st_rows, times, person, group = [], [], [], []
    next_person = 0
    for g in range(n_groups):
        size = int(rng.integers(group_size[0], group_size[1] + 1))
        n_visit = int(rng.integers(visits[0], visits[1] + 1))
        first = int(rng.integers(n_stations))
        dist = haversine_km(lat[first], lon[first], lat, lon)
        near = np.argsort(dist)[: max(n_visit * 3, n_visit)]
        route = np.concatenate([[first], rng.choice(near[1:], n_visit - 1, replace=False)])
        t = rng.uniform(0, day_s * 0.4)
        arrivals = [t]
        for a, b in itertools.pairwise(route):
            km = float(haversine_km(lat[a], lon[a], lat[b], lon[b]))
            t += max(300.0, km / 30.0 * 3600) + spread_s + rng.uniform(600, 1800)
            arrivals.append(t)
        members = np.arange(next_person, next_person + size)
        next_person += size
        for s, t_arr in zip(route, arrivals, strict=True):
            for p in members:
                st_rows.append(s)
                times.append(t_arr + rng.uniform(0, spread_s))
                person.append(p)
                group.append(g)
        for p in members[rng.random(size) < revisit_fraction]:
            st_rows.append(route[-1])
            times.append(arrivals[-1] + spread_s + rng.uniform(3600, 5400))
            person.append(p)
            group.append(g)
    n_plain = n_sightings - len(person)
    if n_plain < 0:
        raise ValueError(f"n_sightings ({n_sightings}) is smaller than the planted sightings")
    st_rows = np.concatenate([np.asarray(st_rows, np.int64), rng.integers(0, n_stations, n_plain)])
    times = np.concatenate([np.asarray(times), rng.uniform(0, day_s, n_plain)])
    person = np.concatenate(
        [np.asarray(person, np.int64), next_person + np.arange(n_plain, dtype=np.int64)]
    )
    group = np.concatenate([np.asarray(group, np.int64), np.full(n_plain, -1, np.int64)])
    order = rng.permutation(len(person))
    st_rows, times, person, group = st_rows[order], times[order], person[order], group[order]
    n_persons = int(person.max()) + 1
    base = rng.standard_normal((n_persons, dim), dtype=np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    emb = np.empty((len(person), dim), np.float32)
    chunk = 65_536
    for lo in range(0, len(person), chunk):
        hi = min(lo + chunk, len(person))
        e = base[person[lo:hi]]
        e += noise * rng.standard_normal((hi - lo, dim), dtype=np.float32) / np.sqrt(dim)
        emb[lo:hi] = e / np.linalg.norm(e, axis=1, keepdims=True)
    del base
    cams = np.char.add("C", station_ids[st_rows])
    sightings = Sightings(
        track_key=np.char.add(np.char.add(cams, ":"), np.arange(len(person)).astype(str)),
        camera_id=cams,
        station_id=station_ids[st_rows],
        time=DAY_START + times / ts,
        embedding=emb,
    )
    return PlantedSet(sightings, stations, person, group)


def _pairs(label: np.ndarray) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    order = np.argsort(label, kind="stable")
    sorted_label = label[order]
    cuts = np.flatnonzero(np.diff(sorted_label)) + 1
    for part in np.split(order, cuts):
        if len(part) > 1 and label[part[0]] >= 0:
            part = np.sort(part)
            for a in range(len(part)):
                for b in range(a + 1, len(part)):
                    out.add((int(part[a]), int(part[b])))
    return out


def pairwise_scores(
    predicted: np.ndarray, planted_person: np.ndarray, planted_group: np.ndarray
) -> dict[str, float]:
    """Pairwise precision and recall of same-person pairs: predicted pairs are sightings of one
    reported person (label >= 0), true pairs those of one planted carousel person."""
    truth = np.where(planted_group >= 0, planted_person, -1)
    pred, true = _pairs(predicted), _pairs(truth)
    tp = len(pred & true)
    return {
        "pairs_predicted": len(pred),
        "pairs_true": len(true),
        "precision": tp / len(pred) if pred else 1.0,
        "recall": tp / len(true) if true else 1.0,
    }


def recovered_groups(
    predicted_group_of_sighting: np.ndarray,
    planted_person: np.ndarray,
    planted_group: np.ndarray,
    min_fraction: float = 0.8,
) -> float:
    """Fraction of planted groups with at least `min_fraction` of their persons in one predicted
    group (labels per sighting, -1: none)."""
    groups = np.unique(planted_group[planted_group >= 0])
    if len(groups) == 0:
        return 1.0
    ok = 0
    for g in groups:
        rows = np.flatnonzero(planted_group == g)
        persons = np.unique(planted_person[rows])
        best = 0
        for lab in np.unique(predicted_group_of_sighting[rows]):
            if lab < 0:
                continue
            hit = rows[predicted_group_of_sighting[rows] == lab]
            best = max(best, len(np.unique(planted_person[hit])))
        ok += best >= min_fraction * len(persons)
    return ok / len(groups)
