"""Image registration of a camera's current view against its reference view.

Features first: ORB keypoints matched with a ratio test, then a RANSAC similarity transform
(`cv2.estimateAffinePartial2D`: translation, rotation, uniform scale). Scenes with too little
texture for that fall back to phase correlation (translation only) on Hann-windowed images.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from pollwatch.audit.geometry import ViewTransform

_Moved = tuple[np.ndarray, np.ndarray, np.floating]  # overlap, centred values, sum of squares

__all__ = ["Registrar", "get_registration_by_name", "phase_correlate"]


# the least scale of a features fit taken for a view (and 1/it the most); on a defocused
# picture RANSAC can fit a handful of chance matches with a scale of 0 (azerbaijan-2024
# seed 62, a camera defocused from its first frame)
_MIN_SCALE = 0.5


def phase_correlate(
    first: np.ndarray, second: np.ndarray, window: np.ndarray
) -> tuple[tuple[float, float], float]:
    """`cv2.phaseCorrelate` of two float32 images under `window` (a Hann window of their
    size): ((dx, dy), peak response), leaving both images as they were. OpenCV 4.x multiplies
    its inputs by the window in place: a reference correlated again and again faded to its
    centre (window to the n-th power), where passers-by are, and its response with it."""
    return cv2.phaseCorrelate(first * window, second * window)


class Registrar:
    """Registers frames against one reference image (uint8 gray, analysis scale).

    `max_features` ORB keypoints per image; a feature result needs `min_inliers` RANSAC inliers
    that are at least `min_inlier_share` of the ratio-test matches; the phase fallback needs a
    peak response of `min_response`. `estimate()` returns None when neither is reliable.
    """

    def __init__(
        self,
        reference: np.ndarray,
        *,
        method: str = "features",
        max_features: int = 500,
        min_inliers: int = 12,
        min_inlier_share: float = 0.3,
        min_response: float = 0.08,
        ratio: float = 0.8,
    ) -> None:
        ref = np.asarray(reference)
        if ref.dtype != np.uint8 or ref.ndim != 2:
            raise ValueError(f"reference must be a uint8 gray image, got {ref.dtype} {ref.shape}")
        if max_features < 50:
            raise ValueError(f"max_features must be >= 50, got {max_features}")
        if min_inliers < 4:
            raise ValueError(f"min_inliers must be >= 4, got {min_inliers}")
        if not 0 < min_inlier_share <= 1:
            raise ValueError(f"min_inlier_share must be in (0, 1], got {min_inlier_share}")
        if not 0 < ratio < 1:
            raise ValueError(f"ratio must be in (0, 1), got {ratio}")
        self._estimate = get_registration_by_name(method)
        self.reference = ref
        self.min_inliers = min_inliers
        self.min_inlier_share = min_inlier_share
        self.min_response = min_response
        self.ratio = ratio
        self._orb = cv2.ORB_create(nfeatures=max_features, fastThreshold=10, edgeThreshold=15)
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        # the reference's ORB keypoints and descriptors, found at the first feature match: a
        # steady camera registered by phase alone never needs them
        self._ref_features: tuple[Any, Any] | None = None
        # the last transform `agreement` was asked about, and the reference moved by it
        self._moved: tuple[ViewTransform, _Moved | None] | None = None
        h, w = ref.shape
        self._window = cv2.createHanningWindow((w, h), cv2.CV_32F)
        self._ref_f = ref.astype(np.float32)

    @property
    def shape(self) -> tuple[int, int]:
        return self.reference.shape  # type: ignore[return-value]

    def estimate(self, current: np.ndarray) -> ViewTransform | None:
        """The transform taking reference points to `current` (same size), or None."""
        cur = np.asarray(current)
        if cur.shape != self.reference.shape or cur.dtype != np.uint8:
            raise ValueError(
                f"frame must be uint8 {self.reference.shape} like the reference, got "
                f"{cur.dtype} {cur.shape}"
            )
        return self._estimate(self, cur)

    # -- strategies -------------------------------------------------------------------------
    def features(self, cur: np.ndarray) -> ViewTransform | None:
        if self._ref_features is None:
            self._ref_features = self._orb.detectAndCompute(self.reference, None)
        ref_kp, ref_desc = self._ref_features
        if ref_desc is None or len(ref_kp) < self.min_inliers:
            return None
        kp, desc = self._orb.detectAndCompute(cur, None)
        if desc is None or len(kp) < self.min_inliers:
            return None
        pairs = self._matcher.knnMatch(ref_desc, desc, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < self.ratio * p[1].distance]
        if len(good) < self.min_inliers:
            return None
        src = np.float32([ref_kp[m.queryIdx].pt for m in good])
        dst = np.float32([kp[m.trainIdx].pt for m in good])
        matrix, mask = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.5, maxIters=500
        )
        if matrix is None or mask is None:
            return None
        inliers = int(mask.sum())
        share = inliers / len(good)
        if inliers < self.min_inliers or share < self.min_inlier_share:
            return None
        found = ViewTransform(matrix, "features", inliers=inliers, quality=share)
        if not _MIN_SCALE <= found.scale <= 1.0 / _MIN_SCALE:
            return None  # a camera does not zoom this far: the points matched by chance
        return found

    def phase(self, cur: np.ndarray) -> ViewTransform | None:
        (dx, dy), response = phase_correlate(self._ref_f, cur.astype(np.float32), self._window)
        if response < self.min_response:
            return None
        matrix = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
        return ViewTransform(matrix, "phase", quality=float(response))

    def agreement(
        self, cur: np.ndarray, transform: ViewTransform, leave_out: np.ndarray | None = None
    ) -> float:
        """How well the reference, moved by `transform`, matches `cur` where they overlap:
        the normalised cross-correlation of their grays (-1..1; people walking through lower
        it a little); nan when they overlap on less than a tenth of the picture. A chance fit
        of a view turned away matches nothing: 0.0-0.49 on azerbaijan-2024 seeds 61-66 (every
        turned sample registered anew), where a nudged camera's fit matches 0.63-1.0 and a
        steady one's 0.6-1.0. `leave_out`: a polygon of `cur` (pixels) left out of the
        comparison, e.g. where something may cover the box."""
        if self._moved is None or self._moved[0] is not transform:
            self._moved = (transform, self._moved_reference(transform))
        moved = self._moved[1]
        if moved is None:
            return math.nan
        inside, a, aa = moved
        if leave_out is not None:
            keep = np.ones(inside.shape, np.uint8)
            cv2.fillPoly(keep, [np.round(leave_out).astype(np.int32)], 0)
            kept = keep.astype(bool)[inside]
            if kept.sum() < 0.1 * inside.size:
                return math.nan
            a = a[kept] - a[kept].mean()
            aa = (a * a).sum()
            inside = inside & keep.astype(bool)
        b = cur[inside].astype(np.float32)
        b -= b.mean()
        return float((a * b).sum() / (math.sqrt(float(aa * (b * b).sum())) + 1e-6))

    def _moved_reference(self, transform: ViewTransform) -> _Moved | None:
        """What `agreement` needs of the reference under `transform`: the overlap, the moved
        reference's values there less their mean, their sum of squares; kept for the last
        transform (a steady camera hands the same one again: 1.2 ms a sample at 320x180)."""
        h, w = self.reference.shape
        matrix = np.asarray(transform.matrix, np.float32)
        moved = cv2.warpAffine(self._ref_f, matrix, (w, h), flags=cv2.INTER_LINEAR)
        inside = cv2.warpAffine(np.ones((h, w), np.uint8), matrix, (w, h), flags=cv2.INTER_NEAREST)
        inside = cv2.erode(inside, np.ones((5, 5), np.uint8)).astype(bool)
        if inside.sum() < 0.1 * inside.size:
            return None
        a = moved[inside] - moved[inside].mean()
        return inside, a, (a * a).sum()

    def features_then_phase(self, cur: np.ndarray) -> ViewTransform | None:
        return self.features(cur) or self.phase(cur)


_METHODS: dict[str, Callable[[Registrar, np.ndarray], ViewTransform | None]] = {
    "features": Registrar.features_then_phase,
    "features_only": Registrar.features,
    "phase": Registrar.phase,
}


def get_registration_by_name(name: str) -> Callable[[Registrar, np.ndarray], ViewTransform | None]:
    """A registration strategy: 'features' (ORB+RANSAC, phase fallback), 'features_only',
    'phase'."""
    try:
        return _METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown registration method {name!r}; known: {sorted(_METHODS)}"
        ) from None
