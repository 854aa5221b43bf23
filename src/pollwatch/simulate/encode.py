"""Writing a camera recording with PyAV: H.264 video, optional AAC audio, timestamps as given.

Frames carry their own index on the 1/fps grid, so a run of missing indices becomes a gap in
the file's timestamps (an outage) and repeating a picture with advancing indices is a frozen
camera. Audio is written in encoder-sized frames whose sample positions may jump the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

__all__ = ["EncodeSettings", "MediaWriter"]


_X264_PARAM = re.compile(r"[a-z0-9-]+=[^:=]+")


@dataclass(frozen=True)
class EncodeSettings:
    """Encoder choices; the defaults give about 1 Mbit/s at 640×360, 25 fps on one core.

    x264's `ultrafast` with mild adaptive quantisation (`x264_params`, given to libx264 as
    `x264-params`) encodes these noisy, mostly still pictures about 1.5x faster than
    `superfast` and, at the same bitrate, at least as close to its input (PSNR-Y about 0.5 dB
    higher, SSIM-Y within 0.001); a repeated (frozen) picture still settles within a few
    frames. The files are Constrained Baseline (no CABAC, no deblocking) and decode faster.
    """

    video_bitrate: int = 1_000_000
    preset: str = "ultrafast"
    x264_params: str = "aq-mode=1:aq-strength=0.3"
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
        if self.x264_params and not all(
            _X264_PARAM.fullmatch(p) for p in self.x264_params.split(":")
        ):
            raise ValueError(
                f"x264_params must be key=value pairs joined by ':', got {self.x264_params!r}"
            )


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
        if settings.x264_params:
            options["x264-params"] = settings.x264_params
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
        self._time_base = ctx.time_base
        self._audio = None
        self._audio_frame = 1024
        if audio:
            # no temporal noise shaping or noise substitution: a third less CPU and, for the
            # room sound, a waveform as close to the input (SNR 20.0 against 19.7 dB)
            a = self._container.add_stream(
                "aac",
                rate=settings.audio_rate,
                options={"aac_coder": "fast", "aac_tns": "0", "aac_pns": "0"},
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
        h, w = self.height, self.width
        if yuv_i420.shape != (h * 3 // 2, w) or yuv_i420.dtype != np.uint8:
            raise ValueError(
                f"{self.path}: frame {index}: expected an I420 picture of shape "
                f"{(h * 3 // 2, w)} uint8, got {yuv_i420.shape} {yuv_i420.dtype}"
            )
        if h % 4 == 0 and yuv_i420.flags.c_contiguous:
            # the encoder reads the array itself (x264 copies the picture in before `encode`
            # returns): no copy here at all
            frame = av.VideoFrame.from_numpy_buffer(yuv_i420, format="yuv420p")
        else:  # PyAV's I420 buffers need a height divisible by 4: the planes copied in
            frame = av.VideoFrame(w, h, "yuv420p")
            flat = np.ascontiguousarray(yuv_i420).reshape(-1)
            q = (h // 2) * (w // 2)
            sources = (flat[: h * w], flat[h * w : h * w + q], flat[h * w + q :])
            for plane, src, (ph, pw) in zip(
                frame.planes, sources, ((h, w), (h // 2, w // 2), (h // 2, w // 2)), strict=True
            ):
                if plane.line_size == pw:
                    plane.update(src)
                else:  # rows padded
                    rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
                    rows[:ph, :pw] = src.reshape(ph, pw)
        frame.pts = index
        frame.time_base = self._time_base
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
        rate, time_base = self.settings.audio_rate, self._audio.time_base
        for k in range(0, len(data), n):
            frame = av.AudioFrame(format="fltp", layout="mono", samples=n)
            frame.planes[0].update(data[k : k + n])
            frame.sample_rate = rate
            frame.pts = start_sample + k
            frame.time_base = time_base
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
