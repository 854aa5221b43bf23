"""Which two sightings could be the same person: time and travel between stations.

One person cannot be at two stations closer in time than the trip between them takes: the
great-circle (haversine) distance at `max_speed_kmh`, never less than `min_travel_s`. Seen twice
at one station (by any of its cameras), the two sightings must be `min_revisit_s` apart (the
person left and came back; closer sightings are one visit seen twice). The simulator may
compress the day by `time_scale` (10 means ten real minutes pass in one simulated minute): every
required gap is divided by it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollwatch.carousel.sightings import Sightings, StationLocations

__all__ = ["EARTH_RADIUS_KM", "TravelModel", "haversine_km"]

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
_BATCH = 1 << 20


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class TravelModel:
    """Minimum gaps between two sightings of one person (see module doc)."""

    max_speed_kmh: float = 60.0
    min_travel_s: float = 300.0
    min_revisit_s: float = 600.0
    max_gap_s: float | None = None
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        for name in ("max_speed_kmh", "time_scale"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        for name in ("min_travel_s", "min_revisit_s"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        if self.max_gap_s is not None and not self.max_gap_s > 0:
            raise ValueError(f"max_gap_s must be positive or None, got {self.max_gap_s!r}")

    def required_gap_s(self, same_station: np.ndarray, distance_km: np.ndarray) -> np.ndarray:
        """Seconds (on the recording's clock) that must separate two sightings of one person."""
        travel = np.maximum(self.min_travel_s, np.asarray(distance_km) / self.max_speed_kmh * 3600)
        gap = np.where(same_station, self.min_revisit_s, travel)
        return gap / self.time_scale

    def feasible(
        self,
        sightings: Sightings,
        stations: StationLocations,
        i: np.ndarray,
        j: np.ndarray,
        *,
        station_rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """For pairs (i[k], j[k]) of rows of `sightings`: could both be one person?

        `station_rows` (the result of `stations.index_of(sightings.station_id)`) may be passed
        to avoid recomputing it for every batch of pairs."""
        i = np.asarray(i, dtype=np.int64)
        j = np.asarray(j, dtype=np.int64)
        if i.shape != j.shape:
            raise ValueError(f"i and j must have the same shape, got {i.shape} and {j.shape}")
        rows = stations.index_of(sightings.station_id) if station_rows is None else station_rows
        ok = np.empty(len(i), dtype=bool)
        for lo in range(0, len(i), _BATCH):  # batches bound the temporaries of the trigonometry
            a, b = i[lo : lo + _BATCH], j[lo : lo + _BATCH]
            si, sj = rows[a], rows[b]
            dist = haversine_km(
                stations.lat[si], stations.lon[si], stations.lat[sj], stations.lon[sj]
            )
            gap = np.abs(sightings.time[a] - sightings.time[b])
            part = (a != b) & (gap >= self.required_gap_s(si == sj, dist))
            if self.max_gap_s is not None:
                part &= gap <= self.max_gap_s / self.time_scale
            ok[lo : lo + _BATCH] = part
        return ok
