"""The watcher's batch: regions copied from the planes as `Frame.ycc_region` reads them, and
measures of stacked samples equal to the same measures taken sample by sample."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from pollwatch.counting.measures import (
    Focus,
    SampleBatch,
    changed_shares,
    fill_heights,
    mean_luma,
    slot_cover,
)
from pollwatch.video.frame import Frame

_W, _H = 64, 48


def _frames(seed: int, kind: str, n: int = 3) -> list[Frame]:
    """Random pictures as YUV 4:2:0 decoder frames ("planes") or BGR images ("image")."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        if kind == "planes":
            raw = av.VideoFrame.from_ndarray(
                rng.integers(0, 256, (_H * 3 // 2, _W), dtype=np.uint8), format="yuv420p"
            )
            out.append(Frame.from_av(raw, index=k, pts_s=k / 10, wall=None))
        else:
            image = rng.integers(0, 256, (_H, _W, 3), dtype=np.uint8)
            out.append(Frame.from_image(image, index=k, pts_s=k / 10))
    return out


@pytest.mark.parametrize("kind", ["planes", "image"])
@pytest.mark.parametrize(
    ("watch", "slot"),
    [
        ((10, 8, 40, 30), (14, 10, 30, 20)),
        ((11, 9, 41, 31), (13, 11, 31, 22)),  # odd corners
        ((0, 0, 64, 48), (0, 0, 64, 11)),  # the whole picture
        ((50, 40, 80, 60), (55, 41, 70, 55)),  # clipped at the picture's edges
    ],
)
def test_batch_reads_what_the_region_readers_read(kind, watch, slot) -> None:
    frames = _frames(1, kind)
    x0, y0, x1, y1 = watch
    rows, cols = min(y1, _H) - y0, min(x1, _W) - x0
    half = (max(1, rows // 2), max(1, cols // 2))
    batch = None
    for frame in frames:
        planes = frame.region_planes(*watch)
        assert not planes.luma.flags.writeable
        batch = batch or SampleBatch(planes, slot, half, capacity=4)
        small_luma = batch.add(planes)
        expected = frame.luma_region(*watch, step=2)[: half[0], : half[1]]
        np.testing.assert_array_equal(small_luma, expected)
        batch.commit(outline_due=False)
    small, luma, slots = batch.stacks()
    for k, frame in enumerate(frames):
        half_region = frame.ycc_region(*watch, step=2)[: half[0], : half[1]]
        np.testing.assert_array_equal(small[k], half_region)
        np.testing.assert_array_equal(luma[k], frame.luma_region(*watch))
        np.testing.assert_array_equal(slots[k], frame.ycc_region(*slot))
    assert batch.count == 3 and not batch.full


def test_measures_of_a_batch_are_those_of_each_sample() -> None:
    rng = np.random.default_rng(7)
    small = rng.integers(0, 256, (5, 12, 16, 3), dtype=np.uint8)
    luma = rng.integers(0, 256, (5, 24, 32), dtype=np.uint8)
    background = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    bottom = (slice(8, 12), slice(4, 10))
    fg, front = changed_shares(small, background, bottom)
    index = np.array([3, 40, 41, 100])
    reference = rng.integers(0, 256, (4, 3), dtype=np.uint8)
    cover = slot_cover(small, index, reference)
    for k in range(5):
        same = cv2.inRange(cv2.absdiff(small[k], background), (0, 0, 0), (18, 18, 18))
        assert fg[k] == np.count_nonzero(same == 0) / same.size
        assert front[k] == np.count_nonzero(same[bottom] == 0) / same[bottom].size
        diff = cv2.absdiff(small[k].reshape(-1, 3)[index], reference)
        assert cover[k] == np.count_nonzero(diff.max(axis=1) > 40) / len(index)
        assert mean_luma(luma)[k] == cv2.mean(luma[k])[0]


@pytest.mark.parametrize(
    ("band", "visible"),
    [
        ((slice(0, 24), slice(10, 20)), True),
        ((slice(0, 7), slice(10, 20)), False),  # too few rows for a pile
        ((slice(0, 24), slice(10, 11)), False),  # too few columns
    ],
)
def test_fill_height_of_a_pile(band, visible: bool) -> None:
    luma = np.full((2, 24, 32), 40, np.uint8)
    luma[:, 15:] = 200  # paper from row 15 down: its top edge 8.5 rows above the bottom
    out = fill_heights(luma, band, None)
    assert out.shape == (2, 4)
    if visible:
        np.testing.assert_allclose(out[:, 0], 8.5)
        np.testing.assert_allclose(out[:, 1], 160.0)
    else:
        assert np.isnan(out[:, 0]).all() and (out[:, 1] == 0).all()


@pytest.mark.parametrize(
    ("floor", "height"),
    [
        (150, np.nan),  # floor above the midpoint (120): the climb reaches the body, not read
        (100, 23 - (18 - 80 / 100)),  # floor below it: the pile's own edge
        (175, 23 - (6 - 55 / 135)),  # floor near the paper's luma: taken for paper (a limit)
    ],
)
def test_fill_edge_needs_paper_below_it(floor: int, height: float) -> None:
    luma = np.full((1, 24, 32), floor, np.uint8)
    luma[:, :6] = 40  # a body behind only the box's upper part (what `above` reads)
    luma[:, 18:] = 200  # the paper pile, from row 18 down
    out = fill_heights(luma, (slice(0, 24), slice(10, 20)), None)
    np.testing.assert_allclose(out[0, 0], height)
    assert out[0, 1] > 0


def _band_of(column: np.ndarray, sigma: float = 0.0, samples: int = 6) -> np.ndarray:
    """A batch of `samples` lumas whose every column is `column`, blurred (Gaussian, `sigma`
    rows and columns, as a defocused lens) when `sigma` > 0."""
    luma = np.repeat(column.astype(np.float32)[:, None], 32, axis=1)
    if sigma > 0:
        luma = cv2.GaussianBlur(luma, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return np.repeat(np.round(luma).astype(np.uint8)[None], samples, axis=0)


def test_a_defocused_pile_is_read_against_its_own_paper(monkeypatch) -> None:
    """A blurred box bottom darkens the band's body row: against that row the midpoint falls
    and the crossing climbs the blurred edge's tail; against the pile's own rows it stays at
    the edge (from row 30 down: 29.5 rows above the bottom)."""
    column = np.full(60, 100.0)
    column[30:48] = 200  # the pile
    column[48:] = 150  # the box's darker bottom, over the body row (52)
    luma, band = _band_of(column, 4.0), (slice(0, 60), slice(8, 24))
    monkeypatch.setattr("pollwatch.counting.measures.PAPER_FROM_PILE", False)
    before = fill_heights(luma, band, None)[0, 0]
    monkeypatch.setattr("pollwatch.counting.measures.PAPER_FROM_PILE", True)
    after = fill_heights(luma, band, None)[0, 0]
    assert before > 29.5 + 2  # 31.9
    assert abs(after - 29.5) < 1 and after < before - 1  # 30.4


def test_a_blurred_pile_over_a_darker_bottom_is_read_at_its_edge(monkeypatch) -> None:
    """The midpoint raised to the pile's own paper (`PAPER_FROM_PILE`) is over a darker strip
    at the box's bottom: the edge is still the pile's (found walking down from the first
    edge), not the strip's."""
    monkeypatch.setattr("pollwatch.counting.measures.PAPER_FROM_PILE", True)
    column = np.full(60, 150.0)
    column[20:49] = 230  # the pile: its edge 39.5 rows above the bottom
    column[49:] = 200  # a darker strip at the bottom, over the body row (52)
    luma, band = _band_of(column, 4.0), (slice(0, 60), slice(8, 24))
    assert abs(fill_heights(luma, band, None)[0, 0] - 39.5) < 1


def test_a_sharp_pile_keeps_the_body_rows_paper(monkeypatch) -> None:
    """`PAPER_FROM_PILE` reads only an edge out of focus: a sharp one (its contrast in one
    row) is read against the body row as without it, to the last bit."""
    column = np.full(60, 150.0)
    column[20:49] = 230
    column[49:] = 185  # darker than the pile: the pile's own paper would move the midpoint
    luma, band = _band_of(column), (slice(0, 60), slice(8, 24))
    monkeypatch.setattr("pollwatch.counting.measures.PAPER_FROM_PILE", False)
    before = fill_heights(luma, band, None)
    monkeypatch.setattr("pollwatch.counting.measures.PAPER_FROM_PILE", True)
    np.testing.assert_array_equal(fill_heights(luma, band, None), before)
    # blurred, the same pile is read against its own paper: lower, nearer its edge (39.5)
    blurred = _band_of(column, 4.0)
    on = fill_heights(blurred, band, None)[0, 0]
    monkeypatch.setattr("pollwatch.counting.measures.PAPER_FROM_PILE", False)
    assert on < fill_heights(blurred, band, None)[0, 0] - 0.3
    # a batch of fewer than five edges is not judged: read as the last batch judged (none:
    # as without it)
    short = _band_of(column, 4.0, samples=4)
    off = fill_heights(short, band, None)
    monkeypatch.setattr("pollwatch.counting.measures.PAPER_FROM_PILE", True)
    np.testing.assert_array_equal(fill_heights(short, band, None), off)
    focus = Focus()
    fill_heights(blurred, band, None, focus)
    assert focus.out_of_focus
    assert fill_heights(short, band, None, focus)[0, 0] == on


def test_a_blurred_edge_under_a_line_is_left_unread(monkeypatch) -> None:
    """`UNDER_LINE_ROWS`: in a batch out of focus, an edge a few rows under one of the box's
    lines is given as on it (`fill_line` 0, not read); off, or sharp, its distance."""
    monkeypatch.setattr("pollwatch.counting.measures.PAPER_FROM_PILE", True)
    column = np.full(60, 100.0)
    column[30:] = 200  # the pile, its edge at row 30
    lines = np.array([27])  # a box line 3 rows above the edge
    band = (slice(0, 60), slice(8, 24))
    blurred, sharp = _band_of(column, 4.0), _band_of(column)
    monkeypatch.setattr("pollwatch.counting.measures.UNDER_LINE_ROWS", 0)
    assert fill_heights(blurred, band, lines)[0, 3] > 1.5
    monkeypatch.setattr("pollwatch.counting.measures.UNDER_LINE_ROWS", 6)
    assert (fill_heights(blurred, band, lines)[:, 3] == 0).all()
    np.testing.assert_allclose(fill_heights(sharp, band, lines)[:, 3], 2.5)
    # a line under the edge (inside the pile) leaves it read
    assert fill_heights(blurred, band, np.array([34]))[0, 3] > 1.5
