"""Audio audit: per-window levels, digital silence, loudness state and a speech timeline.

States of a stretch of recording:

- ``absent``: no decoded audio covers it (no audio stream, or the stream stops or breaks);
- ``muted``: digital silence. Measured with PyAV 18 (FFmpeg's aac, libopus, libmp3lame and
  pcm_s16le encoders, 16–48 kHz): all-zero PCM decodes back to samples that are *exactly* 0.0,
  while real noise as low as −90 dBFS decodes to non-zero samples at its own level (±0.2 dB).
  So a window is muted when at least `muted_zero_share` (99 %) of its samples are exactly zero
  or its RMS is below `muted_dbfs` (−100 dBFS, under a 16-bit LSB of −90 dBFS);
- ``quiet``: real sound turned down: the loud level of its neighbourhood (the 95th percentile of
  1-s RMS over a centred `context_s` = 120 s) stays below `quiet_dbfs` (−55 dBFS). Our espeak-ng
  speech mixed with −50 dBFS room noise measures about −22 dBFS there, the same scaled by
  −45 dB about −67 dBFS; −55 dBFS lies between with 12 dB margin each side;
- ``ok``: everything else.

Speech activity is a level-independent signal-processing detector (`SpeechDetector`): energy in
the 300–3400 Hz band against an adaptive noise floor, spectral flatness, and the 2–8 Hz
(syllable-rate) modulation of the band envelope. `webrtcvad` was not used: it is a source-only
package needing a C compiler, and it imports `pkg_resources` at import time, which fails with
current setuptools (checked: webrtcvad 2.0.10 with setuptools 84).
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.fft

from pollwatch.audit.ranges import invert_ranges, merge_ranges, ranges_from_samples
from pollwatch.audit.types import TimeRange
from pollwatch.video.analyser import Needs
from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo

__all__ = [
    "AUDIO_STATES",
    "AudioAuditResult",
    "AudioAuditor",
    "AudioState",
    "SpeechDetector",
    "WindowLevels",
    "classify_windows",
    "subframe_features",
    "window_levels",
]

AudioState = Literal["absent", "muted", "quiet", "ok"]
AUDIO_STATES: tuple[AudioState, ...] = ("absent", "muted", "quiet", "ok")
_SILENCE_DBFS = -150.0  # the level reported for an all-zero window
_Row = tuple[float, float, float, float, float, bool]  # t, coverage, rms, peak, zeros, speech


@dataclass(frozen=True)
class WindowLevels:
    """Levels of one window of samples: RMS in dBFS, peak |x|, share of exact zeros."""

    rms_dbfs: float
    peak: float
    zero_share: float


def window_levels(samples: np.ndarray) -> WindowLevels:
    """RMS (dBFS, full scale = 1.0, floored at −150), peak and exact-zero share of `samples`."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"samples must be a non-empty 1-D array, got shape {x.shape}")
    ms = float(np.dot(x, x)) / x.size
    rms_dbfs = 10.0 * np.log10(ms) if ms > 10 ** (_SILENCE_DBFS / 10) else _SILENCE_DBFS
    return WindowLevels(
        rms_dbfs=float(rms_dbfs),
        peak=float(max(x.max(), -x.min())),
        zero_share=1.0 - np.count_nonzero(x) / x.size,
    )


