"""The carousel evaluation labels a sighting with the person its crops show (truth's box stays)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwatch.carousel.voters import SIDE_TRACK
from pollwatch.evaluate.carousel_metrics import (
    AMBIGUOUS,
    box_stays,
    carousel_scores,
    label_by_box,
    label_sightings,
)
from pollwatch.evaluate.truthview import CarouselTruth


def _truth(rows: list[tuple[str, str, float, float, float]]) -> dict[str, pd.DataFrame]:
    """Truth tables as the simulator writes them: per (camera, person, box arrival, box
    departure, room entry) a visit, an entrance stop and a box stop."""
    stops, visits = [], []
    for cam, pid, arrive, leave, enter in rows:
        stops += [(cam, pid, 1, "entrance", enter, enter), (cam, pid, 2, "box", arrive, leave)]
        visits.append((cam, pid, enter))
    return {
        "stops": pd.DataFrame(
            stops, columns=["camera_id", "person_id", "seq", "place", "arrive_s", "leave_s"]
        ),
        "visits": pd.DataFrame(visits, columns=["camera_id", "person_id", "enter_s"]),
    }


def _drops(rows: list[tuple[str, str, float, str, str]]) -> pd.DataFrame:
    """Voters' drops (camera, station, time, person, group)."""
    return pd.DataFrame(rows, columns=["camera_id", "station_id", "t_s", "person_id", "group_id"])


def _sighting(cam: str, start: float, end: float, step: float = 0.5) -> dict[str, object]:
    times = list(np.round(np.arange(start, end + 1e-9, step), 3))
    return {"camera_id": cam, "t_s": float(np.median(times)), "crop_times": times}


# a bystander b (entered first) and a member m step up to the box 1-2 s apart and stand
# there together; the painter draws the later comer in front (demo 42, D001-010 at 128 s)
TWO = [("C1", "b", 127.6, 131.2, 100.3), ("C1", "m", 127.5, 131.7, 102.1)]


@pytest.mark.parametrize(
    ("stays", "crops", "expected"),
    [
        (TWO, (127.3, 129.3), "m"),  # m in front from 127.6 on; b's drop is nearer the median
        (TWO, (131.3, 131.7), "m"),  # b has left
        ([("C1", "a", 10.0, 14.0, 1.0)], (10.0, 13.0), "a"),
        ([("C1", "a", 10.0, 14.0, 1.0)], (20.0, 23.0), ""),  # nobody at the box: a passer-by
        # a at the box in 3 of 9 crops and stepping away in 1: mostly nobody
        ([("C1", "a", 10.0, 14.0, 1.0)], (13.0, 17.0), AMBIGUOUS),
        # a then c, each in front for half of the crops: two people
        ([("C1", "a", 10.0, 12.0, 1.0), ("C1", "c", 12.1, 15.0, 2.0)], (10.0, 14.0), AMBIGUOUS),
        ([("C2", "a", 10.0, 14.0, 1.0)], (10.0, 13.0), ""),  # the stay is on another camera
    ],
)
def test_label_by_box(
    stays: list[tuple[str, str, float, float, float]],
    crops: tuple[float, float],
    expected: str,
) -> None:
    sightings = pd.DataFrame([_sighting("C1", *crops)])
    assert label_by_box(sightings, box_stays(_truth(stays))).tolist() == [expected]


#: a stay at the box placed: camera, person, arrive, leave, enter, place
PlacedStay = tuple[str, str, float, float, float, str]


def _placed_truth(stays: list[PlacedStay]) -> dict[str, pd.DataFrame]:
    """`_truth` with each box stay at its own place (the last item of each stay)."""
    truth = _truth([r[:5] for r in stays])
    places = iter(r[5] for r in stays)
    stops = truth["stops"]
    stops.loc[stops["place"] == "box", "place"] = [next(places) for _ in range(len(stays))]
    return truth


# since session 8 a second voter stands at the box's side: the slot crop shows the one on the
# box's own spot, whoever entered last
SIDE = [("C1", "b", 10.0, 14.0, 5.0, "box"), ("C1", "s", 11.0, 15.0, 8.0, "box_side")]


@pytest.mark.parametrize(
    ("stays", "crops", "expected"),
    [
        (SIDE, (10.0, 14.0), "b"),  # s entered later, but stands beside the box
        (SIDE, (14.5, 15.0), "s"),  # b has left: only s is there
        (SIDE, (12.0, 15.0), AMBIGUOUS),  # b, then s alone for 2 of 7 crops
        ([("C1", "s", 10.0, 14.0, 8.0, "box_side")], (10.0, 13.0), "s"),
        ([("C1", "s", 10.0, 14.0, 8.0, "queue")], (10.0, 13.0), ""),  # not at the box
    ],
)
def test_label_by_box_prefers_the_box_spot(
    stays: list[PlacedStay], crops: tuple[float, float], expected: str
) -> None:
    truth = _placed_truth(stays)
    sightings = pd.DataFrame([_sighting("C1", *crops)])
    assert label_by_box(sightings, box_stays(truth)).tolist() == [expected]


