"""What fraud is injected where: protocol inflation, ballot stuffing and carousels.

* Inflation adds votes for the incumbent to a station's protocol (ballots issued, cast and the
  incumbent's votes), spread over the checkpoint intervals, mostly the later ones.
* Stuffing is a stuffer's visit to a camera station's box: several single ballots dropped one
  to two seconds apart, or one bundle. The stuffed ballots are added to issued, cast and the
  incumbent's votes.
* A carousel is a group of 3-6 people who vote together for the incumbent at 3-5 stations in
  one day, travelling by road between them; their ballots are real and in the official counts.

The featured cameras (the first `preset.render` of `geography.camera_priority`) get fraud by a
fixed rule so that a default render always shows it: the first featured camera has no fraud of
its own, the next `featured_stuffing` get a stuffer (one-by-one, then bundle, alternately), the
next `featured_inflation` an inflated protocol; carousel group 0 votes at the featured cameras.
Other featured stations get no random fraud.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from pollwatch.simulate.clock import Clock
from pollwatch.simulate.geography import distance_km, road_seconds
from pollwatch.simulate.people import sample_appearance
from pollwatch.simulate.plan import Appearance
from pollwatch.simulate.presets import Dwell, Preset
from pollwatch.simulate.room import BOOTHS, walk_time
from pollwatch.simulate.streams import stream

__all__ = [
    "ENTRY_STAGGER_S",
    "CarouselGroup",
    "CarouselMember",
    "CarouselStop",
    "StuffingEvent",
    "carousel_visit_bound",
    "featured_roles",
    "inflation_intents",
    "plan_carousels",
    "plan_stuffing",
]

ENTRY_STAGGER_S = 1.5  # at most this long between two members of a group entering
_SLOW_M_S = 0.8  # the slowest walking speed any person can have


@dataclass(frozen=True)
class StuffingEvent:
    """A stuffer reaches the box `time_s` after polls open and drops `ballots` ballots."""

    station_id: str
    time_s: float
    ballots: int
    bundle: bool
    person_id: str


@dataclass(frozen=True)
class CarouselMember:
    person_id: str
    appearance: Appearance


@dataclass(frozen=True)
class CarouselStop:
    """The group enters a station at `arrive_s` and is gone by `leave_s` (seconds after polls
    open; `leave_s` is the planned upper bound). `travel_km`/`travel_s`: the road from the
    previous station (0 for the first)."""

    station_id: str
    arrive_s: float
    leave_s: float
    travel_km: float
    travel_s: float


@dataclass(frozen=True)
class CarouselGroup:
    group_id: str
    members: tuple[CarouselMember, ...]
    stops: tuple[CarouselStop, ...]

    @property
    def size(self) -> int:
        return len(self.members)


def featured_roles(featured: list[int], preset: Preset) -> dict[int, str]:
    """Station row → "clean" / "stuffing-hands" / "stuffing-bundle" / "inflation"."""
    roles = {row: "clean" for row in featured}
    if preset.clean or not featured:
        return roles
    wanted = [
        "stuffing-hands" if i % 2 == 0 else "stuffing-bundle"
        for i in range(preset.fraud.featured_stuffing)
    ]
    wanted += ["inflation"] * preset.fraud.featured_inflation
    slots = featured[1:] or featured
    for i, role in enumerate(wanted[: len(slots)]):
        roles[slots[i]] = role
    return roles


def inflation_intents(
    stations: pd.DataFrame, preset: Preset, featured: list[int], seed: int
) -> np.ndarray:
    """Per station, the inflation as a fraction of true turnout (0: protocol not inflated).

    Drawn for the preset even when it is `-clean`, so both variants calibrate alike."""
    rng = stream(seed, "inflation")
    fr = preset.fraud
    factor = {r.name: r.fraud_factor for r in preset.regions}
    rate = np.minimum(stations["region"].map(factor).to_numpy(float) * fr.inflation_rate, 0.98)
    hit = rng.random(len(stations)) < rate
    size = rng.uniform(*fr.inflation_size, size=len(stations))
    roles = featured_roles(featured, replace(preset, clean=False))
    for row, role in roles.items():
        hit[row] = role == "inflation"
    return np.where(hit, size, 0.0)


def carousel_visit_bound(speeds: list[float], dwell: Dwell) -> float:
    """Seconds within which a carousel group of these walking speeds is sure to have left a
    station it entered (the scheduler serves the group at the table before other voters).

    A member may find both places at the box held (`schedule._share_the_box` places stays in
    the order people reach the box): he waits until the sooner of the two stays ends, at most
    one whole stay, then steps in from `box_queue`, at most the walk from there at the slowest
    speed anyone walks (`_SLOW_M_S`). A queue of two or more ahead of him within one stay is
    not allowed for: the group comes through the table one member at a time, at least
    `carousel_table_s[0]` apart."""
    v = min(speeds)
    n = len(speeds)
    in_s = (n - 1) * ENTRY_STAGGER_S + walk_time("entrance", "table_queue", v)
    wait = walk_time("table_queue", "table", _SLOW_M_S) + dwell.table_s[1]
    table = n * (walk_time("table_queue", "table", v) + dwell.carousel_table_s[1])
    to_box = walk_time("table", "box", v)
    if dwell.carousel_booth_rate > 0:
        to_box = max(
            to_box,
            *(
                walk_time("table", f"booth{i}", v)
                + dwell.carousel_booth_s[1]
                + walk_time(f"booth{i}", "box", v)
                for i in range(len(BOOTHS))
            ),
        )
    step_in = max(walk_time("box_queue", p, _SLOW_M_S) for p in ("box", "box_side"))
    box_wait = dwell.box_s[1] + step_in
    out = dwell.box_s[1] + max(walk_time(p, "exit", v) for p in ("box", "box_side"))
    return in_s + wait + table + to_box + box_wait + out + 1.0


def _chain(start: int, candidates: list[int], lat: np.ndarray, lon: np.ndarray) -> list[int]:
    """`candidates` ordered as a nearest-neighbour walk from `start` (which comes first)."""
    route, left = [start], [c for c in candidates if c != start]
    while left:
        here = route[-1]
        d = distance_km(lat[here], lon[here], lat[left], lon[left])
        route.append(left.pop(int(np.argmin(d))))
    return route


def _extend_route(
    route: list[int],
    n_stops: int,
    room: np.ndarray,
    regions: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
) -> list[int]:
    """`route` extended to `n_stops` by the nearest station with room in the same region
    (fewer stops where the region runs out)."""
    route = list(route)
    while len(route) < n_stops:
        here = route[-1]
        ok = room & (regions == regions[here])
        ok[route] = False
        pool = np.flatnonzero(ok)
        if len(pool) == 0:
            break
        d = distance_km(lat[here], lon[here], lat[pool], lon[pool])
        route.append(int(pool[np.argmin(d)]))
    return route


def plan_carousels(
    stations: pd.DataFrame,
    headroom: np.ndarray,
    featured: list[int],
    preset: Preset,
    clock: Clock,
    seed: int,
) -> tuple[CarouselGroup, ...]:
    """Carousel groups with their routes and times; `headroom` (registered minus true voters
    per station) is reduced in place by the ballots each group will cast."""
    fr = preset.fraud
    lat, lon = stations["lat"].to_numpy(float), stations["lon"].to_numpy(float)
    regions = stations["region"].to_numpy()
    used = np.zeros(len(stations), dtype=bool)
    used[featured] = True
    groups = []
    for g in range(fr.carousel_groups):
        rng = stream(seed, "carousel", str(g))
        gid = f"car{g + 1:02d}"
        size = int(rng.integers(fr.carousel_size[0], fr.carousel_size[1] + 1))
        n_stops = int(rng.integers(fr.carousel_stations[0], fr.carousel_stations[1] + 1))
        members = tuple(
            CarouselMember(f"{gid}-m{j + 1}", sample_appearance(rng, "carousel"))
            for j in range(size)
        )
        route: list[int] = []
        if g == 0 and fr.featured_carousel and featured:
            own = [r for r in featured if headroom[r] >= size][: fr.carousel_stations[1]]
            if own:
                route = _chain(own[0], own, lat, lon)
                n_stops = max(len(route), fr.carousel_stations[0])
        room = ~used & (headroom >= size)
        if not route:
            free = np.flatnonzero(room)
            if len(free) == 0:
                raise ValueError(f"no station left for carousel {gid}: too few stations")
            route = [int(free[rng.integers(len(free))])]
        route = _extend_route(route, n_stops, room, regions, lat, lon)
        if len(route) < fr.carousel_stations[0]:
            # the first station's region had too little room: start in one that has it
            roomy = [
                int(r)
                for r in np.flatnonzero(room)
                if (room & (regions == regions[r])).sum() >= fr.carousel_stations[0]
            ]
            if roomy:
                route = [roomy[rng.integers(len(roomy))]]
                route = _extend_route(route, n_stops, room, regions, lat, lon)
        if len(route) < fr.carousel_stations[0]:
            raise ValueError(
                f"carousel {gid}: only {len(route)} stations with room for {size} more voters"
            )
        stops = _timetable(route, members, stations, preset, clock, rng)
        while stops is None and len(route) > fr.carousel_stations[0]:
            route.pop()  # too long a day at this time scale: fewer stations
            stops = _timetable(route, members, stations, preset, clock, rng)
        if stops is None:
            raise ValueError(
                f"carousel {gid} cannot vote at {len(route)} stations while polls are open "
                f"({clock.close_s:.0f} s at time_scale {preset.time_scale:g}): "
                "lower the time scale"
            )
        for r in route:
            used[r] = True
            headroom[r] -= size
        groups.append(CarouselGroup(gid, members, stops))
    return tuple(groups)


def _timetable(
    route: list[int],
    members: tuple[CarouselMember, ...],
    stations: pd.DataFrame,
    preset: Preset,
    clock: Clock,
    rng: np.random.Generator,
) -> tuple[CarouselStop, ...] | None:
    """Arrival times along `route`, with random idle time between stations; None if the
    route does not fit in the day."""
    bound = carousel_visit_bound([m.appearance.speed_m_s for m in members], preset.dwell)
    lat, lon = stations["lat"].to_numpy(float), stations["lon"].to_numpy(float)
    km = [0.0] + [
        float(distance_km(lat[a], lon[a], np.array([lat[b]]), np.array([lon[b]]))[0])
        for a, b in itertools.pairwise(route)
    ]
    travel = [round(float(road_seconds(k, preset)), 3) for k in km]
    busy = bound * len(route) + sum(travel)
    spare = clock.close_s * 0.97 - busy
    if spare < 0:
        return None
    cuts = np.sort(rng.uniform(0.0, spare, size=len(route) + 1))
    waits = np.diff(np.concatenate([[0.0], cuts]))[:-1]  # idle time before each stop
    stops, t = [], 0.0
    ids = stations["station_id"].to_numpy()
    for j, row in enumerate(route):
        t += float(waits[j]) + travel[j]
        arrive = round(t, 3)
        road_km = round(km[j] * preset.road_detour, 3)
        stops.append(
            CarouselStop(str(ids[row]), arrive, round(arrive + bound, 3), road_km, travel[j])
        )
        t = arrive + bound
    return tuple(stops)


def plan_stuffing(
    stations: pd.DataFrame,
    headroom: np.ndarray,
    featured: list[int],
    preset: Preset,
    clock: Clock,
    seed: int,
) -> tuple[StuffingEvent, ...]:
    """Stuffer visits at camera stations; `headroom` is reduced in place by the ballots."""
    rng = stream(seed, "stuffing")
    fr = preset.fraud
    roles = featured_roles(featured, preset)
    cams = np.flatnonzero(stations["has_camera"].to_numpy())
    picked = rng.random(len(cams)) < fr.stuffing_rate
    bundles = rng.random(len(cams)) < fr.bundle_rate
    ids = stations["station_id"].to_numpy()
    events = []
    for row, pick, bundle in zip(cams, picked, bundles, strict=True):
        role = roles.get(int(row))
        if role is not None:
            if not role.startswith("stuffing"):
                continue
            bundle, window = role == "stuffing-bundle", (0.3, 0.8)
        elif not pick:
            continue
        else:
            window = (0.1, 0.95)
        lo, hi = fr.stuffing_bundle if bundle else fr.stuffing_hands
        ballots = min(int(rng.integers(lo, hi + 1)), int(headroom[row]))
        t = round(float(rng.uniform(*window)) * clock.close_s, 3)
        if ballots < (2 if bundle else 1):
            continue
        headroom[row] -= ballots
        events.append(StuffingEvent(str(ids[row]), t, ballots, bool(bundle), f"stuffer-{ids[row]}"))
    return tuple(events)
