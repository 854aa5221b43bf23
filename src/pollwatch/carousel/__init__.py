"""Carousel detection: the same people voting at several polling stations on one day.

`detect_carousels(sightings, stations, params)` takes one record per voter track (key, camera,
station, wall-clock time, appearance embedding from `pollwatch.reid`) and returns findings of
kind "carousel": persons seen voting at two or more stations, or twice at one, grouped into the
groups that travel together, with calibrated confidences.
"""

from pollwatch.carousel.calibrate import SimilarityCalibration, fisher_z, fit_calibration
from pollwatch.carousel.detect import (
    CarouselDetector,
    CarouselParams,
    CarouselResult,
    detect_carousels,
)
from pollwatch.carousel.findings import (
    CSV_COLUMNS,
    CarouselFinding,
    CarouselVisit,
    write_carousel_csv,
)
from pollwatch.carousel.index import (
    CandidatePairs,
    IndexParams,
    candidate_pairs,
    nearest_neighbours,
)
from pollwatch.carousel.sightings import Sighting, Sightings, StationLocations
from pollwatch.carousel.travel import TravelModel, haversine_km

__all__ = [
    "CSV_COLUMNS",
    "CandidatePairs",
    "CarouselDetector",
    "CarouselFinding",
    "CarouselParams",
    "CarouselResult",
    "CarouselVisit",
    "IndexParams",
    "Sighting",
    "Sightings",
    "SimilarityCalibration",
    "StationLocations",
    "TravelModel",
    "candidate_pairs",
    "detect_carousels",
    "fisher_z",
    "fit_calibration",
    "haversine_km",
    "nearest_neighbours",
    "write_carousel_csv",
]
