"""What the camera audit adds to the engine's single decode pass: prints JSON.

On a clip made by the simulator's renderer (a voter crossing the room, 640×360 at 25 fps, H.264
+ AAC, as in the `demo` preset; or `--video PATH`), it times, interleaved and best of `--repeat`,
in process CPU seconds (all threads; a shared machine disturbs it less than wall time):

- decode: `analyse_video` with one do-nothing analyser taking every frame (video only) — the
  decoding a pass costs before any analysis;
- decode + audio: the same analyser also taking the audio (decoded and resampled to mono);
- decode + audit: the do-nothing analyser and `CameraAuditor` (with the reference image and
  box polygon) in one pass: what the audit adds when it rides along a pass that decodes every
  frame anyway (its audio decoding included);
- audit alone: `CameraAuditor` as the only analyser (the engine then skips non-reference
  frames, since the audit samples 2 frames per second).

`audit_overhead` = (decode + audit − decode) / decode, the figure the ≤ 20 % target is about;
it includes decoding the audio, which only the audit needs (`audio_decode_share`).
`audit_own_share_of_decode`: the CPU time spent inside the auditor's calls over decode;
`view_share_of_decode`: the view audit's part of it.

`replayed` (the steadiest figure on a shared machine): the frames and audio chunks one pass
hands the auditor are kept and handed to a fresh auditor `--repeat` more times (each frame's
cached pictures dropped before each replay, so the gray pictures are made anew); the thread
CPU time inside each auditor's calls, fewest of the replays, in ms and over decode-only:
`audio`, `view`, `conditions` (its `freeze` pairs included, and the gray pictures of the
samples the view did not take first), `result`. The recorded events are kept out of the
garbage collector's walks (`gc.freeze`) while replaying.

Run: PYTHONPATH=src python benchmarks/audit_cost.py [--video PATH --reference PNG --polygon JSON]
    [--image-size W H] (no reference: the picture's size; a polygon of "null": none)
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2

from pollwatch.audit import CameraAuditor
from pollwatch.simulate.plan import Appearance, CameraPlan, Stop, Visit
from pollwatch.simulate.render import render_camera
from pollwatch.video import Needs, analyse_video

START = datetime(2025, 3, 9, 8, 0, tzinfo=UTC)


class Null:
    """Takes what the engine hands over and does nothing with it."""

    def __init__(self, audio: bool) -> None:
        self.needs = Needs(video=True, audio=audio)

    def reset(self) -> None:
        pass

    def start(self, info: object) -> None:
        pass

    def update(self, frame: object) -> None:
        pass

    def on_audio(self, chunk: object) -> None:
        pass

    def on_gap(self, gap: object) -> None:
        pass

    def result(self) -> None:
        return None


class Timed:
    """Wraps the auditor and adds up the CPU time spent inside its calls (video, audio)."""

    def __init__(self, inner: CameraAuditor) -> None:
        self.inner, self.video, self.audio, self.view = inner, 0.0, 0.0, 0.0
        self.needs = inner.needs
        view_update = inner.view.update

        def timed_view(frame: object) -> None:  # the view's share of `video`
            t = time.process_time()
            view_update(frame)  # type: ignore[arg-type]
            self.view += time.process_time() - t

        inner.view.update = timed_view  # type: ignore[method-assign]

    def reset(self) -> None:
        self.inner.reset()

    def start(self, info: object) -> None:
        self.inner.start(info)  # type: ignore[arg-type]

    def update(self, frame: object) -> None:
        t = time.process_time()
        self.inner.update(frame)  # type: ignore[arg-type]
        self.video += time.process_time() - t

    def on_audio(self, chunk: object) -> None:
        t = time.process_time()
        self.inner.on_audio(chunk)  # type: ignore[arg-type]
        self.audio += time.process_time() - t

    def on_gap(self, gap: object) -> None:
        self.inner.on_gap(gap)  # type: ignore[arg-type]

    def result(self) -> object:
        return self.inner.result()


def simulator_clip(folder: Path, seconds: float) -> tuple[Path, Path, list]:
    """A `demo`-like recording: 640×360, 25 fps, one voter to the table, the box and out."""
    voter = Appearance(
        1.75, 1.0, (40, 60, 190), (50, 40, 40), (110, 140, 190), (30, 30, 30), 1.2, 1.8
    )
    walk = (
        Stop("entrance", 2.0, 2.0),
        Stop("table", 6.0, 12.0),
        Stop("box", 17.0, 20.0),
        Stop("exit", 26.0, 26.0),
    )
    plan = CameraPlan("bench", "st", START, seconds, (Visit("v", "voter", voter, walk),), seed=3)
    rendered = render_camera(plan, folder / "bench.mp4", folder / "bench.png")
    return folder / "bench.mp4", folder / "bench.png", list(rendered.box_polygon)


def cpu(path: Path, analysers: list) -> float:
    t0 = time.process_time()
    analyse_video(path, analysers, start_time=START)
    return time.process_time() - t0


class Recorder(Null):
    """Keeps what the engine hands the auditor, in order, to hand it over again."""

    def __init__(self, needs: Needs) -> None:
        self.needs, self.events = needs, []

    def start(self, info: object) -> None:
        self.info = info

    def update(self, frame: object) -> None:
        self.events.append(("update", frame))

    def on_audio(self, chunk: object) -> None:
        self.events.append(("on_audio", chunk))

    def on_gap(self, gap: object) -> None:
        self.events.append(("on_gap", gap))


def _thread_timed(obj: object, name: str, totals: dict[str, float], key: str) -> None:
    """Add the thread CPU time of every call of `obj.name` to `totals[key]`."""
    call = getattr(obj, name)

    def timed(*args: object, **kwargs: object) -> object:
        t = time.thread_time()
        try:
            return call(*args, **kwargs)
        finally:
            totals[key] = totals.get(key, 0.0) + time.thread_time() - t

    setattr(obj, name, timed)


def replayed(path: Path, make, repeat: int) -> dict[str, float]:
    """The auditor's own CPU per part on one pass's frames and chunks, replayed `repeat`
    times: the fewest ms of any replay per part (see the module doc)."""
    recorder = Recorder(make().needs)
    analyse_video(path, [recorder], start_time=START)
    # the recorded events are not the collector's work in a pass: without this, its walks over
    # the thousands of frames held here were charged to whichever auditor call set them off
    # (azerbaijan-2024 72's cam-D099-020: 1.02 of decode-only instead of 0.49)
    gc.collect()
    gc.freeze()
    try:
        return _replays(recorder, make, repeat)
    finally:
        gc.unfreeze()


def _replays(recorder: Recorder, make, repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        auditor, totals = make(), {}
        _thread_timed(auditor.audio, "on_audio", totals, "audio")
        _thread_timed(auditor.view, "update", totals, "view")
        _thread_timed(auditor.conditions, "update", totals, "conditions")
        _thread_timed(auditor.conditions.freeze, "feed", totals, "freeze")
        _thread_timed(auditor, "result", totals, "result")
        for kind, item in recorder.events:
            if kind == "update":
                item._cache.clear()  # the gray pictures are made anew, as in a pass
        auditor.reset()
        auditor.start(recorder.info)
        t = time.thread_time()
        for kind, item in recorder.events:
            getattr(auditor, kind)(item)
        auditor.result()
        totals["total"] = time.thread_time() - t
        runs.append(totals)
    return {k: 1e3 * min(r.get(k, 0.0) for r in runs) for k in runs[0]}


def measure(
    path: Path,
    reference: Path | None,
    polygon: list | None,
    repeat: int = 3,
    image_size: tuple[int, int] | None = None,
) -> dict[str, object]:
    ref = None if reference is None else cv2.imread(str(reference))
    cpu(path, [Null(audio=False)])  # warm the file cache

    def audit() -> CameraAuditor:
        return CameraAuditor.create(reference=ref, box_polygon=polygon, image_size=image_size)

    names = (
        "decode",
        "decode_audio",
        "decode_audit",
        "alone",
        "own_video",
        "own_view",
        "own_audio",
    )
    runs: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(repeat):
        runs["decode"].append(cpu(path, [Null(audio=False)]))
        runs["decode_audio"].append(cpu(path, [Null(audio=True)]))
        timed = Timed(audit())
        runs["decode_audit"].append(cpu(path, [Null(audio=False), timed]))
        runs["own_video"].append(timed.video)
        runs["own_view"].append(timed.view)
        runs["own_audio"].append(timed.audio)
        runs["alone"].append(cpu(path, [audit()]))
    best = {k: min(v) for k, v in runs.items()}
    parts_ms = replayed(path, audit, repeat)
    run = analyse_video(path, [audit()], start_time=START)
    seconds = float(run.last_s or 0.0)
    return {
        "clip": f"{path.name}: {seconds:.0f} s, {run.info.width}x{run.info.height} "
        f"{run.info.fps:g} fps {run.info.video_codec}",
        "cpu_s": best,
        "ms_per_video_s": {k: 1e3 * v / seconds for k, v in best.items()},
        "audio_decode_share": (best["decode_audio"] - best["decode"]) / best["decode"],
        "audit_overhead": (best["decode_audit"] - best["decode"]) / best["decode"],
        "audit_overhead_over_video_and_audio_decode": (best["decode_audit"] - best["decode_audio"])
        / best["decode_audio"],
        "audit_own_share_of_decode": (best["own_video"] + best["own_audio"]) / best["decode"],
        "view_share_of_decode": best["own_view"] / best["decode"],
        "audit_alone_vs_decode": best["alone"] / best["decode"],
        "replayed_ms": {k: round(v, 1) for k, v in parts_ms.items()},
        "replayed_vs_decode": {k: round(v / 1e3 / best["decode"], 4) for k, v in parts_ms.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path)
    parser.add_argument("--reference", type=Path)
    parser.add_argument("--polygon", help="JSON [[x, y], ...]")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant (best kept)")
    parser.add_argument("--image-size", type=int, nargs=2, help="W H (without a reference)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.video is None:
            video, reference, polygon = simulator_clip(Path(tmp), args.seconds)
        else:
            video, reference = args.video, args.reference
            polygon = json.loads(args.polygon) if args.polygon else None
        size = tuple(args.image_size) if args.image_size else None
        print(json.dumps(measure(video, reference, polygon, args.repeat, size), indent=2))


if __name__ == "__main__":
    main()
