"""Carousels in the pipeline: the "carousel" case step.

It gathers every camera's voter sightings (table carousel/sightings, written by the video part
in voters.py), matches them across all cameras with `detect_carousels` (station coordinates from
stations.csv, travel gaps divided by the election's `time_scale`) and writes `carousel`
findings (one per person: the visits in time order, their similarities, the calibrated
confidence with group support, and a p-value), the case-level tables carousel/visits and
carousel/calibration, and out/carousel.csv.

A simulated day may be compressed (`time_scale` > 1), but people on camera still move at real
speed: a group's visit to a station takes minutes of video whatever the scale. So the times that
describe a visit are kept at least so many seconds of video: `min_revisit_s` (two sightings at
one station closer than it are one visit) `VISIT_S`, `together_s` (co-travellers vote within
it) `TOGETHER_S`: a group's members cast their ballots seconds apart.

A finding's score is its person's match probability recalibrated to the share of such persons
found right on simulated cases, and its p-value the chance that two different people reach the
person's best similarity under a null whose tail was checked against the true one, times the
number of candidate pairs searched in its stratum (Bonferroni; at most 1): reliability.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from pollwatch.carousel.detect import CarouselParams, CarouselResult, detect_carousels
from pollwatch.carousel.findings import CSV_COLUMNS, CarouselFinding, write_carousel_csv
from pollwatch.carousel.reliability import null_pvalue
from pollwatch.carousel.sightings import Sightings, StationLocations
from pollwatch.carousel.voters import ANALYSER
from pollwatch.case import CasePaths
from pollwatch.counting.step import camera_observability
from pollwatch.pipeline import CASE_STEPS
from pollwatch.store import Finding, NotFoundError, Store

__all__ = [
    "STEP_PARAMS",
    "TOGETHER_S",
    "VISIT_COLUMNS",
    "VISIT_S",
    "carousel_step",
    "finding_record",
    "null_pvalue",
    "read_sightings",
    "scaled_params",
    "seen_rows",
    "station_locations",
]

VISIT_S = 120.0  # seconds of video a group's visit to a station may take, whatever the scale
TOGETHER_S = 30.0  # seconds of video within which a group's members cast their ballots
#: the step's matcher settings: a person with co-travellers is reported from confidence 0.99
#: (not 0.9): a case's few hundred voters include look-alikes (same shirt, hair and skin
#: colours) that the calibration, fitted on few pairs, rates too high (on demo-clean seed 41,
#: 2 of 4 stations had a false finding at 0.9, none at 0.99; demo seed 1 kept its 3 true pairs)
#: A person seen at one station only is reported with co-travellers alone, and never when seen
#: 3 or more times there (demo-clean seed 75: two voters in the same orange shirt, 200 s apart
#: at one station, had been reported at confidence 0.999998)
#: The null's tail shape is kept at most 0.25 (session 7): with 60-120 sightings a case the
#: fitted shape jumped between 0.25 and 0.49 from case to case (at 0.49 no lone pair could
#: reach 0.99 at any similarity), and at least 0.25 (session 8: demo-clean 97's cross-station
#: null fitted ξ 0 gave two lone look-alike pairs, cosines 0.51 and 0.57, match probability
#: 0.999, and 3 of 4 clean stations flagged; a floor of 0.1-0.25 clears them, 0.25 costs no
#: tuning pair). A group's co-traveller is reported from 0.9 (0.7 since session 13, below)
#: once a member of its group is reported on its own and two of its sightings reach cosine 0.5.
#: A lone person seen with one group joins it from a mean cosine of 0.4 (session 8: demo 76's
#: m3, cut in two by the linkage; 0.2-0.4 give the same on the 22 tuning cases, 0.1 six
#: wrong pairs) (docs/carousel.md)
#: The cross-station null, short of decoys of its own (85-120 on a demo case), borrows no
#: pair of one camera (session 11: demo 116's board in front of one box made 61 sightings
#: alike, and borrowed they put the cross-station prior at 0.001; tuning 14 -> 19 of 43
#: pairs with the light brought to one, all right)
#: A person seen at three or more stations whose every pair reaches 0.9 has its chain's
#: confidence (session 12: demo 110's m3, pairs 0.977, 0.931, 0.939, was under the 0.99
#: bar; on the tuning cases no wrong person's pairs all reach 0.9, the two lone three-station
#: chains of look-alikes have a pair at 0.62 and 0.77; tuning 40 -> 44 of 75 pairs alone)
#: A group is anchored too when its members, each by its appearance alone, make at least one
#: of them a match with 0.99, and a co-traveller of an anchored group is reported from 0.7
#: (session 13: demo 126's three members linked at two stations at 0.9889, 0.81 and 0.71,
#: 0.98, 0.70 and 0.56 alone, all look-alikes with 0.0026; the cosine bar 0.5 still keeps
#: out demo 128's look-alike at 0.81, cosine 0.44. Tuning replays 54 -> 57 of 83 pairs,
#: 57 / 60 right, no clean station flagged)
#: A reported person keeps only the sightings joined to its strongest pair by pairs of
#: probability 0.7 or more (the lowest at which anything is reported): group completion had
#: joined a look-alike at 0.02-0.09 (demo 166), the average linkage one at 0.69 (demo 168)
#: to right persons (session
#: 13 carprec13: tuning cases' reported pairs 123 / 136 -> 121 / 129 right; 0.9 118 / 126,
#: 0.99 106 / 110)
#: ... and a sighting at a station where none of its co-travellers was seen with it by pairs
#: of 0.99 (the bar for reporting a person with co-travellers): of the seven wrong sightings
#: the linkage joined to right persons on the tuning cases, five were such (0.69-0.97), of
#: the right ones four, all at 0.992 or more (session 14: tuning cases' reported pairs
#: 166 / 182 -> 166 / 173 right, no pair lost, demo 178's clean station no longer flagged)
STEP_PARAMS = CarouselParams(
    report_probability=0.99,
    lone_repeats=False,
    staff_repeats=3,
    null_max_shape=0.25,
    null_min_shape=0.25,
    group_report_probability=0.7,
    group_anchor_probability=0.99,
    attach_similarity=0.4,
    cross_null_other_cameras=True,
    chain_agreement=0.9,
    extension_probability=0.7,
    extension_alone_probability=0.99,
)

#: a sighting is kept when at least this share of its crops was taken while the camera's box
#: could be watched: a slot crop of a box blocked from view shows what blocks it (demo 93's
#: cam-D004-002 and cam-D002-008, a voting screen pushed in front of each box for a minute:
#: two such "visits", cosine 0.65, made a false group of two at a clean station)
MIN_SEEN_SHARE = 0.5

#: carousel.csv's columns, one row per voter visit of a group
VISIT_COLUMNS = list(CSV_COLUMNS)


def station_locations(store: Store) -> StationLocations:
    """Every station's coordinates from stations.csv."""
    st = store.stations()
    return StationLocations(
        st["station_id"].astype(str).to_numpy(),
        st["lat"].to_numpy(np.float64),
        st["lon"].to_numpy(np.float64),
    )


