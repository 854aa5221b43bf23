"""The carousel video part's pieces: crops kept per track, drops given to the track at the box."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from pollwatch.carousel.voters import (
    SIDE_TRACK,
    CropPool,
    TrackCrops,
    VoterCrops,
    VoterPart,
    _overlap_share,
    _visits,
    drop_tracks,
)
from pollwatch.reid import get_embedder_by_name
from pollwatch.store import Camera
from pollwatch.video import Frame, PersonTracker, Track, TrackingResult

BOX = np.array([[100.0, 100.0], [140.0, 100.0], [140.0, 140.0], [100.0, 140.0]])


def _track(tid: int, times: list[float], x0: float) -> Track:
    boxes = np.array([[x0, 60.0, x0 + 30.0, 150.0]] * len(times), np.float32)
    return Track(tid, np.asarray(times, float), boxes, np.ones(len(times), np.float32))


@pytest.mark.parametrize(
    ("drops", "expected"),
    [
        ([5.0], [1]),  # track 1 stands in front of the box at 5 s, track 2 is far away
        ([20.0], [4]),  # only track 4 exists then, and it is at the box
        ([50.0], [-1]),  # nobody at all
        ([35.0], [-1]),  # track 3 is present but far from the box
        ([5.0, 20.0], [1, 4]),
    ],
)
def test_drop_tracks(drops: list[float], expected: list[int]) -> None:
    tracking = TrackingResult(
        (
            _track(6, [3.0, 4.0, 5.0, 6.0], 85.0),  # at the box too, but beside its slot
            _track(1, [3.0, 4.0, 5.0, 6.0], 105.0),
            _track(2, [4.0, 5.0], 400.0),
            _track(4, [19.0, 20.0], 120.0),
            _track(3, [34.0, 35.0], 500.0),
        ),
        frames=100,
        source_scale=1.0,
    )
    assert drop_tracks(tracking, np.asarray(drops), BOX).tolist() == expected


def test_drop_tracks_needs_a_polygon() -> None:
    tracking = TrackingResult((), frames=0, source_scale=1.0)
    with pytest.raises(ValueError, match="box_polygon"):
        drop_tracks(tracking, np.array([1.0]), np.zeros((0, 2)))


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        ([[0, 0, 10, 10]], [0.0]),
        ([[0, 0, 10, 10], [20, 20, 30, 30]], [0.0, 0.0]),
        ([[0, 0, 10, 10], [5, 0, 15, 10]], [0.5, 0.5]),
        ([[0, 0, 10, 10], [0, 0, 20, 20]], [1.0, 0.25]),
    ],
)
def test_overlap_share(boxes: list[list[float]], expected: list[float]) -> None:
    assert np.allclose(_overlap_share(np.asarray(boxes, float)), expected)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fps": 0}, "fps"),
        ({"max_crops": 1}, "max_crops"),
        ({"every_s": 0}, "every_s"),
        ({"crop_height": 8}, "crop_height"),
        ({"min_height_px": 0}, "min_height_px"),
        ({"max_overlap": 1.5}, "max_overlap"),
        ({"tracker": "background"}, "tracker"),
        ({"slot_every_s": 0}, "slot_every_s"),
        ({"slot_crops": 1}, "slot_crops"),
        ({"slot_margin": 2.0}, "slot_margin"),
        ({"side_width": 0.0}, "side_width"),
        ({"side_offset": 0.3, "side_width": 0.8}, "side_offset"),
        ({"side_reach": 1.5}, "side_reach"),
        ({"side_fill": 0.0}, "side_fill"),
        ({"side_fill": 1.5}, "side_fill"),
        ({"trim_centre": 0.0}, "trim_centre"),
        ({"trim_centre": 1.2}, "trim_centre"),
        ({"slot_min_share": 0.0}, "slot_min_share"),
        ({"slot_min_share": 0.95}, "slot_min_share"),
    ],
)
def test_voter_crops_rejects(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        VoterCrops(**kwargs)


def _scene(x: int) -> np.ndarray:
    img = np.full((180, 320, 3), 200, np.uint8)
    img[40:150, x : x + 30] = (40, 40, 180)  # a red figure walking right
    img[40:60, x + 8 : x + 22] = (120, 150, 200)
    return img


def test_crops_are_few_small_and_spread() -> None:
    crops = VoterCrops(
        PersonTracker(fps=10.0, min_hits=1, activation=0.1), max_crops=4, every_s=0.2
    )
    for k in range(60):
        x = 20 + 4 * k if k >= 10 else None
        img = _scene(x) if x is not None and x < 280 else np.full((180, 320, 3), 200, np.uint8)
        crops.update(Frame.from_image(img, index=k, pts_s=k / 10))
    kept = crops.result()
    assert kept.away and not kept.near, "the walking figure was cropped (no box: all away)"
    for pool in kept.away.values():
        assert 1 <= len(pool.crops) <= 4
        assert all(c.shape[0] <= 64 and c.shape[2] == 3 for c in pool.crops)
        assert list(pool.times) == sorted(pool.times)
    longest = max(kept.away.values(), key=lambda p: len(p.times)).times
    assert longest[-1] - longest[0] >= 1.5  # spread over the track, not its first frames
    red = max(kept.away.values(), key=lambda p: len(p.crops)).crops[0]
    mid = red[red.shape[0] // 2, red.shape[1] // 2].astype(int)
    assert mid[2] > mid[0] + 60  # the crop shows the red shirt, in BGR


@pytest.mark.parametrize(("with_background", "masked"), [(True, True), (False, False)])
def test_masks_from_the_empty_view(with_background: bool, masked: bool) -> None:
    empty = np.full((180, 320, 3), 200, np.uint8)
    crops = VoterCrops(
        PersonTracker(fps=10.0, min_hits=1, activation=0.1),
        every_s=0.2,
        background=empty if with_background else None,
    )
    for k in range(40):
        img = _scene(20 + 5 * k) if 10 <= k < 50 else empty
        crops.update(Frame.from_image(img, index=k, pts_s=k / 10))
    kept = crops.result()
    tid = max(kept.away, key=lambda t: len(kept.away[t].crops))
    images, masks = kept.pool(tid, near=False).usable()
    assert (masks is not None) == masked
    if masks is not None:
        for image, mask in zip(images, masks, strict=True):
            assert mask.shape == image.shape[:2]
            person = image[mask > 0].astype(int)
            assert np.mean(np.abs(person - 200).max(axis=1) > 30) > 0.9  # not the wall


def test_crops_near_the_box_go_to_their_own_pool() -> None:
    box = np.array([[260.0, 100.0], [300.0, 100.0], [300.0, 140.0], [260.0, 140.0]])
    crops = VoterCrops(
        PersonTracker(fps=10.0, min_hits=1, activation=0.1), every_s=0.2, box=box, max_crops=3
    )
    for k in range(60):
        img = _scene(20 + 4 * k) if 10 <= k < 70 else np.full((180, 320, 3), 200, np.uint8)
        crops.update(Frame.from_image(img, index=k, pts_s=k / 10))
    kept = crops.result()
    near = [t for p in kept.near.values() for t in p.times]
    away = [t for p in kept.away.values() for t in p.times]
    assert near and away
    # the figure walks towards the box: first away from it, then near it
    assert max(away) < min(near)
    assert 20 + 40 * min(near) + 30 >= 260 - 0.75 * 110 - 10


@pytest.mark.parametrize(
    ("times", "owners", "expected"),
    [
        ([10.0], [3], [(3, 10.0, 1, True)]),
        ([10.0, 11.0], [3, 3], [(3, 10.0, 2, True)]),  # one voter's two drops
        ([10.0, 20.0], [3, 3], [(3, 10.0, 1, False), (3, 20.0, 1, False)]),  # a queue
        ([10.0, 20.0, 30.0], [3, -1, 4], [(3, 10.0, 1, True), (4, 30.0, 1, True)]),
        ([], [], []),
    ],
)
def test_visits(times: list[float], owners: list[int], expected: list[tuple]) -> None:
    got = _visits(np.asarray(times, float), np.asarray(owners, np.int64), 2.5)
    assert got == expected


def test_slot_crops_show_the_voter_above_the_box() -> None:
    box = np.array([[250.0, 110.0], [300.0, 110.0], [300.0, 160.0], [250.0, 160.0]])
    empty = np.full((180, 320, 3), 200, np.uint8)
    crops = VoterCrops(
        PersonTracker(fps=10.0, min_hits=1, activation=0.1), box=box, background=empty
    )
    for k in range(60):  # walks to the box, then stands behind it
        img = _scene(min(20 + 8 * k, 262)) if k >= 5 else empty
        crops.update(Frame.from_image(img, index=k, pts_s=k / 10))
    slot = crops.result().slot
    assert len(slot.crops) >= 5
    assert np.all(np.diff(slot.times) >= 0.25 - 1e-9)  # at most one per slot_every_s
    for crop, mask in zip(slot.crops, slot.masks, strict=True):
        assert mask is not None and mask.shape == crop.shape[:2]
        assert crop.shape[0] <= (110 - 40) // 2 + 1  # from the head down to the lid only
        shirt = crop[mask > 0].astype(int)
        assert np.mean(shirt[:, 2] > shirt[:, 0] + 60) > 0.5  # mostly the red shirt
    assert crops.result().nbytes() > 0


@pytest.mark.parametrize(
    ("trim_centre", "first_row", "rows"),
    [
        (None, 0, 40),  # the edge blob above the head starts the crop
        (0.6, 12, 28),  # the person's head in the central columns starts it
        (1.0, 0, 40),  # every column: the blob's 4 of 20 columns are 20% of a row
        (0.6, None, 6),  # too few of the person's rows: no crop
    ],
)
def test_slot_crop_starts_at_the_persons_head(
    trim_centre: float | None, first_row: int | None, rows: int
) -> None:
    """A mask (20 columns) with a blob at the left edge in rows 0-5 (a passer-by or the
    commission moving above the voter) and the voter's head (columns 7-12) and torso below:
    with `trim_centre` 0.6 the crop starts at the head, the first row showing the person in
    its central 12 columns (session 12: demo 128's m1 at cam-D002-011, whose crops started
    at the blob and whose head band was empty)."""
    mask = np.zeros((40, 20), np.uint8)
    mask[0:6, 0:4] = 1
    if first_row is None:
        mask[34:40, 7:13] = 1
    else:
        mask[12:20, 7:13] = 1
        mask[20:40, 3:17] = 1
    crop = np.arange(40 * 20 * 3, dtype=np.int64).reshape(40, 20, 3).astype(np.uint8)
    got = VoterCrops(trim_centre=trim_centre).trimmed(crop, mask)
    if first_row is None:
        assert got is None
        return
    assert got is not None
    assert got[0].shape[:2] == got[1].shape == (rows, 20)
    assert np.array_equal(got[0], crop[first_row:]) and np.array_equal(got[1], mask[first_row:])


def _camera() -> Camera:
    return Camera("cam-1", "st-1", "cam-1.mp4", datetime(2025, 3, 9, 8, tzinfo=UTC))


def _slot_pool(times: list[float], colours: list[tuple[int, int, int]]) -> TrackCrops:
    crops = tuple(_noisy([np.full((30, 14, 3), c, np.uint8) for c in colours]))
    masks = tuple(np.ones((30, 14), np.uint8) for _ in colours)
    tracking = TrackingResult((), frames=0, source_scale=1.0)
    return TrackCrops(tracking, {}, {}, CropPool(tuple(times), crops, masks))


def test_slot_sightings_do_not_share_crops() -> None:
    red, blue = (40, 40, 180), (180, 60, 40)
    times = [9.0, 9.5, 10.0, 10.5, 11.0, 11.5, 12.0, 12.5]
    kept = _slot_pool(times, [red] * 4 + [blue] * 4)
    part = VoterPart(_camera(), get_embedder_by_name("parts"), source="slot")
    rows = part._sightings(kept, np.array([10.0, 12.0, 30.0]), np.full(3, -1))
    assert [r["t_s"] for r in rows] == [10.0, 12.0]  # nothing seen at 30 s
    # 1.5 s before to 0.5 s after each drop, but split halfway between them (10.5 s is red)
    assert [r["crops"] for r in rows] == [4, 4]
    first, second = (np.asarray(r["embedding"]) for r in rows)
    assert float(first @ second) < 0.2
    assert rows[0]["track_key"] == "cam-1/slot@10.0" and rows[0]["track_id"] == -1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"source": "face"}, "source"),
        ({"merge_gap_s": -1.0}, "merge_gap_s"),
        ({"merge_alike": 1.5}, "merge_alike"),
        ({"fold_alike": -2.0}, "fold_alike"),
        ({"anchor_s": -1.0}, "anchor_s"),
    ],
)
def test_voter_part_arguments_checked(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        VoterPart(_camera(), get_embedder_by_name("parts"), **kwargs)


def test_visit_sightings_split_a_run_into_people_without_drops() -> None:
    red, blue, green = (40, 40, 180), (180, 60, 40), (60, 160, 60)
    times = [10.0 + 0.5 * k for k in range(16)] + [40.0, 40.5]  # then a passer-by
    kept = _slot_pool(times, [red] * 8 + [blue] * 8 + [green] * 2)
    part = VoterPart(_camera(), get_embedder_by_name("parts"))
    rows = part._visit_sightings(kept)
    assert [r["crops"] for r in rows] == [8, 8]
    assert [r["t_s"] for r in rows] == [11.75, 15.75]  # the middle of each person's crops
    first, second = (np.asarray(r["embedding"]) for r in rows)
    assert float(first @ second) < 0.2


def _noisy(crops: list[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    """The crops with a live camera's noise (no two alike)."""
    rng = np.random.default_rng(seed)
    return [
        np.clip(c.astype(np.int16) + rng.integers(-6, 7, c.shape), 0, 255).astype(np.uint8)
        for c in crops
    ]


