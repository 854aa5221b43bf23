"""Picture conditions: offline, dark, frozen, blocked, blurred — each on a synthetic clip."""

import audit_clips as clips
import cv2
import numpy as np
import pytest

from pollwatch.audit.frozen import FreezeDetector
from pollwatch.audit.image import (
    CONDITIONS,
    ConditionsAuditor,
    ZoneCells,
    frame_difference,
    masked_ncc,
    sharpness,
    zone_cells,
)
from pollwatch.audit.picture import GrayMeasures

FULL = (640, 360)
BOX = [(250, 200), (330, 200), (330, 300), (250, 300)]  # full size; (125..165, 100..150) here
FPS = 2.0
SECONDS = 100.0
ON, OFF = 40.0, 70.0


@pytest.fixture(scope="module")
def scene():
    return clips.textured_scene(320, 180)


def person(img, t, start, seconds, still=False):
    """A dark person-sized blob walking across the box zone (or standing still at it)."""
    out = img.copy()
    x = 145 if still else int(100 + 90 * (t - start) / seconds)
    cv2.ellipse(out, (x, 115), (9, 30), 0, 0, 360, 40, -1)
    return out


def board(img):
    """A textured board in front of the box, wider and taller than it (the audit watches the
    box outline and the floor around it: the box's inside changes as it fills)."""
    out = img.copy()
    patch = clips.textured_scene(80, 90)[::-1, ::-1]
    out[80:170, 105:185] = patch // 2 + 90
    return out


def make(kind, scene):
    """The picture at time t for each scenario, or None when no frame is sent."""

    def picture(t):
        during = ON <= t < OFF
        if kind == "blocked" and during:
            return board(scene)
        if kind == "person passing" and ON <= t < ON + 3:
            return person(scene, t, ON, 3)
        if kind == "person standing" and ON <= t < ON + 8:
            return person(scene, t, ON, 8, still=True)
        if kind == "blurred" and t >= ON:
            return cv2.GaussianBlur(scene, (0, 0), 1.5)
        if kind == "blurred from the start":  # no sharp baseline without the reference
            return cv2.GaussianBlur(scene, (0, 0), 3.0)
        if kind == "dark" and during:
            return (scene * 0.15).astype(np.uint8)
        if kind == "black" and during:
            return np.zeros_like(scene)
        if kind in ("gap", "gap unreported") and during:
            return None
        return scene

    return picture


def run(kind, scene, *, reference=None, **kwargs):
    auditor = ConditionsAuditor(
        reference=reference, image_size=FULL, box_polygon=BOX, baseline_s=30.0, **kwargs
    )
    rng = np.random.default_rng(5)
    picture = make(kind, scene)
    frozen_frame = None
    for i in range(int(SECONDS * FPS)):
        t = i / FPS
        img = picture(t)
        if img is None:
            continue
        if kind == "frozen" and ON <= t < OFF:
            frozen_frame = clips.noisy(img, rng) if frozen_frame is None else frozen_frame
            frame = frozen_frame
        else:
            frame = img if kind == "black" and ON <= t < OFF else clips.noisy(img, rng)
        auditor.update(clips.frame_at(t, frame))
    if kind == "gap":
        auditor.on_gap(clips.gap(ON, OFF))
    return auditor.result()


EXPECTED = {
    "clean": {},
    "blocked": {"blocked": (ON, OFF)},
    "person passing": {},
    "person standing": {},
    "blurred": {"blurred": (ON, SECONDS)},
    "blurred from the start": {"blurred": (0.0, SECONDS)},
    "frozen": {"frozen": (ON, OFF)},
    "dark": {"dark": (ON, OFF)},
    "black": {"offline": (ON, OFF)},
    "gap": {"offline": (ON, OFF)},
    "gap unreported": {"offline": (ON, OFF)},
}