def seen_rows(store: Store, frame: pd.DataFrame, min_share: float = MIN_SEEN_SHARE) -> np.ndarray:
    """Which sightings of `frame` (table carousel/sightings) were taken while their camera's
    box could be watched: at least `min_share` of their crop times (their time when none are
    kept) outside the camera's unobservable ranges (`camera_observability`: the counter's own
    and the camera audit's); every sighting of a camera whose counting tables are missing."""
    keep = np.ones(len(frame), bool)
    cams = frame["camera_id"].astype(str).to_numpy()
    has_crops = "crop_times" in frame.columns
    for cid in np.unique(cams):
        try:
            obs = camera_observability(store, store.camera(cid))
        except NotFoundError:
            continue
        if not obs.unobservable:
            continue
        for i in np.flatnonzero(cams == cid):
            times = np.atleast_1d(
                np.asarray(frame["crop_times"].iat[i] if has_crops else (), float)
            )
            times = times[np.isfinite(times)]
            if not len(times):
                times = np.asarray([frame["t_s"].iat[i]], float)
            seen = np.mean([obs.observable_at(float(t)) for t in times])
            keep[i] = seen >= min_share
    return keep


def read_sightings(store: Store, *, seen_only: bool = True) -> tuple[Sightings, np.ndarray]:
    """Every camera's voter sightings as `Sightings` (time in epoch seconds), and the
    similarities of voter tracks' two halves (known same-person pairs); with `seen_only`,
    those taken while the box could not be watched left out (`seen_rows`)."""
    frame = store.read_tables(ANALYSER, "sightings")
    if frame.empty or "embedding" not in frame.columns:
        return Sightings.empty(1), np.zeros(0)
    if seen_only:
        frame = frame[seen_rows(store, frame)].reset_index(drop=True)
        if frame.empty:
            return Sightings.empty(1), np.zeros(0)
    emb = np.stack([np.asarray(e, np.float32) for e in frame["embedding"]])
    times = pd.to_datetime(frame["time"], utc=True)
    epoch = (times - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(np.float64)
    sightings = Sightings.from_arrays(
        frame["track_key"].astype(str),
        frame["camera_id"].astype(str),
        frame["station_id"].astype(str),
        epoch,
        emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12),
    )
    halves = frame["halves_similarity"].to_numpy(np.float64)
    return sightings, halves[np.isfinite(halves)]


