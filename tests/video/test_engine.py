"""The engine: one decode pass, sampling, wall clock, gaps, damaged files, audio."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from videoclips import ClipSpec, corrupt, truncate

from pollwatch.errors import InputError
from pollwatch.video import (
    AudioChunk,
    EngineOptions,
    Frame,
    Gap,
    Needs,
    StreamInfo,
    analyse_video,
)

SMALL = (320, 180)
START = datetime(2024, 2, 7, 8, 0, tzinfo=UTC)


class Recorder:
    """An analyser that remembers what it was handed."""

    def __init__(self, *, fps: float | None = None, video: bool = True, audio: bool = False):
        self.needs = Needs(video=video, audio=audio, fps=fps)
        self.reset()

    def reset(self) -> None:
        self.info: StreamInfo | None = None
        self.frames: list[Frame] = []
        self.chunks: list[AudioChunk] = []
        self.events: list[tuple[str, float]] = []

    def start(self, info: StreamInfo) -> None:
        self.info = info

    def update(self, frame: Frame) -> None:
        self.frames.append(frame)
        self.events.append(("frame", frame.pts_s))

    def on_audio(self, chunk: AudioChunk) -> None:
        self.chunks.append(chunk)
        self.events.append(("audio", chunk.t_s))

    def on_gap(self, gap: Gap) -> None:
        self.events.append(("gap", gap.start_s))

    def result(self) -> int:
        return len(self.frames)


def test_one_decode_shared_by_every_analyser(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=2.0, size=SMALL))
    a, b, slow = Recorder(), Recorder(), Recorder(fps=5)
    run = analyse_video(path, [a, b, slow], options=EngineOptions(skip="none"))
    assert run.frames_decoded == 50 and run.frames_delivered == 50
    assert run.results == (50, 50, 10)
    assert all(x is y for x, y in zip(a.frames, b.frames, strict=True))
    assert {f.index for f in slow.frames} <= {f.index for f in a.frames}
    # a conversion asked for by one analyser is computed once and shared
    g1 = a.frames[3].gray(0.5)
    assert b.frames[3].gray(0.5) is g1 and g1.shape == (90, 160)
    assert not g1.flags.writeable and not a.frames[3].image.flags.writeable


@pytest.mark.parametrize(
    ("options", "needs_fps", "expected_indices"),
    [
        (EngineOptions(), None, list(range(50))),
        (EngineOptions(step=10), None, [0, 10, 20, 30, 40]),
        (EngineOptions(fps=2), None, [0, 13, 25, 38]),
        (EngineOptions(), 5, list(range(0, 50, 5))),
        (EngineOptions(fps=10), 2.5, [0, 10, 20, 30, 40]),
        (EngineOptions(step=2, fps=5), None, [0, 6, 10, 16, 20, 26, 30, 36, 40, 46]),
    ],
)
def test_sampling(make_clip, options: EngineOptions, needs_fps, expected_indices) -> None:
    path = make_clip(ClipSpec(seconds=2.0, size=SMALL))
    rec = Recorder(fps=needs_fps)
    analyse_video(path, [rec], options=options)
    assert [f.index for f in rec.frames] == expected_indices


def test_frames_carry_pts_and_wall_clock(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=2.0, size=SMALL))
    rec = Recorder(fps=1)
    run = analyse_video(path, [rec], start_time=START)
    assert [f.pts_s for f in rec.frames] == [0.0, 1.0]
    assert rec.frames[1].wall == START + timedelta(seconds=1)
    assert run.info.start_time == START and run.info.fps == 25


def test_engine_downscale(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=1.0, size=SMALL))
    rec = Recorder(fps=1)
    analyse_video(path, [rec], options=EngineOptions(scale=0.5))
    frame = rec.frames[0]
    assert (frame.width, frame.height, frame.source_scale) == (160, 90, 0.5)
    assert frame.image.shape == (90, 160, 3) and frame.gray().shape == (90, 160)


def test_gray_from_luma_matches_color_conversion(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=1.0, size=SMALL, figures=()))
    rec = Recorder(fps=1)
    analyse_video(path, [rec])
    frame = rec.frames[0]
    direct = frame.gray(0.5).astype(int)
    via_bgr = Frame.from_image(np.array(frame.image)).gray(0.5).astype(int)
    assert np.abs(direct - via_bgr).mean() < 2.0


def test_gray_is_the_same_after_a_region_reader(make_clip) -> None:
    """`gray` reads the luma plane a region reader cached (`_planes`): the same pictures."""
    path = make_clip(ClipSpec(seconds=1.0, size=SMALL))
    rec = Recorder(fps=2)
    analyse_video(path, [rec])
    for frame in rec.frames:
        for scale in (1.0, 0.5, 0.3):
            plain = Frame.from_av(frame._raw, index=0, pts_s=0.0, wall=None)
            after = Frame.from_av(frame._raw, index=0, pts_s=0.0, wall=None)
            after.region_planes(0, 0, 16, 16)
            assert ("planes", 0.0) in after._cache
            assert np.array_equal(plain.gray(scale), after.gray(scale))


@pytest.mark.parametrize(
    ("frames", "chunk_s", "chunks"),
    [
        # (start sample, samples) at 16 kHz; the chunks handed out as (start sample, samples)
        ([(0, 1024), (1024, 1024), (2048, 1024)], 1.0, []),  # contiguous, not full
        ([(0, 1024), (1024, 1024), (2048, 1024)], 0.1, [(0, 2048)]),  # full at 1,600
        ([(0, 1024), (1024, 1024), (2048, 1024)], 0.0, [(0, 1024), (1024, 1024)]),
        ([(0, 1024), (1056, 1024)], 1.0, []),  # 32 samples (2 ms) off: still contiguous
        ([(0, 1024), (1057, 1024)], 1.0, [(0, 1024)]),  # further: a new chunk
        ([(0, 1024), (5000, 1024), (6024, 1024)], 1.0, [(0, 1024)]),
    ],
)
def test_audio_batch_hands_out_the_chunk_before_a_frame_that_does_not_join(
    frames: list, chunk_s: float, chunks: list
) -> None:
    from pollwatch.video.engine import _AudioBatch

    batch, rate, out = _AudioBatch(chunk_s), 16000, []
    for start, n in frames:
        parts = (np.full(n, start, np.float32),)
        chunk = batch.add(start / rate, rate, parts)
        if chunk is not None:
            out.append((round(chunk[0] * rate), chunk[2].size))
            assert chunk[1] == rate and chunk[2][0] == chunk[0] * rate
    assert out == chunks
    held = batch.take()
    assert held is not None and held[2].size == sum(n for _, n in frames) - sum(n for _, n in out)


def test_outage_from_pts_jump(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=4.0, size=SMALL, drop=((1.0, 2.2),)))
    rec = Recorder(fps=5)
    run = analyse_video(path, [rec], start_time=START)
    assert len(run.gaps) == 1
    gap = run.gaps[0]
    assert gap.kind == "outage"
    assert gap.start_s == pytest.approx(1.0, abs=0.05) and gap.end_s == pytest.approx(2.2, abs=0.05)
    assert gap.start_wall == START + timedelta(seconds=gap.start_s)
    assert "1.00 s" in gap.message and str(path) in gap.message
    # told between the last frame before and the first frame after
    kinds = [k for k, t in rec.events]
    i = kinds.index("gap")
    assert rec.events[i - 1][1] < 1.0 and rec.events[i + 1][1] >= 2.2
    assert not any(1.0 <= f.pts_s < 2.2 for f in rec.frames)


def test_audio_only_analyser_still_gets_gaps_without_video_decoding(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=4.0, size=SMALL, drop=((1.0, 2.2),)))
    rec = Recorder(video=False, audio=True)
    run = analyse_video(path, [rec])
    assert run.frames_decoded == 0 and rec.frames == []
    assert [g.kind for g in run.gaps] == ["outage"]
    kinds = [k for k, _ in rec.events]
    i = kinds.index("gap")  # told once the video resumes: before the chunks after that
    assert rec.events[i][1] == pytest.approx(1.0, abs=0.05)
    assert 0 < i < len(kinds) - 1 and rec.events[i + 1][1] < 3.0


@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_truncated_file_keeps_what_was_decoded(make_clip, tmp_path: Path, container: str) -> None:
    src = make_clip(ClipSpec(seconds=4.0, size=SMALL, container=container))
    path = truncate(src, tmp_path / f"cut.{container}", 0.5)
    rec = Recorder()
    run = analyse_video(path, [rec])
    assert 20 < len(rec.frames) < 90
    last = rec.frames[-1].pts_s
    assert [g.kind for g in run.gaps] == ["truncated"]
    gap = run.gaps[0]
    assert gap.start_s == pytest.approx(last + 0.04, abs=0.1)
    assert gap.end_s == pytest.approx(4.0, abs=0.1)
    assert "cut." in gap.message and f"at {gap.start_s:.2f} s" in gap.message


@pytest.mark.parametrize(
    ("container", "nbytes"),
    [("mp4", 30000), ("mkv", 3000), ("ts", 20000)],
)
def test_corrupt_middle_reports_damage_and_goes_on(
    make_clip, tmp_path: Path, container: str, nbytes: int
) -> None:
    src = make_clip(ClipSpec(seconds=8.0, size=SMALL, container=container, noise=6.0))
    path = corrupt(src, tmp_path / f"bad.{container}", 0.5, nbytes)
    rec = Recorder()
    run = analyse_video(path, [rec])
    damaged = [g for g in run.gaps if g.kind == "damaged"]
    assert damaged, run.gaps
    assert all(1.0 < g.start_s < 7.0 for g in damaged)
    assert rec.frames[-1].pts_s > 7.5  # decoding resumed after the damage
    assert len(rec.frames) < 200
    assert run.problems[0].file == str(path) and run.problems[0].time_s == damaged[0].start_s


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100, None])
def test_unreadable_file_is_a_gap_not_a_crash(make_clip, tmp_path: Path, content) -> None:
    path = tmp_path / "broken.mp4"
    if content is None:  # an mp4 cut before its index (moov at the end)
        src = make_clip(ClipSpec(seconds=2.0, size=SMALL, faststart=False))
        content = src.read_bytes()[: len(src.read_bytes()) // 2]
    path.write_bytes(content)
    rec = Recorder()
    run = analyse_video(path, [rec])
    assert [g.kind for g in run.gaps] == ["unreadable"] and run.gaps[0].end_s is None
    assert "broken.mp4" in run.gaps[0].message and rec.events == [("gap", 0.0)]
    assert rec.info is not None and run.results == (0,)


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        analyse_video(tmp_path / "nope.mp4", [Recorder()])


@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_audio_chunks_delivered_in_the_same_pass(make_clip, container: str) -> None:
    path = make_clip(ClipSpec(seconds=2.0, size=SMALL, container=container))
    video, sound = Recorder(), Recorder(video=False, audio=True)
    run = analyse_video(path, [video, sound], start_time=START)
    assert sound.info is not None and sound.info.has_audio and sound.info.sample_rate == 16000
    assert len(video.frames) == 50 and run.audio_chunks == len(sound.chunks) > 0
    samples = np.concatenate([c.samples for c in sound.chunks])
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert samples.size == pytest.approx(2.0 * 16000, rel=0.1)
    times = [c.t_s for c in sound.chunks]
    assert times == sorted(times) and abs(times[0]) < 0.1
    assert sound.chunks[1].wall == START + timedelta(seconds=sound.chunks[1].t_s)
    spectrum = np.abs(np.fft.rfft(samples[4000:20000]))
    assert np.fft.rfftfreq(16000, 1 / 16000)[spectrum.argmax()] == pytest.approx(440, abs=2)
    assert video.chunks == []  # only analysers that need audio get it


@pytest.mark.parametrize(("chunk_s", "most_s"), [(0.0, 0.07), (0.5, 0.57), (1.0, 1.07)])
def test_audio_frames_joined_into_chunks(make_clip, chunk_s: float, most_s: float) -> None:
    """Chunks of about `audio_chunk_s` (0: every decoded frame alone) carry the same samples
    at the same times as frame-by-frame delivery."""
    path = make_clip(ClipSpec(seconds=2.0, size=SMALL))
    alone, joined = Recorder(video=False, audio=True), Recorder(video=False, audio=True)
    analyse_video(path, [alone], options=EngineOptions(audio_chunk_s=0.0))
    run = analyse_video(path, [joined], options=EngineOptions(audio_chunk_s=chunk_s))
    assert run.audio_chunks == len(joined.chunks) > 0
    assert max(c.duration_s for c in joined.chunks) <= most_s
    np.testing.assert_array_equal(
        np.concatenate([c.samples for c in joined.chunks]),
        np.concatenate([c.samples for c in alone.chunks]),
    )
    starts = {round(c.t_s, 6) for c in alone.chunks}
    assert {round(c.t_s, 6) for c in joined.chunks} <= starts
    assert all(not c.samples.flags.writeable for c in joined.chunks)


def test_missing_audio_stream_is_told(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=1.0, size=SMALL, audio=False))
    sound = Recorder(audio=True)
    run = analyse_video(path, [sound])
    assert sound.info is not None and not sound.info.has_audio and sound.info.sample_rate is None
    assert sound.chunks == [] and run.audio_chunks == 0 and len(sound.frames) == 25


@pytest.mark.parametrize(
    ("skip", "fps", "decoded_fewer"),
    [("none", 5, False), ("nonref", 5, True), ("auto", 5, True), ("auto", None, False)],
)
def test_frame_skipping_with_b_frames(make_clip, skip: str, fps, decoded_fewer: bool) -> None:
    path = make_clip(ClipSpec(seconds=2.0, size=SMALL, bframes=3))
    rec = Recorder(fps=fps)
    run = analyse_video(path, [rec], options=EngineOptions(skip=skip))  # type: ignore[arg-type]
    assert (run.frames_decoded < 50) is decoded_fewer
    expected = 10 if fps else 50
    assert len(rec.frames) == expected
    times = [f.pts_s for f in rec.frames]
    assert times == sorted(times)


def test_nonkey_decodes_keyframes_only(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=2.0, size=SMALL, gop=5))
    rec = Recorder(fps=5)
    run = analyse_video(path, [rec], options=EngineOptions(skip="nonkey"))
    assert run.frames_decoded == 10 and [f.index for f in rec.frames] == list(range(0, 50, 5))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"step": 0}, "step"),
        ({"fps": 0}, "fps"),
        ({"scale": 1.5}, "scale"),
        ({"skip": "some"}, "skip"),
        ({"threads": -1}, "threads"),
        ({"thread_type": "FAST"}, "thread_type"),
        ({"min_gap_s": 0}, "min_gap_s"),
        ({"audio_chunk_s": -1}, "audio_chunk_s"),
        ({"hold_frames": 0}, "hold_frames"),
        ({"hold_frames": 257}, "hold_frames"),
    ],
)
def test_engine_options_checked(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        EngineOptions(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"video": False, "audio": False}, "video or audio"),
        ({"fps": -1}, "fps"),
        ({"scale": 0}, "scale"),
    ],
)
def test_needs_checked(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Needs(**kwargs)


def test_not_an_analyser_is_refused(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=1.0, size=SMALL))
    with pytest.raises(TypeError, match="Analyser shape"):
        analyse_video(path, [object()])  # type: ignore[list-item]


def test_frame_from_image_checks_and_scales() -> None:
    img = np.zeros((40, 60, 3), np.uint8)
    img[:, 30:] = 200
    frame = Frame.from_image(img, pts_s=1.5)
    assert frame.bgr(0.5).shape == (20, 30, 3) and frame.gray().shape == (40, 60)
    assert frame.gray()[0, 59] == 200
    with pytest.raises(ValueError, match="scale"):
        frame.gray(0)
    with pytest.raises(ValueError, match="uint8"):
        Frame.from_image(np.zeros((4, 4), np.float32))


def test_step_gets_exact_frames_even_with_b_frames(make_clip) -> None:
    path = make_clip(ClipSpec(seconds=2.0, size=SMALL, bframes=3))
    rec = Recorder()
    run = analyse_video(path, [rec], options=EngineOptions(step=5))
    assert run.skip == "none" and [f.index for f in rec.frames] == list(range(0, 50, 5))


@pytest.mark.parametrize(
    ("rates", "frame_s", "jitter"),
    [
        ((10.0,), 0.04, 0.0),
        ((10.0, 2.0), 0.04, 0.0),
        ((10.0, 2.0, None), 0.04, 0.0),
        ((12.5, 0.5), 1 / 30, 0.004),
        ((3.0,), 1 / 29.97, 0.002),
        ((25.0,), 0.04, 0.0),
    ],
)
def test_schedule_takes_the_first_frame_of_every_slot(rates, frame_s: float, jitter: float) -> None:
    """The schedule's shortcut (no analyser's slot due yet) takes exactly the frames the plain
    rule takes: per analyser, the first frame whose floor(t × fps) is a new slot."""
    from pollwatch.video.engine import _Schedule

    analysers = [Recorder(fps=r) for r in rates]
    schedule = _Schedule(analysers, EngineOptions())
    rng = np.random.default_rng(5)
    last = [-1] * len(rates)
    for k in range(900):
        t = round(k * frame_s + float(rng.uniform(-jitter, jitter)), 6)
        expected = []
        for i, r in enumerate(rates):
            slot = np.inf if r is None else np.floor(t * r + 1e-6)
            if r is None or slot > last[i]:
                last[i] = slot if r is not None else last[i]
                expected.append(analysers[i])
        assert schedule.takers(round(t / frame_s), t) == expected, t


@pytest.mark.parametrize(
    ("mute", "skipped"),
    [
        ((), False),  # a tone all along: every packet decoded
        (((0.0, 9.0),), True),  # digital silence all along
        (((0.6, 2.4),), True),  # silence between sound: the sound after it decodes as before
        (((0.5, 1.0), (2.0, 3.0)), True),  # two silent stretches
    ],
)
def test_silent_audio_packets_skipped_bit_for_bit(make_clip, mute, skipped: bool) -> None:
    """AAC packets of digital silence after silence are not decoded (`skip_silence`); the
    chunks handed over are the same, bit for bit, as decoding every packet gives."""
    path = make_clip(ClipSpec(seconds=3.0, size=SMALL, mute=mute))
    off, on = Recorder(video=False, audio=True), Recorder(video=False, audio=True)
    run_off = analyse_video(path, [off], options=EngineOptions(skip_silence=False))
    run_on = analyse_video(path, [on], options=EngineOptions(skip_silence=True))
    assert run_off.silent_skipped == 0 and (run_on.silent_skipped > 0) is skipped
    assert [(c.t_s, c.sample_rate) for c in on.chunks] == [
        (c.t_s, c.sample_rate) for c in off.chunks
    ]
    both = zip(on.chunks, off.chunks, strict=True)
    assert all(a.samples.tobytes() == b.samples.tobytes() for a, b in both)
    samples = np.concatenate([c.samples for c in on.chunks])
    assert bool(np.count_nonzero(samples) == 0) is (mute == ((0.0, 9.0),))


class _Packet:
    """What `_Silence` reads of a packet."""

    def __init__(self, data: bytes, pts: int) -> None:
        self.data, self.pts, self.size = data, pts, len(data)

    def __bytes__(self) -> bytes:
        return self.data

    def iter_sidedata(self) -> Iterator[object]:
        return iter(())


class _AudioFrame:
    def __init__(self, pts: int) -> None:
        self.pts, self.samples, self.sample_rate = pts, 4, 16000
        self.format = type("F", (), {"name": "fltp"})()
        self.layout = type("L", (), {"nb_channels": 1})()


S, N = b"\x01\x02", b"\x07\x08\x09"  # a silent packet's bytes; another packet's


@pytest.mark.parametrize(
    ("decoded", "skips", "enabled"),
    [
        # three silent packets learn the signature (the first follows no silence)
        ([(S, 0), (S, 0), (S, 0)], [True, True], True),
        ([(S, 0), (S, 0)], [False, False], True),  # not learnt yet
        ([(S, 0), (S, 0), (N, 0), (S, 0)], [False], True),  # other bytes restart the learning
        ([(S, 0), (S, 0), (S, 0), (N, 1)], [False, False], True),  # after sound: decode again
        ([(S, 0), (S, 0), (S, 0), (N, 1), (S, 0)], [True], True),  # silence again: skip
        # the signature after silence decodes to sound (a checked packet): skipping stops
        ([(S, 0), (S, 0), (S, 0), "check", (S, 1)], [False, False], False),
    ],
)
def test_silence_signature_learnt_and_checked(decoded, skips, enabled: bool) -> None:
    from pollwatch.video import engine

    silence = engine._Silence(True)
    pts = 0
    for step in decoded:
        if step == "check":  # skip until a packet is due to be decoded and checked
            while silence.skips(_Packet(S, pts)):
                pts += 4
            continue
        data, level = step
        parts = [(np.full(4, np.float32(0.5 * level), np.float32),)]
        silence.decoded(_Packet(data, pts), [_AudioFrame(pts)], parts)
        pts += 4
    got = []
    for _ in skips:
        got.append(silence.enabled and silence.skips(_Packet(S, pts)))
        pts += 4
    assert got == skips and silence.enabled is enabled


class _Logged(Recorder):
    """A recorder that also writes what it is handed into a log shared by all analysers."""

    def __init__(self, name: str, log: list, **kwargs) -> None:
        self.name, self.log = name, log
        super().__init__(**kwargs)

    def update(self, frame: Frame) -> None:
        super().update(frame)
        # the pixels too: a held frame is converted later, after the decoder went on
        pixels = hashlib.blake2b(frame.image.tobytes(), digest_size=8).hexdigest()
        self.log.append((self.name, "frame", frame.index, frame.pts_s, frame.wall, pixels))

    def on_audio(self, chunk: AudioChunk) -> None:
        super().on_audio(chunk)
        self.log.append((self.name, "audio", chunk.t_s, chunk.samples.tobytes()))

    def on_gap(self, gap: Gap) -> None:
        super().on_gap(gap)
        self.log.append((self.name, "gap", gap))


def _handed_over(path: Path, hold: int, audio_alone: bool = True) -> tuple[list, tuple]:
    log: list = []
    analysers = [
        _Logged("video 10 fps", log, fps=10),
        _Logged("video 2 fps + audio", log, fps=2, audio=True),
        _Logged("audio", log, video=False, audio=True),
        _Logged("every frame", log),
    ]
    if not audio_alone:  # as the camera audit: the audio chunks wait with the held frames
        analysers[2] = _Logged("video 1 fps + audio", log, fps=1, audio=True)
    run = analyse_video(path, analysers, start_time=START, options=EngineOptions(hold_frames=hold))
    return log, (run.gaps, run.frames_decoded, run.frames_delivered, run.audio_chunks)


@pytest.mark.parametrize(
    ("spec", "damage"),
    [
        (ClipSpec(seconds=3.0, size=SMALL), None),
        (ClipSpec(seconds=4.0, size=SMALL, drop=((1.0, 2.2),)), None),
        (ClipSpec(seconds=3.0, size=SMALL, mute=((0.5, 2.0),)), None),
        (ClipSpec(seconds=4.0, size=SMALL), "truncate"),
        (ClipSpec(seconds=8.0, size=SMALL, noise=6.0), "corrupt"),
        (ClipSpec(seconds=8.0, size=SMALL, container="mkv", noise=6.0), "corrupt"),
        (ClipSpec(seconds=8.0, size=SMALL, container="ts", noise=6.0), "corrupt"),
    ],
)
def test_held_frames_hand_over_the_same_in_the_same_order(
    make_clip, tmp_path: Path, spec: ClipSpec, damage: str | None
) -> None:
    """`hold_frames`: every analyser gets the same frames, audio chunks and gaps, and all of
    them in the same order across analysers, as when each frame is handed over at once."""
    path = make_clip(spec)
    if damage == "truncate":
        path = truncate(path, tmp_path / f"cut.{spec.container}", 0.5)
    elif damage == "corrupt":
        nbytes = {"mp4": 30000, "mkv": 3000, "ts": 20000}[spec.container]
        path = corrupt(path, tmp_path / f"bad.{spec.container}", 0.5, nbytes)
    for audio_alone in (True, False):
        at_once, run_at_once = _handed_over(path, 1, audio_alone)
        assert any(e[1] == "frame" for e in at_once) and any(e[1] == "audio" for e in at_once)
        assert (damage is None and not spec.drop) is not any(e[1] == "gap" for e in at_once)
        for hold in (3, 16, 64, 256):
            log, run = _handed_over(path, hold, audio_alone)
            assert run == run_at_once
            assert log == at_once
