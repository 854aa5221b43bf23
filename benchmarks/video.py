"""Video analysis speed on a simulated camera: the counting pass against decode-only, on one
core. Prints JSON.

Renders, once into a temporary folder, a stretch of the `demo` preset's first camera (640×360,
25 fps, about 1 Mbit/s H.264 + AAC, as `pollwatch simulate` writes it; camera faults left out
so every frame is there) with `render_camera`. Then runs every stage in a fresh process
pinned to one CPU (cv2.setNumThreads(1), one decoder thread), in `--repeats` rounds (default
3) that each run every stage once, so a slow spell of the shared virtual machine falls on all
stages alike; keeps each stage's fastest run (its CPU times of all rounds in `cpu_s_runs`) and
reports CPU and wall time, their ratio to decode-only measured in
the same run, video seconds per wall second and peak RSS (VmHWM: the stage's process alone).

The fastest runs of two stages may come from rounds the machine ran at different speeds
(decode-only's rounds have spread 1.07–1.59 s CPU in one run), so every stage but decode-only
also gets per-round ratios: in each round, its CPU time over that round's own decode-only
(and video + audio decode) run:

- `ratio_cpu_rounds`: those ratios, round by round (`cpu_s_runs` holds the CPU times);
- `ratio_cpu_median`, `ratio_cpu_spread` ([min, max]): their median and range over rounds;
- `ratio_cpu_vs_av_decode_rounds`, `_median`, `_spread`: the same against the round's
  video + audio decode;
- `added_cpu_vs_decode_median` (with `--carousel`): per round, the carousel pass's CPU time
  less the counting pass's, over decode-only's;
- `pre_pass_cpu_s_runs`, `pre_pass_median`, `pre_pass_spread` (the counting stages): the CPU
  time of the keyframe looks before the engine's pass (median, box zone, nudged views), round
  by round, and over the round's decode-only. Part of it does not grow with the clip (the
  median's 9 keyframes; a fresh process's first pass pays more besides), so the ratios of a
  short clip overstate an hour's: docs/video.md "Session 13" has them at 120 and 600 s.

`--warm` decodes the clip's video once in each stage's process before its clock starts, so
every stage finds the file in the page cache and the decoder's code and tables warm, as the
second of several readers does (`warm_decode` in the JSON says which):


- `decode_only`: PyAV decodes every frame (same file, same library);
- `decode_video_and_audio`: every video and audio frame decoded, the audio converted to an
  array: the floor of a pass that also listens (the audit); `ratio_cpu_vs_av_decode` of every
  stage is measured against it;
  (every stage imports its libraries before its clock starts, as a pipeline process does once
  for all its cameras)
- `counting_pass`: what the pipeline's "video" step does for counting: the keyframe median,
  the box zone, one engine pass with the `BoxWatcher`, and `find_drops`;
- `audit_pass`: the camera audit alone (`CameraAuditor` with the camera's reference image
  and box polygon, as `make_audit_analyser` builds it): one engine pass decoding the video
  and the audio; its `ratio_cpu` − 1 is what the audit adds to decode-only (target ≤ 0.2);
- `counting_audit_pass`: the counting pass with the auditor riding along in the same engine
  pass, as the pipeline's "video" step runs them (target: `ratio_cpu` ≤ 1.5);
- `person_tracker_5fps`: the full-frame background detector + ByteTrack at 5 fps, for
  reference (not part of the counting pass);
- `counting_carousel_pass` (with `--carousel`): the counting pass with the carousel part's
  `VoterCrops` (tracker at 4 fps, a few crops per track, the slot crops above the box) in the
  same engine pass, then every voter visit at the box embedded from its slot crops with the "parts"
  descriptor, as `VoterPart` does. `added_cpu_vs_decode` is its CPU time less the counting
  pass's, over decode-only's.

`--repeat-day` plays the camera's whole day (388 s at seed 1: 35 visits, 30 drops, all
before 378 s) again and again to the clip's end, so a long clip keeps the day's density
(278 drops an hour) instead of being an empty room after 388 s; a clip up to the day's
length is the same either way. `clip` in the JSON gives visits, voter arrivals and drops per
hour of clip.

    PYTHONPATH=src python benchmarks/video.py [--seconds 120] [--seed 1] [--repeats 3] [--warm]
        [--tracker] [--carousel] [--repeat-day]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def make_clip(path: Path, seconds: float, seed: int, repeat: bool = False) -> dict:
    """Render `seconds` of the demo preset's first camera (no faults) into `path`; with
    `repeat`, the camera's whole day (its visits, then its post-roll) played again and again
    to the clip's end, so a long clip is as busy as the day (without it, every visit of the
    day falls in its first 388 s and the rest of a long clip is an empty room)."""
    from pollwatch.simulate.election import simulate_election
    from pollwatch.simulate.plan import repeat_visits
    from pollwatch.simulate.presets import get_preset
    from pollwatch.simulate.render import render_camera
    from pollwatch.simulate.schedule import build_schedule

    election = simulate_election(get_preset("demo"), seed)
    schedule = build_schedule(election, int(election.priority[0]))
    day_s = schedule.plan.duration_s
    plan = schedule.plan
    if repeat:
        plan = repeat_visits(plan, day_s, seconds)
    plan = replace(plan, duration_s=seconds, conditions=())
    t0 = time.perf_counter()
    rendered = render_camera(plan, path, path.with_suffix(".png"))
    import av

    with av.open(str(path)) as c:
        video_bytes = sum(p.size for p in c.demux(c.streams.video[0]))
    visits = [v for v in plan.visits if v.enter_s < seconds]
    drops = [d for v in plan.visits for d in v.drops if d.t_s < seconds]
    voters = [v for v in visits if v.role not in ("commission", "observer")]
    return {
        "seconds": seconds,
        "width": plan.width,
        "height": plan.height,
        "fps": plan.fps,
        "repeat_day": repeat,
        "day_s": day_s,
        "visits": len(visits),
        "drops": len(drops),
        "ballots": sum(d.ballots for d in drops),
        # per hour of clip; "arrivals" leaves out the staff (whose visits span the day)
        "visits_per_hour": round(len(visits) * 3600 / seconds, 1),
        "arrivals_per_hour": round(len(voters) * 3600 / seconds, 1),
        "drops_per_hour": round(len(drops) * 3600 / seconds, 1),
        "video_kbit_s": round(video_bytes * 8 / seconds / 1000, 1),
        "file_kbit_s": round(path.stat().st_size * 8 / seconds / 1000, 1),
        "render_s": round(time.perf_counter() - t0, 1),
        "box_polygon": [list(p) for p in rendered.box_polygon],
        "encoder": "the simulator's: libx264 superfast, no B-frames, GOP 2 s; AAC",
    }


def _one_core() -> None:
    import cv2

    cv2.setNumThreads(1)
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def stage_decode(clip: Path) -> dict:
    import av

    with av.open(str(clip)) as c:
        vs = c.streams.video[0]
        vs.codec_context.thread_count = 1
        vs.codec_context.thread_type = "SLICE"
        frames = sum(1 for _ in c.decode(vs))
    return {"frames": frames}


def stage_decode_av(clip: Path) -> dict:
    """Every video frame and every audio frame decoded (the floor of anything that also
    listens, as the camera audit does), the audio as PyAV hands it."""
    import av

    with av.open(str(clip)) as c:
        vs = c.streams.video[0]
        vs.codec_context.thread_count = 1
        vs.codec_context.thread_type = "SLICE"
        frames = audio = 0
        for frame in c.decode(*c.streams.video[:1], *c.streams.audio[:1]):
            if isinstance(frame, av.AudioFrame):
                frame.to_ndarray()
                audio += 1
            else:
                frames += 1
    return {"frames": frames, "audio_frames": audio}


def _auditor(clip: Path, polygon: list):
    """The camera's auditor as `make_audit_analyser` builds it (reference image, polygon)."""
    import cv2

    from pollwatch.audit import CameraAuditor

    reference = cv2.imread(str(clip.with_suffix(".png")), cv2.IMREAD_COLOR)
    return CameraAuditor.create(reference=reference, box_polygon=polygon)


