"""Where a camera's ballot box is: the zone the counter watches, with a confidence.

cameras.csv's `box_polygon` is drawn on the camera's *intended* view; a camera nudged by a few
degrees shows the box tens of pixels away. So the polygon is always registered to the view the
recording really shows (`fit_polygon` on a median of keyframes). Without a polygon, the box is
located in the recording's view (`locate_box`); a reference image, when given, is used the same
way (the box located there, then registered to the recording). The result says how it was
found and how sure that is; below `MIN_CONFIDENCE` the camera's counts are marked unreliable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pollwatch.video.boxfind import fit_polygon
from pollwatch.video.scene import locate_box
from pollwatch.video.zone import Zone

__all__ = ["MIN_CONFIDENCE", "BoxZone", "resolve_box_zone"]

MIN_CONFIDENCE = 0.2


@dataclass(frozen=True)
class BoxZone:
    """The box outline in source-video pixels, how it was found (`method`), the shift applied
    to a given polygon (`shift`), and a `confidence` in [0, 1]."""

    polygon: tuple[tuple[float, float], ...]
    confidence: float
    method: str
    shift: tuple[int, int] = (0, 0)

    @property
    def zone(self) -> Zone:
        return Zone.from_points(self.polygon)

    @property
    def reliable(self) -> bool:
        return self.confidence >= MIN_CONFIDENCE


def _shifted(polygon: np.ndarray, dx: int, dy: int) -> tuple[tuple[float, float], ...]:
    return tuple((float(x + dx), float(y + dy)) for x, y in polygon)


def _search(image: np.ndarray) -> int:
    return max(8, round(0.15 * image.shape[1]))


def resolve_box_zone(
    background: np.ndarray | None,
    polygon: tuple[tuple[float, float], ...] | None = None,
    reference: str | Path | None = None,
    *,
    others: tuple[np.ndarray, ...] = (),
) -> BoxZone | None:
    """The box zone in the recording whose static view is `background` (BGR); `polygon` from
    cameras.csv, `reference` the path of a reference image of the intended view; `others`:
    more views of the same recording (e.g. over its whole length, when something hid the box
    early on) to register a polygon on when `background` gives no fit of `MIN_CONFIDENCE`
    (the most confident of theirs then wins): a camera nudged later shows the box elsewhere
    over its whole length, and that place must not be taken for the first view's. A polygon
    is shifted only by a fit of at least `MIN_CONFIDENCE`. None when no box can be found at
    all."""
    if background is None:
        if polygon is None:
            return None
        return BoxZone(
            tuple((float(x), float(y)) for x, y in polygon), 0.0, "cameras.csv, unchecked"
        )
    if polygon is not None:
        poly = np.asarray(polygon, np.float32)
        first = fit_polygon(background, poly, search=_search(background))
        if first is not None and first.confidence >= MIN_CONFIDENCE:
            fits = [first]
        else:
            fits = [first, *(fit_polygon(view, poly, search=_search(view)) for view in others)]
        found_fits = [f for f in fits if f is not None]
        if not found_fits:
            return BoxZone(_shifted(poly, 0, 0), 0.0, "cameras.csv, outside the picture")
        fit = max(found_fits, key=lambda f: f.confidence)
        if fit.confidence < MIN_CONFIDENCE:
            return BoxZone(_shifted(poly, 0, 0), fit.confidence, "cameras.csv, not confirmed")
        moved = (fit.dx, fit.dy) != (0, 0)
        method = f"cameras.csv, shifted by ({fit.dx}, {fit.dy}) px" if moved else "cameras.csv"
        return BoxZone(_shifted(poly, fit.dx, fit.dy), fit.confidence, method, (fit.dx, fit.dy))
    if reference is not None:
        image = cv2.imread(str(reference), cv2.IMREAD_COLOR)
        found = locate_box(image) if image is not None else None
        if found is not None and image is not None and image.shape == background.shape:
            poly = np.asarray(found.polygon, np.float32)
            fit = fit_polygon(background, poly, search=_search(background))
            if fit is not None:
                confidence = min(found.confidence, fit.confidence)
                return BoxZone(
                    _shifted(poly, fit.dx, fit.dy),
                    confidence,
                    "located in the reference image",
                    (fit.dx, fit.dy),
                )
    found = locate_box(background)
    if found is None:
        return None
    return BoxZone(found.polygon, found.confidence, f"located ({found.method})")
