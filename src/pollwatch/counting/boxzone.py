"""Where a camera's ballot box is: the zone the counter watches, with a confidence.

cameras.csv's `box_polygon` is drawn on the camera's *intended* view; a camera nudged by a few
degrees shows the box tens of pixels away. So the polygon is always registered to the view the
recording really shows (`fit_polygon` on a median of keyframes). Without a polygon, the box is
located in the recording's view (`locate_box`); a reference image, when given, is used the same
way (the box located there, then registered to the recording). The result says how it was
found and how sure that is; below `MIN_CONFIDENCE` the camera's counts are marked unreliable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pollwatch.video.boxfind import fit_polygon, lid_above
from pollwatch.video.scene import BoxLocation, locate_box
from pollwatch.video.zone import Zone

__all__ = ["MIN_CONFIDENCE", "BoxZone", "resolve_box_zone"]

MIN_CONFIDENCE = 0.2
_LID_DEEPEST = 0.6  # a lid seen from above spans at most this share of the box's width


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


def _with_lid(image: np.ndarray, found: BoxLocation) -> BoxLocation:
    """A box located as a bright rectangle ("static": a view out of focus, where the
    wireframe's lines are gone, shows only the paper pile and the near face) grown up to its
    lid's far edge when a slot shows above it (`lid_above`); as it was otherwise. On demo 71's
    cam-D008-006 (defocus σ 3.1) the rectangle's top was 29 px below the lid's (258 vs 229).
    Only on the recording's own view (a reference image is the intended, sharp view), and
    only by at most `_LID_DEEPEST` of the width: a rectangle already taller than the box
    (az 67's cam-D040-040, sharp, 320×180) found a 'slot' in the table behind it."""
    if not found.method.startswith("static"):
        return found
    poly = np.asarray(found.polygon, np.float32)
    (x0, y0), (x1, y1) = np.floor(poly.min(axis=0)), np.ceil(poly.max(axis=0))
    top = lid_above(image, (int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    if top is None or top >= y0 or y0 - top > _LID_DEEPEST * (x1 - x0):
        return found
    corners = ((x0, top), (x1, top), (x1, y1), (x0, y1))
    polygon = tuple((float(x), float(y)) for x, y in corners)
    return dataclasses.replace(found, polygon=polygon, method=f"{found.method}, lid from its slot")


def resolve_box_zone(
    background: np.ndarray | None,
    polygon: tuple[tuple[float, float], ...] | None = None,
    reference: str | Path | None = None,
    *,
    others: Iterable[np.ndarray] = (),
) -> BoxZone | None:
    """The box zone in the recording whose static view is `background` (BGR); `polygon` from
    cameras.csv, `reference` the path of a reference image of the intended view; `others`:
    more views of the same recording (e.g. over its whole length, when something hid the box
    early on) to register a polygon on when `background` gives no fit of `MIN_CONFIDENCE`
    (the most confident of theirs then wins; read only then, once: a generator may make
    them on demand, as `VideoContext` does the whole recording's median): a camera nudged
    later shows the box elsewhere over its whole length, and that place must not be taken for
    the first view's. A polygon is shifted only by a fit of at least `MIN_CONFIDENCE`. None
    when no box can be found at all."""
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
    found = _with_lid(background, found)
    return BoxZone(found.polygon, found.confidence, f"located ({found.method})")
