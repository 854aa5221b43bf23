"""Viewing angle: registration against a reference, box visibility, change time."""

import math

import audit_clips as clips
import numpy as np
import pytest

from pollwatch.audit.geometry import (
    ViewTransform,
    clip_polygon_to_rect,
    polygon_area,
    visible_fraction,
)
from pollwatch.audit.image import ConditionsAuditor
from pollwatch.audit.registration import Registrar, get_registration_by_name, phase_correlate
from pollwatch.audit.view import ViewAuditor

FULL = (640, 360)  # the video's size; frames are handed at half size (analysis scale)
BOX = [(250, 200), (330, 200), (330, 300), (250, 300)]  # full-size pixels


@pytest.fixture(scope="module")
def scene():
    return clips.room_with_box(320, 180, BOX)


@pytest.fixture(scope="module")
def reference():
    return clips.room_with_box(*FULL, BOX)


def run(auditor, scene, *, seconds, change_at, dx=0.0, dy=0.0, angle=0.0, fps=1.0, other=None):
    """Frames of `scene` with noise; from `change_at` the camera has turned by (dx, dy, angle)
    in full-size pixels (or shows `other`)."""
    rng = np.random.default_rng(1)
    moved = other if other is not None else clips.warp(scene, dx / 2, dy / 2, angle)
    for i in range(int(seconds * fps)):
        t = i / fps + 0.3
        img = moved if change_at is not None and t >= change_at else scene
        auditor.update(clips.frame_at(t, clips.noisy(img, rng)))
    return auditor.result()


@pytest.mark.parametrize("with_reference", [True, False])
@pytest.mark.parametrize(
    ("change_at", "dx", "dy", "angle", "state"),
    [
        (None, 0, 0, 0, "ok"),
        (97.0, 40, 10, 0, "shifted"),
        (130.0, -36, 0, 0, "shifted"),
        (110.0, 0, 0, 5, "shifted"),
        (100.0, -300, 0, 0, "box_not_visible"),
    ],
)
def test_view_changes_mid_day(scene, reference, with_reference, change_at, dx, dy, angle, state):
    auditor = ViewAuditor(
        reference=reference if with_reference else None, image_size=FULL, box_polygon=BOX
    )
    r = run(auditor, scene, seconds=180, change_at=change_at, dx=dx, dy=dy, angle=angle)
    assert r.state == state
    if change_at is None:
        assert r.changed_at is None
        assert r.shift_px_median < 2.0
        return
    assert r.changed_at == pytest.approx(change_at, abs=5.0)
    if angle == 0:  # a pure shift moves the box centre by exactly (dx, dy)
        assert r.shift_px_median == pytest.approx(math.hypot(dx, dy), abs=3.0)


def test_shifted_from_the_start_needs_the_reference(scene, reference):
    kw = {"image_size": FULL, "box_polygon": BOX}
    with_ref = run(
        ViewAuditor(reference=reference, **kw), scene, seconds=60, change_at=0.0, dx=50, dy=-20
    )
    assert with_ref.state == "shifted"
    assert with_ref.changed_at == pytest.approx(0.3, abs=1.0)
    assert with_ref.shift_px_median == pytest.approx(math.hypot(50, 20), abs=3.0)
    # Without a reference the first minute is the baseline, which cannot show a turn; but the
    # box is not where the polygon says: its outline is missing from the baseline (and this
    # box, edged dark, has no bright thin lines for the refit to find nearby).
    without = run(ViewAuditor(**kw), scene, seconds=60, change_at=0.0, dx=50, dy=-20)
    assert without.state == "box_not_visible"
    assert without.box_outline < 2.5
    # ... and with the box where the polygon says, the outline is there
    steady = run(ViewAuditor(**kw), scene, seconds=60, change_at=None)
    assert steady.state == "ok" and steady.box_outline > 4.0


@pytest.mark.parametrize(
    ("dx", "dy", "state"),
    [(0, 0, "ok"), (22, -8, "shifted"), (-30, 6, "shifted"), (170, 0, "box_not_visible")],
)
def test_a_polygon_off_the_baseline_box_is_refitted(simulated_room, dx, dy, state):
    """No reference, a polygon, the camera nudged before it started recording: the box's
    outline is found near the polygon (within `refit_px`), and that offset is the shift."""
    from rendered_clips import sabotaged_plan

    from pollwatch.simulate.render import CameraRenderer

    polygon = CameraRenderer(sabotaged_plan()).box_polygon()
    r = _still_camera(simulated_room, dx, dy, seconds=90, box_polygon=polygon)
    assert r.state == state
    if state == "shifted":
        assert r.shift_px_median == pytest.approx(math.hypot(dx, dy), abs=2.0)
        assert r.box_outline > 2.5
        assert 0.5 <= r.shift_confidence <= 1.0  # the outline traced there, not at the polygon
    else:
        assert math.isnan(r.shift_confidence)


@pytest.mark.parametrize(("foot_row", "state"), [(None, "ok"), (150, "box_not_visible")])
def test_a_room_edge_under_one_side_of_the_polygon_is_not_the_box(foot_row, state):
    """No reference, a polygon, the camera turned away from its first frame so that a strong
    room edge (a floor much lighter than the wall) lies under the polygon's bottom side: the
    whole outline's support passes, but one side is not a box (azerbaijan-2024 seed 65,
    cam-D056-013); with the box there it is ok."""
    wall = clips.textured_scene(320, 180).astype(np.float32) * 0.1 + 90
    if foot_row is not None:
        wall[foot_row:] += 120
    img = np.clip(wall, 0, 255).astype(np.uint8)
    if foot_row is None:
        img = clips.room_with_box(320, 180, BOX) // 4 + img // 2 + 30
    r = _still_gray(img, FULL, seconds=90, box_polygon=BOX)
    assert r.state == state
    assert r.box_outline > 2.5  # the whole outline's support alone would have said "ok"


