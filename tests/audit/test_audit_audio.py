"""The audio audit on a real recording: espeak-ng speech in room noise, AAC in MP4, decoded."""

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
