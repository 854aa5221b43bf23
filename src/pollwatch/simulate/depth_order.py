"""Painter's order for one frame: far to near, with furniture pasted over what it hides.

People and the ballot box are ordered by their floor distance from the camera. A furniture
sprite (table, booth, chair back, the board hiding the box) hides a person when the floor line
from the camera to the person crosses the furniture's footprint; it is then pasted after that
person and before everything it does not hide that overlaps it on screen. The constraints form a
small graph that is sorted topologically (a cycle, rare, is broken at the farthest item).
"""

from __future__ import annotations

import functools
import heapq
import math
from dataclasses import dataclass

from pollwatch.simulate.camera_model import PinholeCamera
from pollwatch.simulate.figures import Figure
from pollwatch.simulate.scene import Sprite

__all__ = ["Drawable", "boxes_overlap", "painter_order", "segment_hits"]


def segment_hits(
    c: tuple[float, float], p: tuple[float, float], poly: tuple[tuple[float, float], ...]
) -> bool:
    """Does the floor segment c→p pass through the convex polygon `poly` (Cyrus–Beck)?"""
    t0, t1 = 0.0, 1.0
    dx, dy = p[0] - c[0], p[1] - c[1]
    n = len(poly)
    # orientation of the polygon, so that edge normals point outwards
    area = sum(
        poly[i][0] * poly[(i + 1) % n][1] - poly[(i + 1) % n][0] * poly[i][1] for i in range(n)
    )
    sign = 1.0 if area > 0 else -1.0
    for i in range(n):
        ax, ay = poly[i]
        bx, by = poly[(i + 1) % n]
        nx, ny = sign * (by - ay), -sign * (bx - ax)  # outward normal
        num = nx * (ax - c[0]) + ny * (ay - c[1])
        den = nx * dx + ny * dy
        if abs(den) < 1e-12:
            if num < 0:
                return False
            continue
        t = num / den
        if den > 0:
            t1 = min(t1, t)
        else:
            t0 = max(t0, t)
        if t0 > t1:
            return False
    return t1 > t0 + 1e-6


def boxes_overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Do two pixel boxes (x0, y0, x1, y1) overlap?"""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@dataclass
class Drawable:
    """One thing to draw this frame: a body, a reaching arm, the box, or a furniture sprite.

    `dist` is the floor distance from the camera (far first), `point` the floor point used to
    test whether furniture hides it, `bbox` its pixel bounds.
    """

    kind: str  # body, reach, box, sprite
    dist: float
    bbox: tuple[int, int, int, int]
    point: tuple[float, float]
    figure: Figure | None = None
    sprite: Sprite | None = None
    region: tuple[int, int, int, int] | None = None  # sprites: where the hidden things are


@functools.lru_cache(maxsize=4096)
def _hides(
    c: tuple[float, float], p: tuple[float, float], poly: tuple[tuple[float, float], ...]
) -> bool:
    """`segment_hits`, remembered: still people ask the same question every frame."""
    return segment_hits(c, p, poly)


@functools.lru_cache(maxsize=256)
def _nearest(c: tuple[float, float], poly: tuple[tuple[float, float], ...]) -> float:
    return min(math.hypot(x - c[0], y - c[1]) for x, y in poly)


def painter_order(
    dyn: list[Drawable], sprites: tuple[Sprite, ...], cam: PinholeCamera
) -> list[Drawable]:
    """Far-to-near drawing order of the moving things (`dyn`) and of the furniture that hides
    some of them; a piece of furniture enters the list only where it hides something."""
    if not dyn:
        return []
    c = (cam.x, cam.y)
    nodes = list(dyn)
    hidden_by: dict[int, set[int]] = {}
    for s in sprites:
        sx0, sy0, sx1, sy1 = sb = s.bounds
        behind = set()
        for i, d in enumerate(dyn):
            b = d.bbox
            if (
                sx0 < b[2]
                and b[0] < sx1
                and sy0 < b[3]
                and b[1] < sy1
                and _hides(c, d.point, s.footprint)
            ):
                behind.add(i)
        if behind:
            hidden_by[len(nodes)] = behind
            boxes = [dyn[i].bbox for i in behind]
            region = (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
            dist = _nearest(c, s.footprint)
            nodes.append(Drawable("sprite", dist, sb, (0.0, 0.0), sprite=s, region=region))
    if len(nodes) == 1:
        return nodes
    n = len(nodes)
    after: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    rank = {"body": 0, "box": 1, "reach": 2}
    for i in range(n):
        a = nodes[i]
        ax0, ay0, ax1, ay1 = a.bbox
        for j in range(i + 1, n):
            b = nodes[j]
            bb = b.bbox
            if not (ax0 < bb[2] and bb[0] < ax1 and ay0 < bb[3] and bb[1] < ay1):
                continue
            if a.kind == "sprite" and b.kind == "sprite":
                first, second = (i, j) if a.dist >= b.dist else (j, i)
            elif a.kind == "sprite" or b.kind == "sprite":
                s_i, d_i = (i, j) if a.kind == "sprite" else (j, i)
                first, second = (d_i, s_i) if d_i in hidden_by[s_i] else (s_i, d_i)
            elif (
                (a.kind == "box" and b.kind == "reach")
                or (a.kind == "reach" and b.kind == "box")
                or (a.figure is not None and a.figure is b.figure)
            ):
                first, second = (i, j) if rank[a.kind] <= rank[b.kind] else (j, i)
            else:
                first, second = (i, j) if a.dist >= b.dist else (j, i)
            after[first].append(second)
            indeg[second] += 1
    heap = [(-nodes[i].dist, i) for i in range(n) if indeg[i] == 0]
    heapq.heapify(heap)
    out: list[Drawable] = []
    done = [False] * n
    while len(out) < n:
        if not heap:  # a cycle: break it at the farthest remaining node
            k = max((i for i in range(n) if not done[i]), key=lambda i: nodes[i].dist)
            indeg[k] = 0
            heap.append((-nodes[k].dist, k))
        _, i = heapq.heappop(heap)
        if done[i]:
            continue
        done[i] = True
        out.append(nodes[i])
        for j in after[i]:
            indeg[j] -= 1
            if indeg[j] == 0 and not done[j]:
                heapq.heappush(heap, (-nodes[j].dist, j))
    return out
