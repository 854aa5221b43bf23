"""Video engine speed: decode-only against detection + tracking, on one core. Prints JSON.

Generates a 640×360 25 fps H.264 clip (about 1 Mbit/s, B-frames, AAC) of a room with people
walking between door, table, booths and box, with sensor noise, once into a temporary folder;
then runs each stage twice in fresh processes pinned to one CPU (cv2.setNumThreads(1), one
decoder thread), keeps the faster run (the machine may be shared) and reports wall and CPU
time, their ratio to decode-only measured in the same run, video seconds per wall second, peak
RSS, and detection recall/precision against the boxes the generator drew (so frame-skipping
modes can be compared for accuracy as well as speed).

    PYTHONPATH=src python benchmarks/video.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import fractions
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

W, H, FPS = 640, 360, 25
# (place x, place y, stop seconds): door → table → booth → box → door
ROUTE = [(30, 300, 0.0), (150, 205, 4.0), (585, 250, 6.0), (320, 262, 5.0), (30, 300, 0.0)]
SPEED = 110.0  # pixels per second
SHIRTS = [(40, 60, 200), (60, 170, 60), (170, 90, 40), (40, 160, 190), (150, 60, 150)]


def _route_times() -> list[tuple[float, float, float]]:
    """(t, x, y) knots of one pass along ROUTE, stops included."""
    knots, t = [], 0.0
    for i, (x, y, stop) in enumerate(ROUTE):
        if i:
            px, py, _ = ROUTE[i - 1]
            t += float(np.hypot(x - px, y - py)) / SPEED
        knots.append((t, x, y))
        if stop:
            t += stop
            knots.append((t, x, y))
    return knots


KNOTS = _route_times()
CYCLE = KNOTS[-1][0]


def truth_boxes(t: float, people: int) -> list[tuple[float, float, float, float]]:
    """The drawn people's boxes at time t (person k starts k × 9 s late, then loops)."""
    boxes = []
    ts = [k[0] for k in KNOTS]
    for k in range(people):
        local = t - 9.0 * k
        if local < 0:
            continue
        local %= CYCLE + 3.0  # 3 s outside the room between visits
        if local > CYCLE:
            continue
        x = float(np.interp(local, ts, [p[1] for p in KNOTS])) + 12 * k
        y = float(np.interp(local, ts, [p[2] for p in KNOTS])) + 6 * k
        h = 30.0 + 0.3 * y
        boxes.append((x - 0.16 * h, y - h, x + 0.16 * h, y))
    return boxes


