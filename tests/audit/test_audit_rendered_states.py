"""The picture's other states and turned-down sound on one rendered, encoded and decoded clip
(`rendered_clips.covered_plan`): each found in its time, nothing else found."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rendered_clips import (
    BOARD,
    COVERED,
    COVERED_SECONDS,
    DARK,
    DEFOCUSED,
    MOVED_AT,
    START,
    TURNED_AT,
    Clip,
)
from test_audit_engine import camera_for

from pollwatch.audit import audit_findings, make_audit_analyser
from pollwatch.audit.ranges import total_duration
from pollwatch.audit.view import ViewAuditor
from pollwatch.case import CasePaths
from pollwatch.video import analyse_video


@pytest.fixture(scope="module")
def result(covered: Clip):
    analyser = make_audit_analyser(camera_for(covered), CasePaths.of(covered.path.parent))
    (audit,) = analyse_video(covered.path, [analyser], start_time=START).results
    return audit


@pytest.mark.parametrize(
    ("part", "state", "expected", "tolerance"),
    [
        ("picture", "dark", DARK, 1.0),  # judged every second
        ("picture", "blocked", COVERED, 2.0),  # a covered sample stands for the 2 s before it
        ("picture", "blurred", DEFOCUSED, 1.0),
        ("view", "box_not_visible", (TURNED_AT, COVERED_SECONDS), 1.0),  # dated between samples
        ("sound", "quiet", (0.0, COVERED_SECONDS), 0.5),
    ],
)
def test_each_state_is_found_in_its_time(result, part, state, expected, tolerance) -> None:
    ranges = {
        "picture": result.conditions.ranges,
        "view": result.view.ranges,
        "sound": result.audio.ranges,
    }[part][state]
    assert len(ranges) == 1, (part, state, ranges)
    assert ranges[0].start == pytest.approx(expected[0], abs=tolerance)
    assert ranges[0].end == pytest.approx(expected[1], abs=tolerance)


def test_nothing_else_is_found(result) -> None:
    for condition in ("offline", "frozen"):
        assert result.conditions.ranges[condition] == (), condition
    assert result.view.ranges["shifted"] == ()
    (ok,) = result.view.ranges["ok"]  # dark, covered and blurred: still the intended view
    assert ok.start == 0.0 and ok.end == pytest.approx(TURNED_AT, abs=1.0)
    assert result.view.changed_at == pytest.approx(TURNED_AT, abs=1.0)
    assert result.audio.state == "quiet"
    assert result.audio.level_dbfs < -55.0  # under the quiet threshold, above muted
    assert result.audio.ranges["muted"] == result.audio.ranges["absent"] == ()


def test_the_unobservable_time_is_each_state_once(result) -> None:
    blind = COVERED_SECONDS - total_duration(result.observable)
    spans = (DARK, COVERED, DEFOCUSED, (TURNED_AT, COVERED_SECONDS))
    assert blind == pytest.approx(sum(b - a for a, b in spans), abs=2.0)


def test_each_state_is_a_finding_of_its_kind(result) -> None:
    found = audit_findings(result, camera_id="cam-test", station_id="st-test", min_duration_s=3.0)
    kinds = sorted(f.kind for f in found)
    assert kinds == ["box_not_visible", "camera_blocked", "camera_blurred", "camera_dark"]
    blocked = next(f for f in found if f.kind == "camera_blocked")
    assert blocked.start_time == START + timedelta(seconds=blocked.start_s)


@pytest.mark.parametrize("snap", [True, False])
def test_a_defocused_camera_moved_behind_a_board(moved_behind_board: Clip, monkeypatch, snap):
    """Nudged while a board stands before the box of a camera out of focus: the view is
    shifted from the nudge, and the box blocked the whole time the board stands, because the
    low-passed view is held while its phase peak wanders a pixel or two (`_snapped`); without
    that the box zone moves with every sample and never reads still."""
    if not snap:
        monkeypatch.setattr(ViewAuditor, "_snapped", lambda self, transform, held: transform)
    clip = moved_behind_board
    analyser = make_audit_analyser(camera_for(clip), CasePaths.of(clip.path.parent))
    (audit,) = analyse_video(clip.path, [analyser], start_time=START).results
    blocked = [(r.start, r.end) for r in audit.conditions.ranges["blocked"]]
    assert audit.view.state == "shifted" and audit.view.ranges["box_not_visible"] == ()
    assert audit.view.changed_at == pytest.approx(MOVED_AT, abs=2.0)
    assert (blocked == [pytest.approx(BOARD, abs=2.5)]) == snap
