"""The audio audit on a real recording: espeak-ng speech in room noise, AAC in MP4, decoded."""

import itertools
from pathlib import Path

import audit_clips as clips
import numpy as np
import pytest

from pollwatch.audit.audio import (
    AudioAuditor,
    SpeechDetector,
    classify_windows,
    subframe_features,
    window_levels,
)

SR = 16000
SECONDS = 30.0


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    return clips.espeak_speech(Path(tmp_path_factory.mktemp("speech")), SR)


@pytest.fixture(scope="module")
def scene(speech):
    return clips.speech_scene(speech, SECONDS, SR)


def audit(chunks, seconds=SECONDS, frames=True, **kwargs):
    auditor = AudioAuditor(**kwargs)
    if frames:  # the video's frames give the recording's span
        for i in range(int(seconds * 5)):
            auditor.update(clips.frame_at(i / 5, np.zeros((4, 4), np.uint8)))
    for c in chunks:
        auditor.on_audio(c)
    return auditor.result()


def speech_windows(mask, t):
    return np.array([mask[int(a * SR) : int((a + 1) * SR)].mean() > 0.5 for a in t])


def test_espeak_is_installed():
    # Not a skip: CI installs espeak-ng with apt (.ci/run); without it this must fail loudly.
    assert clips.shutil.which(clips.ESPEAK), "espeak-ng missing: apt-get install espeak-ng"


@pytest.mark.parametrize(
    ("variant", "state", "level", "speech_share"),
    [
        ("speech", "ok", (-30, -15), (0.4, 0.8)),
        ("speech -45 dB", "quiet", (-75, -60), (0.4, 0.8)),
        ("room noise only", "ok", (-52, -47), (0.0, 0.0)),
        ("zeros", "muted", (-151, -149), (0.0, 0.0)),
    ],
)
def test_states_of_an_aac_round_trip(scene, variant, state, level, speech_share):
    x, mask = scene
    samples = {
        "speech": x,
        "speech -45 dB": x * 10 ** (-45 / 20),
        "room noise only": clips.room_noise(SECONDS, SR, -50.0),
        "zeros": np.zeros_like(x),
    }[variant]
    chunks, decoded = clips.decode_audio(clips.encode_aac_mp4(samples, SR, SECONDS), SR)
    if variant == "zeros":  # measured, not assumed: AAC of all-zero PCM decodes to exact zeros
        assert np.all(decoded == 0.0)
    r = audit(chunks)
    assert r.state == state
    assert r.shares[state] > 0.95
    assert level[0] <= r.level_dbfs <= level[1]
    assert speech_share[0] <= r.speech_share <= speech_share[1]
    if speech_share[1] > 0:  # speech found where it was spoken, level-independently
        truth = speech_windows(mask, r.t)
        assert np.mean(r.speech == truth) >= 0.8
        assert not np.any(r.speech & ~truth)


def test_no_audio_stream_is_absent():
    chunks, _ = clips.decode_audio(clips.encode_aac_mp4(None, SR, 10.0), SR)
    assert chunks == []
    r = audit(chunks, seconds=10.0)
    assert r.state == "absent"
    assert r.shares["absent"] == pytest.approx(1.0)
    assert r.ranges["absent"][0].start == 0.0


def test_audio_that_stops_half_way_is_absent_from_then_on(scene):
    x, _ = scene
    chunks, _ = clips.decode_audio(clips.encode_aac_mp4(x, SR, SECONDS), SR)
    first_half = [c for c in chunks if c.t_s < SECONDS / 2]
    r = audit(first_half)
    (absent,) = r.ranges["absent"]
    assert absent.start == pytest.approx(SECONDS / 2, abs=1.0)
    assert absent.end == pytest.approx(SECONDS, abs=0.5)
    assert r.state == "absent"  # half and half: the worse state is named
    assert r.shares["ok"] == pytest.approx(0.5, abs=0.05)


def test_muted_in_the_middle_is_a_timed_run(scene):
    x, _ = scene
    y = x.copy()
    y[int(10 * SR) : int(20 * SR)] = 0.0
    r = audit(clips.chunked(y, SR))
    (muted,) = r.ranges["muted"]
    assert muted.start == pytest.approx(10.0, abs=1.0)
    assert muted.end == pytest.approx(20.0, abs=1.0)
    assert r.state == "muted"  # 1/3 of the recording >= state_share 0.25


def test_result_does_not_consume_pending_samples(scene):
    x, _ = scene
    auditor = AudioAuditor()
    for c in clips.chunked(x[: int(5.5 * SR)], SR, size=700):
        auditor.on_audio(c)
    first = auditor.result()
    assert auditor.result().t.size == first.t.size == 6
    for c in clips.chunked(x[int(5.5 * SR) : int(8 * SR)], SR, size=700, t0=5.5):
        auditor.on_audio(c)
    assert auditor.result().t.size == 8
    auditor.reset()
    assert auditor.result().t.size == 0