def _simulated_gray(room: np.ndarray, dx: float, dy: float = 0.0) -> np.ndarray:
    """The simulated room in gray, the camera turned so the picture moved by (dx, dy)."""
    gray = clips.cv2.cvtColor(room, clips.cv2.COLOR_BGR2GRAY)
    return clips.cv2.warpAffine(
        gray,
        np.float32([[1, 0, dx], [0, 1, dy]]),
        gray.shape[::-1],
        borderMode=clips.cv2.BORDER_REPLICATE,  # no mirrored box coming in from the edge
    )


def _still_camera(room: np.ndarray, dx: float, dy: float, *, seconds: int, **kw):
    """The view audit, without a reference, of the simulated room turned by (dx, dy) from
    the first frame, one frame a second."""
    size = (room.shape[1], room.shape[0])
    return _still_gray(_simulated_gray(room, dx, dy), size, seconds=seconds, **kw)


def _still_gray(gray: np.ndarray, image_size: tuple[int, int], *, seconds: int, **kw):
    """The view audit, without a reference, of a still picture (with noise) whose full size
    is `image_size`, one frame a second."""
    auditor = ViewAuditor(image_size=image_size, **kw)
    rng = np.random.default_rng(0)
    for i in range(seconds):
        auditor.update(clips.frame_at(float(i), clips.noisy(gray, rng)))
    return auditor.result()


@pytest.mark.parametrize(
    ("dx", "min_box_score", "state"),
    [
        (0, 0.35, "ok"),
        (20, 0.35, "ok"),  # the documented gap: a nudge from the start is not seen
        (170, 0.35, "box_not_visible"),  # no box anywhere in the recording
        (170, None, "ok"),  # without looking for the box nothing tells
    ],
)
def test_without_polygon_or_reference_the_box_is_searched_for(
    simulated_room, dx, min_box_score, state
):
    """A camera turned from its first frame, with nothing saying where the box should be: the
    box is searched for in the whole picture all day; found nowhere, it is not in view."""
    r = _still_camera(simulated_room, dx, 0, seconds=150, min_box_score=min_box_score)
    assert r.state == state
    assert (r.changed_at is None) == (state == "ok")
    if state != "ok":
        assert r.changed_at == pytest.approx(0.0, abs=1.0)


@pytest.mark.parametrize(
    ("dx", "repeat_score", "repeat_windows", "state"),
    [
        (0, 0.3, 3, "ok"),  # a weak find at one place in 3 medians: the box
        (0, None, 3, "box_not_visible"),  # weak finds not counted
        (0, 0.3, 99, "box_not_visible"),  # not repeated often enough
        (170, 0.3, 3, "box_not_visible"),  # turned away: nothing to repeat
    ],
)
def test_a_weak_box_find_repeated_at_one_place_is_the_box(
    simulated_room, dx, repeat_score, repeat_windows, state
):
    """Neither a reference nor a polygon, and the box scoring under `min_box_score` in every
    30-s median (azerbaijan-2024 seed 70's cam-D093-064, 0.28-0.32 against 0.35; here the
    floor is raised over the room's box instead): found at one place again and again, it is
    the box in view."""
    r = _still_camera(
        simulated_room,
        dx,
        0,
        seconds=150,
        min_box_score=0.99,
        repeat_score=repeat_score,
        repeat_windows=repeat_windows,
    )
    assert r.state == state


@pytest.mark.parametrize(("dy", "cut_share", "state"), [(40, 0.01, "shifted"), (40, None, "ok")])
def test_a_box_cut_by_the_frame_edge_was_moved(simulated_room, dy, cut_share, state):
    """Neither a reference nor a polygon, the camera tilted from its first frame so that the
    frame's edge cuts the box (its bottom 161 + 40 px of a 180-px picture): shifted, by an
    amount nobody can tell."""
    r = _still_camera(simulated_room, 0, dy, seconds=90, cut_share=cut_share)
    assert r.state == state
    assert r.box_cut == (state == "shifted")
    if state == "shifted":
        assert r.changed_at == pytest.approx(0.0, abs=1.0)
        assert math.isnan(r.shift_px_median)


@pytest.mark.parametrize(("cut_share", "seen"), [(0.01, False), (None, True)])
def test_a_box_found_cut_mid_day_is_not_the_box_in_view(simulated_room, cut_share, seen):
    """Neither a reference nor a polygon: no box in the first minute (turned 170 px), then a
    wireframe cut by the frame's edge (the box, tilted 40 px down) is not the box in view."""
    away, cut = _simulated_gray(simulated_room, 170), _simulated_gray(simulated_room, 0, 40)
    auditor = ViewAuditor(image_size=(320, 180), cut_share=cut_share)
    rng = np.random.default_rng(6)
    for i in range(150):
        auditor.update(clips.frame_at(float(i), clips.noisy(away if i < 70 else cut, rng)))
    r = auditor.result()
    assert (r.state != "box_not_visible") == seen
    assert set(r.states[r.t < 70]) == ({"ok"} if seen else {"box_not_visible"})


def test_an_unrelated_view_means_box_not_visible(scene, reference):
    from skimage import data

    other = clips.cv2.resize(
        clips.cv2.cvtColor(data.coffee(), clips.cv2.COLOR_RGB2GRAY), (320, 180)
    )
    r = run(
        ViewAuditor(reference=reference, box_polygon=BOX),
        scene,
        seconds=90,
        change_at=40.0,
        other=other,
    )
    assert r.state == "box_not_visible"
    assert r.changed_at == pytest.approx(40.0, abs=5.0)