@pytest.mark.parametrize("with_reference", [True, False])
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_condition_is_found_with_its_time(scene, kind, with_reference):
    r = run(kind, scene, reference=cv2.resize(scene, FULL) if with_reference else None)
    for condition in CONDITIONS:
        if condition in EXPECTED[kind]:
            start, end = EXPECTED[kind][condition]
            (found,) = r.ranges[condition]
            assert found.start == pytest.approx(start, abs=2.0), condition
            assert found.end == pytest.approx(end, abs=2.5), condition
        else:
            assert r.ranges[condition] == (), condition


def test_box_zone_follows_the_view(scene):
    """With the camera turned, the box is compared where it now is, not where it was."""
    from pollwatch.audit.geometry import ViewTransform

    moved = clips.warp(scene, 20, 8)
    view = ViewTransform(np.array([[1.0, 0.0, 20.0], [0.0, 1.0, 8.0]]), "features")
    rng = np.random.default_rng(6)
    followed = ConditionsAuditor(reference=cv2.resize(scene, FULL), box_polygon=BOX)
    fixed = ConditionsAuditor(reference=cv2.resize(scene, FULL), box_polygon=BOX)
    for i in range(120):
        frame = clips.frame_at(i / FPS, clips.noisy(moved, rng))
        followed.update(frame, view=view)
        fixed.update(frame)
    assert np.nanmedian(followed.result().box_changed) < 0.1
    assert np.nanmedian(fixed.result().box_changed) > 0.5
    assert fixed.result().ranges["blocked"] != ()  # the turn, seen through a fixed zone
    assert followed.result().ranges["blocked"] == ()


def test_reset_forgets(scene):
    auditor = ConditionsAuditor(image_size=FULL)
    auditor.update(clips.frame_at(0.0, scene))
    auditor.on_gap(clips.gap(1.0, 5.0))
    auditor.reset()
    r = auditor.result()
    assert r.t.size == 0 and r.ranges["offline"] == ()


@pytest.mark.parametrize(
    ("change", "unlike", "unmoved"),
    [
        ("same", 0.0, 1.0),
        ("brighter by 10 %", 0.0, 1.0),  # a gain change is no change of the scene
        ("flat board", 1.0, 1.0),
        ("flat board, moving", 1.0, 0.0),
        ("half covered", 0.5, 1.0),
    ],
)
def test_zone_cells(scene, change, unlike, unmoved):
    ref = cv2.GaussianBlur(scene, (0, 0), 2)
    cur = ref.copy()
    still = cur
    if change.startswith("brighter"):
        cur = np.clip(ref * 1.1, 0, 255).astype(np.uint8)
        still = cur
    elif change.startswith("flat board"):
        cur = np.full_like(ref, 230)
        still = cur if change == "flat board" else np.full_like(ref, 120)
    elif change == "half covered":
        cur[:, : ref.shape[1] // 2] = 230
        still = cur
    mask = np.ones(ref.shape, bool)
    valid, is_unlike, is_unmoved = zone_cells(cur, ref, mask, still=still)
    assert is_unlike[valid].mean() == pytest.approx(unlike, abs=0.05)
    assert is_unmoved[valid].mean() == pytest.approx(unmoved, abs=0.05)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: zone_cells(s, s[:-1], np.ones(s.shape, bool)), "differ in shape"),
        (lambda s: zone_cells(s, s, np.ones(s.shape, bool), still=s[1:]), "still has shape"),
        (lambda s: ZoneCells(s, np.ones(s[1:].shape, bool)), "differ in shape"),
        (lambda s: ZoneCells(s, np.ones(s.shape, bool)).pad(s[1:]), "not"),
    ],
)
def test_zone_cells_checks_shapes(scene, call, message):
    with pytest.raises(ValueError, match=message):
        call(scene)


def test_zone_cells_prepared_once_compare_as_zone_cells_does(scene):
    """The reference crop's cells computed once give, picture after picture, exactly what
    comparing each picture from scratch gives."""
    rng = np.random.default_rng(3)
    ref = cv2.GaussianBlur(scene, (0, 0), 2)[40:100, 100:190].astype(np.float32)
    mask = np.zeros(ref.shape, bool)
    mask[5:50, 10:80] = True
    cells = ZoneCells(ref, mask)
    still = None
    for i in range(4):
        cur = np.clip(ref + rng.normal(0, 4 + 20 * i, ref.shape), 0, 255).astype(np.float32)
        expected = zone_cells(cur, ref, mask, still=still)
        found = cells.compare(cells.pad(cur), None if still is None else cells.pad(still))
        for e, f in zip(expected, found, strict=True):
            np.testing.assert_array_equal(e, f)
        still = cur


