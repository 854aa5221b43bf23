"""Test material for the audit: real speech from espeak-ng, AAC round trips, synthetic scenes.

Nothing here reads simulator output; every clip is made by the test that uses it.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import cv2
import numpy as np

from pollwatch.video.frame import AudioChunk, Frame, Gap

ESPEAK = "espeak-ng"
SENTENCE = (
    "Good morning. Please show your passport and sign here. "
    "The ballot box is over there, next to the window."
)
START = datetime(2024, 2, 7, 8, 0, tzinfo=UTC)


def frame_at(t: float, gray: np.ndarray) -> Frame:
    """The engine's frame of a gray picture at `t` s (wall clock from START)."""
    return Frame.from_image(gray, pts_s=t, wall=START + timedelta(seconds=t))


def chunk_at(t: float, samples: np.ndarray, sample_rate: int) -> AudioChunk:
    """The engine's audio chunk (no checks: tests hand it bad samples on purpose)."""
    return AudioChunk(t, samples, sample_rate)


def gap(start: float, end: float) -> Gap:
    """An outage the engine reports from `start` to `end` s."""
    return Gap(start, end, "outage", "test outage")


def espeak_speech(tmp: Path, sample_rate: int = 16000) -> np.ndarray:
    """Speak SENTENCE with espeak-ng; float32 mono at `sample_rate`. Fails if espeak-ng is
    missing (CI installs it with apt; see .ci/run)."""
    exe = shutil.which(ESPEAK)
    if exe is None:
        raise RuntimeError(
            "espeak-ng is not installed: the audio audit's real-speech test needs it "
            "(Debian/Ubuntu: apt-get install espeak-ng)"
        )
    wav = tmp / "speech.wav"
    subprocess.run([exe, "-w", str(wav), SENTENCE], check=True, capture_output=True)
    return decode_audio(wav.read_bytes(), sample_rate=sample_rate)[1]


def room_noise(seconds: float, sample_rate: int, dbfs: float, seed: int = 0) -> np.ndarray:
    """Pink-ish room noise at `dbfs` RMS plus a 50 Hz hum 10 dB below it."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sample_rate)
    spectrum /= np.sqrt(np.maximum(f, 20.0))
    x = np.fft.irfft(spectrum, n)
    x *= 10 ** (dbfs / 20) / np.sqrt(np.mean(x**2))
    hum = np.sin(2 * np.pi * 50 * np.arange(n) / sample_rate) * 10 ** ((dbfs - 10) / 20) * 1.41
    return (x + hum).astype(np.float32)


def speech_scene(speech: np.ndarray, seconds: float, sample_rate: int, noise_dbfs: float = -50.0):
    """`seconds` of room noise with the sentence spoken every ~10 s; (samples, speech mask)."""
    x = room_noise(seconds, sample_rate, noise_dbfs)
    mask = np.zeros(x.size, bool)
    pos = int(0.5 * sample_rate)
    while pos + speech.size <= x.size:
        x[pos : pos + speech.size] += speech
        mask[pos : pos + speech.size] = True
        pos += speech.size + int(3.0 * sample_rate)
    return x, mask


def encode_aac_mp4(samples: np.ndarray | None, sample_rate: int, seconds: float) -> bytes:
    """An MP4 with a small gray H.264 picture and (unless `samples` is None) an AAC track."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as c:
        v = c.add_stream("libx264", rate=5)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = None
        if samples is not None:
            a = c.add_stream("aac", rate=sample_rate)
            a.layout = "mono"
            a.options = {"aac_coder": "fast"}  # 5x faster; exact zeros stay exact (measured)
        for i in range(int(seconds * 5)):
            img = np.full((48, 64, 3), 100 + i % 50, np.uint8)
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                c.mux(p)
        for p in v.encode(None):
            c.mux(p)
        if a is not None and samples is not None:
            for i in range(0, samples.size, 1024):
                block = samples[i : i + 1024].astype(np.float32)[None, :]
                fr = av.AudioFrame.from_ndarray(block, format="fltp", layout="mono")
                fr.sample_rate, fr.pts = sample_rate, i
                for p in a.encode(fr):
                    c.mux(p)
            for p in a.encode(None):
                c.mux(p)
    return buf.getvalue()


def decode_audio(data: bytes, sample_rate: int = 16000) -> tuple[list[AudioChunk], np.ndarray]:
    """Decode the first audio stream to float32 mono chunks (as the engine would); all samples."""
    chunks: list[AudioChunk] = []
    with av.open(io.BytesIO(data)) as c:
        if not c.streams.audio:
            return [], np.empty(0, np.float32)
        stream = c.streams.audio[0]
        rs = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        n = 0
        for fr in c.decode(stream):
            for g in rs.resample(fr):
                x = g.to_ndarray().reshape(-1).astype(np.float32)
                chunks.append(AudioChunk(n / sample_rate, x, sample_rate))
                n += x.size
    all_samples = np.concatenate([ch.samples for ch in chunks]) if chunks else np.empty(0)
    return chunks, all_samples.astype(np.float32)


def chunked(samples: np.ndarray, sample_rate: int, size: int = 1024, t0: float = 0.0):
    """Split samples into engine-like chunks."""
    return [
        AudioChunk(t0 + i / sample_rate, samples[i : i + size], sample_rate)
        for i in range(0, samples.size, size)
    ]


@functools.lru_cache(maxsize=16)
def textured_scene(width: int = 320, height: int = 180) -> np.ndarray:
    """A gray 'room' with texture everywhere (skimage's astronaut, resized) — uint8 (H, W),
    read-only (cached)."""
    from skimage import data

    img = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    out = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
    out.setflags(write=False)
    return out


def room_with_box(width: int, height: int, box: list[tuple[int, int]]) -> np.ndarray:
    """The textured room with a light ballot box along `box` (polygon in 640-wide pixels)
    edged by a thin dark frame: its outline has edges all along the polygon."""
    img = textured_scene(width, height).copy()
    pts = np.round(np.asarray(box, float) * width / 640).astype(np.int32)
    cv2.fillPoly(img, [pts], 200)
    cv2.polylines(img, [pts], True, 20, 1)
    img.setflags(write=False)
    return img


_NOISE: dict[tuple[int, ...], list[np.ndarray]] = {}
_LAST: dict[tuple[int, ...], int] = {}


def noisy(img: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    """Sensor noise on a uint8 image: the next of 16 precomputed noise fields per shape and
    sigma (`rng` seeds nothing; kept for call sites), so frames differ like a live camera's."""
    key = (*img.shape, int(sigma * 100))
    if key not in _NOISE:
        bank_rng = np.random.default_rng(key)
        _NOISE[key] = [
            np.round(bank_rng.normal(0, sigma, img.shape)).astype(np.int16) for _ in range(16)
        ]
    index = (_LAST.get(key, 0) + 1) % 16  # cycles: frames up to 15 apart never match
    _LAST[key] = index
    noise = _NOISE[key][index]
    return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def warp(img: np.ndarray, dx: float, dy: float, angle_deg: float = 0.0, scale: float = 1.0):
    """The view after the camera turned: rotate/scale about the centre, then shift by (dx, dy)."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, scale)
    m[:, 2] += (dx, dy)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def luma(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane of a decoded yuv420p frame: the gray picture without a colour conversion
    (PyAV's to_ndarray(format="gray") runs swscale and costs ~10x more)."""
    plane = frame.planes[0]
    y = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    return y[:, : plane.width]
