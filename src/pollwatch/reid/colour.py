"""The built-in appearance descriptor: per-body-part colour histograms, no model weights.

For each crop the person box is cut into horizontal bands (head, upper body, lower body). The
pixels of a band (the foreground mask where given, else the central columns of the box) are
described in HSV, which separates what lighting changes most (value) from what it changes least
(hue and saturation):

Without a mask, the person's pixels are guessed: the central columns of the box, less those
close in colour to the box's own left and right edges in the same row (the background beside
the person).

* chromatic pixels (saturation and value above a floor) vote into a soft-binned hue × saturation
  histogram (hue wraps around);
* achromatic pixels (black, grey, white clothing) vote into a value histogram, with value divided
  by the crop's 95th percentile so that a brighter or darker camera does not move them.

Each band's histogram sums to one and is square-rooted (Hellinger), so that the dot product of
two descriptors is the Bhattacharyya coefficient of their histograms; bands are weighted and
concatenated with one shape cue, the log aspect ratio of the box. Per-frame descriptors are
aggregated over the track by their median (robust to a few occluded or mis-cropped frames) and
the result L2-normalised. Optional grey-world white balance (divide each channel by its mean over
the person) removes a camera's colour cast at the cost of some contrast between people.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pollwatch.reid.base import check_crops, l2_normalise

__all__ = ["DEFAULT_BANDS", "ColourEmbedder"]

# (top, bottom, weight) as fractions of the box height: head, upper body, lower body.
DEFAULT_BANDS: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.18, 0.6),
    (0.18, 0.55, 1.0),
    (0.55, 1.0, 1.0),
)
_ASPECT_REF = float(np.log(2.6))  # a standing adult's box is about 2.6 times taller than wide


class ColourEmbedder:
    """Colour histograms per body band, aggregated over a track's frames (see module doc)."""

    name = "colour"

    def __init__(
        self,
        *,
        hue_bins: int = 16,
        sat_bins: int = 3,
        grey_bins: int = 4,
        bands: Sequence[tuple[float, float, float]] = DEFAULT_BANDS,
        min_saturation: int = 50,
        min_value: int = 40,
        centre_width: float = 0.6,
        grey_world: bool = False,
        background_distance: float = 20.0,
        shape_weight: float = 0.3,
        height: int = 96,
        aggregate: str = "median",
    ) -> None:
        for arg, value, low in (
            ("hue_bins", hue_bins, 2),
            ("sat_bins", sat_bins, 1),
            ("grey_bins", grey_bins, 1),
            ("height", height, 16),
        ):
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{arg} must be an integer >= {low}, got {value!r}")
        for arg, value in (("min_saturation", min_saturation), ("min_value", min_value)):
            if not 0 <= value < 255:
                raise ValueError(f"{arg} must be in [0, 255), got {value!r}")
        if not 0.1 <= centre_width <= 1.0:
            raise ValueError(f"centre_width must be in [0.1, 1], got {centre_width!r}")
        if shape_weight < 0:
            raise ValueError(f"shape_weight must be >= 0, got {shape_weight!r}")
        if aggregate not in ("median", "mean"):
            raise ValueError(f"aggregate must be 'median' or 'mean', got {aggregate!r}")
        bands = tuple(tuple(map(float, b)) for b in bands)
        if not bands or any(len(b) != 3 or not 0 <= b[0] < b[1] <= 1 or b[2] < 0 for b in bands):
            raise ValueError(
                f"bands must be (top, bottom, weight) with 0 <= top < bottom <= 1, got {bands!r}"
            )
        self.hue_bins, self.sat_bins, self.grey_bins = hue_bins, sat_bins, grey_bins
        self.bands = bands
        self.min_saturation, self.min_value = min_saturation, min_value
        self.centre_width, self.grey_world = centre_width, grey_world
        self.background_distance = float(background_distance)
        self.shape_weight, self.height, self.aggregate = shape_weight, height, aggregate

    @property
    def dim(self) -> int:
        return len(self.bands) * (self.hue_bins * self.sat_bins + self.grey_bins) + 1

    def embed(
        self, crops: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None
    ) -> np.ndarray:
        """One L2-normalised descriptor (shape `(dim,)`, float32) for a track's crops."""
        crops, masks = check_crops(crops, masks)
        per_frame = np.stack(
            [
                self.frame_descriptor(c, None if masks is None else masks[i])
                for i, c in enumerate(crops)
            ]
        )
        agg = np.median(per_frame, axis=0) if self.aggregate == "median" else per_frame.mean(0)
        return l2_normalise(agg)

    def frame_descriptor(self, crop: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """The unnormalised descriptor of one crop (bands' Hellinger histograms + shape)."""
        h0, w0 = crop.shape[:2]
        width = max(4, round(w0 * self.height / h0))
        img = cv2.resize(crop, (width, self.height), interpolation=cv2.INTER_AREA)
        if mask is None:
            fg = self._auto_mask(img)
        else:
            m = cv2.resize(
                mask.astype(np.uint8), (width, self.height), interpolation=cv2.INTER_NEAREST
            )
            fg = m > 0
        if self.grey_world and fg.any():
            means = img[fg].reshape(-1, 3).astype(np.float32).mean(0)
            gain = means.mean() / np.maximum(means, 1.0)
            img = np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL).astype(np.float32)
        v_ref = float(np.percentile(hsv[..., 2][fg], 95)) if fg.any() else 255.0
        parts = []
        for top, bottom, weight in self.bands:
            r0, r1 = (
                round(top * self.height),
                max(round(top * self.height) + 1, round(bottom * self.height)),
            )
            sel = fg[r0:r1]
            pix = hsv[r0:r1][sel]
            parts.append(weight * np.sqrt(self._band_histogram(pix, max(v_ref, 1.0))))
        aspect = self.shape_weight * (np.log(h0 / w0) - _ASPECT_REF)
        return np.concatenate([*parts, [aspect]]).astype(np.float32)

    def _auto_mask(self, img: np.ndarray) -> np.ndarray:
        """Foreground guess without a mask: the central columns of the box, less the pixels
        whose Lab colour is close to the box's left or right edge in the same row (the
        background seen beside the person)."""
        height, width = img.shape[:2]
        fg = np.zeros((height, width), dtype=bool)
        margin = round(width * (1 - self.centre_width) / 2)
        fg[:, margin : width - margin] = True
        if self.background_distance <= 0 or width < 8:
            return fg
        lab = cv2.cvtColor(cv2.GaussianBlur(img, (3, 3), 0), cv2.COLOR_BGR2LAB).astype(np.float32)
        edge = max(1, width // 16)
        for side in (lab[:, :edge], lab[:, -edge:]):
            bg = np.median(side, axis=1, keepdims=True)
            fg &= np.linalg.norm(lab - bg, axis=2) > self.background_distance
        return fg

    def _band_histogram(self, pix: np.ndarray, v_ref: float) -> np.ndarray:
        nh, ns, ng = self.hue_bins, self.sat_bins, self.grey_bins
        chroma = np.zeros(nh * ns)
        grey = np.zeros(ng)
        if len(pix) == 0:
            return np.concatenate([chroma, grey])
        h, s, v = pix[:, 0], pix[:, 1], pix[:, 2]
        is_chroma = (s >= self.min_saturation) & (v >= self.min_value)
        # Hue: linear interpolation between the two nearest bins, wrapping around.
        hb = h[is_chroma] * nh / 256.0 - 0.5
        hi0 = np.floor(hb)
        fh = hb - hi0
        hi0 = hi0.astype(int) % nh
        hi1 = (hi0 + 1) % nh
        sb = (s[is_chroma] - self.min_saturation) / (256.0 - self.min_saturation) * ns - 0.5
        sb = np.clip(sb, 0, ns - 1)
        si0 = np.floor(sb).astype(int)
        fs = sb - si0
        si1 = np.minimum(si0 + 1, ns - 1)
        for hi, wh in ((hi0, 1 - fh), (hi1, fh)):
            for si, ws in ((si0, 1 - fs), (si1, fs)):
                chroma += np.bincount(hi * ns + si, weights=wh * ws, minlength=nh * ns)
        gb = np.clip(v[~is_chroma] / v_ref, 0, 1) * (ng - 1)
        gi0 = np.floor(gb).astype(int)
        fg = gb - gi0
        gi1 = np.minimum(gi0 + 1, ng - 1)
        grey += np.bincount(gi0, weights=1 - fg, minlength=ng)
        grey += np.bincount(gi1, weights=fg, minlength=ng)
        return np.concatenate([chroma, grey]) / len(pix)