def _head_and_shirt(head_rows: int, shirt: tuple[int, int, int]) -> np.ndarray:
    """A 30-row crop: dark hair on top, a bright face below it down to row 7, then the shirt."""
    crop = np.full((30, 14, 3), shirt, np.uint8)
    crop[:8] = (120, 160, 210)  # face
    crop[:head_rows] = (25, 25, 30)  # hair
    return crop


@pytest.mark.parametrize(
    ("second_shirt", "expected_crops"),
    [
        ((40, 40, 180), [16]),  # one voter turning (face, then the back of the head): merged
        ((180, 60, 40), [8, 8]),  # another voter with another shirt: apart
    ],
)
def test_visit_pieces_of_one_voter_are_merged(
    second_shirt: tuple[int, int, int], expected_crops: list[int]
) -> None:
    times = [10.0 + 0.5 * k for k in range(16)]
    crops = _noisy([_head_and_shirt(2, (40, 40, 180))] * 8 + [_head_and_shirt(8, second_shirt)] * 8)
    masks = tuple(np.ones((30, 14), np.uint8) for _ in crops)
    kept = TrackCrops(
        TrackingResult((), frames=0, source_scale=1.0),
        {},
        {},
        CropPool(tuple(times), tuple(crops), masks),
    )
    part = VoterPart(_camera(), get_embedder_by_name("parts"))
    rows = part._visit_sightings(kept)
    assert [r["crops"] for r in rows] == expected_crops
    if len(rows) == 1:
        assert rows[0]["t_s"] == pytest.approx(float(np.median(times)))