def stage_counting(clip: Path, polygon: list, audit: bool = False, carousel: bool = False) -> dict:
    from datetime import UTC, datetime

    import numpy as np

    from pollwatch.carousel.voters import VoterCrops, VoterPart
    from pollwatch.counting import BoxWatcher, find_drops, resolve_box_zone, unobservable_ranges
    from pollwatch.counting.views import box_views
    from pollwatch.reid import get_embedder_by_name
    from pollwatch.store import Camera
    from pollwatch.video import EngineOptions, analyse_video
    from pollwatch.video.keyframes import KeyframeReader, lazy_background

    # as the pipeline's video step and counting part do (each keyframe decoded once; the
    # whole recording's median taken only when the first minutes give no confident fit)
    c0 = time.process_time()
    keyframes = KeyframeReader(clip)
    background = keyframes.background(until_s=180.0)
    corners = tuple(tuple(p) for p in polygon)
    zone = resolve_box_zone(background, corners, others=lazy_background(keyframes))
    box_views(keyframes, zone, background)  # the look for a nudged view
    keyframes.close()  # as the video step closes it before the pass
    pre_pass_cpu_s = time.process_time() - c0
    box = np.asarray(zone.polygon, np.float64)
    crops = VoterCrops(background=background, box=box)  # as the carousel part builds it
    analysers = [BoxWatcher(zone.zone)] + ([crops] if carousel else [])
    analysers += [_auditor(clip, polygon)] if audit else []
    run = analyse_video(clip, analysers, options=EngineOptions(threads=1))
    watch = run.results[0]
    blind = [(g.start_s, g.end_s or 1e9, g.kind) for g in run.gaps]
    drops, _ = find_drops(
        watch.series, watch.box_height_px, blind=blind + unobservable_ranges(watch.series)
    )
    extra = {}
    if carousel:  # as VoterPart.save: every voter visit at the box embedded from slot crops
        kept = run.results[1]
        camera = Camera("bench", "bench", str(clip), datetime(2025, 3, 9, tzinfo=UTC))
        part = VoterPart(camera, get_embedder_by_name("parts"), crops)
        rows = part._visit_sightings(kept)
        extra = {"voters_embedded": len(rows), "crop_kb": round(kept.nbytes() / 1024, 1)}
    return {
        "frames_decoded": run.frames_decoded,
        "frames_analysed": run.frames_delivered,
        "skip": run.skip,
        "drops_found": int(drops["ballots"].sum()),
        "pre_pass_cpu_s": pre_pass_cpu_s,
        **extra,
    }


