"""One camera's whole audit: sound, viewing angle and picture conditions in one pass.

`CameraAuditor` is an analyser of the video engine (`pollwatch.video.analyse_video`): it hands
every frame, audio chunk and gap to the three auditors and passes the view's current transform
to the conditions so the box zone follows the camera. The auditors share the frame's cached
gray picture at analysis size, so it is computed once per sampled frame.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from pollwatch.audit.audio import AudioAuditor, AudioAuditResult
from pollwatch.audit.image import ConditionsAuditor, ConditionsResult
from pollwatch.audit.picture import GrayMeasures
from pollwatch.audit.ranges import clip_ranges, invert_ranges, union_ranges
from pollwatch.audit.types import TimeRange
from pollwatch.audit.view import ViewAuditor, ViewAuditResult
from pollwatch.video.analyser import Needs
from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo

__all__ = ["NOT_OBSERVABLE_REASONS", "CameraAuditResult", "CameraAuditor"]

NOT_OBSERVABLE_REASONS = ("offline", "dark", "frozen", "blocked", "blurred", "box_not_visible")


@dataclass(frozen=True)
class CameraAuditResult:
    """Everything the audit found about one recording (times: seconds from its first frame)."""

    audio: AudioAuditResult
    view: ViewAuditResult
    conditions: ConditionsResult
    span: TimeRange
    start_time: datetime | None  # wall-clock time of t = 0; None if unknown
    not_observable: dict[str, tuple[TimeRange, ...]]  # per reason (they may overlap)
    frames: int = 0  # frames seen; 0: nothing could be read

    @property
    def observable(self) -> tuple[TimeRange, ...]:
        """When the ballot box could be watched: the span minus every not-observable reason.
        Time outside the recording is not observable either (see `network.audit_row`)."""
        blind = union_ranges(*self.not_observable.values())
        return invert_ranges(blind, self.span.start, self.span.end)

    def wall(self, t: float) -> datetime | None:
        """The wall-clock time of `t` seconds from the first frame."""
        return None if self.start_time is None else self.start_time + timedelta(seconds=t)


class CameraAuditor:
    """Drives an `AudioAuditor`, a `ViewAuditor` and a `ConditionsAuditor` over one recording.

    Build it with `CameraAuditor.create(...)` for the defaults, or pass configured auditors.
    """

    def __init__(
        self, *, audio: AudioAuditor, view: ViewAuditor, conditions: ConditionsAuditor
    ) -> None:
        for name, value, kind in (
            ("audio", audio, AudioAuditor),
            ("view", view, ViewAuditor),
            ("conditions", conditions, ConditionsAuditor),
        ):
            if not isinstance(value, kind):
                raise ValueError(f"{name} must be a {kind.__name__}, got {type(value).__name__}")
        if view.work_width != conditions.work_width:
            raise ValueError(
                f"conditions.work_width {conditions.work_width} must equal view.work_width "
                f"{view.work_width}"
            )
        self.audio, self.view, self.conditions = audio, view, conditions
        self.reset()

    @classmethod
    def create(
        cls,
        *,
        reference: np.ndarray | None = None,
        box_polygon: object = None,
        image_size: tuple[int, int] | None = None,
        work_width: int = 320,
    ) -> CameraAuditor:
        """An auditor with default thresholds for a camera with this reference and box."""
        geometry = dict(
            reference=reference,
            box_polygon=box_polygon,
            image_size=image_size,
            work_width=work_width,
            measures=GrayMeasures(),  # both sample the same frames' gray: measured once
        )
        return cls(
            audio=AudioAuditor(),
            view=ViewAuditor(**geometry),  # type: ignore[arg-type]
            conditions=ConditionsAuditor(**geometry),  # type: ignore[arg-type]
        )

    @property
    def needs(self) -> Needs:
        """Video and audio; the video at the rate of the most frequent sampler."""
        fps = max(self.view.needs.fps or 0.0, self.conditions.needs.fps or 0.0)
        return Needs(video=True, audio=True, fps=fps or None)

    def reset(self) -> None:
        """Forget everything seen."""
        self.audio.reset()
        self.view.reset()
        self.conditions.reset()
        self._start: datetime | None = None
        self._frames = 0

    def start(self, info: StreamInfo) -> None:
        """The recording's facts: its wall-clock start and frame rate."""
        self._start = info.start_time
        for auditor in (self.audio, self.view, self.conditions):
            auditor.start(info)

    def update(self, frame: Frame) -> None:
        """Hand one decoded frame to every auditor (each samples at its own rate)."""
        if self._start is None and frame.wall is not None:
            self._start = frame.wall - timedelta(seconds=float(frame.pts_s))
        self._frames += 1
        self.audio.update(frame)
        self.view.update(frame)
        self.conditions.update(frame, view=self.view.current, box_visible=self.view.box_visible)

    def on_audio(self, chunk: AudioChunk) -> None:
        """Hand one chunk of decoded audio to the sound audit."""
        self.audio.on_audio(chunk)

    def on_gap(self, gap: Gap) -> None:
        """A stretch without frames."""
        self.audio.on_gap(gap)
        self.view.on_gap(gap)
        self.conditions.on_gap(gap)

    def result(self) -> CameraAuditResult:
        """The audit so far."""
        audio, view, cond = self.audio.result(), self.view.result(), self.conditions.result()
        span = TimeRange(0.0, max(audio.span.end, cond.span.end))
        view = dataclasses.replace(
            view, ranges={k: clip_ranges(v, 0.0, span.end) for k, v in view.ranges.items()}
        )
        blind = {name: cond.ranges[name] for name in NOT_OBSERVABLE_REASONS[:-1]}
        blind["box_not_visible"] = view.ranges["box_not_visible"]
        return CameraAuditResult(
            audio=audio,
            view=view,
            conditions=cond,
            span=span,
            start_time=self._start,
            not_observable=blind,
            frames=self._frames,
        )
