"""The pipeline: ingest if needed, resumable per-camera jobs, failure isolation, exports, demo."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from casefactory import SMALL, replace_in, write_case
from pollwatch.case import CasePaths
from pollwatch.pipeline import (
    CAMERA_STEPS,
    FINDINGS_COLUMNS,
    analyse_case,
    get_camera_step_by_name,
    probe_camera,
    run_demo,
)
from pollwatch.store import Camera, Finding, Store, finding_id


class Recorder:
    """A camera step that writes one finding and one table per camera, and counts its calls.
    `crash_on` makes it fail (Exception) or die (KeyboardInterrupt, like a kill) on a camera."""

    def __init__(self, crash_on: str | None = None, crash: BaseException | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.crash_on, self.crash = crash_on, crash

    def __call__(self, camera: Camera, paths: CasePaths, store: Store) -> None:
        self.calls[camera.camera_id] += 1
        if camera.camera_id == self.crash_on:
            raise self.crash or RuntimeError("decoder exploded")
        t = camera.start_time
        found = Finding(
            finding_id=finding_id("test", camera.camera_id, t.isoformat()),
            kind="test",
            analyser="recorder",
            summary=f"seen on {camera.camera_id}",
            station_id=camera.station_id,
            camera_id=camera.camera_id,
            t_start=t,
            t_end=t,
            score=1.0,
        )
        store.replace_findings("recorder", [found], camera_id=camera.camera_id)
        frame = pd.DataFrame({"t": [0.0, 1.0], "n": [1, 2]})
        store.write_table("recorder", "counts", frame, camera_id=camera.camera_id)


def _outputs(paths: CasePaths) -> tuple[str, pd.DataFrame]:
    with Store(paths.db_path) as store:
        return paths.out("findings.csv").read_text(), store.read_tables("recorder", "counts")


def test_analyse_probes_every_camera(small_case: CasePaths) -> None:
    # case steps left out: the forensic step finds the hand-written round numbers anomalous
    summary = analyse_case(small_case.root, case_steps={}, progress=False)  # ingests first
    assert summary.startswith("2 cameras (2 done, 0 failed), 0 findings")
    with Store(small_case.db_path) as store:
        jobs = store.jobs()
        streams = store.read_tables("probe", "streams")
    assert jobs.groupby("camera_id")["analyser"].apply(list).to_dict() == {
        "C1": ["probe", "video"],
        "C2": ["probe", "video"],
    }
    assert set(jobs["status"]) == {"done"}
    assert streams.groupby("camera_id")["kind"].apply(list).to_dict() == {
        "C1": ["video", "audio"],
        "C2": ["video"],
    }
    video = streams[streams["kind"] == "video"]
    assert video["packets"].tolist() == [SMALL.fps * SMALL.video_seconds] * 2
    assert video["end_s"].tolist() == pytest.approx([SMALL.video_seconds] * 2)
    assert video["gaps"].tolist() == [0, 0]
    header = small_case.out("findings.csv").read_text().splitlines()[0]
    assert header.split(",") == FINDINGS_COLUMNS


def test_a_failing_camera_does_not_stop_the_others(small_case: CasePaths) -> None:
    rec = Recorder(crash_on="C1")
    later = Recorder()
    steps = {"probe": probe_camera, "recorder": rec, "later": later}
    summary = analyse_case(small_case.root, camera_steps=steps, progress=False)
    assert "2 cameras (1 done, 1 failed)" in summary
    assert "C1 recorder: video/C1.mp4: decoder exploded" in summary
    with Store(small_case.db_path) as store:
        jobs = store.jobs().set_index(["camera_id", "analyser"])
    assert jobs["status"].to_dict() == {
        ("C1", "probe"): "done",
        ("C1", "recorder"): "failed",
        ("C1", "later"): "pending",  # waits for the next run
        ("C2", "probe"): "done",
        ("C2", "recorder"): "done",
        ("C2", "later"): "done",
    }
    assert later.calls == Counter({"C2": 1})
    assert jobs.loc[("C1", "recorder"), "error"] == "video/C1.mp4: decoder exploded"


def test_a_killed_run_resumes_with_the_unfinished_cameras(
    small_case: CasePaths, tmp_path: Path
) -> None:
    killer = Recorder(crash_on="C2", crash=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        analyse_case(small_case.root, camera_steps={"recorder": killer}, progress=False)
    with Store(small_case.db_path) as store:
        assert store.jobs()["status"].tolist() == ["done", "running"]
    resumed = Recorder()
    analyse_case(small_case.root, camera_steps={"recorder": resumed}, case_steps={}, progress=False)
    assert resumed.calls == Counter({"C2": 1})

    fresh_case = CasePaths.of(tmp_path / "fresh")
    write_case(fresh_case.root)
    analyse_case(
        fresh_case.root, camera_steps={"recorder": Recorder()}, case_steps={}, progress=False
    )
    resumed_csv, resumed_tables = _outputs(small_case)
    fresh_csv, fresh_tables = _outputs(fresh_case)
    assert resumed_csv == fresh_csv
    assert resumed_csv.count("\n") == 3  # header + one finding per camera
    pd.testing.assert_frame_equal(resumed_tables, fresh_tables)

    again = Recorder()
    analyse_case(small_case.root, camera_steps={"recorder": again}, case_steps={}, progress=False)
    assert again.calls == Counter()  # all done: nothing to do
    analyse_case(
        small_case.root,
        restart=True,
        camera_steps={"recorder": again},
        case_steps={},
        progress=False,
    )
    assert again.calls == Counter({"C1": 1, "C2": 1})
    assert _outputs(small_case)[0] == fresh_csv


def test_changed_inputs_are_ingested_again(small_case: CasePaths) -> None:
    analyse_case(small_case.root, camera_steps={}, progress=False)
    replace_in(small_case.root, "turnout.csv", "00+04:00,100", "00+04:00,111")
    analyse_case(small_case.root, camera_steps={}, progress=False)
    with Store(small_case.db_path) as store:
        assert store.checkpoints()["voters_cumulative"].iloc[0] == 111


def test_stream_sources_fail_the_probe_with_a_clear_message(small_case: CasePaths) -> None:
    replace_in(small_case.root, "cameras.csv", "video/C2.mp4", "rtsp://10.0.0.7/live")
    summary = analyse_case(small_case.root, progress=False)
    assert "C2 probe: rtsp://10.0.0.7/live: stream addresses are not analysed" in summary


def test_case_steps_run_after_the_cameras(small_case: CasePaths) -> None:
    seen: list[int] = []

    def case_step(paths: CasePaths, store: Store) -> None:
        seen.append(len(store.read_tables("recorder", "counts")))

    analyse_case(
        small_case.root,
        camera_steps={"recorder": Recorder()},
        case_steps={"count": case_step},
        progress=False,
    )
    assert seen == [4]  # two rows per camera were there


def test_the_registry_has_the_probe_step() -> None:
    assert CAMERA_STEPS.names()[0] == "probe"
    assert get_camera_step_by_name("probe") is probe_camera
    with pytest.raises(ValueError, match="unknown camera step 'nope'; known: \\['probe'"):
        get_camera_step_by_name("nope")


def test_run_demo_reuses_a_simulated_case(tmp_path: Path) -> None:
    calls: list[tuple[str, int]] = []

    def fake_simulate(preset: str, *, seed: int, out: Path) -> str:
        calls.append((preset, seed))
        write_case(out)
        return "fake"

    out = tmp_path / "demo"
    report = run_demo(out, seed=3, simulate=fake_simulate)
    assert report == out / "out" / "report.html" and report.is_file()
    run_demo(out, seed=3, simulate=fake_simulate)
    assert calls == [("demo", 3)]
    run_demo(out, seed=4, simulate=fake_simulate)
    assert calls == [("demo", 3), ("demo", 4)]
