"""People as foreground blobs: a weight-free detector for a fixed camera.

The background is a per-pixel running estimate on a downscaled frame (luma and chroma, or
gray). Pixels that look like background follow the image with a time constant of `follow_s`
seconds (lighting drift, encoder noise); pixels that differ (people) move towards the image by
at most `still_rate` levels per second. So a person standing still fades into the background
only after (contrast − threshold) / still_rate seconds — about 35 s for a typical contrast of
45 levels at the default 1 level/s: a voter standing 5 s at the box stays detected, commission
members seated for an hour are absorbed. Rates are per second, not per frame, so the behaviour
does not depend on the analysis fps.

Someone present when the background was first taken leaves a "ghost" when they walk off: a
blob whose outline has strong edges in the background but none in the image; ghosts are
absorbed at once. The foreground mask is cleaned with morphology and split into connected
components; fragments of one body (head, torso, legs) are joined, and blobs too wide for one
person at their image row are split at the valleys of their column profile. The expected
person size per image row is learned from the clean single-person blobs seen so far (a line
fitted to height against foot row, since the camera looks down into the room).
"""

from __future__ import annotations

import itertools
from collections import deque

import cv2
import numpy as np

from pollwatch.video.detections import PERSON, Detections
from pollwatch.video.frame import Frame

__all__ = ["BackgroundSubtractionDetector"]

_MAX_DT_S = 5.0  # longer steps (after a gap) adapt as if this long had passed
_SIZE_SAMPLES = 200  # clean blobs kept to learn the person size per image row
_SIZE_MIN_SAMPLES = 12
_NOISE_EVERY = 5  # frames between two noise estimates
_GHOST_EVERY = 3  # frames between two ghost checks (a ghost stays put: no hurry)


def _edges(gray: np.ndarray) -> np.ndarray:
    """Gradient magnitude (|d/dx| + |d/dy|) of a small uint8 image."""
    dx = cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3)
    dy = cv2.Sobel(gray, cv2.CV_16S, 0, 1, ksize=3)
    return cv2.add(cv2.convertScaleAbs(dx), cv2.convertScaleAbs(dy))


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return float(value)


