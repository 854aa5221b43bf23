"""Part colours: the robust colour of each body part, compared with a Gaussian kernel.

For each crop the person's pixels (the foreground mask where given, else every pixel of the
central columns) are cut into horizontal bands, by default the head (hair, face, hat) and the
torso (shirt) as they show above a ballot box. Each band is summarised by the per-channel median
of its pixels in CIE Lab (L scaled by `lightness_weight`: shading and exposure move lightness
most), and a track by the median over its crops, by default only over the crops alike to
its densest one (`aggregate="mode"`: a window that shows two people gives one, not a blend).
Two people are alike when all their parts' colours are: the similarity wanted is the Gaussian
kernel

    k(x, y) = exp(-|x - y|² / (2 σ²))

of the concatenated part colours (σ in Lab units). The embedding is its random Fourier feature
map (Rahimi & Recht 2007): `dim` cosines of random projections, L2-normalised, whose dot product
approximates k (error about 1/√dim). So a cosine index can search it, two different people sit
near 0 and one person near 1, with the cut between them set by σ rather than by a histogram's
bins. The projections come from a fixed seed: every camera's embeddings are comparable.

`sigmas` sets the kernel's width per band and channel instead (L, a, b of each band): across
cameras a shirt's a and b stay within a few units while its lightness follows the light, and a
head shows the face to one camera and the back of the head to another. `dark_share` summarises
a band by the median of its darkest pixels instead (a share of them by lightness): in a head
band those are the hair, seen from the front and from behind. With `dark_erode` such a band
takes them from the mask eroded that many times (3×3, at the `height` scale): a blurred head's
edge mixes it with the wall behind it, and of a light-haired head against a dark wall the
edge's pixels are the darkest (docs/carousel.md, session 13). `two_tone` reads a band as two
colours instead: its pixels (from the eroded mask with `dark_erode`) split at the lightness that
best separates them (OpenCV's Otsu threshold: the largest between-class variance), the median of
each side, dark then light. A head is hair and skin; which of them is darker differs from person
to person, and each camera sees more of one or the other, so the two tones hold where the
darkest share reads the hair on one camera and the face or the edge on another. Such a band has
two rows in `sigmas` (the dark tone's, then the light one's). `TUNED_PARTS` is the pipeline's
setting (see docs/carousel.md for how it was chosen).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pollwatch.reid.base import EmbeddingUnavailable, check_crops, l2_normalise

__all__ = ["TUNED_PARTS", "UPPER_BODY_BANDS", "PartColourEmbedder"]

# (top, bottom) as fractions of the crop's height: head, torso (the view above a ballot box)
UPPER_BODY_BANDS: tuple[tuple[float, float], ...] = ((0.0, 0.25), (0.3, 1.0))
_MIN_PIXELS = 5
# the pipeline's "parts": the head's hair (darkest 15% of its pixels) loosely, the torso's
# chroma tightly (kernel widths per band: L, a, b in Lab units). Not set (docs/carousel.md):
# `dark_erode` 1 (gained on session 12's dumps, lost on session 13's and 14's new seeds) and
# the head's two tones (`two_tone`, session 14: more pairs and fewer wrong ones on 24 demo
# seeds' replays at head widths 100/20/20, more wrong ones on the fresh seeds)
TUNED_PARTS: dict[str, object] = {
    "sigmas": ((60.0, 12.0, 12.0), (20.0, 4.0, 4.0)),
    "dark_share": (0.15, None),
}


def _two_tones(pix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The median Lab colour of the pixels at most and above Otsu's lightness threshold
    (OpenCV's: the cut that maximises the between-class variance of L, whose values are
    whole levels 0-255); one tone only: twice its median."""
    lightness = np.ascontiguousarray(pix[:, 0], np.float32).astype(np.uint8).reshape(-1, 1)
    cut, _ = cv2.threshold(lightness, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    dark = pix[:, 0] <= cut
    if dark.all() or not dark.any():
        median = np.median(pix, axis=0)
        return median, median
    return np.median(pix[dark], axis=0), np.median(pix[~dark], axis=0)


class PartColourEmbedder:
    """Median Lab colour per body band, Gaussian-kernel random features (see module doc)."""

    name = "parts"

    def __init__(
        self,
        *,
        bands: Sequence[tuple[float, float]] = UPPER_BODY_BANDS,
        band_weights: Sequence[float] | None = None,
        sigma: float = 12.0,
        lightness_weight: float = 0.5,
        dim: int = 512,
        centre_width: float = 0.6,
        height: int = 64,
        seed: int = 0,
        aggregate: str = "mode",
        sigmas: Sequence[Sequence[float]] | None = None,
        dark_share: Sequence[float | None] | None = None,
        dark_erode: int = 0,
        two_tone: Sequence[bool] | None = None,
    ) -> None:
        bands = tuple(tuple(map(float, b)) for b in bands)
        if not bands or any(len(b) != 2 or not 0 <= b[0] < b[1] <= 1 for b in bands):
            raise ValueError(
                f"bands must be (top, bottom) with 0 <= top < bottom <= 1, got {bands}"
            )
        weights = np.ones(len(bands)) if band_weights is None else np.asarray(band_weights, float)
        if weights.shape != (len(bands),) or np.any(weights < 0):
            raise ValueError(f"band_weights must be one weight >= 0 per band, got {band_weights}")
        if not sigma > 0:
            raise ValueError(f"sigma must be positive, got {sigma!r}")
        if not lightness_weight >= 0:
            raise ValueError(f"lightness_weight must be >= 0, got {lightness_weight!r}")
        if not isinstance(dim, int) or dim < 16:
            raise ValueError(f"dim must be an integer >= 16, got {dim!r}")
        if not 0.1 <= centre_width <= 1.0:
            raise ValueError(f"centre_width must be in [0.1, 1], got {centre_width!r}")
        if not isinstance(height, int) or height < 16:
            raise ValueError(f"height must be an integer >= 16, got {height!r}")
        if aggregate not in ("mode", "median"):
            raise ValueError(f"aggregate must be 'mode' or 'median', got {aggregate!r}")
        tones = (False,) * len(bands) if two_tone is None else tuple(two_tone)
        if len(tones) != len(bands) or not all(isinstance(t, bool) for t in tones):
            raise ValueError(f"two_tone must be one bool per band, got {two_tone}")
        self.two_tone = tones
        # one row of three channels per colour read: a band's, or a two-tone band's two
        rows = [b for b, two in enumerate(tones) for _ in range(1 + two)]
        self.aggregate = aggregate
        self.bands, self.sigma, self.lightness_weight = bands, float(sigma), float(lightness_weight)
        self.centre_width, self.height, self._dim = float(centre_width), height, dim
        rng = np.random.default_rng(seed)
        self._weights = rng.normal(size=(3 * len(rows), dim))
        self._phase = rng.uniform(0.0, 2 * np.pi, dim)
        channel = np.array([self.lightness_weight, 1.0, 1.0])
        self._scale = np.outer(weights[rows], channel).ravel() / self.sigma
        if sigmas is not None:
            widths = np.asarray(sigmas, np.float64)
            if widths.shape != (len(rows), 3) or not np.all(widths > 0):
                raise ValueError(
                    f"sigmas must be three positive widths per band (two rows for a two-tone "
                    f"band), got {sigmas}"
                )
            self._scale = 1.0 / widths.ravel()
        shares = (None,) * len(bands) if dark_share is None else tuple(dark_share)
        if len(shares) != len(bands) or any(q is not None and not 0 < q <= 1 for q in shares):
            raise ValueError(f"dark_share must be a share in (0, 1] or None per band: {dark_share}")
        self.dark_share = shares
        if not isinstance(dark_erode, int) or dark_erode < 0:
            raise ValueError(f"dark_erode must be an integer >= 0, got {dark_erode!r}")
        self.dark_erode = dark_erode

    @property
    def dim(self) -> int:
        return self._dim

    def part_colours(self, crop: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray | None:
        """The median Lab colour of each band of one crop (of its darkest `dark_share` pixels
        where set; its dark and light tones where `two_tone`), concatenated (None when a band
        has fewer than 5 of the person's pixels)."""
        h0, w0 = crop.shape[:2]
        width = max(4, round(w0 * self.height / h0))
        img = cv2.resize(crop, (width, self.height), interpolation=cv2.INTER_AREA)
        centre = np.ones((self.height, width), bool)
        margin = round(width * (1 - self.centre_width) / 2)
        if margin and width - 2 * margin >= 2:
            centre[:, :margin] = False
            centre[:, width - margin :] = False
        fg = inner = centre
        if mask is not None:
            small = cv2.resize(mask.astype(np.uint8), (width, self.height), cv2.INTER_NEAREST)
            fg = inner = centre & (small > 0)
            if self.dark_erode:  # the darkest pixels or tones from inside the person, not his edge
                square = np.ones((3, 3), np.uint8)
                inner = centre & (cv2.erode(small, square, iterations=self.dark_erode) > 0)
        lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB).astype(np.float32)
        out = []
        reads = zip(self.bands, self.dark_share, self.two_tone, strict=True)
        for (top, bottom), share, two in reads:
            r0 = round(top * self.height)
            r1 = max(r0 + 1, round(bottom * self.height))
            pix = lab[r0:r1][(fg if share is None and not two else inner)[r0:r1]]
            if len(pix) < _MIN_PIXELS:
                return None
            if two:  # hair and skin of a head
                out.extend(_two_tones(pix))
                continue
            if share is not None:  # the darkest pixels (the hair of a head)
                pix = pix[pix[:, 0] <= np.quantile(pix[:, 0], share)]
            out.append(np.median(pix, axis=0))
        return np.concatenate(out)

    def scaled(self, colours: np.ndarray) -> np.ndarray:
        """Part colours in kernel units: the kernel of two rows is exp(-|x - y|² / 2)."""
        return np.asarray(colours, np.float64) * self._scale

    def features(self, colours: np.ndarray) -> np.ndarray:
        """The L2-normalised random Fourier features of part colours (N×3·bands or one row)."""
        x = self.scaled(np.atleast_2d(colours))
        return l2_normalise(np.cos(x @ self._weights + self._phase)).astype(np.float32)

    def embed(
        self, crops: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None
    ) -> np.ndarray:
        """One L2-normalised embedding (shape `(dim,)`, float32) of a track's crops: the
        features of the median over crops of their part colours. Crops whose mask leaves a
        band empty are skipped; if all are, the crops are read without masks."""
        crops, masks = check_crops(crops, masks)
        rows = [
            self.part_colours(c, None if masks is None else masks[k]) for k, c in enumerate(crops)
        ]
        found = [r for r in rows if r is not None]
        if not found and masks is not None:
            found = [r for r in (self.part_colours(c) for c in crops) if r is not None]
        if not found:
            raise EmbeddingUnavailable("no crop shows enough of the person's pixels")
        colours = np.stack(found)
        if self.aggregate == "mode":
            colours = colours[self._mode(colours)]
        return self.features(np.median(colours, axis=0))[0]

    def _mode(self, colours: np.ndarray) -> np.ndarray:
        """The crops alike (kernel >= 0.5) to the crop with most alike crops (the kernel's
        sum): when a window shows two people, one of them rather than a blend."""
        x = self.scaled(colours)
        kernel = np.exp(-0.5 * ((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2))
        return kernel[int(np.argmax(kernel.sum(axis=1)))] >= 0.5
