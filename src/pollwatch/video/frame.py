"""What the engine hands to analysers: frames, audio chunks, gaps and stream facts.

A `Frame` decodes lazily: the BGR image, or a gray or downscaled variant, is computed the first
time an analyser asks for it and then shared by every analyser of that frame. Arrays handed out
are read-only, so an analyser cannot change what the next one sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

import cv2
import numpy as np

from pollwatch.errors import InputProblem

__all__ = ["AudioChunk", "Frame", "Gap", "GapKind", "RegionPlanes", "StreamInfo", "wall_time"]

GapKind = Literal["outage", "damaged", "truncated", "unreadable"]

# Limited-range ("TV", 16..235) luma to full-range gray, as swscale would convert it.
_LIMITED_TO_FULL = np.clip(
    np.round((np.arange(256, dtype=np.float32) - 16.0) * (255.0 / 219.0)), 0, 255
).astype(np.uint8)
# Limited-range chroma (16..240) to full range, as JPEG's YCbCr expects.
_CHROMA_TO_FULL = np.clip(
    np.round((np.arange(256, dtype=np.float32) - 128.0) * (255.0 / 224.0) + 128.0), 0, 255
).astype(np.uint8)
_PLANAR_YUV = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p"})


def _plane(raw: Any, i: int, plane: Any = None) -> np.ndarray:
    """The frame's plane `i` (or the `plane` given, one of `raw.planes`) as a 2-D view."""
    plane = raw.planes[i] if plane is None else plane
    return np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]


def _full_range(raw: Any) -> bool:
    return raw.format.name.startswith("yuvj") or raw.color_range == 2


def _yuv_to_bgr(raw: Any, size: tuple[int, int]) -> np.ndarray:
    """BGR at `size` straight from the planes of a planar YUV frame (BT.601)."""
    planes = []
    for i, lut in ((0, _LIMITED_TO_FULL), (2, _CHROMA_TO_FULL), (1, _CHROMA_TO_FULL)):
        p = _plane(raw, i)
        if p.shape[::-1] != size:
            down = p.shape[1] > size[0]
            p = cv2.resize(p, size, interpolation=cv2.INTER_AREA if down else cv2.INTER_LINEAR)
        planes.append(p if _full_range(raw) else cv2.LUT(p, lut))
    return cv2.cvtColor(cv2.merge(planes), cv2.COLOR_YCrCb2BGR)


def wall_time(start_time: datetime | None, t_s: float | None) -> datetime | None:
    """The wall-clock time `t_s` seconds after `start_time` (None if either is None)."""
    if start_time is None or t_s is None:
        return None
    return start_time + timedelta(seconds=t_s)


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _size(width: int, height: int, scale: float) -> tuple[int, int]:
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    return max(1, round(width * scale)), max(1, round(height * scale))


class RegionPlanes(NamedTuple):
    """A region of a frame as its planes hold it (`Frame.region_planes`): `box` (x0, y0, x1,
    y1, clipped to the image), its `luma` and the two chroma planes' rows and columns that
    cover it (`cb`, `cr`), each chroma sample standing for `fy` × `fx` image pixels: image
    pixel (y, x) goes with chroma (y // fy − y0 // fy, x // fx − x0 // fx) of the crops."""

    box: tuple[int, int, int, int]
    luma: np.ndarray
    cb: np.ndarray
    cr: np.ndarray
    fy: int
    fx: int


