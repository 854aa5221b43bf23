"""What ingest checks about a camera: its recording (probed with PyAV), its box polygon and its
reference image. Each check returns a value or raises ValueError with the reason."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pandas as pd

__all__ = [
    "VideoInfo",
    "parse_polygon",
    "probe_video",
    "read_reference_image",
    "scan_streams",
]

Point = tuple[float, float]


@dataclass(frozen=True)
class VideoInfo:
    """A recording's header: duration, frame rate and size of its first video stream."""

    duration_s: float
    fps: float
    width: int
    height: int
    has_audio: bool
    codec: str


def _open(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise ValueError(f"{path.name}: file is missing")
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError) as err:
        raise ValueError(f"{path.name}: cannot be opened as a video ({err})") from None


def probe_video(path: Path) -> VideoInfo:
    """Open `path` and read its header (no decoding); ValueError says why it is unusable."""
    with _open(path) as container:
        video = next(iter(container.streams.video), None)
        if video is None:
            raise ValueError(f"{path.name}: has no video stream")
        rate = video.guessed_rate or video.average_rate  # average_rate counts gaps in
        if not rate:
            raise ValueError(f"{path.name}: frame rate unknown")
        fps = float(rate)
        if video.duration is not None and video.time_base is not None:
            duration = float(video.duration * video.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        elif video.frames:
            duration = video.frames / fps
        else:
            raise ValueError(f"{path.name}: duration unknown")
        if not duration > 0:
            raise ValueError(f"{path.name}: duration is {duration:g} s")
        width, height = video.codec_context.width, video.codec_context.height
        if not width or not height:
            raise ValueError(f"{path.name}: frame size unknown")
        return VideoInfo(
            duration_s=duration,
            fps=fps,
            width=int(width),
            height=int(height),
            has_audio=bool(container.streams.audio),
            codec=video.codec_context.name,
        )


def scan_streams(path: Path) -> pd.DataFrame:
    """Demux every packet of `path` (no decoding) and describe each stream as it really is.

    One row per stream: index, kind, codec, packets, start_s and end_s (first timestamp, end of
    the last frame or packet), rate (frames per second from the median step between frames, or
    samples per second), width, height, channels, and for video max_gap_s (largest step between
    consecutive frames) and gaps (steps over three median steps: frames missing from the
    recording).
    """
    with _open(path) as container:
        streams = [s for s in container.streams if s.type in ("video", "audio")]
        times: dict[int, list[float]] = {s.index: [] for s in streams}
        ends: dict[int, float] = {s.index: -math.inf for s in streams}
        try:
            for packet in container.demux(streams):
                if packet.pts is None or packet.time_base is None:
                    continue
                t = float(packet.pts * packet.time_base)
                times[packet.stream.index].append(t)
                length = float((packet.duration or 0) * packet.time_base)
                ends[packet.stream.index] = max(ends[packet.stream.index], t + length)
        except av.FFmpegError as err:
            raise ValueError(
                f"{path.name}: unreadable after {_last(times):.2f} s ({err})"
            ) from None
        rows = []
        for st in streams:
            ts = np.sort(np.asarray(times[st.index]))
            steps = np.diff(ts)
            row = {
                "stream": st.index,
                "kind": st.type,
                "codec": st.codec_context.name,
                "packets": len(ts),
                "start_s": float(ts[0]) if len(ts) else math.nan,
                "end_s": ends[st.index] if len(ts) else math.nan,
                "rate": math.nan,
                "width": 0,
                "height": 0,
                "channels": 0,
                "max_gap_s": math.nan,
                "gaps": 0,
            }
            if st.type == "video":
                row.update(width=st.codec_context.width, height=st.codec_context.height)
                if len(steps):
                    step = float(np.median(steps))
                    row.update(
                        rate=1 / step,
                        end_s=float(ts[-1]) + step,
                        max_gap_s=float(steps.max()),
                        gaps=int((steps > 3 * step).sum()),
                    )
                else:
                    row.update(rate=float(st.guessed_rate or math.nan))
            else:
                row.update(rate=float(st.codec_context.sample_rate or math.nan))
                row.update(channels=int(st.codec_context.channels or 0))
            rows.append(row)
    return pd.DataFrame(rows)


def _last(times: dict[int, list[float]]) -> float:
    return max((t[-1] for t in times.values() if t), default=0.0)


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    return (d1 > 0) != (d2 > 0) and (d3 > 0) != (d4 > 0) and 0 not in (d1, d2, d3, d4)


def parse_polygon(cell: str) -> tuple[Point, ...]:
    """A JSON list of ≥3 [x, y] pixel points enclosing an area, its edges not crossing."""
    try:
        raw = json.loads(cell)
    except json.JSONDecodeError as err:
        raise ValueError(f"is not JSON ({err.msg} at character {err.pos})") from None
    if not isinstance(raw, list):
        raise ValueError("must be a JSON list of [x, y] points")
    points: list[Point] = []
    for i, p in enumerate(raw):
        ok = isinstance(p, list) and len(p) == 2
        ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)
        if not ok or not all(math.isfinite(v) for v in p):
            raise ValueError(f"point {i + 1} is not an [x, y] pair of numbers: {json.dumps(p)}")
        points.append((float(p[0]), float(p[1])))
    if len(points) < 3:
        raise ValueError(f"needs at least 3 points, has {len(points)}")
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # neighbours through the closing edge
            if _segments_cross(*edges[i], *edges[j]):
                raise ValueError(f"edges {i + 1} and {j + 1} cross each other")
    area = 0.5 * abs(sum(_cross((0.0, 0.0), points[i], points[(i + 1) % n]) for i in range(n)))
    if area < 1.0:
        raise ValueError(f"encloses no area ({area:g} px²): the points are (nearly) on a line")
    return tuple(points)


def read_reference_image(path: Path) -> tuple[int, int]:
    """Check that `path` is a readable PNG or JPEG image; returns its (width, height)."""
    import cv2  # OpenCV is only needed when a case has reference images

    if not path.is_file():
        raise ValueError(f"{path.name}: file is missing")
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise ValueError(f"{path.name}: must be a PNG or JPEG image")
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"{path.name}: cannot be read as an image")
    return int(image.shape[1]), int(image.shape[0])
