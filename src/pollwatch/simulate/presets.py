"""Simulation presets: validated, frozen descriptions of a whole synthetic election.

A preset fixes the country (regions, districts, station sizes), the candidates and the official
national figures the simulation is calibrated to, the compressed election clock, the people on
camera, the fraud and the camera faults. `get_preset("demo-clean")` gives the same election
with no fraud and no camera conditions at all (see docs/truth.md).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, fields, replace
from datetime import date

__all__ = [
    "CameraFaults",
    "Crowd",
    "Dwell",
    "FraudRates",
    "Preset",
    "RegionSpec",
    "get_preset",
    "preset_names",
]

CLEAN_SUFFIX = "-clean"


def _check_range(owner: str, name: str, pair: tuple[float, float], low: float = 0.0) -> None:
    lo, hi = pair
    if not (low <= lo <= hi):
        raise ValueError(f"{owner}.{name} must satisfy {low} <= low <= high, got {pair}")


def _check_rate(owner: str, name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{owner}.{name} must be in [0, 1], got {value}")


@dataclass(frozen=True)
class RegionSpec:
    """One region: where it lies, how many stations and districts, how it votes."""

    name: str
    lat: float
    lon: float
    weight: float  # share of the country's stations
    districts: int
    size_median: float  # median registered voters of a station
    spread_km: float  # scatter of district centres around the region centre
    turnout_shift: float = 0.0  # logit shift of the true turnout
    winner_shift: float = 0.0  # logit shift of the winner's true share
    fraud_factor: float = 1.0  # multiplies the preset's inflation rate

    def __post_init__(self) -> None:
        if self.weight <= 0 or self.districts < 1 or self.size_median <= 0:
            raise ValueError(f"region {self.name!r}: weight, districts, size_median must be > 0")
        if self.spread_km < 0 or self.fraud_factor < 0:
            raise ValueError(f"region {self.name!r}: spread_km and fraud_factor must be >= 0")


@dataclass(frozen=True)
class Dwell:
    """How long people stay at each place, in real seconds (people are never time-scaled)."""

    table_s: tuple[float, float]
    booth_s: tuple[float, float]
    box_s: tuple[float, float]
    carousel_table_s: tuple[float, float]  # practised carousel voters are quick
    carousel_booth_s: tuple[float, float]
    open_vote_rate: float = 0.15  # voters who skip the booth and vote openly
    carousel_booth_rate: float = 0.3  # carousel voters who bother with a booth

    def __post_init__(self) -> None:
        for f in ("table_s", "booth_s", "box_s", "carousel_table_s", "carousel_booth_s"):
            _check_range("Dwell", f, getattr(self, f), low=0.5)
        _check_range("Dwell", "box_s", self.box_s, low=2.0)
        _check_rate("Dwell", "open_vote_rate", self.open_vote_rate)
        _check_rate("Dwell", "carousel_booth_rate", self.carousel_booth_rate)


@dataclass(frozen=True)
class FraudRates:
    """Which fraud is injected, how often and how big (ignored by `-clean` variants)."""

    inflation_rate: float  # share of stations whose protocol is inflated
    inflation_size: tuple[float, float]  # votes added, as a fraction of the true turnout
    inflation_weights: tuple[float, ...]  # how added votes spread over checkpoint intervals
    stuffing_rate: float  # share of camera stations visited by a stuffer
    stuffing_hands: tuple[int, int]  # ballots dropped one by one (several hand movements)
    stuffing_bundle: tuple[int, int]  # ballots dropped at once as a bundle
    bundle_rate: float  # share of stuffer visits that drop one bundle
    carousel_groups: int
    carousel_size: tuple[int, int]  # members per group
    carousel_stations: tuple[int, int]  # stations a group votes at in one day
    featured_stuffing: int = 0  # featured cameras (see Preset.render) that get a stuffer
    featured_inflation: int = 0  # featured cameras whose protocol is inflated
    featured_carousel: bool = True  # group 0 votes at the featured cameras

    def __post_init__(self) -> None:
        _check_rate("FraudRates", "inflation_rate", self.inflation_rate)
        _check_rate("FraudRates", "stuffing_rate", self.stuffing_rate)
        _check_rate("FraudRates", "bundle_rate", self.bundle_rate)
        _check_range("FraudRates", "inflation_size", self.inflation_size)
        _check_range("FraudRates", "stuffing_hands", self.stuffing_hands, low=1)
        _check_range("FraudRates", "stuffing_bundle", self.stuffing_bundle, low=2)
        _check_range("FraudRates", "carousel_size", self.carousel_size, low=2)
        _check_range("FraudRates", "carousel_stations", self.carousel_stations, low=2)
        if self.carousel_groups < 0 or self.featured_stuffing < 0 or self.featured_inflation < 0:
            raise ValueError("FraudRates: counts must be non-negative")
        w = self.inflation_weights
        if not w or any(x < 0 for x in w) or sum(w) <= 0:
            raise ValueError(f"FraudRates.inflation_weights must be non-negative, got {w}")


@dataclass(frozen=True)
class CameraFaults:
    """Probability that a rendered camera has each condition (see plan.ConditionKind).

    The three audio states exclude each other; `turned_away` and `nudged` are both
    `view_shifted` (a large pan that takes the box out of view, or a small one).
    """

    audio_absent: float = 0.0
    audio_muted: float = 0.0
    audio_quiet: float = 0.0
    turned_away: float = 0.0
    nudged: float = 0.0
    box_occluded: float = 0.0
    frozen: float = 0.0
    outage: float = 0.0
    defocus: float = 0.0
    dark: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_rate("CameraFaults", f.name, getattr(self, f.name))
        if self.audio_absent + self.audio_muted + self.audio_quiet > 1.0:
            raise ValueError("CameraFaults: the audio probabilities must sum to at most 1")
        if self.turned_away + self.nudged > 1.0:
            raise ValueError("CameraFaults: turned_away + nudged must be at most 1")


@dataclass(frozen=True)
class Crowd:
    """People on camera who are not voting (and how voters cluster)."""

    commission: tuple[int, int] = (2, 3)  # members at the table (at most 3 seats)
    observers: tuple[int, int] = (0, 2)  # at most 2 seats
    passerby_per_min: float = 0.3  # people crossing in front of the box, per video minute
    commission_walk_per_min: float = 0.3  # walks about per member, per video minute
    family_rate: float = 0.1  # share of voters who arrive with family (groups of 2-3)

    def __post_init__(self) -> None:
        if not 1 <= self.commission[0] <= self.commission[1] <= 3:
            raise ValueError(f"Crowd.commission must be within 1..3, got {self.commission}")
        if not 0 <= self.observers[0] <= self.observers[1] <= 2:
            raise ValueError(f"Crowd.observers must be within 0..2, got {self.observers}")
        if self.passerby_per_min < 0 or self.commission_walk_per_min < 0:
            raise ValueError("Crowd: rates per minute must be non-negative")
        _check_rate("Crowd", "family_rate", self.family_rate)


@dataclass(frozen=True)
class Preset:
    """A whole synthetic election. Times on the election clock are compressed by `time_scale`:
    polls close `polls_hours / time_scale` hours after they open, while people on camera move
    at real speed (see docs/truth.md)."""

    name: str
    description: str
    election_date: date
    utc_offset_h: int
    n_stations: int
    n_cameras: int
    regions: tuple[RegionSpec, ...]
    registered_range: tuple[int, int]
    candidates: tuple[str, ...]  # the first is the incumbent, who gains from every fraud
    minor_weights: tuple[float, ...]  # relative true shares of the other candidates
    target_turnout: float  # official national turnout (ballots issued / registered)
    target_winner: float  # official share of the incumbent among valid votes
    time_scale: float
    render: int  # cameras rendered by default: the "featured" cameras the fraud plan uses
    dwell: Dwell
    fraud: FraudRates
    faults: CameraFaults
    crowd: Crowd = field(default_factory=Crowd)
    registered_sigma: float = 0.45  # log-normal spread of station sizes
    station_spread_km: float = 3.0  # scatter of stations around their district centre
    turnout_spread: float = 0.35  # logit sd of true turnout between stations
    winner_spread: float = 0.35  # logit sd of the incumbent's true share between stations
    invalid_rate: float = 0.012
    taken_rate: float = 0.003  # voters who leave with their ballot instead of casting it
    open_hour: int = 8
    polls_hours: float = 11.0
    checkpoint_hours: tuple[float, ...] = (2.0, 4.0, 7.0, 9.0, 11.0)
    width: int = 640
    height: int = 360
    fps: int = 25
    pre_roll_s: float = 10.0  # recording starts this long before polls open (plus jitter)
    post_roll_s: float = 10.0  # and runs this long after close / the last person left
    max_table_load: float = 0.55  # rendered cameras: expected busy share of the table
    road_kmh: float = 25.0  # carousel travel speed on roads (real time)
    road_detour: float = 1.3  # road distance / straight-line distance
    clip_s: float | None = None  # rendered cameras record at most this long (see with_clip)
    clean: bool = False

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ValueError:
            return ValueError(f"preset {self.name!r}: {name} {why}")

        if self.n_stations < 1 or not 0 <= self.n_cameras <= self.n_stations:
            raise bad("n_cameras", "must be within 0..n_stations and n_stations >= 1")
        if not 0 <= self.render <= self.n_cameras:
            raise bad("render", f"must be within 0..n_cameras ({self.n_cameras})")
        if not self.regions:
            raise bad("regions", "must not be empty")
        if len(self.candidates) < 2 or len(set(self.candidates)) != len(self.candidates):
            raise bad("candidates", "must be at least two distinct names")
        if len(self.minor_weights) != len(self.candidates) - 1 or min(self.minor_weights) <= 0:
            raise bad("minor_weights", "needs one positive weight per non-incumbent candidate")
        for name in ("target_turnout", "target_winner"):
            if not 0.05 < getattr(self, name) < 0.995:
                raise bad(name, "must be within (0.05, 0.995)")
        if not self.time_scale > 0:
            raise bad("time_scale", f"must be positive, got {self.time_scale}")
        _check_range(self.name, "registered_range", self.registered_range, low=1)
        cps = self.checkpoint_hours
        if not cps or any(b <= a for a, b in itertools.pairwise(cps)) or cps[0] <= 0:
            raise bad("checkpoint_hours", "must be increasing and positive")
        if cps[-1] != self.polls_hours:
            raise bad("checkpoint_hours", "must end at polls_hours (the close)")
        if len(self.fraud.inflation_weights) != len(cps):
            raise bad("fraud.inflation_weights", "needs one weight per checkpoint interval")
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            raise bad("width/height", "must be even and at least 16")
        if self.fps < 1 or self.pre_roll_s < 0 or self.post_roll_s < 0:
            raise bad("fps/pre_roll_s/post_roll_s", "must be positive")
        for name in ("invalid_rate", "taken_rate", "max_table_load"):
            _check_rate(self.name, name, getattr(self, name))
        if self.road_kmh <= 0 or self.road_detour < 1:
            raise bad("road_kmh/road_detour", "must be > 0 and >= 1")
        if self.clip_s is not None and not self.clip_s > 0:
            raise bad("clip_s", f"must be positive, got {self.clip_s}")

    @property
    def incumbent(self) -> str:
        return self.candidates[0]

    def with_time_scale(self, time_scale: float | None) -> Preset:
        """This preset on another compressed clock (None keeps the preset's own)."""
        return self if time_scale is None else replace(self, time_scale=time_scale)

    def with_clip(self, clip_s: float | None) -> Preset:
        """This preset with every rendered camera recording at most `clip_s` seconds from its
        start (None: the whole day). The election and its official figures do not change."""
        return self if clip_s is None else replace(self, clip_s=clip_s)


_INFLATION_WEIGHTS = (0.05, 0.10, 0.20, 0.30, 0.35)

# Fraud per preset, one row each: FraudRates' fields in order, inflation_weights left out (the
# same for all): inflation rate and size, stuffing rate, ballots dropped hand by hand and as a
# bundle, bundle rate, carousel groups, members per group, stations per group, featured
# cameras with a stuffer and with an inflated protocol
_FRAUD = {
    "tiny": (0.2, (0.1, 0.6), 0.2, (3, 6), (5, 10), 0.3, 1, (3, 3), (3, 3), 1, 1),
    "demo": (0.25, (0.1, 0.6), 0.15, (4, 8), (8, 16), 0.4, 2, (3, 4), (3, 4), 2, 1),
    "azerbaijan-2024": (0.7, (0.15, 0.6), 0.12, (5, 15), (20, 60), 0.4, 40, (3, 6), (3, 5), 1, 0),
}


def _fraud(preset: str) -> FraudRates:
    rate, size, *rest = _FRAUD[preset]
    return FraudRates(rate, size, _INFLATION_WEIGHTS, *rest)  # type: ignore[arg-type]


_TOWN = (
    RegionSpec("Capital", 40.40, 49.85, 0.40, 3, 34, 3.0, -0.2, -0.2, 0.8),
    RegionSpec("Riverside", 40.46, 49.98, 0.25, 3, 32, 4.0, 0.1, 0.1),
    RegionSpec("Highlands", 40.58, 49.72, 0.20, 3, 28, 5.0, 0.4, 0.5, 1.3),
    RegionSpec("Lowlands", 40.30, 50.05, 0.15, 3, 30, 5.0, 0.0, 0.2),
)

# the small presets show every camera condition often, to be tested and scored
_SMALL_FAULTS = CameraFaults(0.1, 0.25, 0.1, 0.15, 0.15, 0.15, 0.1, 0.1, 0.1, 0.1)

TINY = Preset(
    name="tiny",
    description="10 small stations, 3 rendered cameras, 320x180: for tests",
    election_date=date(2025, 3, 9),
    utc_offset_h=4,
    n_stations=10,
    n_cameras=5,
    regions=(
        RegionSpec("Capital", 40.40, 49.85, 0.6, 2, 18, 2.0, -0.2, -0.2),
        RegionSpec("Riverside", 40.45, 49.95, 0.4, 2, 17, 2.0, 0.2, 0.3),
    ),
    registered_range=(14, 30),
    registered_sigma=0.25,
    station_spread_km=1.5,
    candidates=("incumbent", "candidate_b", "candidate_c"),
    minor_weights=(0.6, 0.4),
    target_turnout=0.70,
    target_winner=0.72,
    time_scale=200.0,  # an hour is 18 s: a 198 s day
    render=3,
    width=320,
    height=180,
    fps=10,
    pre_roll_s=5.0,
    post_roll_s=8.0,
    max_table_load=0.4,
    # carousel voters bring a filled-in ballot: quick at the table, straight to the box
    dwell=Dwell((4, 9), (5, 15), (3, 5), (3, 5), (3, 6), carousel_booth_rate=0.0),
    fraud=_fraud("tiny"),
    faults=_SMALL_FAULTS,
    crowd=Crowd((2, 3), (0, 1), 0.4, 0.5, 0.1),
)

DEMO = Preset(
    name="demo",
    description="60 small stations in 4 regions, 4 rendered cameras of 5.5 min at 640x360",
    election_date=date(2025, 3, 9),
    utc_offset_h=4,
    n_stations=60,
    n_cameras=16,
    regions=_TOWN,
    registered_range=(20, 90),
    max_table_load=0.45,
    registered_sigma=0.35,
    station_spread_km=2.0,
    candidates=("incumbent", "candidate_b", "candidate_c", "candidate_d"),
    minor_weights=(0.5, 0.3, 0.2),
    target_turnout=0.68,
    target_winner=0.71,
    time_scale=120.0,  # an hour is 30 s: a 330 s day
    render=4,
    dwell=Dwell((3, 8), (6, 20), (3, 6), (3, 6), (3, 6)),
    fraud=_fraud("demo"),
    faults=_SMALL_FAULTS,
    crowd=Crowd((2, 3), (0, 2), 0.3, 0.3, 0.1),
)

# Regions of Azerbaijan (economic regions; centres and shares approximate). Turnout and
# winner shifts give the regional contrasts observers describe (Nakhchivan near-unanimous,
# Baku lower turnout); fraud_factor scales how often protocols are inflated there.
_AZ_REGIONS = (
    RegionSpec("Baku", 40.41, 49.87, 0.22, 30, 1250, 8.0, -0.35, -0.3, 0.8),
    RegionSpec("Absheron-Khizi", 40.50, 49.55, 0.05, 7, 1050, 12.0, -0.1, -0.1),
    RegionSpec("Nakhchivan", 39.21, 45.41, 0.06, 6, 600, 25.0, 0.9, 1.2, 1.3),
    RegionSpec("Ganja-Dashkasan", 40.68, 46.36, 0.06, 9, 1000, 15.0, 0.0, 0.0),
    RegionSpec("Shaki-Zagatala", 41.40, 46.90, 0.07, 8, 800, 30.0, 0.1, 0.1),
    RegionSpec("Lankaran-Astara", 38.75, 48.80, 0.09, 10, 900, 25.0, 0.2, 0.2, 1.1),
    RegionSpec("Guba-Khachmaz", 41.35, 48.50, 0.06, 7, 800, 25.0, 0.1, 0.1),
    RegionSpec("Central Aran", 40.40, 47.40, 0.09, 10, 850, 30.0, 0.2, 0.2, 1.1),
    RegionSpec("Mil-Mughan", 39.80, 47.90, 0.06, 6, 850, 25.0, 0.2, 0.2, 1.1),
    RegionSpec("Shirvan-Salyan", 39.70, 48.90, 0.05, 6, 900, 25.0, 0.1, 0.1),
    RegionSpec("Mountainous Shirvan", 40.65, 48.60, 0.04, 4, 750, 20.0, 0.1, 0.1),
    RegionSpec("Karabakh", 39.90, 46.80, 0.06, 11, 750, 30.0, 0.3, 0.4),
    RegionSpec("East Zangezur", 39.60, 46.40, 0.01, 2, 400, 20.0, 0.5, 0.6),
    RegionSpec("Gazakh-Tovuz", 41.00, 45.60, 0.08, 9, 850, 25.0, 0.1, 0.1),
)

AZERBAIJAN_2024 = Preset(
    name="azerbaijan-2024",
    description=(
        "Azerbaijan, 7 February 2024: 6,319 stations, 1,000 with cameras, 7 candidates; "
        "calibrated to the official turnout 76.7% and winner share 92.1%"
    ),
    election_date=date(2024, 2, 7),
    utc_offset_h=4,
    n_stations=6319,
    n_cameras=1000,
    regions=_AZ_REGIONS,
    registered_range=(150, 2500),
    registered_sigma=0.45,
    station_spread_km=4.0,
    candidates=(
        "incumbent",
        "candidate_b",
        "candidate_c",
        "candidate_d",
        "candidate_e",
        "candidate_f",
        "candidate_g",
    ),
    minor_weights=(2.2, 2.0, 1.7, 0.7, 0.7, 0.6),
    target_turnout=0.767,
    target_winner=0.921,
    time_scale=2.0,  # a 5.5 h day on camera: real-sized stations keep a realistic flow
    render=2,
    width=320,
    height=180,
    fps=10,
    pre_roll_s=120.0,
    post_roll_s=60.0,
    max_table_load=0.4,
    invalid_rate=0.008,
    dwell=Dwell((10, 30), (10, 40), (3, 6), (5, 12), (4, 10)),
    fraud=_fraud("azerbaijan-2024"),
    # Observers reported sound muted on (nearly) every camera and ~40% of views turned away.
    faults=CameraFaults(0.03, 0.93, 0.02, 0.40, 0.10, 0.05, 0.03, 0.05, 0.05, 0.03),
    crowd=Crowd((2, 3), (0, 2), 0.05, 0.05, 0.1),
)

_PRESETS: dict[str, Preset] = {p.name: p for p in (TINY, DEMO, AZERBAIJAN_2024)}


def preset_names() -> list[str]:
    """Every preset name, with its `-clean` variant."""
    return [n for base in _PRESETS for n in (base, base + CLEAN_SUFFIX)]


def get_preset(name: str) -> Preset:
    """The preset called `name`; `NAME-clean` is NAME without fraud and camera conditions."""
    base_name = name.removesuffix(CLEAN_SUFFIX)
    base = _PRESETS.get(base_name)
    if base is None:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(preset_names())}")
    if name == base_name:
        return base
    return replace(base, name=name, clean=True)
