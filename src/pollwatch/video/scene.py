"""The static view of a camera, and finding the ballot box in it.

`SceneBackground` is an analyser that keeps a few frames spread over the recording and gives
their per-pixel median: the room without the people who walk through it. `locate_box` looks
in such an image for the ballot box when cameras.csv gives no polygon: a transparent box is a
bright, compact, rectangular object standing in the room, brighter than what surrounds it. Stops
of tracked people (where voters pause) can back the guess up. The result carries a confidence
in [0, 1]; a caller should ask an operator to draw the box when it is low.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from pollwatch.video.analyser import Needs
from pollwatch.video.boxfind import line_map, wireframe_candidates
from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo
from pollwatch.video.zone import Zone

__all__ = ["BackgroundResult", "BoxLocation", "SceneBackground", "locate_box"]

_SHARP_LINE = 18.0  # the weakest thin-line response (white top-hat) of a sharp view
_WIRE_SCORE = 0.5  # a wireframe scoring less is not taken for the box


@dataclass(frozen=True, eq=False)
class BackgroundResult:
    """The median of the kept frames (BGR, `frame.image` size), or None with no frames."""

    image: np.ndarray | None
    frames: int


class SceneBackground:
    """Keeps one frame every `every_s` seconds (the last `keep` of them) and returns their
    median. `scale` is the downscale of `frame.image` kept."""

    def __init__(self, *, every_s: float = 10.0, keep: int = 31, scale: float = 1.0) -> None:
        if not every_s > 0:
            raise ValueError(f"every_s must be positive, got {every_s}")
        if keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")
        self._needs = Needs(video=True, fps=1.0 / every_s, scale=scale)
        self.keep = keep
        self.reset()

    @property
    def needs(self) -> Needs:
        return self._needs

    def reset(self) -> None:
        self._frames: deque[np.ndarray] = deque(maxlen=self.keep)

    def start(self, info: StreamInfo) -> None:
        """Nothing to prepare."""

    def update(self, frame: Frame) -> None:
        self._frames.append(frame.bgr(self._needs.scale))

    def on_audio(self, chunk: AudioChunk) -> None:
        """Ignores audio."""

    def on_gap(self, gap: Gap) -> None:
        """Gaps do not matter for a median."""

    def result(self) -> BackgroundResult:
        if not self._frames:
            return BackgroundResult(None, 0)
        median = np.median(np.stack(self._frames), axis=0).astype(np.uint8)
        median.flags.writeable = False
        return BackgroundResult(median, len(self._frames))


@dataclass(frozen=True)
class BoxLocation:
    """Where the ballot box probably is: a polygon in the image's pixels and a confidence."""

    polygon: tuple[tuple[float, float], ...]
    confidence: float
    method: str
    candidates: int

    @property
    def zone(self) -> Zone:
        return Zone.from_points(self.polygon)


