"""Small synthetic clips for the video tests, written with PyAV + OpenCV.

A clip is a static "room" (textured floor, walls, a table, a bright box) with drawn figures that
walk between waypoints. Each figure's true box per frame is known, so detectors and trackers can
be scored. The `make_clip` fixture (conftest.py) caches clips per session so each is encoded once.
"""

from __future__ import annotations

import fractions
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

W, H = 640, 360
BOX_POLY = ((292, 180), (348, 180), (348, 250), (292, 250))  # the bright box in room()


@dataclass(frozen=True)
class Figure:
    """A person drawn as head, torso and legs; `waypoints` are (t_s, foot_x, foot_y)."""

    waypoints: tuple[tuple[float, float, float], ...]
    shirt: tuple[int, int, int] = (40, 60, 200)
    trousers: tuple[int, int, int] = (60, 40, 30)

    def foot(self, t: float) -> tuple[float, float] | None:
        ts = [w[0] for w in self.waypoints]
        if t < ts[0] or t > ts[-1]:
            return None
        x = float(np.interp(t, ts, [w[1] for w in self.waypoints]))
        y = float(np.interp(t, ts, [w[2] for w in self.waypoints]))
        return x, y

    def box(self, t: float) -> tuple[float, float, float, float] | None:
        """The true box (x1, y1, x2, y2) at time t, or None when absent."""
        foot = self.foot(t)
        if foot is None:
            return None
        x, y = foot
        h = person_height(y)
        w = 0.32 * h
        return x - w / 2, y - h, x + w / 2, y

    def draw(self, img: np.ndarray, t: float) -> None:
        box = self.box(t)
        if box is None:
            return
        x1, y1, x2, y2 = box
        h = y2 - y1
        cx = (x1 + x2) / 2
        head = 0.11 * h
        legs_top = y1 + 0.52 * h
        stride = 0.06 * h * np.sin(t * 2 * np.pi * 1.8)
        cv2.circle(img, (round(cx), round(y1 + head)), round(head), (150, 170, 210), -1)
        cv2.rectangle(
            img, (round(x1), round(y1 + 2 * head)), (round(x2), round(legs_top)), self.shirt, -1
        )
        for side in (-1, 1):
            lx = cx + side * 0.22 * (x2 - x1) + side * stride
            cv2.line(
                img,
                (round(cx + side * 0.15 * (x2 - x1)), round(legs_top)),
                (round(lx), round(y2)),
                self.trousers,
                max(2, round(0.1 * h)),
            )


def person_height(foot_y: float) -> float:
    """Perspective: people further away (higher in the image) look smaller."""
    return 30.0 + 0.3 * foot_y


def room(seed: int = 0, box: bool = True) -> np.ndarray:
    """The empty room: far wall, textured floor, a commission table and the bright box."""
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.uint8)
    img[:110] = (150, 160, 165)  # far wall
    floor = np.linspace(95, 125, H - 110, dtype=np.float32)[:, None, None]
    img[110:] = np.clip(floor + rng.normal(0, 6, (H - 110, W, 1)), 0, 255).astype(np.uint8)
    cv2.rectangle(img, (40, 120), (230, 160), (70, 90, 120), -1)  # the commission table
    cv2.rectangle(img, (560, 100), (630, 260), (120, 120, 90), -1)  # a booth
    if box:
        x1, y1 = BOX_POLY[0]
        x2, y2 = BOX_POLY[2]
        inner = img[y1:y2, x1:x2].astype(np.float32)
        img[y1:y2, x1:x2] = np.clip(inner * 0.4 + 160, 0, 255).astype(np.uint8)
        cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), (245, 245, 245), 2)
        cv2.line(img, (x1 + 18, y1 + 3), (x2 - 18, y1 + 3), (40, 40, 40), 2)  # the slot
    return img


