"""From the drawn BGR canvas to the exposed I420 picture, converting only what changed.

The renderer says where its canvas differs from the view's background (`drawn`) and where it
may differ from the last canvas (`changed`); `DirtyRects` grows such rectangles to even pixels
and merges them. `PictureMaker` keeps each view's background converted to I420 and exposed at
the current gain (gains come in 1/1024 steps, so one exposed background serves runs of
frames), and keeps the last picture: in the changed rectangles only the box around the pixels
that differ from the last canvas is converted and exposed again. OpenCV converts BGR to I420
in independent 2×2 blocks and exposure is a per-pixel lookup, so the result is exactly what
converting and exposing the whole canvas would give, for a fraction of the work.
"""

from __future__ import annotations

from collections.abc import Hashable

import cv2
import numpy as np

from pollwatch.simulate.sensor import ExposureLuts, expose_planes

__all__ = ["DirtyRects", "PictureMaker", "Rect"]

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), pixels


class DirtyRects:
    """The rectangles drawn into one frame, clipped to it and grown to even pixel bounds."""

    def __init__(self, width: int, height: int) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"frame size must be even, got {width}×{height}")
        self.width, self.height = width, height
        self._rects: list[Rect] = []

    def clear(self) -> None:
        self._rects.clear()

    def add(self, rect: Rect | None) -> None:
        """Mark (x0, y0, x1, y1) as drawn; None or an empty rectangle marks nothing."""
        if rect is None:
            return
        x0, y0 = max(rect[0], 0) & ~1, max(rect[1], 0) & ~1
        x1, y1 = min(rect[2] + (rect[2] & 1), self.width), min(rect[3] + (rect[3] & 1), self.height)
        if x0 < x1 and y0 < y1:
            self._rects.append((x0, y0, x1, y1))

    def add_all(self) -> None:
        """Mark the whole frame (after a full-frame filter such as defocus)."""
        self._rects = [(0, 0, self.width, self.height)]

    def merged(self) -> list[Rect]:
        """The marked rectangles with overlapping ones replaced by their bounding rectangle."""
        out: list[Rect] = []
        for r in self._rects:
            i = 0
            while i < len(out):
                o = out[i]
                if r[0] < o[2] and o[0] < r[2] and r[1] < o[3] and o[1] < r[3]:
                    r = (min(r[0], o[0]), min(r[1], o[1]), max(r[2], o[2]), max(r[3], o[3]))
                    out.pop(i)
                    i = 0
                else:
                    i += 1
            out.append(r)
        return out


class PictureMaker:
    """Keeps the exposed I420 picture of a canvas up to date from frame to frame.

    Only what differs from the previous frame's canvas is converted: the rectangles where it
    may have changed are compared with the previous canvas, and the box around the pixels that
    changed is converted and exposed. A new view or exposure starts again from the view's
    exposed background and converts everything drawn over it.
    """

    def __init__(self, width: int, height: int) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"frame size must be even, got {width}×{height}")
        self.width, self.height = width, height
        self._plain: dict[Hashable, np.ndarray] = {}
        self._exposed: tuple[Hashable, int, np.ndarray] | None = None
        self._state: tuple[Hashable, int] | None = None  # view and gain of `_out`
        self._out = np.empty((height * 3 // 2, width), np.uint8)
        self._canvas = np.empty((height, width, 3), np.uint8)  # the last canvas
        quarter = (height // 2) * (width // 2)
        flat = self._out.reshape(-1)
        self._u = flat[height * width : height * width + quarter].reshape(height // 2, width // 2)
        self._v = flat[height * width + quarter :].reshape(height // 2, width // 2)

    def _background(
        self, key: Hashable, background: np.ndarray, exposure: tuple[int, ExposureLuts]
    ) -> np.ndarray:
        gain_q, luts = exposure
        cached = self._exposed
        if cached is not None and cached[0] == key and cached[1] == gain_q:
            return cached[2]
        plain = self._plain.get(key)
        if plain is None:
            plain = cv2.cvtColor(background, cv2.COLOR_BGR2YUV_I420)
            self._plain[key] = plain
        exposed = plain.copy()
        expose_planes(exposed[: self.height], exposed[self.height :], luts)
        self._exposed = (key, gain_q, exposed)
        return exposed

    def picture(
        self,
        canvas: np.ndarray,
        key: Hashable,
        background: np.ndarray,
        drawn: list[Rect],
        changed: list[Rect],
        exposure: tuple[int, ExposureLuts],
    ) -> np.ndarray:
        """The exposed I420 picture ((H·3/2, W) uint8) of `canvas` (H, W, 3 BGR).

        `canvas` must equal `background` (identified by `key`) outside `drawn`, and the last
        canvas given outside `changed`; `exposure` is (gain in 1/1024, lookup tables) as
        `Sensor.luts` gives it. The array returned is this maker's own and changes with the
        next call.
        """
        h, w = self.height, self.width
        if canvas.shape != (h, w, 3) or background.shape != (h, w, 3):
            raise ValueError(f"canvas and background must be {h}×{w}×3")
        luts = exposure[1]
        state = (key, exposure[0])
        marked = DirtyRects(w, h)
        if state != self._state:
            np.copyto(self._out, self._background(key, background, exposure))
            np.copyto(self._canvas, canvas)
            for r in drawn:
                marked.add(r)
            for r in marked.merged():
                self._convert(canvas, r, luts)
        else:
            for r in changed:
                marked.add(r)
            for x0, y0, x1, y1 in marked.merged():
                now, before = canvas[y0:y1, x0:x1], self._canvas[y0:y1, x0:x1]
                diff = cv2.absdiff(now, before).reshape(y1 - y0, -1)
                dx, dy, dw, dh = cv2.boundingRect(diff)
                if dw == 0:
                    continue
                # the box of changed pixels (columns of diff are bytes, three per pixel)
                cx0, cx1 = x0 + dx // 3, x0 + (dx + dw + 2) // 3
                box = (cx0 & ~1, (y0 + dy) & ~1, cx1 + (cx1 & 1), y0 + dy + dh + (dh + dy) % 2)
                self._convert(canvas, box, luts)
                np.copyto(before, now)
        self._state = state
        return self._out

    def _convert(self, canvas: np.ndarray, rect: Rect, luts: ExposureLuts) -> None:
        x0, y0, x1, y1 = rect
        rh, rw = y1 - y0, x1 - x0
        part = cv2.cvtColor(canvas[y0:y1, x0:x1], cv2.COLOR_BGR2YUV_I420)
        expose_planes(part[:rh], part[rh:], luts)
        p = part.reshape(-1)
        q = (rh // 2) * (rw // 2)
        self._out[y0:y1, x0:x1] = p[: rh * rw].reshape(rh, rw)
        self._u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = p[rh * rw : rh * rw + q].reshape(
            rh // 2, rw // 2
        )
        self._v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = p[rh * rw + q :].reshape(rh // 2, rw // 2)