def stage_audit(clip: Path, polygon: list) -> dict:
    from pollwatch.video import EngineOptions, analyse_video

    run = analyse_video(clip, [_auditor(clip, polygon)], options=EngineOptions(threads=1))
    audit = run.results[0]
    return {
        "frames_analysed": run.frames_delivered,
        "audio_chunks": run.audio_chunks,
        "audio_state": audit.audio.state,
        "view_state": audit.view.state,
    }


def stage_tracker(clip: Path) -> dict:
    from pollwatch.video import EngineOptions, PersonTracker, analyse_video

    run = analyse_video(clip, [PersonTracker(fps=5.0)], options=EngineOptions(threads=1))
    return {"frames_analysed": run.frames_delivered, "tracks": len(run.results[0].tracks)}


STAGES = {
    "decode": stage_decode,
    "decode_av": stage_decode_av,
    "counting": stage_counting,
    "audit": stage_audit,
    "tracker": stage_tracker,
}


def _warm_imports() -> None:
    """Import every library a stage uses before the clock starts (a pipeline process imports
    them once for all its cameras)."""
    import av  # noqa: F401
    import cv2  # noqa: F401
    import pandas  # noqa: F401
    import scipy.stats  # noqa: F401
    import trackers  # noqa: F401  (VoterCrops' tracker: about 0.4 s of imports)

    import pollwatch.audit
    import pollwatch.carousel.voters
    import pollwatch.counting
    import pollwatch.reid.colour
    import pollwatch.video  # noqa: F401


def _peak_rss_mb() -> float:
    """This process's peak RSS since its exec (VmHWM). Not `ru_maxrss`: a child started by
    fork + exec inherits its parent's, so every stage read the rendering parent's peak (1,212
    MB at 3,600 s with `--repeat-day`, whatever the stage)."""
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    return round(kb / 1024, 1)