@pytest.mark.parametrize(("min_match", "state"), [(0.55, "box_not_visible"), (-1.0, "shifted")])
def test_a_chance_fit_of_a_turned_view_is_not_a_shift(
    scene, reference, monkeypatch, min_match, state
):
    """A view turned away registers, by chance, 30 px off with the box still in the picture
    (azerbaijan-2024 seed 63, cam-D081-026): the moved reference does not match the picture,
    so the box is not visible; only without that check is it called shifted."""
    from skimage import data

    other = clips.cv2.resize(
        clips.cv2.cvtColor(data.coffee(), clips.cv2.COLOR_RGB2GRAY), (320, 180)
    )
    chance = ViewTransform(np.array([[1, 0, 30.0], [0, 1, 0]]), "features", inliers=12)
    real = Registrar.estimate
    monkeypatch.setattr(
        Registrar,
        "estimate",
        lambda r, cur: real(r, cur) if abs(cur.mean() - scene.mean()) < 10 else chance,
    )
    auditor = ViewAuditor(
        reference=reference, box_polygon=BOX, min_match=min_match, min_moved_outline=0.0
    )
    r = run(auditor, scene, seconds=90, change_at=40.0, other=other // 2)
    assert r.state == state
    assert r.changed_at == pytest.approx(40.0, abs=5.0)


def test_short_bumps_are_not_changes(scene, reference):
    auditor = ViewAuditor(reference=reference, box_polygon=BOX, persist_s=10.0)
    rng = np.random.default_rng(2)
    bumped = clips.warp(scene, 30, 0)
    for i in range(120):
        img = bumped if 50 <= i < 54 else scene  # 4 s bump
        auditor.update(clips.frame_at(float(i), clips.noisy(img, rng)))
    r = auditor.result()
    assert r.state == "ok" and r.changed_at is None


@pytest.mark.parametrize(
    ("other", "blur_min_match", "state", "changed"),
    [
        ("same", 0.8, "ok", False),  # defocused, still looking at the box
        ("moved", 0.8, "shifted", True),  # defocused and nudged 40 px
        ("flipped", 0.8, "box_not_visible", True),  # defocused and turned to another view
        ("flipped", None, "unknown", False),  # blurred samples not judged: nothing seen
    ],
)
def test_blurred_frames_are_judged_on_low_passed_images(
    scene, reference, other, blur_min_match, state, changed
):
    """A camera defocused all day (σ 3 px) that turns at 30 s: too blurred for features, the
    low-passed reference still says whether it looks at the box."""
    auditor = ViewAuditor(reference=reference, box_polygon=BOX, blur_min_match=blur_min_match)
    view = {"same": scene, "moved": clips.warp(scene, 20, 5), "flipped": scene[:, ::-1]}[other]
    blur = clips.cv2.GaussianBlur
    rng = np.random.default_rng(4)
    for i in range(90):
        img = view if i >= 30 else scene
        auditor.update(clips.frame_at(float(i), clips.noisy(blur(img, (0, 0), 3.0), rng)))
    r = auditor.result()
    assert r.state == state
    assert (r.changed_at is not None) == changed
    if changed:
        assert r.changed_at == pytest.approx(30.0, abs=2.0)
    judged = {"unknown"} if blur_min_match is None else {"ok"}
    assert set(r.states[r.t < 30]) == judged


def test_a_blurred_baseline_does_not_say_where_the_box_is(scene):
    """No reference and a camera defocused from its first frame: the view matching its own
    blurred baseline is not judged (nothing shows the box), a turn away from it is."""
    auditor = ViewAuditor(image_size=FULL, box_polygon=BOX, baseline_s=20.0)
    blur = clips.cv2.GaussianBlur
    rng = np.random.default_rng(5)
    for i in range(120):
        img = scene[:, ::-1] if i >= 60 else scene
        auditor.update(clips.frame_at(float(i), clips.noisy(blur(img, (0, 0), 4.0), rng)))
    r = auditor.result()
    assert set(r.states[r.t < 60]) == {"unknown"}
    assert r.state == "box_not_visible"
    assert r.changed_at == pytest.approx(60.0, abs=2.0)


@pytest.mark.parametrize(
    ("dx", "blur_max_outline", "blur_max_area", "state"),
    [
        (0, 0.8, 0.55, "unknown"),  # the box there, blurred: nothing says where it should be
        (170, 0.8, 0.55, "box_not_visible"),  # the polygon on a flat stretch: no box there
        (170, None, 0.55, "unknown"),  # ... of a picture about as flat (area support 0.96)
        (170, None, None, "unknown"),  # without the checks nothing tells
        # the polygon on bare floor whose surroundings are as flat (outline support 1.0,
        # azerbaijan-2024 79's cam-D101-079), but much flatter than the picture at large
        (100, 0.8, 0.55, "box_not_visible"),
        (100, 0.8, None, "unknown"),
    ],
)
def test_a_camera_blurred_all_day_whose_polygon_shows_no_box_is_turned_away(
    simulated_room, dx, blur_max_outline, blur_max_area, state
):
    """No reference, a polygon, defocused (σ 4) and turned from its first frame
    (azerbaijan-2024 74's cam-D051-025, 75's cam-D114-011, 79's cam-D101-079): the blurred
    baseline has less edge along the polygon than around it, or over the polygon's area
    than over the whole picture, where a blurred box still shows some."""
    from rendered_clips import sabotaged_plan

    from pollwatch.simulate.render import CameraRenderer

    polygon = CameraRenderer(sabotaged_plan()).box_polygon()
    gray = clips.cv2.GaussianBlur(_simulated_gray(simulated_room, dx), (0, 0), 4.0)
    size = (gray.shape[1], gray.shape[0])
    kw = {
        "box_polygon": polygon,
        "blur_max_outline": blur_max_outline,
        "blur_max_area": blur_max_area,
    }
    r = _still_gray(gray, size, seconds=90, **kw)
    assert r.state == state
    assert r.box_outline == pytest.approx({0: 1.5, 100: 1.0, 170: 0.7}[dx], abs=0.2)
    if state == "box_not_visible":
        assert r.changed_at == pytest.approx(0.0, abs=1.0)


def test_a_camera_blurred_all_day_without_polygon_is_not_turned_away_unsearched(scene):
    """No reference, no polygon, defocused from its first frame, nudged 20 px at 60 s
    (azerbaijan-2024 75's cam-D072-016): the box was never searched for on an in-focus
    picture, so not finding it says nothing; the registered nudge is a shift."""
    auditor = ViewAuditor(image_size=FULL, baseline_s=20.0)
    blur = clips.cv2.GaussianBlur
    nudged = clips.warp(scene, 20, 0)
    rng = np.random.default_rng(12)
    for i in range(120):
        img = nudged if i >= 60 else scene
        auditor.update(clips.frame_at(float(i), clips.noisy(blur(img, (0, 0), 4.0), rng)))
    r = auditor.result()
    assert set(r.states[r.t < 59]) == {"unknown"}
    assert r.state == "shifted" and r.changed_at == pytest.approx(60.0, abs=2.0)


def test_dark_frames_are_not_judged(scene, reference):
    auditor = ViewAuditor(reference=reference, box_polygon=BOX)
    for i in range(30):
        auditor.update(clips.frame_at(float(i), (scene * 0.05).astype(np.uint8)))
    r = auditor.result()
    assert set(r.states) == {"unknown"}
    assert r.state == "unknown" and r.changed_at is None  # nothing says where it looks


@pytest.mark.parametrize(
    ("dx", "dy", "angle", "scale"),
    [(0, 0, 0, 1.0), (12, -7, 0, 1.0), (-40, 15, 0, 1.0), (10, 5, 4.0, 1.0), (0, 0, 0, 1.08)],
)
def test_registrar_recovers_known_warps(scene, dx, dy, angle, scale):
    rng = np.random.default_rng(3)
    current = clips.noisy(clips.warp(scene, dx, dy, angle, scale), rng, 3.0)
    est = Registrar(scene).estimate(current)
    assert est is not None and est.method == "features"
    centre = (160.0, 90.0)
    moved = est.apply([centre])[0]
    assert moved == pytest.approx((centre[0] + dx, centre[1] + dy), abs=1.0)
    assert est.angle_deg == pytest.approx(angle, abs=0.3)
    assert est.scale == pytest.approx(scale, abs=0.01)


def test_phase_correlation_takes_over_on_low_texture():
    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[0:180, 0:320]
    blobs = 120 + 60 * np.sin(xx / 23.0) * np.cos(yy / 17.0)
    smooth = clips.cv2.GaussianBlur(blobs.astype(np.uint8), (0, 0), 4)
    current = clips.noisy(clips.warp(smooth, 9, -4), rng, 1.0)
    est = Registrar(smooth).estimate(current)
    assert est is not None and est.method == "phase"
    assert est.matrix[:, 2] == pytest.approx((9, -4), abs=1.0)


def test_phase_correlate_leaves_its_images_as_they_were(scene):
    """OpenCV multiplies phaseCorrelate's inputs by the window in place: a reference
    correlated again and again faded to its centre and its response fell."""
    window = clips.cv2.createHanningWindow((320, 180), clips.cv2.CV_32F)
    first = scene.astype(np.float32)
    second = clips.warp(scene, 6, -3).astype(np.float32)
    before = (first.copy(), second.copy())
    answers = [phase_correlate(first, second, window) for _ in range(4)]
    assert np.array_equal(first, before[0]) and np.array_equal(second, before[1])
    assert all(a == answers[0] for a in answers)
    assert answers[0][0] == pytest.approx((6, -3), abs=0.5)
    registrar = Registrar(scene)
    responses = [registrar.phase(second.astype(np.uint8)).quality for _ in range(4)]
    assert responses == [responses[0]] * 4


def test_a_steady_camera_with_passers_by_is_registered_once(scene, reference, monkeypatch):
    """The cheap path: a phase correlation against the last estimate's frame per sample."""
    calls = []
    estimate = Registrar.estimate
    monkeypatch.setattr(Registrar, "estimate", lambda r, cur: calls.append(1) or estimate(r, cur))
    auditor = ViewAuditor(reference=reference, box_polygon=BOX)
    rng = np.random.default_rng(3)
    for i in range(300):
        img = clips.noisy(scene, rng, sigma=3.0).copy()
        x = (i * 7) % 280  # someone walking across the room
        img[60:150, x : x + 25] = 60
        auditor.update(clips.frame_at(float(i), img))
    assert auditor.result().state == "ok"
    assert len(calls) <= 2  # 15 before the fix above


@pytest.mark.parametrize(
    ("current", "matrix", "least", "most"),
    [
        ("same", [[1, 0, 0], [0, 1, 0]], 0.95, 1.0),
        ("moved", [[1, 0, 20], [0, 1, -8]], 0.95, 1.0),  # the fit that moved it
        ("moved", [[1, 0, 0], [0, 1, 0]], -1.0, 0.8),  # a wrong fit
        ("other", [[1, 0, 0], [0, 1, 0]], -1.0, 0.4),  # another view altogether
    ],
)
def test_agreement_tells_a_true_fit_from_a_chance_one(scene, current, matrix, least, most):
    from skimage import data

    pictures = {
        "same": scene,
        "moved": clips.warp(scene, 20, -8),
        "other": clips.cv2.resize(
            clips.cv2.cvtColor(data.coffee(), clips.cv2.COLOR_RGB2GRAY), (320, 180)
        ),
    }
    fit = ViewTransform(np.array(matrix, float), "features")
    found = Registrar(scene).agreement(pictures[current], fit)
    assert least <= found <= most


def test_agreement_kept_for_the_last_transform_answers_as_anew(scene):
    """The moved reference is kept for the last transform asked about: asked again (the
    same object) or asked about another, the answer is a fresh Registrar's, bit for bit."""
    kept = Registrar(scene)
    rng = np.random.default_rng(4)
    moves = [
        ViewTransform(np.array([[1, 0, dx], [0, 1, dy]], float), "features")
        for dx, dy in [(0, 0), (20, -8), (400, 0), (-3.5, 2.25)]
    ]
    for i in [0, 0, 1, 1, 0, 2, 2, 3, 1, 3]:
        picture = clips.noisy(clips.warp(scene, 20, -8), rng)
        found, fresh = (
            kept.agreement(picture, moves[i]),
            Registrar(scene).agreement(picture, moves[i]),
        )
        assert found == fresh or (math.isnan(found) and math.isnan(fresh))


def test_agreement_without_overlap_is_unknown(scene):
    far = ViewTransform(np.array([[1, 0, 400.0], [0, 1, 0]]), "features")
    assert math.isnan(Registrar(scene).agreement(scene, far))


def test_the_reference_features_wait_for_the_first_feature_match(scene):
    """Registered by phase (a steady camera's path), the reference's ORB features are never
    found; the first feature match finds them once and later ones reuse them."""
    registrar = Registrar(scene)
    assert registrar.phase(scene) is not None and registrar._ref_features is None
    first = registrar.features(scene)
    found = registrar._ref_features
    assert found is not None and len(found[0]) >= registrar.min_inliers
    assert first is not None and np.allclose(first.matrix, np.eye(2, 3), atol=1e-6)
    registrar.features(scene)
    assert registrar._ref_features is found


def test_registration_strategies_by_name():
    assert get_registration_by_name("phase") is Registrar.phase
    with pytest.raises(ValueError, match="unknown registration method"):
        get_registration_by_name("sift")


@pytest.mark.parametrize(
    ("matrix", "visible"),
    [
        ([[1, 0, 0], [0, 1, 0]], 1.0),
        ([[1, 0, 35], [0, 1, 0]], 0.5),  # half of the 70 px wide box pushed past x = 80
        ([[1, 0, 100], [0, 1, 0]], 0.0),
    ],
)
def test_visible_fraction(matrix, visible):
    box = [(10, 10), (80, 10), (80, 50), (10, 50)]
    frac = visible_fraction(box, ViewTransform(np.array(matrix, float), "identity"), 80.0, 60.0)
    assert frac == pytest.approx(visible, abs=1e-6)


def test_polygon_clipping_and_area():
    tri = [(-10, 0), (10, 0), (10, 20)]
    assert polygon_area(tri) == pytest.approx(200.0)
    assert polygon_area(clip_polygon_to_rect(tri, 100, 100)) == pytest.approx(150.0)
    assert len(clip_polygon_to_rect([(200, 200), (210, 200), (210, 210)], 100, 100)) == 0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({}, "image_size"),
        ({"image_size": FULL, "box_polygon": [(0, 0), (1, 1)]}, "box_polygon"),
        ({"image_size": FULL, "sample_every_s": 0.0}, "sample_every_s"),
        ({"image_size": FULL, "shift_px": -1.0}, "shift_px"),
        ({"image_size": FULL, "min_visible": 0.0}, "min_visible"),
        ({"image_size": FULL, "method": "sift"}, "registration method"),
        ({"image_size": FULL, "locate_confidence": 1.5}, "locate_confidence"),
        ({"image_size": FULL, "blur_ratio": 1.0}, "blur_ratio"),
        ({"image_size": FULL, "blur_sigma": 0.0}, "blur_sigma"),
        ({"image_size": FULL, "cut_share": 0.5}, "cut_share"),
        ({"image_size": FULL, "blur_min_match": 1.5}, "blur_min_match"),
        ({"image_size": FULL, "blur_max_outline": -1.0}, "blur_max_outline"),
        ({"image_size": FULL, "blur_max_coverage": 1.5}, "blur_max_coverage"),
        ({"image_size": FULL, "min_box_score": 0.0}, "min_box_score"),
        ({"image_size": FULL, "search_every_s": 0.0}, "search_every_s"),
        ({"image_size": FULL, "refit_px": -1.0}, "refit_px"),
        ({"image_size": FULL, "cover_px": -1.0}, "cover_px"),
        ({"image_size": FULL, "repeat_score": 0.0}, "repeat_score"),
        ({"image_size": FULL, "repeat_windows": 0}, "repeat_windows"),
        ({"reference": np.zeros((8, 8), np.uint8)}, "reference"),
    ],
)
def test_view_auditor_checks_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ViewAuditor(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"reference": np.zeros((10, 10), np.float32)}, "reference"),
        ({"reference": np.zeros((64, 64), np.uint8), "max_features": 10}, "max_features"),
        ({"reference": np.zeros((64, 64), np.uint8), "ratio": 1.5}, "ratio"),
    ],
)
def test_registrar_checks_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Registrar(**kwargs)


