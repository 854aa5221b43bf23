"""The audit as an engine analyser on recordings made by the simulator's renderer."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from rendered_clips import AUDIO_CUT_AT, FROZEN, MUTED_AT, NUDGED_AT, OUTAGE, SECONDS, START, Clip

from pollwatch.audit import CameraAuditor, audit_findings, make_audit_analyser
from pollwatch.audit.ranges import total_duration
from pollwatch.case import CasePaths
from pollwatch.errors import InputError
from pollwatch.store import Camera
from pollwatch.video import EngineOptions, analyse_video


def camera_for(clip: Clip, *, reference: bool = True, polygon: bool = True) -> Camera:
    return Camera(
        camera_id="cam-test",
        station_id="st-test",
        source=clip.path.name,
        start_time=START,
        box_polygon=clip.rendered.box_polygon if polygon else None,
        reference_image=Path(clip.rendered.reference_path).name if reference else None,
        width=320,
        height=180,
    )


@pytest.fixture(scope="module")
def audited(sabotaged: Clip):
    paths = CasePaths.of(sabotaged.path.parent)
    analyser = make_audit_analyser(camera_for(sabotaged), paths)
    return analyse_video(sabotaged.path, [analyser], start_time=START)


def test_the_auditor_has_the_engine_shape(audited) -> None:
    (result,) = audited.results
    assert result.frames > 0
    assert result.start_time == START
    assert audited.skip == "nonref"  # the audit samples at most half the frames
    assert result.span.end == pytest.approx(SECONDS, abs=0.2)


@pytest.mark.parametrize("chunk_s", [0.0, 5.0])
def test_the_audit_does_not_depend_on_the_audio_chunks(audited, sabotaged: Clip, chunk_s) -> None:
    """The engine's audio chunk length (`audio_chunk_s`, 1 s by default) changes how the sound
    is handed over, never what the audit finds (its windows are measured as if alone)."""
    paths = CasePaths.of(sabotaged.path.parent)
    analyser = make_audit_analyser(camera_for(sabotaged), paths)
    options = EngineOptions(audio_chunk_s=chunk_s)
    run = analyse_video(sabotaged.path, [analyser], start_time=START, options=options)
    assert (run.audio_chunks > audited.audio_chunks) is (chunk_s < 1.0)
    assert pickle.dumps(run.results[0]) == pickle.dumps(audited.results[0])


@pytest.mark.parametrize(
    ("part", "state", "expected", "tolerance"),
    [
        ("picture", "frozen", FROZEN, 1.0),  # x264 refines a still picture for ~1 s
        ("picture", "offline", OUTAGE, 0.2),  # the engine reports the gap exactly
        ("view", "shifted", (NUDGED_AT, SECONDS), 2.0),  # sampled every 2 s
        ("sound", "muted", (MUTED_AT, OUTAGE[0]), 1.0),  # 1-s windows; none in the outage
        ("sound", "absent", OUTAGE, 0.5),
    ],
)
def test_each_condition_is_found_in_its_time(audited, part, state, expected, tolerance) -> None:
    (result,) = audited.results
    ranges = {
        "picture": result.conditions.ranges,
        "view": result.view.ranges,
        "sound": result.audio.ranges,
    }[part][state]
    assert len(ranges) >= 1, (part, state)
    assert ranges[0].start == pytest.approx(expected[0], abs=tolerance)
    assert ranges[0].end == pytest.approx(expected[1], abs=tolerance)


def test_nothing_else_is_found(audited) -> None:
    (result,) = audited.results
    for condition in ("dark", "blocked", "blurred"):
        assert result.conditions.ranges[condition] == (), condition
    assert result.view.ranges["box_not_visible"] == ()
    assert result.audio.ranges["quiet"] == ()
    assert result.view.state == "shifted"
    assert result.view.changed_at == pytest.approx(NUDGED_AT, abs=2.0)
    assert result.audio.state == "muted"


def test_the_unobservable_time_is_frozen_plus_offline(audited) -> None:
    (result,) = audited.results
    blind = SECONDS - total_duration(result.observable)
    expected = (FROZEN[1] - FROZEN[0]) + (OUTAGE[1] - OUTAGE[0])
    assert blind == pytest.approx(expected, abs=1.5)


@pytest.mark.parametrize("how", ["dropped", "garbage"])
def test_audio_lost_half_way_is_absent_from_then_on(audio_cut, sabotaged: Clip, how: str) -> None:
    path = audio_cut(how)
    analyser = make_audit_analyser(camera_for(sabotaged), CasePaths.of(sabotaged.path.parent))
    run = analyse_video(path, [analyser], start_time=START)
    (result,) = run.results
    (ok,) = result.audio.ranges["ok"]
    assert ok.start == 0.0 and ok.end == pytest.approx(AUDIO_CUT_AT, abs=1.0)
    (absent,) = result.audio.ranges["absent"]
    assert absent.start == pytest.approx(AUDIO_CUT_AT, abs=1.0)
    assert absent.end == pytest.approx(SECONDS, abs=1.0)
    assert result.audio.state == "absent"
    # the picture's audit is untouched by the broken sound
    (frozen,) = result.conditions.ranges["frozen"]
    assert frozen.start == pytest.approx(FROZEN[0], abs=1.0)


def test_without_reference_a_nudge_in_the_baseline_is_not_ok(sabotaged: Clip) -> None:
    """The whole 40 s clip is the baseline minute, mostly nudged: the median picture does
    not show the box's outline where the polygon says, but close by (refitted): shifted, by
    the 8-deg pan's 20 px once nudged."""
    camera = camera_for(sabotaged, reference=False)
    analyser = make_audit_analyser(camera, CasePaths.of(sabotaged.path.parent))
    (result,) = analyse_video(sabotaged.path, [analyser], start_time=START).results
    view = result.view
    assert view.box_outline > 2.5
    assert view.state == "shifted"
    nudged = view.shift_px[view.t >= NUDGED_AT + 2.0]
    assert nudged.size and np.all(np.abs(nudged - 20.0) < 5.0)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"reference_image": "missing.png"}, InputError, "reference image cannot be read"),
        ({"reference_image": None, "width": None}, ValueError, "no probed picture size"),
    ],
)
def test_make_audit_analyser_refuses(sabotaged: Clip, change, error, match) -> None:
    camera = camera_for(sabotaged)
    camera = Camera(**{**camera.__dict__, **change})
    with pytest.raises(error, match=match):
        make_audit_analyser(camera, CasePaths.of(sabotaged.path.parent))


