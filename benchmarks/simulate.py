"""How fast one camera's recording is rendered and encoded, on one core; prints JSON.

A busy minute at a polling station (three commission members and an observer seated, a voter
arriving every ~8 s who queues, gets a ballot, visits a booth and drops it, people walking
past) is rendered at 640×360, 25 fps. Reported, all from this one run:

- `render_encode_x_realtime_cpu`: video seconds written per CPU second of this process
  (render + encode + audio, everything `CameraRenderer.run` does), which is what one core
  delivers, and the same per wall second (`render_encode_x_realtime`, depends on the load);
- `cpu_split_s`: the CPU time of drawing (`render`), video encoding and audio, and the rest;
- `encode_only_x_realtime_cpu`: re-encoding the first 500 decoded frames with the same
  settings, per CPU second, for comparison;
- frames, the bitrate measured from the file size, and `psnr_y_db`: how close the file is to
  the pictures given to the encoder (rendered again, deterministically, after the timing);
- the 1-minute load average before and after.

    PYTHONPATH=src python benchmarks/simulate.py [--seconds 60] [--preset ultrafast]
        [--x264-params aq-mode=1:aq-strength=0.3] [--keep out.mp4]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import av
import cv2
import numpy as np

from pollwatch.simulate import room
from pollwatch.simulate.encode import EncodeSettings, MediaWriter
from pollwatch.simulate.plan import Appearance, CameraPlan, Drop, Stop, Visit
from pollwatch.simulate.render import CameraRenderer, RenderSettings


def _look(rng: np.random.Generator) -> Appearance:
    def colour() -> tuple[int, int, int]:
        return tuple(int(c) for c in rng.integers(20, 235, 3))  # type: ignore[return-value]

    return Appearance(
        height_m=float(rng.uniform(1.55, 1.95)),
        build=float(rng.uniform(0.85, 1.25)),
        shirt_bgr=colour(),
        trousers_bgr=colour(),
        skin_bgr=(
            int(rng.integers(80, 140)),
            int(rng.integers(110, 170)),
            int(rng.integers(150, 215)),
        ),
        hair_bgr=colour(),
        speed_m_s=float(rng.uniform(0.9, 1.4)),
        gait_hz=float(rng.uniform(1.6, 2.0)),
        has_bag=bool(rng.random() < 0.3),
        hat_bgr=colour() if rng.random() < 0.2 else None,
    )


def busy_plan(seconds: float, seed: int = 1) -> CameraPlan:
    """A plausible busy stretch of voting, built by hand from the room's places."""
    rng = np.random.default_rng(seed)
    visits = [
        Visit(f"c{i}", "commission", _look(rng), (Stop(f"commission{i}", 0.0, seconds),))
        for i in range(3)
    ]
    visits.append(Visit("o0", "observer", _look(rng), (Stop("observer1", 0.0, seconds),)))
    t, k = 0.5, 0
    while t < seconds - 5:
        look = _look(rng)
        route = ["entrance", "table_queue", "table", f"booth{k % 3}", "box", "exit"]
        dwell = {"entrance": 0.3, "table_queue": 2.0, "table": 6.0, "box": 2.0, "exit": 0.3}
        stops, now, drop = [], t, None
        for a, b in zip(route, [*route[1:], None], strict=True):
            leave = now + dwell.get(a, 8.0)
            stops.append(Stop(a, now, leave))
            if a == "box":
                drop = Drop(now + 1.0)
            if b is not None:
                now = leave + room.walk_time(a, b, look.speed_m_s)
        visits.append(Visit(f"v{k}", "voter", look, tuple(stops), (drop,) if drop else ()))
        t += rng.uniform(6.0, 10.0)
        k += 1
    for j, start in enumerate(np.arange(3.0, seconds - 8, 20.0)):
        look = _look(rng)
        walk = room.walk_time("pass_left", "pass_right", look.speed_m_s)
        stops = (Stop("pass_left", start, start), Stop("pass_right", start + walk, start + walk))
        visits.append(Visit(f"p{j}", "passerby", look, stops))
    return CameraPlan(
        "bench",
        "st-bench",
        datetime(2024, 2, 7, 8, tzinfo=UTC),
        seconds,
        tuple(visits),
        seed=seed,
        box_initial_ballots=150,
    )


