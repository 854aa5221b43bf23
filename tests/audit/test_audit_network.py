"""One camera end to end through CameraAuditor, its audit row, findings and the network."""

import dataclasses
import json
from datetime import timedelta

import audit_clips as clips
import cv2
import numpy as np
import pytest

from pollwatch.audit.camera import CameraAuditor
from pollwatch.audit.network import (
    AuditFinding,
    audit_findings,
    audit_row,
    network_summary,
    observability_timeline,
)
from pollwatch.audit.ranges import total_duration
from pollwatch.audit.types import TimeRange

FULL = (640, 360)
BOX = [(250, 200), (330, 200), (330, 300), (250, 300)]
SR = 8000
DAY = (clips.START, clips.START + timedelta(seconds=250))


@pytest.fixture(scope="module")
def audited():
    """200 s: box blocked 20–50 s, no frames 60–80 s, sound muted from 100 s, camera turned
    40 px at 120 s; the voting day runs 50 s past the recording."""
    scene = clips.textured_scene(320, 180)
    turned = clips.warp(scene, 20, 0)
    blocked = scene.copy()
    blocked[80:170, 105:185] = 128
    auditor = CameraAuditor.create(reference=cv2.resize(scene, FULL), box_polygon=BOX)
    rng = np.random.default_rng(8)
    sound = clips.room_noise(200, SR, -45.0)
    sound[100 * SR :] = 0.0
    chunks = iter(clips.chunked(sound, SR, size=SR // 2))
    for i in range(400):
        t = i / 2
        auditor.on_audio(next(chunks))
        if 60 <= t < 80:
            continue
        img = turned if t >= 120 else blocked if 20 <= t < 50 else scene
        auditor.update(clips.frame_at(t, clips.noisy(img, rng)))
    auditor.on_gap(clips.gap(60.0, 80.0))
    return auditor.result()


def test_camera_result_combines_the_three_audits(audited):
    assert audited.audio.state == "muted"
    assert audited.view.state == "shifted"
    assert audited.view.changed_at == pytest.approx(120.0, abs=5.0)
    (blocked,) = audited.conditions.ranges["blocked"]
    assert (blocked.start, blocked.end) == pytest.approx((20.0, 50.0), abs=2.5)
    assert audited.conditions.ranges["offline"] == (TimeRange(60.0, 80.0),)
    # the box zone follows the turned camera, so the turn is not mistaken for a blocked box
    assert total_duration(audited.conditions.ranges["blocked"]) < 35.0


def test_audit_row_counts_the_voting_day(audited):
    row = audit_row(audited, camera_id="cam1", station_id="st1", day=DAY)
    assert row.audio_state == "muted"
    assert row.audio_ok_share == pytest.approx(100 / 250, abs=0.02)
    assert row.view_state == "shifted"
    assert row.view_shift_px == pytest.approx(40.0, abs=3.0)
    assert row.view_changed_at == pytest.approx(
        clips.START + timedelta(seconds=120), abs=timedelta(seconds=5)
    )
    assert row.offline_s == pytest.approx(20.0 + 50.5, abs=1.0)  # the gap + unrecorded end
    assert row.blocked_s == pytest.approx(30.0, abs=3.0)
    assert row.frozen_s == row.dark_s == row.blurred_s == 0.0
    assert row.observable_share == pytest.approx((200 - 20 - 30) / 250, abs=0.02)
    timeline = observability_timeline(audited, DAY)
    assert total_duration(timeline) == pytest.approx(row.observable_share * 250, abs=0.5)
    assert all(r.end <= 200.0 for r in timeline)


def test_findings_name_kind_time_and_evidence(audited):
    found = audit_findings(audited, camera_id="cam1", station_id="st1", min_duration_s=10.0)
    kinds = {f.kind for f in found}
    assert kinds == {"audio_muted", "view_shifted", "camera_blocked", "camera_offline"}
    shifted = next(f for f in found if f.kind == "view_shifted")
    assert shifted.details["shift_px"] == pytest.approx(40.0, abs=3.0)
    assert shifted.start_time == clips.START + timedelta(seconds=shifted.start_s)
    assert shifted.start_s == pytest.approx(120.0, abs=0.5)  # turned at 120 s
    # wall-clock times in observers' words
    assert shifted.start_time.strftime("%H:%M:%S") in shifted.summary
    muted = next(f for f in found if f.kind == "audio_muted")
    assert muted.score == pytest.approx(muted.details["duration_s"] / 3600)
    assert audit_findings(audited, camera_id="c", station_id="s", min_duration_s=1e6) == []


@pytest.mark.parametrize(("confidence", "stated"), [(float("nan"), False), (0.78, True)])
def test_a_shift_seen_without_a_reference_states_its_confidence(audited, confidence, stated):
    """A camera nudged before it started recording (its box found off its polygon, no
    reference) says how sure that is; a shift measured against a reference does not."""
    view = dataclasses.replace(audited.view, shift_confidence=confidence)
    found = audit_findings(dataclasses.replace(audited, view=view), camera_id="c", station_id="s")
    shifted = next(f for f in found if f.kind == "view_shifted")
    assert ("confidence" in shifted.details) == stated
    assert ("confidence 0.78" in shifted.summary) == stated
    if stated:
        assert shifted.details["confidence"] == pytest.approx(0.78)


@pytest.mark.parametrize("cut", [False, True])
def test_a_shift_seen_from_a_cut_box_says_so(audited, cut):
    """A camera whose box the frame's edge cut from the first frame (neither a reference nor
    a polygon) is shifted by an unknown amount: the finding says why."""
    view = dataclasses.replace(audited.view, box_cut=cut)
    found = audit_findings(dataclasses.replace(audited, view=view), camera_id="c", station_id="s")
    shifted = next(f for f in found if f.kind == "view_shifted")
    assert shifted.details.get("box_cut", False) == cut
    assert ("cut by the frame's edge" in shifted.summary) == cut


def test_network_summary_in_observers_words(audited):
    row = audit_row(audited, camera_id="cam1", station_id="st1", day=DAY)
    rows = [
        row,
        dataclasses.replace(row, camera_id="cam2", view_state="ok"),
        dataclasses.replace(
            row,
            camera_id="cam3",
            audio_state="ok",
            view_state="box_not_visible",
            observable_share=0.0,
        ),
        dataclasses.replace(
            row, camera_id="cam4", audio_state="ok", view_state="ok", observable_share=1.0
        ),
    ]
    summary = network_summary(rows)
    assert summary["cameras"] == 4
    assert "sound muted on 2 of 4 cameras (50%)" in summary["sentences"]
    assert summary["cameras_turned_away"] == 2
    assert summary["turned_away_camera_ids"] == ["cam1", "cam3"]
    assert any(
        s.startswith("view turned away from the ballot box on 2 of 4 cameras (50%)")
        for s in summary["sentences"]
    )
    blind_h = (2 * (1 - row.observable_share) + 1.0) * 250 / 3600
    assert summary["hours"]["not_observable"] == pytest.approx(blind_h)
    json.dumps(summary)  # goes to out/network_summary.json as is
    assert not any(s.startswith("view not judged") for s in summary["sentences"])
    blind = network_summary(
        [*rows, dataclasses.replace(row, camera_id="cam5", view_state="unknown")]
    )
    assert blind["counts"]["view_unknown"] == 1
    assert blind["turned_away_camera_ids"] == ["cam1", "cam3"]
    assert "view not judged on 1 of 5 cameras (20%)" in " ".join(blind["sentences"])
    assert network_summary([])["sentences"][0] == "sound muted on 0 of 0 cameras (n/a)"


def test_a_camera_that_recorded_nothing():
    result = CameraAuditor.create(image_size=FULL).result()
    row = audit_row(result, camera_id="c", station_id="s", day=DAY)
    assert (row.audio_state, row.observable_share, row.offline_s) == ("absent", 0.0, 250.0)
    assert observability_timeline(result, DAY) == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "camera_exploded"}, "unknown finding kind"),
        ({"start_s": 5.0, "end_s": 1.0}, "end_s"),
    ],
)
def test_finding_checks_itself(kwargs, message):
    base = dict(
        kind="camera_offline",
        camera_id="c",
        station_id="s",
        start_s=0.0,
        end_s=1.0,
        start_time=None,
        end_time=None,
        score=0.1,
        summary="x",
    )
    with pytest.raises(ValueError, match=message):
        AuditFinding(**{**base, **kwargs})


def test_bad_day_and_bad_parts_are_rejected(audited):
    with pytest.raises(ValueError, match="voting day"):
        audit_row(audited, camera_id="c", station_id="s", day=(DAY[1], DAY[0]))
    with pytest.raises(ValueError, match="audio"):
        CameraAuditor(audio=None, view=None, conditions=None)  # type: ignore[arg-type]
