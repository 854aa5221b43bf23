"""PersonTracker: detector + ByteTrack, one trajectory per person."""

from __future__ import annotations

import numpy as np
import pytest
from videoclips import PASSER, SCENE, VOTER, ClipSpec, Figure, iou

from pollwatch.video import Detections, Frame, PersonTracker, analyse_video
from pollwatch.video.detectors.background import BackgroundSubtractionDetector
from pollwatch.video.frame import Gap


@pytest.fixture(scope="module")
def tracked(make_clip):
    tracker = PersonTracker()
    run = analyse_video(make_clip(SCENE), [tracker])
    return run.results[0]


def best_track(result, figure: Figure):
    """The track that overlaps the figure most often."""

    def hits(track) -> int:
        return sum(
            figure.box(t) is not None and iou(b, figure.box(t)) > 0.4
            for t, b in zip(track.times, track.boxes, strict=True)
        )

    return max(result.tracks, key=hits), hits


@pytest.mark.parametrize(("figure", "covered"), [(VOTER, 0.85), (PASSER, 0.75)])
def test_one_id_follows_one_person(tracked, figure: Figure, covered: float) -> None:
    track, hits = best_track(tracked, figure)
    t0, t1 = figure.waypoints[0][0], figure.waypoints[-1][0]
    visible_frames = (t1 - t0) * 5
    assert hits(track) >= covered * visible_frames
    assert track.start_s == pytest.approx(t0, abs=0.8) and track.end_s == pytest.approx(t1, abs=0.6)


def test_two_people_two_tracks(tracked) -> None:
    long_tracks = [t for t in tracked.tracks if t.duration_s > 2.0]
    assert len(long_tracks) == 2
    assert len({t.track_id for t in tracked.tracks}) == len(tracked.tracks)


def test_trajectory_has_the_stop_at_the_box(tracked) -> None:
    track, _ = best_track(tracked, VOTER)
    stops = track.stops(max_speed=15.0, min_duration_s=3.0)
    assert len(stops) == 1
    stop = stops[0]
    assert stop.start_s == pytest.approx(3.4, abs=0.6) and stop.end_s == pytest.approx(8.4, abs=1.2)
    assert stop.foot == pytest.approx((300, 262), abs=12)
    np.testing.assert_allclose(track.foot_points[:, 1], track.boxes[:, 3])
    points = tracked.stop_points(max_speed=15.0, min_duration_s=3.0)
    assert points.shape == (1, 2) and tuple(points[0]) == pytest.approx(stop.foot)


def test_gap_ends_tracks_and_ids_stay_unique(make_clip) -> None:
    walker = Figure(((0.0, 40, 280), (6.0, 600, 280)))
    path = make_clip(ClipSpec(seconds=6.0, figures=(walker,), drop=((2.5, 3.5),), audio=False))
    run = analyse_video(path, [PersonTracker()])
    result = run.results[0]
    assert [g.kind for g in result.gaps] == ["outage"]
    before = [t for t in result.tracks if t.end_s < 2.5]
    after = [t for t in result.tracks if t.start_s > 3.5]
    assert before and after
    assert {t.track_id for t in before}.isdisjoint({t.track_id for t in after})


def test_latest_is_read_by_later_analysers() -> None:
    tracker = PersonTracker()
    assert len(tracker.latest) == 0 and tracker.latest.tracker_id is not None
    tracker.on_gap(Gap(0.0, 1.0, "outage", "x"))
    assert tracker.result().gaps[0].kind == "outage"


class FixedDetector:
    """Always reports the same box: a stand-in PersonDetector."""

    scale = 1.0

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, frame: Frame) -> Detections:
        self.calls += 1
        return Detections.from_xyxy([[10, 10, 30, 60]], 0.9)

    def reset(self) -> None:
        self.calls = 0


def test_any_detector_can_be_passed_in() -> None:
    detector = FixedDetector()
    tracker = PersonTracker(detector, min_hits=2)
    image = np.zeros((80, 80, 3), np.uint8)
    for i in range(5):
        tracker.update(Frame.from_image(image, index=i * 5, pts_s=i * 0.2))
    result = tracker.result()
    assert detector.calls == 5 and len(result.tracks) == 1
    assert len(result.tracks[0].times) == 4  # confirmed at the second hit
    assert tracker.latest.tracker_id[0] == result.tracks[0].track_id


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"fps": 0}, "fps"),
        ({"lost_s": -1}, "lost_s"),
        ({"min_hits": 0}, "min_hits"),
        ({"activation": 2}, "activation"),
        ({"high_confidence": -0.1}, "high_confidence"),
        ({"min_iou": 1.0}, "min_iou"),
        ({"buffer": -0.1}, "buffer"),
        ({"detector": object()}, "detector"),
        (
            {"detector": BackgroundSubtractionDetector(), "detector_options": {"scale": 1}},
            "detector_options",
        ),
        ({"detector": "nope"}, "unknown detector"),
    ],
)
def test_arguments_checked(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        PersonTracker(**kwargs)


def test_stops_arguments_checked(tracked) -> None:
    with pytest.raises(ValueError, match="max_speed"):
        tracked.tracks[0].stops(max_speed=0, min_duration_s=1)


@pytest.mark.parametrize(("buffer", "tracked_fast"), [(0.3, True), (0.0, False)])
def test_buffered_iou_keeps_a_fast_walker(make_clip, buffer: float, tracked_fast: bool) -> None:
    runner = Figure(((0.0, 30, 300), (2.4, 610, 300)))  # about a body width per sampled frame
    path = make_clip(ClipSpec(seconds=2.4, figures=(runner,), audio=False))
    result = analyse_video(path, [PersonTracker(buffer=buffer)]).results[0]
    longest = max((len(t.times) for t in result.tracks), default=0)
    assert (longest >= 8) is tracked_fast
