"""How a box polygon reads on a blurred baseline: `ViewAuditor.blur_max_outline`'s and
`blur_max_area`'s figures.

For every rendered camera of the given simulated cases (its truth polygon, scaled to the
320-px analysis width): the median of its first minute (15 frames, one every 4 s) in gray,
as it is (cameras defocused from their first frame, "real") and, for in-focus cameras,
blurred with σ 2.5, 4 and 6 full-size pixels (the simulator's defocus range) with sensor
noise 1.6 added after the blur, as the renderer does. Each baseline's `outline_support`,
`outline_coverage` and `area_support` at the polygon; classes from the truth over the first
minute: "box" (no view change, no occlusion, no darkness), "turned" (turned away from the
first frame).
Reads the simulator's truth: a benchmark, not analysis code.

    PYTHONPATH=src python benchmarks/blurred_polygon.py CASE [CASE ...] > rows.txt
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from pollwatch.audit.outline import area_support, outline_coverage, outline_support

SIGMAS = (2.5, 4.0, 6.0)
WIDTH = 320
MAX_OUTLINE, MAX_COVERAGE, MAX_AREA = 0.8, 0.13, 0.55  # the view auditor's defaults


def first_minute(video: Path, step_s: float = 4.0, span_s: float = 60.0) -> list[np.ndarray]:
    """BGR frames every `step_s` over the first `span_s`."""
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames, i, due = [], 0, 0.0
    while True:
        ok, frame = cap.read()
        t = i / fps
        if not ok or t > span_s:
            return frames
        i += 1
        if t >= due:
            frames.append(frame)
            due += step_s


def baseline(frames: list[np.ndarray], sigma: float, rng: np.random.Generator) -> np.ndarray:
    """The median gray picture at analysis width, each frame blurred first (σ > 0)."""
    grays = []
    for frame in frames:
        g = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
        if sigma > 0:
            g = cv2.GaussianBlur(g, (0, 0), sigma) + rng.normal(0.0, 1.6, g.shape)
        g = np.clip(g, 0, 255).astype(np.uint8)
        height = round(g.shape[0] * WIDTH / g.shape[1])
        grays.append(cv2.resize(g, (WIDTH, height), interpolation=cv2.INTER_AREA))
    return np.median(np.stack(grays), axis=0).astype(np.uint8)


def camera_class(conditions: pd.DataFrame) -> str | None:
    """box / turned / real (defocused from the first frame) / None (left out)."""
    early = conditions[conditions.start_s < 60]
    view = early[early.kind.str.startswith("view")]
    if ((early.kind == "defocus") & (early.start_s == 0)).any():
        return "real"
    if early.kind.isin(["defocus", "box_occluded", "dark"]).any():
        return None
    if view.empty:
        return "box"
    if len(view) == 1 and view.iloc[0].label == "turned_away" and view.iloc[0].start_s == 0:
        return "turned"
    return None


def main(cases: list[str]) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for case in map(Path, cases):
        conditions = pd.read_parquet(case / "truth" / "conditions.parquet")
        cameras = pd.read_parquet(case / "truth" / "cameras.parquet")
        for cam in cameras[cameras.rendered].itertuples():
            kind = camera_class(conditions[conditions.camera_id == cam.camera_id])
            if kind is None:
                continue
            frames = first_minute(case / "video" / f"{cam.camera_id}.mp4")
            poly = np.asarray(json.loads(cam.box_polygon), float) * WIDTH / frames[0].shape[1]
            for sigma in (0.0,) if kind == "real" else SIGMAS:
                base = baseline(frames, sigma, rng)
                support, coverage = outline_support(base, poly), outline_coverage(base, poly)
                area = area_support(base, poly)
                rows.append((case.name, cam.camera_id, kind, sigma, support, coverage, area))
                print(*rows[-1][:4], f"{support:.2f} {coverage:.2f} {area:.2f}", flush=True)
    for kind in ("box", "turned"):
        for sigma in SIGMAS:
            got = [r for r in rows if r[2] == kind and r[3] == sigma]
            under = sum(r[4] < MAX_OUTLINE and r[5] < MAX_COVERAGE for r in got)
            flat = sum(r[6] < MAX_AREA for r in got)
            either = sum(
                (r[4] < MAX_OUTLINE and r[5] < MAX_COVERAGE) or r[6] < MAX_AREA for r in got
            )
            least = tuple(min(r[i] for r in got) for i in (4, 5, 6)) if got else (np.nan,) * 3
            print(
                f"# {kind} σ {sigma}: {len(got)} cameras, least {least[0]:.2f} / {least[1]:.2f}"
                f" / area {least[2]:.2f}, {under} under both outline thresholds, {flat} under"
                f" the area threshold, {either} under either"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
