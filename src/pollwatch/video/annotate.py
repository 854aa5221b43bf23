"""Drawing, kept apart from analysis: overlays of detections, tracks and zones on a frame.

Every function takes an image and returns an annotated copy; the input is never changed.
Analysers never draw; evidence clips and the report call these on analysers' results.
"""

from __future__ import annotations

import cv2
import numpy as np

from pollwatch.video.detections import Detections
from pollwatch.video.tracking import Track
from pollwatch.video.zone import Zone

__all__ = ["draw_detections", "draw_track", "draw_zone"]

_PALETTE = [(64, 160, 255), (80, 220, 80), (255, 120, 60), (200, 80, 220), (60, 220, 220)]


def _color(track_id: int | None) -> tuple[int, int, int]:
    return (255, 255, 255) if track_id is None or track_id < 0 else _PALETTE[track_id % 5]


def draw_detections(
    image: np.ndarray, detections: Detections, *, labels: bool = True
) -> np.ndarray:
    """Boxes (coloured by track id when tracked) with id and confidence."""
    out = np.array(image, copy=True)
    ids = detections.tracker_id
    for i, (x1, y1, x2, y2) in enumerate(detections.xyxy.round().astype(int)):
        tid = None if ids is None else int(ids[i])
        color = _color(tid)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, 1)
        if labels:
            text = f"{'' if tid is None or tid < 0 else f'#{tid} '}{detections.confidence[i]:.2f}"
            cv2.putText(out, text, (x1, max(y1 - 3, 8)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, color, 1)
    return out


def draw_track(image: np.ndarray, track: Track, *, until_s: float | None = None) -> np.ndarray:
    """A track's foot-point path (up to `until_s`) and its last box."""
    out = np.array(image, copy=True)
    keep = track.times <= (track.end_s if until_s is None else until_s)
    if not keep.any():
        return out
    feet = track.foot_points[keep].round().astype(np.int32)
    color = _color(track.track_id)
    cv2.polylines(out, [feet.reshape(-1, 1, 2)], False, color, 1)
    x1, y1, x2, y2 = track.boxes[keep][-1].round().astype(int)
    cv2.rectangle(out, (x1, y1), (x2, y2), color, 1)
    return out


def draw_zone(
    image: np.ndarray, zone: Zone, *, color: tuple[int, int, int] = (0, 200, 255)
) -> np.ndarray:
    """The zone's outline."""
    out = np.array(image, copy=True)
    poly = zone.polygon.round().astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(out, [poly], True, color, 1)
    return out