def test_an_unreadable_file_is_nothing_recorded(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    run = analyse_video(bad, [CameraAuditor.create(image_size=(320, 180))], start_time=START)
    (result,) = run.results
    assert run.gaps[0].kind == "unreadable"
    assert result.frames == 0 and result.start_time == START


def test_without_polygon_the_box_is_located_in_the_reference(sabotaged: Clip) -> None:
    camera = camera_for(sabotaged, polygon=False)
    analyser = make_audit_analyser(camera, CasePaths.of(sabotaged.path.parent))
    (result,) = analyse_video(sabotaged.path, [analyser], start_time=START).results
    assert result.conditions.box_located
    located = np.asarray(result.conditions.box_polygon)
    drawn = np.asarray(sabotaged.rendered.box_polygon)
    assert np.abs(located.mean(axis=0) - drawn.mean(axis=0)).max() < 15
    assert result.conditions.ranges["blocked"] == ()


def test_each_problem_is_a_finding_of_its_kind(audited, audio_cut, sabotaged: Clip) -> None:
    (result,) = audited.results
    found = audit_findings(result, camera_id="cam-test", station_id="st-test", min_duration_s=2.0)
    assert {f.kind for f in found} == {
        "camera_frozen",
        "camera_offline",
        "view_shifted",
        "audio_muted",
        "audio_absent",  # the outage has no sound either
    }
    analyser = make_audit_analyser(camera_for(sabotaged), CasePaths.of(sabotaged.path.parent))
    (cut,) = analyse_video(audio_cut("dropped"), [analyser], start_time=START).results
    absent = [
        f for f in audit_findings(cut, camera_id="c", station_id="s") if f.kind == "audio_absent"
    ]
    assert len(absent) == 0  # 30 s, under the default minute
    absent = [
        f
        for f in audit_findings(cut, camera_id="c", station_id="s", min_duration_s=10.0)
        if f.kind == "audio_absent"
    ]
    assert len(absent) == 1 and absent[0].start_s == pytest.approx(AUDIO_CUT_AT, abs=1.0)