def _encode_only(video: Path, settings: EncodeSettings, max_frames: int) -> tuple[int, float]:
    with av.open(str(video)) as c:
        frames = []
        for f in c.decode(video=0):
            frames.append(f.to_ndarray(format="yuv420p"))
            if len(frames) >= max_frames:
                break
    h, w = frames[0].shape[0] * 2 // 3, frames[0].shape[1]
    with tempfile.TemporaryDirectory() as tmp:
        c0 = time.process_time()
        with MediaWriter(Path(tmp) / "e.mp4", w, h, 25, audio=False, settings=settings) as out:
            for i, yuv in enumerate(frames):
                out.write_video(yuv, i)
        return len(frames), time.process_time() - c0


def _psnr_y(video: Path, plan: CameraPlan, settings: RenderSettings) -> float:
    """PSNR of the file's luma against the pictures the encoder was given (rendered again)."""
    h = plan.height
    errors = []
    with av.open(str(video)) as c:
        decoded = c.decode(video=0)
        for (_, want), got in zip(CameraRenderer(plan, settings).frames(), decoded, strict=True):
            y = got.to_ndarray(format="yuv420p")[:h].astype(np.float32)
            errors.append(float(np.mean((y - want[:h]) ** 2)))
    return 10 * math.log10(255**2 / float(np.mean(errors)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--preset", default=EncodeSettings().preset)
    ap.add_argument("--x264-params", default=EncodeSettings().x264_params)
    ap.add_argument("--bitrate", type=int, default=EncodeSettings().video_bitrate)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--keep", type=Path, default=None, help="write the video here and keep it")
    ap.add_argument("--no-quality", action="store_true", help="skip the PSNR pass")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    load_before = os.getloadavg()[0]
    plan = replace(busy_plan(args.seconds), width=args.width, height=args.height)
    enc = EncodeSettings(
        video_bitrate=args.bitrate, preset=args.preset, x264_params=args.x264_params
    )
    settings = RenderSettings(encode=enc)
    with tempfile.TemporaryDirectory() as tmp:
        video = args.keep or Path(tmp) / "bench.mp4"
        renderer = CameraRenderer(plan, settings)
        w0, c0 = time.perf_counter(), time.process_time()
        frames = renderer.run(video)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        load_after = os.getloadavg()[0]
        size = video.stat().st_size
        n_enc, enc_cpu = _encode_only(video, enc, 500)
        psnr = None if args.no_quality else round(_psnr_y(video, plan, settings), 2)
    split = {k.removesuffix("_s"): round(v, 2) for k, v in renderer.timing.items()}
    split["other"] = round(cpu - sum(renderer.timing.values()), 2)
    print(
        json.dumps(
            {
                "video_s": plan.duration_s,
                "frames": frames,
                "size": f"{plan.width}x{plan.height}",
                "fps": plan.fps,
                "preset": enc.preset,
                "x264_params": enc.x264_params,
                "people_per_frame": round(
                    np.mean(
                        [
                            sum(1 for v in plan.visits if v.enter_s <= i / 25 <= v.exit_s)
                            for i in range(frames)
                        ]
                    ),
                    2,
                ),
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "render_encode_x_realtime": round(plan.duration_s / wall, 2),
                "render_encode_x_realtime_cpu": round(plan.duration_s / cpu, 2),
                "frames_per_cpu_s": round(frames / cpu, 1),
                "cpu_split_s": split,
                "encode_only_frames": n_enc,
                "encode_only_x_realtime_cpu": round(n_enc / plan.fps / enc_cpu, 2),
                "encode_only_frames_per_cpu_s": round(n_enc / enc_cpu, 1),
                "bitrate_kbit_s": round(size * 8 / plan.duration_s / 1000, 1),
                "psnr_y_db": psnr,
                "load_average_1min": [round(load_before, 2), round(load_after, 2)],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