@pytest.mark.parametrize(
    ("samples", "rms", "peak", "zeros"),
    [
        (np.zeros(100), -150.0, 0.0, 1.0),
        (np.full(100, 0.5), 20 * np.log10(0.5), 0.5, 0.0),
        (np.r_[np.zeros(50), np.ones(50)], 10 * np.log10(0.5), 1.0, 0.5),
    ],
)
def test_window_levels(samples, rms, peak, zeros):
    w = window_levels(samples)
    assert (w.rms_dbfs, w.peak, w.zero_share) == pytest.approx((rms, peak, zeros))


def test_classify_windows_table():
    rms = np.array([-150.0, -20.0, -20.0, -70.0, -110.0])
    zeros = np.array([1.0, 0.0, 0.995, 0.0, 0.0])
    states = classify_windows(rms, zeros, context_s=1.0)
    assert list(states) == ["muted", "ok", "muted", "quiet", "muted"]


def test_a_steady_tone_is_not_speech():
    t = np.arange(10 * SR) / SR
    tone = (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    r = audit(clips.chunked(tone, SR), seconds=10.0)
    assert r.speech_share == 0.0
    assert r.state == "ok"


def test_subframe_features_of_white_noise_are_flat():
    x = np.random.default_rng(0).standard_normal(SR).astype(np.float32)
    band_db, flatness = subframe_features(x, SR)
    assert band_db.size == SR // 512
    assert 0.45 < float(np.median(flatness)) < 0.65  # e^-γ ≈ 0.56 for a periodogram


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"window_s": 0.0}, "window_s"),
        ({"quiet_dbfs": -120.0}, "quiet_dbfs"),
        ({"quiet_dbfs": 3.0}, "quiet_dbfs"),
        ({"muted_zero_share": 0.2}, "muted_zero_share"),
        ({"context_s": 0.5}, "context_s"),
        ({"min_run_s": -1.0}, "min_run_s"),
        ({"batch_s": -1.0}, "batch_s"),
    ],
)
def test_auditor_checks_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        AudioAuditor(**kwargs)


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        (clips.chunk_at(0.0, np.zeros((2, 100), np.float32), SR), "mono"),
        (clips.chunk_at(0.0, np.zeros(100, np.float32), 0), "sample_rate"),
    ],
)
def test_bad_chunks_are_rejected(chunk, message):
    with pytest.raises(ValueError, match=message):
        AudioAuditor().on_audio(chunk)


def test_speech_detector_needs_features():
    assert SpeechDetector(frame_rate=31.25).feed(np.empty(0), np.empty(0)) is False


def test_speech_at_48_khz_is_found_too(tmp_path):
    """48 kHz audio is averaged down to 16 kHz for the speech features; levels stay exact."""
    rate = 48000
    x, mask = clips.speech_scene(clips.espeak_speech(tmp_path, rate), 20.0, rate)
    auditor = AudioAuditor()
    for c in clips.chunked(x, rate):
        auditor.on_audio(c)
    r = auditor.result()
    truth = np.array([mask[int(a * rate) : int((a + 1) * rate)].mean() > 0.5 for a in r.t])
    assert r.state == "ok"
    assert np.mean(r.speech == truth) >= 0.8
    assert not np.any(r.speech & ~truth)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ("o" * 10 + "m" + "o" * 10, "o" * 21),  # a click in the sound
        ("m" * 10 + "oo" + "m" * 10, "m" * 22),  # a blip in the silence
        ("o" * 5 + "qq" + "m" * 10, "o" * 5 + "m" * 12),  # joins the longer neighbour
        ("o" * 5 + "m" * 5, "o" * 5 + "m" * 5),
    ],
)
def test_short_state_runs_are_absorbed(labels, expected):
    from pollwatch.audit.audio import _absorb_short_runs

    out = _absorb_short_runs(np.array(list(labels)), 3)
    assert "".join(out) == expected


