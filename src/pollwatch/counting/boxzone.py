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

from pollwatch.audit.registration import Registrar
from pollwatch.video.boxfind import fit_polygon, lid_above
from pollwatch.video.scene import BoxLocation, locate_box
from pollwatch.video.zone import Zone

__all__ = ["MIN_CONFIDENCE", "MIN_SOFT_MATCH", "BoxZone", "resolve_box_zone"]

MIN_CONFIDENCE = 0.2
MIN_SOFT_MATCH = 0.7  # the view audit's `blur_min_match`
_SOFT_WIDTH = 320  # the low-passed registration's work width (the view audit's)
_SOFT_SIGMA = 2.0  # its low pass, work pixels (half the view audit's `blur_sigma` 4: measured
# by defocus14 on the 57 tuning cases' zones, docs/counting.md "Session 14 (defocus helper ...)")
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


def _soft_shift(background: np.ndarray, reference: np.ndarray) -> tuple[int, int, float] | None:
    """How far the recording's view (`background`) lies from the intended one (`reference`,
    the same size), both low-passed and registered by phase correlation, as the view audit
    judges a blurred picture (with a lighter low pass, `_SOFT_SIGMA`): (dx, dy) full-size
    pixels and the match of the moved reference (`Registrar.agreement`); None without a peak
    or under `MIN_SOFT_MATCH`. A view out of focus has no thin lines for `fit_polygon`, but
    the room's coarse shapes still place it:
    demo 200's cam-D001-018 (σ 3.2 all day, not moved) was fitted (3, −33) px off at
    confidence 0.21, here (0, 0) at match 0.95."""
    scale = min(1.0, _SOFT_WIDTH / background.shape[1])
    size = (round(background.shape[1] * scale), round(background.shape[0] * scale))

    def soft(image: np.ndarray) -> np.ndarray:
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(small, (0, 0), _SOFT_SIGMA)

    registrar = Registrar(soft(reference), method="phase")
    view = soft(background)
    found = registrar.estimate(view)
    if found is None:
        return None
    match = registrar.agreement(view, found)
    if not match >= MIN_SOFT_MATCH:
        return None
    dx, dy = found.matrix[:, 2] / scale
    return round(float(dx)), round(float(dy)), float(match)


def _on_reference(
    background: np.ndarray, poly: np.ndarray, reference: str | Path | None
) -> BoxZone | None:
    """`poly` (drawn on the intended view) moved by `_soft_shift` of `background` against the
    reference image at `reference`; None without a reference of the recording's size or a
    match."""
    image = None if reference is None else cv2.imread(str(reference), cv2.IMREAD_COLOR)
    if image is None or image.shape != background.shape:
        return None
    found = _soft_shift(background, image)
    if found is None:
        return None
    dx, dy, match = found
    method = f"cameras.csv, registered low-passed on the reference, shifted by ({dx}, {dy}) px"
    return BoxZone(_shifted(poly, dx, dy), match, method, (dx, dy))


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
    soft: bool = True,
) -> BoxZone | None:
    """The box zone in the recording whose static view is `background` (BGR); `polygon` from
    cameras.csv, `reference` the path of a reference image of the intended view; `others`:
    more views of the same recording (e.g. over its whole length, when something hid the box
    early on) to register a polygon on when `background` gives no fit of `MIN_CONFIDENCE`
    (the most confident of theirs then wins; read only then, once: a generator may make
    them on demand, as `VideoContext` does the whole recording's median): a camera nudged
    later shows the box elsewhere over its whole length, and that place must not be taken for
    the first view's. A polygon is shifted only by a fit of at least `MIN_CONFIDENCE`, or,
    with `soft` and a reference image, when `background` gives no such fit, by the view's own
    registration on the reference, both low-passed (`_soft_shift`: a defocused view has no
    thin lines to fit, and a chance fit elsewhere could pass `MIN_CONFIDENCE`); its match is
    then the confidence. None when no box can be found at all."""
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
            registered = _on_reference(background, poly, reference) if soft else None
            if registered is not None:
                return registered
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