# frozen: the first frozen frame is a live one, too few for a person of its own
@pytest.mark.parametrize(("frozen", "expected"), [(False, [8, 8]), (True, [9])])
def test_a_frozen_picture_makes_no_sighting(frozen: bool, expected: list[int]) -> None:
    red, blue = (40, 40, 180), (180, 60, 40)
    times = [10.0 + 0.5 * k for k in range(16)]
    rng = np.random.default_rng(0)
    crops = [
        np.clip(
            np.full((30, 14, 3), c, np.int16) + rng.integers(-6, 7, (30, 14, 3)), 0, 255
        ).astype(np.uint8)
        for c in [red] * 8 + [blue] * 8
    ]
    if frozen:  # the picture froze while the second voter was at the box
        crops[8:] = [crops[8]] * 8
    masks = tuple(np.ones((30, 14), np.uint8) for _ in crops)
    kept = TrackCrops(
        TrackingResult((), frames=0, source_scale=1.0),
        {},
        {},
        CropPool(tuple(times), tuple(crops), masks),
    )
    rows = VoterPart(_camera(), get_embedder_by_name("parts"))._visit_sightings(kept)
    assert [r["crops"] for r in rows] == expected


@pytest.mark.parametrize(
    ("drops", "times", "counts"),
    [
        ([11.2, 15.9], [11.2, 15.9], [1, 1]),  # each visit timed at its drop
        ([], [11.75, 15.75], [0, 0]),  # no drop counted: the middle of its crops
        ([30.0], [11.75, 15.75], [0, 0]),  # a drop far away times nobody
        ([13.9, 14.1], [13.9, 14.1], [2, 2]),  # within anchor_s of both: each times one
        ([11.0, 11.5], [11.5, 15.75], [2, 0]),  # two drops in one visit: the nearest
    ],
)
def test_visits_are_timed_at_the_counted_drop(
    drops: list[float], times: list[float], counts: list[int]
) -> None:
    red, blue = (40, 40, 180), (180, 60, 40)
    kept = _slot_pool([10.0 + 0.5 * k for k in range(16)], [red] * 8 + [blue] * 8)
    part = VoterPart(_camera(), get_embedder_by_name("parts"), anchor_s=1.0)
    rows = part._visit_sightings(kept, np.asarray(drops))
    assert [r["t_s"] for r in rows] == pytest.approx(times)
    assert [r["drops"] for r in rows] == counts
    assert rows[0]["track_key"] == f"cam-1/slot@{times[0]:.1f}"


