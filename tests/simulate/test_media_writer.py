"""The MP4 writer: settings checks, timestamps kept as given, audio framing."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from pollwatch.simulate.encode import EncodeSettings, MediaWriter


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(video_bitrate=100), "video_bitrate"),
        (dict(audio_rate=11_025), "audio_rate"),
        (dict(gop_s=0.0), "gop_s"),
        (dict(threads=0), "threads"),
        (dict(x264_params="aq-mode 1"), "x264_params"),
        (dict(x264_params="aq-mode=1::ref=2"), "x264_params"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        EncodeSettings(**kwargs)


def test_odd_frame_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        MediaWriter(tmp_path / "x.mp4", 65, 64, 25, audio=False)


def test_frames_keep_their_indices_and_audio_its_sample_positions(tmp_path: Path) -> None:
    path = tmp_path / "gap.mp4"
    grey = np.full((48 * 3 // 2, 64), 128, np.uint8)
    with MediaWriter(path, 64, 48, 10, audio=True) as out:
        n = out.audio_frame_size
        for i in [*range(10), *range(20, 30)]:  # one second missing
            out.write_video(grey, i)
        for k in [*range(0, 16), *range(32, 46)]:  # the same second of audio missing
            out.write_audio(np.zeros(n, np.float32), k * n)
        with pytest.raises(ValueError, match="multiple"):
            out.write_audio(np.zeros(n + 1, np.float32), 50 * n)
    with av.open(str(path)) as c:
        times = [f.time for f in c.decode(video=0)]
    assert len(times) == 20 and times[9] == pytest.approx(0.9) and times[10] == pytest.approx(2.0)
    with av.open(str(path)) as c:
        atimes = [f.time for f in c.decode(audio=0)]
    assert max(np.diff(atimes)) > 0.9


def test_audio_refused_without_an_audio_stream(tmp_path: Path) -> None:
    with MediaWriter(tmp_path / "v.mp4", 64, 48, 10, audio=False) as out:
        with pytest.raises(ValueError, match="no audio"):
            out.write_audio(np.zeros(1024, np.float32), 0)
        out.write_video(np.zeros((72, 64), np.uint8), 0)


@pytest.mark.parametrize(
    ("settings", "options"),
    [
        (EncodeSettings(), (b"cabac=0", b"aq=1:0.30")),
        (EncodeSettings(preset="superfast", x264_params=""), (b"cabac=1", b"aq=1:1.00")),
    ],
)
def test_preset_and_x264_params_reach_the_encoder(
    tmp_path: Path, settings: EncodeSettings, options: tuple[bytes, ...]
) -> None:
    path = tmp_path / "p.mp4"
    grey = np.full((48 * 3 // 2, 64), 128, np.uint8)
    with MediaWriter(path, 64, 48, 10, audio=False, settings=settings) as out:
        out.write_video(grey, 0)
    data = path.read_bytes()  # x264 writes its options into the stream
    assert all(o in data for o in options)


@pytest.mark.parametrize(
    ("w", "h", "strided"),
    [
        (64, 48, False),  # handed to the encoder as it is
        (64, 48, True),  # rows not contiguous: copied in
        (70, 38, False),  # a height PyAV cannot wrap: copied in; chroma rows of 35, padded
    ],
)
def test_pictures_arrive_as_given(tmp_path: Path, w: int, h: int, strided: bool) -> None:
    rng = np.random.default_rng(1)
    picture = rng.integers(0, 256, (h * 3 // 2, 2 * w if strided else w), np.uint8)
    if strided:
        picture = picture[:, ::2]
    path = tmp_path / "q.mp4"
    lossless = EncodeSettings(x264_params="qp=0")
    with MediaWriter(path, w, h, 10, audio=False, settings=lossless) as out:
        out.write_video(picture, 0)
        with pytest.raises(ValueError, match="frame 1"):
            out.write_video(picture[:-2], 1)
    with av.open(str(path)) as c:
        (got,) = [f.to_ndarray(format="yuv420p") for f in c.decode(video=0)]
    np.testing.assert_array_equal(got, picture)
