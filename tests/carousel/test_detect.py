"""Carousel detection end to end on planted synthetic sets, and its error cases."""

from __future__ import annotations

import csv
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from carousel_figures import random_looks, track_crops
from scipy import stats

from pollwatch.carousel import (
    CSV_COLUMNS,
    CarouselDetector,
    CarouselParams,
    IndexParams,
    Sightings,
    StationLocations,
    TravelModel,
    candidate_pairs,
    detect_carousels,
    fit_calibration,
    write_carousel_csv,
)
from pollwatch.carousel.calibrate import _tail_fit
from pollwatch.carousel.grouping import (
    attach_to_groups,
    chain_probability,
    chance_bayes_factor,
    complete_groups,
    group_probability,
    person_members,
    seen_with,
    strong_core,
)
from pollwatch.carousel.synthetic import make_planted_set, pairwise_scores, recovered_groups
from pollwatch.reid import split_track_similarities
from pollwatch.reid.colour import ColourEmbedder


def _scores(planted, result) -> dict:  # type: ignore[no-untyped-def]
    reported = result.reported_person()
    group = np.where(reported >= 0, result.person_group[np.maximum(reported, 0)], -1)
    scores = pairwise_scores(reported, planted.person, planted.group)
    scores["groups"] = recovered_groups(group, planted.person, planted.group)
    return scores


@pytest.mark.parametrize(
    ("seed", "noise", "time_scale"), [(1, 0.42, 1.0), (2, 0.6, 1.0), (3, 0.5, 12.0)]
)
def test_planted_groups_recovered(seed: int, noise: float, time_scale: float) -> None:
    planted = make_planted_set(
        n_sightings=4000, n_stations=40, n_groups=12, noise=noise, time_scale=time_scale, seed=seed
    )
    params = CarouselParams(travel=TravelModel(time_scale=time_scale))
    result = detect_carousels(planted.sightings, planted.stations, params)
    scores = _scores(planted, result)
    print(f"planted seed={seed} noise={noise}: {scores}")
    assert scores["precision"] >= 0.95
    assert scores["recall"] >= 0.9
    assert scores["groups"] >= 0.8
    assert all(f.kind == "carousel" and len(set(f.stations)) >= 1 for f in result.findings)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_tiny_sets(n: int) -> None:
    planted = make_planted_set(n_sightings=max(n, 1), n_stations=2, n_groups=0, seed=1)
    result = detect_carousels(planted.sightings[np.arange(n)], planted.stations)
    assert result.findings == () and len(result.reported_person()) == n


@pytest.mark.parametrize("seed", [4, 5])
def test_clean_set_has_no_carousel(seed: int) -> None:
    planted = make_planted_set(n_sightings=4000, n_stations=40, n_groups=0, seed=seed)
    result = detect_carousels(planted.sightings, planted.stations)
    assert result.findings == ()


def test_one_visit_seen_twice_is_no_decoy() -> None:
    """Every voter seen twice by one camera 2 s apart (a visit split in two): those pairs are
    neither targets nor decoys, so the null stays that of different people."""
    planted = make_planted_set(n_sightings=2000, n_stations=20, n_groups=0, seed=9)
    s = planted.sightings
    rng = np.random.default_rng(3)
    noise = 0.1 * rng.standard_normal(s.embedding.shape).astype(np.float32) / np.sqrt(128)
    emb = s.embedding + noise
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    keys = [f"{k}'" for k in s.track_key]
    twins = Sightings.from_arrays(keys, s.camera_id, s.station_id, s.time + 2.0, emb)
    result = detect_carousels(Sightings.merge([s, twins]), planted.stations)
    assert result.findings == ()
    for calib in result.calibration.values():
        assert calib is not None and np.tanh(calib.threshold) < 0.5  # 0.996 with twins as decoys


def _one_person_twice(gap_s: float, other_station: bool) -> tuple[Sightings, StationLocations]:
    """2,000 voters seen once plus one person seen twice (at S00000, then S00000 or S00001)."""
    planted = make_planted_set(n_sightings=2000, n_stations=10, n_groups=0, seed=7)
    s = planted.sightings
    rng = np.random.default_rng(8)
    person = rng.standard_normal(128).astype(np.float32)
    person /= np.linalg.norm(person)
    emb = person + 0.4 * rng.standard_normal((2, 128)).astype(np.float32) / np.sqrt(128)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    t0 = float(s.time.min()) + 3600
    extra = Sightings.from_arrays(
        ["x1", "x2"],
        ["CS00000", "CS00001" if other_station else "CS00000"],
        ["S00000", "S00001" if other_station else "S00000"],
        [t0, t0 + gap_s],
        emb,
    )
    return Sightings.merge([s, extra]), planted.stations


@pytest.mark.parametrize(
    ("gap_s", "other_station", "found"),
    [
        (2 * 3600, False, True),  # voted twice at one station
        (120, False, False),  # one visit seen twice (two cameras, or a broken track)
        (2 * 3600, True, True),
    ],
)
def test_twice_at_one_station(gap_s: float, other_station: bool, found: bool) -> None:
    sightings, stations = _one_person_twice(gap_s, other_station)
    result = detect_carousels(sightings, stations)
    keys = {v.track_key for f in result.findings for v in f.visits}
    assert ({"x1", "x2"} <= keys) == found
    if found and not other_station:
        (finding,) = [f for f in result.findings if "x1" in {v.track_key for v in f.visits}]
        assert finding.repeated_station