def test_gray_measures_are_taken_once_per_picture(scene, monkeypatch):
    frozen = scene.copy()
    frozen.flags.writeable = False
    measures, calls = GrayMeasures(), []
    real = cv2.meanStdDev
    monkeypatch.setattr(cv2, "meanStdDev", lambda g: calls.append(1) or real(g))
    level, sharp = measures.level(frozen), measures.sharpness(frozen)
    assert (measures.level(frozen), measures.sharpness(frozen)) == (level, sharp)
    assert len(calls) == 2  # the level, then the Laplacian's (the picture's std is known)
    assert sharp == sharpness(scene)
    assert level == pytest.approx((scene.mean(), scene.std()))
    writable = scene.copy()
    measures.level(writable)
    writable[:] = 0  # a writable picture may change under the same name: never remembered
    assert measures.level(writable) == (0.0, 0.0)


def test_frame_statistics():
    rng = np.random.default_rng(7)
    img = clips.textured_scene(160, 90)
    assert sharpness(np.full((20, 20), 9, np.uint8)) == 0.0
    assert sharpness(cv2.GaussianBlur(img, (0, 0), 2)) < 0.3 * sharpness(img)
    assert frame_difference(img, img) == (0.0, 0.0)
    mad, share = frame_difference(img, clips.noisy(img, rng))
    assert mad > 1.0 and share > 0.2
    mask = np.ones(img.shape, bool)
    assert masked_ncc(img, img, mask) == pytest.approx(1.0)
    assert masked_ncc(img, 255 - img, mask) == pytest.approx(-1.0)
    flat = np.full(img.shape, 100, np.uint8)
    assert masked_ncc(flat, flat + 5, mask) == 1.0
    assert masked_ncc(flat, flat + 60, mask) == 0.0
    assert masked_ncc(img, flat, mask) == 0.0
    with pytest.raises(ValueError, match="shape"):
        frame_difference(img, img[1:])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({}, "image_size"),
        ({"image_size": FULL, "dark_luma": 10.0}, "black_luma"),
        ({"image_size": FULL, "blur_ratio": 1.5}, "blur_ratio"),
        ({"image_size": FULL, "sample_every_s": 0.0}, "sample_every_s"),
        ({"image_size": FULL, "static_lag_s": 0.1}, "static_lag_s"),
        ({"image_size": FULL, "blocked_min_s": -1.0}, "blocked_min_s"),
        ({"image_size": FULL, "box_polygon": [(1, 2)]}, "box_polygon"),
    ],
)
def test_conditions_auditor_checks_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ConditionsAuditor(**kwargs)


@pytest.mark.parametrize(
    ("sample_every_s", "freeze_every_s", "fps"),
    [(1.0, 1.0, 1.0), (1.0, 0.5, 2.0), (2.0, 1.0, 1.0), (0.5, 1.0, 2.0)],
)
def test_conditions_sample_one_frame_per_sample_or_freeze_pair(sample_every_s, freeze_every_s, fps):
    """The engine hands the conditions one frame per sample or per freeze pair, whichever
    comes more often (two frames per 1-s sample until session 12: half of them unused)."""
    auditor = ConditionsAuditor(
        image_size=FULL,
        sample_every_s=sample_every_s,
        max_step_s=2.5,
        static_lag_s=2.0,
        freeze=FreezeDetector(every_s=freeze_every_s),
    )
    assert auditor.needs.fps == fps


