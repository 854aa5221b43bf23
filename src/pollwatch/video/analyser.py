"""The one small shape every video analyser has.

An analyser states what it consumes in `needs`, receives `start(info)` once, then frames,
audio chunks and gaps in time order, and gives a frozen dataclass from `result()`. It checks its
arguments in `__init__` (ValueError naming the argument) and never mutates what it is handed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo

__all__ = ["Analyser", "Needs"]


@dataclass(frozen=True)
class Needs:
    """What an analyser consumes.

    `video`/`audio`: which streams; `fps`: the highest frame rate it wants (None: every frame
    the engine delivers); `scale`: the downscale it will ask frames for (a hint: frames are
    converted lazily, once, whatever asks).
    """

    video: bool = True
    audio: bool = False
    fps: float | None = None
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not (self.video or self.audio):
            raise ValueError("needs: an analyser must need video or audio")
        if self.fps is not None and not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        if not 0 < self.scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {self.scale}")


@runtime_checkable
class Analyser(Protocol):
    """A consumer of one recording's frames, audio and gaps; see the module docstring."""

    @property
    def needs(self) -> Needs: ...

    def start(self, info: StreamInfo) -> None:
        """Called once before anything else; `info.has_audio` says whether audio will come."""

    def update(self, frame: Frame) -> None:
        """One sampled video frame (only if `needs.video`)."""

    def on_audio(self, chunk: AudioChunk) -> None:
        """One chunk of decoded audio (only if `needs.audio` and the file has audio)."""

    def on_gap(self, gap: Gap) -> None:
        """A stretch with no usable video, told before the first frame after it (to an
        analyser that takes no video: as soon as the engine knows, when the video resumes)."""

    def result(self) -> Any:
        """The analysis so far, as a frozen dataclass."""

    def reset(self) -> None:
        """Forget everything, ready for another recording."""