def test_impossible_trip_is_rejected() -> None:
    """The same look at two stations 50 km apart, 10 minutes apart: not one person."""
    planted = make_planted_set(n_sightings=2000, n_stations=10, n_groups=0, seed=9)
    stations = StationLocations.from_mapping(
        {
            **{
                str(k): (float(a), float(b))
                for k, a, b in zip(
                    planted.stations.station_id,
                    planted.stations.lat,
                    planted.stations.lon,
                    strict=True,
                )
            },
            "FAR": (45.0, 49.9),
        }
    )
    rng = np.random.default_rng(3)
    v = rng.standard_normal((1, 128)).astype(np.float32)
    emb = np.repeat(v / np.linalg.norm(v), 2, axis=0)
    t0 = float(planted.sightings.time.min()) + 3600
    extra = Sightings.from_arrays(
        ["x1", "x2"], ["CS00000", "CFAR"], ["S00000", "FAR"], [t0, t0 + 600], emb
    )
    sightings = Sightings.merge([planted.sightings, extra])
    result = detect_carousels(sightings, stations)
    assert result.findings == ()
    far = TravelModel(time_scale=100)  # on a 100× compressed clock the trip fits
    result = detect_carousels(sightings, stations, CarouselParams(travel=far))
    assert {"x1", "x2"} <= {v.track_key for f in result.findings for v in f.visits}


