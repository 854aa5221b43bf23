"""The light at a camera's ballot box, read from the box's stand in the empty view."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from pollwatch.carousel.light import MAX_FACTOR, STAND_LEVEL, light_factor, stand_level
from pollwatch.carousel.voters import CropPool, TrackCrops, VoterCrops, VoterPart
from pollwatch.reid import get_embedder_by_name
from pollwatch.store import Camera
from pollwatch.video import TrackingResult

BOX = np.array([[100.0, 60.0], [160.0, 60.0], [160.0, 120.0], [100.0, 120.0]])


def _view(stand: tuple[int, int, int], floor_pattern: bool = False) -> np.ndarray:
    """A 200×260 empty view: a floor (a tiled pattern or plain), the box's stand below it."""
    view = np.full((200, 260, 3), (60, 90, 130), np.uint8)
    if floor_pattern:
        view[::4] = (200, 220, 240)
    view[120:180, 105:155] = stand  # the stand under the box (rows 124-138 are read)
    return view


@pytest.mark.parametrize(
    ("stand", "expected"),
    [
        ((88, 92, 98), 0.114 * 88 + 0.587 * 92 + 0.299 * 98),  # BT.601 luma of the grey
        ((70, 73, 78), 0.114 * 70 + 0.587 * 73 + 0.299 * 78),
    ],
)
def test_stand_level_is_the_luma_below_the_box(stand: tuple, expected: float) -> None:
    assert stand_level(_view(stand), BOX) == pytest.approx(expected, abs=0.5)


def test_no_level_where_the_stand_cannot_be_read() -> None:
    assert stand_level(None, BOX) is None
    assert stand_level(_view((88, 92, 98)), None) is None
    low = BOX + np.array([0.0, 75.0])  # the box at the picture's bottom: no stand in view
    assert stand_level(_view((88, 92, 98)), low) is None
    patterned = _view((88, 92, 98))
    patterned[120:180:3, 105:155] = (230, 230, 230)  # the floor's tiles, not a plain stand
    assert stand_level(patterned, BOX) is None


@pytest.mark.parametrize(
    ("background", "box", "match"),
    [
        (np.zeros((10, 10), np.uint8), BOX, "background"),
        (np.zeros((10, 10, 3), np.uint8), np.zeros((0, 2)), "box"),
    ],
)
def test_stand_level_rejects(background: np.ndarray, box: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        stand_level(background, box)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (None, 1.0),
        (STAND_LEVEL, 1.0),
        (STAND_LEVEL / 1.2, 1.2),
        (STAND_LEVEL * 1.2, 1 / 1.2),
        (STAND_LEVEL / (MAX_FACTOR + 0.1), 1.0),  # not the stand (a board hiding the box)
        (110.8, 1.0),  # no box in the empty view: the floor's grey tiles
        (217.0, 1.0),
    ],
)
def test_light_factor(level: float | None, expected: float) -> None:
    assert light_factor(level) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"reference": 0.0}, "reference"), ({"max_factor": 0.5}, "max_factor")]
)
def test_light_factor_rejects(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        light_factor(70.0, **kwargs)


def _one_voter(gain: float) -> TrackCrops:
    """One voter (hair, a light grey shirt) at the box for 4 s under `gain`'s light."""
    rng = np.random.default_rng(int(gain * 100))
    crops = []
    for _ in range(8):
        crop = np.full((30, 14, 3), (200, 200, 200), np.float64)
        crop[:8] = (25, 25, 30)
        crop = crop * gain + rng.integers(-4, 5, crop.shape)
        crops.append(np.clip(crop, 0, 255).astype(np.uint8))
    times = tuple(10.0 + 0.5 * k for k in range(8))
    masks = tuple(np.ones((30, 14), np.uint8) for _ in crops)
    tracking = TrackingResult((), frames=0, source_scale=1.0)
    return TrackCrops(tracking, {}, {}, CropPool(times, tuple(crops), masks))


@pytest.mark.parametrize(("reference", "alike"), [(None, False), (STAND_LEVEL, True)])
def test_voters_under_two_lights_match_once_brought_to_one(
    reference: float | None, alike: bool
) -> None:
    """One voter on two cameras whose light differs by a quarter (the stand and the voter
    alike): as taken, his shirt's lightness differs by 38 Lab units (206, 168) and the descriptor
    tells two people; with `light_reference` both are brought to one light."""
    embedder = get_embedder_by_name("parts")
    rows = []
    for k, gain in enumerate((1.0, 0.8)):
        camera = Camera(f"cam-{k}", f"st-{k}", f"cam-{k}.mp4", datetime(2025, 3, 9, 8, tzinfo=UTC))
        stand = np.clip(np.array([88, 92, 98]) * gain, 0, 255).astype(np.uint8)
        crops = VoterCrops(background=_view(tuple(int(v) for v in stand)), box=BOX)
        part = VoterPart(camera, embedder, crops, light_reference=reference)
        (row,) = part._visit_sightings(_one_voter(gain))
        rows.append(np.asarray(row["embedding"]))
    cosine = float(rows[0] @ rows[1])
    assert (cosine > 0.9) == alike, cosine
    assert (cosine < 0.5) == (not alike), cosine


def test_light_reference_checked() -> None:
    camera = Camera("cam-1", "st-1", "cam-1.mp4", datetime(2025, 3, 9, 8, tzinfo=UTC))
    with pytest.raises(ValueError, match="light_reference"):
        VoterPart(camera, get_embedder_by_name("parts"), light_reference=0.0)