def _candidates(image: np.ndarray) -> list[tuple[float, tuple[int, int, int, int]]]:
    """(score, (x, y, w, h)) of bright compact rectangles, best first."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    w = gray.shape[1]
    work_scale = min(1.0, 320.0 / w)
    small = cv2.resize(gray, None, fx=work_scale, fy=work_scale, interpolation=cv2.INTER_AREA)
    sh, sw = small.shape
    k = max(9, round(0.3 * min(sh, sw)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    tophat = cv2.morphologyEx(small, cv2.MORPH_TOPHAT, kernel)
    otsu, _ = cv2.threshold(tophat, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    bright = (tophat > max(20.0, otsu)).astype(np.uint8)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    centre = np.array([sw / 2, sh / 2])
    for contour in contours:
        x, y, bw, bh = cv2.boundingRect(contour)
        frac = bw * bh / (sw * sh)
        if not 0.002 <= frac <= 0.08 or not 0.4 <= bh / bw <= 3.0:
            continue
        rectangular = cv2.contourArea(cv2.convexHull(contour)) / (bw * bh)
        filled = float(bright[y : y + bh, x : x + bw].mean())
        contrast = min(1.0, float(tophat[y : y + bh, x : x + bw].mean()) / 40.0)
        off = np.linalg.norm((np.array([x + bw / 2, y + bh / 2]) - centre) / centre)
        central = max(0.0, 1.0 - 0.5 * off)
        score = rectangular * (0.5 + 0.5 * filled) * contrast * central
        box = (
            round(x / work_scale),
            round(y / work_scale),
            round(bw / work_scale),
            round(bh / work_scale),
        )
        out.append((float(score), box))
    return sorted(out, key=lambda c: -c[0])


def _blurred_wireframes(image: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """Wireframes of a view out of focus: its lines are wide and faint, so they are looked for
    at half size (thin again) and against the strongest lines this view shows (a third of
    their 99.5th percentile) rather than a sharp view's; hulls in `image`'s pixels."""
    h, w = image.shape[:2]
    half = cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    least = min(_SHARP_LINE, float(np.percentile(line_map(half), 99.5)) / 3)
    return [(score, hull * 2.0) for score, hull in wireframe_candidates(half, least=least)]


def _wireframes(image: np.ndarray) -> list[tuple[float, tuple[int, int, int, int], np.ndarray]]:
    """Transparent-box wireframes as (score, bbox, hull), best first (see `boxfind`); when a
    sharp view's lines show none that is box-like, the view's blurred ones."""
    found = wireframe_candidates(image, least=_SHARP_LINE)
    if not any(score >= _WIRE_SCORE for score, _ in found) and min(image.shape[:2]) >= 64:
        found = _blurred_wireframes(image)
    out = []
    for score, hull in found:
        x0, y0 = np.floor(hull.min(axis=0)).astype(int)
        x1, y1 = np.ceil(hull.max(axis=0)).astype(int)
        out.append((score, (int(x0), int(y0), int(x1 - x0), int(y1 - y0)), hull))
    return out


def locate_box(image: np.ndarray, *, stops: np.ndarray | None = None) -> BoxLocation | None:
    """Guess the ballot box in a static view (BGR or gray), or None when nothing fits.

    A transparent box's wireframe (thin bright edges around a hollow inside, method
    "wireframe", the polygon its convex hull) is looked for first; failing that, a bright
    compact rectangle (method "static", the polygon its bounding box).
    `stops`: optional (M, 2) foot points where tracked people stood still, in the same pixels;
    a box with many stops just below or beside it gains confidence. The confidence is the
    winner's score, lowered when a second candidate scores nearly as well.
    """
    if image.ndim not in (2, 3) or image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 gray or BGR, got {image.dtype} {image.shape}")
    wires = [w for w in _wireframes(image) if w[0] >= _WIRE_SCORE]
    hulls = {bbox: hull for _, bbox, hull in wires}
    found = [(score, bbox) for score, bbox, _ in wires] or _candidates(image)
    if not found:
        return None
    method = "wireframe" if wires else "static"
    if stops is not None and len(stops):
        pts = np.asarray(stops, np.float32).reshape(-1, 2)
        rescored = []
        for score, (x, y, bw, bh) in found:
            near = np.hypot(pts[:, 0] - (x + bw / 2), pts[:, 1] - (y + bh)) <= 1.5 * max(bw, bh)
            rescored.append((score * (0.7 + 0.6 * float(near.mean())), (x, y, bw, bh)))
        found = sorted(rescored, key=lambda c: -c[0])
        method += "+stops"
    best, (x, y, bw, bh) = found[0]
    runner_up = found[1][0] if len(found) > 1 else 0.0
    confidence = float(np.clip(best * (1.0 - 0.5 * runner_up / max(best, 1e-9)), 0.0, 1.0))
    hull = hulls.get((x, y, bw, bh))
    polygon = (
        tuple((float(px), float(py)) for px, py in hull)
        if hull is not None
        else tuple(
            (float(px), float(py))
            for px, py in ((x, y), (x + bw, y), (x + bw, y + bh), (x, y + bh))
        )
    )
    return BoxLocation(polygon, confidence, method, len(found))
