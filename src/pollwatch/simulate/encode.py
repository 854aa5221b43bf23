"""Writing a camera recording with PyAV: H.264 video, optional AAC audio, timestamps as given.

Frames carry their own index on the 1/fps grid, so a run of missing indices becomes a gap in
the file's timestamps (an outage) and repeating a picture with advancing indices is a frozen
camera. Audio is written in encoder-sized frames whose sample positions may jump the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

__all__ = ["EncodeSettings", "MediaWriter"]


@dataclass(frozen=True)
class EncodeSettings:
    """Encoder choices; the defaults give about 1 Mbit/s at 640×360, 25 fps on one core."""

    video_bitrate: int = 1_000_000
    preset: str = "superfast"
    gop_s: float = 2.0
    threads: int = 1
    audio_rate: int = 16_000
    audio_bitrate: int = 32_000

    def __post_init__(self) -> None:
        if self.video_bitrate < 10_000:
            raise ValueError(
                f"video_bitrate must be at least 10000 bit/s, got {self.video_bitrate}"
            )
        if self.audio_rate not in (16_000, 22_050, 24_000, 32_000, 44_100, 48_000):
            raise ValueError(f"audio_rate {self.audio_rate} is not an AAC sample rate we use")
        if self.gop_s <= 0:
            raise ValueError(f"gop_s must be positive, got {self.gop_s}")
        if self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")


class MediaWriter:
    """An MP4 file being written; use as a context manager."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        fps: int,
        *,
        audio: bool,
        settings: EncodeSettings = EncodeSettings(),
        start_time: datetime | None = None,
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"H.264 4:2:0 needs an even frame size, got {width}×{height}")
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self.settings = settings
        self._container = av.open(str(self.path), mode="w", format="mp4")
        if start_time is not None:
            self._container.metadata["creation_time"] = start_time.isoformat()
        options = {"preset": settings.preset}
        video = self._container.add_stream("libx264", rate=fps, options=options)
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        video.bit_rate = settings.video_bitrate
        video.time_base = Fraction(1, fps)
        ctx = video.codec_context
        ctx.time_base = Fraction(1, fps)
        ctx.gop_size = max(1, round(settings.gop_s * fps))
        ctx.max_b_frames = 0
        ctx.thread_count = settings.threads
        ctx.thread_type = "SLICE" if settings.threads > 1 else "NONE"
        self._video = video
        self._audio = None
        self._audio_frame = 1024
        if audio:
            a = self._container.add_stream(
                "aac", rate=settings.audio_rate, options={"aac_coder": "fast"}
            )
            a.layout = "mono"
            a.bit_rate = settings.audio_bitrate
            a.time_base = Fraction(1, settings.audio_rate)
            self._audio = a
            self._audio_frame = a.codec_context.frame_size or 1024
        self.frames_written = 0
        self._closed = False

    @property
    def audio_frame_size(self) -> int:
        """Samples per audio frame the encoder wants."""
        return self._audio_frame

    @property
    def has_audio(self) -> bool:
        return self._audio is not None

    def write_video(self, yuv_i420: np.ndarray, index: int) -> None:
        """Encode one I420 picture ((H·3/2, W) uint8) shown at `index / fps` seconds."""
        frame = av.VideoFrame.from_ndarray(yuv_i420, format="yuv420p")
        frame.pts = index
        frame.time_base = self._video.codec_context.time_base
        for packet in self._video.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1

    def write_audio(self, samples: np.ndarray, start_sample: int) -> None:
        """Encode mono float samples in −1..1 starting at `start_sample`; length must be a
        whole number of `audio_frame_size` frames."""
        if self._audio is None:
            raise ValueError(f"{self.path}: this recording has no audio stream")
        n = self._audio_frame
        if len(samples) % n:
            raise ValueError(f"audio block of {len(samples)} samples is not a multiple of {n}")
        data = np.ascontiguousarray(samples, dtype=np.float32)
        for k in range(0, len(data), n):
            frame = av.AudioFrame.from_ndarray(data[None, k : k + n], format="fltp", layout="mono")
            frame.sample_rate = self.settings.audio_rate
            frame.pts = start_sample + k
            frame.time_base = Fraction(1, self.settings.audio_rate)
            for packet in self._audio.encode(frame):
                self._container.mux(packet)

    def close(self) -> None:
        """Flush the encoders and finish the file."""
        if self._closed:
            return
        self._closed = True
        for packet in self._video.encode(None):
            self._container.mux(packet)
        if self._audio is not None:
            for packet in self._audio.encode(None):
                self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> MediaWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._closed = True
            self._container.close()
