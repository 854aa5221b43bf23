"""The video engine: one pass over a recording, frames and audio handed to every analyser.

`analyse_video(path, analysers)` demuxes the video and (when an analyser wants it) the audio
stream in one loop, decodes each video frame once, samples frames per analyser (`Needs.fps`,
`EngineOptions.step`/`fps`) and converts them only when an analyser asks (`Frame.gray(scale)`
is computed once and shared). Sampled frames are handed over a few at a time
(`EngineOptions.hold_frames`), so that the decoder and the analysers each run for a while
instead of taking turns at every frame; what each analyser sees, and in which order, is the
same. Damaged, truncated or gapped files never raise: the gaps are told to the analysers and
returned, and everything decoded before and after them is analysed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np

from pollwatch.errors import InputError, InputProblem
from pollwatch.video.analyser import Analyser
from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo, wall_time
from pollwatch.video.timeline import Timeline

__all__ = ["EngineOptions", "SkipMode", "VideoRun", "analyse_video"]

SkipMode = Literal["auto", "none", "nonref", "nonkey"]
_SKIP_FRAME = {"none": "DEFAULT", "nonref": "NONREF", "nonkey": "NONKEY"}


@dataclass(frozen=True)
class EngineOptions:
    """How the engine decodes.

    `step`: deliver only frames whose index is a multiple of `step`; `fps`: at most this many
    frames per second to any analyser; `scale`: downscale of `Frame.image` against the source.
    `skip`: decoder frame skipping — "nonref" drops frames no other frame references (about
    a quarter of the decoding time of a B-frame stream; "auto" chooses it when every analyser
    samples at most half the stream's rate by time), "nonkey" decodes keyframes only (only
    if the keyframe interval suits the analysers), "none" decodes every frame.
    `threads`: decoder threads (0: FFmpeg's choice); `thread_type`: "SLICE", "FRAME" or "AUTO".
    `min_gap_s`: shortest timestamp jump reported as a gap. `audio_chunk_s`: decoded audio
    frames (about 21 ms each from AAC) are joined into chunks of about this many seconds of
    contiguous samples before they are handed over (one call and one array per chunk instead
    of one per frame); 0 hands every frame over alone. `skip_silence`: an AAC-LC packet that
    repeats the bytes of packets already decoded to digital silence, following one, is not
    decoded; its frame is zeros, bit for bit what decoding gives (`_Silence`).
    `hold_frames`: sampled frames are handed over up to this many at a time (1: each as soon
    as it is decoded), with the audio chunks decoded among them (up to this many chunks too;
    not when an analyser takes the audio alone), so that the decoders run several frames
    back to back between the analysers' calls; every analyser gets the same frames, gaps and
    audio chunks in the same order as with 1 (`_Held`). At most 256: each held frame keeps
    its decoded picture, so fewer are held where their pictures would pass `_HOLD_BYTES`
    (32 MB: 64 at 640×360, 10 at 1080p, whose YUV 4:2:0 picture is 3 MB).
    """

    step: int = 1
    fps: float | None = None
    scale: float = 1.0
    skip: SkipMode = "auto"
    threads: int = 1
    thread_type: Literal["SLICE", "FRAME", "AUTO"] = "SLICE"
    min_gap_s: float = 0.25
    audio_chunk_s: float = 1.0
    skip_silence: bool = True
    hold_frames: int = 64

    def __post_init__(self) -> None:
        if self.step < 1:
            raise ValueError(f"step must be >= 1, got {self.step}")
        if self.fps is not None and not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        if not 0 < self.scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {self.scale}")
        if self.skip not in ("auto", *_SKIP_FRAME):
            raise ValueError(f"skip must be auto, none, nonref or nonkey, got {self.skip!r}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0, got {self.threads}")
        if self.thread_type not in ("SLICE", "FRAME", "AUTO"):
            raise ValueError(f"thread_type must be SLICE, FRAME or AUTO, got {self.thread_type!r}")
        if not self.min_gap_s > 0:
            raise ValueError(f"min_gap_s must be positive, got {self.min_gap_s}")
        if not 0 <= self.audio_chunk_s <= 60:
            raise ValueError(f"audio_chunk_s must be in [0, 60], got {self.audio_chunk_s}")
        if not 1 <= self.hold_frames <= 256:
            raise ValueError(f"hold_frames must be in [1, 256], got {self.hold_frames}")


@dataclass(frozen=True)
class VideoRun:
    """What one pass over a recording did; `results` are the analysers' results, in order."""

    info: StreamInfo
    gaps: tuple[Gap, ...]
    results: tuple[Any, ...]
    frames_decoded: int
    frames_delivered: int
    audio_chunks: int
    decode_errors: int
    silent_skipped: int  # audio packets known silent, not decoded (`skip_silence`)
    last_s: float | None
    skip: str
    elapsed_s: float

    @property
    def problems(self) -> tuple[InputProblem, ...]:
        """Every gap as an input problem naming the file and time (for the report)."""
        return tuple(g.problem for g in self.gaps)


class _Schedule:
    """Which analyser gets which frame: one frame per 1/fps slot, on the `step` grid."""

    def __init__(self, analysers: Sequence[Analyser], options: EngineOptions) -> None:
        self.video = [a for a in analysers if a.needs.video]
        self.audio = [a for a in analysers if a.needs.audio]
        self.rates: list[float | None] = []
        for a in self.video:
            rates = [r for r in (a.needs.fps, options.fps) if r is not None]
            self.rates.append(min(rates) if rates else None)
        self.slots = [-1] * len(self.video)
        self.step = options.step
        # no analyser's next slot starts before this time (a bound a little below the
        # earliest, so that the exact test below decides every frame at or after it): most
        # frames of a stream sampled at a few fps need no more than this one comparison
        self.next_due = -math.inf

    @property
    def max_fps(self) -> float | None:
        if not self.video or any(r is None for r in self.rates):
            return None
        return max(r for r in self.rates if r is not None)

    def takers(self, index: int, pts_s: float) -> list[Analyser]:
        if pts_s < self.next_due or index % self.step:
            return []
        out = []
        due = math.inf
        for i, rate in enumerate(self.rates):
            if rate is None:
                out.append(self.video[i])
                due = -math.inf
                continue
            slot = math.floor(pts_s * rate + 1e-6)
            if slot > self.slots[i]:
                self.slots[i] = slot
                out.append(self.video[i])
            # floor(t × rate + 1e-6) > slot needs t ≥ (slot + 1 − 1e-6) / rate
            due = min(due, (self.slots[i] + 1 - 1e-6) / rate - 1e-9)
        self.next_due = due
        return out


def _choose_skip(options: EngineOptions, schedule: _Schedule, fps: float) -> str:
    """ "auto": skip non-reference frames when every analyser samples at most half the
    frames by time (any frame of a 1/fps slot will do); never with `step`, which asks for
    exact frames."""
    if options.skip != "auto":
        return options.skip
    max_fps = schedule.max_fps
    if schedule.video and options.step == 1 and max_fps is not None and max_fps <= fps / 2:
        return "nonref"
    return "none"


def _seconds(value: int | None, time_base: Any) -> float | None:
    """`value` × `time_base` (a Fraction, or its value as a float) in seconds; float
    arithmetic (Fractions are slow per packet)."""
    if value is None or time_base is None:
        return None
    if isinstance(time_base, float):
        return value * time_base
    return value * time_base.numerator / time_base.denominator


_FLOAT_LAYOUTS = {"flt": False, "fltp": True}  # float sample formats → planar
_STEREO_TO_MONO = np.float32(np.sqrt(0.5))  # swresample's downmix: (L + R) / √2


def _mono_parts(resampler: av.AudioResampler, frame: av.AudioFrame) -> tuple[np.ndarray, ...]:
    """The frame's samples as float32 channel arrays to be mixed to mono by `_join_mono`: its
    one or two channels read straight from its planes (views that keep the frame alive) when
    the samples are float, what AAC, Opus and MP3 decoders give (swresample costs about three
    times the AAC decoding itself); other formats go through the resampler (one mono array)."""
    planar = _FLOAT_LAYOUTS.get(frame.format.name)
    channels = frame.layout.nb_channels  # `layout.channels` builds a tuple of objects
    if planar is not None and channels <= 2:
        n = frame.samples  # read the planes directly: to_ndarray stacks them, slower
        planes = frame.planes  # built anew at every access: once
        if planar and channels == 1:
            return (np.frombuffer(planes[0], np.float32, count=n),)
        if planar:
            return tuple([np.frombuffer(p, np.float32, count=n) for p in planes[:channels]])
        both = np.frombuffer(planes[0], np.float32, count=n * channels)
        return tuple(both[c::channels] for c in range(channels))
    parts = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return (out.astype(np.float32, copy=False),)


def _join_mono(frames: list[tuple[np.ndarray, ...]]) -> np.ndarray:
    """Consecutive frames' `_mono_parts` as one mono float32 array in its own memory
    (read-only): stereo mixed as swresample does, (L + R) / √2."""
    if all(len(parts) == 2 for parts in frames):
        left = np.concatenate([parts[0] for parts in frames])
        right = np.concatenate([parts[1] for parts in frames])
        out = (left + right) * _STEREO_TO_MONO
    else:
        mono = [p[0] if len(p) == 1 else (p[0] + p[1]) * _STEREO_TO_MONO for p in frames]
        out = np.concatenate(mono) if len(mono) > 1 else mono[0].copy()
    out.flags.writeable = False
    return out


_HOLD_BYTES = 32 << 20  # the decoded pictures `_Held` may keep at once (YUV 4:2:0)
_SILENT_MAX_BYTES = 64  # a frame of digital silence is a few bytes (AAC: 4, no spectral data)
_SILENT_LEARN = 2  # packets decoded to zeros in a row, with the same bytes, make a signature
_SILENT_CHECK = 64  # every this many skipped packets one is decoded and checked (about 4 s)


def _all_zero(parts: tuple[np.ndarray, ...]) -> bool:
    """Whether every sample is +0.0 (all bits zero: what a skipped frame is given)."""
    return not any(p.view(np.uint32).any() for p in parts)


class _Silence:
    """Digital silence recognised by its packets' bytes, so that it need not be decoded.

    An AAC-LC encoder codes a frame of digital silence as a packet without spectral data (4
    bytes from FFmpeg's). Decoded after a frame whose output was all zero, it gives exactly
    zero samples and leaves the decoder as it found it (the overlap it keeps is zero; LC
    carries no other state from frame to frame), so decoding it can be skipped. The signature
    is learnt: `_SILENT_LEARN` packets in a row with the same (small) bytes that each decoded,
    after a silent one, to one float frame of one or two channels, all bits zero, starting at
    the packet's time, with one shape. From then on a packet with those bytes (and no side
    data: a trimmed last frame carries some) right after a silent one is not decoded: its
    frame is zeros of that shape. Every `_SILENT_CHECK`th such packet is decoded anyway and
    must give zeros, else skipping stops for the rest of the file."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.signature: bytes | None = None
        self.candidate: bytes | None = None
        self.seen = 0  # packets in a row that decoded to zeros with the candidate's bytes
        self.silent = False  # the last audio packet gave zeros (decoded or skipped)
        self.shape: tuple[int, int, int] = (0, 0, 0)  # samples, channels, sample rate
        self.zeros: tuple[np.ndarray, ...] = ()
        self.matched = 0

    def _is_signature(self, packet: Any) -> bool:
        sig = self.signature
        return sig is not None and packet.size == len(sig) and bytes(packet) == sig

    def skips(self, packet: Any) -> bool:
        """Whether `packet` need not be decoded (its frame: `zeros` at the packet's time)."""
        if not (self.silent and packet.pts is not None and self._is_signature(packet)):
            return False
        if next(packet.iter_sidedata(), None) is not None:  # (4x cheaper than has_sidedata)
            return False
        self.matched += 1
        return self.matched % _SILENT_CHECK != 0  # every _SILENT_CHECKth is decoded, checked

    def decoded(
        self, packet: Any, frames: list[Any], parts: list[tuple[np.ndarray, ...] | None]
    ) -> None:
        """A packet was decoded into `frames` (their `_mono_parts`; None for a frame without
        a time): learn, or check."""
        if not self.enabled:
            return
        first = parts[0] if len(parts) == 1 and packet.size <= _SILENT_MAX_BYTES else None
        if first is None or not _all_zero(first):  # sound (or a frame too big to say cheaply)
            if self.silent and self._is_signature(packet):
                self.enabled = False  # the signature after silence gave sound: stop skipping
            self.silent, self.candidate, self.seen = False, None, 0
            return
        if self.signature is None and self.silent:  # learn from a silent frame after silence
            frame = frames[0]
            shape = (frame.samples, len(first), frame.sample_rate)
            data = bytes(packet)
            usable = (
                frame.pts == packet.pts
                and frame.format.name in _FLOAT_LAYOUTS
                and frame.layout.nb_channels == shape[1] <= 2
            )
            if not usable:
                self.candidate, self.seen = None, 0
            elif data == self.candidate and shape == self.shape:
                self.seen += 1
            else:
                self.candidate, self.shape, self.seen = data, shape, 1
            if self.seen >= _SILENT_LEARN:
                self.signature = self.candidate
                self.zeros = tuple(_readonly_zeros(shape[0]) for _ in range(shape[1]))
        self.silent = True

    def broken(self) -> None:
        """A packet failed to decode: the next one's output is not known to be zero."""
        self.silent = False


def _readonly_zeros(n: int) -> np.ndarray:
    out = np.zeros(n, np.float32)
    out.flags.writeable = False
    return out


class _AudioBatch:
    """Decoded audio frames waiting to go out as one chunk of about `chunk_s` seconds.

    Frames are joined only while they are contiguous the way the audio audit joins chunks:
    each starts within 2 ms of the sample where the run of contiguous frames since the last
    break says it should (the run goes on across chunks), at the same sample rate."""

    def __init__(self, chunk_s: float) -> None:
        self.chunk_s = chunk_s
        self.frames: list[tuple[np.ndarray, ...]] = []
        self.t_s = 0.0
        self.rate = 0
        self.length = 0  # samples held
        self.next_start: int | None = None  # the sample where a contiguous frame starts

    @property
    def full(self) -> bool:
        return self.length >= self.chunk_s * self.rate

    def add(
        self, t_s: float, rate: int, parts: tuple[np.ndarray, ...]
    ) -> tuple[float, int, np.ndarray] | None:
        """Hold a frame starting at `t_s`; the chunk held before it (as `take` gives it), when
        the frame does not continue the run of contiguous frames or the batch is full."""
        start = round(t_s * rate)
        joins = (
            self.next_start is not None
            and rate == self.rate
            and abs(start - self.next_start) <= max(1, rate // 500)
        )
        out = None
        if not joins or self.length >= self.chunk_s * self.rate:
            out = self.take()
        if not joins:
            self.next_start = start
        if not self.frames:
            self.t_s, self.rate = t_s, rate
        n = parts[0].shape[0]
        self.next_start = (self.next_start or 0) + n
        self.frames.append(parts)
        self.length += n
        return out

    def take(self) -> tuple[float, int, np.ndarray] | None:
        """The chunk held (start, sample rate, mono samples), emptying the batch."""
        if not self.frames:
            return None
        out = (self.t_s, self.rate, _join_mono(self.frames))
        self.frames, self.length = [], 0
        return out


class _Held:
    """Sampled frames decoded but not yet handed over (`EngineOptions.hold_frames`), and the
    audio chunks decoded among them.

    The decoder then runs up to `size` sampled frames back to back and the analysers their
    calls for those frames after, each keeping the other's code and tables in the caches.
    Nothing an analyser sees changes: each frame goes to its analysers in decoding order,
    after exactly the gaps it would have been told of at once (`found`: how many gaps the
    timeline had found when it was decoded). An audio chunk waits among the frames in the
    order it was decoded, when no analyser takes the audio alone (`hold_audio`; such an
    analyser's gaps are told between chunks, so the held frames and chunks go out before
    any audio gap); at most `size` chunks wait. Everything held goes out at the end of the
    pass."""

    def __init__(self, size: int) -> None:
        self.size = size
        # (frame, its takers, gaps found) or (audio chunk, None, 0), in decoding order
        self.items: list[tuple[Any, list[Analyser] | None, int]] = []
        self.frames = self.chunks = 0

    def hold(self, frame: Frame, takers: list[Analyser], found: int) -> bool:
        """Hold a frame; whether the held frames are due to be handed over."""
        self.items.append((frame, takers, found))
        self.frames += 1
        return self.frames >= self.size

    def hold_audio(self, chunk: AudioChunk) -> bool:
        """Hold an audio chunk; whether what is held is due to be handed over."""
        self.items.append((chunk, None, 0))
        self.chunks += 1
        return self.chunks >= self.size

    def take(self) -> list[tuple[Any, list[Analyser] | None, int]]:
        out, self.items = self.items, []
        self.frames = self.chunks = 0
        return out


def _is_lc_aac(stream: Any) -> bool:
    """Whether an audio stream is AAC-LC (the profile whose silent frames `_Silence` skips)."""
    cc = stream.codec_context
    return cc.name == "aac" and (cc.profile or "").upper() == "LC"


def _unreadable(path: str, why: str, start_time: datetime | None) -> tuple[StreamInfo, Gap]:
    info = StreamInfo(path, 0, 0, 0.0, None, False, None, start_time, "", "")
    gap = Gap(0.0, None, "unreadable", f"unreadable: {why}", path, wall_time(start_time, 0.0))
    return info, gap


def analyse_video(
    path: str | Path,
    analysers: Sequence[Analyser],
    *,
    start_time: datetime | None = None,
    options: EngineOptions | None = None,
) -> VideoRun:
    """Run every analyser over one recording in a single decode pass.

    Every analyser is `reset()` first, then gets `start(info)`, then frames, audio chunks and
    gaps in time order (frames go to analysers in the order given, so a later one may read an
    earlier one's state). Raises `InputError` only when the file does not exist; a file that
    cannot be read is reported as an "unreadable" gap.
    """
    options = options or EngineOptions()
    path = Path(path)
    if not path.is_file():
        raise InputError.at(path, "video file not found")
    began = time.perf_counter()
    for a in analysers:
        if not isinstance(a, Analyser):
            raise TypeError(f"{a!r} does not have the Analyser shape (needs, start, update, ...)")
        a.reset()
    schedule = _Schedule(analysers, options)
    name = str(path)

    try:
        container = av.open(name, metadata_errors="ignore")
    except (av.error.FFmpegError, OSError) as err:
        info, gap = _unreadable(name, str(err).split(": '")[0], start_time)
        return _unreadable_run(info, gap, analysers, began)
    with container:
        if not container.streams.video:
            container_info, gap = _unreadable(name, "no video stream", start_time)
            return _unreadable_run(container_info, gap, analysers, began)
        one_pass = _Pass(container, analysers, schedule, options, start_time)
        for a in analysers:
            a.start(one_pass.info)
        one_pass.run()
        return VideoRun(
            info=one_pass.info,
            gaps=tuple(one_pass.timeline.gaps),
            results=tuple(a.result() for a in analysers),
            frames_decoded=one_pass.counts["decoded"],
            frames_delivered=one_pass.counts["delivered"],
            audio_chunks=one_pass.counts["audio"],
            decode_errors=one_pass.counts["errors"],
            silent_skipped=one_pass.counts["silent"],
            last_s=one_pass.timeline.last_s,
            skip=one_pass.skip,
            elapsed_s=time.perf_counter() - began,
        )


class _Pass:
    """One demux loop over a container: decodes, samples, and tells gaps in time order."""

    def __init__(
        self,
        container: Any,
        analysers: Sequence[Analyser],
        schedule: _Schedule,
        options: EngineOptions,
        start_time: datetime | None,
    ) -> None:
        self.container, self.schedule, self.options = container, schedule, options
        self.start_time = start_time
        vs = self.vs = container.streams.video[0]
        self.audio = container.streams.audio[0] if container.streams.audio else None
        # the nominal rate (r_frame_rate): the average rate shrinks when frames are missing
        self.fps = float(vs.guessed_rate or vs.base_rate or vs.average_rate or 25)
        self.origin = _seconds(vs.start_time, vs.time_base)
        declared = _seconds(vs.duration, vs.time_base)
        if declared is None and container.duration:
            declared = container.duration / 1e6 - (self.origin or 0.0)
        self.declared = declared
        name = container.name
        self.info = StreamInfo(
            path=name,
            width=vs.codec_context.width,
            height=vs.codec_context.height,
            fps=self.fps,
            duration_s=declared,
            has_audio=self.audio is not None,
            sample_rate=self.audio.codec_context.sample_rate if self.audio is not None else None,
            start_time=start_time,
            video_codec=vs.codec_context.name,
            container=container.format.name,
        )
        self.skip = _choose_skip(options, schedule, self.fps)
        cc = vs.codec_context
        cc.thread_count = options.threads
        cc.thread_type = options.thread_type
        cc.skip_frame = _SKIP_FRAME[self.skip]
        self.want_audio = self.audio is not None and bool(schedule.audio)
        self.decode_video = bool(schedule.video)
        self.resampler = av.AudioResampler(format="flt", layout="mono") if self.want_audio else None
        self.audio_batch = _AudioBatch(options.audio_chunk_s)
        lc_aac = self.want_audio and _is_lc_aac(self.audio)
        self.silence = _Silence(options.skip_silence and lc_aac)
        self.timeline = Timeline(
            name,
            1.0 / self.fps,
            options.min_gap_s,
            start_time,
            byte_positions=container.format.name != "mpegts",
            decoding=self.decode_video,
            every_frame=self.decode_video and self.skip == "none",
        )
        self.bases: dict[int, float | None] = {}
        self.video_base = self._base(vs)  # read once: every video packet needs it
        self.audio_base = self._base(self.audio) if self.audio is not None else None
        self.counts = {"decoded": 0, "delivered": 0, "audio": 0, "errors": 0, "silent": 0}
        # Gaps go to video analysers before the first frame after them, and to audio-only
        # analysers before the first audio chunk after them.
        self.video_takers = [a for a in analysers if a.needs.video]
        self.audio_only = [a for a in analysers if not a.needs.video]
        # each pending gap with its number in the order the timeline found them (`_Held`)
        self.pending: dict[str, list[tuple[int, Gap]]] = {"video": [], "audio": []}
        picture = max(1, cc.width * cc.height * 3 // 2)  # a decoded YUV 4:2:0 picture
        self.held = _Held(max(1, min(options.hold_frames, _HOLD_BYTES // picture)))
        # audio chunks wait with the held frames during the demux loop (`_Held`)
        self.hold_audio = not self.audio_only

    def run(self) -> None:
        demux_error: str | None = None
        try:
            # Every stream is demuxed (so byte positions are contiguous); audio is decoded
            # only when an analyser wants it.
            video, other, vs = self._video, self._other, self.vs  # bound once: per packet
            for packet in self.container.demux():
                if packet.stream is vs:
                    video(packet)
                else:
                    other(packet)
        except (av.error.FFmpegError, OSError) as err:
            demux_error = str(err)
        self.hold_audio = False
        self._hand_over()
        self.timeline.finish(self.declared, demux_error=demux_error)
        self._gaps_before("video", None)
        self._gaps_before("audio", None)
        self._send_audio()

    def _base(self, stream: Any) -> float | None:
        """The stream's time base as a float, read once (PyAV builds a Fraction per access;
        packets and the frames decoded from them share their stream's time base)."""
        base = self.bases.get(stream.index, 0.0)
        if base == 0.0:
            tb = stream.time_base
            base = self.bases[stream.index] = None if tb is None else float(tb)
        return base

    def _seconds(self, value: int | None, time_base: Any) -> float | None:
        t = _seconds(value, time_base)
        return None if t is None else round(t - (self.origin or 0.0), 6)

    def _gaps_before(self, channel: str, t: float | None, known: int | None = None) -> None:
        """Tell the `channel`'s analysers the gaps that start before `t` (every one: None),
        among the first `known` the timeline found (`Timeline.found` when a held frame was
        decoded; None: all found so far)."""
        if not self.pending[channel] and not self.timeline.has_ready:
            return
        for numbered in self.timeline.pop_ready_numbered():
            self.pending["video"].append(numbered)
            self.pending["audio"].append(numbered)
        queue = self.pending[channel]
        due = [
            (n, g)
            for n, g in queue
            if (t is None or g.start_s < t) and (known is None or n < known)
        ]
        if not due:
            return
        self.pending[channel] = [ng for ng in queue if ng not in due]
        if channel == "audio" and self.audio_only:
            self._hand_over()  # the video frames decoded before go first
            self._send_audio()  # the audio before the gap goes first
        for _, gap in due:
            for a in self.video_takers if channel == "video" else self.audio_only:
                a.on_gap(gap)

    def _hand_over(self) -> None:
        """Hand the held frames to their analysers, each after the gaps it would have been
        told of had it been handed over when it was decoded, and the held audio chunks
        among them to the analysers that listen."""
        for item, takers, known in self.held.take():
            if takers is None:
                for a in self.schedule.audio:
                    a.on_audio(item)
                continue
            self._gaps_before("video", item.pts_s, known)
            for a in takers:
                a.update(item)

    def _other(self, packet: Any) -> None:
        if not self.timeline.packet_bytes(packet.pos, packet.size):  # beyond skipped bytes
            t_pkt = self._seconds(packet.pts, self._base(packet.stream))  # only then needed
            self.timeline.any_packet_bytes(packet.pos, packet.size, t_pkt)
        if not self.want_audio or packet.stream is not self.audio:
            return
        base, origin = self.audio_base, self.origin or 0.0
        silence = self.silence
        if silence.enabled and silence.skips(packet):  # digital silence: zeros, not decoded
            self.counts["silent"] += 1
            if base is not None:
                rate = silence.shape[2]
                self._audio_frame(round(packet.pts * base - origin, 6), rate, silence.zeros)
            return
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            self.counts["errors"] += 1
            silence.broken()
            return
        resampler = self.resampler
        parts = [  # a frame without a time is dropped (before the resampler sees it)
            None if af.pts is None or base is None else _mono_parts(resampler, af) for af in frames
        ]
        if silence.enabled:
            silence.decoded(packet, frames, parts)
        for af, mono in zip(frames, parts, strict=True):
            if mono is not None:  # the time inline, as `_seconds` gives it
                self._audio_frame(round(af.pts * base - origin, 6), af.sample_rate, mono)
        if self.audio_batch.full:
            self._send_audio()

    def _audio_frame(self, t: float, rate: int, parts: tuple[np.ndarray, ...]) -> None:
        """One decoded (or known silent) audio frame at `t` into the batch."""
        if self.pending["audio"] or self.timeline.has_ready:
            self._gaps_before("audio", t)
        chunk = self.audio_batch.add(t, rate, parts)
        if chunk is not None:  # the batch held before this frame: out first
            self._send_chunk(chunk)

    def _send_audio(self) -> None:
        """Hand the audio batch (if any) to the analysers that listen."""
        batch = self.audio_batch.take()
        if batch is not None:
            self._send_chunk(batch)

    def _send_chunk(self, batch: tuple[float, int, np.ndarray]) -> None:
        """Hand a chunk taken from the audio batch to the analysers that listen (or hold it
        among the held frames)."""
        t, rate, samples = batch
        chunk = AudioChunk(t, samples, rate, wall_time(self.start_time, t))
        self.counts["audio"] += 1
        if self.hold_audio:
            if self.held.hold_audio(chunk):
                self._hand_over()
            return
        self._hand_over()  # the video frames decoded before this audio go first
        for a in self.schedule.audio:
            a.on_audio(chunk)

    def _video(self, packet: Any) -> None:
        vs = self.vs
        if self.origin is None:
            first = packet.pts if packet.pts is not None else packet.dts
            self.origin = _seconds(first, vs.time_base)
        # `_seconds`, inline: this runs for every packet and frame
        base, origin = self.video_base, self.origin or 0.0
        pts, dts = packet.pts, packet.dts
        if base is None:
            t_pkt = t_dts = None
        else:  # one `round` where dts = pts (every packet of a stream without B-frames)
            t_pkt = None if pts is None else round(pts * base - origin, 6)
            t_dts = t_pkt if dts == pts else None if dts is None else round(dts * base - origin, 6)
        if t_pkt is not None or t_dts is not None:
            self.timeline.packet(
                t_pkt, t_dts, pos=packet.pos, size=packet.size, corrupt=packet.is_corrupt
            )
        if not self.decode_video:
            return
        try:
            frames = packet.decode()
        except av.error.FFmpegError as err:
            self.counts["errors"] += 1
            if t_pkt is not None:
                self.timeline.decode_failed(t_pkt, str(err).split(";")[0])
            return
        timeline, schedule, fps = self.timeline, self.schedule, self.fps
        timeline.decode_succeeded()
        self.counts["decoded"] += len(frames)
        pkt_pts = pts
        for vf in frames:
            pts = vf.pts
            if pts is None or base is None:
                continue
            # a frame mostly comes out of its own packet (no B-frames): its time is known
            t = t_pkt if pts == pkt_pts else round(pts * base - origin, 6)
            timeline.frame(t)
            if t < schedule.next_due:
                continue  # a frame no analyser samples costs no more than this
            index = round(t * fps)
            takers = schedule.takers(index, t)
            if not takers:
                continue
            wall = wall_time(self.start_time, t)
            frame = Frame.from_av(
                vf, index=index, pts_s=t, wall=wall, source_scale=self.options.scale
            )
            self.counts["delivered"] += 1
            if self.held.hold(frame, takers, timeline.found):
                self._hand_over()


def _unreadable_run(
    info: StreamInfo, gap: Gap, analysers: Sequence[Analyser], began: float
) -> VideoRun:
    for a in analysers:
        a.start(info)
        a.on_gap(gap)
    return VideoRun(
        info=info,
        gaps=(gap,),
        results=tuple(a.result() for a in analysers),
        frames_decoded=0,
        frames_delivered=0,
        audio_chunks=0,
        decode_errors=0,
        silent_skipped=0,
        last_s=None,
        skip="none",
        elapsed_s=time.perf_counter() - began,
    )