class BackgroundSubtractionDetector:
    """Foreground-blob person detector; see the module docstring.

    `scale`: downscale of `frame.image` it works at (0.5 of 640×360 is 320×180);
    `still_rate`: gray levels per second at which a still person is absorbed;
    `follow_s`: time constant of background pixels; `min_threshold`/`noise_k`: a pixel is
    foreground when it differs by more than max(min_threshold, noise_k × noise sigma), the
    noise estimated every frame; `min_height`: smallest person, as a fraction of the image
    height; `split_width`: a blob wider than this many expected person widths is split;
    `reset_fraction`: when more of the image than this changes at once (lights, a moved
    camera), the background restarts from the current frame; `ghost_ratio`: a blob whose
    outline has less than this fraction of the edge strength the background has there is a
    ghost (someone who stood there when the background was taken has left) and is absorbed
    at once (0 turns the check off); `color`: use chroma as well as luma differences.
    """

    def __init__(
        self,
        *,
        scale: float = 0.5,
        still_rate: float = 1.0,
        follow_s: float = 2.0,
        min_threshold: float = 9.0,
        noise_k: float = 4.0,
        min_height: float = 0.06,
        split_width: float = 1.6,
        reset_fraction: float = 0.5,
        ghost_ratio: float = 0.5,
        color: bool = True,
    ) -> None:
        if not 0 < scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        if not 0 < min_height < 1:
            raise ValueError(f"min_height must be in (0, 1), got {min_height}")
        if not split_width > 1:
            raise ValueError(f"split_width must be > 1, got {split_width}")
        if not 0 < reset_fraction <= 1:
            raise ValueError(f"reset_fraction must be in (0, 1], got {reset_fraction}")
        self._scale = float(scale)
        self.still_rate = _positive("still_rate", still_rate)
        self.follow_s = _positive("follow_s", follow_s)
        self.min_threshold = _positive("min_threshold", min_threshold)
        self.noise_k = _positive("noise_k", noise_k)
        self.min_height = float(min_height)
        self.split_width = float(split_width)
        self.reset_fraction = float(reset_fraction)
        if not 0 <= ghost_ratio < 1:
            raise ValueError(f"ghost_ratio must be in [0, 1), got {ghost_ratio}")
        self.ghost_ratio = float(ghost_ratio)
        self.color = bool(color)
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self._close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 7))
        self.reset()

    @property
    def scale(self) -> float:
        return self._scale

    def reset(self) -> None:
        """Forget the background and the learned person size."""
        self._bg: np.ndarray | None = None
        self._last_t: float | None = None
        self._sizes: deque[tuple[float, float, float]] = deque(maxlen=_SIZE_SAMPLES)
        self._fit: tuple[float, float, float] | None = None  # h = a + b*y, width / height
        self._new_sizes = 0
        self._frames = 0
        self.threshold = self.min_threshold

    @property
    def background(self) -> np.ndarray | None:
        """The background estimate (uint8 BGR or gray, analysis resolution), or None."""
        return None if self._bg is None else np.clip(self._bg, 0, 255).astype(np.uint8)

    def expected_height(self, foot_y: float) -> float | None:
        """Learned person height in analysis pixels for a foot at row `foot_y` (None: unknown)."""
        if self._fit is None:
            return None
        a, b, _ = self._fit
        return max(a + b * foot_y, 1.0)

    def detect(self, frame: Frame) -> Detections:
        """People in `frame` as foreground blobs, boxes in `frame.image` pixels."""
        image = frame.ycc(self._scale) if self.color else frame.gray(self._scale)
        if self._bg is None or self._bg.shape != image.shape:
            self._bg, self._last_t = image.astype(np.float32), frame.pts_s
            self._frames = 0
            return Detections.empty()
        dt = min(max(frame.pts_s - (self._last_t or frame.pts_s), 0.0), _MAX_DT_S)
        self._last_t = frame.pts_s
        absdiff = cv2.absdiff(image, self._bg.astype(np.uint8))
        if self.color:  # the largest of the luma and chroma differences
            luma, cr, cb = cv2.split(absdiff)
            absdiff = cv2.max(luma, cv2.max(cr, cb))
        absdiff = cv2.blur(absdiff, (3, 3))
        if self._frames % _NOISE_EVERY == 0:  # noise changes slowly: estimate it now and then
            sigma = 1.4826 * float(np.median(absdiff[::4, ::4]))
            self.threshold = max(self.min_threshold, self.noise_k * sigma)
        self._frames += 1
        fg = (absdiff > self.threshold).view(np.uint8)
        if cv2.countNonZero(fg) > self.reset_fraction * fg.size:
            self._bg = image.astype(np.float32)
            return Detections.empty()
        mask = cv2.morphologyEx(fg, cv2.MORPH_OPEN, self._open)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close)
        boxes = self._components(mask)
        if self.ghost_ratio > 0 and self._frames % _GHOST_EVERY == 1:
            boxes = [b for b in boxes if not self._ghost(image, mask, b)]
        self._update_background(image, mask, dt)
        self._learn_sizes(mask, boxes)
        boxes = [part for box in boxes for part in self._split(mask, box)]
        if not boxes:
            return Detections.empty()
        xyxy = np.array(boxes, np.float32)
        conf = self._confidence(mask, xyxy)
        return Detections.from_xyxy(xyxy / np.float32(self._scale), conf, PERSON)

    def _update_background(self, image: np.ndarray, mask: np.ndarray, dt: float) -> None:
        """Background pixels follow the image; foreground creeps by <= still_rate * dt."""
        cv2.accumulateWeighted(image, self._bg, min(1.0, dt / self.follow_s), mask=1 - mask)
        x, y, w, h = cv2.boundingRect(mask)
        if w == 0 or h == 0:
            return
        step = self.still_rate * dt
        bg = self._bg[y : y + h, x : x + w]  # a view: updated in place
        diff = image[y : y + h, x : x + w].astype(np.float32) - bg
        np.clip(diff, -step, step, out=diff)
        m = mask[y : y + h, x : x + w].astype(np.float32)
        bg += diff * (m[..., None] if diff.ndim == 3 else m)

    # -- blobs --------------------------------------------------------------------------------

    def _components(self, mask: np.ndarray) -> list[list[float]]:
        """Boxes of the foreground components, fragments of one body joined."""
        height = mask.shape[0]
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area = max(4.0, (self.min_height * height) ** 2 * 0.04)
        parts = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h >= min_area and cv2.contourArea(contour) >= 0.5 * min_area:
                parts.append([float(x), float(y), float(x + w), float(y + h)])
        boxes = self._join_fragments(parts)
        min_h = self.min_height * height
        return [b for b in boxes if b[3] - b[1] >= min_h]

    def _ghost(self, image: np.ndarray, mask: np.ndarray, box: list[float]) -> bool:
        """Is this blob a ghost (background uncovered where someone stood when the model
        was made)? The blob's outline has edges in the background but hardly any in the
        image. A ghost is taken into the background at once, and its pixels leave `mask`."""
        x1, y1 = max(int(box[0]) - 2, 0), max(int(box[1]) - 2, 0)
        x2, y2 = int(box[2]) + 2, int(box[3]) + 2
        m = mask[y1:y2, x1:x2]
        ring = cv2.morphologyEx(m, cv2.MORPH_GRADIENT, self._open) > 0
        if ring.sum() < 8:
            return False
        luma = image[y1:y2, x1:x2, 0] if image.ndim == 3 else image[y1:y2, x1:x2]
        bg = self._bg[y1:y2, x1:x2, 0] if self._bg.ndim == 3 else self._bg[y1:y2, x1:x2]
        now, before = _edges(luma)[ring].mean(), _edges(bg.astype(np.uint8))[ring].mean()
        if now >= self.ghost_ratio * before:
            return False
        inside = m > 0
        self._bg[y1:y2, x1:x2][inside] = image[y1:y2, x1:x2][inside]
        m[inside] = 0
        return True

    @staticmethod
    def _join_fragments(parts: list[list[float]]) -> list[list[float]]:
        """Join boxes stacked one above the other (head, torso and legs of one person)."""
        boxes = sorted(parts, key=lambda b: b[1])
        merged = True
        while merged and len(boxes) > 1:
            merged = False
            for i in range(len(boxes)):
                for j in range(i + 1, len(boxes)):
                    a, b = boxes[i], boxes[j]
                    overlap = min(a[2], b[2]) - max(a[0], b[0])
                    narrow = min(a[2] - a[0], b[2] - b[0])
                    gap = max(a[1], b[1]) - min(a[3], b[3])
                    tall = max(a[3] - a[1], b[3] - b[1])
                    if overlap >= 0.5 * narrow and gap <= 0.5 * tall:
                        boxes[i] = [
                            min(a[0], b[0]),
                            min(a[1], b[1]),
                            max(a[2], b[2]),
                            max(a[3], b[3]),
                        ]
                        del boxes[j]
                        merged = True
                        break
                if merged:
                    break
        return boxes

    def _learn_sizes(self, mask: np.ndarray, boxes: list[list[float]]) -> None:
        height, width = mask.shape
        for x1, y1, x2, y2 in boxes:
            w, h = x2 - x1, y2 - y1
            if x1 <= 1 or y1 <= 1 or x2 >= width - 1 or y2 >= height - 1:
                continue
            fill = float(mask[int(y1) : int(y2), int(x1) : int(x2)].mean())
            if 1.6 <= h / max(w, 1.0) <= 5.0 and fill >= 0.35:
                self._sizes.append((y2, h, w))
                self._new_sizes += 1
        if len(self._sizes) >= _SIZE_MIN_SAMPLES and self._new_sizes >= _SIZE_MIN_SAMPLES // 2:
            self._new_sizes = 0
            data = np.array(self._sizes, np.float64)
            ys, hs, ws = data[:, 0], data[:, 1], data[:, 2]
            b, a = np.polyfit(ys, hs, 1) if np.ptp(ys) > 0.1 * height else (0.0, np.median(hs))
            self._fit = (float(a), float(b), float(np.median(ws / hs)))

    def _split(self, mask: np.ndarray, box: list[float]) -> list[tuple[float, float, float, float]]:
        x1, y1, x2, y2 = box
        expected = self.expected_height(y2)
        if expected is None or self._fit is None:
            return [(x1, y1, x2, y2)]
        exp_w = expected * self._fit[2]
        width = x2 - x1
        if width <= self.split_width * exp_w:
            return [(x1, y1, x2, y2)]
        k = int(min(4, max(2, round(width / exp_w))))
        ix1, iy1, ix2, iy2 = int(x1), int(y1), int(x2), int(y2)
        sub = mask[iy1:iy2, ix1:ix2]
        profile = cv2.blur(sub.sum(axis=0, dtype=np.float32).reshape(1, -1), (3, 1)).ravel()
        cuts = [0]
        for i in range(1, k):
            centre = i * sub.shape[1] / k
            lo = max(cuts[-1] + 1, int(centre - 0.3 * sub.shape[1] / k))
            hi = min(sub.shape[1] - 1, int(centre + 0.3 * sub.shape[1] / k) + 1)
            cuts.append(lo + int(np.argmin(profile[lo:hi])) if hi > lo else int(centre))
        cuts.append(sub.shape[1])
        out = []
        for a, b in itertools.pairwise(cuts):
            rows = np.flatnonzero(sub[:, a:b].any(axis=1))
            if b - a < 2 or rows.size == 0:
                continue
            top, bottom = float(iy1 + rows[0]), float(iy1 + rows[-1] + 1)
            out.append((float(ix1 + a), top, float(ix1 + b), bottom))
        return out or [(x1, y1, x2, y2)]

    def _confidence(self, mask: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        conf = np.empty(len(xyxy), np.float32)
        for i, (x1, y1, x2, y2) in enumerate(xyxy.astype(int)):
            fill = float(mask[y1:y2, x1:x2].mean()) if x2 > x1 and y2 > y1 else 0.0
            score = min(1.0, fill / 0.5)
            expected = self.expected_height(float(y2))
            if expected is not None:
                ratio = max(y2 - y1, 1) / expected
                score *= float(np.exp(-(np.log(ratio) ** 2) / (2 * 0.4**2)))
            conf[i] = 0.3 + 0.7 * score
        return conf
