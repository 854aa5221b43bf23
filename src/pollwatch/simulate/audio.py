"""The room's sound as the camera's microphone hears it, synthesised from the plan.

Layers: ventilation (a seamless loop of shaped noise with a fan hum, about −50 dBFS), speech
while a voter stands at the table and now and then among the commission (glottal pulse trains
through moving vowel formants, syllable rhythm, a little room reverb), footsteps while people
walk, the door when people come in and go out, and paper rustling at every ballot drop. Levels
fall off with distance from the microphone (1/r), so voices at the table give roughly −30…−22
dBFS RMS. Every sound is synthesised from its own seeded generator when first needed, so the
result does not depend on how the caller cuts the timeline into blocks.
"""

from __future__ import annotations

import functools
import itertools
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import signal

from pollwatch.simulate import room
from pollwatch.simulate.plan import CameraCondition, CameraPlan, Visit

__all__ = [
    "QUIET_DB",
    "RoomSound",
    "apply_audio_conditions",
    "synth_door",
    "synth_rustle",
    "synth_speech",
    "synth_steps",
]

QUIET_DB = -40.0  # the `audio_quiet` condition: room sound turned down by this much
_VOWELS = (
    (730, 1090, 2440),
    (530, 1840, 2480),
    (270, 2290, 3010),
    (570, 840, 2410),
    (300, 870, 2240),
    (660, 1720, 2410),
)
_LOOP = 1 << 19  # ventilation loop length in samples


def _db(level_db: float) -> float:
    return 10.0 ** (level_db / 20.0)


def _seed(*parts: object) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


@dataclass
class _Event:
    """A sound starting at sample `start`, synthesised on first use as synth(rng, sr, *args)."""

    start: int
    seed: int
    synth: Callable[..., np.ndarray]
    args: tuple[object, ...]
    samples: np.ndarray | None = None

    def make(self, sr: int) -> np.ndarray:
        return self.synth(np.random.default_rng(self.seed), sr, *self.args)


def _resonator(freq: float, bw: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    r = math.exp(-math.pi * bw / sr)
    theta = 2 * math.pi * freq / sr
    return np.array([1.0 - r]), np.array([1.0, -2 * r * math.cos(theta), r * r])


@functools.lru_cache(maxsize=64)
def _bandpass_ba(lo: float, hi: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    b, a = signal.butter(2, [lo, min(hi, 0.45 * sr)], btype="bandpass", fs=sr)
    return b, a


def _bandpass(x: np.ndarray, lo: float, hi: float, sr: int) -> np.ndarray:
    # a 4th-order filter as one transfer function: as exact as sections here (1e-14), and
    # lfilter costs a quarter of sosfilt on these short bursts
    b, a = _bandpass_ba(float(lo), float(hi), sr)
    return signal.lfilter(b, a, x)


def _normalise(x: np.ndarray, rms_db: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x * x))) or 1.0
    return x * (_db(rms_db) / rms)


def _room_ir(rng: np.random.Generator, sr: int, rt60: float = 0.45) -> np.ndarray:
    """Direct sound plus an exponentially decaying diffuse tail 6 dB below it in energy."""
    n = int(rt60 * sr)
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    tail *= math.sqrt(0.25 / float(np.sum(tail * tail)))
    tail[0] = 1.0
    return tail / math.sqrt(1.25)


@functools.lru_cache(maxsize=4)
def _sqrt_counts_upto(n: int) -> np.ndarray:
    out = np.sqrt(np.arange(1, n + 1))
    out.setflags(write=False)
    return out


def _sqrt_counts(n: int) -> np.ndarray:
    """sqrt(1), sqrt(2), … sqrt(n), from one table (syllables are at most 0.28 s)."""
    return _sqrt_counts_upto(max(n, 1 << 14))[:n]


@functools.lru_cache(maxsize=1024)
def _hanning(n: int) -> np.ndarray:
    window = np.hanning(n)
    window.setflags(write=False)
    return window


@functools.lru_cache(maxsize=256)
def _formant_filter(
    vowel: tuple[int, int, int], scale: float, sr: int
) -> tuple[np.ndarray, np.ndarray]:
    """The glottal source plus its three formant resonances (gains 4, 2.4, 1.44) as one
    filter: the parallel sum over the common denominator (within 1e-12 of three filters)."""
    parts = [_resonator(f * scale, 80 + 40 * k, sr) for k, f in enumerate(vowel)]
    den = np.array([1.0])
    for _, a in parts:
        den = np.convolve(den, a)
    num = den.copy()
    for k, (b, _) in enumerate(parts):
        others = np.array([1.0])
        for j, (_, a2) in enumerate(parts):
            if j != k:
                others = np.convolve(others, a2)
        term = 4 * 0.6**k * np.convolve(b, others)
        num[: len(term)] += term
    return num, den


