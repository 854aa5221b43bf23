"""Finding a transparent ballot box in a static view, and a view of the room from a few frames.

A transparent box shows as a wireframe: thin bright edges (white top-hat with a small kernel)
around a mostly hollow inside. `wireframe_candidates` scores the connected line structures by
how well lines cover their convex hull's outline and how hollow the hull is; the far top edge,
often faint against a light floor, is found separately above the strong near face.
`fit_polygon` registers a known outline (cameras.csv's `box_polygon`, drawn on the intended
view) to the view a camera really shows: a nudged camera moves the box by tens of pixels.
`keyframe_background` is the per-pixel median of keyframes spread over a recording: the room
without its passers-by, read in a fraction of a second before the analysis pass. With
`first_view_only=True` it keeps only the keyframes of the recording's first steady view
(`first_view`): a camera nudged a minute in must not blend two views into one picture.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

__all__ = [
    "PolygonFit",
    "first_view",
    "fit_polygon",
    "keyframe_background",
    "lid_above",
    "line_map",
    "median_image",
    "seek_keyframes",
    "wireframe_candidates",
]


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim not in (2, 3) or image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 gray or BGR, got {image.dtype} {image.shape}")
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def line_map(image: np.ndarray) -> np.ndarray:
    """Thin bright lines (white top-hat, kernel about 1/90 of the width), uint8."""
    gray = _gray(image)
    k = max(5, round(gray.shape[1] / 90)) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    return cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, kernel)


def _outline_points(hull: np.ndarray) -> np.ndarray:
    """Points every pixel along a closed polygon."""
    pts = []
    for j in range(len(hull)):
        p, q = hull[j], hull[(j + 1) % len(hull)]
        n = max(int(np.hypot(*(q - p))), 1)
        pts.append(p + np.linspace(0, 1, n, endpoint=False)[:, None] * (q - p))
    return np.concatenate(pts)


def _slot_row(gray: np.ndarray, x: int, top: int, y: int, w: int) -> float | None:
    """Centre row of the ballot slot, a dark bar across the middle of the lid, between rows
    `top` and `y` over the face's middle columns (black top-hat), or None when none stands
    out: its rows must be dark by at least 20 grey levels and 4 times the band's usual."""
    k = max(5, round(gray.shape[1] / 90)) | 1
    lo, hi = max(0, top - k), min(gray.shape[0], y + k)
    patch = gray[lo:hi, max(0, x - k) : x + w + k]
    dark = cv2.morphologyEx(patch, cv2.MORPH_BLACKHAT, np.ones((k, k), np.uint8))
    rows = dark[top - lo : y - 2 - lo, k + w // 4 : k + w - w // 4].astype(np.float32)
    if rows.size == 0:
        return None
    profile = rows.mean(axis=1)
    peak = float(profile.max())
    if peak < 20.0 or peak < 4.0 * float(np.median(profile)):
        return None
    bar = np.flatnonzero(profile >= peak / 2)
    weights = profile[bar]
    return top + float((bar * weights).sum() / weights.sum())


def _top_edge(
    lines: np.ndarray, gray: np.ndarray, x: int, y: int, w: int, h: int, least: float = 8.0
) -> int:
    """Row of the box's far top edge above its near face (x, y, w, h), or y if none: the row
    above y whose line response over the face's middle columns is strongest; when that line is
    too faint (a light lid edge against a light floor), the ballot slot in the middle of the
    lid places it: as far above the slot as the near face's top is below it."""
    top = max(0, y - int(0.8 * h))
    if top >= y - 2:
        return y
    band = lines[top : y - 2, x + w // 8 : x + w - w // 8].astype(np.float32)
    if band.size == 0:
        return y
    rows = band.mean(axis=1)
    floor = float(np.median(lines[top:y, x : x + w]))
    best = int(np.argmax(rows))
    covered = float((band[best] > max(least, 2 * floor)).mean())
    if covered >= 0.5:
        return top + best
    slot = _slot_row(gray, x, top, y, w)
    if slot is None or y - slot < 3:
        return y
    guess = round(2 * slot - y)
    if guess < 0:
        return y
    near = range(max(top, guess - 3), min(y - 2, guess + 4))
    return max(near, key=lambda r: rows[r - top], default=guess) if guess >= top else guess


def lid_above(image: np.ndarray, bbox: tuple[int, int, int, int]) -> int | None:
    """Row of a box's far lid edge above a rectangle `bbox` (x, y, w, h) found on its bright
    lower part (the paper pile, the near face), or None when no slot shows above it. Read on
    the column-mean profile of the middle half of the columns, so it holds out of focus,
    where the lid's thin lines are gone: the slot is the darkest row from 0.8 h above the
    rectangle's top to 0.15 h below it, at least `_LID_SLOT` grey levels under the brightest
    rows within 0.4 h on either side (the lid's far edge above, its near edge below) and under
    the outer quarters of the same rows (a slot is narrower than the lid); the far
    edge is where the profile, climbing from the floor above it, is halfway up to the far
    edge's brightest row."""
    gray = _gray(image)
    x, y, w, h = bbox
    height = gray.shape[0]
    r0, r1 = max(0, y - h), min(height, y + round(0.15 * h) + round(0.4 * h) + 1)
    c0, c1 = max(0, x + w // 4), min(gray.shape[1], x + w - w // 4)
    if r1 - r0 < 8 or c1 - c0 < 2:
        return None
    profile = cv2.reduce(gray[r0:r1, c0:c1], 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
    profile = np.convolve(profile, np.ones(3, np.float32) / 3, mode="same")
    lo, hi = max(1, y - round(0.8 * h) - r0), min(len(profile) - 1, y + round(0.15 * h) - r0)
    if hi <= lo:
        return None
    slot = lo + int(np.argmin(profile[lo:hi]))
    reach = max(2, round(0.4 * h))
    above, below = profile[max(0, slot - reach) : slot], profile[slot + 1 : slot + 1 + reach]
    if above.size == 0 or below.size == 0:
        return None
    far = slot - above.size + int(np.argmax(above))
    if min(profile[far], float(below.max())) - profile[slot] < _LID_SLOT:
        return None
    # a slot is narrower than the lid: at its row the outer quarters show the lid (a shelf's
    # or a frame's dark bar runs across the whole width)
    rows = slice(r0 + slot - 1, r0 + slot + 2)
    sides = np.concatenate([gray[rows, max(0, x) : c0].ravel(), gray[rows, c1 : x + w].ravel()])
    if sides.size == 0 or float(sides.mean()) - profile[slot] < _LID_SLOT:
        return None
    floor = float(np.median(profile[max(0, far - reach) : far])) if far > 0 else profile[far]
    half = 0.5 * (floor + profile[far])
    row = far
    while row > 0 and profile[row - 1] > half:
        row -= 1
    return r0 + row


_LID_SLOT = 15.0  # the slot's row is this much darker than the lid's edges either side


def wireframe_candidates(
    image: np.ndarray, *, least: float = 18.0
) -> list[tuple[float, np.ndarray]]:
    """(score in [0, 1], hull polygon (K, 2)) of box-like wireframes in `image`, best first;
    `least`: the weakest line response that counts as a line (lower for a blurred view)."""
    gray = _gray(image)
    lines = line_map(gray)
    height, width = lines.shape
    threshold = max(least, float(np.percentile(lines, 97)))
    mask = (lines > threshold).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    near = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if not 0.003 <= w * h / (width * height) <= 0.1 or not 0.5 <= h / w <= 2.5:
            continue
        ys, xs = np.nonzero(labels[y : y + h, x : x + w] == i)
        pts = np.column_stack([xs + x, ys + y]).astype(np.float32)
        hull = cv2.convexHull(pts)[:, 0, :]
        hull_area = cv2.contourArea(hull)
        if hull_area <= 0:
            continue
        outline = np.round(_outline_points(hull)).astype(int)
        coverage = float(
            near[np.clip(outline[:, 1], 0, height - 1), np.clip(outline[:, 0], 0, width - 1)].mean()
        )
        hollow = 1.0 - area / hull_area  # a box's lines fill little of it; blinds fill more
        score = coverage * float(np.clip((hollow - 0.5) / 0.35, 0.0, 1.0))
        if score <= 0:
            continue
        # a wireframe wider than tall is the near face alone (a whole box seen from above is
        # taller than wide): look for the far top edge, often faint, above it
        top = _top_edge(lines, gray, x, y, w, h, least * 8 / 18) if h < w else y
        if top < y:
            hull = cv2.convexHull(
                np.vstack([hull, [[x, top], [x + w - 1, top]]]).astype(np.float32)
            )[:, 0, :]
        out.append((float(score), hull.astype(np.float32)))
    return sorted(out, key=lambda c: -c[0])


@dataclass(frozen=True)
class PolygonFit:
    """Where a known outline sits in an image: shift it by (`dx`, `dy`) pixels. `score` is the
    mean line response along the shifted outline, `confidence` (0..1) how much better it is
    than the best clearly different shift."""

    dx: int
    dy: int
    score: float
    confidence: float


def fit_polygon(
    image: np.ndarray, polygon: np.ndarray | list, *, search: int = 80
) -> PolygonFit | None:
    """Register `polygon` (K, 2) to the thin bright lines of `image` within ±`search` pixels;
    None when the polygon lies outside the image."""
    if search < 0:
        raise ValueError(f"search must be >= 0, got {search}")
    lines = line_map(image).astype(np.float32)
    poly = np.asarray(polygon, np.float32).reshape(-1, 2)
    if len(poly) < 3:
        raise ValueError(f"polygon needs at least 3 points, got {len(poly)}")
    x0, y0 = np.floor(poly.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(poly.max(axis=0)).astype(int) + 3
    template = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.polylines(template, [np.round(poly - [x0, y0]).astype(np.int32)], True, 1.0, 2)
    height, width = lines.shape
    sx0, sy0 = max(0, x0 - search), max(0, y0 - search)
    sx1, sy1 = min(width, x1 + search), min(height, y1 + search)
    if sx1 - sx0 < template.shape[1] or sy1 - sy0 < template.shape[0]:
        return None
    response = cv2.matchTemplate(lines[sy0:sy1, sx0:sx1], template, cv2.TM_CCORR)
    response /= float(template.sum())
    _, peak, _, (px, py) = cv2.minMaxLoc(response)
    others = response.copy()
    cv2.rectangle(others, (px - 6, py - 6), (px + 6, py + 6), 0.0, -1)
    second = float(others.max()) if others.size else 0.0
    confidence = float(np.clip(1.0 - second / peak, 0.0, 1.0)) if peak > 0 else 0.0
    return PolygonFit(int(px + sx0 - x0), int(py + sy0 - y0), float(peak), confidence)


def seek_keyframes(
    path: str | Path, targets: Callable[[float], Iterable[float]]
) -> Iterator[av.VideoFrame]:
    """The keyframe at or before each of `targets(duration_s)` seconds of the recording at
    `path`, reached by seeking: only those frames are decoded. A target whose seek or decode
    fails is skipped (the others stand); an unreadable file yields nothing
    (`KeyframeReader.frames` of a reader used once)."""
    from pollwatch.video.keyframes import KeyframeReader

    return KeyframeReader(path).frames(targets)


def keyframe_background(
    path: str | Path,
    *,
    count: int = 9,
    until_s: float | None = None,
    first_view_only: bool = False,
) -> np.ndarray | None:
    """Per-pixel median (BGR) of `count` keyframes spread over the recording's first
    `until_s` seconds (all of it by default); with `first_view_only`, of those showing the
    recording's first steady view (`first_view`). None when no frame can be decoded
    (`KeyframeReader.background` of a reader used once)."""
    from pollwatch.video.keyframes import KeyframeReader

    return KeyframeReader(path).background(
        count=count, until_s=until_s, first_view_only=first_view_only
    )


_VIEW_WIDTH = 160  # phase correlation at this width: a view shift is tens of pixels


def first_view(
    images: list[np.ndarray], *, max_shift_px: float = 3.0, min_members: int = 3
) -> list[np.ndarray]:
    """The images (in recording order, same size) that show the recording's first steady
    view: the earliest image that at least `min_members` images (itself included, or all of
    them when fewer) see within `max_shift_px` full-size pixels of it by phase correlation,
    with those images. A camera nudged early in its first minutes then gives the view before
    the nudge, not a blend of both; an image no other agrees with (someone at the lens) is
    skipped as an anchor. All the images when none gathers enough."""
    if len(images) < 2:
        return list(images)
    scale = min(1.0, _VIEW_WIDTH / images[0].shape[1])
    size = (round(images[0].shape[1] * scale), round(images[0].shape[0] * scale))
    window = cv2.createHanningWindow(size, cv2.CV_32F)
    small = [
        cv2.resize(_gray(im), size, interpolation=cv2.INTER_AREA).astype(np.float32)
        for im in images
    ]
    need = min(min_members, len(images))
    for anchor in small:
        members = [
            im
            for im, other in zip(images, small, strict=True)
            if np.hypot(*cv2.phaseCorrelate(anchor, other, window)[0]) <= max_shift_px * scale
        ]
        if len(members) >= need:
            return members
    return list(images)


def median_image(images: list[np.ndarray]) -> np.ndarray:
    """Per-pixel median of uint8 images (the upper one for an even count): a compare-exchange
    network with OpenCV, several times faster than numpy's median along a short axis. The
    network selects the middle element only (`_median_network`: 30 OpenCV calls for 9
    images where a full sort takes 72); any network that selects it gives the same value.
    Its results are written into arrays of its own, reused once the network has left them
    (the images given are not changed): about a dozen arrays for 9 images, not one per call,
    each a fresh allocation whose pages the kernel maps anew."""
    a = list(images)
    owned = [False] * len(a)  # a[k] is one of this function's arrays
    spare: list[np.ndarray] = []  # own arrays no longer read

    def into(k: int) -> np.ndarray | None:
        return a[k] if owned[k] else (spare.pop() if spare else None)

    for i, j, low, high in _median_network(len(a)):
        if low and high:
            lo = cv2.min(a[i], a[j], dst=spare.pop() if spare else None)
            hi = cv2.max(a[i], a[j], dst=into(j))
            if owned[i]:
                spare.append(a[i])
            a[i], a[j] = lo, hi
            owned[i] = owned[j] = True
        elif low:
            a[i] = cv2.min(a[i], a[j], dst=into(i))
            owned[i] = True
        else:
            a[j] = cv2.max(a[i], a[j], dst=into(j))
            owned[j] = True
    return a[len(a) // 2]


# the median of 9 in 19 compare-exchanges (Paeth's network, as in Devillard's opt_med9)
_MEDIAN_OF_9 = (
    (1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3), (5, 8),
    (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (2, 4), (4, 6), (2, 4),
)  # fmt: skip


@functools.cache
def _median_network(n: int) -> tuple[tuple[int, int, bool, bool], ...]:
    """Compare-exchanges (i, j, the minimum left at i, the maximum left at j) that leave the
    median of `n` values (the upper one for an even `n`) at position n // 2: for 9 the
    known network, else the first n − n // 2 passes of a bubble sort (the largest values
    settled at the end, the last of them the median); steps whose results the median does
    not depend on are left out."""
    if n == 9:
        steps = list(_MEDIAN_OF_9)  # (4, 2) and (6, 4) leave the minimum at 4 and at 6
    else:
        steps = [(j, j + 1) for p in range(n - n // 2) for j in range(n - 1 - p)]
    live, kept = {n // 2}, []
    for i, j in reversed(steps):  # a step is needed when a later one reads what it leaves
        low, high = i in live, j in live
        if low or high:
            kept.append((i, j, low, high))
            live |= {i, j}
    return tuple(reversed(kept))