def _unit(cos: float) -> tuple[np.ndarray, np.ndarray]:
    return np.array([1.0, 0.0]), np.array([cos, np.sqrt(1 - cos**2)])


@pytest.mark.parametrize(
    ("cos", "drops", "gap", "fold_alike", "expected"),
    [
        (0.9, [], 0.5, 0.5, True),  # alike as wholes: one voter whatever the counter saw
        (0.6, [11.0], 0.5, 0.5, True),  # one drop, the other piece the voter stepping away
        (0.6, [13.5], 0.5, 0.5, True),  # ... or stepping up
        (0.6, [11.0, 13.5], 0.5, 0.5, False),  # a drop in each: two voters
        (0.6, [], 0.5, 0.5, False),  # no drop: the colours decide (merge_alike)
        (0.4, [11.0], 0.5, 0.5, False),  # not alike enough
        (0.6, [11.0], 0.5, None, False),  # folding off
        (0.6, [11.0], 3.0, 0.5, False),  # too far apart in time
    ],
)
def test_a_piece_without_a_drop_folds_into_its_neighbour(
    cos: float, drops: list[float], gap: float, fold_alike: float | None, expected: bool
) -> None:
    first_times = [10.0, 10.5, 11.0, 11.5, 12.0]
    second_times = [12.0 + gap + 0.5 * k for k in range(5)]
    kept = _slot_pool(first_times + second_times, [(40, 40, 180)] * 10)
    a, b = _unit(cos)
    part = VoterPart(
        _camera(),
        get_embedder_by_name("parts"),
        merge_alike=0.8,
        anchor_s=1.0,
        fold_alike=fold_alike,
    )
    one = part._one_person(
        {"embedding": a},
        {"embedding": b},
        kept.slot,
        np.arange(5),
        np.arange(5, 10),
        np.asarray(drops, np.float64),
    )
    assert one is expected