@dataclass(frozen=True, eq=False)
class Frame:
    """One video frame.

    `index` is the frame's position on the stream's nominal frame grid (pts × fps), so it stays
    meaningful when frames are sampled or missing; `pts_s` is seconds from the first frame;
    `wall` the wall-clock time (None without a start time). `width`×`height` is the size of
    `image`; `source_scale` is image pixels per source-video pixel (the engine may downscale).
    """

    index: int
    pts_s: float
    wall: datetime | None
    width: int
    height: int
    source_scale: float = 1.0
    _raw: Any = field(default=None, repr=False)
    _cache: dict[tuple[str, float], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_image(
        cls,
        image: np.ndarray,
        *,
        index: int = 0,
        pts_s: float = 0.0,
        wall: datetime | None = None,
        source_scale: float = 1.0,
    ) -> Frame:
        """A frame from a BGR (H, W, 3) or gray (H, W) uint8 array (tests, still images)."""
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError(f"image must be uint8 (H, W) or (H, W, 3), got {image.shape}")
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        frame = cls(index, pts_s, wall, image.shape[1], image.shape[0], source_scale)
        frame._cache[("bgr", 1.0)] = _readonly(np.array(image, copy=True))
        return frame

    @classmethod
    def from_av(
        cls,
        raw: Any,
        *,
        index: int,
        pts_s: float,
        wall: datetime | None,
        source_scale: float = 1.0,
    ) -> Frame:
        """A frame backed by a decoded `av.VideoFrame`, converted only on demand."""
        width, height = _size(raw.width, raw.height, source_scale)
        return cls(index, pts_s, wall, width, height, source_scale, raw)

    @property
    def image(self) -> np.ndarray:
        """The BGR image (read-only), `height`×`width`×3."""
        return self.bgr(1.0)

    def bgr(self, scale: float = 1.0) -> np.ndarray:
        """The BGR image downscaled by `scale` (0 < scale ≤ 1), computed once per frame."""
        key = ("bgr", float(scale))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        size = _size(self.width, self.height, scale)
        raw = self._raw
        if ("bgr", 1.0) in self._cache or raw is None:
            out = cv2.resize(self.bgr(1.0), size, interpolation=cv2.INTER_AREA)
        elif raw.format.name in _PLANAR_YUV:
            out = _yuv_to_bgr(raw, size)
        else:
            out = raw.to_ndarray(format="bgr24", width=size[0], height=size[1])
        self._cache[key] = _readonly(out)
        return self._cache[key]

    def ycc(self, scale: float = 1.0) -> np.ndarray:
        """Luma and two chroma channels (H×W×3 uint8, full range) downscaled by `scale`, for
        measuring pixel differences, not for display: from a YUV frame its planes (no colour
        conversion), otherwise OpenCV's YCrCb of the BGR image."""
        key = ("ycc", float(scale))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        size = _size(self.width, self.height, scale)
        raw = self._raw
        if ("bgr", 1.0) in self._cache or raw is None or raw.format.name not in _PLANAR_YUV:
            out = cv2.cvtColor(self.bgr(scale), cv2.COLOR_BGR2YCrCb)
        else:
            planes = []
            for i in range(3):
                p = _plane(raw, i)
                if p.shape[::-1] != size:
                    down = p.shape[1] > size[0]
                    p = cv2.resize(
                        p, size, interpolation=cv2.INTER_AREA if down else cv2.INTER_LINEAR
                    )
                planes.append(p)
            out = cv2.merge(planes)
        self._cache[key] = _readonly(out)
        return self._cache[key]

    def _planes(self) -> list[np.ndarray]:
        """The raw frame's three planes as read-only arrays (so are their slices), read once
        per frame (region readers ask for them several times a frame)."""
        cached = self._cache.get(("planes", 0.0))
        if cached is None:  # `planes` builds its plane objects anew at every access: once
            planes = self._raw.planes
            cached = self._cache[("planes", 0.0)] = [
                _readonly(_plane(self._raw, i, planes[i])) for i in range(3)
            ]
        return cached

    def _planes_at_full_size(self) -> bool:
        if ("ycc", 1.0) in self._cache:
            return False
        planar = self._cache.get(("planar", 0.0))
        if planar is None:  # PyAV builds the format's objects at every access: once a frame
            raw = self._raw
            planar = self._cache[("planar", 0.0)] = (
                raw is not None
                and raw.format.name in _PLANAR_YUV
                and (raw.width, raw.height) == (self.width, self.height)
            )
        return planar

    def _clip(self, x0: int, y0: int, x1: int, y1: int) -> tuple[int, int, int, int]:
        return max(0, int(x0)), max(0, int(y0)), min(self.width, int(x1)), min(self.height, int(y1))

    def ycc_region(self, x0: int, y0: int, x1: int, y1: int, step: int = 1) -> np.ndarray:
        """`ycc(1.0)[y0:y1:step, x0:x1:step]` (clipped to the image), but from a YUV frame at
        full size only the region's pixels are read: for analysers that watch a small part of
        the picture many times a second. `step` 2 gives every other row and column (a 4:2:0
        frame's chroma planes hold exactly those, so nothing is resampled). Not cached."""
        if step not in (1, 2):
            raise ValueError(f"step must be 1 or 2, got {step}")
        x0, y0, x1, y1 = self._clip(x0, y0, x1, y1)
        if x1 <= x0 or y1 <= y0:
            return _readonly(np.zeros((max(y1 - y0, 0), max(x1 - x0, 0), 3), np.uint8))
        if not self._planes_at_full_size():
            return _readonly(np.ascontiguousarray(self.ycc(1.0)[y0:y1:step, x0:x1:step]))
        luma, *chroma = self._planes()  # the frame's size is the raw frame's (full size)
        factors = [(self.height // p.shape[0], self.width // p.shape[1]) for p in chroma]
        if step == 2 and factors == [(2, 2), (2, 2)]:
            # pixel (y0 + 2j, x0 + 2i) reads chroma ((y0 + 2j) // 2, (x0 + 2i) // 2)
            rows, cols = -(-(y1 - y0) // 2), -(-(x1 - x0) // 2)
            cy, cx = y0 // 2, x0 // 2
            out = np.empty((rows, cols, 3), np.uint8)
            out[..., 0] = luma[y0:y1:2, x0:x1:2]
            out[..., 1] = chroma[0][cy : cy + rows, cx : cx + cols]
            out[..., 2] = chroma[1][cy : cy + rows, cx : cx + cols]
            return _readonly(out)
        planes = [np.ascontiguousarray(luma[y0:y1, x0:x1])]
        for p, (fy, fx) in zip(chroma, factors, strict=True):
            sub = p[y0 // fy : -(-y1 // fy), x0 // fx : -(-x1 // fx)]
            if fy > 1 or fx > 1:
                size = (sub.shape[1] * fx, sub.shape[0] * fy)
                sub = cv2.resize(sub, size, interpolation=cv2.INTER_NEAREST)
            sub = sub[y0 % fy : y0 % fy + (y1 - y0), x0 % fx : x0 % fx + (x1 - x0)]
            planes.append(np.ascontiguousarray(sub))
        out = cv2.merge(planes)
        return _readonly(out if step == 1 else np.ascontiguousarray(out[::step, ::step]))

    def region_planes(self, x0: int, y0: int, x1: int, y1: int) -> RegionPlanes:
        """The region (clipped to the image) as read-only views of the decoded planes, not
        resampled (`RegionPlanes`): an analyser that copies a small region many times a
        second takes three slices and derives `ycc_region`'s pixels from them itself (every
        step-1 and step-2 pixel of `ycc_region` is luma (y, x) with chroma (y // fy, x // fx)).
        From a frame whose planes are not YUV at the image's size, `ycc_region`'s channels
        (fy = fx = 1). Views of the decoder's buffer: copy what is kept."""
        x0, y0, x1, y1 = self._clip(x0, y0, x1, y1)
        x1, y1 = max(x0, x1), max(y0, y1)
        if x1 > x0 and self._planes_at_full_size():
            luma, cb, cr = self._planes()  # read-only: so are the slices
            fy, fx = self.height // cb.shape[0], self.width // cb.shape[1]
            if cr.shape == cb.shape:
                rows = slice(y0 // fy, (y1 - 1) // fy + 1)
                cols = slice(x0 // fx, (x1 - 1) // fx + 1)
                box = (x0, y0, x1, y1)
                return RegionPlanes(box, luma[y0:y1, x0:x1], cb[rows, cols], cr[rows, cols], fy, fx)
        ycc = self.ycc_region(x0, y0, x1, y1)
        return RegionPlanes((x0, y0, x1, y1), ycc[..., 0], ycc[..., 1], ycc[..., 2], 1, 1)

    def luma_region(self, x0: int, y0: int, x1: int, y1: int, step: int = 1) -> np.ndarray:
        """`ycc_region(x0, y0, x1, y1, step)[..., 0]` (the luma plane's own values,
        contiguous), read without touching the chroma planes. Not cached."""
        if step not in (1, 2):
            raise ValueError(f"step must be 1 or 2, got {step}")
        x0, y0, x1, y1 = self._clip(x0, y0, x1, y1)
        if x1 <= x0 or y1 <= y0:
            return _readonly(np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), np.uint8)[::step, ::step])
        if not self._planes_at_full_size():
            luma = self.ycc(1.0)[y0:y1:step, x0:x1:step, 0]
        else:
            luma = self._planes()[0][y0:y1:step, x0:x1:step]
        return _readonly(np.ascontiguousarray(luma))

    def gray(self, scale: float = 1.0) -> np.ndarray:
        """The full-range gray image downscaled by `scale`, computed once per frame.

        From a YUV frame this reads the luma plane directly, without a colour conversion.
        """
        key = ("gray", float(scale))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        size = _size(self.width, self.height, scale)
        raw = self._raw
        if ("bgr", 1.0) in self._cache or raw is None or raw.format.name not in _PLANAR_YUV:
            full = cv2.cvtColor(self.bgr(1.0), cv2.COLOR_BGR2GRAY)
            out = full if full.shape[::-1] == size else cv2.resize(full, size, cv2.INTER_AREA)
        else:
            planes = self._cache.get(("planes", 0.0))  # read already by a region reader
            luma = _plane(raw, 0) if planes is None else planes[0]
            if luma.shape[::-1] != size:
                luma = cv2.resize(luma, size, interpolation=cv2.INTER_AREA)
            out = luma.copy() if _full_range(raw) else cv2.LUT(luma, _LIMITED_TO_FULL)
        self._cache[key] = _readonly(out)
        return self._cache[key]


@dataclass(frozen=True, eq=False)
class AudioChunk:
    """Decoded audio: mono float32 samples in [-1, 1] starting `t_s` seconds from the first
    video frame (`wall` its wall-clock time)."""

    t_s: float
    samples: np.ndarray
    sample_rate: int
    wall: datetime | None = None

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.sample_rate


@dataclass(frozen=True)
class Gap:
    """A stretch of the recording with no usable video, `start_s`..`end_s` seconds.

    `kind`: "outage" (timestamps jump: the camera recorded nothing), "damaged" (bytes that
    could not be demuxed or decoded), "truncated" (the file ends before its declared duration),
    "unreadable" (nothing could be read at all). `end_s` is None when the end is unknown.
    `reason` says what happened; `message` names the file and the time, for the report.
    """

    start_s: float
    end_s: float | None
    kind: GapKind
    reason: str
    file: str = ""
    start_wall: datetime | None = None
    end_wall: datetime | None = None

    @property
    def duration_s(self) -> float | None:
        return None if self.end_s is None else self.end_s - self.start_s

    @property
    def problem(self) -> InputProblem:
        """The gap as an input problem (file, time, what happened)."""
        return InputProblem(file=self.file, message=self.reason, time_s=self.start_s)

    @property
    def message(self) -> str:
        return str(self.problem)


@dataclass(frozen=True)
class StreamInfo:
    """Facts about one recording, told to every analyser before the first frame.

    `width`/`height`/`fps` are of the source video; `duration_s` the declared duration (None
    when the container does not say); `has_audio` False when the file has no audio stream.
    """

    path: str
    width: int
    height: int
    fps: float
    duration_s: float | None
    has_audio: bool
    sample_rate: int | None
    start_time: datetime | None
    video_codec: str
    container: str
