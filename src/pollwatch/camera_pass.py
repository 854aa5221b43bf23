"""One decode, many analysers: the camera step that runs every video analyser in one pass.

A part that analyses video registers a `VideoAnalyserSpec` in `VIDEO_ANALYSERS`: `make` builds
its analyser for a camera (from the camera's row: box polygon, reference image, start time),
`save` writes the analyser's result to the store. The camera step "video" builds every
registered analyser, decodes the recording once with `pollwatch.video.analyse_video`, then
saves each result, and records the engine's gaps (outages, damage, truncation) in the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pollwatch.case import CasePaths
from pollwatch.pipeline import CAMERA_STEPS
from pollwatch.registry import Registry
from pollwatch.store import Camera, Store
from pollwatch.video import analyse_video

__all__ = ["VIDEO_ANALYSERS", "VideoAnalyserSpec", "gaps_frame", "run_camera_pass"]


@dataclass(frozen=True)
class VideoAnalyserSpec:
    """How one part joins the single decode pass: build its analyser, then save its result."""

    make: Callable[[Camera, CasePaths], Any]
    save: Callable[[Store, Camera, Any], None]


VIDEO_ANALYSERS: Registry[VideoAnalyserSpec] = Registry(
    "video analyser", modules=("pollwatch.audit.stored",)
)

GAP_COLUMNS = ["start_s", "end_s", "kind", "reason"]


def gaps_frame(gaps: Any) -> pd.DataFrame:
    """The engine's gaps as a table (start_s, end_s, kind, reason); end_s NaN when unknown."""
    rows = [
        {
            "start_s": float(g.start_s),
            "end_s": float("nan") if g.end_s is None else float(g.end_s),
            "kind": str(g.kind),
            "reason": str(g.reason),
        }
        for g in gaps
    ]
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


def run_camera_pass(camera: Camera, paths: CasePaths, store: Store) -> None:
    """Decode the camera's recording once, feeding every registered video analyser."""
    path = camera.source_path(paths.root)
    if path is None:
        raise ValueError(f"{camera.source}: stream addresses are not analysed; record a file")
    specs = list(VIDEO_ANALYSERS.items())
    analysers = [spec.make(camera, paths) for _, spec in specs]
    run = analyse_video(path, analysers, start_time=camera.start_time)
    store.write_table("video", "gaps", gaps_frame(run.gaps), camera_id=camera.camera_id)
    for (_, spec), result in zip(specs, run.results, strict=True):
        spec.save(store, camera, result)


CAMERA_STEPS.register("video", run_camera_pass, order=10)
