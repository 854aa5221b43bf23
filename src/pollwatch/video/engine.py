"""The video engine: one pass over a recording, frames and audio handed to every analyser.

`analyse_video(path, analysers)` demuxes the video and (when an analyser wants it) the audio
stream in one loop, decodes each video frame once, samples frames per analyser (`Needs.fps`,
`EngineOptions.step`/`fps`) and converts them only when an analyser asks (`Frame.gray(scale)`
is computed once and shared). Damaged, truncated or gapped files never raise: the gaps are
told to the analysers and returned, and everything decoded before and after them is analysed.
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
    `min_gap_s`: shortest timestamp jump reported as a gap.
    """

    step: int = 1
    fps: float | None = None
    scale: float = 1.0
    skip: SkipMode = "auto"
    threads: int = 1
    thread_type: Literal["SLICE", "FRAME", "AUTO"] = "SLICE"
    min_gap_s: float = 0.25

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

    @property
    def max_fps(self) -> float | None:
        if not self.video or any(r is None for r in self.rates):
            return None
        return max(r for r in self.rates if r is not None)

    def takers(self, index: int, pts_s: float) -> list[Analyser]:
        if index % self.step:
            return []
        out = []
        for i, rate in enumerate(self.rates):
            if rate is None:
                out.append(self.video[i])
                continue
            slot = math.floor(pts_s * rate + 1e-6)
            if slot > self.slots[i]:
                self.slots[i] = slot
                out.append(self.video[i])
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
    """`value` × `time_base` in seconds; float arithmetic (Fractions are slow per packet)."""
    if value is None or time_base is None:
        return None
    return value * time_base.numerator / time_base.denominator


def _mono(resampler: av.AudioResampler, frame: av.AudioFrame) -> np.ndarray:
    parts = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    out = out.astype(np.float32, copy=False)
    out.flags.writeable = False
    return out


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
    cannot be read is reported as
    an "unreadable" gap.
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
        vs = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        # the nominal rate (r_frame_rate): the average rate shrinks when frames are missing
        fps = float(vs.guessed_rate or vs.base_rate or vs.average_rate or 25)
        origin = _seconds(vs.start_time, vs.time_base)
        declared = _seconds(vs.duration, vs.time_base)
        if declared is None and container.duration:
            declared = container.duration / 1e6 - (origin or 0.0)
        info = StreamInfo(
            path=name,
            width=vs.codec_context.width,
            height=vs.codec_context.height,
            fps=fps,
            duration_s=declared,
            has_audio=audio is not None,
            sample_rate=audio.codec_context.sample_rate if audio is not None else None,
            start_time=start_time,
            video_codec=vs.codec_context.name,
            container=container.format.name,
        )
        skip = _choose_skip(options, schedule, fps)
        cc = vs.codec_context
        cc.thread_count = options.threads
        cc.thread_type = options.thread_type
        cc.skip_frame = _SKIP_FRAME[skip]
        for a in analysers:
            a.start(info)

        want_audio = audio is not None and bool(schedule.audio)
        decode_video = bool(schedule.video)
        resampler = av.AudioResampler(format="flt", layout="mono") if want_audio else None
        timeline = Timeline(
            name,
            1.0 / fps,
            options.min_gap_s,
            start_time,
            byte_positions=container.format.name != "mpegts",
            decoding=decode_video,
            every_frame=decode_video and skip == "none",
        )
        counts = {"decoded": 0, "delivered": 0, "audio": 0, "errors": 0}
        demux_error: str | None = None

        def deliver_gaps(before_s: float | None) -> None:
            for gap in timeline.pop_ready(before_s):
                for a in analysers:
                    a.on_gap(gap)

        try:
            # Every stream is demuxed (so byte positions are contiguous); audio is decoded
            # only when an analyser wants it.
            for packet in container.demux():
                if packet.stream is not vs:
                    t_other = _seconds(packet.pts, packet.time_base)
                    if t_other is not None:
                        t_other -= origin or 0.0
                    timeline.any_packet_bytes(packet.pos, packet.size, t_other)
                    if not want_audio or packet.stream is not audio:
                        continue
                    try:
                        frames = packet.decode()
                    except av.error.FFmpegError:
                        counts["errors"] += 1
                        continue
                    for af in frames:
                        t = _seconds(af.pts, af.time_base)
                        if t is None:
                            continue
                        t = round(t - (origin or 0.0), 6)
                        chunk = AudioChunk(
                            t, _mono(resampler, af), af.sample_rate, wall_time(start_time, t)
                        )
                        counts["audio"] += 1
                        for a in schedule.audio:
                            a.on_audio(chunk)
                    continue
                t_pkt = _seconds(packet.pts, vs.time_base)
                t_dts = _seconds(packet.dts, vs.time_base)
                if origin is None and (t_pkt is not None or t_dts is not None):
                    origin = t_pkt if t_pkt is not None else t_dts
                if t_pkt is not None:
                    t_pkt = round(t_pkt - (origin or 0.0), 6)
                if t_dts is not None:
                    t_dts = round(t_dts - (origin or 0.0), 6)
                if t_pkt is not None or t_dts is not None:
                    timeline.packet(
                        t_pkt, t_dts, pos=packet.pos, size=packet.size, corrupt=packet.is_corrupt
                    )
                if not decode_video:
                    continue
                try:
                    frames = packet.decode()
                except av.error.FFmpegError as err:
                    counts["errors"] += 1
                    if t_pkt is not None:
                        timeline.decode_failed(t_pkt, str(err).split(";")[0])
                    continue
                timeline.decode_succeeded()
                for vf in frames:
                    counts["decoded"] += 1
                    t = _seconds(vf.pts, vf.time_base or vs.time_base)
                    if t is None:
                        continue
                    t = round(t - (origin or 0.0), 6)
                    timeline.frame(t)
                    index = round(t * fps)
                    takers = schedule.takers(index, t)
                    if not takers:
                        continue
                    deliver_gaps(t)
                    frame = Frame.from_av(
                        vf,
                        index=index,
                        pts_s=t,
                        wall=wall_time(start_time, t),
                        source_scale=options.scale,
                    )
                    counts["delivered"] += 1
                    for a in takers:
                        a.update(frame)
        except (av.error.FFmpegError, OSError) as err:
            demux_error = str(err)
        timeline.finish(declared, demux_error=demux_error)
        deliver_gaps(None)
        return VideoRun(
            info=info,
            gaps=tuple(timeline.gaps),
            results=tuple(a.result() for a in analysers),
            frames_decoded=counts["decoded"],
            frames_delivered=counts["delivered"],
            audio_chunks=counts["audio"],
            decode_errors=counts["errors"],
            last_s=timeline.last_s,
            skip=skip,
            elapsed_s=time.perf_counter() - began,
        )


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
        last_s=None,
        skip="none",
        elapsed_s=time.perf_counter() - began,
    )
