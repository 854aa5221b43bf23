"""Sightings of voters: the one container that flows through carousel detection.

A sighting is one track that dropped a ballot: its key, camera, station, wall-clock time (epoch
seconds) and appearance embedding. `Sightings` holds N of them as columns of numpy arrays
(checked on construction, changed only with `dataclasses.replace` or boolean-mask indexing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["Sighting", "Sightings", "StationLocations"]


@dataclass(frozen=True)
class Sighting:
    """One voter's track at one camera (the row form of `Sightings`)."""

    track_key: str
    camera_id: str
    station_id: str
    time: float  # wall clock, epoch seconds, when the ballot was dropped
    embedding: np.ndarray


@dataclass(frozen=True, eq=False)
class Sightings:
    """N sightings as columns; `embedding` is (N, d) float32 with unit rows."""

    track_key: np.ndarray
    camera_id: np.ndarray
    station_id: np.ndarray
    time: np.ndarray
    embedding: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.time)
        for name in ("track_key", "camera_id", "station_id", "time"):
            col = getattr(self, name)
            if not isinstance(col, np.ndarray) or col.ndim != 1 or len(col) != n:
                raise ValueError(f"{name} must be a 1-D array of {n} items")
        if self.embedding.ndim != 2 or len(self.embedding) != n:
            raise ValueError(
                f"embedding must be an (N, d) array with N = {n}, got {self.embedding.shape}"
            )
        if self.embedding.dtype != np.float32:
            raise ValueError(f"embedding must be float32, got {self.embedding.dtype}")
        if not np.all(np.isfinite(self.time)):
            raise ValueError("time must be finite epoch seconds")
        if n and not np.all(np.isfinite(self.embedding)):
            raise ValueError("embedding has non-finite values")
        norms = np.linalg.norm(self.embedding, axis=1) if n else np.ones(0)
        if n and not np.allclose(norms, 1.0, atol=1e-3):
            bad = int(np.argmax(np.abs(norms - 1.0)))
            raise ValueError(
                f"embedding rows must be L2-normalised; row {bad} "
                f"({self.track_key[bad]}) has norm {norms[bad]:.4f}"
            )

    @classmethod
    def from_arrays(
        cls,
        track_key: Iterable[str],
        camera_id: Iterable[str],
        station_id: Iterable[str],
        time: Iterable[float],
        embedding: np.ndarray,
    ) -> Sightings:
        """Build from columns (converted to numpy: str, float64, float32)."""
        return cls(
            track_key=np.asarray(list(track_key), dtype=str),
            camera_id=np.asarray(list(camera_id), dtype=str),
            station_id=np.asarray(list(station_id), dtype=str),
            time=np.asarray(list(time), dtype=np.float64),
            embedding=np.ascontiguousarray(embedding, dtype=np.float32),
        )

    @classmethod
    def from_records(cls, records: Iterable[Sighting], dim: int | None = None) -> Sightings:
        """Build from `Sighting` rows; `dim` is needed only when there are none."""
        rows = list(records)
        if not rows:
            if dim is None:
                raise ValueError("dim is needed to build Sightings from no records")
            return cls.empty(dim)
        return cls.from_arrays(
            [r.track_key for r in rows],
            [r.camera_id for r in rows],
            [r.station_id for r in rows],
            [r.time for r in rows],
            np.stack([np.asarray(r.embedding, np.float32) for r in rows]),
        )

    @classmethod
    def empty(cls, dim: int) -> Sightings:
        """No sightings, embeddings of length `dim`."""
        return cls.from_arrays([], [], [], [], np.zeros((0, dim), np.float32))

    @classmethod
    def merge(cls, parts: Iterable[Sightings]) -> Sightings:
        """Concatenate several sets of sightings (same embedding length)."""
        parts = list(parts)
        if not parts:
            raise ValueError("parts must hold at least one Sightings")
        dims = {p.dim for p in parts}
        if len(dims) != 1:
            raise ValueError(f"parts have different embedding lengths: {sorted(dims)}")
        return cls(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("track_key", "camera_id", "station_id", "time", "embedding")
            )
        )

    def __len__(self) -> int:
        return len(self.time)

    def __getitem__(self, index: np.ndarray | slice) -> Sightings:
        return Sightings(
            self.track_key[index],
            self.camera_id[index],
            self.station_id[index],
            self.time[index],
            self.embedding[index],
        )

    @property
    def dim(self) -> int:
        return int(self.embedding.shape[1])

    def record(self, i: int) -> Sighting:
        """Row `i` as a `Sighting`."""
        return Sighting(
            str(self.track_key[i]),
            str(self.camera_id[i]),
            str(self.station_id[i]),
            float(self.time[i]),
            self.embedding[i],
        )


@dataclass(frozen=True, eq=False)
class StationLocations:
    """Latitude and longitude (degrees) of polling stations."""

    station_id: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.station_id)
        if len(self.lat) != n or len(self.lon) != n:
            raise ValueError("station_id, lat and lon must have the same length")
        if len(np.unique(self.station_id)) != n:
            raise ValueError("station_id must not repeat")
        if np.any(~np.isfinite(self.lat)) or np.any(np.abs(self.lat) > 90):
            raise ValueError("lat must be finite degrees in [-90, 90]")
        if np.any(~np.isfinite(self.lon)) or np.any(np.abs(self.lon) > 180):
            raise ValueError("lon must be finite degrees in [-180, 180]")

    @classmethod
    def from_mapping(cls, where: Mapping[str, tuple[float, float]]) -> StationLocations:
        """From `{station_id: (lat, lon)}`."""
        ids = list(where)
        return cls(
            np.asarray(ids, dtype=str),
            np.asarray([where[i][0] for i in ids], np.float64),
            np.asarray([where[i][1] for i in ids], np.float64),
        )

    def index_of(self, station_ids: np.ndarray) -> np.ndarray:
        """Row of each id in `station_ids`; ValueError naming the ids that have no location."""
        order = np.argsort(self.station_id)
        sorted_ids = self.station_id[order]
        pos = np.searchsorted(sorted_ids, station_ids)
        pos = np.clip(pos, 0, max(len(sorted_ids) - 1, 0))
        ok = sorted_ids[pos] == station_ids if len(sorted_ids) else np.zeros(len(station_ids), bool)
        if not np.all(ok):
            missing = sorted(set(np.asarray(station_ids)[~ok].tolist()))
            raise ValueError(
                f"stations: no location for station_id {missing[:5]}"
                + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            )
        return order[pos]
