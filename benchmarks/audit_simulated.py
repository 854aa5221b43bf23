"""The camera audit on simulated cases, scored against their truth: prints JSON.

For every case folder given (made by `pollwatch simulate`), it analyses every camera with the
audit alone (one `analyse_video` pass per camera: `make_audit_analyser` → `save_audit`), runs
the registered case steps (camera_audit.csv, network_summary.json), and prints the "audit"
metric block of `pollwatch evaluate` with the audit's CPU seconds per camera.

Run: PYTHONPATH=src python benchmarks/audit_simulated.py CASE [CASE ...]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pollwatch.audit import make_audit_analyser, save_audit
from pollwatch.case import CasePaths
from pollwatch.evaluate import evaluate_case
from pollwatch.evaluate.audit_metrics import audit_block
from pollwatch.pipeline import analyse_case
from pollwatch.store import Camera, Store
from pollwatch.video import analyse_video


class AuditStep:
    """A camera step running the audit alone; notes its CPU time per camera."""

    def __init__(self) -> None:
        self.cpu: dict[str, dict[str, float]] = {}

    def __call__(self, camera: Camera, paths: CasePaths, store: Store) -> None:
        path = camera.source_path(paths.root)
        if path is None:
            raise ValueError(f"{camera.source}: not a file")
        t0 = time.process_time()
        run = analyse_video(
            path, [make_audit_analyser(camera, paths)], start_time=camera.start_time
        )
        save_audit(store, camera, run.results[0])
        self.cpu[camera.camera_id] = {
            "cpu_s": time.process_time() - t0,
            "video_s": float(run.last_s or 0.0),
        }


def main(cases: list[str]) -> None:
    out = []
    for case in cases:
        step = AuditStep()
        summary = analyse_case(case, restart=True, camera_steps={"audit": step}, progress=False)
        scores = evaluate_case(case, metrics={"audit": audit_block})["audit"]
        network = json.loads(CasePaths.of(case).out("network_summary.json").read_text())
        out.append(
            {
                "case": str(Path(case)),
                "analysis": summary,
                "cpu": step.cpu,
                "audit": scores,
                "sentences": network["sentences"],
            }
        )
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
