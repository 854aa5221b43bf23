"""Keyframes of one recording read once for every look before the pass.

Before a camera's pass the video step reads keyframes three times: the median view of the
first minutes, the median view of the whole recording (to register cameras.csv's polygon
where the first minutes fail) and a keyframe every 10 s to follow a nudged box
(`pollwatch.counting.views.box_views`). On a short recording the two medians take the very
same keyframes; on any recording the first minutes' ones (at 10, 30, … 170 s) are among the
10-s ones. `KeyframeReader` seeks as `pollwatch.video.boxfind.seek_keyframes` does and gives
the same frames, but a keyframe it decoded for a median (`background`) is not decoded again:
after each seek the first packet's timestamp says whether it is one already held. All the
reads seek in one open container (one probe, one decoder's buffers: a second open faulted in
6,000 pages on the benchmark clip, docs/video.md "Session 12 (keyframes12 …)").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np

from pollwatch.video.boxfind import first_view, median_image

__all__ = ["KeyframeReader", "lazy_background"]


class KeyframeReader:
    """The keyframes of the recording at `path`; medians' keyframes are kept (a few dozen
    at most: `background`'s `count` per call) and given again to later reads. Every read
    seeks in one container and decoder, opened at the first read (one probe and one
    decoder's buffers for all the looks, not one per call) and held until `close()` (a
    later read opens it again); the decoder runs on the calling thread (`thread_count` 1,
    as the engine's pass: no pool of threads started for a few keyframes)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._kept: dict[int, Any] = {}  # keyframe pts → av.VideoFrame
        self._bgr: dict[int, np.ndarray] = {}
        self.decoded = 0  # keyframes decoded so far (each one once when kept)
        self._container: Any = None
        self._stream: Any = None
        self._duration = 0.0

    def close(self) -> None:
        """Close the container (the kept keyframes stay); a later read opens it again."""
        container, self._container, self._stream = self._container, None, None
        if container is not None:
            container.close()

    def __enter__(self) -> KeyframeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> bool:
        """The container and its first video stream ready to seek; False when the file
        cannot be read or has no video."""
        if self._container is not None:
            return True
        container = av.open(str(self.path), metadata_errors="ignore")
        if not container.streams.video:
            container.close()
            return False
        vs = container.streams.video[0]
        vs.codec_context.skip_frame = "NONKEY"
        vs.codec_context.thread_count = 1
        self._duration = (
            float(vs.duration * vs.time_base)
            if vs.duration and vs.time_base
            else (container.duration or 0) / 1e6
        )
        self._container, self._stream = container, vs
        return True

    def frames(
        self, targets: Callable[[float], Iterable[float]], *, keep: bool = False
    ) -> Iterator[Any]:
        """The keyframe at or before each of `targets(duration_s)` seconds (`av.VideoFrame`;
        what `seek_keyframes` gives), decoded only when not already kept; `keep` keeps the
        ones decoded. A target whose seek or decode fails is skipped; an unreadable file
        yields nothing."""
        try:
            if not self._open():
                return
            container, vs = self._container, self._stream
            base = float(vs.time_base) if vs.time_base else 1e-6
            for target in targets(self._duration):
                try:
                    container.seek(int(target / base), stream=vs, backward=True)
                    frame = self._first(container, vs, keep)
                except (av.error.FFmpegError, OSError):
                    continue
                if frame is not None:
                    yield frame
        except (av.error.FFmpegError, OSError):
            self.close()  # the next read starts from a fresh open, as a failed one did
            return

    def frames_between(self, start_s: float, end_s: float) -> Iterator[Any]:
        """Every frame (`av.VideoFrame`, key or not) from the keyframe at or before `start_s`
        up to `end_s` seconds, in order: for finding the moment something changed between two
        keyframes. Decoded afresh each time (none kept); nothing when the file cannot be read."""
        try:
            if not self._open():
                return
            container, vs = self._container, self._stream
            base = float(vs.time_base) if vs.time_base else 1e-6
            vs.codec_context.skip_frame = "DEFAULT"
            try:
                container.seek(int(start_s / base), stream=vs, backward=True)
                for packet in container.demux(vs):
                    for frame in packet.decode():
                        if frame.time is not None and frame.time > end_s:
                            return
                        yield frame
            finally:
                if self._stream is vs:
                    vs.codec_context.skip_frame = "NONKEY"
        except (av.error.FFmpegError, OSError):
            self.close()
            return

    def _first(self, container: Any, vs: Any, keep: bool) -> Any:
        """The first frame decoded after a seek (non-key frames are skipped), or the kept
        one of the keyframe packet it would be decoded from."""
        for packet in container.demux(vs):
            if packet.is_keyframe and packet.pts in self._kept:
                return self._kept[packet.pts]
            for frame in packet.decode():
                self.decoded += 1
                same = packet.pts is not None and frame.pts == packet.pts
                if keep and packet.is_keyframe and same:
                    self._kept[packet.pts] = frame
                return frame
        return None

    def background(
        self, *, count: int = 9, until_s: float | None = None, first_view_only: bool = False
    ) -> np.ndarray | None:
        """Per-pixel median (BGR) of `count` keyframes spread over the recording's first
        `until_s` seconds (all of it by default; with `first_view_only`, of those showing the
        first steady view, `boxfind.first_view`), its keyframes kept for later reads; None
        when no frame can be decoded."""
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")

        def targets(duration: float) -> list[float]:
            end = min(duration, until_s) if until_s else duration
            return [end * (k + 0.5) / count for k in range(count)]

        images = [self._bgr_of(f) for f in self.frames(targets, keep=True)]
        if not images:
            return None
        shape = images[0].shape
        images = [im for im in images if im.shape == shape]
        return median_image(first_view(images) if first_view_only else images)

    def _bgr_of(self, frame: Any) -> np.ndarray:
        pts = frame.pts
        image = self._bgr.get(pts) if pts is not None else None
        if image is None:
            image = frame.to_ndarray(format="bgr24")
            if pts is not None and self._kept.get(pts) is frame:
                self._bgr[pts] = image
        return image


def lazy_background(reader: KeyframeReader) -> Iterator[np.ndarray]:
    """The whole recording's keyframe median (`reader.background()`), decoded only when
    iterated, nothing where no frame decodes: for `resolve_box_zone`'s `others`, which reads
    them only where the first minutes give no confident fit (on most cameras never)."""
    whole = reader.background()
    if whole is not None:
        yield whole
