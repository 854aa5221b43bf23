"""The analysis pipeline: ingest if needed, run every camera step on every camera (resumable),
then the case-level steps, then export CSVs under out/.

A camera step is `step(camera, case_paths, store) -> None`: it reads the camera's recording and
writes its tables (`store.write_table`) and findings (`store.replace_findings`). A case step is
`step(case_paths, store) -> None`. Both are looked up by name in `CAMERA_STEPS` / `CASE_STEPS`;
to plug a new part in, register it there from a module listed in the registry's `modules`.

Each (camera, camera step) is a job in the store: done jobs are skipped on the next run, so an
analysis killed half-way continues where it stopped; `restart=True` forgets every job first.
A step that raises fails its job (the error names the recording) and the camera's later steps
wait for the next run; the other cameras carry on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pollwatch.case import CasePaths
from pollwatch.errors import InputError
from pollwatch.ingest import ingest_case, input_fingerprint
from pollwatch.ingest.videos import scan_streams
from pollwatch.registry import Registry
from pollwatch.store import Camera, Store

__all__ = [
    "CAMERA_STEPS",
    "CASE_STEPS",
    "FINDINGS_COLUMNS",
    "CameraStep",
    "CaseStep",
    "analyse_case",
    "export_csvs",
    "get_camera_step_by_name",
    "probe_camera",
    "run_demo",
]

CameraStep = Callable[[Camera, CasePaths, Store], None]
CaseStep = Callable[[CasePaths, Store], None]

CAMERA_STEPS: Registry[CameraStep] = Registry("camera step", modules=("pollwatch.videostep",))
CASE_STEPS: Registry[CaseStep] = Registry(
    "case step",
    modules=(
        "pollwatch.counting.step",
        "pollwatch.stuffing.step",
        "pollwatch.audit.summary",
        "pollwatch.forensics.step",
        "pollwatch.carousel.step",
    ),
)

FINDINGS_COLUMNS = [
    "finding_id",
    "kind",
    "station_id",
    "camera_id",
    "t_start",
    "t_end",
    "score",
    "p_value",
    "summary",
]


def get_camera_step_by_name(name: str) -> CameraStep:
    """The camera step registered as `name`."""
    return CAMERA_STEPS.get(name)


@CAMERA_STEPS.registering("probe", order=0)
def probe_camera(camera: Camera, paths: CasePaths, store: Store) -> None:
    """Demux the camera's recording and store what its streams really hold (table
    probe/streams: packets, first/last timestamps, frame rate, audio presence, frame gaps)."""
    path = camera.source_path(paths.root)
    if path is None:
        raise ValueError(f"{camera.source}: stream addresses are not analysed; record a file")
    streams = scan_streams(path)
    store.write_table("probe", "streams", streams, camera_id=camera.camera_id)
    video = streams[streams["kind"] == "video"]
    store.set_job_progress(camera.camera_id, "probe", float(video["end_s"].max()))


def _ensure_ingested(paths: CasePaths) -> None:
    if not paths.root.is_dir():
        raise InputError.at(paths.root, "case folder does not exist")
    stored = None
    if paths.db_path.is_file():
        with Store(paths.db_path) as store:
            stored = store.input_fingerprint()
    if stored != input_fingerprint(paths.root):
        ingest_case(paths.root)


def _run_camera(
    camera: Camera, steps: Mapping[str, CameraStep], paths: CasePaths, store: Store
) -> None:
    for name, step in steps.items():
        if store.job_status(camera.camera_id, name) == "done":
            continue
        store.start_job(camera.camera_id, name)
        try:
            step(camera, paths, store)
        except Exception as err:  # one camera's failure must not stop the others
            message = str(err) or type(err).__name__
            if Path(camera.source).name not in message:
                message = f"{camera.source}: {message}"
            store.fail_job(camera.camera_id, name, message)
            return
        store.finish_job(camera.camera_id, name)


def export_csvs(paths: CasePaths, store: Store) -> list[Path]:
    """Write the CSV exports under out/ (findings.csv); returns their paths."""
    target = paths.out("findings.csv")
    store.findings().reindex(columns=FINDINGS_COLUMNS).to_csv(target, index=False)
    return [target]


def analyse_case(
    case: str | Path,
    restart: bool = False,
    *,
    camera_steps: Mapping[str, CameraStep] | None = None,
    case_steps: Mapping[str, CaseStep] | None = None,
    progress: bool = True,
) -> str:
    """Ingest the case if its inputs changed, analyse every camera, run the case steps and
    export CSVs; returns a summary. `camera_steps`/`case_steps` replace the registered ones."""
    paths = CasePaths.of(case)
    _ensure_ingested(paths)
    cam_steps = dict(CAMERA_STEPS.items() if camera_steps is None else camera_steps)
    all_case_steps = dict(CASE_STEPS.items() if case_steps is None else case_steps)
    with Store(paths.db_path) as store:
        if restart:
            store.reset_analysis()
        cameras = store.camera_records()
        store.add_pending_jobs([c.camera_id for c in cameras], list(cam_steps))
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=Console(stderr=True), disable=not progress) as bar:
            task = bar.add_task("cameras", total=len(cameras))
            for camera in cameras:
                bar.update(task, description=f"camera {camera.camera_id}")
                _run_camera(camera, cam_steps, paths, store)
                bar.advance(task)
        for step in all_case_steps.values():
            step(paths, store)
        exported = export_csvs(paths, store)
        jobs = store.jobs()
        n_findings = len(store.findings())
    jobs = jobs[jobs["analyser"].isin(list(cam_steps))]
    failed = jobs[jobs["status"] == "failed"]
    done = set(jobs["camera_id"]) - set(jobs.loc[jobs["status"] != "done", "camera_id"])
    text = (
        f"{len(cameras)} cameras ({len(done)} done, {failed['camera_id'].nunique()} failed), "
        f"{n_findings} findings → {', '.join(str(p) for p in exported)}"
    )
    text += "".join(f"\n  {r.camera_id} {r.analyser}: {r.error}" for r in failed.itertuples())
    return text


def run_demo(out: Path, seed: int = 1, *, simulate: Callable[..., object] | None = None) -> Path:
    """Simulate the `demo` preset into `out` (kept if already simulated with this seed),
    analyse it and write the report; returns the report's path."""
    paths = CasePaths.of(out)
    marker = paths.out_dir / "demo.json"
    wanted = {"preset": "demo", "seed": seed}
    try:
        done = json.loads(marker.read_text()) == wanted and paths.election_toml.is_file()
    except (OSError, ValueError):
        done = False
    if not done:
        if simulate is None:
            from pollwatch.simulate.runner import simulate_case as simulate
        simulate("demo", seed=seed, out=out)
        paths.out("demo.json").write_text(json.dumps(wanted))
    analyse_case(out)
    from pollwatch.report import write_report

    return write_report(out)