def test_the_sharpness_baseline_follows_the_scene(scene):
    """The room fills with finer detail (a sharper scene) at 30 s, then the lens defocuses at
    150 s: against the first minute alone the defocused picture would still look sharp."""
    rng = np.random.default_rng(9)
    yy, xx = np.indices(scene.shape)
    pattern = np.sin(2 * np.pi * xx / 6) * np.sin(2 * np.pi * yy / 6) * 60  # 6-px weave
    busy = np.clip(scene * 0.6 + 50 + pattern, 0, 255).astype(np.uint8)
    blurred = cv2.GaussianBlur(busy, (0, 0), 1.0)
    assert sharpness(blurred) > 0.5 * sharpness(scene)  # a fixed first-minute baseline misses it
    auditor = ConditionsAuditor(
        reference=cv2.resize(scene, FULL), box_polygon=BOX, blur_window_s=60.0
    )
    for i in range(int(200 * FPS)):
        t = i / FPS
        img = scene if t < 30 else busy if t < 150 else blurred
        auditor.update(clips.frame_at(t, clips.noisy(img, rng)))
    r = auditor.result()
    (found,) = r.ranges["blurred"]
    assert found.start == pytest.approx(150.0, abs=2.0)
    assert found.end == pytest.approx(200.0, abs=1.0)


@pytest.mark.parametrize(
    ("gap_s", "bridged"),
    [(5.0, True), (12.0, False)],  # bridged up to blocked_min_s (10 s)
)
def test_blocked_runs_bridge_a_short_unjudged_stretch(gap_s, bridged):
    """Blocked, then the box zone unjudged for a few seconds (the view lost), then blocked
    again: one blocked stretch if the unjudged one is short, two otherwise; an unjudged
    stretch next to an unblocked sample is never filled."""
    from pollwatch.audit.ranges import fill_between

    t = np.arange(0.0, 60.0)
    unjudged = (t >= 20) & (t < 20 + gap_s)
    flags = (t < 20) | (t >= 20 + gap_s)
    flags[-1] = False
    out = fill_between(flags, unjudged, t, 10.0)
    assert bool(out[unjudged].all()) == bridged and bool(out[unjudged].any()) == bridged
    late = t >= 50
    gap = fill_between(~late, late & (t < 59), t, 10.0)
    assert not gap[late].any()  # after the last blocked sample: an unblocked one follows


@pytest.mark.parametrize(
    ("off", "zone_search_px", "covered", "blocked"),
    [
        ((5, 0), 3, False, False),  # the view 5 px off the zone: lined up nearby, not covered
        ((5, 0), None, False, True),  # without the search the misaligned zone reads blocked
        ((8, 0), 3, False, True),  # too far off for the search
        ((0, 0), 3, True, True),  # a board stays a board wherever the zone is tried
        ((5, 0), 3, True, True),
    ],
)
def test_a_zone_a_few_pixels_off_is_lined_up_before_it_reads_blocked(
    scene, off, zone_search_px, covered, blocked
):
    """demo 198's cam-D006-006: a defocused camera's view held a place 3 px from where its box
    zone lined up, and the zone read blocked for 40 s with no board before it. The scene
    with fine grain (1.5-px blobs) over it, so that a few pixels' misalignment shows."""
    from pollwatch.audit.geometry import ViewTransform

    grain = cv2.GaussianBlur(np.random.default_rng(0).normal(0, 1, scene.shape), (0, 0), 1.5)
    fine = np.clip(scene * 0.5 + 60 + grain / grain.std() * 40, 0, 255).astype(np.uint8)
    shown = clips.warp(board(fine) if covered else fine, 20, 8)
    matrix = np.array([[1.0, 0.0, 20.0 + off[0]], [0.0, 1.0, 8.0 + off[1]]])
    view = ViewTransform(matrix, "features")
    rng = np.random.default_rng(7)
    auditor = ConditionsAuditor(
        reference=cv2.resize(fine, FULL), box_polygon=BOX, zone_search_px=zone_search_px
    )
    for i in range(60):
        auditor.update(clips.frame_at(i / FPS, clips.noisy(shown, rng)), view=view)
    assert (auditor.result().ranges["blocked"] != ()) == blocked