@pytest.mark.parametrize("make", [ViewAuditor, ConditionsAuditor])
def test_frames_of_another_aspect_ratio_are_refused(make):
    auditor = make(image_size=FULL)
    with pytest.raises(ValueError, match=r"frame at 0.00 s is 320x240"):
        auditor.update(clips.frame_at(0.0, np.zeros((240, 320), np.uint8)))


def test_a_dark_stretch_does_not_break_a_turn(scene, reference):
    """Turned at 40 s, the room dark from 46 to 70 s: one run from the turn on."""
    auditor = ViewAuditor(reference=reference, box_polygon=BOX)
    rng = np.random.default_rng(3)
    turned = clips.warp(scene, -150, 0)
    for i in range(120):
        img = scene if i < 40 else turned
        if 46 <= i < 70:
            img = (img * 0.05).astype(np.uint8)
        auditor.update(clips.frame_at(float(i), clips.noisy(img, rng)))
    r = auditor.result()
    assert set(r.states[(r.t >= 46) & (r.t < 70)]) == {"unknown"}
    assert r.state == "box_not_visible"
    assert r.changed_at == pytest.approx(40.0, abs=2.0)
    # the first turned frame at 40 s, the last one as before at 39 s: dated halfway
    assert [(x.start, x.end) for x in r.ranges["box_not_visible"]] == [(39.5, pytest.approx(121))]


