"""The carousel case step on stored sightings, its evaluation block and its report section."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pollwatch.carousel import CSV_COLUMNS
from pollwatch.carousel.calibrate import SimilarityCalibration
from pollwatch.carousel.reliability import null_pvalue, reported_confidence
from pollwatch.carousel.step import carousel_step, seen_rows
from pollwatch.carousel.voters import SIGHTING_COLUMNS
from pollwatch.case import CasePaths
from pollwatch.evaluate.carousel_metrics import carousel_scores, label_sightings, observable_drops
from pollwatch.evaluate.truthview import CarouselTruth, EvaluationError, carousel_truth
from pollwatch.ingest import ingest_case
from pollwatch.report.carousel import carousel_section, group_path
from pollwatch.store import Store

START = datetime.fromisoformat("2024-02-07T08:00:00+04:00")
TRAVELLERS = 4


def _sightings(seed: int, n_plain: int) -> pd.DataFrame:
    """Plain voters at C1/S1 and C2/S2 over 10 s of video, and a group of four voting at S1
    at about 2 s and at S2 at about 7 s (the small case's day is compressed 3600 times).
    Different people's cosines 0 ± 0.05, one person's about 0.997, as the "parts" descriptor's
    on simulated cases (docs/carousel.md)."""
    rng = np.random.default_rng(seed)
    dim = 384
    people = rng.standard_normal((n_plain + TRAVELLERS, dim))
    rows = []

    def add(k: int, person: int, cam: str, t: float) -> None:
        noise = rng.standard_normal(dim) / np.sqrt(dim)
        e = people[person] + 0.05 * noise * np.linalg.norm(people[person])
        e = e / np.linalg.norm(e)
        rows.append(
            {
                "track_key": f"{cam}/{k}",
                "camera_id": cam,
                "station_id": "S1" if cam == "C1" else "S2",
                "t_s": t,
                "time": START + timedelta(seconds=t),
                "track_id": k,
                "drops": 1,
                "crops": 8,
                "halves_similarity": 0.95,
                "embedding": e.astype(np.float32).tolist(),
            }
        )

    for p in range(n_plain):
        add(p, p, "C1" if p % 2 else "C2", float(rng.uniform(0, 10)))
    for j in range(TRAVELLERS):
        add(1000 + j, n_plain + j, "C1", 2.0 + 0.1 * j)
        add(2000 + j, n_plain + j, "C2", 7.0 + 0.1 * j)
    return pd.DataFrame(rows, columns=SIGHTING_COLUMNS)


def _store_sightings(paths: CasePaths, frame: pd.DataFrame) -> None:
    ingest_case(paths.root)
    with Store(paths.db_path) as store:
        for cam, rows in frame.groupby("camera_id"):
            store.write_table("carousel", "sightings", rows, camera_id=str(cam))


def _truth(frame: pd.DataFrame, n_plain: int) -> SimpleNamespace:
    person = [f"v{k}" if k < 1000 else f"car-m{k % 1000}" for k in frame["track_id"].astype(int)]
    drops = pd.DataFrame(
        {
            "camera_id": frame["camera_id"],
            "station_id": frame["station_id"],
            "t_video_s": frame["t_s"],
            "person_id": person,
            "role": ["carousel" if p.startswith("car") else "voter" for p in person],
        }
    )
    persons = pd.DataFrame(
        {"person_id": person, "group_id": ["car" if p.startswith("car") else "" for p in person]}
    ).drop_duplicates("person_id")
    stops = pd.DataFrame(
        {"group_id": ["car", "car"], "station_id": ["S1", "S2"], "camera_id": ["C1", "C2"]}
    )
    return SimpleNamespace(drops=drops, persons=persons, carousels=stops)


@pytest.mark.parametrize("seed", [1, 2])
def test_step_finds_the_group(small_case: CasePaths, seed: int) -> None:
    frame = _sightings(seed, n_plain=300)
    _store_sightings(small_case, frame)
    with Store(small_case.db_path) as store:
        result = carousel_step(small_case, store)
        findings = store.findings()
        visits = store.read_table("carousel", "visits")
        section = carousel_section(store, small_case)
    assert result is not None
    found = findings[findings["kind"] == "carousel"]
    assert len(found) == TRAVELLERS
    assert found["p_value"].between(0, 0.05).all()
    assert found["score"].between(0.9, 1).all()
    assert set(visits["track_key"]) == {f"C1/{1000 + j}" for j in range(TRAVELLERS)} | {
        f"C2/{2000 + j}" for j in range(TRAVELLERS)
    }
    assert visits["group_id"].nunique() == 1
    with small_case.out("carousel.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 2 * TRAVELLERS
    scores = carousel_scores(frame, visits, carousel_truth(_truth(frame, 300)))
    assert scores["pairs"]["recall"] == 1.0 and scores["pairs"]["precision"] == 1.0
    assert scores["groups"]["recovered"] == 1
    assert scores["clean_stations"]["stations"] == 0  # both stations had the group
    assert section is not None and len(section.plots) == 2


def test_step_without_sightings(small_case: CasePaths) -> None:
    ingest_case(small_case.root)
    with Store(small_case.db_path) as store:
        assert carousel_step(small_case, store) is None
        assert store.read_table("carousel", "visits").empty
        section = carousel_section(store, small_case)
    assert small_case.out("carousel.csv").read_text().strip() == ",".join(CSV_COLUMNS)
    assert section is not None and "No carousel" in section.html


def test_no_group_no_finding(small_case: CasePaths) -> None:
    frame = _sightings(3, n_plain=300)
    frame = frame[frame["track_id"] < 1000]
    _store_sightings(small_case, frame)
    with Store(small_case.db_path) as store:
        carousel_step(small_case, store)
        assert store.findings().query("kind == 'carousel'").empty


def _store_blind(paths: CasePaths, camera_id: str, ranges: list[tuple[float, float]]) -> None:
    """The counting tables `camera_observability` reads: `ranges` unobservable (box blocked)."""
    with Store(paths.db_path) as store:
        blind = pd.DataFrame(
            [(a, b, "audit: blocked") for a, b in ranges], columns=["start_s", "end_s", "reason"]
        )
        store.write_table("counting", "unobservable", blind, camera_id=camera_id)
        facts = pd.DataFrame({"recording_end_s": [10.0]})
        store.write_table("counting", "facts", facts, camera_id=camera_id)


@pytest.mark.parametrize(
    ("blind", "crop_times", "found"),
    [
        ([], None, TRAVELLERS),  # nothing hidden
        ([(0.0, 1.0)], None, TRAVELLERS),  # hidden before the group came
        ([(6.5, 8.0)], None, 0),  # the box hidden while the group voted at S2: no sighting
        ([(6.5, 8.0)], [4.0, 5.0, 6.0, 7.0], TRAVELLERS),  # crops mostly while seen: kept
        ([(6.5, 8.0)], [6.0, 7.0, 7.2, 7.4], 0),  # three crops of four hidden
    ],
)
def test_sightings_of_a_hidden_box_are_left_out(
    small_case: CasePaths,
    blind: list[tuple[float, float]],
    crop_times: list[float] | None,
    found: int,
) -> None:
    frame = _sightings(1, n_plain=300)
    if crop_times is not None:
        frame["crop_times"] = [crop_times] * len(frame)
    _store_sightings(small_case, frame)
    _store_blind(small_case, "C2", blind)
    with Store(small_case.db_path) as store:
        kept = seen_rows(store, frame)
        carousel_step(small_case, store)
        findings = store.findings().query("kind == 'carousel'")
    assert len(findings) == found
    c1 = frame["camera_id"].to_numpy() == "C1"
    assert kept[c1].all()  # C1 has no counting tables: every sighting kept


@pytest.mark.parametrize(
    ("sim", "tests", "inflation", "expected"),
    [(0.1, 10, 1.0, 1.0), (0.99, 1, 1.0, None), (0.99, 3, 2.35, None), (0.99, 10**12, 1.0, 1.0)],
)
def test_null_pvalue(sim: float, tests: int, inflation: float, expected: float | None) -> None:
    calib = SimilarityCalibration(0.5, 0.1, 0.1, 0.0, 2.0, 0.2, 0.01, 100, 100, "decoys", "em")
    p = null_pvalue(calib, sim, tests, inflation)
    if expected is None:  # exponential tail: 0.1 · exp(−(atanh(0.99) − 0.5) / 0.1)
        tail = 0.1 * np.exp(-(np.arctanh(0.99) - 0.5) / 0.1)
        assert p == pytest.approx(inflation * tests * tail)
    else:
        assert p == expected
    assert null_pvalue(None, sim, tests) == 1.0


@pytest.mark.parametrize("inflation", [0.5, 0.0, float("nan")])
def test_null_pvalue_rejects_deflation(inflation: float) -> None:
    calib = SimilarityCalibration(0.5, 0.1, 0.1, 0.0, 2.0, 0.2, 0.01, 100, 100, "decoys", "em")
    with pytest.raises(ValueError, match="inflation"):
        null_pvalue(calib, 0.99, 1, inflation)


@pytest.mark.parametrize(
    ("low", "high", "met"),
    [(0.9, 0.999, 1), (0.99, 0.9999, 0), (0.5, 0.99, 2)],
)
def test_reported_confidence_rises_with_the_match(low: float, high: float, met: int) -> None:
    lo, hi = reported_confidence([low, high], met)
    assert 0 < lo < hi < 1
    # co-travellers make a match likelier one person than a lone one (measured: 25/28, 1/42)
    assert reported_confidence(high, met + 1) >= reported_confidence(high, 0)
    assert reported_confidence(0.99, 0) < 0.5 < reported_confidence(0.999, 1)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_reported_confidence_rejects_non_probabilities(bad: float) -> None:
    with pytest.raises(ValueError, match="match_probability"):
        reported_confidence(bad, 1)


def test_label_sightings_one_to_one() -> None:
    sightings = pd.DataFrame({"camera_id": ["C1", "C1", "C2"], "t_s": [10.0, 11.0, 50.0]})
    drops = pd.DataFrame({"camera_id": ["C1", "C1"], "t_s": [10.5, 30.0], "person_id": ["a", "b"]})
    assert label_sightings(sightings, drops).tolist() == ["a", "", ""]


def test_truth_adapter_needs_drops() -> None:
    with pytest.raises(EvaluationError, match="drops"):
        carousel_truth(SimpleNamespace(carousels=pd.DataFrame()))


def test_group_path_orders_stations() -> None:
    visits = pd.DataFrame(
        {
            "station_id": ["B", "A", "B", "A"],
            "person_key": ["P1", "P1", "P2", "P2"],
            "time": pd.to_datetime([5, 1, 6, 2], unit="s", utc=True),
        }
    )
    stations = pd.DataFrame({"station_id": ["A", "B"], "lat": [40.0, 40.1], "lon": [49.0, 49.1]})
    path = group_path(visits, stations)
    assert path["station_id"].tolist() == ["A", "B"]
    assert path["persons"].tolist() == [2, 2]
    assert path["lat"].tolist() == [40.0, 40.1]


@pytest.mark.parametrize(
    ("kind", "label", "expected"),
    [
        ("frozen", "frozen", [True, False, True]),
        ("box_occluded", "box_occluded", [True, False, True]),
        ("turned", "turned_away", [True, False, True]),
        ("defocus", "defocus", [True, True, True]),  # a blurred picture still shows colours
    ],
)
def test_drops_under_a_hiding_condition_are_not_seen(
    kind: str, label: str, expected: list[bool]
) -> None:
    drops = pd.DataFrame({"camera_id": ["C1", "C1", "C2"], "t_s": [5.0, 12.0, 12.0]})
    conditions = pd.DataFrame(
        {"camera_id": ["C1"], "kind": [kind], "label": [label], "start_s": [10.0], "end_s": [20.0]}
    )
    assert observable_drops(drops, {"conditions": conditions}).tolist() == expected


def test_pairs_count_only_visits_seen() -> None:
    # one traveller at S1 (C1), S2 (C2) and S3 (C3); the visit to C3 fell in a frozen picture
    drops = pd.DataFrame(
        {
            "camera_id": ["C1", "C2", "C3"],
            "station_id": ["S1", "S2", "S3"],
            "t_s": [5.0, 5.0, 5.0],
            "person_id": ["a", "a", "a"],
            "group_id": ["g", "g", "g"],
            "observable": [True, True, False],
        }
    )
    truth = CarouselTruth(drops, pd.DataFrame(columns=["group_id", "station_id", "camera_id"]))
    sightings = pd.DataFrame(
        {"track_key": ["k1", "k2"], "camera_id": ["C1", "C2"], "station_id": ["S1", "S2"]}
    ).assign(t_s=5.0)
    visits = pd.DataFrame(
        {"person_key": ["P1", "P1"], "track_key": ["k1", "k2"], "station_id": ["S1", "S2"]}
    )
    scores = carousel_scores(sightings, visits, truth)
    assert scores["pairs"]["true"] == 1 and scores["pairs"]["recall"] == 1.0
    assert scores["pairs_all"] == {"true": 3, "found": 1, "recall": 0.3333, "true_ambiguous": 0}
