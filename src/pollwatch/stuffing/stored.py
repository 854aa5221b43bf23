"""What the stuffing detector reads from the store, per camera: the counter's tables
(`counting/drops`, `series`, `facts`, `zone`) and when the box could be watched, as the counter
takes it (`camera_observability`: its own unobservable ranges and every registered observability
source's, the camera audit's among them, its `blurred` ranges left out — see
`pollwatch.counting.step.audit_ranges`). Nothing here decodes video.

`counting/zone` holds one row per steady view of a camera nudged during the day (start_s,
end_s: `pollwatch.counting.views.box_views`); an older table without them is one view."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pollwatch.counting.observability import Observability
from pollwatch.counting.step import camera_observability
from pollwatch.store import Camera, Store
from pollwatch.stuffing.fill import FillCurve, ViewHeight, fill_curve

__all__ = ["CameraData", "box_height", "camera_data", "view_heights"]


@dataclass(frozen=True, eq=False)
class CameraData:
    """One camera's inputs: its drops on observable time, the watcher's `series`, the pile's
    `curve` (None without a box zone), the per-ballot step (NaN: not resolved) and when the
    box could be watched."""

    camera: Camera
    drops: pd.DataFrame
    series: pd.DataFrame
    curve: FillCurve | None
    step_px: float
    observability: Observability


def _polygon_height(text: str) -> float:
    if not text:
        return float("nan")
    points = np.asarray(json.loads(text), float)
    return float(points[:, 1].max() - points[:, 1].min())


def box_height(zone: pd.DataFrame) -> float:
    """The box zone's height in pixels from a `counting/zone` table (its first view); NaN
    without a polygon."""
    if zone.empty:
        return float("nan")
    return _polygon_height(str(zone["polygon"].iloc[0] or ""))


def view_heights(zone: pd.DataFrame) -> list[ViewHeight]:
    """(start_s, end_s, box height px) of each steady view in a `counting/zone` table, in
    time order; one view over all time for a table without `start_s`/`end_s`; none without
    a polygon."""
    if zone.empty:
        return []
    if "start_s" not in zone or "end_s" not in zone:
        h = box_height(zone)
        return [(-np.inf, np.inf, h)] if np.isfinite(h) else []
    rows = zone.sort_values("start_s", kind="stable")
    out = []
    for text, a, b in rows[["polygon", "start_s", "end_s"]].itertuples(index=False):
        h = _polygon_height(str(text or ""))
        if np.isfinite(h):
            out.append((float(a), float(b), h))
    return out


def _reference(views: list[ViewHeight], end_s: float) -> float:
    """The height of the view watched longest: the counter's per-ballot step is that view's."""
    spans = [min(b, end_s) - max(a, 0.0) for a, b, _ in views]
    return views[int(np.argmax(spans))][2]


def camera_data(store: Store, camera: Camera) -> CameraData:
    """Read one camera's inputs; `NotFoundError` when its counting step has not run."""
    cid = camera.camera_id
    drops = store.read_table("counting", "drops", camera_id=cid)
    series = store.read_table("counting", "series", camera_id=cid)
    facts = store.read_table("counting", "facts", camera_id=cid)
    views = view_heights(store.read_table("counting", "zone", camera_id=cid))
    obs = camera_observability(store, camera)
    if len(drops):
        seen = np.asarray([obs.observable_at(float(t)) for t in drops["t_s"]], bool)
        drops = drops[seen].reset_index(drop=True)
    h = _reference(views, obs.end_s) if views else float("nan")
    curve = (
        fill_curve(
            series,
            h,
            views=views if len(views) > 1 else (),
            hidden=[(a, b) for a, b, _ in obs.unobservable],
        )
        if h > 0 and len(series)
        else None
    )
    step = float(facts["step_px"].iloc[0]) if "step_px" in facts else float("nan")
    return CameraData(camera, drops, series, curve, step, obs)