@pytest.fixture(scope="module")
def simulated_room():
    """The simulator's empty room (BGR) as a reference; its box is found by `locate_box`."""
    from rendered_clips import sabotaged_plan

    from pollwatch.simulate.render import CameraRenderer

    return CameraRenderer(sabotaged_plan()).reference_image()


@pytest.mark.parametrize(
    ("dx", "locate", "state"),
    [
        (170, 0.25, "box_not_visible"),  # the box (x 150-190 of 320) moved out of the picture
        (170, None, "shifted"),  # without looking for the box only the shift is known
        (60, 0.25, "shifted"),
    ],
)
def test_without_a_polygon_the_box_is_located_in_the_reference(simulated_room, dx, locate, state):
    gray, moved = _simulated_gray(simulated_room, 0), _simulated_gray(simulated_room, dx)
    auditor = ViewAuditor(reference=simulated_room, locate_confidence=locate)
    rng = np.random.default_rng(0)
    for i in range(60):
        auditor.update(clips.frame_at(float(i), clips.noisy(gray if i < 20 else moved, rng)))
    r = auditor.result()
    assert r.state == state
    assert r.changed_at == pytest.approx(20.0, abs=2.0)
    assert r.shift_px_median == pytest.approx(dx, abs=3.0)
    assert np.isfinite(r.visible).any() == (locate is not None)