def _decimation(sample_rate: int) -> int:
    """The factor that brings a sample rate down to 16–32 kHz for the speech features."""
    return max(1, sample_rate // 16000)


def _subframe_length(sample_rate: int) -> int:
    """A power of two near 32 ms."""
    return int(2 ** round(np.log2(0.032 * sample_rate)))


@functools.lru_cache(maxsize=8)
def _spectral_setup(n: int, sample_rate: int, lo: float, hi: float) -> tuple[np.ndarray, slice]:
    """The Hann window and the rfft bins of the band for subframes of n samples."""
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    inside = np.flatnonzero((freqs >= lo) & (freqs <= hi))
    window = np.hanning(n).astype(np.float32)
    window.setflags(write=False)
    return window, slice(int(inside[0]), int(inside[-1]) + 1)


def subframe_features(
    samples: np.ndarray, sample_rate: int, *, band_hz: tuple[float, float] = (300.0, 3400.0)
) -> tuple[np.ndarray, np.ndarray]:
    """Per ~32 ms subframe: band energy in dB and spectral flatness (0..1) inside the band.

    Returns two arrays of length len(samples) // subframe length (Hann window, no overlap).
    A 2-D `samples` (windows × samples) gives two 2-D arrays, one row per window, each row
    what its window alone gives (one transform for all of them).
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    lo, hi = band_hz
    if not 0 <= lo < hi <= sample_rate / 2:
        raise ValueError(f"band_hz must satisfy 0 <= lo < hi <= Nyquist, got {band_hz}")
    n = _subframe_length(sample_rate)
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim not in (1, 2):
        raise ValueError(f"samples must be 1-D or 2-D, got shape {x.shape}")
    rows = x.reshape(-1, x.shape[-1])
    k = rows.shape[1] // n
    shape = (k,) if x.ndim == 1 else (rows.shape[0], k)
    if k == 0 or rows.shape[0] == 0:
        return np.empty(shape), np.empty(shape)
    window, band_bins = _spectral_setup(n, sample_rate, lo, hi)
    frames = rows[:, : k * n].reshape(-1, n)
    spectrum = scipy.fft.rfft(frames * window, axis=1)[:, band_bins]
    band = (spectrum.real**2 + spectrum.imag**2).astype(np.float32) + np.float32(1e-20)
    total = band.sum(axis=1, dtype=np.float64)
    band_db = 10.0 * np.log10(total)
    flatness = np.exp(np.mean(np.log(band), axis=1, dtype=np.float64)) / (total / band.shape[1])
    return band_db.reshape(shape), flatness.reshape(shape)


@functools.lru_cache(maxsize=8)
def _modulation_bins(n: int, frame_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """The rfft bins of an n-subframe envelope in 0.5–15 Hz and in 2–8 Hz."""
    freqs = np.fft.rfftfreq(n, 1.0 / frame_rate)
    bins = ((freqs >= 0.5) & (freqs <= 15.0), (freqs >= 2.0) & (freqs <= 8.0))
    for b in bins:
        b.setflags(write=False)
    return bins


@dataclass
class SpeechDetector:
    """Streaming speech detector fed one window of subframe features at a time.

    A subframe is active when its band energy is `snr_db` above the noise floor (the 10th
    percentile of the last `floor_s` seconds of subframes) and its spectral flatness is below
    `max_flatness` (white noise measures about 0.56, voiced speech 0.05–0.3). A window holds
    speech when at least `min_active_share` of its subframes are active and the band envelope
    over the last two windows is modulated at syllable rate: at least `min_modulation` of its
    0.5–15 Hz energy lies in 2–8 Hz and its standard deviation is at least `min_depth_db`.
    """

    frame_rate: float
    snr_db: float = 9.0
    max_flatness: float = 0.35
    min_active_share: float = 0.2
    min_modulation: float = 0.35
    min_depth_db: float = 3.0
    floor_s: float = 15.0
    _history: deque[np.ndarray] = field(default_factory=deque, repr=False)
    _previous: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def feed(self, band_db: np.ndarray, flatness: np.ndarray) -> bool:
        """Add one window's subframes; True when the window holds speech."""
        if band_db.size == 0:
            return False
        return bool(self.feed_many(band_db.reshape(1, -1), flatness.reshape(1, -1))[0])

    def feed_many(self, band_db: np.ndarray, flatness: np.ndarray) -> np.ndarray:
        """Add consecutive windows of one length (one row each, in time order): whether each
        holds speech, exactly as feeding them one by one says."""
        rows, size = band_db.shape
        if rows == 0 or size == 0:
            return np.zeros(rows, bool)
        held = list(self._history)
        history = np.concatenate([*held, band_db.reshape(-1)])
        sizes = [h.size for h in held] + [size] * rows
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        first, total, floors = 0, int(offsets[len(held)]), np.empty(rows)  # total: subframes held
        for j in range(rows):  # the subframes each window's floor looks back over
            total += size
            while total > self.floor_s * self.frame_rate + size:
                total -= sizes[first]
                first += 1
            recent = history[offsets[first] : offsets[len(held) + j + 1]]
            k = recent.size // 10
            floors[j] = np.partition(recent, k)[k]  # the 10th percentile
        active = (band_db > floors[:, None] + self.snr_db) & (flatness < self.max_flatness)
        share = active.mean(axis=1)
        # the band envelope over each window and the one before
        if self._previous.size == size:
            before = np.concatenate([self._previous[None], band_db[:-1]])
            out = self._speech(np.concatenate([before, band_db], axis=1), share)
        else:
            out = np.zeros(rows, bool)
            out[:1] = self._speech(np.concatenate([self._previous, band_db[0]])[None], share[:1])
            out[1:] = self._speech(np.concatenate([band_db[:-1], band_db[1:]], axis=1), share[1:])
        self._history.extend(band_db)
        for _ in range(first):
            self._history.popleft()
        self._previous = band_db[-1]
        return out

    def _speech(self, envelopes: np.ndarray, active_share: np.ndarray) -> np.ndarray:
        """Whether each envelope (a row) is speech: enough active subframes, deep enough, its
        energy modulated at syllable rate."""
        out = np.zeros(len(envelopes), bool)
        if out.size == 0:
            return out
        gate = (active_share >= self.min_active_share) & (
            envelopes.std(axis=1) >= self.min_depth_db
        )
        if gate.any():
            e = envelopes[gate]
            spectrum = np.abs(scipy.fft.rfft(e - e.mean(axis=1, keepdims=True), axis=1)) ** 2
            wide_bins, syllabic_bins = _modulation_bins(e.shape[1], self.frame_rate)
            wide = spectrum[:, wide_bins].sum(axis=1)
            syllabic = spectrum[:, syllabic_bins].sum(axis=1)
            ratio = np.divide(syllabic, wide, out=np.zeros_like(wide), where=wide > 0)
            out[gate] = (wide > 0) & (ratio >= self.min_modulation)
        return out

    def reset(self) -> None:
        self._history.clear()
        self._previous = np.empty(0)


def classify_windows(
    rms_dbfs: np.ndarray,
    zero_share: np.ndarray,
    *,
    window_s: float = 1.0,
    muted_zero_share: float = 0.99,
    muted_dbfs: float = -100.0,
    quiet_dbfs: float = -55.0,
    loud_percentile: float = 95.0,
    context_s: float = 120.0,
) -> np.ndarray:
    """The state (muted, quiet or ok) of consecutive windows, as an array of strings."""
    rms = np.asarray(rms_dbfs, dtype=float)
    zeros = np.asarray(zero_share, dtype=float)
    if rms.shape != zeros.shape or rms.ndim != 1:
        raise ValueError(f"rms_dbfs and zero_share must be 1-D of one length: {rms.shape}")
    muted = (zeros >= muted_zero_share) | (rms < muted_dbfs)
    states = np.full(rms.shape, "ok", dtype=object)
    states[muted] = "muted"
    if (~muted).any():
        width = 2 * max(round(context_s / window_s / 2), 0) + 1
        sound = pd.Series(np.where(muted, np.nan, rms))  # rolling quantiles skip NaN
        loud = sound.rolling(width, center=True, min_periods=1).quantile(loud_percentile / 100)
        states[~muted & (loud.to_numpy() < quiet_dbfs)] = "quiet"
    return states.astype(str)


def _absorb_short_runs(states: np.ndarray, min_run: int) -> np.ndarray:
    """Relabel runs shorter than `min_run` windows with their longer neighbour's label."""
    s = states.copy()
    if s.size == 0 or min_run <= 1:
        return s
    for _ in range(3):  # a few passes settle nested short runs
        edges = np.flatnonzero(s[1:] != s[:-1]) + 1
        starts = np.concatenate([[0], edges])
        ends = np.concatenate([edges, [s.size]])
        lengths = ends - starts
        if (lengths >= min_run).all() or len(starts) == 1:
            break
        for i in np.argsort(lengths):
            a, b = starts[i], ends[i]
            if b - a >= min_run:
                break
            left = s[a - 1] if a > 0 else None
            right = s[b] if b < s.size else None
            left_len = lengths[i - 1] if i > 0 else -1
            right_len = lengths[i + 1] if i + 1 < len(lengths) else -1
            s[a:b] = left if left is not None and left_len >= right_len else right
    return s


@dataclass(frozen=True)
class AudioAuditResult:
    """The audio audit of one recording; times in seconds from its first frame."""

    span: TimeRange
    window_s: float
    t: np.ndarray  # window start times
    rms_dbfs: np.ndarray
    peak: np.ndarray
    zero_share: np.ndarray
    speech: np.ndarray  # bool per window
    states: np.ndarray  # str per window (muted/quiet/ok)
    ranges: dict[str, tuple[TimeRange, ...]]  # per state, absent included
    speech_ranges: tuple[TimeRange, ...]
    state_share: float = 0.25

    @property
    def shares(self) -> dict[str, float]:
        """Share of the recording's span in each state (they add up to 1)."""
        total = self.span.duration
        return {
            s: (sum(r.duration for r in self.ranges[s]) / total if total > 0 else 0.0)
            for s in AUDIO_STATES
        }

    @property
    def state(self) -> AudioState:
        """The most severe state (absent, muted, quiet, ok) covering at least `state_share` of
        the recording: a camera muted for a third of the day is a muted camera."""
        shares = self.shares
        for s in AUDIO_STATES:
            if shares[s] >= self.state_share:
                return s
        return max(AUDIO_STATES, key=lambda s: shares[s])

    @property
    def level_dbfs(self) -> float:
        """Median 1-s RMS over windows with sound (not muted); −150 when there are none."""
        sound = self.states != "muted"
        return float(np.median(self.rms_dbfs[sound])) if sound.any() else _SILENCE_DBFS

    @property
    def speech_share(self) -> float:
        total = self.span.duration
        return sum(r.duration for r in self.speech_ranges) / total if total > 0 else 0.0


class AudioAuditor:
    """Audits a recording's sound from the engine's audio chunks (and frame times for the span).

    Windows of `window_s` seconds are aligned to the file's time axis; a window less than half
    covered by samples counts as absent. State runs shorter than `min_run_s` are absorbed by the
    neighbouring state. The recording's `state` is the most severe state covering at least
    `state_share` of it. The other thresholds are those of `classify_windows`. Samples are
    measured `batch_s` (5 s) at a time, all windows of a batch together; the rows are those
    of one window at a time (the speech detector still takes them in time order).
    """

    def __init__(
        self,
        *,
        window_s: float = 1.0,
        quiet_dbfs: float = -55.0,
        muted_dbfs: float = -100.0,
        muted_zero_share: float = 0.99,
        context_s: float = 120.0,
        min_run_s: float = 3.0,
        state_share: float = 0.25,
        batch_s: float = 5.0,
    ) -> None:
        if not 0.1 <= window_s <= 10.0:
            raise ValueError(f"window_s must be in [0.1, 10] seconds, got {window_s}")
        if not -140.0 < muted_dbfs < quiet_dbfs < 0.0:
            raise ValueError(
                f"quiet_dbfs must lie in (muted_dbfs, 0), got quiet_dbfs={quiet_dbfs}, "
                f"muted_dbfs={muted_dbfs}"
            )
        if not 0.5 <= muted_zero_share <= 1.0:
            raise ValueError(f"muted_zero_share must be in [0.5, 1], got {muted_zero_share}")
        if context_s < window_s:
            raise ValueError(f"context_s must be >= window_s, got {context_s}")
        if min_run_s < 0:
            raise ValueError(f"min_run_s must be >= 0, got {min_run_s}")
        if not 0 < state_share <= 1:
            raise ValueError(f"state_share must be in (0, 1], got {state_share}")
        if not 0 <= batch_s <= 600:
            raise ValueError(f"batch_s must be in [0, 600] seconds, got {batch_s}")
        self.window_s = window_s
        self.quiet_dbfs = quiet_dbfs
        self.muted_dbfs = muted_dbfs
        self.muted_zero_share = muted_zero_share
        self.context_s = context_s
        self.min_run_s = min_run_s
        self.state_share = state_share
        self.batch_s = batch_s
        self.reset()

    def reset(self) -> None:
        """Forget everything seen."""
        self._rows: list[_Row] = []
        self._buf: list[np.ndarray] = []
        self._buf_start = 0  # global sample index of the buffer's first sample
        self._buf_len = 0
        self._rate = 0
        self._detector: SpeechDetector | None = None
        self._end = 0.0

    # -- engine callbacks -------------------------------------------------------------------
    @property
    def needs(self) -> Needs:
        """Audio only (standalone, the span comes from the audio and the gaps)."""
        return Needs(video=False, audio=True)

    def start(self, info: StreamInfo) -> None:
        """Nothing to prepare: the sample rate comes with every chunk."""

    def update(self, frame: Frame) -> None:
        """Note a frame's time (the span of the recording); the picture is not used."""
        self._end = max(self._end, float(frame.pts_s))

    def on_gap(self, gap: Gap) -> None:
        """Note a gap's end (gaps of the picture are the conditions' business)."""
        if gap.end_s is not None:
            self._end = max(self._end, float(gap.end_s))

    def on_audio(self, chunk: AudioChunk) -> None:
        """Add one chunk of decoded mono samples."""
        x = chunk.samples
        if not (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.ndim == 1):
            x = np.asarray(x, dtype=np.float32)
            if x.ndim == 2 and 1 in x.shape:
                x = x.reshape(-1)
            if x.ndim != 1:
                raise ValueError(f"audio chunk at {chunk.t_s:.2f} s: samples must be mono 1-D")
        rate = int(chunk.sample_rate)
        t = float(chunk.t_s)
        if rate <= 0 or not math.isfinite(t):
            raise ValueError(f"audio chunk at {t} s has sample_rate {rate}")
        start = round(t * rate)
        tolerance = max(1, rate // 500)  # 2 ms of jitter is still contiguous
        if rate != self._rate:
            self._flush(final=True)
            self._rate = rate
            q = _decimation(rate)
            self._detector = SpeechDetector(frame_rate=rate / q / _subframe_length(rate // q))
            self._buf_start = start
        elif abs(start - (self._buf_start + self._buf_len)) > tolerance:
            self._flush(final=True)
            self._buf_start = start
        self._buf.append(x)
        self._buf_len += x.size
        self._end = max(self._end, (start + x.size) / rate)
        per_window = self.window_s * rate
        batch = max(1, round(self.batch_s / self.window_s))
        window_end = (math.floor(self._buf_start / per_window + 1e-9) + batch) * per_window
        if self._buf_start + self._buf_len >= window_end:  # a batch of windows is complete
            self._flush(final=False)

    # -- windows ----------------------------------------------------------------------------
    def _flush(self, *, final: bool) -> None:
        """Analyse every complete window in the buffer (and the partial rest if `final`)."""
        if self._rate == 0 or self._buf_len == 0:
            self._buf, self._buf_len = [], 0
            return
        data = np.concatenate(self._buf) if len(self._buf) > 1 else self._buf[0]
        if self._detector is None:
            raise RuntimeError("audio buffered without a speech detector")
        rows, used = self._windows(data, self._buf_start, self._detector, final=final)
        self._rows.extend(rows)
        self._buf_start += used
        rest = data[used:]
        self._buf, self._buf_len = ([rest], rest.size) if rest.size else ([], 0)

    def _windows(
        self, data: np.ndarray, first: int, detector: SpeechDetector, *, final: bool
    ) -> tuple[list[_Row], int]:
        """Rows of the windows in `data` (starting at global sample `first`); samples used.
        Consecutive windows of one length are measured together (levels, speech features:
        one array operation for all of them), then fed to the speech detector in time order;
        every row is what measuring its window alone gives."""
        per = self.window_s * self._rate
        pieces: list[tuple[int, int, int]] = []  # (window index, first sample, samples)
        pos = 0
        while pos < data.size:
            g = first + pos
            k = int(np.floor(g / per + 1e-9))
            take = round((k + 1) * per) - g
            if take > data.size - pos and not final:
                break  # the last window is not complete yet
            take = min(take, data.size - pos)
            pieces.append((k, pos, take))
            pos += take
        rows: list[_Row] = []
        for _, run in itertools.groupby(pieces, key=lambda piece: piece[2]):
            rows += self._measure(data, list(run), detector)
        return rows, pos

    def _measure(
        self, data: np.ndarray, run: list[tuple[int, int, int]], detector: SpeechDetector
    ) -> list[_Row]:
        """The rows of consecutive windows of one length (`run`: window index, first sample,
        samples; contiguous in `data`)."""
        rate, size = self._rate, run[0][2]
        x = data[run[0][1] : run[0][1] + len(run) * size].reshape(len(run), size)
        levels = [window_levels(row) for row in x]
        sound = np.flatnonzero(  # the windows not digitally silent
            [v.zero_share < self.muted_zero_share and v.rms_dbfs >= self.muted_dbfs for v in levels]
        )
        speech = np.zeros(len(run), bool)
        if sound.size:
            q = _decimation(rate)
            heard = x[sound]
            if q > 1:  # speech lives under 4 kHz: average q samples, analyse at rate / q
                n = size // q
                heard = sum(heard[:, i : n * q : q] for i in range(q)) / np.float32(q)
            speech[sound] = detector.feed_many(*subframe_features(heard, rate // q))
        coverage = size / (self.window_s * rate)
        return [
            (k * self.window_s, coverage, v.rms_dbfs, v.peak, v.zero_share, bool(s))
            for (k, _, _), v, s in zip(run, levels, speech, strict=True)
        ]

    def result(self) -> AudioAuditResult:
        """The audit so far (pending samples included; the auditor's state is not changed)."""
        rows = list(self._rows)
        if self._buf_len and self._detector is not None:
            data = np.concatenate(self._buf)
            rows += self._windows(data, self._buf_start, copy.deepcopy(self._detector), final=True)[
                0
            ]
        # one row per window (a chunk stream that jumps back repeats windows: keep the latest)
        rows = sorted({r[0]: r for r in rows if r[1] >= 0.5}.values())
        cols = list(zip(*rows, strict=True)) if rows else [[]] * 6
        t, _, rms, peak, zeros, speech = (np.asarray(c) for c in cols)
        t = t.astype(float)
        span = TimeRange(0.0, max(self._end, float(t[-1] + self.window_s) if t.size else 0.0))
        states = (
            classify_windows(
                rms.astype(float),
                zeros.astype(float),
                window_s=self.window_s,
                muted_zero_share=self.muted_zero_share,
                muted_dbfs=self.muted_dbfs,
                quiet_dbfs=self.quiet_dbfs,
                context_s=self.context_s,
            )
            if t.size
            else np.empty(0, dtype=str)
        )
        states = _absorb_short_runs(states, round(self.min_run_s / self.window_s))
        covered = ranges_from_samples(t, np.ones(t.size, bool), step=self.window_s)
        ranges: dict[str, tuple[TimeRange, ...]] = {
            "absent": merge_ranges(invert_ranges(covered, span.start, span.end))
        }
        for s in ("muted", "quiet", "ok"):
            ranges[s] = ranges_from_samples(t, states == s, step=self.window_s)
        speech_b = speech.astype(bool)
        return AudioAuditResult(
            span=span,
            window_s=self.window_s,
            t=t,
            rms_dbfs=rms.astype(float),
            peak=peak.astype(float),
            zero_share=zeros.astype(float),
            speech=speech_b,
            states=states,
            ranges=ranges,
            speech_ranges=ranges_from_samples(t, speech_b, step=self.window_s, max_gap=1.0),
            state_share=self.state_share,
        )