def synth_speech(
    rng: np.random.Generator, sr: int, duration: float, f0: float, rms_db: float
) -> np.ndarray:
    """One utterance: voiced syllables with consonant onsets and a falling pitch, reverberated."""
    n = max(int(duration * sr), 1)
    out = np.zeros(n)
    pos = 0
    formant_scale = 1.0 + 0.17 * max(0.0, (f0 - 120) / 100)
    tilt_b, tilt_a = [1.0], [1.0, -1.8, 0.81]  # glottal spectral tilt (double pole at 0.9)
    while pos < n:
        syl = int(rng.uniform(0.12, 0.28) * sr)
        seg = min(syl, n - pos)
        t = (pos + np.arange(seg)) / sr
        pitch = (
            f0 * (1.0 - 0.12 * t / max(duration, 0.1)) * (1 + 0.04 * math.sin(rng.uniform(0, 6.3)))
        )
        pitch = pitch * (1 + 0.01 * rng.standard_normal(seg).cumsum() / _sqrt_counts(seg))
        phase = np.cumsum(pitch / sr)
        pulses = np.diff(np.floor(phase), prepend=np.floor(phase[0])) > 0
        source = signal.lfilter(tilt_b, tilt_a, pulses.astype(float)) + 0.02 * rng.standard_normal(
            seg
        )
        vowel = _VOWELS[rng.integers(len(_VOWELS))]
        b, a = _formant_filter(vowel, formant_scale, sr)
        voiced = signal.lfilter(b, a, source)
        env = np.sin(np.linspace(0, math.pi, seg)) ** 0.7
        syllable = voiced * env
        if rng.random() < 0.7:  # consonant onset: a short noise burst
            c = min(int(rng.uniform(0.03, 0.07) * sr), seg)
            lo = (2000.0, 3500.0, 500.0)[rng.integers(3)]  # as rng.choice, cheaper
            burst = _bandpass(rng.standard_normal(c), lo, lo * 2.2, sr) * _hanning(c) * 0.4
            syllable[:c] += burst * float(np.std(syllable) or 1.0) / max(float(np.std(burst)), 1e-9)
        out[pos : pos + seg] = syllable
        pos += seg
        if rng.random() < 0.2:  # a gap between words
            pos += int(rng.uniform(0.05, 0.18) * sr)
    out = _normalise(out, rms_db)
    wet = signal.fftconvolve(out, _room_ir(rng, sr))[: n + sr // 3]
    return wet


def synth_steps(
    rng: np.random.Generator, sr: int, times: np.ndarray, gains: np.ndarray
) -> np.ndarray:
    """Footsteps at `times` (seconds from the event start) with linear `gains`."""
    length = int((float(times[-1]) + 0.2) * sr) if len(times) else 1
    out = np.zeros(length)
    k = int(0.08 * sr)
    t = np.arange(k) / sr
    for when, g in zip(times, gains, strict=True):
        i = int(when * sr)
        thump = np.sin(2 * math.pi * rng.uniform(70, 130) * t) * np.exp(-t / 0.018)
        click = _bandpass(rng.standard_normal(k), 300, 3000, sr) * np.exp(-t / 0.006)
        step = (0.7 * thump + 0.5 * click) * g * rng.uniform(0.7, 1.2)
        out[i : i + k] += step[: len(out) - i]
    return out


def synth_door(rng: np.random.Generator, sr: int, gain: float) -> np.ndarray:
    """A door opening (latch, creak), then closing (thump, latch) about 1.5 s later."""
    out = np.zeros(int(2.2 * sr))
    click_n = int(0.012 * sr)
    click = _bandpass(rng.standard_normal(click_n), 1500, 6000, sr) * np.hanning(click_n)
    out[:click_n] += 0.5 * click
    creak_n = int(0.5 * sr)
    t = np.arange(creak_n) / sr
    f = np.linspace(rng.uniform(250, 400), rng.uniform(500, 800), creak_n)
    creak = signal.sawtooth(2 * math.pi * np.cumsum(f) / sr) * (
        0.5 + 0.5 * np.sin(2 * math.pi * 7 * t)
    )
    out[click_n : click_n + creak_n] += 0.08 * _bandpass(creak, 300, 3000, sr) * np.hanning(creak_n)
    close = int(1.5 * sr)
    tt = np.arange(int(0.25 * sr)) / sr
    thump = np.sin(2 * math.pi * 60 * tt) * np.exp(-tt / 0.05) + 0.4 * _bandpass(
        rng.standard_normal(len(tt)), 100, 1500, sr
    ) * np.exp(-tt / 0.02)
    out[close : close + len(tt)] += thump
    out[close + int(0.05 * sr) : close + int(0.05 * sr) + click_n] += 0.4 * click
    return out * gain


def synth_rustle(rng: np.random.Generator, sr: int, ballots: int, gain: float) -> np.ndarray:
    """Paper going through the slot: crinkly band-passed noise, longer for a bundle."""
    n = int(min(0.2 + 0.01 * ballots, 0.6) * sr)
    noise = _bandpass(rng.standard_normal(n), 1200, 6000, sr)
    crinkle = np.abs(signal.lfilter([1.0], [1.0, -0.97], rng.standard_normal(n))) ** 2
    crinkle /= max(float(crinkle.max()), 1e-9)
    return noise * crinkle * np.hanning(n) * gain * (1.0 + 0.2 * math.log1p(ballots))


def _ventilation_loop(rng: np.random.Generator, sr: int, rms_db: float) -> np.ndarray:
    """A seamless loop of fan noise: pink-ish spectrum rolled off above 2 kHz, a hum line."""
    freqs = np.fft.rfftfreq(_LOOP, 1 / sr)
    shape = 1.0 / np.sqrt(np.maximum(freqs, 20.0)) / (1 + (freqs / 2000.0) ** 2)
    hum = rng.uniform(90, 130)
    shape += 0.6 * np.exp(-0.5 * ((freqs - hum) / 3.0) ** 2) / math.sqrt(hum)
    spec = shape * np.exp(1j * rng.uniform(0, 2 * math.pi, len(freqs)))
    spec[0] = 0
    loop = np.fft.irfft(spec, _LOOP)
    return _normalise(loop, rms_db).astype(np.float32)


class RoomSound:
    """The microphone signal of one camera's recording, rendered block by block in order."""

    def __init__(
        self, plan: CameraPlan, mic: tuple[float, float, float], sample_rate: int = 16_000
    ) -> None:
        self.plan = plan
        self.sr = sample_rate
        self.mic = np.asarray(mic, dtype=float)
        rng = np.random.default_rng([plan.seed, 0xA0D10])
        self._vent = _ventilation_loop(rng, sample_rate, -50.0 + rng.uniform(-3, 3))
        self._vent_offset = int(rng.integers(_LOOP))
        events: list[_Event] = []
        for visit in plan.visits:
            events += self._visit_events(visit)
        events.sort(key=lambda e: e.start)
        self._events = events
        self._next = 0
        self._active: list[_Event] = []
        self._position = 0

    def _gain(self, x: float, y: float, z: float, level_1m_db: float) -> float:
        r = max(1.0, float(np.linalg.norm(self.mic - (x, y, z))))
        return _db(level_1m_db) / r

    def _level_db(self, x: float, y: float, z: float, level_1m_db: float) -> float:
        r = max(1.0, float(np.linalg.norm(self.mic - (x, y, z))))
        return level_1m_db - 20 * math.log10(r)

    def _event(
        self, t: float, seed: int, synth: Callable[..., np.ndarray], *args: object
    ) -> _Event:
        return _Event(max(round(t * self.sr), 0), seed, synth, args)

    def _visit_events(self, visit: Visit) -> list[_Event]:
        seed, pid = self.plan.seed, visit.person_id
        out: list[_Event] = []
        f0 = 95 + (zlib.crc32(pid.encode()) % 140) + 40 * (1.8 - visit.appearance.height_m)
        stops = visit.stops
        door = room.ENTRANCE
        door_gain = self._gain(door.x, door.y, 1.0, -8.0)
        if stops[0].place in ("entrance", "exit"):
            out.append(
                self._event(stops[0].arrive_s - 0.3, _seed(seed, pid, "in"), synth_door, door_gain)
            )
        if stops[-1].place in ("entrance", "exit") and len(stops) > 1:
            out.append(
                self._event(stops[-1].leave_s - 0.5, _seed(seed, pid, "out"), synth_door, door_gain)
            )
        for i, (a, b) in enumerate(itertools.pairwise(stops)):
            pa, pb = room.place(a.place), room.place(b.place)
            walk = b.arrive_s - a.leave_s
            if walk <= 0.3 or pa == pb:
                continue
            times = np.arange(0.0, walk, 1.0 / visit.appearance.gait_hz)
            u = times / walk
            xs, ys = pa.x + (pb.x - pa.x) * u, pa.y + (pb.y - pa.y) * u
            gains = np.array([self._gain(x, y, 0.0, -16.0) for x, y in zip(xs, ys, strict=True)])
            out.append(
                self._event(a.leave_s, _seed(seed, pid, "steps", i), synth_steps, times, gains)
            )
        box = room.BOX
        drop_gain = self._gain(box.x, box.y - 0.45, 1.1, -22.0)
        for k, d in enumerate(visit.drops):
            out.append(
                self._event(
                    d.t_s - 0.05, _seed(seed, pid, "drop", k), synth_rustle, d.ballots, drop_gain
                )
            )
        for k, s in enumerate(stops):
            if s.place == "table" and s.leave_s - s.arrive_s > 1.5:
                out += self._conversation(pid, k, s.arrive_s + 0.3, s.leave_s - 0.2, f0)
            elif visit.role == "commission" and s.place.startswith("commission"):
                out += self._chatter(pid, k, s.arrive_s, s.leave_s, f0, room.place(s.place))
        return out

    def _conversation(
        self, pid: str, k: int, start: float, end: float, f0_voter: float
    ) -> list[_Event]:
        """A voter and a commission member taking turns at the table."""
        rng = np.random.default_rng(_seed(self.plan.seed, pid, "talk", k))
        f0_clerk = 110 + (self.plan.seed % 7) * 18
        voter_db = self._level_db(room.TABLE.x, room.TABLE.y, 1.5, -12.0)
        seat = room.COMMISSION_SEATS[1]
        clerk_db = self._level_db(seat.x, seat.y, 1.2, -12.0)
        out: list[_Event] = []
        t, speaker = start, 0
        while t < end - 0.5:
            dur = min(rng.uniform(0.8, 2.6), end - t)
            f0, level = (f0_clerk, clerk_db) if speaker == 0 else (f0_voter, voter_db)
            level += rng.uniform(-2, 2)
            out.append(self._event(t, int(rng.integers(1 << 30)), synth_speech, dur, f0, level))
            t += dur + rng.uniform(0.2, 0.9)
            speaker = 1 - speaker
        return out

    def _chatter(
        self, pid: str, k: int, start: float, end: float, f0: float, where: room.Point
    ) -> list[_Event]:
        """Now and then a commission member says something (about once a minute)."""
        rng = np.random.default_rng(_seed(self.plan.seed, pid, "chat", k))
        level = self._level_db(where.x, where.y, 1.2, -13.0)
        out: list[_Event] = []
        t = start + rng.exponential(60.0)
        while t < end - 1.0:
            dur = min(rng.uniform(0.8, 3.0), end - t)
            lv = level + rng.uniform(-3, 1)
            out.append(self._event(t, int(rng.integers(1 << 30)), synth_speech, dur, f0, lv))
            t += dur + rng.exponential(60.0)
        return out

    def render(self, start: int, n: int) -> np.ndarray:
        """Samples [start, start + n) of the room sound as float32; blocks must come in order."""
        if start < self._position:
            raise ValueError(f"audio blocks must come in order: {start} < {self._position}")
        self._position = start + n
        idx = (self._vent_offset + start + np.arange(n)) % _LOOP
        out = self._vent[idx].astype(np.float64)
        end = start + n
        while self._next < len(self._events) and self._events[self._next].start < end:
            self._active.append(self._events[self._next])
            self._next += 1
        keep = []
        for ev in self._active:
            if ev.samples is None:
                ev.samples = ev.make(self.sr)
            a = max(start, ev.start)
            b = min(end, ev.start + len(ev.samples))
            if b > a:
                out[a - start : b - start] += ev.samples[a - ev.start : b - ev.start]
            if ev.start + len(ev.samples) > end:
                keep.append(ev)
        self._active = keep
        return np.clip(out, -1.0, 1.0).astype(np.float32)


def apply_audio_conditions(
    samples: np.ndarray, start: int, sr: int, conditions: tuple[CameraCondition, ...]
) -> np.ndarray:
    """`audio_muted` → exact zeros, `audio_quiet` → scaled by QUIET_DB, over their time ranges."""
    n = len(samples)
    for c in conditions:
        if c.kind not in ("audio_muted", "audio_quiet"):
            continue
        a = max(round(c.start_s * sr) - start, 0)
        b = min(round(c.end_s * sr) - start, n)
        if b <= a:
            continue
        if c.kind == "audio_muted":
            samples[a:b] = 0.0
        else:
            samples[a:b] *= _db(QUIET_DB)
    return samples