def test_without_anchoring_the_counter_is_not_read() -> None:
    red, blue = (40, 40, 180), (180, 60, 40)
    kept = _slot_pool([10.0 + 0.5 * k for k in range(16)], [red] * 8 + [blue] * 8)
    rows = VoterPart(_camera(), get_embedder_by_name("parts"))._visit_sightings(
        kept, np.array([11.2, 15.9])
    )
    assert [r["t_s"] for r in rows] == [11.75, 15.75]
    assert [r["drops"] for r in rows] == [0, 0]


def _room(dx: int) -> np.ndarray:
    """An empty room whose camera is panned by `dx` pixels: a wall with a dark door frame."""
    img = np.full((180, 320, 3), 200, np.uint8)
    img[:, 246 + dx : 254 + dx] = (60, 90, 60)
    return img


@pytest.mark.parametrize("follow", [True, False])
def test_slot_crops_follow_a_nudged_view(follow: bool) -> None:
    """After a pan of 60 px the box's later view places the slot column over the box again,
    and the empty view moves with it: the crops show the voter's shirt, not the door frame."""
    box = np.array([[200.0, 110.0], [250.0, 110.0], [250.0, 160.0], [200.0, 160.0]])
    moved = box + np.array([60.0, 0.0])
    crops = VoterCrops(
        PersonTracker(fps=10.0, min_hits=1, activation=0.1),
        box=box,
        background=_room(0),
        views=[(2.0, np.inf, moved)] if follow else [],
    )
    for k in range(80):
        img = _room(60) if k >= 20 else _room(0)
        if k >= 30:  # a voter stands behind the moved box
            img[40:150, 270:300] = (40, 40, 180)
            img[40:60, 278:292] = (120, 150, 200)
        crops.update(Frame.from_image(img, index=k, pts_s=k / 10))
    slot = crops.result().slot
    red, door = [], []
    for crop, mask in zip(slot.crops, slot.masks, strict=True):
        pix = crop[mask > 0].astype(int) if mask.any() else np.zeros((1, 3), int)
        red.append(np.mean(pix[:, 2] > pix[:, 0] + 60))
        door.append(np.mean(np.abs(pix - (60, 90, 60)).max(axis=1) < 20))
    shown = len(red) >= 5 and np.mean(np.asarray(red) > 0.5) > 0.8 and max(door) < 0.05
    assert shown == follow


