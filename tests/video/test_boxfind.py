"""Reading a region of a frame, registering a known box outline, a view from keyframes."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from videoclips import BOX_POLY, PASSER, ClipSpec, iou, room

from pollwatch.video import analyse_video
from pollwatch.video.analyser import Needs
from pollwatch.video.boxfind import (
    first_view,
    fit_polygon,
    keyframe_background,
    lid_above,
    median_image,
    seek_keyframes,
    wireframe_candidates,
)


class _Regions:
    """Keeps each frame's region read both ways."""

    needs = Needs(fps=5.0)

    def __init__(self, box: tuple[int, int, int, int]) -> None:
        self.box, self.pairs, self.halves, self.lumas = box, [], [], []

    def reset(self) -> None:
        self.pairs, self.halves, self.lumas = [], [], []

    def start(self, info) -> None:
        pass

    def on_audio(self, chunk) -> None:
        pass

    def on_gap(self, gap) -> None:
        pass

    def update(self, frame) -> None:
        x0, y0, x1, y1 = self.box
        self.pairs.append((frame.ycc_region(*self.box), frame.ycc(1.0)[y0:y1, x0:x1]))
        self.halves.append((frame.ycc_region(*self.box, step=2), frame.luma_region(*self.box)))
        self.lumas.append(frame.luma_region(*self.box, step=2))

    def result(self) -> list:
        return self.pairs


@pytest.mark.parametrize("box", [(291, 181, 349, 251), (0, 0, 40, 30), (600, 330, 700, 400)])
def test_region_matches_the_full_conversion(make_clip, box) -> None:
    pairs = analyse_video(make_clip(ClipSpec(figures=(PASSER,))), [_Regions(box)]).results[0]
    assert pairs
    for region, full in pairs:
        assert region.shape == full.shape and not region.flags.writeable
        np.testing.assert_array_equal(region[..., 0], full[..., 0])  # luma: the same bytes
        # chroma: nearest neighbour here, interpolated there
        assert np.abs(region[..., 1:].astype(int) - full[..., 1:].astype(int)).mean() < 2.0


