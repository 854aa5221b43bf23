"""The camera-audit section of the report: summary sentences, the table, a timeline per camera."""

from __future__ import annotations

import pandas as pd
import pytest

from pollwatch.audit import make_audit_analyser, save_audit
from pollwatch.case import CasePaths
from pollwatch.ingest import ingest_case
from pollwatch.pipeline import analyse_case
from pollwatch.report import SECTIONS, build_sections, write_report
from pollwatch.report.audit import LANES, audit_lanes, camera_audit_section
from pollwatch.store import Camera, Store
from pollwatch.video import analyse_video


def audit_step(camera: Camera, paths: CasePaths, store: Store) -> None:
    path = camera.source_path(paths.root)
    assert path is not None
    run = analyse_video(path, [make_audit_analyser(camera, paths)], start_time=camera.start_time)
    save_audit(store, camera, run.results[0])


def section_of(case: CasePaths):
    with Store(case.db_path) as store:
        (section,) = build_sections(store, case, {"camera-audit": camera_audit_section})
    return section


def test_the_section_is_registered() -> None:
    assert "camera-audit" in SECTIONS.names()


def test_section_before_any_audit(small_case: CasePaths) -> None:
    ingest_case(small_case.root)
    section = section_of(small_case)
    assert "No camera has been audited yet" in section.html
    assert section.html.count("not analysed") == 4  # sound and view of both cameras
    assert section.plots == ()


def test_section_after_the_audit(small_case: CasePaths) -> None:
    analyse_case(small_case.root, camera_steps={"audit": audit_step}, progress=False)
    section = section_of(small_case)
    assert section.title == "Camera audit" and section.anchor == "camera-audit"
    assert "no sound recorded on 1 of 2 cameras (50%)" in section.html
    assert "hours of footage not observable" in section.html
    assert "<th>sound</th>" in section.html and "C2" in section.html
    assert len(section.plots) == 2
    assert all(p.png.startswith(b"\x89PNG") for p in section.plots)
    alts = [p.alt for p in section.plots]
    assert any(a.startswith("Camera C2 (station S2): sound absent") for a in alts)
    report = write_report(small_case.root).read_text()
    assert 'id="camera-audit"' in report


@pytest.mark.parametrize(
    ("timeline", "unobservable", "lanes"),
    [
        (
            pd.DataFrame(
                {
                    "part": ["sound", "picture", "view"],
                    "state": ["muted", "frozen", "shifted"],
                    "start_time": pd.to_datetime(["2024-01-01T08:00Z"] * 3),
                    "end_time": pd.to_datetime(["2024-01-01T09:00Z"] * 3),
                }
            ),
            pd.DataFrame(
                {
                    "start_time": pd.to_datetime(["2024-01-01T08:10Z"]),
                    "end_time": pd.to_datetime(["2024-01-01T08:20Z"]),
                }
            ),
            ["sound", "frozen", "view", "not observable"],
        ),
        (pd.DataFrame({"camera_id": []}), pd.DataFrame({"camera_id": []}), []),
    ],
)
def test_audit_lanes(timeline, unobservable, lanes) -> None:
    bars = audit_lanes(timeline, unobservable)
    assert list(bars["lane"]) == lanes
    assert set(bars["lane"]) <= set(LANES)
