"""The video engine: one decode pass per recording, frames and audio handed to analysers.

    from pollwatch.video import analyse_video, PersonTracker
    run = analyse_video("cam.mp4", [PersonTracker()], start_time=start)
    tracks = run.results[0].tracks

See engine.py (the pass), frame.py (what analysers receive), analyser.py (their shape),
detections.py (the one container), detectors/ (person detectors), tracking.py, zone.py,
scene.py (static view, ballot-box location) and annotate.py (drawing, apart from analysis).
"""

from pollwatch.video.analyser import Analyser, Needs
from pollwatch.video.detections import PERSON, Detections
from pollwatch.video.detectors import PersonDetector, get_detector_by_name
from pollwatch.video.engine import EngineOptions, VideoRun, analyse_video
from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo
from pollwatch.video.scene import BoxLocation, SceneBackground, locate_box
from pollwatch.video.tracking import PersonTracker, Stop, Track, TrackingResult
from pollwatch.video.zone import Zone

__all__ = [
    "PERSON",
    "Analyser",
    "AudioChunk",
    "BoxLocation",
    "Detections",
    "EngineOptions",
    "Frame",
    "Gap",
    "Needs",
    "PersonDetector",
    "PersonTracker",
    "SceneBackground",
    "Stop",
    "StreamInfo",
    "Track",
    "TrackingResult",
    "VideoRun",
    "Zone",
    "analyse_video",
    "get_detector_by_name",
    "locate_box",
]
