"""The "counting" metric block of analysed cases with the drops decided anew; prints JSON.

Each camera's drops are decided anew from its stored watcher series by this code's decision
logic (`pollwatch.counting.step.replay_camera`, as `analyse` and its case step would with the
same measures), with the drop finder's thresholds changed by `--options` (a JSON object of
`DropFinderOptions` fields), and scored by the evaluator's own counting block
(`pollwatch.evaluate.counting_metrics.counting_block`) on a copy of each case's store: count
error per camera, matched drops, unmatched detections, non-voters counted; pooled over the
cases as the evaluator pools a case's cameras. The inflation flags are left out: they need
the case step (`pollwatch analyse`). Replaying a case analysed with the same code gives its
evaluation's figures exactly. For trying a change to the drop finder on analysed cases
without decoding video (docs/counting.md, session 11).

    PYTHONPATH=src python benchmarks/counting_replay.py CASE [CASE ...]
        [--options '{"unanswered_peak": 0}'] [--cameras]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pollwatch.case import CasePaths
from pollwatch.counting.drop_options import DropFinderOptions
from pollwatch.counting.step import ANALYSER, replay_camera
from pollwatch.evaluate import load_truth
from pollwatch.evaluate.counting_metrics import count_error_summary, counting_block
from pollwatch.store import Store


def _replayed(case: str, options: DropFinderOptions, scratch: Path) -> dict[str, Any]:
    """`counting_block` of `case` with every camera's drops replayed, on a copy of its store
    under `scratch`."""
    paths = CasePaths.of(case)
    copy = CasePaths.of(scratch / paths.root.name)
    copy.db_path.parent.mkdir(parents=True)
    for suffix in ("", "-wal", "-shm"):
        source = paths.db_path.with_name(paths.db_path.name + suffix)
        if source.exists():
            shutil.copy(source, copy.db_path.with_name(copy.db_path.name + suffix))
    with Store.existing(copy.db_path) as store:
        for cam in store.camera_records():
            again = replay_camera(store, cam, options)
            if again is not None:
                store.write_table(ANALYSER, "drops", again.drops, camera_id=cam.camera_id)
    block = counting_block(copy, load_truth(paths))
    block.pop("inflation", None)  # the stored counts and findings are the analysis's
    return block


def _pooled(blocks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The blocks' cameras pooled as `counting_block` pools one case's."""
    cameras = {f"{case}/{c}": s for case, b in blocks.items() for c, s in b["cameras"].items()}
    true_drops = sum(s["true_drops"] for s in cameras.values())
    near = sum(s["nonvoters_near_box"] for s in cameras.values())
    return {
        **count_error_summary(cameras),
        "true_ballots": sum(s["true_ballots"] for s in cameras.values()),
        "detected_ballots": sum(s["detected_ballots"] for s in cameras.values()),
        "matched": sum(s["matched"] for s in cameras.values()),
        "true_drops": true_drops,
        "unmatched_detections": sum(s["unmatched_detections"] for s in cameras.values()),
        "nonvoters_counted": sum(s["nonvoters_counted"] for s in cameras.values()),
        "nonvoters_near_box": near,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="+", help="analysed simulated case folders")
    parser.add_argument("--options", default="{}", help="DropFinderOptions fields as JSON")
    parser.add_argument(
        "--cameras", action="store_true", help="also each camera whose count or matches are off"
    )
    opts = parser.parse_args()
    options = DropFinderOptions(**json.loads(opts.options))
    with tempfile.TemporaryDirectory() as scratch:
        blocks = {Path(c).name: _replayed(c, options, Path(scratch)) for c in opts.cases}
    out: dict[str, Any] = {"options": json.loads(opts.options), "pooled": _pooled(blocks)}
    if opts.cameras:
        out["cameras"] = {
            f"{case}/{c}": s
            for case, b in blocks.items()
            for c, s in b["cameras"].items()
            if s["count_error"] or s["matched"] < s["true_drops"] or s["unmatched_detections"]
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
