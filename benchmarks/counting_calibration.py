"""The counter's error rates from analysed simulated cases; prints JSON.

For each case folder given (simulated and `pollwatch analyse`d), sets every camera's drops
(from the store) against the truth's drops on the time the box could truly be watched (the
conditions that hide it taken out, as in the "counting" metric block), pairing drops at most
`--within` seconds apart (default 5 s: a drop's time matters for counts only at an interval's
edge, where the tests already take the neighbours' drops into account), and counts ballots:

- missed: true ballots not paired (plus ballots voters took away: official figures count them
  and no camera sees them);
- false: detected ballots not paired.

Prints the per-ballot rates and their one-sided 95% upper bounds (Clopper–Pearson), which
`pollwatch.counting.calibration.COUNTER_ERRORS` takes.

    PYTHONPATH=src python benchmarks/counting_calibration.py CASE [CASE ...] [--within 5]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pollwatch.case import CasePaths
from pollwatch.counting.stats import rate_upper
from pollwatch.evaluate import load_truth
from pollwatch.evaluate.counting_metrics import _hidden, _outside, match_drops
from pollwatch.store import NotFoundError, Store


def _case(case: str, within: float) -> dict[str, int]:
    paths = CasePaths.of(case)
    truth = load_truth(paths)
    out = {"true_ballots": 0, "missed": 0, "false": 0, "taken": 0}
    with Store.existing(paths.db_path) as store:
        for cam in store.camera_records():
            try:
                found = store.read_table("counting", "drops", camera_id=cam.camera_id)
            except NotFoundError:
                continue
            true = truth.drops[truth.drops["camera_id"] == cam.camera_id]
            hidden = _hidden(truth.conditions, cam.camera_id)
            tt, tb = true["t_video_s"].to_numpy(float), true["ballots"].to_numpy(int)
            ft, fb = found["t_s"].to_numpy(float), found["ballots"].to_numpy(int)
            keep_t, keep_f = _outside(tt, hidden), _outside(ft, hidden)
            tt, tb, ft, fb = tt[keep_t], tb[keep_t], ft[keep_f], fb[keep_f]
            pairs = match_drops(tt, ft, within)
            hits = sum(min(tb[i], fb[j]) for i, j in enumerate(pairs) if j >= 0)
            out["true_ballots"] += int(tb.sum())
            out["missed"] += int(tb.sum() - hits)
            out["false"] += int(fb.sum() - hits)
    rendered = truth.stations["rendered"].astype(bool)
    out["taken"] = int(truth.stations.loc[rendered, "true_taken"].sum())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cases", nargs="+")
    parser.add_argument("--within", type=float, default=5.0)
    opts = parser.parse_args()
    per_case = {Path(c).name: _case(c, opts.within) for c in opts.cases}
    n = sum(c["true_ballots"] for c in per_case.values())
    taken = sum(c["taken"] for c in per_case.values())
    missed = sum(c["missed"] for c in per_case.values()) + taken
    false = sum(c["false"] for c in per_case.values())
    print(
        json.dumps(
            {
                "within_s": opts.within,
                "cases": per_case,
                "true_ballots": n,
                "missed_or_taken": missed,
                "false": false,
                "miss_rate": missed / (n + taken) if n else None,
                "false_rate": false / n if n else None,
                "miss_rate_upper95": rate_upper(missed, n + taken),
                "false_rate_upper95": rate_upper(false, n),
            },
            indent=2,
            default=lambda x: int(x) if isinstance(x, np.integer) else str(x),
        )
    )


if __name__ == "__main__":
    main()