@pytest.mark.parametrize(
    "views", [[(5.0, 5.0, BOX)], [(5.0, 1.0, BOX)], [(0.0, 9.0, np.zeros((0, 2)))]]
)
def test_voter_crops_rejects_bad_views(views: list) -> None:
    with pytest.raises(ValueError, match="views"):
        VoterCrops(box=BOX, views=views)


@pytest.mark.parametrize(("cos", "expected"), [(0.6, True), (0.4, False)])
def test_pieces_merge_from_the_splitters_alike(cos: float, expected: bool) -> None:
    """By default two neighbouring pieces are one voter's from cosine 0.5 (the kernel value
    below which `slot_visits` splits a run)."""
    kept = _slot_pool([10.0 + 0.5 * k for k in range(10)], [(40, 40, 180)] * 10)
    a, b = _unit(cos)
    part = VoterPart(_camera(), get_embedder_by_name("parts"))
    one = part._one_person(
        {"embedding": a}, {"embedding": b}, kept.slot, np.arange(5), np.arange(5, 10), np.zeros(0)
    )
    assert one is expected


def _side_scene(paint: Callable[[np.ndarray], None], **kwargs: Any) -> TrackCrops:
    """The crops kept (`VoterCrops(**kwargs)`) of 6 s of an empty grey room with a box in the
    middle, `paint` drawing the people in from 0.5 s."""
    box = np.array([[120.0, 110.0], [170.0, 110.0], [170.0, 160.0], [120.0, 160.0]])
    empty = np.full((180, 320, 3), 200, np.uint8)
    crops = VoterCrops(
        PersonTracker(fps=10.0, min_hits=1, activation=0.1), box=box, background=empty, **kwargs
    )
    for k in range(60):
        img = empty.copy()
        if k >= 5:
            paint(img)
        crops.update(Frame.from_image(img, index=k, pts_s=k / 10))
    return crops.result()


