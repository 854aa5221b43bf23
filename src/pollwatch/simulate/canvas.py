"""One view's BGR picture kept from frame to frame: only what changed is drawn again.

Each frame the renderer hands over everything to draw (people, reaching arms, the box) with an
identity, a state and the pixel extent its drawing may touch. An item whose state and extent
are as in the last frame draws the same pixels over the same pixels as then, unless something
under or over it changed. So the region to draw again starts with the extents of the items
that are new, gone or changed, and grows by the extent of every item that touches it, until
no more do; there the background is restored and the items that touch the region are drawn in
painter's order, with furniture pasted back over whom it hides (inside the region only).
Everything else is left as it was. A new view, or `redraw=True`, draws the whole picture.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from pollwatch.simulate.camera_model import PinholeCamera
from pollwatch.simulate.depth_order import Drawable, painter_order
from pollwatch.simulate.picture import Rect
from pollwatch.simulate.scene import Sprite

__all__ = ["Canvas", "Item"]

# (identity, state, extent, drawable); state None: changed every frame
Item = tuple[Hashable, object, Rect, Drawable]


def _touches(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class Canvas:
    """The picture of one camera, drawn incrementally; `frame` is valid after `update`."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.frame = np.empty((height, width, 3), np.uint8)
        self.drawn: list[Rect] = []  # where the picture differs from the background
        self.changed: list[Rect] = []  # where it may differ from the last picture
        self.view: Any = None  # what `update` was last given as the view
        self._last: dict[Hashable, tuple[object, Rect]] = {}

    def update(
        self,
        view: object,
        background: np.ndarray,
        sprites: tuple[Sprite, ...],
        camera: PinholeCamera,
        items: list[Item],
        paint: Callable[[Drawable, np.ndarray], None],
        *,
        redraw: bool = False,
    ) -> np.ndarray:
        """Bring `frame` to this frame's picture; `paint(drawable, frame)` draws one item."""
        frame = self.frame
        last = self._last
        now = {ident: (state, extent) for ident, state, extent, _ in items}
        whole = (0, 0, self.width, self.height)
        if redraw or view is not self.view:
            np.copyto(frame, background)
            rects = [whole]
            todo = [d for _, _, _, d in items]
        else:
            changed: list[Rect] = []
            for ident, state, extent, _ in items:
                before = last.get(ident)
                if state is None or before is None or before[0] != state or before[1] != extent:
                    changed.append(extent)
                    if before is not None and before[1] != extent:
                        changed.append(before[1])
            for ident, (_, extent) in last.items():
                if ident not in now:
                    changed.append(extent)
            rects, todo = self._grow(changed, items)
            for x0, y0, x1, y1 in rects:
                frame[y0:y1, x0:x1] = background[y0:y1, x0:x1]
        for d in painter_order(todo, sprites, camera):
            if d.kind != "sprite":
                paint(d, frame)
                continue
            # furniture is the background's own pixels, pasted over whom it hides: only
            # inside the region drawn again, the rest is as it was
            rx0, ry0, rx1, ry1 = d.region  # type: ignore[misc]
            for x0, y0, x1, y1 in rects:
                clip = (max(x0, rx0), max(y0, ry0), min(x1, rx1), min(y1, ry1))
                if clip[0] < clip[2] and clip[1] < clip[3]:
                    d.sprite.paste(frame, clip)  # type: ignore[union-attr]
        self.view = view
        self._last = now
        self.drawn = [extent for _, _, extent, _ in items]
        self.changed = rects
        return frame

    def _even(self, r: Rect) -> Rect:
        """`r` grown to even bounds (I420 shares chroma among 2×2 pixels) and clipped."""
        return (
            max(r[0], 0) & ~1,
            max(r[1], 0) & ~1,
            min(r[2] + (r[2] & 1), self.width),
            min(r[3] + (r[3] & 1), self.height),
        )

    def _grow(self, changed: list[Rect], items: list[Item]) -> tuple[list[Rect], list[Drawable]]:
        """The region to draw again (even rectangles): what changed, and the extent of every
        item touching it, until none is left; and those items, in the given order."""
        rects = [self._even(r) for r in changed]
        extents = [self._even(extent) for _, _, extent, _ in items]
        inside = [False] * len(items)
        queue = [i for i, e in enumerate(extents) if any(_touches(e, r) for r in rects)]
        for i in queue:
            inside[i] = True
        while queue:
            i = queue.pop()
            rects.append(extents[i])
            for j, e in enumerate(extents):
                if not inside[j] and _touches(e, extents[i]):
                    inside[j] = True
                    queue.append(j)
        todo = [d for (_, _, _, d), keep in zip(items, inside, strict=True) if keep]
        # the same region with fewer rectangles: none empty, repeated or inside another
        rects = sorted({r for r in rects if r[0] < r[2] and r[1] < r[3]})
        kept = [
            r
            for r in rects
            if not any(
                o != r and o[0] <= r[0] and o[1] <= r[1] and r[2] <= o[2] and r[3] <= o[3]
                for o in rects
            )
        ]
        return kept, todo