def _when(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def finding_record(f: CarouselFinding, result: CarouselResult) -> Finding:
    """The store's `Finding` for one carousel person (evidence: the visits and the match)."""
    stratum = "same_station" if len(set(f.stations)) == 1 else "cross_station"
    calib = result.report_calibration.get(stratum, result.calibration.get(stratum))
    best = max(v.similarity for v in f.visits)
    n_tests = calib.n_targets if calib is not None else 1
    p_value = null_pvalue(calib, best, n_tests)
    stations = " → ".join(f"{v.station_id} {_when(v.time).strftime('%H:%M:%S')}" for v in f.visits)
    summary = (
        f"{f.person_key} (group {f.group_id}, {f.group_size} person(s)) voted at "
        f"{len(set(f.stations))} station(s), {len(f.visits)} times: {stations}; "
        f"best similarity {best:.3f}; confidence {f.confidence:.3f} (the share of persons "
        f"found right at match probability {f.match_probability:.4f} "
        f"{'with' if f.co_travellers else 'without'} co-travellers on simulated cases); "
        f"p-value of the similarity alone among the {n_tests} pairs compared {p_value:.2g} "
        "(the co-travellers' evidence is in the confidence only)"
    )
    return Finding(
        finding_id=f"carousel-{f.person_key}",
        kind="carousel",
        analyser=ANALYSER,
        summary=summary,
        station_id=f.visits[0].station_id,
        camera_id=f.visits[0].camera_id,
        t_start=_when(f.visits[0].time),
        t_end=_when(f.visits[-1].time),
        score=float(f.confidence),
        p_value=p_value,
        evidence={
            "group_id": f.group_id,
            "person_key": f.person_key,
            "group_size": f.group_size,
            "co_travellers": f.co_travellers,
            "match_probability": round(f.match_probability, 6),
            "repeated_station": f.repeated_station,
            "stations": list(f.stations),
            "visits": [
                {
                    "track_key": v.track_key,
                    "camera_id": v.camera_id,
                    "station_id": v.station_id,
                    "time": _when(v.time).isoformat(timespec="seconds"),
                    "similarity": round(v.similarity, 4),
                }
                for v in f.visits
            ],
            "stratum": stratum,
        },
    )


def _visits_frame(findings: tuple[CarouselFinding, ...]) -> pd.DataFrame:
    rows = [
        {
            "group_id": f.group_id,
            "person_key": f.person_key,
            "camera_id": v.camera_id,
            "station_id": v.station_id,
            "time": _when(v.time),
            "similarity": v.similarity,
            "track_key": v.track_key,
            "confidence": f.confidence,
        }
        for f in findings
        for v in f.visits
    ]
    frame = pd.DataFrame(rows, columns=VISIT_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame


def _calibration_frame(result: CarouselResult | None) -> pd.DataFrame:
    rows = []
    if result is not None:
        for name, c in result.calibration.items():
            if c is not None:
                rows.append({"stratum": name, **c.to_dict()})
    return pd.DataFrame(rows)


def scaled_params(
    params: CarouselParams, time_scale: float, *, together_s: float = TOGETHER_S
) -> CarouselParams:
    """`params` for a day compressed `time_scale` times: travel gaps scaled, the least time
    between two visits of one person to a station kept at least `VISIT_S` seconds of video,
    the time within which co-travellers vote at least `together_s` (see module doc)."""
    travel = replace(
        params.travel,
        time_scale=time_scale,
        min_revisit_s=max(params.travel.min_revisit_s, VISIT_S * time_scale),
    )
    together = max(params.together_s, together_s * time_scale)
    return replace(params, travel=travel, together_s=together)


@CASE_STEPS.registering("carousel", order=60)
def carousel_step(
    paths: CasePaths, store: Store, params: CarouselParams | None = None
) -> CarouselResult | None:
    """Match voters across every camera; `carousel` findings, tables carousel/visits and
    carousel/calibration, out/carousel.csv. Returns the detector's result (None: fewer than
    two sightings)."""
    sightings, halves = read_sightings(store)
    params = scaled_params(STEP_PARAMS if params is None else params, store.election().time_scale)
    result = None
    findings: tuple[CarouselFinding, ...] = ()
    if len(sightings) >= 2:
        result = detect_carousels(
            sightings,
            station_locations(store),
            params,
            positives=halves if len(halves) >= 2 else None,
        )
        findings = result.findings
    records = [] if result is None else [finding_record(f, result) for f in findings]
    store.replace_findings(ANALYSER, records)
    store.write_table(ANALYSER, "visits", _visits_frame(findings))
    store.write_table(ANALYSER, "calibration", _calibration_frame(result))
    write_carousel_csv(findings, paths.out("carousel.csv"))
    return result