def test_a_stream_that_jumps_back_does_not_break_the_result(scene):
    x, _ = scene
    auditor = AudioAuditor()
    for c in clips.chunked(x[: 6 * SR], SR) + clips.chunked(x[: 3 * SR], SR, t0=2.0):
        auditor.on_audio(c)
    r = auditor.result()
    assert list(r.t) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def _same_result(a, b):
    for name in ("t", "rms_dbfs", "peak", "zero_share", "speech", "states"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.ranges == b.ranges and a.speech_ranges == b.speech_ranges


@pytest.mark.parametrize(
    ("rate", "chunk", "t0", "cut"),
    [
        (SR, 1024, 0.0, None),  # AAC frames at 16 kHz
        (SR, 700, 0.37, None),  # starts mid-window: a short first window, then whole ones
        (SR, 1024, 0.0, (7.3, 9.1)),  # a gap: the run is flushed, windows start anew
        (48000, 1024, 0.0, None),  # averaged down to 16 kHz for the speech features
    ],
)
def test_batches_give_what_one_window_at_a_time_gives(scene, rate, chunk, t0, cut):
    """Windows measured a batch at a time (levels, speech features, the speech detector's
    floor and envelope) are identical, bit for bit, to windows measured alone."""
    x, _ = scene
    x = np.repeat(x[: 14 * SR], rate // SR)  # a copy
    x[int(3 * rate) : int(5 * rate)] = 0.0  # muted windows: no speech features
    chunks = clips.chunked(x, rate, size=chunk, t0=t0)
    if cut is not None:
        chunks = [c for c in chunks if not cut[0] <= c.t_s - t0 < cut[1]]
    alone = audit(chunks, seconds=15.0, batch_s=0.0)
    for batch_s in (5.0, 60.0):
        _same_result(alone, audit(chunks, seconds=15.0, batch_s=batch_s))


class OneWindowDetector:
    """The speech detector's rule written out for one window at a time (the oracle)."""

    def __init__(self, frame_rate):
        self.frame_rate, self.history, self.previous = frame_rate, [], np.empty(0)

    def feed(self, band_db, flatness):
        self.history.append(band_db)
        while sum(h.size for h in self.history) > 15.0 * self.frame_rate + band_db.size:
            self.history.pop(0)
        history = np.concatenate(self.history)
        floor = np.partition(history, history.size // 10)[history.size // 10]
        active = (band_db > floor + 9.0) & (flatness < 0.35)
        envelope = np.concatenate([self.previous, band_db])
        self.previous = band_db
        if active.mean() < 0.2 or envelope.std() < 3.0:
            return False
        spectrum = np.abs(np.fft.rfft(envelope - envelope.mean())) ** 2
        freqs = np.fft.rfftfreq(envelope.size, 1.0 / self.frame_rate)
        wide = spectrum[(freqs >= 0.5) & (freqs <= 15.0)].sum()
        syllabic = spectrum[(freqs >= 2.0) & (freqs <= 8.0)].sum()
        return bool(wide > 0 and syllabic / wide >= 0.35)


def syllables(sizes, quiet):
    """Subframe features: `quiet` windows' worth of room tone (0 dB), then a voice whose
    band energy swings 7-17 dB at 4 Hz: speech against the room's floor, not against its own
    (its own 10th percentile is about 7 dB)."""
    n = sum(sizes)
    t = np.arange(n) / 31.25
    band_db = 12.0 + 5.0 * np.sin(2 * np.pi * 4.0 * t)
    band_db[: 31 * quiet] = 0.0
    band_db += np.random.default_rng(1).normal(0.0, 0.3, n)
    return band_db, np.full(n, 0.1)


@pytest.mark.parametrize(
    ("sizes", "quiet"), [((31,) * 4, 1), ((12, 31, 31, 5, 31), 1), ((31,) * 25, 5)]
)
def test_speech_detector_feeds_many_windows_as_one_by_one(sizes, quiet):
    """`feed` and `feed_many` (windows of one length together) say what the rule says window
    by window: the floor over the last 15 s of windows fed, the envelope over two windows."""
    band_db, flatness = syllables(sizes, quiet)
    oracle, one, many = OneWindowDetector(31.25), SpeechDetector(31.25), SpeechDetector(31.25)
    expected, alone, together, pos = [], [], [], 0
    for size in sizes:
        b, f = band_db[pos : pos + size], flatness[pos : pos + size]
        expected.append(oracle.feed(b, f))
        alone.append(one.feed(b, f))
        pos += size
    pos = 0
    for size, run in ((s, len(list(g))) for s, g in itertools.groupby(sizes)):
        b = band_db[pos : pos + size * run].reshape(run, size)
        f = flatness[pos : pos + size * run].reshape(run, size)
        together += list(many.feed_many(b, f))
        pos += size * run
    assert alone == together == expected
    assert any(expected) and not all(expected)  # speech and pauses to tell apart


def test_subframe_features_of_rows_are_each_rows_own(scene):
    x, _ = scene
    rows = x[: 4 * SR].reshape(4, SR)
    band_db, flatness = subframe_features(rows, SR)
    assert band_db.shape == flatness.shape == (4, SR // 512)
    for i, row in enumerate(rows):
        b, f = subframe_features(row, SR)
        np.testing.assert_array_equal(band_db[i], b)
        np.testing.assert_array_equal(flatness[i], f)