@pytest.mark.parametrize(("blur_ratio", "states"), [(0.3, {"unknown"}), (0.0, {"shifted"})])
def test_frames_much_softer_than_the_reference_are_not_judged(scene, reference, blur_ratio, states):
    """Sharpness 0.076 against the reference's 0.27: over a 0.06 floor (the default floor,
    0.10, would refuse it by itself), under 0.3 of it (not judged on the low-passed images
    either: `blur_min_match` None)."""
    soft = clips.cv2.GaussianBlur(clips.warp(scene, 20, 0), (0, 0), 0.7)
    auditor = ViewAuditor(
        reference=reference,
        box_polygon=BOX,
        blur_ratio=blur_ratio,
        blur_min_match=None,
        min_sharpness=0.06,
    )
    r = run(auditor, scene, seconds=60, change_at=30.0, other=soft)
    assert set(r.states[r.t >= 31]) == states
    assert set(r.states[r.t < 30]) == {"ok"}


@pytest.mark.parametrize(("scale", "found"), [(0.9, True), (0.6, True), (0.4, False)])
def test_registration_refuses_a_far_zoom(scene, scale, found):
    """A features fit zooming more than 2x either way is taken for chance matches."""
    transform = Registrar(scene).estimate(clips.warp(scene, 0, 0, 0, scale))
    assert (transform is not None) == found
    if found:
        assert transform.scale == pytest.approx(scale, abs=0.02)


@pytest.mark.parametrize(("size", "shift_px"), [((640, 360), 16.0), ((320, 180), 8.0)])
def test_the_shift_threshold_follows_the_picture_width(size, shift_px):
    assert ViewAuditor(image_size=size).shift_px == shift_px
    assert ViewAuditor(image_size=size, shift_px=5.0).shift_px == 5.0


@pytest.mark.parametrize("with_reference", [True, False])
@pytest.mark.parametrize(
    ("box_stays", "state"),
    [(True, "shifted"), (False, "box_not_visible")],
)
def test_a_turn_that_leaves_no_box_outline_is_box_not_visible(
    scene, reference, with_reference, box_stays, state
):
    """The room registers 40 px away, but where the box should be there is no outline: the
    fit matched the rest of the room and the box is gone (a wide pan in a symmetric room)."""
    room = clips.textured_scene(320, 180)
    other = clips.warp(scene if box_stays else room, 20, 5, 0)
    auditor = ViewAuditor(
        reference=reference if with_reference else None, image_size=FULL, box_polygon=BOX
    )
    r = run(auditor, scene, seconds=180, change_at=100.0, other=other)
    assert r.state == state
    assert r.changed_at is not None and abs(r.changed_at - 100.0) <= 5.0


def test_the_moved_outline_threshold_is_checked():
    with pytest.raises(ValueError, match="min_moved_outline"):
        ViewAuditor(image_size=FULL, min_moved_outline=-1.0)


def _board_over(img: np.ndarray, x: int, y: int) -> np.ndarray:
    """A textured board in front of the box at (x, y) (analysis pixels, its top left), wider
    and taller than it."""
    out = img.copy()
    out[y - 15 : y + 75, x - 20 : x + 60] = clips.textured_scene(80, 90)[::-1, ::-1] // 2 + 90
    return out


@pytest.mark.parametrize(
    ("cover_px", "state", "lost"),
    [
        (2.0, "shifted", ()),
        (None, "box_not_visible", ((100.0, 160.0),)),  # a box gone from a turned view: lost
    ],
)
def test_a_box_covered_after_a_nudge_is_blocked_not_lost(scene, reference, cover_px, state, lost):
    """Nudged 40 px at 60 s (the box still in view), then a board in front of the box where
    it now is from 100 to 160 s (demo 87's cam-D002-007): the view has not moved since it
    last showed the box, so the view stays shifted and the conditions find the box blocked."""
    view = ViewAuditor(reference=reference, box_polygon=BOX, cover_px=cover_px)
    conditions = ConditionsAuditor(reference=reference, box_polygon=BOX)
    nudged = clips.warp(scene, 20, 5)
    covered = _board_over(nudged, 145, 105)
    rng = np.random.default_rng(7)
    for i in range(200):
        img = scene if i < 60 else covered if 100 <= i < 160 else nudged
        frame = clips.frame_at(float(i), clips.noisy(img, rng))
        view.update(frame)
        conditions.update(frame, view=view.current, box_visible=view.box_visible)
    r = view.result()
    assert r.state == state and r.changed_at == pytest.approx(60.0, abs=2.0)
    found = [(x.start, x.end) for x in r.ranges["box_not_visible"]]
    assert found == [pytest.approx(x, abs=2.5) for x in lost]
    blocked = [(x.start, x.end) for x in conditions.result().ranges["blocked"]]
    assert blocked == ([] if lost else [pytest.approx((100.0, 160.0), abs=2.5)])


