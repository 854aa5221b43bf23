"""What the camera audit adds to decoding: prints JSON.

Makes a 90 s 640×360 25 fps H.264 + AAC (48 kHz mono) clip of a textured room with a person
walking and sensor noise, then in one run times (a) decode only — every video and audio frame
decoded, nothing converted — and (b) the same decode driving `CameraAuditor`, which converts the
frames it samples to 320-wide gray (swscale) and the audio to 16 kHz mono float. It also times
each auditor's step on its own. Times are process CPU time (all threads), which a
shared machine disturbs less than wall time. Run: PYTHONPATH=src python benchmarks/audit_cost.py
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

from pollwatch.audit.audio import AudioAuditor
from pollwatch.audit.camera import CameraAuditor
from pollwatch.audit.image import ConditionsAuditor
from pollwatch.audit.view import ViewAuditor

SECONDS, FPS, W, H, SR = 90, 25, 640, 360, 48000
BOX = [(250, 200), (330, 200), (330, 300), (250, 300)]
START = datetime(2024, 2, 7, 8, 0, tzinfo=UTC)


def scene() -> np.ndarray:
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 255, (45, 80), dtype=np.uint8), (W, H))
    base = cv2.GaussianBlur(base, (0, 0), 2)
    for i in range(12):  # furniture edges
        cv2.rectangle(base, (40 * i, 40 + 17 * i), (40 * i + 90, 130 + 13 * i), 40 + 15 * i, 3)
    cv2.rectangle(base, BOX[0], BOX[2], 200, -1)
    return cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)


def make_clip(path: Path) -> None:
    rng = np.random.default_rng(1)
    room = scene()
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=FPS)
        v.width, v.height, v.pix_fmt = W, H, "yuv420p"
        v.options = {"crf": "23", "preset": "veryfast"}
        a = c.add_stream("aac", rate=SR)
        a.layout = "mono"
        a.options = {"aac_coder": "fast"}
        noise = [rng.normal(0, 2.0, room.shape).astype(np.int16) for _ in range(8)]
        for i in range(SECONDS * FPS):
            img = room.copy()
            x = int(50 + 500 * ((i / FPS) % 20) / 20)
            cv2.ellipse(img, (x, 220), (18, 60), 0, 0, 360, (40, 60, 90), -1)
            img = np.clip(img + noise[i % 8], 0, 255).astype(np.uint8)
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                c.mux(p)
        sound = (rng.standard_normal(SECONDS * SR) * 0.01).astype(np.float32)
        for i in range(0, sound.size, 1024):
            fr = av.AudioFrame.from_ndarray(sound[None, i : i + 1024], format="fltp", layout="mono")
            fr.sample_rate, fr.pts = SR, i
            for p in a.encode(fr):
                c.mux(p)
        for s in (v, a):
            for p in s.encode(None):
                c.mux(p)


class LazyFrame:
    __slots__ = ("_frame", "_gray", "t", "wall_time")

    def __init__(self, frame: av.VideoFrame, t: float) -> None:
        self._frame, self._gray, self.t = frame, None, t
        self.wall_time = START + timedelta(seconds=t)

    @property
    def gray(self) -> np.ndarray:
        """The luma plane of the decoded yuv420p frame, downsized (no colour conversion)."""
        if self._gray is None:
            plane = self._frame.planes[0]
            y = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
            self._gray = cv2.resize(y[:, : plane.width], (320, 180), interpolation=cv2.INTER_AREA)
        return self._gray


class Chunk:
    __slots__ = ("sample_rate", "samples", "t")

    def __init__(self, t: float, samples: np.ndarray, sample_rate: int = 16000) -> None:
        self.t, self.samples, self.sample_rate = t, samples, sample_rate


def decode(path: Path, auditor: CameraAuditor | None) -> tuple[float, float]:
    """Seconds to decode (driving `auditor` if given), and seconds of its `result()`."""
    t0 = time.process_time()
    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.video[0], c.streams.audio[0]):
            if auditor is None:
                continue
            if isinstance(frame, av.VideoFrame):
                auditor.update(LazyFrame(frame, float(frame.time)))
            else:  # fltp mono at the stream's own rate: no resampling for the audit
                auditor.on_audio(Chunk(float(frame.time), frame.to_ndarray()[0], frame.rate))
    t1 = time.process_time()
    if auditor is not None:
        auditor.result()
    return t1 - t0, time.process_time() - t1


def per_step(grays: list[np.ndarray], audio: np.ndarray) -> dict[str, float]:
    """Milliseconds per sampled step of each auditor, on frames already decoded."""
    out = {}
    for name, make, every in (
        (
            "conditions_ms_per_sample",
            lambda: ConditionsAuditor(image_size=(W, H), box_polygon=BOX, baseline_s=0.0),
            0.5,
        ),
        (
            "view_ms_per_sample",
            lambda: ViewAuditor(image_size=(W, H), box_polygon=BOX, baseline_s=0.0),
            2.0,
        ),
    ):
        auditor = make()
        frames = [LazyGray(i * every, g) for i, g in enumerate(grays)]
        t0 = time.process_time()
        for f in frames:
            auditor.update(f)
        out[name] = 1e3 * (time.process_time() - t0) / len(frames)
    auditor = AudioAuditor()
    t0 = time.process_time()
    for i in range(0, audio.size, 1024):
        auditor.on_audio(Chunk(i / SR, audio[i : i + 1024], SR))
    auditor.result()
    out["audio_ms_per_second"] = 1e3 * (time.process_time() - t0) / (audio.size / SR)
    return out


class NullAnalyser:
    """Receives what the engine hands over and does nothing: the hand-off's own cost."""

    def update(self, frame: LazyFrame) -> None:
        pass

    def on_audio(self, chunk: Chunk) -> None:
        pass

    def result(self) -> None:
        pass


