"""`pollwatch simulate`: a whole synthetic election written as a case folder with its truth.

Order of work: the election (stations, true results, fraud), the schedules of the cameras to
render (the first K of the rendering order), the official files, the videos (in parallel
processes), cameras.csv, and last truth/. The same preset and seed give byte-identical CSV
files and identical truth tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pollwatch.case import CasePaths
from pollwatch.errors import PollwatchError
from pollwatch.simulate.casefiles import write_cameras_csv, write_official_files
from pollwatch.simulate.election import Election, simulate_election
from pollwatch.simulate.plan import CameraPlan, RenderedCamera
from pollwatch.simulate.presets import get_preset
from pollwatch.simulate.schedule import CameraSchedule, build_schedule
from pollwatch.simulate.truth import CameraFiles, build_truth, write_truth

__all__ = ["Renderer", "simulate_case"]

Renderer = Callable[[CameraPlan, Path, Path | None], RenderedCamera]

_GENERATED = (
    "election.toml",
    "stations.csv",
    "results.csv",
    "turnout.csv",
    "cameras.csv",
    "video",
    "reference",
    "truth",
    "out",
)


def _prepare(root: Path) -> None:
    """Make `root` ready: new, empty, or an earlier simulated case (whose files go)."""
    paths = CasePaths.of(root)
    if root.exists() and not root.is_dir():
        raise ValueError(f"{root} exists and is not a folder")
    if root.is_dir() and any(root.iterdir()):
        if not (paths.truth_dir / "summary.json").is_file():
            raise ValueError(f"{root} is not empty and not a simulated case: choose a new folder")
        for name in _GENERATED:
            target = root / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    root.mkdir(parents=True, exist_ok=True)


def _default_renderer() -> Renderer:
    try:
        from pollwatch.simulate.render import render_camera
    except ImportError as err:
        raise PollwatchError(
            f"the video renderer is not available ({err}); use --render 0 for results only"
        ) from err
    return render_camera


def _jobs(
    root: Path, schedules: list[CameraSchedule]
) -> list[tuple[CameraPlan, Path, Path | None]]:
    """What to render: every third camera (2nd, 5th, ...) has no box polygon in cameras.csv
    and every other one (1st, 3rd, ...) a reference image, so both paths get exercised."""
    jobs = []
    for i, s in enumerate(schedules):
        cam = s.plan.camera_id
        ref = root / "reference" / f"{cam}.png" if i % 2 == 0 else None
        jobs.append((s.plan, root / "video" / f"{cam}.mp4", ref))
    return jobs


def _render(
    jobs: list[tuple[CameraPlan, Path, Path | None]],
    renderer: Renderer,
    workers: int,
    progress: bool,
) -> dict[str, RenderedCamera]:
    done: dict[str, RenderedCamera] = {}
    columns = (TextColumn("rendering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), disable=not progress) as bar:
        task = bar.add_task("render", total=len(jobs))
        if workers <= 1 or len(jobs) <= 1:
            for plan, video, ref in jobs:
                done[plan.camera_id] = renderer(plan, video, ref)
                bar.advance(task)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(renderer, *job): job[0].camera_id for job in jobs}
                for fut in as_completed(futures):
                    done[futures[fut]] = fut.result()
                    bar.advance(task)
    for cam, rc in done.items():
        if rc.camera_id != cam:
            raise PollwatchError(f"renderer returned camera {rc.camera_id!r} for {cam!r}")
    return done


def _summary_line(election: Election, n_rendered: int) -> str:
    p, off = election.preset, election.official()
    turnout = off["ballots_issued"].sum() / off["registered"].sum()
    share = off[p.incumbent].sum() / off[list(p.candidates)].to_numpy().sum()
    fraud = (
        "no fraud"
        if p.clean
        else f"{int((election.inflation > 0).sum())} inflated, {len(election.stuffing)} "
        f"stuffed, {len(election.carousels)} carousels"
    )
    return (
        f"{p.name} seed {election.seed}: {len(off):,} stations, "
        f"{int(election.stations['has_camera'].sum()):,} cameras ({n_rendered} rendered), "
        f"turnout {turnout:.1%}, {p.incumbent} {share:.1%}, {fraud}"
    )


def simulate_case(
    preset: str,
    *,
    seed: int,
    out: str | Path,
    render: int | None = None,
    time_scale: float | None = None,
    clip_s: float | None = None,
    renderer: Renderer | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> str:
    """Simulate the election `preset` with `seed` into the case folder `out`.

    `render`: cameras to render (default: the preset's; 0 for results only), taken in the
    preset's rendering order. `time_scale` overrides the preset's day compression; `clip_s`
    records each rendered camera for at most that many seconds from its start (a short sample
    for the camera audit; the official figures still cover the whole day).
    `renderer` draws one camera (default `pollwatch.simulate.render.render_camera`); renders
    run in up to `workers` processes (default: one per CPU). Returns a one-line summary.
    """
    if render is not None and render < 0:
        raise ValueError(f"render must be non-negative, got {render}")
    p = get_preset(preset).with_time_scale(time_scale).with_clip(clip_s)
    election = simulate_election(p, seed)
    root = Path(out)
    _prepare(root)
    n_render = min(p.render if render is None else render, len(election.priority))
    schedules = [build_schedule(election, row) for row in election.priority[:n_render]]
    counts = election.interval_counts({s.plan.station_id: s.counts for s in schedules})

    files: dict[str, CameraFiles] = {}
    if schedules:
        draw = renderer or _default_renderer()
        jobs = _jobs(root, schedules)
        (root / "video").mkdir(exist_ok=True)
        if any(ref is not None for _, _, ref in jobs):
            (root / "reference").mkdir(exist_ok=True)
        n_workers = workers or min(os.cpu_count() or 1, len(jobs))
        done = _render(jobs, draw, n_workers, progress)
        for i, (plan, _, ref) in enumerate(jobs):
            rc = done[plan.camera_id]
            has_ref = ref is not None and rc.reference_path is not None
            ref_rel = f"reference/{plan.camera_id}.png" if has_ref else ""
            files[plan.camera_id] = CameraFiles(
                rc, polygon_in_csv=i % 3 != 1, reference_image=ref_rel
            )

    truth = build_truth(election, schedules, counts, files)
    write_official_files(root, election, truth)
    write_cameras_csv(root, truth)
    write_truth(CasePaths.of(root).truth_dir, truth)
    return _summary_line(election, len(schedules))
