"""The "audit" metric block against hand-made truth, where every figure is known."""

from __future__ import annotations

import pandas as pd
import pytest

from pollwatch.audit import make_audit_analyser, save_audit
from pollwatch.case import CasePaths
from pollwatch.evaluate import EvaluationError, evaluate_case
from pollwatch.evaluate.audit_metrics import (
    audit_block,
    audit_scores,
    expected_audio,
    expected_view,
)
from pollwatch.ingest import ingest_case
from pollwatch.pipeline import analyse_case
from pollwatch.store import Camera, Store
from pollwatch.video import analyse_video


def conditions(*rows: tuple[str, str, str, float, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["camera_id", "kind", "label", "start_s", "end_s"])


TRUTH = conditions(
    ("A", "audio_muted", "audio_muted", 0.0, 100.0),
    ("A", "view_shifted", "turned_away", 50.0, 100.0),
    ("A", "frozen", "frozen", 10.0, 20.0),
    ("B", "audio_quiet", "audio_quiet", 0.0, 100.0),
    ("B", "view_shifted", "nudged", 0.0, 100.0),
    ("D", "audio_absent", "audio_absent", 0.0, 100.0),
    ("D", "outage", "outage", 40.0, 50.0),
    ("D", "frozen", "frozen", 45.0, 60.0),  # half hidden by the outage
)
CAMERAS = pd.DataFrame({"camera_id": ["A", "B", "C", "D"], "duration_s": [100.0] * 4})
ROWS = pd.DataFrame(
    {
        "camera_id": ["A", "B", "C", "D", "E"],
        "audio_state": ["muted", "ok", "ok", "absent", "not analysed"],
        "view_state": ["box_not_visible", "shifted", "shifted", "ok", "not analysed"],
    }
)
TIMELINE = pd.DataFrame(
    [
        ("A", "picture", "frozen", 11.0, 20.0),
        ("A", "view", "box_not_visible", 52.0, 100.0),
        ("A", "sound", "muted", 0.0, 100.0),
        ("C", "picture", "frozen", 60.0, 65.0),
        ("D", "picture", "offline", 40.0, 50.0),
        ("D", "picture", "frozen", 49.0, 61.0),
    ],
    columns=["camera_id", "part", "state", "start_s", "end_s"],
)
NETWORK = {
    "cameras": 4,
    "counts": {
        "audio_absent": 1,
        "audio_muted": 1,
        "audio_quiet": 0,
        "view_shifted": 2,
        "view_box_not_visible": 1,
    },
}


@pytest.fixture(scope="module")
def scores():
    return audit_scores(ROWS, TIMELINE, TRUTH, CAMERAS, NETWORK)


@pytest.mark.parametrize(
    ("camera", "audio", "view"),
    [("A", "muted", "box_not_visible"), ("B", "quiet", "shifted"), ("C", "ok", "ok")],
)
def test_expected_states(camera, audio, view) -> None:
    mine = TRUTH[TRUTH["camera_id"] == camera]
    assert expected_audio(mine, 100.0) == audio
    assert expected_view(mine, 100.0) == view


def test_a_short_condition_does_not_set_the_state() -> None:
    short = conditions(("A", "audio_muted", "audio_muted", 80.0, 100.0))  # 20 % of it
    assert expected_audio(short, 100.0) == "ok"


def test_audio_scores(scores) -> None:
    audio = scores["audio"]
    assert scores["cameras"] == 4  # E was not analysed
    assert audio["absent_muted_sound_accuracy"] == 1.0  # quiet and ok both have sound
    assert audio["quiet_vs_ok_accuracy"] == 0.5  # B's quiet sound was called ok
    assert audio["state_accuracy"] == 0.75
    assert audio["confusion"]["quiet"] == {"ok": 1}


def test_view_scores(scores) -> None:
    view = scores["view"]
    assert view["recall"] == 1.0 and view["state_recall"] == 1.0
    assert view["false_alarms"] == 0.5  # C of C, D
    assert view["change_error"] == {"n": 1, "median_abs_s": 2.0, "max_abs_s": 2.0}
    assert view["unknown"] == 0


@pytest.mark.parametrize(
    ("camera", "recall", "false_alarms"),
    [("A", 0.5, 0.5), ("C", 1.0, 0.0), ("D", 1.0, 0.5)],
)
def test_an_unjudged_view_is_neither_found_nor_a_false_alarm(camera, recall, false_alarms):
    """A view the audit could not judge ("unknown") is a miss when the camera was turned, and
    no false alarm when it was not."""
    rows = ROWS.copy()
    rows.loc[rows["camera_id"] == camera, "view_state"] = "unknown"
    view = audit_scores(rows, TIMELINE, TRUTH, CAMERAS)["view"]
    assert view["unknown"] == 1
    assert (view["recall"], view["false_alarms"]) == (recall, false_alarms)


@pytest.mark.parametrize(
    ("unguided", "unseeable", "recall_seeable"),
    [
        ((), [], 0.5),  # B (nudged from its first frame) missed: counted
        (("B",), ["B"], 1.0),  # no reference, no polygon: nothing to see the nudge against
        (("A",), [], 0.5),  # A was turned away, not nudged: still counted
    ],
)
def test_a_nudge_before_recording_without_reference_or_polygon_is_unseeable(
    unguided, unseeable, recall_seeable
):
    rows = ROWS.copy()
    rows.loc[rows["camera_id"] == "B", "view_state"] = "ok"  # the audit saw nothing
    view = audit_scores(rows, TIMELINE, TRUTH, CAMERAS, unguided=unguided)["view"]
    assert view["recall"] == 0.5  # A of A, B, whatever the cameras had
    assert view["unseeable"] == unseeable
    assert view["recall_seeable"] == recall_seeable


def test_period_scores(scores) -> None:
    frozen = scores["periods"]["frozen"]
    # A: 10 s true, 9 covered; D: 10 s true once the outage's 5 s are hidden, all covered
    assert frozen["true_s"] == 20.0
    assert frozen["covered_share"] == pytest.approx(19 / 20)
    assert frozen["flagged_s"] == 9 + 5 + 11  # D's flagged second inside the outage is hidden
    assert frozen["false_share_of_flagged"] == pytest.approx(6 / 25)  # C's 5 s and D's 1 s
    assert frozen["start_error"]["max_abs_s"] == pytest.approx(1.0)
    assert frozen["end_error"]["max_abs_s"] == pytest.approx(1.0)
    offline = scores["periods"]["offline"]
    assert offline["covered_share"] == 1.0 and offline["false_share_of_flagged"] == 0.0


def test_network_check(scores) -> None:
    net = scores["network"]
    assert net["audio_muted"]["equal"] and net["view_box_not_visible"]["equal"]
    assert not net["audio_quiet"]["equal"]  # the summary says 0 quiet, the truth 1 (25%)
    assert net["view_shifted"] == {
        "summary": 2,
        "truth": 1,
        "summary_pct": "50%",
        "truth_pct": "25%",
        "equal": False,
    }
    assert not net["all_equal"]


def audit_step(camera: Camera, paths: CasePaths, store: Store) -> None:
    path = camera.source_path(paths.root)
    assert path is not None
    run = analyse_video(path, [make_audit_analyser(camera, paths)], start_time=camera.start_time)
    save_audit(store, camera, run.results[0])


def test_audit_block_on_an_analysed_case(small_case: CasePaths) -> None:
    analyse_case(small_case.root, camera_steps={"audit": audit_step}, progress=False)
    truth = {
        "stations": pd.DataFrame({"station_id": ["S1", "S2", "S3", "S4"]}),
        "cameras": pd.DataFrame({"camera_id": ["C1", "C2"], "duration_s": [2.0, 2.0]}),
        "fraud": pd.DataFrame({"station_id": [], "kind": [], "ballots": []}),
        "conditions": conditions(("C2", "audio_absent", "audio_absent", 0.0, 2.0)),
        "summary": {"rendered": 2, "conditions": {"audio_absent": 1}},
    }
    block = evaluate_case(small_case.root, truth=truth)["audit"]
    assert block["cameras"] == 2 and block["not_analysed"] == 0
    assert block["audio"]["absent_muted_sound_accuracy"] == 1.0
    assert block["network"]["audio_absent"]["truth_summary_json"] == 1
    assert block["network"]["audio_absent"]["equal"]
    for missing, match in (("conditions", "no conditions table"), ("cameras", "no cameras")):
        with pytest.raises(EvaluationError, match=match):
            audit_block(small_case, {k: v for k, v in truth.items() if k != missing})


def test_audit_block_before_any_audit(small_case: CasePaths) -> None:
    ingest_case(small_case.root)
    assert audit_block(small_case, {}) == {"cameras": 0, "not_analysed": 2}


@pytest.mark.parametrize(
    ("blocked", "hidden"),
    [
        ((50.0, 80.0), [(40.0, 60.0)]),  # the picture froze before the board came
        ((30.0, 80.0), []),  # the frozen picture shows the board
    ],
)
def test_a_frozen_picture_hides_what_began_after_it(blocked, hidden) -> None:
    from pollwatch.audit.types import TimeRange
    from pollwatch.evaluate.audit_metrics import _frozen_over

    mine = conditions(("F", "frozen", "frozen", 40.0, 60.0))
    found = _frozen_over(mine, (TimeRange(*blocked),))
    assert [(r.start, r.end) for r in found] == hidden


@pytest.mark.parametrize(
    ("board_s", "hidden"),
    [
        (40.045, [(40.05, 60.0)]),  # the board came after the frame the freeze repeats (40.04)
        (40.03, []),  # the repeated frame shows the board
    ],
)
def test_a_frozen_picture_repeats_the_frame_before_it(board_s, hidden) -> None:
    from pollwatch.audit.types import TimeRange
    from pollwatch.evaluate.audit_metrics import _frozen_over

    mine = conditions(("F", "frozen", "frozen", 40.05, 60.0))
    found = _frozen_over(mine, (TimeRange(board_s, 80.0),), fps=25.0)
    assert [(r.start, r.end) for r in found] == hidden


BLIND_CAMERAS = pd.DataFrame(
    {"camera_id": ["A", "B"], "duration_s": [100.0, 60.0], "open_s": [10.0, 0.0]}
)
BLIND_TRUTH = conditions(
    ("A", "view_shifted", "turned_away", 50.0, 100.0),  # 40 s of A's day [10, 90)
    ("A", "frozen", "frozen", 10.0, 20.0),  # 10 s
    ("B", "view_shifted", "nudged", 0.0, 60.0),  # the box still in view
    ("B", "audio_muted", "audio_muted", 0.0, 60.0),  # sound: no matter
)  # B's day [0, 80) ends 20 s after its recording: 20 s unrecorded; 70 of 160 s in all
DAY = {"polls_open": "2025-03-09T08:00:00+04:00", "polls_close": "2025-03-09T08:01:20+04:00"}


@pytest.mark.parametrize(
    ("blind_s", "equal", "pct"), [(70.0, True, "44%"), (70.5, True, "44%"), (60.0, False, "38%")]
)
def test_network_check_of_the_time_not_observable(blind_s, equal, pct) -> None:
    rows = pd.DataFrame(
        {"camera_id": ["A", "B"], "audio_state": ["ok", "muted"], "view_state": ["ok", "ok"]}
    )
    network = {
        "cameras": 2,
        "counts": {k: 0 for k in NETWORK["counts"]},
        "hours": {"total": 160.0 / 3600, "not_observable": blind_s / 3600},
    }
    net = audit_scores(rows, TIMELINE.iloc[:0], BLIND_TRUTH, BLIND_CAMERAS, network, DAY)["network"]
    blind = net["not_observable"]
    assert blind["truth_share"] == pytest.approx(70.0 / 160.0)
    assert blind["summary_pct"] == pct and blind["truth_pct"] == "44%"
    assert blind["equal"] == equal
    assert not net["all_equal"]  # the counts differ anyway (A turned, B muted)
    no_day = audit_scores(rows, TIMELINE.iloc[:0], BLIND_TRUTH, BLIND_CAMERAS, network, None)
    assert "not_observable" not in no_day["network"]
