"""Painter's order for one frame: far to near, with furniture pasted over what it hides.

People and the ballot box are ordered by their floor distance from the camera. A furniture
sprite (table, booth, chair back, the board hiding the box) hides a person when the floor line
from the camera to the person crosses the furniture's footprint; it is then pasted after that
person and before everything it does not hide that overlaps it on screen. The constraints form a
small graph that is sorted topologically (a cycle, rare, is broken at the farthest item).
"""

from __future__ import annotations

import heapq
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
        sb = (s.x0, s.y0, s.x1, s.y1)
        behind = {
            i
            for i, d in enumerate(dyn)
            if boxes_overlap(sb, d.bbox) and segment_hits(c, d.point, s.footprint)
        }
        if behind:
            hidden_by[len(nodes)] = behind
            dist = min(cam.floor_distance(x, y) for x, y in s.footprint)
            boxes = [dyn[i].bbox for i in behind]
            region = (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
            nodes.append(Drawable("sprite", dist, sb, (0.0, 0.0), sprite=s, region=region))
    if len(nodes) == 1:
        return nodes
    n = len(nodes)
    after: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    for i in range(n):
        for j in range(i + 1, n):
            a, b = nodes[i], nodes[j]
            if not boxes_overlap(a.bbox, b.bbox):
                continue
            if a.kind == "sprite" and b.kind == "sprite":
                first, second = (i, j) if a.dist >= b.dist else (j, i)
            elif a.kind == "sprite" or b.kind == "sprite":
                s_i, d_i = (i, j) if a.kind == "sprite" else (j, i)
                first, second = (d_i, s_i) if d_i in hidden_by[s_i] else (s_i, d_i)
            elif {a.kind, b.kind} == {"box", "reach"} or (
                a.figure is not None and a.figure is b.figure
            ):
                order = {"body": 0, "box": 1, "reach": 2}
                first, second = (i, j) if order[a.kind] <= order[b.kind] else (j, i)
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
