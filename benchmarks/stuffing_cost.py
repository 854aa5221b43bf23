"""What the stuffing detector adds to a camera's analysis, on an analysed simulated case; prints
JSON.

In one process, on one camera's recording (one decoder thread, cv2 on one thread), each stage
run twice and the faster CPU time kept (the machine may be shared):

- `watcher_pass`: the engine pass with the counter's `BoxWatcher` alone;
- `watcher_and_crops_pass`: the same pass with the stuffing part's `BoxFrames` too (the crops
  kept for the frame strip); `crops_overhead` is the ratio of the two;
- `case_step`: the stuffing detector on the camera's stored tables (`camera_stuffing`).

Also the crops kept during the pass (count, kilobytes) and those stored for the strip.

    PYTHONPATH=src python benchmarks/stuffing_cost.py CASE [CAMERA_ID]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import cv2

from pollwatch.case import CasePaths
from pollwatch.counting.boxzone import resolve_box_zone
from pollwatch.counting.watcher import BoxWatcher
from pollwatch.store import Store
from pollwatch.stuffing.frames import BoxFrames
from pollwatch.stuffing.step import camera_stuffing
from pollwatch.video import EngineOptions, analyse_video
from pollwatch.video.boxfind import keyframe_background


def _cpu(fn: object, repeats: int = 2) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.process_time()
        out = fn()  # type: ignore[operator]
        best = min(best, time.process_time() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case")
    parser.add_argument("camera_id", nargs="?")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    paths = CasePaths.of(args.case)
    with Store.existing(paths.db_path) as store:
        cams = store.camera_records()
        cam = next(c for c in cams if args.camera_id in (None, c.camera_id))
        step_cpu, (events, fill) = _cpu(lambda: camera_stuffing(store, cam))
        stored = store.read_table("stuffing", "frames", camera_id=cam.camera_id)
    path = cam.source_path(paths.root)
    zone = resolve_box_zone(keyframe_background(path), cam.box_polygon)
    assert zone is not None, "no box zone"
    options = EngineOptions(threads=1)
    alone, _ = _cpu(lambda: analyse_video(path, [BoxWatcher(zone.zone)], options=options))
    both, run = _cpu(
        lambda: analyse_video(path, [BoxWatcher(zone.zone), BoxFrames(zone.zone)], options=options)
    )
    kept = run.results[1]  # type: ignore[attr-defined]
    print(
        json.dumps(
            {
                "case": args.case,
                "camera_id": cam.camera_id,
                "video_s": round(float(run.last_s or 0.0), 1),  # type: ignore[attr-defined]
                "watcher_pass_cpu_s": round(alone, 2),
                "watcher_and_crops_pass_cpu_s": round(both, 2),
                "crops_overhead": round(both / alone, 3),
                "crops_kept": len(kept.jpegs),
                "crops_kept_kb": round(sum(map(len, kept.jpegs)) / 1024, 1),
                "crops_stored": len(stored),
                "crops_stored_kb": round(sum(map(len, stored["png"])) / 1024, 1),
                "case_step_cpu_s": round(step_cpu, 3),
                "events": len(events),
                "fill_rows": len(fill),
                "load_average": [round(x, 1) for x in os.getloadavg()],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