@dataclass(frozen=True)
class ClipSpec:
    """What to write: duration, size, figures, audio, GOP, dropped time ranges, noise."""

    seconds: float = 2.0
    fps: int = 25
    size: tuple[int, int] = (W, H)
    figures: tuple[Figure, ...] = ()
    audio: bool = True
    gop: int = 25
    bframes: int = 0
    drop: tuple[tuple[float, float], ...] = ()  # no frames with t in [a, b): an outage
    noise: float = 2.0
    container: str = "mp4"
    faststart: bool = True  # mp4: index (moov) at the front, so a cut file stays readable
    seed: int = 0
    extra: tuple[tuple[str, str], ...] = ()  # more libx264 options
    mute: tuple[tuple[float, float], ...] = ()  # audio frames starting in [a, b): zeros


def write_clip(path: Path, spec: ClipSpec) -> Path:
    """Encode `spec` as H.264 (+ AAC 16 kHz mono tone) into `path`."""
    opts = {"movflags": "faststart"} if spec.container == "mp4" and spec.faststart else {}
    rng = np.random.default_rng(spec.seed)
    with av.open(
        str(path), "w", format=None if spec.container != "ts" else "mpegts", options=opts
    ) as c:
        v = c.add_stream("libx264", rate=spec.fps)
        v.width, v.height = spec.size
        v.pix_fmt = "yuv420p"
        v.options = {
            "preset": "ultrafast",
            "g": str(spec.gop),
            "bf": str(spec.bframes),
            **dict(spec.extra),
        }
        if spec.bframes:
            v.options = {**v.options, "preset": "veryfast"}
        a = None
        if spec.audio:
            a = c.add_stream("aac", rate=16000)
            a.layout = "mono"
        base = room(spec.seed)
        if spec.size != (W, H):
            base = cv2.resize(base, spec.size, interpolation=cv2.INTER_AREA)
        n = round(spec.seconds * spec.fps)
        noises = [rng.normal(0, spec.noise, base.shape).astype(np.int16) for _ in range(7)]
        apts = 0
        for i in range(n):
            t = i / spec.fps
            if a is not None:
                while apts < (i + 1) * 16000 / spec.fps:
                    k = np.arange(apts, apts + 1024)
                    s = (0.2 * np.sin(2 * np.pi * 440 * k / 16000)).astype(np.float32)[None]
                    if any(lo <= apts / 16000 < hi for lo, hi in spec.mute):
                        s[:] = 0.0
                    af = av.AudioFrame.from_ndarray(s, format="fltp", layout="mono")
                    af.sample_rate, af.pts, af.time_base = 16000, apts, fractions.Fraction(1, 16000)
                    apts += 1024
                    for p in a.encode(af):
                        c.mux(p)
            if any(lo <= t < hi for lo, hi in spec.drop):
                continue
            img = base.copy()
            for fig in spec.figures:
                fig.draw(img, t)
            if spec.noise:
                img = np.clip(img + noises[i % len(noises)], 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts, frame.time_base = i, fractions.Fraction(1, spec.fps)
            for p in v.encode(frame):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        if a is not None:
            for p in a.encode():
                c.mux(p)
    return path


def truncate(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def corrupt(src: Path, dst: Path, fraction: float, nbytes: int) -> Path:
    data = bytearray(src.read_bytes())
    start = int(len(data) * fraction)
    data[start : start + nbytes] = (
        np.random.default_rng(1).integers(0, 256, nbytes, np.uint8).tobytes()
    )
    dst.write_bytes(bytes(data))
    return dst


def walk(*points: tuple[float, float, float]) -> tuple[tuple[float, float, float], ...]:
    return tuple(points)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


# One voter walks from the door to the box, stands there 5 s, and leaves; another crosses
# the back of the room.
VOTER = Figure(((0.4, 30, 300), (3.4, 300, 262), (8.4, 300, 262), (11.0, 610, 320)))
PASSER = Figure(((1.0, 620, 205), (9.0, 80, 195)), shirt=(60, 170, 60), trousers=(90, 90, 90))
SCENE = ClipSpec(seconds=11.6, figures=(VOTER, PASSER), noise=3.0, audio=False)