def make_clip(path: Path, seconds: float, people: int) -> dict:
    import av
    import cv2

    rng = np.random.default_rng(0)
    base = np.zeros((H, W, 3), np.uint8)
    base[:110] = (150, 160, 165)
    floor = np.linspace(95, 125, H - 110, dtype=np.float32)[:, None, None]
    base[110:] = np.clip(floor + rng.normal(0, 6, (H - 110, W, 1)), 0, 255).astype(np.uint8)
    cv2.rectangle(base, (40, 120), (230, 160), (70, 90, 120), -1)
    cv2.rectangle(base, (560, 100), (630, 260), (120, 120, 90), -1)
    cv2.rectangle(base, (292, 180), (348, 250), (205, 205, 205), -1)
    noises = [rng.normal(0, 3.0, base.shape).astype(np.int16) for _ in range(11)]
    n = round(seconds * FPS)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as c:
        v = c.add_stream("libx264", rate=FPS)
        v.width, v.height, v.pix_fmt = W, H, "yuv420p"
        v.bit_rate = 1_000_000
        v.options = {"preset": "veryfast", "bf": "3", "g": "250"}
        a = c.add_stream("aac", rate=16000)
        a.layout = "mono"
        apts = 0
        for i in range(n):
            t = i / FPS
            while apts < (i + 1) * 16000 / FPS:
                s = (0.05 * rng.standard_normal(1024)).astype(np.float32)[None]
                af = av.AudioFrame.from_ndarray(s, format="fltp", layout="mono")
                af.sample_rate, af.pts, af.time_base = 16000, apts, fractions.Fraction(1, 16000)
                apts += 1024
                for p in a.encode(af):
                    c.mux(p)
            img = base.copy()
            for k, (x1, y1, x2, y2) in enumerate(truth_boxes(t, people)):
                h = y2 - y1
                cx = (x1 + x2) / 2
                cv2.circle(
                    img, (round(cx), round(y1 + 0.11 * h)), round(0.11 * h), (150, 170, 210), -1
                )
                cv2.rectangle(
                    img,
                    (round(x1), round(y1 + 0.22 * h)),
                    (round(x2), round(y1 + 0.55 * h)),
                    SHIRTS[k % 5],
                    -1,
                )
                cv2.rectangle(
                    img,
                    (round(x1 + 0.1 * h * 0.3), round(y1 + 0.55 * h)),
                    (round(x2 - 0.1 * h * 0.3), round(y2)),
                    (60, 40, 30),
                    -1,
                )
            img = np.clip(img + noises[i % len(noises)], 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts, frame.time_base = i, fractions.Fraction(1, FPS)
            for p in v.encode(frame):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        for p in a.encode():
            c.mux(p)
    with av.open(str(path)) as c:
        video_bytes = sum(p.size for p in c.demux(c.streams.video[0]))
    visits = {
        (k, int((t - 9.0 * k) // (CYCLE + 3.0)))
        for t in np.arange(0, seconds, 0.2)
        for k in range(people)
        if t >= 9.0 * k and (t - 9.0 * k) % (CYCLE + 3.0) <= CYCLE
    }
    return {
        "seconds": seconds,
        "visits": len(visits),
        "width": W,
        "height": H,
        "fps": FPS,
        "people": people,
        "video_kbit_s": round(video_bytes * 8 / seconds / 1000, 1),
        "file_kbit_s": round(path.stat().st_size * 8 / seconds / 1000, 1),
        "encoder": "libx264 veryfast, 3 B-frames, keyint 250; AAC 16 kHz mono",
    }


# -- stages, each run in its own pinned process ---------------------------------------------


def _one_core() -> None:
    import cv2

    cv2.setNumThreads(1)
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def stage_decode(clip: Path, threads: int) -> dict:
    import av

    t0, c0 = time.perf_counter(), time.process_time()
    with av.open(str(clip)) as c:
        vs = c.streams.video[0]
        vs.codec_context.thread_count = threads
        vs.codec_context.thread_type = "AUTO" if threads != 1 else "SLICE"
        frames = sum(1 for _ in c.decode(vs))
    return {"frames": frames, "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}


class _Score:
    """Reads the tracker's detections each frame and scores them against the drawn boxes."""

    def __init__(self, tracker, people: int) -> None:
        from pollwatch.video import Needs

        self.tracker, self.people = tracker, people
        self.needs = Needs(fps=tracker.needs.fps)
        self.reset()

    def reset(self) -> None:
        self.truth = self.found = self.matched = 0

    def start(self, info) -> None:
        pass

    def on_audio(self, chunk) -> None:
        pass

    def on_gap(self, gap) -> None:
        pass

    def update(self, frame) -> None:
        dets = self.tracker.latest.xyxy
        truth = truth_boxes(frame.pts_s, self.people)
        self.truth += len(truth)
        self.found += len(dets)
        used: set[int] = set()
        for tb in truth:
            best, best_j = 0.0, -1
            for j, b in enumerate(dets):
                ix = max(0.0, min(b[2], tb[2]) - max(b[0], tb[0]))
                iy = max(0.0, min(b[3], tb[3]) - max(b[1], tb[1]))
                inter = ix * iy
                union = (b[2] - b[0]) * (b[3] - b[1]) + (tb[2] - tb[0]) * (tb[3] - tb[1]) - inter
                if j not in used and union > 0 and inter / union > best:
                    best, best_j = inter / union, j
            if best >= 0.5:
                used.add(best_j)
                self.matched += 1

    def result(self) -> dict:
        return {
            "recall": round(self.matched / max(self.truth, 1), 3),
            "precision": round(self.matched / max(self.found, 1), 3),
        }


def stage_engine(clip: Path, skip: str, fps: float, threads: int, people: int) -> dict:
    from pollwatch.video import EngineOptions, PersonTracker, analyse_video

    options = EngineOptions(
        skip=skip, threads=threads, thread_type="AUTO" if threads != 1 else "SLICE"
    )  # type: ignore[arg-type]
    tracker = PersonTracker(fps=fps)
    t0, c0 = time.perf_counter(), time.process_time()
    run = analyse_video(clip, [tracker], options=options)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tracks = run.results[0].tracks
    scored = PersonTracker(fps=fps)
    score = _Score(scored, people)
    analyse_video(clip, [scored, score], options=options)  # untimed: accuracy only
    return {
        "skip": run.skip,
        "analysis_fps": fps,
        "frames_decoded": run.frames_decoded,
        "frames_analysed": run.frames_delivered,
        "wall_s": wall,
        "cpu_s": cpu,
        "tracks": len(tracks),
        "tracks_over_3s": sum(t.duration_s > 3 for t in tracks),
        **score.result(),
    }


def _child(argv: list[str]) -> None:
    args = json.loads(argv[0])
    if args.pop("pin"):
        _one_core()
    else:
        import cv2

        cv2.setNumThreads(1)
    name = args.pop("stage")
    clip = Path(args.pop("clip"))
    out = stage_decode(clip, **args) if name == "decode" else stage_engine(clip, **args)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


def _run(repeats: int = 2, **args: object) -> dict:
    """Run a stage `repeats` times in fresh processes; keep the fastest (least disturbed)."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    runs = []
    for _ in range(repeats):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(args, default=str)],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["cpu_s"])
    best["wall_s"] = min(r["wall_s"] for r in runs)
    best["repeats"] = repeats
    return best


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--people", type=int, default=4)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "bench.mp4"
        info = make_clip(clip, opts.seconds, opts.people)
        decode = _run(stage="decode", clip=clip, threads=1, pin=True)
        decode_auto = _run(stage="decode", clip=clip, threads=0, pin=False)
        variants = [
            ("nonref_5fps", {"skip": "auto", "fps": 5.0}),
            ("all_frames_5fps", {"skip": "none", "fps": 5.0}),
            ("nonkey_5fps", {"skip": "nonkey", "fps": 5.0}),
            ("nonref_8fps", {"skip": "auto", "fps": 8.0}),
        ]
        engine = {}
        for name, kw in variants:
            r = _run(stage="engine", clip=clip, threads=1, pin=True, people=opts.people, **kw)
            r["ratio_wall"] = round(r["wall_s"] / decode["wall_s"], 3)
            r["ratio_cpu"] = round(r["cpu_s"] / decode["cpu_s"], 3)
            r["video_s_per_wall_s"] = round(opts.seconds / r["wall_s"], 1)
            engine[name] = r
        threaded = _run(
            stage="engine",
            clip=clip,
            threads=0,
            pin=False,
            people=opts.people,
            skip="auto",
            fps=5.0,
        )
        threaded["ratio_wall_to_1core_decode"] = round(threaded["wall_s"] / decode["wall_s"], 3)
    decode["video_s_per_wall_s"] = round(opts.seconds / decode["wall_s"], 1)
    print(
        json.dumps(
            {
                "clip": info,
                "cpu": os.cpu_count(),
                "decode_only_1core": decode,
                "decode_only_threads_auto_unpinned": decode_auto,
                "engine_detect_track_1core": engine,
                "engine_detect_track_threads_auto_unpinned": threaded,
            },
            indent=2,
            default=lambda x: round(x, 3) if isinstance(x, float) else str(x),
        )
    )


if __name__ == "__main__":
    main()
