"""The audit in the store: save_audit's tables and findings, the observability read for the
counting code, the case step's camera_audit.csv / network_summary.json, and the pipeline."""

from __future__ import annotations

import json
from datetime import timedelta

import cv2
import numpy as np
import pandas as pd
import pytest
from rendered_clips import FROZEN, NUDGED_AT, OUTAGE, Clip

from pollwatch.audit import (
    CameraAuditor,
    make_audit_analyser,
    observable_at,
    read_blind_ranges,
    read_unobservable,
    save_audit,
    unobservable_table,
)
from pollwatch.audit.summary import CAMERA_AUDIT_COLUMNS, NOT_ANALYSED, audit_case
from pollwatch.case import CasePaths
from pollwatch.ingest import ingest_case
from pollwatch.pipeline import CASE_STEPS, analyse_case
from pollwatch.store import Camera, NotFoundError, Store
from pollwatch.video import analyse_video


@pytest.fixture
def audited_case(small_case: CasePaths, sabotaged: Clip) -> CasePaths:
    """The small case with the sabotaged clip's audit saved as camera C1's; C2 not audited."""
    ingest_case(small_case.root)
    reference = cv2.imread(str(sabotaged.rendered.reference_path))
    auditor = CameraAuditor.create(reference=reference, box_polygon=sabotaged.rendered.box_polygon)
    with Store(small_case.db_path) as store:
        camera = store.camera("C1")
        run = analyse_video(sabotaged.path, [auditor], start_time=camera.start_time)
        save_audit(store, camera, run.results[0], min_finding_s=2.0)
    return small_case


def test_save_audit_writes_the_camera_tables(audited_case: CasePaths) -> None:
    with Store(audited_case.db_path) as store:
        held = store.tables()
        timeline = store.read_table("audit", "timeline", camera_id="C1")
        row = store.read_table("audit", "row", camera_id="C1")
        sound = store.read_table("audit", "sound", camera_id="C1")
    names = set(held.loc[held["camera_id"] == "C1", "name"])
    assert names == {"timeline", "unobservable", "sound", "view", "picture", "row"}
    frozen = timeline[(timeline["part"] == "picture") & (timeline["state"] == "frozen")]
    assert frozen["start_s"].iloc[0] == pytest.approx(FROZEN[0], abs=1.0)
    start = pd.Timestamp("2024-02-07T08:00:00+04:00")
    assert frozen["start_time"].iloc[0] == start + pd.Timedelta(seconds=frozen["start_s"].iloc[0])
    assert list(row.columns[:3]) == ["camera_id", "station_id", "audio_state"]
    assert row["audio_state"].iloc[0] == "muted" and row["view_state"].iloc[0] == "shifted"
    assert {"rms_dbfs", "state", "speech"} <= set(sound.columns)
    assert len(sound) == pytest.approx(37, abs=2)  # 1-s windows, none in the 3 s outage


def test_save_audit_replaces_the_camera_findings(audited_case: CasePaths) -> None:
    with Store(audited_case.db_path) as store:
        findings = store.findings()
    assert set(findings["analyser"]) == {"audit"}
    assert set(findings["kind"]) >= {"camera_frozen", "camera_offline", "view_shifted"}
    shifted = findings[findings["kind"] == "view_shifted"].iloc[0]
    start = pd.Timestamp("2024-02-07T08:00:00+04:00")
    assert pd.Timestamp(shifted["t_start"]) == pytest.approx(
        start + timedelta(seconds=NUDGED_AT), abs=timedelta(seconds=2)
    )
    assert "moved" in shifted["summary"]
    assert json.loads(shifted["evidence"])["shift_px"] > 16


def test_read_unobservable_for_the_counting_code(audited_case: CasePaths) -> None:
    with Store(audited_case.db_path) as store:
        blind = read_unobservable(store, "C1")
        with pytest.raises(NotFoundError, match="no table audit/unobservable for camera C2"):
            read_unobservable(store, "C2")
    assert list(blind.columns) == ["start_s", "end_s", "start_time", "end_time", "reasons"]
    assert set(blind["reasons"]) == {"frozen", "offline"}
    t = np.array([2.0, 8.0, 20.0, 31.0, 36.0])
    assert observable_at(blind, t).tolist() == [True, False, True, False, True]
    assert observable_at(blind.iloc[:0], t).all()


