"""FreezeDetector: frozen pairs against the camera's own noise floor."""

from __future__ import annotations

import audit_clips as clips
import numpy as np
import pytest

from pollwatch.audit.frozen import FreezeDetector, frame_difference
from pollwatch.audit.types import TimeRange

EVERY = 0.5


def feed(detector: FreezeDetector, seconds: float, picture) -> FreezeDetector:
    """Feed `picture(t)` (None: no frame) every 0.5 s."""
    for i in range(int(seconds / EVERY)):
        t = i * EVERY
        img = picture(t)
        if img is not None:
            detector.feed(t, img, lit=img.mean() > 35)
    return detector


@pytest.fixture(scope="module")
def scene():
    return clips.textured_scene(160, 90)


def live_then(scene, start: float, end: float, held_noise: float = 0.0):
    """A live picture (sensor noise σ = 2) frozen from `start` to `end`; `held_noise` adds a
    faint encoder-like flicker to the held picture."""
    rng = np.random.default_rng(0)
    held = {}

    def picture(t: float):
        if start <= t < end:
            held.setdefault("img", clips.noisy(scene, rng))
            if held_noise:
                return clips.noisy(held["img"], rng, held_noise)
            return held["img"]
        return clips.noisy(scene, rng)

    return picture


@pytest.mark.parametrize(
    ("start", "end", "held_noise", "expected"),
    [
        (20.0, 40.0, 0.0, (20.0, 40.0)),  # bit-identical frames
        (20.0, 40.0, 0.3, (20.0, 40.0)),  # a held picture the encoder still touches
        (20.0, 23.0, 0.0, None),  # shorter than min_s
        (None, None, 0.0, None),  # live throughout
    ],
)
def test_frozen_runs(scene, start, end, held_noise, expected) -> None:
    picture = live_then(scene, start if start else 1e9, end if end else 1e9, held_noise)
    found = feed(FreezeDetector(), 60.0, picture).ranges(60.0)
    if expected is None:
        assert found == ()
        return
    (run,) = found
    assert run.start == pytest.approx(expected[0], abs=0.75)
    assert run.end == pytest.approx(expected[1], abs=0.75)


def test_noise_floor_is_the_live_pairs(scene) -> None:
    detector = feed(FreezeDetector(), 30.0, live_then(scene, 1e9, 1e9))
    rng = np.random.default_rng(1)
    pair = frame_difference(clips.noisy(scene, rng), clips.noisy(scene, rng))[0]
    assert detector.floor == pytest.approx(pair, rel=0.15)  # σ = 2 noise: about 2.3 levels


def test_dark_pictures_are_not_judged(scene) -> None:
    dark = (scene // 8).copy()  # mean under 35: never lit
    found = feed(FreezeDetector(), 40.0, lambda t: dark).ranges(40.0)
    assert found == ()


def test_a_gap_is_not_a_frozen_pair(scene) -> None:
    rng = np.random.default_rng(2)
    still = clips.noisy(scene, rng)

    def picture(t: float):
        if 10 <= t < 20:
            return None  # no frames: the engine's outage
        return still if t >= 20 else clips.noisy(scene, rng)

    (run,) = feed(FreezeDetector(), 40.0, picture).ranges(40.0)
    assert run.start == pytest.approx(20.0, abs=0.75)  # not bridged back over the gap
    assert isinstance(run, TimeRange)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"every_s": 0.0}, "every_s"),
        ({"rel": 1.5}, "rel"),
        ({"pool": 5, "min_pool": 10}, "pool"),
        ({"min_s": -1.0}, "min_s"),
    ],
)
def test_freeze_detector_checks_arguments(kwargs, name) -> None:
    with pytest.raises(ValueError, match=name):
        FreezeDetector(**kwargs)
