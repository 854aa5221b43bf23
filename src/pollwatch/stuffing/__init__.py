"""Detecting ballot stuffing on camera: one person putting many ballots into the box.

fill.py reads the box's fill level from the counter's watcher series; episodes.py groups the
counter's drops into episodes at the slot; score.py tests them against legitimate voting;
detect.py finds a camera's events (repeated hands, bundles, unexplained pile rises, activity
while the box was hidden); findings.py turns them into `ballot_stuffing` findings (and
suspicious `stuffing_not_observable` periods); frames.py
keeps crops of the box for the evidence; step.py plugs it all into the pipeline (a video part
and the "stuffing" case step), section.py into the report.
"""

from pollwatch.stuffing.detect import EVENT_COLUMNS, DetectOptions, Event, camera_events
from pollwatch.stuffing.episodes import EpisodeOptions, find_episodes
from pollwatch.stuffing.fill import FillCurve, fill_curve, rise_between
from pollwatch.stuffing.findings import KIND, KIND_NOT_OBSERVABLE, event_findings
from pollwatch.stuffing.frames import BoxFrames, BoxFramesResult, strip_frames
from pollwatch.stuffing.score import EpisodeTest, episode_test, extra_ballots, rise_test

__all__ = [
    "EVENT_COLUMNS",
    "KIND",
    "KIND_NOT_OBSERVABLE",
    "BoxFrames",
    "BoxFramesResult",
    "DetectOptions",
    "EpisodeOptions",
    "EpisodeTest",
    "Event",
    "FillCurve",
    "camera_events",
    "episode_test",
    "event_findings",
    "extra_ballots",
    "fill_curve",
    "find_episodes",
    "rise_between",
    "rise_test",
    "strip_frames",
]