def test_blind_ranges_one_reason_at_a_time(audited_case: CasePaths) -> None:
    """The same blind time as the merged table, each range with the one reason it has."""
    with Store(audited_case.db_path) as store:
        merged = read_unobservable(store, "C1")
        ranges = read_blind_ranges(store, "C1")
        with pytest.raises(NotFoundError, match="camera C2"):
            read_blind_ranges(store, "C2")
    assert {r for _, _, r in ranges} == {"frozen", "offline"}
    t = np.linspace(0.0, 40.0, 401)
    inside = np.zeros(t.shape, bool)
    for a, b, _ in ranges:
        inside |= (t >= a) & (t < b)
    assert (~inside == observable_at(merged, t)).all()


def test_the_same_table_from_the_result_in_hand(sabotaged: Clip) -> None:
    """Code in the same engine pass reads the unobservable time off the result."""
    reference = cv2.imread(str(sabotaged.rendered.reference_path))
    auditor = CameraAuditor.create(reference=reference, box_polygon=sabotaged.rendered.box_polygon)
    (result,) = analyse_video(sabotaged.path, [auditor]).results
    table = unobservable_table(result)
    assert table["start_time"].isna().all()  # no start time given: wall clock unknown
    assert observable_at(table, [8.0, 20.0]).tolist() == [False, True]


def test_case_step_lists_unaudited_cameras_as_not_analysed(audited_case: CasePaths) -> None:
    assert "audit" in CASE_STEPS.names()
    with Store(audited_case.db_path) as store:
        audit_case(audited_case, store)
    table = pd.read_csv(audited_case.out("camera_audit.csv"))
    assert list(table.columns) == CAMERA_AUDIT_COLUMNS
    c1, c2 = table.set_index("camera_id").loc["C1"], table.set_index("camera_id").loc["C2"]
    assert (c1["audio_state"], c1["view_state"]) == ("muted", "shifted")
    assert c1["view_changed_at"].startswith("2024-02-07T08:00:1")  # local time, +04:00
    assert c1["observed_s"] == 12 * 3600  # the voting day
    assert c1["offline_s"] == pytest.approx(12 * 3600 - 40 + OUTAGE[1] - OUTAGE[0], abs=1.0)
    assert (c2["audio_state"], c2["view_state"]) == (NOT_ANALYSED, NOT_ANALYSED)
    assert np.isnan(c2["observable_share"])
    summary = json.loads(audited_case.out("network_summary.json").read_text())
    assert summary["cameras"] == 1 and summary["not_analysed_camera_ids"] == ["C2"]
    assert "sound muted on 1 of 1 cameras (100%)" in summary["sentences"]
    assert "1 of 2 cameras not analysed (50%): nothing is known of them" in summary["sentences"]


def audit_step(camera: Camera, paths: CasePaths, store: Store) -> None:
    """A camera step running the audit alone (the real pass runs it beside the counting)."""
    path = camera.source_path(paths.root)
    assert path is not None
    run = analyse_video(path, [make_audit_analyser(camera, paths)], start_time=camera.start_time)
    save_audit(store, camera, run.results[0])


def test_pipeline_end_to_end(small_case: CasePaths) -> None:
    summary = analyse_case(small_case.root, camera_steps={"audit": audit_step}, progress=False)
    assert summary.startswith("2 cameras (2 done, 0 failed)")
    table = pd.read_csv(small_case.out("camera_audit.csv")).set_index("camera_id")
    assert table.loc["C1", "audio_state"] == "ok"  # a 440 Hz tone
    assert table.loc["C2", "audio_state"] == "absent"  # no audio stream
    assert (small_case.out_dir / "network_summary.json").is_file()