def _assert_shirts(pool: CropPool, *, red: bool) -> None:
    """Most of each crop's masked pixels are red (BGR), or blue with `red` False."""
    hi, lo = (2, 0) if red else (0, 2)
    for crop, mask in zip(pool.crops, pool.masks, strict=True):
        shirt = crop[mask > 0].astype(int)
        assert np.mean(shirt[:, hi] > shirt[:, lo] + 60) > 0.5


@pytest.mark.parametrize(
    ("side_top", "side_bottom", "side_crops", "expected"),
    [
        (40, 170, True, True),  # level with the box, beside it: a side crop
        (40, 170, False, False),  # side crops off (the default)
        (20, 130, True, False),  # higher in the picture: waiting behind the box, not beside it
    ],
)
def test_side_crops_show_the_voter_beside_the_box(
    side_top: int, side_bottom: int, side_crops: bool, expected: bool
) -> None:
    """A red voter behind the box, a blue one beside it to the right (one box width): the
    side crops show the blue shirt, the slot crops stay red."""

    def paint(img: np.ndarray) -> None:
        img[40:110, 131:159] = (40, 40, 180)  # above the box's lid: the box hides the rest
        img[40:58, 138:152] = (120, 150, 200)
        img[side_top:side_bottom, 180:210] = (180, 60, 40)
        img[side_top : side_top + 18, 188:202] = (120, 150, 200)

    kept = _side_scene(paint, side_crops=side_crops)
    assert ("right" in kept.sides and len(kept.sides["right"].crops) >= 5) == expected
    assert "left" not in kept.sides  # nobody on the left
    assert len(kept.slot.crops) >= 5  # the red voter at the slot (else the loop checks nothing)
    _assert_shirts(kept.slot, red=True)  # the slot crop: red
    _assert_shirts(kept.sides.get("right", CropPool((), (), ())), red=False)  # the side: blue


@pytest.mark.parametrize(("side_fill", "expected"), [(None, False), (0.5, True), (0.9, False)])
def test_side_fill_keeps_a_side_voter_merged_into_one_blob(
    side_fill: float | None, expected: bool
) -> None:
    """The voter beside the box touches the one at it: the tracker sees one blob that does
    not cover the side column's middle half. With `side_fill` the column is kept while its
    lower half is the voter's (62% of it here), not with a higher share asked or without."""

    def paint(img: np.ndarray) -> None:
        img[40:110, 131:159] = (40, 40, 180)
        img[40:170, 159:200] = (180, 60, 40)  # shoulder to shoulder: one blob

    kept = _side_scene(paint, side_crops=True, side_fill=side_fill)
    assert ("right" in kept.sides and len(kept.sides["right"].crops) >= 5) == expected
    _assert_shirts(kept.sides.get("right", CropPool((), (), ())), red=False)  # the side: blue


@pytest.mark.parametrize(
    ("drops", "expected"),
    [([12.0], 1), ([13.9], 1), ([], 0), ([30.0], 0), ([8.0], 0)],
)
def test_side_sightings_need_a_counted_drop(drops: list[float], expected: int) -> None:
    """A run of side crops is a voter's visit when the counter counted a drop during it (with
    0.5 s of slack); else someone standing beside the box or waiting there."""
    side = _slot_pool([10.0 + 0.5 * k for k in range(8)], [(180, 60, 40)] * 8).slot
    part = VoterPart(_camera(), get_embedder_by_name("parts"))
    rows = part._side_sightings(side, np.asarray(drops, float))
    assert len(rows) == expected
    for row in rows:
        assert row["track_id"] == SIDE_TRACK and row["track_key"] == "cam-1/side@11.8"
