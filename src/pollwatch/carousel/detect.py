"""Carousel detection: voters seen casting ballots at several stations (or twice at one).

Steps (each in its own module): nearest-neighbour candidate pairs by appearance (index.py) →
feasibility by time and travel (travel.py) → similarity → match probability, fitted separately
for pairs at one station and across stations (calibrate.py) → persons by constrained linkage and
groups by travelling together (grouping.py) → findings (findings.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from pollwatch.carousel.calibrate import SimilarityCalibration, fit_calibration
from pollwatch.carousel.findings import CarouselFinding, CarouselVisit
from pollwatch.carousel.grouping import (
    attach_to_groups,
    chain_probability,
    chance_bayes_factor,
    co_travel,
    complete_groups,
    group_probability,
    link_persons,
    pair_support,
    person_members,
    seen_with,
    strong_core,
)
from pollwatch.carousel.index import CandidatePairs, IndexParams, candidate_pairs
from pollwatch.carousel.reliability import REPORT_NULL_MAX_SHAPE, reported_confidence
from pollwatch.carousel.sightings import Sightings, StationLocations
from pollwatch.carousel.travel import TravelModel

__all__ = ["CarouselDetector", "CarouselParams", "CarouselResult", "detect_carousels"]

STRATA = ("same_station", "cross_station")


@dataclass(frozen=True)
class CarouselParams:
    """Every threshold of carousel detection. Times are real-world seconds: the travel model's
    `time_scale` divides them, as it divides travel times."""

    travel: TravelModel = field(default_factory=TravelModel)
    index: IndexParams = field(default_factory=IndexParams)
    link_probability: float = 0.5  # a pair may join two clusters from this probability
    average_probability: float = 0.5  # mean probability across two clusters to merge them
    require_mutual: bool = False  # link only mutual nearest neighbours
    report_probability: float = 0.9  # a person is reported from this confidence
    lone_report_probability: float = 0.999  # ... or this one without co-travellers
    #: ... or this one when a co-traveller of its group is reported on its own (None: no)
    group_report_probability: float | None = None
    group_report_similarity: float = 0.5  # ... when two of its sightings are this alike
    #: ... or when its group's members, each by its appearance alone (its best pair's
    #: probability without group support), make at least one of them a match with this
    #: probability (`grouping.group_probability`; None: only a member reported on its own
    #: anchors a group)
    group_anchor_probability: float | None = None
    #: a person seen at three or more stations whose every pair reaches this probability:
    #: its confidence is the chain's (`chain_probability`) when higher than its best pair's
    #: (None: its best pair's always)
    chain_agreement: float | None = None
    #: a reported person keeps only the sightings joined to its strongest pair by pairs each
    #: reaching this probability (`grouping.strong_core`); the others are split off, not
    #: reported (None: every sighting the linkage gave it)
    extension_probability: float | None = None
    #: ... and a sighting at a station where none of the person's co-travellers was seen
    #: within `together_s` (its link has no group behind it) joins only by a pair reaching
    #: this one (None: `extension_probability`; not for a person reported by its chain)
    extension_alone_probability: float | None = None
    together_s: float = 900.0  # persons seen this close in time at a station are together
    min_shared_stations: int = 2
    max_bayes_factor: float = 1000.0
    min_decoys: int = 1000
    tail_mass: float = 0.1  # the null's tail is fitted above its (1 - tail_mass) quantile
    null_max_shape: float = 0.5  # the null tail's shape ξ is fitted within [0, null_max_shape]
    null_min_shape: float = 0.0  # ... and kept at least this (a light tail is a bold one)
    #: the cross-station stratum, short of decoys of its own, borrows none of the pairs of
    #: one camera (False: it borrows every decoy; see `CarouselDetector._calibrate`)
    cross_null_other_cameras: bool = False
    complete_similarity: float | None = 0.2  # group completion (None: off; see grouping.py)
    attach_similarity: float | None = None  # lone persons join a group (None: off; grouping.py)
    lone_repeats: bool = True  # report a person seen at one station only without co-travellers
    staff_repeats: int | None = None  # a person seen this often at one station is its staff

    def __post_init__(self) -> None:
        for name in (
            "link_probability",
            "average_probability",
            "report_probability",
            "lone_report_probability",
        ):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise ValueError(f"{name} must be in (0, 1), got {value!r}")
        if not 0 < self.tail_mass < 0.5:
            raise ValueError(f"tail_mass must be in (0, 0.5), got {self.tail_mass!r}")
        if not 0 <= self.null_max_shape <= 0.5:
            raise ValueError(f"null_max_shape must be in [0, 0.5], got {self.null_max_shape!r}")
        if not 0 <= self.null_min_shape <= self.null_max_shape:
            raise ValueError(
                f"null_min_shape must be in [0, null_max_shape], got {self.null_min_shape!r}"
            )
        for name in (
            "chain_agreement",
            "extension_probability",
            "extension_alone_probability",
            "group_anchor_probability",
            "group_report_probability",
        ):
            value = getattr(self, name)
            if value is not None and not 0 < value < 1:
                raise ValueError(f"{name} must be in (0, 1) or None, got {value!r}")
        if not -1 <= self.group_report_similarity <= 1:
            raise ValueError(
                f"group_report_similarity must be a cosine in [-1, 1], "
                f"got {self.group_report_similarity!r}"
            )
        if not self.together_s > 0:
            raise ValueError(f"together_s must be positive, got {self.together_s!r}")
        if not isinstance(self.min_shared_stations, int) or self.min_shared_stations < 1:
            raise ValueError(f"min_shared_stations must be >= 1, got {self.min_shared_stations!r}")
        if not self.max_bayes_factor >= 1:
            raise ValueError(f"max_bayes_factor must be >= 1, got {self.max_bayes_factor!r}")
        if not isinstance(self.min_decoys, int) or self.min_decoys < 2:
            raise ValueError(f"min_decoys must be an integer >= 2, got {self.min_decoys!r}")
        if self.staff_repeats is not None and (
            not isinstance(self.staff_repeats, int) or self.staff_repeats < 2
        ):
            raise ValueError(
                f"staff_repeats must be an integer >= 2 or None: {self.staff_repeats!r}"
            )
        for name in ("complete_similarity", "attach_similarity"):
            value = getattr(self, name)
            if value is not None and not -1 <= value <= 1:
                raise ValueError(f"{name} must be a cosine in [-1, 1] or None, got {value!r}")


@dataclass(frozen=True, eq=False)
class CarouselResult:
    """What `detect` found: reported findings, and the intermediate evidence behind them.

    `person` labels every sighting with the index of its candidate person (-1: seen once);
    `person_confidence[p]` is that person's confidence, `person_group[p]` its group label,
    `person_co_travellers[p]` how many persons it met at two or more stations (each finding's
    `confidence` is its person's confidence recalibrated, reliability.py);
    `pair_probability` is aligned with `candidates`; `reported` lists the persons reported."""

    findings: tuple[CarouselFinding, ...]
    calibration: dict[str, SimilarityCalibration | None]
    candidates: CandidatePairs
    feasible: np.ndarray
    pair_probability: np.ndarray
    person: np.ndarray
    person_confidence: np.ndarray
    person_group: np.ndarray
    reported: np.ndarray  # indices of the persons reported as findings
    person_co_travellers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: per stratum, the null fitted with its tail's shape free within [0, 0.5]: the findings'
    #: p-values (reliability.py); the detector's own may cap the shape lower
    report_calibration: dict[str, SimilarityCalibration | None] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step

    def reported_person(self) -> np.ndarray:
        """Per sighting: the index of its reported person, -1 when in no finding."""
        return np.where(np.isin(self.person, self.reported), self.person, -1)


class CarouselDetector:
    """Finds carousel voters among sightings (see module doc)."""

    def __init__(self, stations: StationLocations, params: CarouselParams | None = None) -> None:
        if not isinstance(stations, StationLocations):
            raise ValueError(f"stations must be StationLocations, got {type(stations).__name__}")
        params = CarouselParams() if params is None else params
        if not isinstance(params, CarouselParams):
            raise ValueError(f"params must be CarouselParams, got {type(params).__name__}")
        self.stations, self.params = stations, params

    def detect(self, sightings: Sightings, positives: np.ndarray | None = None) -> CarouselResult:
        """Run every step on `sightings`. `positives`: optional similarities of known
        same-person pairs (e.g. two halves of one track) to fit the match component."""
        if not isinstance(sightings, Sightings):
            raise ValueError(f"sightings must be Sightings, got {type(sightings).__name__}")
        p = self.params
        n = len(sightings)
        clock = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(step: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[step] = round(now - clock, 3)
            clock = now

        rows = self.stations.index_of(sightings.station_id)
        cand = candidate_pairs(sightings.embedding, p.index)
        lap("search_s")
        feas = p.travel.feasible(sightings, self.stations, cand.i, cand.j, station_rows=rows)
        same = rows[cand.i] == rows[cand.j]
        lap("feasibility_s")
        # two sightings of one camera seconds apart may be one visit seen twice (a voter split
        # in two) or co-voters: no honest decoys of two different people
        together = p.together_s / p.travel.time_scale
        twin = (sightings.camera_id[cand.i] == sightings.camera_id[cand.j]) & (
            np.abs(sightings.time[cand.i] - sightings.time[cand.j]) < together
        )
        one_camera = sightings.camera_id[cand.i] == sightings.camera_id[cand.j]
        calib = self._calibrate(cand, feas, same, positives, ~twin, one_camera)
        report_calib = calib
        if p.null_max_shape != REPORT_NULL_MAX_SHAPE or p.null_min_shape > 0:
            report_calib = self._calibrate(
                cand, feas, same, positives, ~twin, one_camera, max_shape=REPORT_NULL_MAX_SHAPE
            )
        strata = (("same_station", same), ("cross_station", ~same))
        llr = np.full(len(cand), -np.inf)
        for name, mask in strata:
            if calib[name] is not None and calib[name].prior > 0:
                llr[mask] = calib[name].log_likelihood_ratio(cand.similarity[mask])
        plausible = feas & (llr >= 0)
        bayes = np.ones(len(cand))
        if plausible.any():
            bayes[plausible] = self._group_bayes_factors(sightings, rows, cand, plausible)
        prob = np.zeros(len(cand))
        for name, mask in strata:
            if calib[name] is not None:
                prob[mask] = calib[name].probability(cand.similarity[mask], bayes[mask])
        prob[~feas] = 0.0
        lap("calibrate_s")
        cand_key = cand.i * n + cand.j  # sorted: candidate_pairs returns them ordered

        emb = sightings.embedding

        def feasible(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return p.travel.feasible(sightings, self.stations, a, b, station_rows=rows)

        def appearance_probability(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            """Match probability of pairs (a, b) by their similarity alone."""
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            sim = np.einsum("ij,ij->i", emb[lo], emb[hi])
            out = np.zeros(len(a))
            for name, mask in (
                ("same_station", rows[lo] == rows[hi]),
                ("cross_station", rows[lo] != rows[hi]),
            ):
                if calib[name] is not None and mask.any():
                    out[mask] = calib[name].probability(sim[mask])
            return out

        def pair_probability(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            out = appearance_probability(lo, hi)
            at = np.searchsorted(cand_key, lo * n + hi)
            at = np.minimum(at, max(len(cand_key) - 1, 0))
            known = (cand_key[at] == lo * n + hi) if len(cand_key) else np.zeros(len(a), bool)
            out[known] = prob[at[known]]  # candidates carry their group support
            return out

        label = link_persons(
            n,
            cand.i,
            cand.j,
            prob,
            cand.mutual,
            feasible=feasible,
            pair_probability=pair_probability,
            link_probability=p.link_probability,
            average_probability=p.average_probability,
            require_mutual=p.require_mutual,
        )
        lap("link_s")
        _, inverse, sizes = np.unique(label, return_inverse=True, return_counts=True)
        multi = sizes[inverse] >= 2
        person = np.full(n, -1, np.int64)
        _, person[multi] = np.unique(label[multi], return_inverse=True)
        n_persons = int(person.max()) + 1 if multi.any() else 0

        def evidence(
            person: np.ndarray,
        ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
            """Each person's sightings, confidence (its best pair's probability, or with
            `chain_agreement` its chain's when higher), group label and number of
            co-travellers (a person left empty by a merge: 0, a group alone)."""
            members = person_members(person, n_persons)
            confidence = np.zeros(n_persons)
            for k, m in enumerate(members):
                a, b = np.triu_indices(len(m), 1)
                if not len(a):
                    continue
                pairs = pair_probability(m[a], m[b])
                confidence[k] = pairs.max()
                if p.chain_agreement is not None and len(np.unique(rows[m])) >= 3:
                    matrix = np.eye(len(m))
                    matrix[a, b] = matrix[b, a] = pairs
                    chain = chain_probability(matrix, p.chain_agreement)
                    confidence[k] = max(confidence[k], chain or 0.0)
            linked = person >= 0
            group, met = co_travel(
                person[linked],
                rows[linked],
                sightings.time[linked],
                together_s=together,
                min_shared_stations=p.min_shared_stations,
            )
            short = n_persons - len(group)
            group = np.r_[group, np.arange(short) + len(group) + n_persons]
            return members, confidence, group, np.r_[met, np.zeros(short, np.int64)]

        members, confidence, group, met = evidence(person)
        if p.complete_similarity is not None and n_persons:
            person = complete_groups(
                person,
                np.where(met > 0, group, -1),
                rows,
                sightings.time,
                emb,
                together_s=together,
                min_similarity=p.complete_similarity,
            )
            members = person_members(person, n_persons)
        if p.attach_similarity is not None and n_persons:
            person = attach_to_groups(
                person,
                group,
                met,
                rows,
                sightings.time,
                emb,
                together_s=together,
                min_similarity=p.attach_similarity,
                feasible=feasible,
            )
            members, confidence, group, met = evidence(person)

        def best_similarity(members: list[np.ndarray]) -> np.ndarray:
            """Per sighting, its best cosine to another of its person's (0: none)."""
            out = np.zeros(n)
            for m in members:
                if len(m):
                    out[m] = ((emb[m] @ emb[m].T) - 2 * np.eye(len(m))).max(axis=1)
            return out

        best_sim = best_similarity(members)
        alike = np.array([best_sim[m].max() if len(m) else -1.0 for m in members])
        own = None  # each person's best pair by appearance alone (for the group anchor)
        if p.group_anchor_probability is not None:
            own = np.zeros(len(members))
            for k, m in enumerate(members):
                a, b = np.triu_indices(len(m), 1)
                if len(a):
                    own[k] = appearance_probability(m[a], m[b]).max()
        keep = self._reportable(members, rows, confidence, met, group, alike, own)
        if p.extension_probability is not None:
            # the pair (or chain) that reported a person stays in the core, so its
            # confidence, co-travellers and group stand; the split-off sightings are unlinked
            for k in keep:
                m = members[k]
                if len(m) < 3:
                    continue
                a, b = np.triu_indices(len(m), 1)
                matrix = np.eye(len(m))
                matrix[a, b] = matrix[b, a] = pair_probability(m[a], m[b])
                bar = np.full(len(m), p.extension_probability)
                if (
                    p.extension_alone_probability is not None
                    and met[k] > 0
                    # not reported through its chain (a chain's pairs may be under the bar)
                    and min(confidence[k], p.report_probability) <= matrix[a, b].max()
                ):
                    fellows = (group == group[k]) & (met > 0)
                    fellows[k] = False
                    theirs = np.concatenate([m[:0], *(members[q] for q in np.flatnonzero(fellows))])
                    with_them = seen_with(m, theirs, rows, sightings.time, together_s=together)
                    bar[~with_them] = p.extension_alone_probability
                person[m[~strong_core(matrix, bar)]] = -1
            members = person_members(person, n_persons)
            best_sim = best_similarity(members)
        findings = self._findings(sightings, members, best_sim, keep, confidence, group, met)
        lap("group_s")
        result = CarouselResult(
            findings=findings,
            calibration=calib,
            candidates=cand,
            feasible=feas,
            pair_probability=prob,
            person=person,
            person_confidence=confidence,
            person_group=group,
            reported=np.asarray(keep, np.int64),
            person_co_travellers=met,
            report_calibration=report_calib,
            timings=timings,
        )
        return result

    def _calibrate(
        self,
        cand: CandidatePairs,
        feas: np.ndarray,
        same: np.ndarray,
        positives: np.ndarray | None,
        decoy_ok: np.ndarray,
        one_camera: np.ndarray,
        max_shape: float | None = None,
    ) -> dict[str, SimilarityCalibration | None]:
        """Per stratum, the calibration from its feasible pairs (targets) and infeasible ones
        (decoys, where `decoy_ok`). A stratum with fewer than `min_decoys` decoys of its own
        borrows the other's; with `cross_null_other_cameras` the cross-station one borrows
        none of `one_camera`'s pairs: a camera's pairs share its light, its view and what it
        shows all day (on demo 116 a board hiding one camera's box made 61 sightings alike
        at cosine 0.99-1, and borrowed, they put the cross-station prior at 0.001)."""
        p = self.params
        out: dict[str, SimilarityCalibration | None] = {}
        for name, mask in (("same_station", same), ("cross_station", ~same)):
            target = cand.similarity[feas & mask]
            decoy = cand.similarity[~feas & mask & decoy_ok]
            if len(decoy) < p.min_decoys:  # too few of its own: decoys of both kinds
                lend = ~feas & decoy_ok
                if name == "cross_station" and p.cross_null_other_cameras:
                    lend &= ~one_camera
                decoy = cand.similarity[lend]
            if len(target) < 2:
                out[name] = None
                continue
            out[name] = fit_calibration(
                target,
                decoy,
                positives=positives,
                min_decoys=p.min_decoys,
                tail_mass=p.tail_mass,
                max_shape=p.null_max_shape if max_shape is None else max_shape,
                min_shape=p.null_min_shape if max_shape is None else 0.0,
            )
        return out

    def _group_bayes_factors(
        self, sightings: Sightings, rows: np.ndarray, cand: CandidatePairs, plausible: np.ndarray
    ) -> np.ndarray:
        """Bayes factor of group support for each plausible candidate pair."""
        p = self.params
        i, j = cand.i[plausible], cand.j[plausible]
        t = sightings.time
        swap = t[i] > t[j]
        a, b = np.where(swap, j, i), np.where(swap, i, j)
        n_st = int(rows.max()) + 1
        t_min, t_max = np.full(n_st, np.inf), np.full(n_st, -np.inf)
        np.minimum.at(t_min, rows, t)
        np.maximum.at(t_max, rows, t)
        together = p.together_s / p.travel.time_scale
        span = np.maximum(t_max - t_min, 2 * together)
        support, expected = pair_support(
            rows[a], rows[b], t[a], t[b], a, b, span, together_s=together
        )
        return np.array(
            [
                chance_bayes_factor(int(m), float(lam), p.max_bayes_factor)
                for m, lam in zip(support, expected, strict=True)
            ]
        )

    def _reportable(
        self,
        members: list[np.ndarray],
        rows: np.ndarray,
        confidence: np.ndarray,
        met: np.ndarray,
        group: np.ndarray,
        alike: np.ndarray,
        own: np.ndarray | None = None,
    ) -> list[int]:
        """The persons to report: confident enough (`report_probability` with co-travellers,
        `lone_report_probability` without, `group_report_probability` when a co-traveller of
        its group is reported on its own and two of its sightings (`alike`: its best pair's
        cosine) reach `group_report_similarity`), and not a repeat at one station that the
        params rule out: one seen at a single station without co-travellers (a look-alike
        or the commission, unless `lone_repeats`), or `staff_repeats` times or more at one
        station (a commission member walking to the box all day)."""
        p = self.params

        def allowed(k: int) -> bool:
            counts = np.bincount(rows[members[k]])
            if not p.lone_repeats and not met[k] and np.count_nonzero(counts) == 1:
                return False
            return p.staff_repeats is None or counts.max() < p.staff_repeats

        need = np.where(met > 0, p.report_probability, p.lone_report_probability)
        keep = [k for k in range(len(members)) if confidence[k] >= need[k] and allowed(k)]
        if p.group_report_probability is not None:
            # a group travelling together at several stations: once one member is reported
            # on its own evidence, its co-travellers' weaker matches are evidence too
            anchored = set(group[keep][met[keep] > 0].tolist())
            if p.group_anchor_probability is not None and own is not None:
                for g in set(group[met > 0].tolist()) - anchored:
                    inside = (group == g) & (met > 0)
                    if group_probability(own[inside]) >= p.group_anchor_probability:
                        anchored.add(g)
            keep += [
                k
                for k in range(len(members))
                if met[k] > 0
                and group[k] in anchored
                and p.group_report_probability <= confidence[k] < need[k]
                and alike[k] >= p.group_report_similarity
                and allowed(k)
            ]
        return sorted(keep)

    def _findings(
        self,
        sightings: Sightings,
        members: list[np.ndarray],
        best_sim: np.ndarray,
        keep: list[int],
        confidence: np.ndarray,
        group: np.ndarray,
        met: np.ndarray,
    ) -> tuple[CarouselFinding, ...]:
        keep = list(keep)
        if not keep:
            return ()
        first = {k: float(sightings.time[members[k]].min()) for k in keep}
        keep.sort(key=lambda k: (first[k], k))
        group_ids: dict[int, str] = {}
        group_size = {int(g): int(np.sum(group[keep] == g)) for g in set(group[keep].tolist())}
        out = []
        for rank, k in enumerate(keep, start=1):
            g = int(group[k])
            group_ids.setdefault(g, f"G{len(group_ids) + 1:04d}")
            m = members[k][np.argsort(sightings.time[members[k]], kind="stable")]
            visits = tuple(
                CarouselVisit(
                    str(sightings.track_key[r]),
                    str(sightings.camera_id[r]),
                    str(sightings.station_id[r]),
                    float(sightings.time[r]),
                    float(best_sim[r]),
                )
                for r in m
            )
            out.append(
                CarouselFinding(
                    group_id=group_ids[g],
                    person_key=f"P{rank:05d}",
                    visits=visits,
                    confidence=float(reported_confidence(confidence[k], met[k])),
                    match_probability=float(confidence[k]),
                    group_size=group_size[g],
                    co_travellers=int(met[k]),
                )
            )
        return tuple(out)


def detect_carousels(
    sightings: Sightings,
    stations: StationLocations,
    params: CarouselParams | None = None,
    positives: np.ndarray | None = None,
) -> CarouselResult:
    """Find carousel voters: `CarouselDetector(stations, params).detect(sightings, positives)`."""
    return CarouselDetector(stations, params).detect(sightings, positives)