def _drawn_election(
    seed: int, n_voters: int, n_groups: int
) -> tuple[Sightings, StationLocations, np.ndarray, np.ndarray, np.ndarray]:
    """Colour embeddings of drawn figures at 6 stations 2 km apart: `n_groups` groups of 4
    carousel voters at 3 stations each, among `n_voters` ordinary voters seen once. Returns the
    sightings, stations, track-half similarities (positives) and the planted person and group
    of each sighting."""
    looks = random_looks(n_voters + 4 * n_groups, seed=seed)
    rng = np.random.default_rng(seed + 1)
    station_ids = [f"S{i}" for i in range(6)]
    stations = StationLocations.from_mapping(
        {s: (40.0 + 0.018 * i, 49.9) for i, s in enumerate(station_ids)}
    )
    rows, t0 = [], 1.7e9
    for g in range(n_groups):
        route = rng.choice(6, 3, replace=False)
        for hop, st in enumerate(route):
            for m in range(4):
                rows.append((station_ids[st], t0 + g * 7200 + hop * 3600 + m * 60, g * 4 + m))
    for p in range(4 * n_groups, 4 * n_groups + n_voters):
        rows.append((station_ids[rng.integers(6)], t0 + rng.uniform(0, 12 * 3600), p))
    emb = ColourEmbedder()
    tracks = [track_crops(looks[p], 4, seed * 1000 + k) for k, (_, _, p) in enumerate(rows)]
    sightings = Sightings.from_arrays(
        [f"T{k}" for k in range(len(rows))],
        [f"C{r[0]}" for r in rows],
        [r[0] for r in rows],
        [r[1] for r in rows],
        np.array([emb.embed(c, m) for c, m in tracks]),
    )
    person = np.array([r[2] for r in rows])
    group = np.where(person < 4 * n_groups, person // 4, -1)
    return sightings, stations, split_track_similarities(emb, tracks), person, group


@pytest.mark.parametrize(("seed", "min_precision", "min_recall"), [(21, 0.9, 0.4)])
def test_drawn_figures_end_to_end(
    tmp_path: Path, seed: int, min_precision: float, min_recall: float
) -> None:
    """The colour descriptor on drawn figures (harsh: ±35 % brightness and ±12 % colour cast
    per camera) through the whole chain, then the CSV export."""
    sightings, stations, positives, person, group = _drawn_election(seed, 150, 3)
    result = detect_carousels(sightings, stations, positives=positives)
    scores = pairwise_scores(result.reported_person(), person, group)
    print(f"drawn figures seed={seed}: {scores}, findings {len(result.findings)}")
    assert scores["precision"] >= min_precision
    assert scores["recall"] >= min_recall
    path = write_carousel_csv(result.findings, tmp_path / "out" / "carousel.csv")
    with path.open() as fh:
        table = list(csv.DictReader(fh))
    assert tuple(table[0]) == CSV_COLUMNS
    assert len(table) == sum(len(f.visits) for f in result.findings)
    assert table[0]["time"].endswith("+00:00")


@pytest.mark.parametrize("seed", [31])
def test_drawn_clean_election_has_no_carousel(seed: int) -> None:
    sightings, stations, positives, _, _ = _drawn_election(seed, 150, 0)
    assert detect_carousels(sightings, stations, positives=positives).findings == ()


def test_calibration_is_monotone_and_separates() -> None:
    rng = np.random.default_rng(0)
    null = np.tanh(rng.normal(0.2, 0.05, 20000))
    matches = np.tanh(rng.normal(1.2, 0.08, 200))
    cal = fit_calibration(np.concatenate([null, matches]), np.tanh(rng.normal(0.2, 0.05, 3000)))
    s = np.linspace(0, 0.95, 200)
    p = cal.probability(s)
    assert np.all(np.diff(p) >= -1e-12)
    assert cal.probability(np.tanh(1.2)) > 0.99 and cal.probability(np.tanh(0.3)) < 0.01
    assert 0.2 < cal.similarity_at(0.9) < np.tanh(1.2)
    assert cal.match_method == "em"
    assert cal.prior * np.sum(np.arctanh(np.concatenate([null, matches])) > cal.threshold) == (
        pytest.approx(200, rel=0.2)
    )
    decoys = np.tanh(rng.normal(0.2, 0.05, 3000))
    clean = fit_calibration(null, decoys)
    assert clean.match_method == "uniform" and clean.prior == pytest.approx(1e-3)  # the floor
    assert float(clean.probability(np.tanh(0.2 + 4 * 0.05))) < 0.5
    strict = fit_calibration(null, decoys, min_prior=0.0)
    assert strict.prior == 0 and float(strict.probability(0.99)) == 0


@pytest.mark.parametrize(("shape", "scale"), [(0.0, 0.05), (0.2, 0.03), (0.4, 0.1)])
def test_tail_fit_recovers_scipy_genpareto(shape: float, scale: float) -> None:
    """Quantile-matching fit against samples drawn by scipy.stats.genpareto."""
    sample = stats.genpareto.rvs(shape, 0.0, scale, size=20000, random_state=1)
    xi, beta = _tail_fit(sample)
    assert xi == pytest.approx(shape, abs=0.05)
    assert beta == pytest.approx(scale, rel=0.1)


@pytest.mark.parametrize(
    ("true_shape", "max_shape", "min_shape", "expected_shape"),
    [
        (0.8, 0.5, 0.0, 0.5),  # heavier than the cap: the cap (0.25 until session 7)
        (0.6, 0.5, 0.0, 0.5),
        (0.8, 0.25, 0.0, 0.25),
        (0.1, 0.25, 0.0, 0.1),  # lighter than the cap: fitted
        (0.3, 0.0, 0.0, 0.0),
        (0.0, 0.25, 0.25, 0.25),  # lighter than the floor: the floor (session 8)
        (0.1, 0.5, 0.25, 0.25),
        (0.4, 0.5, 0.25, 0.4),  # within: fitted
    ],
)
def test_tail_fit_cap(
    true_shape: float, max_shape: float, min_shape: float, expected_shape: float
) -> None:
    sample = stats.genpareto.rvs(true_shape, 0.0, 0.05, size=20000, random_state=2)
    xi, beta = _tail_fit(sample, max_shape, min_shape)
    assert xi == pytest.approx(expected_shape, abs=0.03)
    if abs(xi - true_shape) > 0.05:  # capped or floored: the fitted law keeps the median
        median = stats.genpareto.median(xi, 0.0, beta)
        assert median == pytest.approx(float(np.median(sample)), rel=1e-6)


@pytest.mark.parametrize(
    ("met", "expected", "factor"),
    [
        # Sellke, Bayarri & Berger (2001), Table 1: p = 0.05 → bound 0.407 on B(H0:H1),
        # p = 0.01 → 0.125, p = 0.001 → 0.0188; BF here is the inverse. P(X >= 1 | λ) = 1 - e^-λ.
        (1, -np.log(1 - 0.05), 1 / 0.407),
        (1, -np.log(1 - 0.01), 1 / 0.125),
        (1, -np.log(1 - 0.001), 1 / 0.0188),
        (0, 0.5, 1.0),
        (1, 5.0, 1.0),  # p > 1/e: no evidence
    ],
)
def test_chance_bayes_factor_reference(met: int, expected: float, factor: float) -> None:
    assert chance_bayes_factor(met, expected) == pytest.approx(factor, rel=0.01)


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: CarouselParams(link_probability=1.5), "link_probability"),
        (lambda: CarouselParams(report_probability=0), "report_probability"),
        (lambda: CarouselParams(together_s=-1), "together_s"),
        (lambda: CarouselParams(min_shared_stations=0), "min_shared_stations"),
        (lambda: CarouselParams(max_bayes_factor=0.5), "max_bayes_factor"),
        (lambda: CarouselParams(min_decoys=1), "min_decoys"),
        (lambda: CarouselParams(staff_repeats=1), "staff_repeats"),
        (lambda: CarouselParams(group_report_probability=1.0), "group_report_probability"),
        (lambda: CarouselParams(chain_agreement=0.0), "chain_agreement"),
        (lambda: CarouselParams(group_anchor_probability=1.0), "group_anchor_probability"),
        (lambda: group_probability(np.array([0.5, 1.2])), "probability"),
        (lambda: group_probability(np.full((2, 2), 0.5)), "probability"),
        (lambda: group_probability(np.array([np.nan])), "probability"),
        (lambda: chain_probability(np.full((2, 2), 0.9), 0.5), "probability"),
        (lambda: chain_probability(np.full((3, 3), 0.9), 1.0), "agree"),
        (lambda: CarouselParams(extension_probability=1.0), "extension_probability"),
        (lambda: strong_core(np.ones((1, 1)), 0.5), "probability"),
        (lambda: strong_core(np.ones((3, 3)), 1.5), "bar"),
        (lambda: strong_core(np.ones((3, 3)), np.array([0.5, 0.9])), "bar"),
        (lambda: strong_core(np.ones((3, 3)), np.array([0.5, np.nan, 0.9])), "bar"),
        (lambda: CarouselParams(extension_alone_probability=0.0), "extension_alone_probability"),
        (
            lambda: seen_with(np.arange(2), np.arange(2), np.zeros(2), np.zeros(2), together_s=0),
            "together_s",
        ),
        (lambda: CarouselParams(tail_mass=0.0), "tail_mass"),
        (lambda: CarouselParams(null_max_shape=0.7), "null_max_shape"),
        (lambda: CarouselParams(null_max_shape=0.25, null_min_shape=0.3), "null_min_shape"),
        (lambda: fit_calibration([0.1, 0.2], min_shape=0.3, max_shape=0.2), "min_shape"),
        (lambda: fit_calibration([0.1, 0.2], max_shape=-1.0), "max_shape"),
        (lambda: CarouselParams(group_report_similarity=1.5), "group_report_similarity"),
        (lambda: IndexParams(kind="annoy"), "kind"),  # type: ignore[arg-type]
        (lambda: IndexParams(k=0), "k"),
        (lambda: IndexParams(nlist=-3), "nlist"),
        (lambda: IndexParams(threads=-1), "threads"),
        (lambda: fit_calibration([0.5]), "target"),
        (lambda: fit_calibration([0.1, 0.2], tail_mass=0.7), "tail_mass"),
        (lambda: detect_carousels("x", StationLocations.from_mapping({})), "sightings"),  # type: ignore[arg-type]
        (lambda: detect_carousels(Sightings.empty(3), {}), "stations"),  # type: ignore[arg-type]
        (lambda: candidate_pairs(np.ones(3, np.float32)), "embedding"),
    ],
)
def test_bad_arguments(build, argument: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=argument):
        build()