class LazyGray:
    __slots__ = ("gray", "t", "wall_time")

    def __init__(self, t: float, gray: np.ndarray) -> None:
        self.t, self.gray, self.wall_time = t, gray, START


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        make_clip(path)
        decode(path, None)  # warm the file cache
        reference = cv2.cvtColor(scene(), cv2.COLOR_BGR2GRAY)  # the intended view
        runs: dict[str, list[float]] = {"decode": [], "handoff": [], "audit": [], "result": []}
        for _ in range(5):  # interleaved, best of five: the machine is shared
            runs["decode"].append(decode(path, None)[0])
            runs["handoff"].append(decode(path, NullAnalyser())[0])  # type: ignore[arg-type]
            auditor = CameraAuditor.create(reference=reference, box_polygon=BOX)
            streaming, finishing = decode(path, auditor)
            runs["audit"].append(streaming)
            runs["result"].append(finishing)
        decode_only, handoff, with_audit = (
            min(runs["decode"]),
            min(runs["handoff"]),
            min(runs["audit"]),
        )
        with av.open(str(path)) as c:
            grays = [
                f.reformat(width=320, height=180, format="gray").to_ndarray()
                for i, f in enumerate(c.decode(video=0))
                if i % 12 == 0
            ][:100]
        audio = np.random.default_rng(2).standard_normal(30 * SR).astype(np.float32) * 0.01
        steps = per_step(grays, audio)
    print(
        json.dumps(
            {
                "clip": f"{SECONDS} s {W}x{H} {FPS} fps H.264 CRF 23 + AAC 48 kHz mono",
                "decode_only_ms_per_video_s": 1e3 * decode_only / SECONDS,
                "engine_handoff_ms_per_video_s": 1e3 * (handoff - decode_only) / SECONDS,
                "audit_ms_per_video_s": 1e3 * (with_audit - handoff) / SECONDS,
                "audit_overhead_ratio": (with_audit - handoff) / decode_only,
                "result_once_per_camera_ms": 1e3 * min(runs["result"]),
                **steps,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