@pytest.mark.parametrize(
    "box", [(291, 181, 349, 251), (290, 180, 350, 252), (0, 0, 41, 31), (601, 331, 700, 400)]
)
def test_half_and_luma_regions_are_the_full_region_read_sparsely(make_clip, box) -> None:
    """`ycc_region(step=2)` is every other pixel of the region (chroma straight from the 4:2:0
    planes, odd corners included) and `luma_region` its luma, byte for byte."""
    regions = _Regions(box)
    analyse_video(make_clip(ClipSpec(figures=(PASSER,))), [regions])
    assert regions.halves
    pairs, halves = regions.pairs, regions.halves
    for (region, _), (half, luma), half_luma in zip(pairs, halves, regions.lumas, strict=True):
        assert not half.flags.writeable and not luma.flags.writeable
        np.testing.assert_array_equal(half, region[::2, ::2])
        np.testing.assert_array_equal(luma, region[..., 0])
        np.testing.assert_array_equal(half_luma, region[::2, ::2, 0])
        # what a nearest-neighbour halving picks, as the box watcher reads it
        size = (region.shape[1] // 2, region.shape[0] // 2)
        halved = cv2.resize(region, size, interpolation=cv2.INTER_NEAREST)
        np.testing.assert_array_equal(half[: size[1], : size[0]], halved)


@pytest.mark.parametrize("step", [0, 3])
def test_region_step_checked(make_clip, step: int) -> None:
    class _Asks(_Regions):
        def update(self, frame) -> None:
            frame.ycc_region(*self.box, step=step)

    class _AsksLuma(_Regions):
        def update(self, frame) -> None:
            frame.luma_region(*self.box, step=step)

    with pytest.raises(ValueError, match="step"):
        analyse_video(make_clip(ClipSpec(seconds=0.5)), [_AsksLuma((0, 0, 10, 10))])

    with pytest.raises(ValueError, match="step"):
        analyse_video(make_clip(ClipSpec(seconds=0.5)), [_Asks((0, 0, 10, 10))])


def _wire_box(img: np.ndarray, x: int, y: int) -> None:
    """A transparent box seen from above: near face, top face, thin bright edges."""
    cv2.rectangle(img, (x, y + 30), (x + 70, y + 100), (240, 240, 240), 1)
    pts = np.array([[x, y + 30], [x + 6, y], [x + 64, y], [x + 70, y + 30]], np.int32)
    cv2.polylines(img, [pts], False, (240, 240, 240), 1)


@pytest.mark.parametrize(("dx", "dy"), [(0, 0), (-34, 8), (25, -12)])
def test_fit_polygon_finds_a_moved_box(dx: int, dy: int) -> None:
    intended = np.array([[280, 180], [286, 150], [344, 150], [350, 180], [350, 250], [280, 250]])
    img = room(box=False)
    _wire_box(img, 280 + dx, 150 + dy)
    fit = fit_polygon(img, intended, search=60)
    assert fit is not None and fit.confidence > 0.2
    assert (fit.dx, fit.dy) == pytest.approx((dx, dy), abs=1)
    wires = wireframe_candidates(img)
    assert wires and wires[0][0] > 0.5
    hull = wires[0][1]
    found = (*hull.min(axis=0), *hull.max(axis=0))
    assert iou(found, (280 + dx, 150 + dy, 350 + dx, 250 + dy)) > 0.7


def test_fit_polygon_arguments() -> None:
    with pytest.raises(ValueError, match="search"):
        fit_polygon(room(), [(0, 0), (5, 0), (5, 5)], search=-1)
    with pytest.raises(ValueError, match="at least 3"):
        fit_polygon(room(), [(0, 0), (5, 0)])
    assert fit_polygon(room(), [(2000, 2000), (2100, 2000), (2100, 2100)], search=5) is None


def test_keyframe_background_removes_a_passer_by(make_clip, tmp_path) -> None:
    path = make_clip(ClipSpec(seconds=4.0, figures=(PASSER,), gop=10, audio=False))
    view = keyframe_background(path, count=9)
    assert view is not None and view.shape == (360, 640, 3)
    assert np.abs(view.astype(int) - room().astype(int)).mean() < 3.0
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    assert keyframe_background(bad) is None
    with pytest.raises(ValueError, match="count"):
        keyframe_background(path, count=0)
    x0, y0 = BOX_POLY[0]
    assert view[y0 + 5, x0 + 5].mean() > 120  # the bright box is in the view


def test_seek_keyframes_gives_the_keyframe_at_or_before_each_target(make_clip, tmp_path) -> None:
    path = make_clip(ClipSpec(seconds=4.0, gop=10, audio=False))  # 25 fps: keys every 0.4 s
    frames = list(seek_keyframes(path, lambda d: [0.0, 1.0, d - 0.05, 99.0]))
    times = [round(f.time, 2) for f in frames]
    assert times[:3] == [0.0, 0.8, 3.6] and all(f.key_frame for f in frames)
    assert len(frames) <= 4  # past the end: the last keyframe, or nothing
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    assert list(seek_keyframes(bad, lambda d: [0.0])) == []


@pytest.mark.parametrize(
    ("top_grey", "slot", "top_found"),
    [
        (240, False, True),  # a clear lid edge: found by its line
        (None, True, True),  # no lid edge seen, a slot: placed as far above the slot as below
        (None, False, False),  # neither: the near face alone
    ],
)
def test_wireframe_finds_the_lid_above_the_near_face(top_grey, slot, top_found) -> None:
    img = room(box=False)
    x, y = 300, 150  # lid from y to y + 30, near face from y + 30 to y + 85
    cv2.rectangle(img, (x, y + 30), (x + 70, y + 85), (240, 240, 240), 1)
    if top_grey is not None:
        lid = np.array([[x, y + 30], [x + 3, y], [x + 67, y], [x + 70, y + 30]], np.int32)
        cv2.polylines(img, [lid], False, (top_grey,) * 3, 1)
    if slot:
        cv2.rectangle(img, (x + 22, y + 14), (x + 48, y + 16), (20, 20, 20), -1)
    wires = wireframe_candidates(img)
    assert wires
    top = float(wires[0][1][:, 1].min())
    assert (top < y + 8) if top_found else (top > y + 22)


@pytest.mark.parametrize(
    ("bar", "want"),
    [
        ("slot", 120),  # a slot across the middle of the lid: the lid's far edge
        ("frame", None),  # a dark bar across the whole width (a shelf, a frame): no lid
        (None, None),  # nothing dark above the rectangle
    ],
)
def test_lid_above_a_bright_rectangle_out_of_focus(bar: str | None, want: int | None) -> None:
    """Out of focus (σ 3) a box shows its paper pile and a lighter lid, no thin lines: the lid's
    far edge is placed from the slot's dark bar above the pile."""
    img = np.full((360, 640, 3), 100, np.uint8)
    x, y, w = 300, 120, 74  # lid from y to y + 30, pile from y + 45 to y + 90
    cv2.rectangle(img, (x, y), (x + w, y + 45), (125, 125, 125), -1)
    cv2.rectangle(img, (x, y + 45), (x + w, y + 90), (215, 215, 215), -1)
    if bar == "slot":
        cv2.rectangle(img, (x + 22, y + 15), (x + w - 22, y + 18), (40, 40, 40), -1)
    elif bar == "frame":
        cv2.rectangle(img, (x - 5, y + 15), (x + w + 5, y + 18), (40, 40, 40), -1)
    view = cv2.GaussianBlur(img, (0, 0), 3.0)
    found = lid_above(view, (x, y + 40, w, 50))
    if want is None:
        assert found is None
    else:
        assert found is not None and abs(found - want) <= 3


def _panned(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """`image` as a camera panned by (dx, dy) pixels shows it (edges repeated)."""
    matrix = np.float32([[1, 0, -dx], [0, 1, -dy]])
    return cv2.warpAffine(image, matrix, image.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize(
    ("shifts", "expected"),
    [
        # nudged after four keyframes: the four before the nudge
        ([(0, 0)] * 4 + [(40, 6)] * 5, [0, 1, 2, 3]),
        # nudged after one keyframe: too short a view, the view after it
        ([(0, 0)] + [(40, 6)] * 8, list(range(1, 9))),
        # one odd keyframe among a steady view is left out wherever it falls
        ([(0, 0)] * 3 + [(-30, 0)] + [(0, 0)] * 5, [0, 1, 2, 4, 5, 6, 7, 8]),
        ([(25, 0)] + [(0, 0)] * 4, [1, 2, 3, 4]),
        # a steady camera: every keyframe
        ([(0, 0)] * 5, [0, 1, 2, 3, 4]),
        # fewer images than min_members: those agreeing with the first
        ([(0, 0), (0, 0)], [0, 1]),
        # no view lasts: all of them
        ([(0, 0), (30, 0), (-30, 0), (0, 30)], [0, 1, 2, 3]),
        ([], []),
    ],
)
def test_first_view_keeps_the_views_before_a_nudge(shifts, expected) -> None:
    images = [_panned(room(), dx, dy) for dx, dy in shifts]
    kept = first_view(images)
    assert [next(k for k, im in enumerate(images) if im is x) for x in kept] == expected


def test_keyframe_background_of_the_first_view(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=4.0, figures=(PASSER,), gop=10, audio=False))
    assert np.array_equal(
        keyframe_background(path, count=9, first_view_only=True), keyframe_background(path, count=9)
    )


@pytest.mark.parametrize("n", range(1, 14))
def test_median_image_is_the_middle_of_the_sorted_pixels(n):
    # every input of 0s and 255s (a selection network that is right on all of them is right
    # on every input: the 0-1 principle) and random images, against numpy's sort
    bits = np.array(list(itertools.product([0, 255], repeat=n)), np.uint8).T
    rng = np.random.default_rng(n)
    noise = rng.integers(0, 256, (n, 40, 30, 3), dtype=np.uint8)
    for images in (bits, noise):
        got = median_image([im.copy() for im in images])
        assert np.array_equal(got.reshape(images[0].shape), np.sort(images, axis=0)[n // 2])


@pytest.mark.parametrize("n", [2, 3, 5, 8, 9, 10])
def test_median_image_leaves_its_inputs_alone(n):
    # its results go into arrays of its own, reused along the network, never into an input
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (20, 10, 3), dtype=np.uint8) for _ in range(n)]
    kept = [im.copy() for im in images]
    got = median_image(images)
    assert all(np.array_equal(a, b) for a, b in zip(images, kept, strict=True))
    assert not any(np.shares_memory(got, im) for im in images)
    assert np.array_equal(got, np.sort(np.stack(kept), axis=0)[n // 2])
