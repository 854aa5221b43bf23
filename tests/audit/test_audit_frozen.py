"""FreezeDetector: frozen pairs against the camera's own noise floor."""

from __future__ import annotations

import audit_clips as clips
import numpy as np
import pytest

from pollwatch.audit.frozen import FreezeDetector, frame_difference
from pollwatch.audit.types import TimeRange

EVERY = 0.5  # the cadence most tests are written for (the default is 1 s since session 12)


def freeze(every: float = EVERY, **kwargs) -> FreezeDetector:
    return FreezeDetector(every_s=every, **kwargs)


def feed(
    detector: FreezeDetector, seconds: float, picture, every: float | None = None
) -> FreezeDetector:
    """Feed `picture(t)` (None: no frame) every `every` s (the detector's `every_s`)."""
    every = detector.every_s if every is None else every
    for i in range(int(seconds / every)):
        t = i * every
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


@pytest.mark.parametrize("every", [0.5, 1.0])
@pytest.mark.parametrize(
    ("start", "end", "held_noise", "expected"),
    [
        (20.0, 40.0, 0.0, (20.0, 40.0)),  # bit-identical frames
        (20.0, 40.0, 0.3, (20.0, 40.0)),  # a held picture the encoder still touches
        (20.0, 23.0, 0.0, None),  # shorter than min_s
        (None, None, 0.0, None),  # live throughout
        (6.0, 20.0, 0.3, (6.0, 20.0)),  # early: the floor needs `min_pool` live pairs
    ],
)
def test_frozen_runs(scene, every, start, end, held_noise, expected) -> None:
    # the pair rule alone (no walk back); in this room of pure sensor noise a live picture is
    # as near to the held one as to the next live one, and the walk back may take up to
    # settle_s (1 s) of it: the run starts at most that much earlier
    for settle_rel, early in ((0.0, 1.5 * every), (1.25, 1.0 + 0.5 * every)):
        picture = live_then(scene, start if start else 1e9, end if end else 1e9, held_noise)
        found = feed(freeze(every, settle_rel=settle_rel), 60.0, picture).ranges(60.0)
        if expected is None:
            assert found == ()
            continue
        (run,) = found
        assert expected[0] - early <= run.start <= expected[0] + 1.5 * every
        assert run.end == pytest.approx(expected[1], abs=1.5 * every)


def refining_freeze(scene):
    """Live pictures (σ 3.5, every tenth σ 1: the floor is the lower pairs) held from 20 s,
    the encoder refining the held picture over its first 1.5 s (σ 2.5, 2, 0.8, then none)."""
    rng = np.random.default_rng(3)
    held = clips.noisy(scene, rng, 3.5)
    refining = {20.0: 2.5, 20.5: 2.0, 21.0: 0.8}

    def picture(t: float):
        if t >= 20.0:
            sigma = refining.get(t)
            return clips.noisy(held, rng, sigma) if sigma else held
        return clips.noisy(scene, rng, 1.0 if int(t / EVERY) % 10 == 0 else 3.5)

    return picture


@pytest.mark.parametrize(("settle_rel", "start"), [(1.25, (19.7, 20.3)), (0.0, (20.7, 21.3))])
def test_refined_pictures_join_the_run(scene, settle_rel, start) -> None:
    detector = freeze(settle_rel=settle_rel)
    (run,) = feed(detector, 40.0, refining_freeze(scene)).ranges(40.0)
    assert start[0] <= run.start <= start[1]  # without the walk back: from the first settled
    assert run.end == pytest.approx(39.75)  # the last picture, at 39.5 s, and half a step


def test_noise_floor_is_the_live_pairs(scene) -> None:
    detector = feed(freeze(), 30.0, live_then(scene, 1e9, 1e9))
    rng = np.random.default_rng(1)
    pair = frame_difference(clips.noisy(scene, rng), clips.noisy(scene, rng))[0]
    assert detector.floor == pytest.approx(pair, rel=0.15)  # σ = 2 noise: about 2.3 levels


def test_dark_pictures_are_not_judged(scene) -> None:
    dark = (scene // 8).copy()  # mean under 35: never lit
    found = feed(freeze(), 40.0, lambda t: dark).ranges(40.0)
    assert found == ()


def test_a_gap_is_not_a_frozen_pair(scene) -> None:
    rng = np.random.default_rng(2)
    still = clips.noisy(scene, rng)

    def picture(t: float):
        if 10 <= t < 20:
            return None  # no frames: the engine's outage
        return still if t >= 20 else clips.noisy(scene, rng)

    (run,) = feed(freeze(), 40.0, picture).ranges(40.0)
    assert run.start == pytest.approx(20.0, abs=0.75)  # not bridged back over the gap
    assert isinstance(run, TimeRange)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"every_s": 0.0}, "every_s"),
        ({"rel": 1.5}, "rel"),
        ({"pool": 5, "min_pool": 10}, "pool"),
        ({"min_s": -1.0}, "min_s"),
        ({"settle_s": -0.5}, "settle_s"),
        ({"settle_rel": 3.0}, "settle_rel"),
    ],
)
def test_freeze_detector_checks_arguments(kwargs, name) -> None:
    with pytest.raises(ValueError, match=name):
        FreezeDetector(**kwargs)