@pytest.mark.parametrize(
    ("stays", "crops", "expected"),
    [
        (SIDE, (11.0, 14.0), "s"),  # b on the box's spot, s beside it: the side crop shows s
        (SIDE, (9.0, 10.0), ""),  # nobody beside the box yet
        ([("C1", "b", 10.0, 14.0, 5.0, "box")], (10.0, 13.0), ""),  # the box voter is not in it
    ],
)
def test_side_sightings_show_the_side_place(
    stays: list[PlacedStay], crops: tuple[float, float], expected: str
) -> None:
    truth = _placed_truth(stays)
    side = {**_sighting("C1", *crops), "track_id": SIDE_TRACK}
    slot = {**_sighting("C1", *crops), "track_id": -1}
    got = label_by_box(pd.DataFrame([side, slot]), box_stays(truth)).tolist()
    assert got[0] == expected
    assert got[1] == label_by_box(pd.DataFrame([_sighting("C1", *crops)]), box_stays(truth))[0]


def test_nearest_drop_labels_the_bystander() -> None:
    """Why the labels changed: b's drop (128.9 s) is nearer the member's crops than m's own."""
    sightings = pd.DataFrame([_sighting("C1", 127.3, 129.3)])
    drops = pd.DataFrame(
        {"camera_id": ["C1", "C1"], "t_s": [128.9, 130.2], "person_id": ["b", "m"]}
    )
    assert label_sightings(sightings, drops).tolist() == ["b"]
    assert label_by_box(sightings, box_stays(_truth(TWO))).tolist() == ["m"]


TRAVELS = [*TWO, ("C2", "m", 300.0, 304.0, 290.0), ("C3", "b", 50.0, 54.0, 40.0)]


def _scores(stays: pd.DataFrame | None) -> dict[str, object]:
    """m travels from C1 (standing with bystander b) to C2, b from C3 to C1; the detector
    links the C1 and C2 sightings and leaves C3's alone."""
    drops = _drops(
        [
            ("C1", "S1", 128.9, "b", ""),
            ("C1", "S1", 130.2, "m", "g"),
            ("C2", "S2", 302.0, "m", "g"),
            ("C3", "S3", 52.0, "b", ""),
        ]
    )
    sightings = pd.DataFrame(
        [
            _sighting("C1", 127.3, 129.3),
            _sighting("C2", 300.0, 303.0),
            _sighting("C3", 50.0, 53.0),
        ]
    ).assign(track_key=["k1", "k2", "k3"], station_id=["S1", "S2", "S3"])
    visits = pd.DataFrame(
        {"person_key": ["P1", "P1"], "track_key": ["k1", "k2"], "station_id": ["S1", "S2"]}
    )
    empty = pd.DataFrame(columns=["group_id", "station_id", "camera_id"])
    return carousel_scores(sightings, visits, CarouselTruth(drops, empty), stays)


def test_scores_count_the_member_the_crops_show() -> None:
    before = _scores(None)  # nearest drop: k1 is b's, the reported pair is wrong
    assert before["labels"] == "drop"
    assert before["pairs"]["precision"] == 0.0 and before["pairs"]["found"] == 0
    after = _scores(box_stays(_truth(TRAVELS)))
    assert after["labels"] == "box"
    assert after["pairs"]["precision"] == 1.0 and after["pairs"]["recall"] == 0.5
    assert (after["pairs"]["true"], after["pairs"]["found"]) == (2, 1)  # m C1-C2; b C1-C3 missed


def test_ambiguous_sightings_are_left_out() -> None:
    stays = box_stays(_truth([("C1", "a", 10.0, 12.0, 1.0), ("C1", "c", 12.1, 15.0, 2.0)]))
    stays = pd.concat([stays, box_stays(_truth([("C2", "a", 50.0, 54.0, 40.0)]))])
    drops = _drops(
        [("C1", "S1", 11.0, "a", ""), ("C1", "S1", 13.0, "c", ""), ("C2", "S2", 52.0, "a", "")]
    )
    sightings = pd.DataFrame([_sighting("C1", 10.0, 14.0), _sighting("C2", 50.0, 53.0)]).assign(
        track_key=["k1", "k2"], station_id=["S1", "S2"]
    )
    visits = pd.DataFrame(
        {"person_key": ["P1", "P1"], "track_key": ["k1", "k2"], "station_id": ["S1", "S2"]}
    )
    empty = pd.DataFrame(columns=["group_id", "station_id", "camera_id"])
    scores = carousel_scores(sightings, visits, CarouselTruth(drops, empty), stays)
    assert scores["sightings_ambiguous"] == 1
    assert scores["pairs"]["reported"] == 0 and scores["pairs"]["ambiguous"] == 1
    assert scores["pairs"]["true"] == 0 and scores["pairs"]["true_ambiguous"] == 1


@pytest.mark.parametrize(
    "truth",
    [{}, {"stops": pd.DataFrame({"camera_id": ["C1"]})}, {"stops": "not a table"}],
)
def test_box_stays_without_stops_is_empty(truth: dict[str, object]) -> None:
    assert box_stays(truth).empty