@pytest.mark.parametrize("kind", ["flat", "ivfpq", "hnsw"])
def test_index_kinds_find_planted_pairs(kind: str) -> None:
    planted = make_planted_set(n_sightings=3000, n_stations=20, n_groups=10, seed=13)
    params = IndexParams(kind=kind, k=8, nlist=32, nprobe=8, train_size=4000, all_pairs_max=0)
    pairs = candidate_pairs(planted.sightings.embedding, params)
    same = planted.person[pairs.i] == planted.person[pairs.j]
    order = np.argsort(planted.person, kind="stable")
    sp = planted.person[order]
    n_true = sum(c * (c - 1) // 2 for c in np.unique(sp, return_counts=True)[1])
    recall = same.sum() / n_true
    print(f"index {kind}: recall of same-person pairs {recall:.3f}")
    assert recall >= 0.95
    np.testing.assert_allclose(
        pairs.similarity,
        np.einsum(
            "ij,ij->i", planted.sightings.embedding[pairs.i], planted.sightings.embedding[pairs.j]
        ),
        atol=1e-4,
    )


@pytest.mark.parametrize(
    ("similarity", "expected"),
    [
        (0.9, [0, 1, 0, 1, 1, -1]),  # member 1 missed at station 0: its look-alike joins it
        (0.1, [0, 1, 0, -1, 1, -1]),  # below min_similarity: left alone
    ],
)
def test_complete_groups(similarity: float, expected: list[int]) -> None:
    # persons 0 and 1 travel together: both at station 1 (t 500), only person 0 seen at
    # station 0 (t 100); sighting 3 is at station 0 with them, sighting 5 long after
    station = np.array([0, 1, 1, 0, 1, 0])
    time = np.array([100.0, 500.0, 502.0, 104.0, 503.0, 400.0])
    person = np.array([0, 1, 0, -1, 1, -1])
    e = np.eye(4, dtype=np.float32)
    other = np.sqrt(1 - similarity**2)
    one = np.array([0, similarity, other, 0], np.float32)  # like person 1 by `similarity`
    emb = np.stack([e[0], e[1], e[0], one, e[1], e[1]])
    got = complete_groups(
        person, np.array([7, 7]), station, time, emb, together_s=30.0, min_similarity=0.2
    )
    assert got.tolist() == expected


def test_complete_groups_needs_a_window() -> None:
    with pytest.raises(ValueError, match="together_s"):
        complete_groups(
            np.zeros(1, np.int64),
            np.zeros(1, np.int64),
            np.zeros(1),
            np.zeros(1),
            np.ones((1, 2), np.float32),
            together_s=0.0,
            min_similarity=0.2,
        )


def _attach_case(similarity: float, lone_t: float, lone_station: int, free_similarity: float):
    """Persons 0 and 1 travel together (stations 0 and 1; person 0 also at station 2, t 200);
    person 2, alone, is at station 2 at `lone_t` and at station `lone_station` (t 300), alike
    person 1 by `similarity`; sighting 7, unlinked, at station 0 with the group, alike person
    2 by `free_similarity`."""
    station = np.array([0, 1, 2, 0, 1, 2, lone_station, 0])
    time = np.array([0.0, 100.0, 200.0, 5.0, 105.0, lone_t, 300.0, 3.0])
    person = np.array([0, 0, 0, 1, 1, 2, 2, -1])
    e = np.eye(4, dtype=np.float32)

    def like(v: np.ndarray, cos: float) -> np.ndarray:
        return (cos * v + np.sqrt(1 - cos**2) * e[3]).astype(np.float32)

    emb = np.stack([e[0], e[0], e[0], e[1], e[1], like(e[1], similarity), like(e[1], similarity)])
    free = free_similarity * emb[5] + np.sqrt(1 - free_similarity**2) * e[2]
    emb = np.vstack([emb, free.astype(np.float32)])
    return person, station, time, emb


@pytest.mark.parametrize(
    ("similarity", "lone_t", "lone_station", "free_similarity", "possible", "expected"),
    [
        # person 2 is person 1 seen elsewhere: the two halves merge
        (0.9, 205.0, 3, 0.0, True, [0, 0, 0, 1, 1, 1, 1, -1]),
        (0.3, 205.0, 3, 0.0, True, [0, 0, 0, 1, 1, 2, 2, -1]),  # not alike enough
        (0.9, 205.0, 3, 0.0, False, [0, 0, 0, 1, 1, 2, 2, -1]),  # one trip impossible
        (0.9, 260.0, 3, 0.0, True, [0, 0, 0, 1, 1, 2, 2, -1]),  # not with the group
        (0.9, 205.0, 1, 0.0, True, [0, 0, 0, 1, 1, 2, 2, -1]),  # both seen at station 1
        # person 2 unlike person 1 takes the unlinked sighting at the group's station 0
        (0.1, 205.0, 3, 0.9, True, [0, 0, 0, 1, 1, 2, 2, 2]),
        (0.1, 205.0, 3, 0.2, True, [0, 0, 0, 1, 1, 2, 2, -1]),  # that one not alike
    ],
)
def test_attach_to_groups(
    similarity: float,
    lone_t: float,
    lone_station: int,
    free_similarity: float,
    possible: bool,
    expected: list[int],
) -> None:
    person, station, time, emb = _attach_case(similarity, lone_t, lone_station, free_similarity)
    got = attach_to_groups(
        person,
        np.array([0, 0, 1]),
        np.array([1, 1, 0]),
        station,
        time,
        emb,
        together_s=30.0,
        min_similarity=0.4,
        feasible=lambda a, b: np.full(len(a), possible),
    )
    assert got.tolist() == expected


@pytest.mark.parametrize(
    ("lone_repeats", "found"),
    [(True, True), (False, False)],  # a lone repeat at one station needs co-travellers
)
def test_lone_repeat_at_one_station(lone_repeats: bool, found: bool) -> None:
    sightings, stations = _one_person_twice(2 * 3600, False)
    result = detect_carousels(sightings, stations, CarouselParams(lone_repeats=lone_repeats))
    keys = {v.track_key for f in result.findings for v in f.visits}
    assert ({"x1", "x2"} <= keys) == found


@pytest.mark.parametrize(
    ("rows", "met", "lone_repeats", "staff_repeats", "expected"),
    [
        ([0, 1], 0, False, 3, True),  # two stations
        ([0, 0], 0, False, 3, False),  # one station, alone: a look-alike or the commission
        ([0, 0], 0, True, 3, True),
        ([0, 0], 2, False, 3, True),  # one station with co-travellers
        ([0, 0, 0, 1], 2, True, 3, False),  # three times at one station: its staff
        ([0, 0, 0, 1], 2, True, None, True),
        ([0, 1], 0, True, None, True),
    ],
)
def test_reportable_persons(
    rows: list[int], met: int, lone_repeats: bool, staff_repeats: int | None, expected: bool
) -> None:
    planted = make_planted_set(n_sightings=8, n_stations=2, n_groups=0, seed=0)
    params = CarouselParams(lone_repeats=lone_repeats, staff_repeats=staff_repeats)
    detector = CarouselDetector(planted.stations, params)
    keep = detector._reportable(
        [np.arange(len(rows))],
        np.asarray(rows),
        np.array([0.9999]),
        np.array([met]),
        np.array([0]),
        np.array([1.0]),
    )
    assert (keep == [0]) is expected


@pytest.mark.parametrize(
    ("confidence", "met", "group", "group_probability", "alike", "expected"),
    [
        # person 0 reported on its own; person 1 (0.95) travels with it
        ([0.995, 0.95], [1, 1], [0, 0], None, 0.6, [0]),
        ([0.995, 0.95], [1, 1], [0, 0], 0.9, 0.6, [0, 1]),
        ([0.995, 0.95], [1, 1], [0, 0], 0.9, 0.45, [0]),  # its sightings not alike enough
        ([0.995, 0.85], [1, 1], [0, 0], 0.9, 0.6, [0]),  # too weak even so
        ([0.995, 0.95], [1, 1], [0, 1], 0.9, 0.6, [0]),  # another group
        ([0.98, 0.95], [1, 1], [0, 0], 0.9, 0.6, []),  # nobody reported on its own: no anchor
        ([0.9995, 0.95], [0, 1], [0, 0], 0.9, 0.6, [0]),  # the anchor travels with nobody
    ],
)
def test_group_report_probability(
    confidence: list[float],
    met: list[int],
    group: list[int],
    group_probability: float | None,
    alike: float,
    expected: list[int],
) -> None:
    """A co-traveller of a person reported on its own evidence is reported from
    `group_report_probability`."""
    planted = make_planted_set(n_sightings=8, n_stations=2, n_groups=0, seed=0)
    params = CarouselParams(
        report_probability=0.99, lone_repeats=False, group_report_probability=group_probability
    )
    detector = CarouselDetector(planted.stations, params)
    members = [np.array([0, 1]), np.array([2, 3])]
    keep = detector._reportable(
        members,
        np.array([0, 1, 0, 1]),
        np.asarray(confidence),
        np.asarray(met),
        np.asarray(group),
        np.array([0.9, alike]),
    )
    assert keep == expected


@pytest.mark.parametrize(
    ("own", "met", "group", "anchor", "expected"),
    [
        # demo 126's three members at two stations (session 13): confidences 0.9889, 0.8119,
        # 0.7055 with co-travellers; by appearance alone 0.98, 0.70, 0.56: all three
        # look-alikes with probability 0.02 * 0.30 * 0.44 = 0.0026
        ([0.98, 0.70, 0.56], [2, 2, 2], [0, 0, 0], 0.99, [0, 1, 2]),
        ([0.98, 0.70, 0.56], [2, 2, 2], [0, 0, 0], None, []),  # off: no member anchors
        ([0.98, 0.70, 0.56], [2, 2, 2], [0, 0, 0], 0.999, []),  # 0.9974 is under it
        ([0.98, 0.70, 0.56], [2, 2, 2], [0, 0, 1], 0.99, [0, 1]),  # 0.994 without the third
        ([0.98, 0.70, 0.56], [2, 2, 2], [0, 1, 1], 0.99, []),  # two groups: 0.98 and 0.868
        ([0.98, 0.70, 0.56], [1, 1, 0], [0, 0, 0], 0.99, [0, 1]),  # the third travels alone
        ([0.98, 0.70, 0.56], [0, 1, 1], [0, 0, 0], 0.99, []),  # so does the first: 0.868
        ([0.5, 0.5, 0.5], [2, 2, 2], [0, 0, 0], 0.99, []),  # weak members make no anchor
    ],
)
def test_group_anchor_probability(
    own: list[float], met: list[int], group: list[int], anchor: float | None, expected: list[int]
) -> None:
    """A group whose members, by appearance alone, make at least one of them a match with
    `group_anchor_probability` anchors the group: its members are reported from
    `group_report_probability` (here 0.7) when their sightings are alike enough."""
    planted = make_planted_set(n_sightings=8, n_stations=2, n_groups=0, seed=0)
    params = CarouselParams(
        report_probability=0.99,
        lone_repeats=False,
        group_report_probability=0.7,
        group_anchor_probability=anchor,
    )
    detector = CarouselDetector(planted.stations, params)
    members = [np.array([0, 1]), np.array([2, 3]), np.array([4, 5])]
    keep = detector._reportable(
        members,
        np.array([0, 1, 0, 1, 0, 1]),
        np.array([0.9889, 0.8119, 0.7055]),
        np.asarray(met),
        np.asarray(group),
        np.array([0.87, 0.61, 0.555]),
        np.asarray(own),
    )
    assert keep == expected


@pytest.mark.parametrize(
    ("probability", "expected"),
    [
        ([], 0.0),
        ([0.3], 0.3),
        ([0.98, 0.70, 0.56], 1 - 0.02 * 0.30 * 0.44),  # demo 126's members (session 13)
        ([0.5, 0.5, 0.5, 0.5], 0.9375),
        ([1.0, 0.2], 1.0),
    ],
)
def test_group_probability_reference(probability: list[float], expected: float) -> None:
    """1 - prod(1 - q), computed by hand."""
    assert group_probability(np.array(probability)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n_persons", [0, 1, 4, 6])
def test_person_members_equals_a_scan_per_person(n_persons: int) -> None:
    person = np.random.default_rng(5).integers(-1, max(n_persons, 1), 200)
    got = person_members(person, n_persons)
    assert len(got) == n_persons
    for k, rows in enumerate(got):
        assert rows.tolist() == np.flatnonzero(person == k).tolist()


@pytest.mark.parametrize(("other_cameras", "alike_null"), [(False, True), (True, False)])
def test_cross_station_null_borrows_no_pairs_of_one_camera(
    other_cameras: bool, alike_null: bool
) -> None:
    """One camera shows one picture all day (a board in front of its box: 100 "visits" alike
    at cosine about 1, 40 s apart, so infeasible at one station). The cross-station
    stratum, short of decoys of its own, borrowed them: its null's top was about 1.
    With `cross_null_other_cameras` it borrows none of one camera's pairs (`min_decoys` set
    above the 8,637 cross-station decoys of this long day, as a demo case has 85-120)."""
    planted = make_planted_set(n_sightings=400, n_stations=10, n_groups=0, seed=12)
    s = planted.sightings
    rng = np.random.default_rng(5)
    board = rng.standard_normal(128)
    emb = board + 0.02 * rng.standard_normal((100, 128))
    emb = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
    cam, station = str(s.camera_id[0]), str(s.station_id[0])
    junk = Sightings.from_arrays(
        [f"board{k}" for k in range(100)],
        [cam] * 100,
        [station] * 100,
        float(s.time.min()) + 40.0 * np.arange(100),
        emb,
    )
    params = CarouselParams(
        together_s=30.0, min_decoys=10_000, cross_null_other_cameras=other_cameras
    )
    result = detect_carousels(Sightings.merge([s, junk]), planted.stations, params)
    cross = result.calibration["cross_station"]
    assert cross is not None
    top = float(np.tanh(cross.threshold))  # the null's 90th percentile
    assert (top > 0.9) == alike_null


def _spanning_trees(k: int) -> list[list[tuple[int, int]]]:
    """Every spanning tree of the complete graph on k nodes, by brute force over edge sets."""
    edges = list(combinations(range(k), 2))
    trees = []
    for chosen in combinations(edges, k - 1):
        reach = {0}
        for _ in range(k):
            reach |= {v for e in chosen for v in e if reach & set(e)}
        if len(reach) == k:
            trees.append(list(chosen))
    return trees


@pytest.mark.parametrize(("k", "seed"), [(3, 0), (4, 1), (5, 2), (6, 3)])
def test_chain_probability_is_the_strongest_tree(k: int, seed: int) -> None:
    """The chain's odds are those of the spanning tree with the largest product of pair odds
    (checked against every spanning tree, Cayley's k^(k-2) of them)."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.6, 0.999, (k, k))
    p = np.triu(p, 1) + np.triu(p, 1).T + np.eye(k)
    trees = _spanning_trees(k)
    assert len(trees) == k ** (k - 2)
    odds = max(np.prod([p[i, j] / (1 - p[i, j]) for i, j in tree]) for tree in trees)
    assert chain_probability(p, 0.5) == pytest.approx(odds / (1 + odds), rel=1e-9)


@pytest.mark.parametrize(
    ("pairs", "agree", "expected"),
    [
        # demo 110's m3 (session 12): 0.977 and 0.939 join the chain, odds 42.5 x 15.4
        ((0.977, 0.931, 0.939), 0.9, 0.99847),
        ((0.977, 0.931, 0.939), 0.95, None),  # a pair under the agreement: no chain
        ((0.993, 0.77, 0.866), 0.9, None),  # demo 128's three look-alikes (lone, wrong)
        ((0.993, 0.77, 0.866), 0.5, 0.99891),
    ],
)
def test_chain_probability_reference(
    pairs: tuple[float, float, float], agree: float, expected: float | None
) -> None:
    p = np.eye(3)
    p[0, 1], p[0, 2], p[1, 2] = pairs
    p = np.maximum(p, p.T)
    got = chain_probability(p, agree)
    assert got == (None if expected is None else pytest.approx(expected, abs=1e-5))


def test_chain_agreement_raises_only_agreeing_chains() -> None:
    """With `chain_agreement` a person at three or more stations whose pairs all agree gets
    its chain's confidence, higher than its best pair's; every other person keeps its own."""
    planted = make_planted_set(n_sightings=1500, n_stations=20, n_groups=6, noise=0.7, seed=9)
    base = detect_carousels(planted.sightings, planted.stations, CarouselParams())
    chained = detect_carousels(
        planted.sightings, planted.stations, CarouselParams(chain_agreement=0.5)
    )
    assert np.array_equal(base.person, chained.person)
    rows = planted.stations.index_of(planted.sightings.station_id)
    raised = 0
    for k, (before, after) in enumerate(
        zip(base.person_confidence, chained.person_confidence, strict=True)
    ):
        m = np.flatnonzero(base.person == k)
        if len(np.unique(rows[m])) < 3 or after == before:
            assert after == before
            continue
        assert after > before
        raised += 1
    assert raised >= 1


def _pairs(k: int, pairs: dict[tuple[int, int], float]) -> np.ndarray:
    p = np.eye(k)
    for (i, j), q in pairs.items():
        p[i, j] = p[j, i] = q
    return p


@pytest.mark.parametrize(
    ("k", "pairs", "bar", "kept"),
    [
        # demo 166's m1 (carprec13): three sightings alike, a voter at a fourth station
        # joined by group completion at 0.02-0.09 to them
        (
            4,
            {(0, 1): 1.0, (0, 3): 0.99, (1, 3): 0.99, (2, 0): 0.02, (2, 1): 0.09, (2, 3): 0.04},
            0.7,
            [0, 1, 3],
        ),
        # a look-alike at a third station joined at 0.955 (demo 124's v0006): the evidence
        # holds it at 0.7, not at 0.99
        (3, {(0, 1): 1.0, (0, 2): 0.955, (1, 2): 0.93}, 0.7, [0, 1, 2]),
        (3, {(0, 1): 1.0, (0, 2): 0.955, (1, 2): 0.93}, 0.99, [0, 1]),
        # a chain: 3 joins through 2 (0.8), though its pairs with 0 and 1 are weak
        (
            4,
            {(0, 1): 0.99, (0, 2): 0.9, (1, 2): 0.6, (2, 3): 0.8, (0, 3): 0.1, (1, 3): 0.2},
            0.7,
            [0, 1, 2, 3],
        ),
        # two strong pairs joined by a weak one: the stronger pair stays
        (
            4,
            {(0, 1): 0.95, (2, 3): 0.999, (1, 2): 0.3, (0, 2): 0.2, (0, 3): 0.1, (1, 3): 0.1},
            0.7,
            [2, 3],
        ),
    ],
)
def test_strong_core(
    k: int, pairs: dict[tuple[int, int], float], bar: float, kept: list[int]
) -> None:
    assert np.flatnonzero(strong_core(_pairs(k, pairs), bar)).tolist() == kept


@pytest.mark.parametrize(
    ("k", "pairs", "bar", "kept"),
    [
        # demo 178's m1 (session 14): a voter at a third station where none of m1's
        # co-travellers was seen, 0.872 and 0.881 to m1's two sightings: held at 0.7, not at
        # the 0.99 of a sighting without the group
        (3, {(0, 2): 0.997, (0, 1): 0.872, (1, 2): 0.881}, [0.7, 0.99, 0.7], [0, 2]),
        (3, {(0, 2): 0.997, (0, 1): 0.872, (1, 2): 0.881}, [0.7, 0.7, 0.7], [0, 1, 2]),
        # the strongest pair stays whatever its ends' bars
        (3, {(0, 2): 0.95, (0, 1): 0.5, (1, 2): 0.5}, [0.99, 0.7, 0.99], [0, 2]),
        # the strongest edge out (to 2, 0.9) fails its bar; 3 (0.8) still joins, and 2 not
        # through it (0.85 < 0.99)
        (
            4,
            {(0, 1): 1.0, (0, 2): 0.9, (1, 2): 0.5, (0, 3): 0.8, (1, 3): 0.2, (2, 3): 0.85},
            [0.7, 0.7, 0.99, 0.7],
            [0, 1, 3],
        ),
        # ... and joins through it when it reaches the bar there (0.995)
        (
            4,
            {(0, 1): 1.0, (0, 2): 0.9, (1, 2): 0.5, (0, 3): 0.8, (1, 3): 0.2, (2, 3): 0.995},
            [0.7, 0.7, 0.99, 0.7],
            [0, 1, 2, 3],
        ),
    ],
)
def test_strong_core_per_sighting_bar(
    k: int, pairs: dict[tuple[int, int], float], bar: list[float], kept: list[int]
) -> None:
    assert np.flatnonzero(strong_core(_pairs(k, pairs), np.array(bar))).tolist() == kept


@pytest.mark.parametrize(
    ("rows", "others", "expected"),
    [
        ([0, 1, 2], [3, 4], [True, False, False]),  # 3 with 0 (station 0, 10 s apart)
        ([0, 1, 2], [5], [False, False, True]),  # 5 with 2 at station 2, 30 s: the edge
        ([0, 1, 2], [], [False, False, False]),
        ([], [3], []),
        ([1], [6], [False]),  # station 1 but 31 s apart
    ],
)
def test_seen_with(rows: list[int], others: list[int], expected: list[bool]) -> None:
    station = np.array([0, 1, 2, 0, 1, 2, 1])
    time = np.array([100.0, 200.0, 300.0, 110.0, 400.0, 330.0, 231.0])
    got = seen_with(np.array(rows), np.array(others), station, time, together_s=30.0)
    assert got.tolist() == expected


def _member_at_three_stations(params: CarouselParams):  # type: ignore[no-untyped-def]
    """The planted set, its detection with `params`, the sightings' station rows, and the
    sightings of a reported person with co-travellers seen at three or more stations."""
    planted = make_planted_set(n_sightings=1500, n_stations=20, n_groups=6, noise=0.42, seed=9)
    base = detect_carousels(planted.sightings, planted.stations, params)
    rows = planted.stations.index_of(planted.sightings.station_id)
    k = next(
        int(k)
        for k in base.reported
        if base.person_co_travellers[k] > 0 and len(np.unique(rows[base.person == k])) >= 3
    )
    return planted, base, rows, np.flatnonzero(base.person == k)


def _alike_to(v: np.ndarray, cosine: float) -> np.ndarray:
    """A unit vector at `cosine` to the unit vector `v`."""
    r = np.random.default_rng(0).normal(size=v.shape)
    r -= (r @ v) * v
    return cosine * v + np.sqrt(1 - cosine**2) * r / np.linalg.norm(r)


def test_weak_third_station_extension_not_reported() -> None:
    """A reported person's sighting at a third station replaced by a look-alike (cosine 0.3
    to the person): group completion joins it to the person, and with
    `extension_probability` it is split off while the rest of the person stays reported
    with the same confidence."""
    planted, _, rows, m = _member_at_three_stations(CarouselParams())
    s = planted.sightings
    alone = np.unique(rows[m], return_counts=True)
    alone = m[np.isin(rows[m], alone[0][alone[1] == 1])]  # its only sighting at a station
    odd = alone[np.argmax(s.time[alone])]
    emb = s.embedding.copy()
    emb[odd] = _alike_to(emb[m[0]], 0.3)
    look_alike = Sightings.from_arrays(s.track_key, s.camera_id, s.station_id, s.time, emb)
    linked = detect_carousels(look_alike, planted.stations, CarouselParams())
    held = detect_carousels(look_alike, planted.stations, CarouselParams(extension_probability=0.7))
    before, after = linked.reported_person(), held.reported_person()
    assert before[odd] >= 0  # the linkage (group completion) reports the look-alike
    assert after[odd] == -1
    rest = before == before[odd]
    rest[odd] = False
    assert rest.sum() >= 2 and np.all(after[rest] == before[odd])
    conf = {f.person_key: f.confidence for f in linked.findings}
    for f in held.findings:
        assert f.confidence == conf[f.person_key]
    # every reported sighting but the look-alike is reported alike
    changed = np.flatnonzero(before != after)
    assert changed.tolist() == [odd]


def test_extension_without_the_group_needs_its_own_bar() -> None:
    """A reported member's sighting at a station where none of its co-travellers was seen
    (their sightings there removed) joins only by a pair reaching
    `extension_alone_probability`; with its co-travellers there, `extension_probability`
    holds it. Either way the rest of the person is reported with the same confidence."""
    held = CarouselParams(extension_probability=0.7)
    planted, _, rows, m = _member_at_three_stations(held)
    s = planted.sightings
    odd = m[np.argmax(s.time[m])]
    emb = s.embedding.copy()
    emb[odd] = _alike_to(emb[m[0]], 0.9)  # pair probabilities 0.996-0.99998
    together = held.together_s / held.travel.time_scale
    fellows = (rows == rows[odd]) & (np.abs(s.time - s.time[odd]) <= together)
    fellows[odd] = False
    strict = replace(held, extension_alone_probability=0.99999)
    for drop, cut in ((np.zeros(len(s), bool), False), (fellows, True)):
        keep = ~drop
        t = Sightings.from_arrays(
            s.track_key[keep], s.camera_id[keep], s.station_id[keep], s.time[keep], emb[keep]
        )
        o = int(np.searchsorted(np.flatnonzero(keep), odd))
        before = detect_carousels(t, planted.stations, held)
        after = detect_carousels(t, planted.stations, strict)
        b, a = before.reported_person(), after.reported_person()
        assert b[o] >= 0
        assert (a[o] == -1) == cut
        assert np.flatnonzero(a != b).tolist() == ([o] if cut else [])
        conf = {f.person_key: f.confidence for f in before.findings}
        assert all(f.confidence == conf[f.person_key] for f in after.findings)


def test_groups_that_vote_together_lose_nothing_to_the_alone_bar() -> None:
    """Planted groups vote together at every station: no reported sighting lacks its
    co-travellers, so `extension_alone_probability` changes nothing."""
    planted = make_planted_set(n_sightings=1500, n_stations=20, n_groups=6, noise=0.42, seed=9)
    held = CarouselParams(extension_probability=0.7)
    base = detect_carousels(planted.sightings, planted.stations, held)
    alone = detect_carousels(
        planted.sightings, planted.stations, replace(held, extension_alone_probability=0.99999)
    )
    assert len(base.reported) > 10
    assert np.array_equal(base.reported_person(), alone.reported_person())
