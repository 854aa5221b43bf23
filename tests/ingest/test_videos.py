"""Probing recordings: the header (ingest) and the demuxed timeline (the probe step)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from casefactory import write_video
from pollwatch.ingest.videos import parse_polygon, probe_video, scan_streams


def _gapped_video(path: Path, frames: list[int], fps: int = 10) -> Path:
    """H.264 frames at the given frame indices only (missing indices = a recording gap)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        for i in frames:
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 5 % 255, np.uint8))
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(
    ("frames", "packets", "gaps", "max_gap_s"),
    [
        (list(range(20)), 20, 0, 0.1),
        ([*range(10), *range(30, 40)], 20, 1, 2.1),
        ([*range(5), *range(10, 15), *range(40, 45)], 15, 2, 2.6),
    ],
)
def test_scan_finds_gaps(
    tmp_path: Path, frames: list[int], packets: int, gaps: int, max_gap_s: float
) -> None:
    streams = scan_streams(_gapped_video(tmp_path / "v.mp4", frames))
    [video] = streams.to_dict("records")
    assert (video["kind"], video["packets"], video["gaps"]) == ("video", packets, gaps)
    assert video["max_gap_s"] == pytest.approx(max_gap_s)
    assert video["end_s"] == pytest.approx((frames[-1] + 1) / 10)


@pytest.mark.parametrize("audio", [True, False])
def test_probe_reads_the_header(tmp_path: Path, audio: bool) -> None:
    info = probe_video(write_video(tmp_path / "v.mp4", seconds=1.5, fps=12, audio=audio))
    assert (info.width, info.height, info.fps, info.has_audio) == (64, 48, 12.0, audio)
    assert info.duration_s == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("cell", "points"),
    [
        ("[[0, 0], [10, 0], [10, 10]]", ((0, 0), (10, 0), (10, 10))),
        ("[[0.5, 0], [10, 0], [10, 10], [0, 10]]", ((0.5, 0), (10, 0), (10, 10), (0, 10))),
        ("[[0, 0], [10, 0], [5, 5], [10, 10], [0, 10]]", None),  # concave is fine
    ],
)
def test_good_polygons(cell: str, points: tuple | None) -> None:
    parsed = parse_polygon(cell)
    if points is not None:
        assert parsed == points
    assert len(parsed) == cell.count("[") - 1
