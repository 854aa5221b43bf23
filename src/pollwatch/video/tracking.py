"""Person tracking: a detector plus ByteTrack (the `trackers` package) as one analyser.

`PersonTracker` runs a `PersonDetector` on sampled frames, associates the detections over time
with `trackers.ByteTrackTracker` (converting to supervision's Detections at this boundary
only) and keeps each track's trajectory: times, boxes and foot points. Later analysers in the
same engine run can read `latest` (this frame's tracked detections).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pollwatch.video.analyser import Needs
from pollwatch.video.detections import PERSON, Detections
from pollwatch.video.detectors import PersonDetector, get_detector_by_name
from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo

__all__ = ["PersonTracker", "Stop", "Track", "TrackingResult"]


@dataclass(frozen=True)
class Stop:
    """A stretch of a track where the person stood still: times and mean foot point."""

    start_s: float
    end_s: float
    foot: tuple[float, float]

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True, eq=False)
class Track:
    """One person's trajectory: `times` (seconds, K), `boxes` (K×4, `frame.image` pixels)."""

    track_id: int
    times: np.ndarray
    boxes: np.ndarray
    confidence: np.ndarray

    @property
    def start_s(self) -> float:
        return float(self.times[0])

    @property
    def end_s(self) -> float:
        return float(self.times[-1])

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def foot_points(self) -> np.ndarray:
        """(K, 2) bottom centres of the boxes."""
        return np.stack([self.boxes[:, [0, 2]].mean(1), self.boxes[:, 3]], axis=1)

    def stops(self, *, max_speed: float, min_duration_s: float) -> list[Stop]:
        """Stretches of at least `min_duration_s` where the foot moves slower than
        `max_speed` pixels per second (compared with the stretch's first point)."""
        if not max_speed > 0:
            raise ValueError(f"max_speed must be positive, got {max_speed}")
        if not min_duration_s >= 0:
            raise ValueError(f"min_duration_s must be >= 0, got {min_duration_s}")
        feet, out, i, k = self.foot_points, [], 0, len(self.times)
        while i < k:
            j = i
            while j + 1 < k:
                dt = self.times[j + 1] - self.times[i]
                drift = float(np.hypot(*(feet[j + 1] - feet[i])))
                if drift > max_speed * max(dt, 1.0):
                    break
                j += 1
            if self.times[j] - self.times[i] >= min_duration_s and j > i:
                mean = feet[i : j + 1].mean(axis=0)
                out.append(
                    Stop(
                        float(self.times[i]), float(self.times[j]), (float(mean[0]), float(mean[1]))
                    )
                )
                i = j + 1
            else:
                i += 1
        return out


@dataclass(frozen=True)
class TrackingResult:
    """Every confirmed track of one recording; `source_scale` maps boxes to source pixels
    (divide by it)."""

    tracks: tuple[Track, ...]
    frames: int
    source_scale: float
    gaps: tuple[Gap, ...] = ()

    def stop_points(self, *, max_speed: float = 15.0, min_duration_s: float = 2.0) -> np.ndarray:
        """(M, 2) foot points of every stop of every track (see `Track.stops`), e.g. to back
        up `locate_box`."""
        feet = [
            s.foot
            for t in self.tracks
            for s in t.stops(max_speed=max_speed, min_duration_s=min_duration_s)
        ]
        return np.asarray(feet, np.float32).reshape(-1, 2)

    def track(self, track_id: int) -> Track:
        for t in self.tracks:
            if t.track_id == track_id:
                return t
        raise KeyError(f"no track {track_id}")


@dataclass
class _Trajectory:
    times: list[float] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)