def test_a_camera_turned_away_after_a_nudge_is_not_covered(scene, reference):
    """Nudged at 60 s, then turned to a room without the box at 100 s: the view moved, so the
    box gone is box not visible (not a cover)."""
    view = ViewAuditor(reference=reference, box_polygon=BOX)
    nudged = clips.warp(scene, 20, 5)
    away = clips.warp(clips.textured_scene(320, 180), 40, 5)
    rng = np.random.default_rng(8)
    for i in range(160):
        img = scene if i < 60 else nudged if i < 100 else away
        view.update(clips.frame_at(float(i), clips.noisy(img, rng)))
    r = view.result()
    assert [(x.start, x.end) for x in r.ranges["box_not_visible"]] == [
        pytest.approx((100.0, 161.0), abs=2.5)
    ]


def test_a_blurred_view_held_when_its_phase_peak_fails(scene, reference, monkeypatch):
    """Nudged and defocused at once at 30 s (demo 87's cam-D005-005): the low-passed phase
    correlation finds no peak on every other sample; the last blurred match, tried too,
    keeps the view shifted from the change on."""
    phase = get_registration_by_name("phase")
    real, calls = Registrar.estimate, iter(range(10**6))
    monkeypatch.setattr(
        Registrar,
        "estimate",
        lambda r, cur: None if r._estimate is phase and next(calls) % 2 else real(r, cur),
    )
    auditor = ViewAuditor(reference=reference, box_polygon=BOX)
    moved = clips.cv2.GaussianBlur(clips.warp(scene, 20, 5), (0, 0), 3.0)
    rng = np.random.default_rng(9)
    for i in range(120):
        auditor.update(clips.frame_at(float(i), clips.noisy(moved if i >= 30 else scene, rng)))
    r = auditor.result()
    assert r.state == "shifted" and r.changed_at == pytest.approx(30.0, abs=2.0)
    assert set(r.states[r.t >= 30]) == {"shifted"}


@pytest.mark.parametrize("with_reference", [True, False])
@pytest.mark.parametrize(
    ("refine", "change_at", "dx", "changed_at"),
    [
        (True, 97.1, 40, 97.05),  # halfway between the frames either side, 0.5 s apart
        (True, 97.9, 40, 98.05),  # the turn just before a sample: halfway to it
        (True, 97.1, -300, 97.05),
        (False, 97.1, 40, 98.3),  # at the first turned sample (every 2 s)
        (False, 97.1, -300, 98.3),
    ],
)
def test_a_change_between_samples_is_dated_among_the_frames_between(
    scene, reference, with_reference, refine, change_at, dx, changed_at
):
    """Samples every 2 s, frames every 0.5 s: a turn between two samples is dated halfway
    between the frames either side of it, and the runs' edges move with it."""
    auditor = ViewAuditor(
        reference=reference if with_reference else None,
        image_size=FULL,
        box_polygon=BOX,
        refine=refine,
    )
    r = run(auditor, scene, seconds=180, change_at=change_at, dx=dx, fps=2.0)
    assert r.changed_at == pytest.approx(changed_at, abs=1e-6)
    state = "box_not_visible" if dx == -300 else "shifted"
    assert r.ranges[state][0].start == pytest.approx(changed_at, abs=1e-6)
    assert r.ranges["ok"][0].end == pytest.approx(changed_at, abs=1e-6)


@pytest.mark.parametrize(
    ("between", "dated"),
    [
        ("aaa", 1.75),  # every frame like the earlier sample: halfway to the later one
        ("abb", 0.75),
        ("bbb", 0.25),  # the first frame already like the later sample
        ("", 1.0),  # no frame between: halfway between the samples
    ],
)
def test_a_change_is_dated_halfway_between_the_frames_either_side(between, dated):
    """Samples at 0 and 2 s, frames every 0.5 s between them, split by likeness."""
    from pollwatch.audit.view import _onset

    a, b = np.zeros((10, 10), np.uint8), np.full((10, 10), 100, np.uint8)
    frames = [(0.5 * (i + 1), a if c == "a" else b) for i, c in enumerate(between)]
    assert _onset((0.0, a), (2.0, b), frames) == pytest.approx(dated)


def test_frames_of_another_size_are_not_compared():
    from pollwatch.audit.view import _onset

    a, b = np.zeros((10, 10), np.uint8), np.full((10, 10), 100, np.uint8)
    assert _onset((0.0, a), (2.0, b), [(0.5, np.zeros((5, 5), np.uint8))]) is None


