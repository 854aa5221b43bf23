"""The simulated country: regions, districts, polling stations, cameras and road distances.

Stations are scattered around district centres, which are scattered around their region's
centre, so nearby stations share a district and carousel travel times follow the map. Station
sizes are log-normal around the region's median. Cameras go preferably to larger stations.

Among the camera stations, `camera_priority` fixes the order in which cameras get rendered:
first the "featured" cameras, a geographic cluster of `preset.render` stations whose voter flow
fits the room at the preset's time scale (the fraud plan puts carousels, stuffing and inflation
there), then the other stations that fit, then the rest by increasing load. Rendering K cameras
renders the first K of that order, so K never changes the election itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pollwatch.simulate.presets import Preset
from pollwatch.simulate.streams import stream

__all__ = [
    "STATION_COLUMNS",
    "build_stations",
    "camera_priority",
    "distance_km",
    "expected_table_load",
    "road_seconds",
]

STATION_COLUMNS = (
    "station_id",
    "region",
    "district",
    "name",
    "lat",
    "lon",
    "registered",
    "has_camera",
)
_KM_PER_DEG = 111.32


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer parts of `total` proportional to `weights` (largest remainder)."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(int)
    order = np.argsort(-(raw - out), kind="stable")
    out[order[: total - out.sum()]] += 1
    return out


def _offset(lat: np.ndarray, km_north: np.ndarray, km_east: np.ndarray) -> tuple:
    dlat = km_north / _KM_PER_DEG
    dlon = km_east / (_KM_PER_DEG * np.cos(np.radians(lat)))
    return dlat, dlon


def build_stations(preset: Preset, seed: int) -> pd.DataFrame:
    """Every station of the preset: STATION_COLUMNS plus `camera_id` ("" without camera)."""
    rng = stream(seed, "geography")
    weights = np.array([r.weight for r in preset.regions], dtype=float)
    per_region = _split(preset.n_stations, weights)
    rows: list[dict] = []
    district_no = 0
    for region, n in zip(preset.regions, per_region, strict=True):
        if n == 0:
            continue
        n_districts = min(region.districts, int(n))
        shares = rng.dirichlet(np.full(n_districts, 4.0))
        per_district = 1 + rng.multinomial(n - n_districts, shares)
        for d, m in enumerate(per_district):
            district_no += 1
            dn, de = rng.normal(0.0, region.spread_km, size=2)
            dlat, dlon = _offset(np.array(region.lat), dn, de)
            clat, clon = region.lat + float(dlat), region.lon + float(dlon)
            sn = rng.normal(0.0, preset.station_spread_km, size=m)
            se = rng.normal(0.0, preset.station_spread_km, size=m)
            slat, slon = _offset(np.full(m, clat), sn, se)
            sizes = rng.lognormal(np.log(region.size_median), preset.registered_sigma, size=m)
            lo, hi = preset.registered_range
            sizes = np.clip(np.round(sizes), lo, hi).astype(int)
            district = f"{region.name} {d + 1}"
            for k in range(m):
                sid = f"D{district_no:03d}-{k + 1:03d}"
                rows.append(
                    {
                        "station_id": sid,
                        "region": region.name,
                        "district": district,
                        "name": f"Polling station {k + 1}, {district}",
                        "lat": round(clat + float(slat[k]), 6),
                        "lon": round(clon + float(slon[k]), 6),
                        "registered": int(sizes[k]),
                    }
                )
    frame = pd.DataFrame(rows)
    reg = frame["registered"].to_numpy(dtype=float)
    cams = rng.choice(len(frame), size=preset.n_cameras, replace=False, p=reg / reg.sum())
    has = np.zeros(len(frame), dtype=bool)
    has[cams] = True
    frame["has_camera"] = has
    frame["camera_id"] = np.where(has, "cam-" + frame["station_id"], "")
    return frame


def distance_km(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km from one point to many."""
    p1, p2 = np.radians(lat1), np.radians(np.asarray(lat2, dtype=float))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=float) - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def road_seconds(km: float | np.ndarray, preset: Preset) -> float | np.ndarray:
    """Travel time by road for a straight-line distance, in seconds of the compressed clock."""
    return km * preset.road_detour / preset.road_kmh * 3600.0 / preset.time_scale


def expected_table_load(registered: np.ndarray, preset: Preset) -> np.ndarray:
    """Expected share of the day the table is busy issuing ballots at a station."""
    day_s = preset.polls_hours * 3600.0 / preset.time_scale
    table_mean = sum(preset.dwell.table_s) / 2.0
    return np.asarray(registered) * preset.target_turnout * table_mean / day_s


def camera_priority(stations: pd.DataFrame, preset: Preset, seed: int) -> list[int]:
    """Row indices of the camera stations in rendering order (featured cluster first)."""
    rng = stream(seed, "camera-priority")
    cams = np.flatnonzero(stations["has_camera"].to_numpy())
    if len(cams) == 0:
        return []
    load = expected_table_load(stations["registered"].to_numpy()[cams], preset)
    fits = cams[load <= preset.max_table_load]
    rest = cams[load > preset.max_table_load]
    rest = rest[np.argsort(load[load > preset.max_table_load], kind="stable")]
    featured: list[int] = []
    if preset.render > 0:
        pool = fits if len(fits) else cams
        seed_row = int(pool[rng.integers(len(pool))])
        pool = np.concatenate([pool, rest]) if len(pool) < preset.render else pool
        lat, lon = stations["lat"].to_numpy(), stations["lon"].to_numpy()
        dist = distance_km(lat[seed_row], lon[seed_row], lat[pool], lon[pool])
        featured = [int(i) for i in pool[np.argsort(dist, kind="stable")][: preset.render]]
    chosen = set(featured)
    others = [int(i) for i in rng.permutation(fits) if int(i) not in chosen]
    tail = [int(i) for i in rest if int(i) not in chosen]
    return featured + others + tail