class PersonTracker:
    """Detect and track people; see the module docstring.

    `detector`: a `PersonDetector` or a registry name (built with `detector_options`);
    `fps`: analysis frame rate; `lost_s`: how long a track survives without detections;
    `min_hits`: consecutive detections before a track gets an id; `activation`: lowest
    confidence that starts a track; `high_confidence`: ByteTrack's first-stage threshold;
    `min_iou`: lowest overlap that associates a detection with a track; `buffer`: boxes are
    widened by this fraction of their size on each side before the overlap is measured
    (trackers' buffered IoU), so a person who moved more than a body width between two
    sampled frames (5 fps, near the camera) still matches; 0 is plain IoU.
    """

    def __init__(
        self,
        detector: PersonDetector | str = "background",
        *,
        detector_options: dict[str, Any] | None = None,
        fps: float = 5.0,
        lost_s: float = 2.0,
        min_hits: int = 2,
        activation: float = 0.5,
        high_confidence: float = 0.6,
        min_iou: float = 0.1,
        buffer: float = 0.3,
    ) -> None:
        if isinstance(detector, str):
            detector = get_detector_by_name(detector, **(detector_options or {}))
        elif detector_options:
            raise ValueError("detector_options: only with a detector given by name")
        if not isinstance(detector, PersonDetector):
            raise ValueError(f"detector: {detector!r} is not a PersonDetector")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if not lost_s >= 0:
            raise ValueError(f"lost_s must be >= 0, got {lost_s}")
        if min_hits < 1:
            raise ValueError(f"min_hits must be >= 1, got {min_hits}")
        for name, value in (("activation", activation), ("high_confidence", high_confidence)):
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if not 0 < min_iou < 1:
            raise ValueError(f"min_iou must be in (0, 1), got {min_iou}")
        if not 0 <= buffer <= 2:
            raise ValueError(f"buffer must be in [0, 2], got {buffer}")
        self.buffer = float(buffer)
        self.detector = detector
        self.fps = float(fps)
        self._params = {
            # ByteTrack counts its buffer in frames of a 30 fps video, whatever the rate.
            "lost_track_buffer": round(lost_s * 30),
            "frame_rate": float(fps),
            "track_activation_threshold": float(activation),
            "minimum_consecutive_frames": int(min_hits),
            "minimum_iou_threshold": float(min_iou),
            "high_conf_det_threshold": float(high_confidence),
        }
        self._needs = Needs(video=True, fps=self.fps, scale=detector.scale)
        self.reset()

    @property
    def needs(self) -> Needs:
        return self._needs

    @property
    def latest(self) -> Detections:
        """The tracked detections of the last frame (tracker_id -1: not yet confirmed)."""
        return self._latest

    def _new_tracker(self) -> Any:
        from trackers import BIoU, ByteTrackTracker

        return ByteTrackTracker(**self._params, iou=BIoU(buffer_ratio=self.buffer))

    def reset(self) -> None:
        self._tracker = self._new_tracker()
        self.detector.reset()
        self._paths: dict[int, _Trajectory] = {}
        self._id_offset = 0
        self._frames = 0
        self._gaps: list[Gap] = []
        self._scale = 1.0
        self._latest = Detections.empty(tracked=True)

    def start(self, info: StreamInfo) -> None:
        """Nothing to prepare: tracks start with the first frame."""

    def update(self, frame: Frame) -> None:
        self._frames += 1
        self._scale = frame.source_scale
        detections = self.detector.detect(frame)
        tracked = self._tracker.update(detections.to_supervision(), timestamp=frame.pts_s)
        raw_ids = np.asarray(tracked.tracker_id, np.int64).reshape(-1)
        ids = np.where(raw_ids >= 0, raw_ids + self._id_offset, -1)
        n = len(ids)
        result = Detections(
            xyxy=np.asarray(tracked.xyxy, np.float32).reshape(n, 4),
            confidence=np.ones(n) if tracked.confidence is None else tracked.confidence,
            class_id=np.full(n, PERSON) if tracked.class_id is None else tracked.class_id,
            tracker_id=ids,
        )
        self._latest = result
        for box, conf, tid in zip(result.xyxy, result.confidence, ids, strict=True):
            if tid < 0:
                continue
            path = self._paths.setdefault(int(tid), _Trajectory())
            path.times.append(frame.pts_s)
            path.boxes.append(box)
            path.confidence.append(float(conf))

    def on_audio(self, chunk: AudioChunk) -> None:
        """Tracking ignores audio."""

    def on_gap(self, gap: Gap) -> None:
        """No video for a while: end every track and start the background afresh."""
        self._gaps.append(gap)
        self._id_offset = max(self._paths, default=-1) + 1
        self._tracker = self._new_tracker()
        self.detector.reset()
        self._latest = Detections.empty(tracked=True)

    def result(self) -> TrackingResult:
        tracks = tuple(
            Track(
                track_id=tid,
                times=_readonly(np.asarray(p.times, np.float64)),
                boxes=_readonly(np.asarray(p.boxes, np.float32).reshape(-1, 4)),
                confidence=_readonly(np.asarray(p.confidence, np.float32)),
            )
            for tid, p in sorted(self._paths.items())
        )
        return TrackingResult(tracks, self._frames, self._scale, tuple(self._gaps))


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
