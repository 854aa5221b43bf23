"""What the camera audit adds to decoding: prints JSON.

For two picture sizes (the simulator's 640×360 and a common 1280×720) it makes an H.264 (CRF 23)
+ AAC (48 kHz mono) clip at 25 fps of a textured room with a person walking and sensor noise,
then times, interleaved and best of five:

- decode only: every video and audio frame decoded, nothing converted;
- hand-off: the same with a do-nothing analyser receiving what an engine hands over (frame
  times, audio arrays) — the engine's cost, not the audit's;
- audit: the same driving `CameraAuditor` (with a reference image), which takes the luma plane
  of the frames it samples, downsizes it to 320 wide, and reads the audio as decoded. The
  audit's own CPU time is measured inside its calls (`audit_own_ratio`); the end-to-end ratio
  (audit − hand-off) / decode also counts the slowdown of the decoder by cache sharing.

Times are process CPU time (all threads), which a shared machine disturbs less than wall time.
Run: PYTHONPATH=src python benchmarks/audit_cost.py
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import cv2
import numpy as np

from pollwatch.audit.camera import CameraAuditor

FPS, SR = 25, 48000
SIZES = ((640, 360, 60), (1280, 720, 30))  # width, height, seconds
START = datetime(2024, 2, 7, 8, 0, tzinfo=UTC)


def box(w: int, h: int) -> list[tuple[int, int]]:
    return [
        (w * 250 // 640, h * 200 // 360),
        (w * 330 // 640, h * 200 // 360),
        (w * 330 // 640, h * 300 // 360),
        (w * 250 // 640, h * 300 // 360),
    ]


def scene(w: int, h: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 255, (45, 80), dtype=np.uint8), (w, h))
    base = cv2.GaussianBlur(base, (0, 0), 2)
    k = w / 640
    for i in range(12):  # furniture edges
        p0 = (int(k * 40 * i), int(k * (40 + 17 * i)))
        p1 = (int(k * (40 * i + 90)), int(k * (130 + 13 * i)))
        cv2.rectangle(base, p0, p1, 40 + 15 * i, 3)
    b = box(w, h)
    cv2.rectangle(base, b[0], b[2], 200, -1)
    return cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)


def make_clip(path: Path, w: int, h: int, seconds: int) -> None:
    rng = np.random.default_rng(1)
    room = scene(w, h)
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=FPS)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"crf": "23", "preset": "veryfast"}
        a = c.add_stream("aac", rate=SR)
        a.layout = "mono"
        a.options = {"aac_coder": "fast"}
        noise = [rng.normal(0, 2.0, room.shape).astype(np.int16) for _ in range(8)]
        for i in range(seconds * FPS):
            img = room.copy()
            x = int(w * (0.08 + 0.8 * ((i / FPS) % 20) / 20))
            cv2.ellipse(img, (x, h * 220 // 360), (w // 35, h // 6), 0, 0, 360, (40, 60, 90), -1)
            img = np.clip(img + noise[i % 8], 0, 255).astype(np.uint8)
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                c.mux(p)
        sound = (rng.standard_normal(seconds * SR) * 0.01).astype(np.float32)
        for i in range(0, sound.size, 1024):
            fr = av.AudioFrame.from_ndarray(sound[None, i : i + 1024], format="fltp", layout="mono")
            fr.sample_rate, fr.pts = SR, i
            for p in a.encode(fr):
                c.mux(p)
        for s in (v, a):
            for p in s.encode(None):
                c.mux(p)


class LazyFrame:
    """An engine-like frame: `gray` is the luma plane, taken only when an analyser asks."""

    __slots__ = ("_frame", "t", "wall_time")

    def __init__(self, frame: av.VideoFrame, t: float) -> None:
        self._frame, self.t = frame, t
        self.wall_time = START + timedelta(seconds=t)

    @property
    def gray(self) -> np.ndarray:
        plane = self._frame.planes[0]
        y = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        return y[:, : plane.width]


class Chunk:
    __slots__ = ("sample_rate", "samples", "t")

    def __init__(self, t: float, samples: np.ndarray, sample_rate: int) -> None:
        self.t, self.samples, self.sample_rate = t, samples, sample_rate


class NullAnalyser:
    """Receives what the engine hands over and does nothing."""

    def update(self, frame: LazyFrame) -> None:
        pass

    def on_audio(self, chunk: Chunk) -> None:
        pass

    def result(self) -> None:
        pass


class Timed:
    """Wraps an analyser and adds up the CPU time spent inside it."""

    def __init__(self, inner: CameraAuditor) -> None:
        self.inner, self.video, self.audio = inner, 0.0, 0.0

    def update(self, frame: LazyFrame) -> None:
        t = time.process_time()
        self.inner.update(frame)
        self.video += time.process_time() - t

    def on_audio(self, chunk: Chunk) -> None:
        t = time.process_time()
        self.inner.on_audio(chunk)
        self.audio += time.process_time() - t

    def result(self) -> None:
        self.inner.result()


def decode(path: Path, analyser: object | None) -> tuple[float, float]:
    """CPU seconds to decode (driving `analyser` if given), and of its `result()`."""
    t0 = time.process_time()
    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.video[0], c.streams.audio[0]):
            if analyser is None:
                continue
            if isinstance(frame, av.VideoFrame):
                analyser.update(LazyFrame(frame, float(frame.time)))  # type: ignore[attr-defined]
            else:  # fltp mono at the stream's own rate: no resampling for the audit
                chunk = Chunk(float(frame.time), frame.to_ndarray()[0], frame.rate)
                analyser.on_audio(chunk)  # type: ignore[attr-defined]
    t1 = time.process_time()
    if analyser is not None:
        analyser.result()  # type: ignore[attr-defined]
    return t1 - t0, time.process_time() - t1


def measure(w: int, h: int, seconds: int, tmp: Path) -> dict[str, object]:
    path = tmp / f"clip{w}.mp4"
    make_clip(path, w, h, seconds)
    reference = cv2.cvtColor(scene(w, h), cv2.COLOR_BGR2GRAY)  # the intended view
    decode(path, None)  # warm the file cache
    runs: dict[str, list[float]] = {
        k: [] for k in ("decode", "handoff", "audit", "own_video", "own_audio", "result")
    }
    for _ in range(5):
        runs["decode"].append(decode(path, None)[0])
        runs["handoff"].append(decode(path, NullAnalyser())[0])
        timed = Timed(CameraAuditor.create(reference=reference, box_polygon=box(w, h)))
        streaming, finishing = decode(path, timed)
        runs["audit"].append(streaming)
        runs["own_video"].append(timed.video)
        runs["own_audio"].append(timed.audio)
        runs["result"].append(finishing)
    best = {k: min(v) for k, v in runs.items()}
    per_s = {k: 1e3 * v / seconds for k, v in best.items()}
    own = per_s["own_video"] + per_s["own_audio"]
    return {
        "clip": f"{seconds} s {w}x{h} {FPS} fps H.264 CRF 23 + AAC 48 kHz mono",
        "decode_only_ms_per_video_s": per_s["decode"],
        "engine_handoff_ms_per_video_s": per_s["handoff"] - per_s["decode"],
        "audit_own_ms_per_video_s": own,
        "audit_own_video_ms_per_video_s": per_s["own_video"],
        "audit_own_audio_ms_per_video_s": per_s["own_audio"],
        "audit_own_ratio": own / per_s["decode"],
        "end_to_end_overhead_ratio": (best["audit"] - best["handoff"]) / best["decode"],
        "result_once_per_camera_ms": 1e3 * best["result"],
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = [measure(w, h, s, Path(tmp)) for w, h, s in SIZES]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
