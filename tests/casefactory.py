"""A small, valid case written by hand, for tests of every stage.

`write_case(root)` writes four stations in two regions, three candidates, four checkpoints per
station and two cameras with tiny recordings (PyAV): C1 at station S1 (with audio, a box
polygon and a reference image), C2 at S2 (no audio). The numbers are consistent, so ingest
reports no problem and no warning. `replace_in(root, file, old, new)` edits one file to make it
bad in a chosen way.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from pollwatch.case import CasePaths

__all__ = ["SMALL", "SmallCase", "replace_in", "write_case", "write_video"]


@dataclass(frozen=True)
class SmallCase:
    """What `write_case` writes, for tests to compare against."""

    name: str = "Test election 2024"
    candidates: tuple[str, ...] = ("Alpha", "Beta", "Gamma")
    stations: tuple[str, ...] = ("S1", "S2", "S3", "S4")
    cameras: tuple[str, ...] = ("C1", "C2")
    registered: int = 1000 + 800 + 1200 + 500
    ballots_cast: int = 600 + 500 + 700 + 300
    votes: tuple[int, ...] = (300 + 250 + 350 + 150, 200 + 150 + 250 + 100, 90 + 90 + 90 + 40)
    video_seconds: float = 2.0
    fps: int = 10
    width: int = 64
    height: int = 48


SMALL = SmallCase()

ELECTION_TOML = """\
name = "Test election 2024"
polls_open = 2024-02-07T08:00:00+04:00
polls_close = 2024-02-07T20:00:00+04:00
checkpoints = [
  2024-02-07T10:00:00+04:00,
  2024-02-07T12:00:00+04:00,
  2024-02-07T15:00:00+04:00,
  2024-02-07T20:00:00+04:00,
]
candidates = ["Alpha", "Beta", "Gamma"]
time_scale = 3600.0
"""

STATIONS_CSV = """\
station_id,region,district,name,lat,lon,registered,has_camera
S1,North,N-1,School 1,40.41,49.87,1000,true
S2,North,N-2,School 2,40.42,49.88,800,true
S3,South,S-1,Library,39.90,48.50,1200,false
S4,South,S-2,Club,39.95,48.55,500,false
"""

RESULTS_CSV = """\
station_id,registered,ballots_issued,ballots_cast,invalid,Alpha,Beta,Gamma
S1,1000,610,600,10,300,200,90
S2,800,505,500,10,250,150,90
S3,1200,700,700,10,350,250,90
S4,500,300,300,10,150,100,40
"""

TURNOUT_CSV = """\
station_id,time,voters_cumulative
S1,2024-02-07T10:00:00+04:00,100
S1,2024-02-07T12:00:00+04:00,250
S1,2024-02-07T15:00:00+04:00,420
S1,2024-02-07T20:00:00+04:00,610
S2,2024-02-07T10:00:00+04:00,80
S2,2024-02-07T12:00:00+04:00,200
S2,2024-02-07T15:00:00+04:00,350
S2,2024-02-07T20:00:00+04:00,505
S3,2024-02-07T10:00:00+04:00,120
S3,2024-02-07T12:00:00+04:00,300
S3,2024-02-07T15:00:00+04:00,480
S3,2024-02-07T20:00:00+04:00,700
S4,2024-02-07T10:00:00+04:00,50
S4,2024-02-07T12:00:00+04:00,120
S4,2024-02-07T15:00:00+04:00,200
S4,2024-02-07T20:00:00+04:00,300
"""

CAMERAS_CSV = """\
camera_id,station_id,source,start_time,box_polygon,reference_image
C1,S1,video/C1.mp4,2024-02-07T08:00:00+04:00,"[[20, 20], [44, 20], [44, 40], [20, 40]]",refs/C1.png
C2,S2,video/C2.mp4,2024-02-07T08:00:00+04:00,,
"""


def write_video(
    path: Path,
    *,
    seconds: float = SMALL.video_seconds,
    fps: int = SMALL.fps,
    size: tuple[int, int] = (SMALL.width, SMALL.height),
    audio: bool = True,
) -> Path:
    """Write a tiny H.264 recording (a moving bar), with a 440 Hz AAC tone if `audio`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream("aac", rate=16000) if audio else None
        for i in range(round(seconds * fps)):
            img = np.full((height, width, 3), 40, np.uint8)
            x = (i * 3) % width
            img[:, x : x + 4] = 220
            out.mux(video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(video.encode(None))
        if sound is not None:
            rate, block = 16000, 1024
            n = round(seconds * rate)
            t = np.arange(n) / rate
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, n, block):
                chunk = tone[start : start + block][None, :]
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate, frame.pts = rate, start
                frame.time_base = Fraction(1, rate)
                out.mux(sound.encode(frame))
            out.mux(sound.encode(None))
    return path


def write_case(root: Path, *, videos: bool = True) -> CasePaths:
    """Write the small valid case into `root` (created); `videos=False` skips the recordings."""
    import cv2

    paths = CasePaths.of(root)
    root.mkdir(parents=True, exist_ok=True)
    for path, text in [
        (paths.election_toml, ELECTION_TOML),
        (paths.stations_csv, STATIONS_CSV),
        (paths.results_csv, RESULTS_CSV),
        (paths.turnout_csv, TURNOUT_CSV),
        (paths.cameras_csv, CAMERAS_CSV),
    ]:
        path.write_text(text, encoding="utf-8")
    (root / "refs").mkdir(exist_ok=True)
    ref = np.full((SMALL.height, SMALL.width, 3), 40, np.uint8)
    cv2.imwrite(str(root / "refs" / "C1.png"), ref)
    if videos:
        write_video(paths.video_dir / "C1.mp4", audio=True)
        write_video(paths.video_dir / "C2.mp4", audio=False)
    return paths


def replace_in(root: Path, file: str, old: str, new: str, count: int = 1) -> None:
    """Replace `old` by `new` in the case file `file`; fails if `old` is not there."""
    path = root / file
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise AssertionError(f"{old!r} is not in {file}")
    path.write_text(text.replace(old, new, count), encoding="utf-8")
