"""Pictures of the box for the evidence: an engine analyser that keeps small crops of the
region around the ballot box during the shared pass, and the choice of the few that show a
candidate event (the report's frame strip).

`BoxFrames` looks at the box and what is above it (where the hands and the person are) `fps`
times a second, in luma only, and keeps a colour crop only when the region changed since the
last one kept (someone at the box) or `idle_s` seconds went by, each JPEG-compressed: a quiet
box costs almost nothing, and a day's crops stay a few megabytes. After the pass, only the
crops around candidate events are stored (`strip_frames`), as PNG. A camera nudged during the
day shows the box elsewhere in each later steady view (`pollwatch.counting.views.box_views`):
given those views, the crop follows the box from each view's start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import pandas as pd

from pollwatch.video.analyser import Needs
from pollwatch.video.frame import AudioChunk, Frame, Gap, StreamInfo
from pollwatch.video.zone import Zone

__all__ = ["FRAME_COLUMNS", "BoxFrames", "BoxFramesResult", "crop_region", "strip_frames"]

FRAME_COLUMNS = ["t_s", "png"]


def crop_region(zone: Zone, width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around a box zone: 0.6 box widths either side, 1.4 box heights above
    it (a person's hands and face), 0.2 below, clipped to the picture."""
    x0, y0, x1, y1 = zone.bbox
    w, h = x1 - x0, y1 - y0
    return (
        int(max(0, round(x0 - 0.6 * w))),
        int(max(0, round(y0 - 1.4 * h))),
        int(min(width, round(x1 + 0.6 * w))),
        int(min(height, round(y1 + 0.2 * h))),
    )


@dataclass(frozen=True, eq=False)
class BoxFramesResult:
    """The kept crops: `times` (video seconds) and `jpegs` (JPEG bytes), in time order;
    `region`, the crop of the first view."""

    times: np.ndarray
    jpegs: tuple[bytes, ...]
    region: tuple[int, int, int, int] | None


@dataclass
class _State:
    regions: list[tuple[int, int, int, int]] | None = None
    view: int = 0
    times: list[float] = field(default_factory=list)
    jpegs: list[bytes] = field(default_factory=list)
    last: np.ndarray | None = None
    last_t: float = -np.inf


class BoxFrames:
    """Keeps JPEG crops of the region around `zone` (see the module docstring); `views`:
    (start_s, zone) of each later steady view of a nudged camera, in time order, from whose
    start the crop is taken around that view's zone."""

    def __init__(
        self,
        zone: Zone,
        *,
        views: Sequence[tuple[float, Zone]] = (),
        fps: float = 2.0,
        idle_s: float = 5.0,
        change: float = 4.0,
        quality: int = 80,
        max_frames: int = 20000,
    ) -> None:
        zones = [zone, *(z for _, z in views)]
        bad = [type(z).__name__ for z in zones if not isinstance(z, Zone)]
        if bad:
            raise ValueError(f"zone and views' zones must be Zones, got {', '.join(bad)}")
        starts = [float(t) for t, _ in views]
        if any(not b > a for a, b in zip([0.0, *starts], starts, strict=False)):
            raise ValueError(f"views must start after 0 s and in time order, got {starts}")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if not idle_s > 0:
            raise ValueError(f"idle_s must be positive, got {idle_s}")
        if not change >= 0:
            raise ValueError(f"change must be >= 0, got {change}")
        if not 10 <= quality <= 100:
            raise ValueError(f"quality must be in [10, 100], got {quality}")
        if max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        self.zone = zone
        self._zones, self._starts = zones, starts
        self.idle_s, self.change = float(idle_s), float(change)
        self.quality, self.max_frames = int(quality), int(max_frames)
        self._needs = Needs(video=True, fps=float(fps))
        self.reset()

    @property
    def needs(self) -> Needs:
        return self._needs

    def reset(self) -> None:
        self._s = _State()

    def start(self, info: StreamInfo) -> None:
        self._s.regions = [crop_region(z, info.width, info.height) for z in self._zones]

    def on_audio(self, chunk: AudioChunk) -> None:
        """Crops are pictures only."""

    def on_gap(self, gap: Gap) -> None:
        """After a gap the next frame is kept whatever it shows."""
        self._s.last, self._s.last_t = None, -np.inf

    def update(self, frame: Frame) -> None:
        s = self._s
        if s.regions is None:
            s.regions = [crop_region(z, frame.width, frame.height) for z in self._zones]
        t = frame.pts_s
        view = s.view
        while view < len(self._starts) and t >= self._starts[view]:
            view += 1
        if view != s.view:  # the box is elsewhere now: keep the first crop of the new view
            s.view, s.last, s.last_t = view, None, -np.inf
        x0, y0, x1, y1 = s.regions[view]
        # the change is judged on the region's luma alone (no colour conversion); the frame
        # is converted to colour only for a crop that is kept
        luma = cv2.extractChannel(frame.ycc_region(x0, y0, x1, y1), 0)
        if luma.size == 0:
            return
        small = cv2.resize(luma, (32, 32), interpolation=cv2.INTER_AREA)
        changed = s.last is None or cv2.mean(cv2.absdiff(small, s.last))[0] > self.change
        idle = t - s.last_t >= self.idle_s
        if not (idle or (changed and len(s.times) < self.max_frames)):
            return
        crop = frame.image[y0:y1, x0:x1]
        ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            return
        s.times.append(float(t))
        s.jpegs.append(buf.tobytes())
        s.last, s.last_t = small, t

    def result(self) -> BoxFramesResult:
        s = self._s
        region = s.regions[0] if s.regions else None
        return BoxFramesResult(np.asarray(s.times, float), tuple(s.jpegs), region)


def strip_frames(
    frames: BoxFramesResult,
    windows: Sequence[tuple[float, float]],
    *,
    per_window: int = 6,
    before_s: float = 2.0,
    after_s: float = 3.0,
) -> pd.DataFrame:
    """Up to `per_window` kept crops spread evenly over each window (start_s, end_s), widened
    by `before_s` and `after_s`, as PNG (`FRAME_COLUMNS`), each crop once, in time order."""
    if per_window < 1:
        raise ValueError(f"per_window must be >= 1, got {per_window}")
    chosen: set[int] = set()
    t = frames.times
    for a, b in windows:
        idx = np.flatnonzero((t >= a - before_s) & (t <= b + after_s))
        if idx.size > per_window:
            idx = idx[np.round(np.linspace(0, idx.size - 1, per_window)).astype(int)]
        chosen.update(int(i) for i in idx)
    rows = []
    for i in sorted(chosen):
        image = cv2.imdecode(np.frombuffer(frames.jpegs[i], np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            continue
        ok, png = cv2.imencode(".png", image)
        if ok:
            rows.append((float(t[i]), png.tobytes()))
    return pd.DataFrame(rows, columns=FRAME_COLUMNS).astype({"t_s": float})
