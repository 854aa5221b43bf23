"""The store: inputs round-trip, failed ingests change nothing, jobs, findings, tables."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from casefactory import SMALL, replace_in
from pollwatch.case import CasePaths
from pollwatch.errors import InputError
from pollwatch.ingest import ingest_case
from pollwatch.store import Finding, NotFoundError, Store, StoreError, finding_id

TZ = timezone(timedelta(hours=4))
T0 = datetime(2024, 2, 7, 9, 0, tzinfo=TZ)


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


@pytest.fixture
def ingested(small_case: CasePaths) -> CasePaths:
    ingest_case(small_case.root)
    return small_case


@pytest.fixture
def store(ingested: CasePaths) -> Store:
    with Store(ingested.db_path) as s:
        yield s


def test_inputs_round_trip(ingested: CasePaths, store: Store) -> None:
    election = store.election()
    assert election.name == SMALL.name
    assert election.candidates == SMALL.candidates
    assert election.polls_open == datetime(2024, 2, 7, 8, tzinfo=TZ)
    assert election.time_scale == 3600.0
    expected = pd.read_csv(ingested.results_csv)
    pd.testing.assert_frame_equal(store.results(), expected, check_dtype=False)
    stations = pd.read_csv(ingested.stations_csv)
    pd.testing.assert_frame_equal(store.stations(), stations, check_dtype=False)
    checkpoints = store.checkpoints()
    assert len(checkpoints) == 16
    assert str(checkpoints["time"].dt.tz) == "UTC+04:00"
    assert checkpoints["time"].iloc[0] == pd.Timestamp("2024-02-07T10:00:00+04:00")
    c1 = store.camera("C1")
    assert c1.box_polygon == ((20, 20), (44, 20), (44, 40), (20, 40))
    assert (c1.width, c1.height, c1.fps, c1.has_audio) == (64, 48, 10.0, True)
    assert c1.source_path(ingested.root) == ingested.video_dir / "C1.mp4"
    assert [c.camera_id for c in store.camera_records()] == list(SMALL.cameras)
    assert store.input_warnings().empty


def test_wal_mode(store: Store) -> None:
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_nothing_ingested_yet(tmp_path: Path) -> None:
    with Store(tmp_path / "out" / "pollwatch.db") as store:
        assert store.input_fingerprint() is None
        with pytest.raises(NotFoundError, match="no case ingested yet"):
            store.election()


def test_reingest_is_idempotent(ingested: CasePaths) -> None:
    before = _dump(ingested.db_path)
    summary = ingest_case(ingested.root)
    assert "unchanged" in summary
    assert _dump(ingested.db_path) == before


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("results.csv", "S1,1000,610,600,10,300", "S1,1000,610,600,10,301"),  # arithmetic
        ("stations.csv", "S4,South", "S3,South"),  # duplicate id
        ("cameras.csv", "video/C2.mp4", "video/gone.mp4"),  # missing video
    ],
)
def test_failed_ingest_leaves_the_store_intact(
    ingested: CasePaths, file: str, old: str, new: str
) -> None:
    before = _dump(ingested.db_path)
    replace_in(ingested.root, "turnout.csv", "00+04:00,100", "00+04:00,101")  # a valid change
    replace_in(ingested.root, file, old, new)  # and a bad one
    with pytest.raises(InputError):
        ingest_case(ingested.root)
    assert _dump(ingested.db_path) == before


def test_changed_inputs_forget_only_the_changed_cameras(ingested: CasePaths, store: Store) -> None:
    for cam in SMALL.cameras:
        store.start_job(cam, "probe")
        store.write_table("probe", "streams", pd.DataFrame({"x": [1]}), camera_id=cam)
        store.finish_job(cam, "probe")
    replace_in(ingested.root, "cameras.csv", "[[20, 20], [44, 20]", "[[21, 20], [44, 20]")
    replace_in(ingested.root, "turnout.csv", "00+04:00,100", "00+04:00,101")
    ingest_case(ingested.root)
    assert store.job_status("C1", "probe") is None
    assert store.job_status("C2", "probe") == "done"
    assert store.read_tables("probe", "streams")["camera_id"].tolist() == ["C2"]
    assert store.checkpoints()["voters_cumulative"].iloc[0] == 101


def test_jobs(store: Store) -> None:
    store.add_pending_jobs(["C1", "C2"], ["probe", "count"])
    assert store.jobs()["status"].tolist() == ["pending"] * 4
    store.start_job("C1", "probe")
    store.set_job_progress("C1", "probe", 1.5)
    row = store.jobs().set_index(["camera_id", "analyser"]).loc[("C1", "probe")]
    assert (row["status"], row["progress_s"]) == ("running", 1.5)
    assert row["started_at"] is not None
    store.finish_job("C1", "probe")
    store.fail_job("C2", "probe", "C2.mp4: broken")
    store.add_pending_jobs(["C1", "C2"], ["probe", "count"])  # keeps existing jobs
    jobs = store.jobs().set_index(["camera_id", "analyser"])["status"]
    assert jobs.to_dict() == {
        ("C1", "probe"): "done",
        ("C1", "count"): "pending",
        ("C2", "probe"): "failed",
        ("C2", "count"): "pending",
    }
    assert store.jobs().set_index("camera_id").loc["C2"].iloc[0]["error"] == "C2.mp4: broken"
    store.reset_analysis()
    assert store.jobs().empty
    assert store.job_status("C1", "probe") is None


def _finding(n: int, camera: str | None = "C1", analyser: str = "stuffing") -> Finding:
    t = T0 + timedelta(minutes=n)
    return Finding(
        finding_id=finding_id("stuffing", camera, t.isoformat()),
        kind="stuffing",
        analyser=analyser,
        summary=f"bundle #{n}",
        station_id="S1",
        camera_id=camera,
        t_start=t,
        t_end=t + timedelta(seconds=5),
        score=0.9,
        p_value=0.01,
        evidence={"frames": [n, n + 1], "clip": f"clips/{n}.mp4"},
    )


def test_findings_round_trip_and_replace(store: Store) -> None:
    store.replace_findings("stuffing", [_finding(1), _finding(2)], camera_id="C1")
    store.replace_findings("stuffing", [_finding(3, "C2")], camera_id="C2")
    assert store.finding(_finding(1).finding_id) == _finding(1)
    store.replace_findings("stuffing", [_finding(4)], camera_id="C1")  # C1's rerun
    found = store.findings()
    assert found["summary"].tolist() == ["bundle #4", "bundle #3"]
    assert found["t_start"].iloc[0] == (T0 + timedelta(minutes=4)).isoformat()
    store.replace_findings("stuffing", [])  # case-wide: all of this analyser's findings
    assert store.findings().empty


@pytest.mark.parametrize(
    ("analyser", "camera", "finding", "error", "match"),
    [
        ("count", "C1", _finding(1), ValueError, "is from stuffing/C1, not count/C1"),
        ("stuffing", "C2", _finding(1), ValueError, "is from stuffing/C1, not stuffing/C2"),
    ],
)
def test_findings_must_belong_to_the_writer(
    store: Store, analyser: str, camera: str, finding: Finding, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        store.replace_findings(analyser, [finding], camera_id=camera)


def test_finding_ids_are_unique(store: Store) -> None:
    store.replace_findings("stuffing", [_finding(1)], camera_id="C1")
    other = _finding(1, analyser="other")
    with pytest.raises(StoreError, match="UNIQUE"):
        store.replace_findings("other", [other], camera_id="C1")
    assert len(store.findings()) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"p_value": 1.5}, "not in"),
        ({"t_end": T0 - timedelta(seconds=1)}, "t_end is before t_start"),
        ({"t_start": T0.replace(tzinfo=None), "t_end": None}, "UTC offset"),
        ({"kind": ""}, "must not be empty"),
    ],
)
def test_finding_checks(kwargs: dict, match: str) -> None:
    base = {"finding_id": "x", "kind": "k", "analyser": "a", "summary": "", "t_start": T0}
    with pytest.raises(ValueError, match=match):
        Finding(**{**base, **kwargs})


def test_tables_round_trip(store: Store) -> None:
    frame = pd.DataFrame(
        {
            "t": pd.to_datetime(["2024-02-07T08:00:00+04:00", "2024-02-07T08:00:01+04:00"]),
            "count": pd.array([1, 2], dtype="int32"),
            "label": ["a", "b"],
        }
    )
    store.write_table("count", "per_second", frame, camera_id="C1")
    pd.testing.assert_frame_equal(store.read_table("count", "per_second", camera_id="C1"), frame)
    store.write_table("count", "per_second", frame.iloc[:1], camera_id="C1")  # replaced
    store.write_table("count", "per_second", frame, camera_id="C2")
    store.write_table("count", "per_second", frame.iloc[:0])  # case-level, not stacked
    stacked = store.read_tables("count", "per_second")
    assert stacked["camera_id"].tolist() == ["C1", "C2", "C2"]
    assert list(stacked.columns) == ["camera_id", "t", "count", "label"]
    assert store.tables()["rows"].tolist() == [0, 1, 2]
    with pytest.raises(NotFoundError, match="no table count/other for camera C1"):
        store.read_table("count", "other", camera_id="C1")
    assert store.read_tables("nobody", "nothing").columns.tolist() == ["camera_id"]
