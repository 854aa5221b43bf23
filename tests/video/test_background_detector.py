"""The weight-free background-subtraction person detector."""

from __future__ import annotations

import numpy as np
import pytest
from videoclips import PASSER, SCENE, VOTER, Figure, iou, person_height, room

from pollwatch.video import Frame, Needs, analyse_video, get_detector_by_name
from pollwatch.video.detections import Detections
from pollwatch.video.detectors.background import BackgroundSubtractionDetector


class Detect:
    """Runs a detector on the frames the engine hands it."""

    def __init__(self, detector, fps: float = 5.0) -> None:
        self.detector = detector
        self.needs = Needs(fps=fps, scale=detector.scale)
        self.reset()

    def reset(self) -> None:
        self.rows: list[tuple[float, Detections]] = []
        self.detector.reset()

    def start(self, info) -> None:
        pass

    def update(self, frame: Frame) -> None:
        self.rows.append((frame.pts_s, self.detector.detect(frame)))

    def on_audio(self, chunk) -> None:
        pass

    def on_gap(self, gap) -> None:
        pass

    def result(self) -> list[tuple[float, Detections]]:
        return self.rows


def recall(rows, figure: Figure, t0: float, t1: float, min_iou: float = 0.5) -> float:
    hits = [
        max((iou(b, figure.box(t)) for b in d.xyxy), default=0.0) >= min_iou
        for t, d in rows
        if t0 <= t <= t1 and figure.box(t) is not None
    ]
    return float(np.mean(hits))


@pytest.fixture(scope="module")
def detected(make_clip) -> list[tuple[float, Detections]]:
    path = make_clip(SCENE)
    analyser = Detect(get_detector_by_name("background"))
    return analyse_video(path, [analyser]).results[0]


@pytest.mark.parametrize(
    ("figure", "t0", "t1", "min_recall"),
    [
        (VOTER, 1.0, 3.2, 0.9),  # walking in
        (VOTER, 3.6, 8.2, 0.9),  # standing 5 s at the box: must not fade away
        (VOTER, 8.8, 10.6, 0.9),  # walking out
        (PASSER, 1.6, 5.5, 0.9),  # crossing the back, before it passes behind the voter
    ],
)
def test_finds_walking_and_pausing_people(detected, figure, t0, t1, min_recall) -> None:
    assert recall(detected, figure, t0, t1) >= min_recall


def test_few_false_detections(detected) -> None:
    false = 0
    for t, d in detected:
        truths = [f.box(t) for f in (VOTER, PASSER) if f.box(t) is not None]
        false += sum(max((iou(b, tb) for tb in truths), default=0.0) < 0.2 for b in d.xyxy)
    assert false <= 0.05 * len(detected)


def test_learns_person_size_per_row(detected, make_clip) -> None:
    detector = BackgroundSubtractionDetector()
    analyse_video(make_clip(SCENE), [Detect(detector)])
    for foot_y in (200.0, 300.0):  # full-resolution rows
        learned = detector.expected_height(foot_y * detector.scale) / detector.scale
        assert learned == pytest.approx(person_height(foot_y), rel=0.25)


def test_still_person_is_absorbed_after_a_long_time() -> None:
    base = room()
    still = Figure(((0.0, 300, 262), (1000.0, 300, 262)))
    img = base.copy()
    still.draw(img, 0.0)
    detector = BackgroundSubtractionDetector(still_rate=4.0)
    detector.detect(Frame.from_image(base, pts_s=0.0))
    seen = [len(detector.detect(Frame.from_image(img, pts_s=t))) for t in np.arange(0.2, 90, 1.0)]
    assert seen[0] == 1 and seen[5] == 1  # there at first and after 5 s
    assert seen[-1] == 0  # gone into the background in the end


def test_splits_two_people_side_by_side() -> None:
    detector = BackgroundSubtractionDetector()
    base = room()
    # teach the person size with single walkers at several rows
    detector.detect(Frame.from_image(base, pts_s=0.0))
    t = 0.2
    for y in (200, 240, 280, 320):
        for x in (100, 250, 400):
            img = base.copy()
            Figure(((0.0, x, y), (1.0, x, y))).draw(img, 0.5)
            detector.detect(Frame.from_image(img, pts_s=t))
            t += 0.2
            detector.detect(Frame.from_image(base, pts_s=t))
            t += 0.2
    img = base.copy()
    pair = [Figure(((0.0, x, 280), (1.0, x, 280))) for x in (300, 334)]
    for fig in pair:
        fig.draw(img, 0.5)
    found = detector.detect(Frame.from_image(img, pts_s=t))
    assert len(found) == 2
    for fig in pair:
        assert max(iou(b, fig.box(0.5)) for b in found.xyxy) > 0.4


@pytest.mark.parametrize(("ghost_ratio", "ghosts_left"), [(0.5, False), (0.0, True)])
def test_someone_in_the_first_frame_leaves_no_ghost(ghost_ratio: float, ghosts_left: bool) -> None:
    leaver = Figure(((0.0, 100, 280), (0.5, 100, 280), (3.0, 400, 280)))
    detector = BackgroundSubtractionDetector(ghost_ratio=ghost_ratio)
    start_box = leaver.box(0.0)
    at_start = []
    for t in np.arange(0.0, 3.0, 0.2):
        img = room()
        leaver.draw(img, t)
        found = detector.detect(Frame.from_image(img, pts_s=float(t)))
        if t > 1.5:
            at_start.append(any(iou(b, start_box) > 0.3 for b in found.xyxy))
            assert any(iou(b, leaver.box(t)) > 0.5 for b in found.xyxy)  # the person
    assert any(at_start) is ghosts_left


def test_lights_off_restarts_the_background() -> None:
    detector = BackgroundSubtractionDetector()
    base = room()
    detector.detect(Frame.from_image(base, pts_s=0.0))
    dark = (base * 0.3).astype(np.uint8)
    assert len(detector.detect(Frame.from_image(dark, pts_s=0.2))) == 0
    assert len(detector.detect(Frame.from_image(dark, pts_s=0.4))) == 0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"scale": 0}, "scale"),
        ({"still_rate": 0}, "still_rate"),
        ({"follow_s": -1}, "follow_s"),
        ({"min_threshold": 0}, "min_threshold"),
        ({"noise_k": 0}, "noise_k"),
        ({"min_height": 1.5}, "min_height"),
        ({"split_width": 1.0}, "split_width"),
        ({"reset_fraction": 0}, "reset_fraction"),
        ({"ghost_ratio": 1}, "ghost_ratio"),
    ],
)
def test_arguments_checked(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        BackgroundSubtractionDetector(**kwargs)


def test_registry() -> None:
    assert isinstance(get_detector_by_name("background", scale=0.25), BackgroundSubtractionDetector)
    with pytest.raises(ValueError, match="unknown detector 'hog'"):
        get_detector_by_name("hog")
