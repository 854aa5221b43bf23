"""The camera audit on simulated cases, scored against their truth: prints JSON.

For every case folder given (made by `pollwatch simulate`), it analyses every camera with the
audit alone (one `analyse_video` pass per camera: `make_audit_analyser` → `save_audit`), runs
the registered case steps (camera_audit.csv, network_summary.json), and prints the "audit"
metric block of `pollwatch evaluate` with the audit's CPU seconds per camera, then the blocks
of all cases pooled.

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


def pooled(blocks: list[dict]) -> dict[str, object]:
    """The metric blocks of several cases pooled: audio and view over all cameras, periods
    over all seconds (start/end errors: the largest of any case)."""
    audio_t, audio_p, view_t, view_p = [], [], [], []
    for b in blocks:
        for truth, row in b["audio"]["confusion"].items():
            for audit, n in row.items():
                audio_t += [truth] * n
                audio_p += [audit] * n
        for cam in b["view"]["per_camera"].values():
            view_t.append(cam["truth"])
            view_p.append(cam["audit"])

    def share(k: int, n: int) -> float | None:
        return k / n if n else None

    sound = [(t, p) for t, p in zip(audio_t, audio_p, strict=True) if t in ("ok", "quiet")]
    presence = [
        (t if t in ("absent", "muted") else "sound") == (p if p in ("absent", "muted") else "sound")
        for t, p in zip(audio_t, audio_p, strict=True)
    ]
    turned = [(t, p) for t, p in zip(view_t, view_p, strict=True) if t != "ok"]
    straight = [p for t, p in zip(view_t, view_p, strict=True) if t == "ok"]
    called = ("shifted", "box_not_visible")  # "unknown": the view was not judged
    periods: dict[str, dict[str, float | None]] = {}
    for kind in blocks[0]["periods"]:
        true_s = sum(b["periods"][kind]["true_s"] for b in blocks)
        covered = sum(
            (b["periods"][kind]["covered_share"] or 0.0) * b["periods"][kind]["true_s"]
            for b in blocks
        )
        flagged = sum(b["periods"][kind]["flagged_s"] for b in blocks)
        false = sum(
            (b["periods"][kind]["false_share_of_flagged"] or 0.0) * b["periods"][kind]["flagged_s"]
            for b in blocks
        )
        errors = {
            e: max(
                (b["periods"][kind][e]["max_abs_s"] or 0.0 for b in blocks),
                default=0.0,
            )
            for e in ("start_error", "end_error")
        }
        periods[kind] = {
            "true_s": true_s,
            "covered_share": share(covered, true_s) if true_s else None,
            "false_share_of_flagged": false / flagged if flagged else None,
            "max_start_error_s": errors["start_error"],
            "max_end_error_s": errors["end_error"],
            "ranges_missed": sum(b["periods"][kind]["ranges_missed"] for b in blocks),
        }
    changes = [
        b["view"]["change_error"]["max_abs_s"]
        for b in blocks
        if b["view"]["change_error"]["max_abs_s"] is not None
    ]
    return {
        "cameras": len(audio_t),
        "audio_absent_muted_sound_accuracy": share(sum(presence), len(presence)),
        "audio_quiet_vs_ok_accuracy": share(sum(t == p for t, p in sound), len(sound)),
        "view_turned": len(turned),
        "view_recall": share(sum(p in called for _, p in turned), len(turned)),
        "view_state_recall": share(sum(t == p for t, p in turned), len(turned)),
        "view_false_alarms": share(sum(p in called for p in straight), len(straight)),
        "view_unknown": sum(p == "unknown" for p in view_p),
        "view_max_change_error_s": max(changes, default=None),
        "network_summaries_equal": sum(b["network"]["all_equal"] for b in blocks),
        "periods": periods,
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
    pool = pooled([o["audit"] for o in out if o["audit"].get("cameras")])
    print(json.dumps({"cases": out, "pooled": pool}, indent=2, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
