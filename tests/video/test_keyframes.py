"""Keyframes read once for every look before the pass: the same pictures as reading them
apart, each keyframe a median keeps decoded once."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from videoclips import PASSER, ClipSpec

from pollwatch.video.boxfind import keyframe_background, seek_keyframes
from pollwatch.video.keyframes import KeyframeReader


def _reference_background(path: Path, count: int, until_s: float | None) -> np.ndarray:
    """The same median made apart from the reader: every frame decoded in order, for each
    target the last keyframe at or before it, the upper per-pixel median of those."""
    with av.open(str(path)) as container:
        vs = container.streams.video[0]
        duration = float(vs.duration * vs.time_base)
        keys = [
            (float(f.time), f.to_ndarray(format="bgr24"))
            for f in container.decode(vs)
            if f.key_frame
        ]
    end = min(duration, until_s) if until_s else duration
    targets = [end * (k + 0.5) / count for k in range(count)]
    picked = [[im for t, im in keys if t <= target + 1e-9][-1] for target in targets]
    return np.sort(np.stack(picked), axis=0)[len(picked) // 2]


@pytest.mark.parametrize(
    ("count", "until_s", "gop"),
    [(9, None, 10), (5, 2.0, 10), (3, None, 25), (1, 10.0, 10)],
)
def test_background_is_keyframe_background(make_clip, count, until_s, gop) -> None:
    path = make_clip(ClipSpec(seconds=4.0, figures=(PASSER,), gop=gop, audio=False))
    reader = KeyframeReader(path)
    view = reader.background(count=count, until_s=until_s)
    np.testing.assert_array_equal(view, keyframe_background(path, count=count, until_s=until_s))
    np.testing.assert_array_equal(view, _reference_background(path, count, until_s))
    decoded = reader.decoded
    assert 1 <= decoded <= count
    # the same keyframes again: none decoded
    np.testing.assert_array_equal(reader.background(count=count, until_s=until_s), view)
    assert reader.decoded == decoded


def test_later_reads_give_seek_keyframes_frames_without_decoding_kept_ones(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=4.0, figures=(PASSER,), gop=10, audio=False))
    reader = KeyframeReader(path)
    reader.background(count=4)
    kept = reader.decoded

    def every_half_second(d: float) -> list[float]:
        return [k * 0.5 for k in range(int(d // 0.5) + 1)]

    frames = list(reader.frames(every_half_second))
    apart = list(seek_keyframes(path, every_half_second))
    assert [f.pts for f in frames] == [f.pts for f in apart]
    for f, g in zip(frames, apart, strict=True):
        np.testing.assert_array_equal(f.to_ndarray(format="gray"), g.to_ndarray(format="gray"))
    # the kept keyframes among them are not decoded again
    again = sum(f.pts in reader._kept for f in apart)
    assert again >= 2 and reader.decoded - kept == len(apart) - again


def test_unreadable_recording_and_bad_count(tmp_path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 50)
    assert KeyframeReader(bad).background() is None
    assert list(KeyframeReader(bad).frames(lambda d: [0.0])) == []
    with pytest.raises(ValueError, match="count must be"):
        KeyframeReader(bad).background(count=0)


def test_every_read_shares_one_container_until_closed(make_clip) -> None:
    """One open container serves every read; `close()` lets it go, and a later read opens it
    again and gives the same frames (the kept ones not decoded again)."""
    path = make_clip(ClipSpec(seconds=4.0, figures=(PASSER,), gop=10, audio=False))
    with KeyframeReader(path) as reader:
        view = reader.background(count=4)
        container = reader._container
        assert container is not None
        frames = list(reader.frames(lambda d: [0.0, 1.0, 2.0, 3.0]))
        assert reader._container is container
        reader.close()
        assert reader._container is None
        decoded = reader.decoded
        again = list(reader.frames(lambda d: [0.0, 1.0, 2.0, 3.0]))
        assert reader._container is not None and reader._container is not container
        np.testing.assert_array_equal(reader.background(count=4), view)
    assert reader._container is None
    assert [f.pts for f in again] == [f.pts for f in frames]
    for f, g in zip(frames, again, strict=True):
        np.testing.assert_array_equal(f.to_ndarray(format="gray"), g.to_ndarray(format="gray"))
    assert reader.decoded - decoded == sum(f.pts not in reader._kept for f in again)