@pytest.mark.parametrize(
    ("blur_held_match", "lost", "blocked"),
    [
        (0.6, [], [(60.0, 120.0)]),  # the view held: the zone judged, the box blocked
        (None, [(60.0, 120.0)], []),  # the held view not tried: the box lost, nothing blocked
    ],
)
def test_a_box_covered_on_a_defocused_camera_is_blocked(
    scene, reference, blur_held_match, lost, blocked
):
    """Defocused all day (σ 3 px) and a large board in front of the box from 60 to 120 s
    (demo 102's cam-D006-003): the low-passed picture matches the reference less than
    `blur_min_match`, but its phase peak holds the view where it was, so the view stays ok
    and the conditions find the box blocked against the blurred baseline."""
    view = ViewAuditor(reference=reference, box_polygon=BOX, blur_held_match=blur_held_match)
    conditions = ConditionsAuditor(reference=reference, box_polygon=BOX)
    board = scene.copy()
    board[60:180, 80:230] = 200  # a pale screen over a third of the picture, the box behind
    blur = clips.cv2.GaussianBlur
    rng = np.random.default_rng(10)
    for i in range(180):
        img = board if 60 <= i < 120 else scene
        frame = clips.frame_at(float(i), clips.noisy(blur(img, (0, 0), 3.0), rng))
        view.update(frame)
        conditions.update(frame, view=view.current, box_visible=view.box_visible)
    r = view.result()
    assert [(x.start, x.end) for x in r.ranges["box_not_visible"]] == [
        pytest.approx(x, abs=2.5) for x in lost
    ]
    found = [(x.start, x.end) for x in conditions.result().ranges["blocked"]]
    assert found == [pytest.approx(x, abs=2.5) for x in blocked]


def test_a_nudged_defocused_camera_moves_the_box_zone(scene, reference):
    """Defocused all day (σ 3 px), nudged 20 px at 60 s: the view is judged on low-passed
    pictures, and its transform must reach the conditions (`current`), or they compare the
    box zone where the box no longer is and find it blocked from the nudge on (demo 124's
    cam-D001-010: 50 s of false `blocked` after a nudge; the blurred path never set it)."""
    view = ViewAuditor(reference=reference, box_polygon=BOX)
    conditions = ConditionsAuditor(reference=reference, box_polygon=BOX)
    blur = clips.cv2.GaussianBlur
    nudged = clips.warp(scene, 20, 5)
    rng = np.random.default_rng(11)
    moved = []
    for i in range(160):
        img = scene if i < 60 else nudged
        frame = clips.frame_at(float(i), clips.noisy(blur(img, (0, 0), 3.0), rng))
        view.update(frame)
        conditions.update(frame, view=view.current, box_visible=view.box_visible)
        if i >= 70 and view.current is not None:
            moved.append(float(np.hypot(*view.current.matrix[:, 2])))
    r = view.result()
    assert r.state == "shifted" and r.changed_at == pytest.approx(60.0, abs=2.0)
    assert len(moved) >= 80 and np.median(moved) > 5.0  # the transform reached the caller
    assert conditions.result().ranges["blocked"] == ()


def test_agreement_can_leave_the_covered_box_out(scene):
    """A board over the box lowers the match of the whole picture; left out, the rest of the
    room matches the reference as before (`Registrar.agreement(leave_out=...)`, what
    `ViewAuditor._covered_view` compares a defocused camera moved behind a board with)."""
    from pollwatch.audit.geometry import ViewTransform

    registrar = Registrar(scene, method="phase")
    covered = scene.copy()
    covered[70:170, 95:195] = 200  # a pale board over the box and around it
    still = ViewTransform(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), "identity")
    board = np.array([[90.0, 65.0], [200.0, 65.0], [200.0, 175.0], [90.0, 175.0]])
    whole = registrar.agreement(covered, still)
    left_out = registrar.agreement(covered, still, leave_out=board)
    assert whole < 0.85 and left_out > 0.99
    assert registrar.agreement(scene, still, leave_out=board) > 0.99


@pytest.mark.parametrize(
    ("states", "joined"),
    [
        (
            "ok ok lost lost shifted shifted shifted shifted",
            "ok ok shifted shifted shifted shifted shifted shifted",
        ),
        ("ok lost lost ok", "ok lost lost ok"),  # no turned run beside it: left as it is
        ("shifted shifted lost ok", "lost lost lost ok"),  # the latest run's state
        ("ok lost lost lost lost lost lost shifted", "ok lost lost lost lost lost lost shifted"),
    ],
)
def test_a_short_turned_run_takes_its_turned_neighbours_state(states, joined):
    """2-s samples, runs shorter than 10 s: a moment lost between ok and shifted is part of
    the turn (azerbaijan-2024 78's cam-D067-002: its change was dated 5.3 s late)."""
    from pollwatch.audit.view import _joined_turns

    name = {"lost": "box_not_visible"}
    got = np.array([name.get(s, s) for s in states.split()])
    t = 2.0 * np.arange(got.size)
    want = [name.get(s, s) for s in joined.split()]
    assert _joined_turns(t, got, 10.0).tolist() == want


def test_the_covered_view_rule_tries_the_last_view_whichever_rule_held_it(scene, reference):
    """demo 198's cam-D006-006 (defocused σ 5.8, a board before its box): when no phase peak
    is found, the last blurred view is kept if it matches with the box's surroundings left
    out, also when the plain match (not the covered rule) gave it; it lost its view for 5 s
    at the board's end, and the blocked box with it, when only the rule's own view was
    tried. A view that no longer matches without the box is still not kept."""
    auditor = ViewAuditor(reference=reference, box_polygon=BOX)
    blur = clips.cv2.GaussianBlur
    rng = np.random.default_rng(9)
    for i in range(10):
        auditor.update(clips.frame_at(float(i), clips.noisy(blur(scene, (0, 0), 3.0), rng)))
    held = auditor._soft_last
    assert held is not None and auditor._covered_last is None  # held by the plain match
    covered = scene.copy()
    covered[95:155, 115:175] = 0  # a board over the box, inside its surroundings
    sample = blur(blur(covered, (0, 0), 3.0), (0, 0), auditor.blur_sigma)
    assert auditor._covered_view(sample, None, held) is held
    away = blur(blur(scene[:, ::-1], (0, 0), 3.0), (0, 0), auditor.blur_sigma)
    assert auditor._covered_view(away, None, held) is None