def _child(argv: list[str]) -> None:
    args = json.loads(argv[0])
    _one_core()
    _warm_imports()
    name = args.pop("stage")
    clip = Path(args.pop("clip"))
    if args.pop("warm", False):
        stage_decode(clip)
    t0, c0 = time.perf_counter(), time.process_time()
    out = STAGES[name](clip, **args)
    out["wall_s"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0
    out["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(out))


def _once(args: dict) -> dict:
    """One run of a stage in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(args, default=str)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run_interleaved(plan: dict[str, dict], repeats: int) -> dict[str, dict]:
    """Run every stage of `plan` once per round, `repeats` rounds, so that a slow spell of the
    (shared, virtual) machine falls on every stage alike; keep each stage's fastest run, and
    its CPU times round by round in `cpu_s_runs`."""
    runs: dict[str, list[dict]] = {name: [] for name in plan}
    names = list(plan)
    for k in range(repeats):
        # each round starts at another stage: whatever the first process of a round pays
        # (decode-only always came first and ran 25% slower than decoding video and audio)
        # falls on every stage in turn
        for name in names[k % len(names) :] + names[: k % len(names)]:
            runs[name].append(_once(plan[name]))
    best = {}
    for name, rs in runs.items():
        b = dict(min(rs, key=lambda r: r["cpu_s"]))
        b["wall_s"] = min(r["wall_s"] for r in rs)
        b["cpu_s_runs"] = [r["cpu_s"] for r in rs]
        if "pre_pass_cpu_s" in b:
            b["pre_pass_cpu_s_runs"] = [r["pre_pass_cpu_s"] for r in rs]
        b["repeats"] = repeats
        best[name] = b
    return best


def _round_ratios(cpu_s: list[float], floor_s: list[float], key: str) -> dict:
    """Each round's CPU time over the same round's `floor_s`: the ratios round by round,
    their median and [min, max] over rounds, as `key`_rounds, _median and _spread."""
    ratios = [c / f for c, f in zip(cpu_s, floor_s, strict=True)]
    return {
        f"{key}_rounds": [round(x, 3) for x in ratios],
        f"{key}_median": round(statistics.median(ratios), 3),
        f"{key}_spread": [round(min(ratios), 3), round(max(ratios), 3)],
    }


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tracker", action="store_true", help="also time the person tracker")
    parser.add_argument("--carousel", action="store_true", help="also time the carousel part")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over every stage")
    parser.add_argument(
        "--repeat-day",
        action="store_true",
        help="play the camera's day again and again to the clip's end (keeps its density)",
    )
    parser.add_argument(
        "--warm", action="store_true", help="decode the clip once before each stage's clock"
    )
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "camera.mp4"
        info = make_clip(clip, opts.seconds, opts.seed, opts.repeat_day)
        polygon = info.pop("box_polygon")
        plan: dict[str, dict] = {
            "decode_only": {"stage": "decode", "clip": clip},
            "decode_video_and_audio": {"stage": "decode_av", "clip": clip},
            "counting_pass": {"stage": "counting", "clip": clip, "polygon": polygon},
            "audit_pass": {"stage": "audit", "clip": clip, "polygon": polygon},
            "counting_audit_pass": {
                "stage": "counting", "clip": clip, "polygon": polygon, "audit": True
            },
        }  # fmt: skip
        if opts.tracker:
            plan["person_tracker_5fps"] = {"stage": "tracker", "clip": clip}
        if opts.carousel:
            plan["counting_carousel_pass"] = {
                "stage": "counting", "clip": clip, "polygon": polygon, "carousel": True
            }  # fmt: skip
        for stage in plan.values():
            stage["warm"] = opts.warm
        stages = _run_interleaved(plan, opts.repeats)
    decode, decode_av = stages["decode_only"], stages["decode_video_and_audio"]
    counting = stages["counting_pass"]
    for name, r in stages.items():
        r["video_s_per_wall_s"] = round(opts.seconds / r["wall_s"], 1)
        if name != "decode_only":
            r["ratio_cpu"] = round(r["cpu_s"] / decode["cpu_s"], 3)
            r["ratio_wall"] = round(r["wall_s"] / decode["wall_s"], 3)
            r["ratio_cpu_vs_av_decode"] = round(r["cpu_s"] / decode_av["cpu_s"], 3)
    if "counting_carousel_pass" in stages:
        carousel = stages["counting_carousel_pass"]
        added = carousel["cpu_s"] - counting["cpu_s"]
        carousel["added_cpu_vs_decode"] = round(added / decode["cpu_s"], 3)
        rounds = zip(
            carousel["cpu_s_runs"], counting["cpu_s_runs"], decode["cpu_s_runs"], strict=True
        )
        carousel["added_cpu_vs_decode_median"] = round(
            statistics.median((c - n) / d for c, n, d in rounds), 3
        )
    for name, r in stages.items():
        if name != "decode_only":
            r.update(_round_ratios(r["cpu_s_runs"], decode["cpu_s_runs"], "ratio_cpu"))
            r.update(
                _round_ratios(r["cpu_s_runs"], decode_av["cpu_s_runs"], "ratio_cpu_vs_av_decode")
            )
        if "pre_pass_cpu_s_runs" in r:  # the looks before the pass, over decode-only
            r.update(_round_ratios(r["pre_pass_cpu_s_runs"], decode["cpu_s_runs"], "pre_pass"))
    for r in stages.values():
        r["cpu_s_runs"] = [round(c, 3) for c in r["cpu_s_runs"]]
        if "pre_pass_cpu_s_runs" in r:
            r["pre_pass_cpu_s_runs"] = [round(c, 4) for c in r["pre_pass_cpu_s_runs"]]
    print(
        json.dumps(
            {
                "clip": info,
                "cpu": os.cpu_count(),
                "load_1min": os.getloadavg()[0],
                "warm_decode": opts.warm,
                **stages,
            },
            indent=2,
            default=lambda x: round(x, 3) if isinstance(x, float) else str(x),
        )
    )


if __name__ == "__main__":
    main()
