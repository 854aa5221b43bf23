"""The counter's error rates from analysed, evaluated simulated cases; prints JSON.

For each case folder given (simulated, `pollwatch analyse`d and `pollwatch evaluate`d), reads
out/evaluation.json's "counting" block and the truth's stations: per true drop on observable
time, the drops missed (true drops with no detected drop within 2 s, plus ballots voters took
away, which official figures count and no camera sees) and the false drops (detected drops
matching no true drop). Prints the measured rates and their one-sided 95% upper bounds
(Clopper–Pearson), which `pollwatch.counting.calibration.COUNTER_ERRORS` takes.

    PYTHONPATH=src python benchmarks/counting_calibration.py CASE [CASE ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pollwatch.case import CasePaths
from pollwatch.counting.stats import rate_upper
from pollwatch.evaluate import load_truth


def main(cases: list[str]) -> None:
    drops = missed = false = taken = 0
    per_case = {}
    for case in cases:
        paths = CasePaths.of(case)
        block = json.loads(paths.out("evaluation.json").read_text())["counting"]
        cams = block["cameras"].values()
        n = sum(c["true_drops"] for c in cams)
        m = n - sum(c["matched"] for c in cams)
        f = sum(c["unmatched_detections"] for c in cams)
        stations = load_truth(paths).stations
        t = int(stations.loc[stations["rendered"].astype(bool), "true_taken"].sum())
        per_case[Path(case).name] = {"true_drops": n, "missed": m, "false": f, "taken": t}
        drops, missed, false, taken = drops + n, missed + m, false + f, taken + t
    out = {
        "cases": per_case,
        "true_drops": drops,
        "missed_or_taken": missed + taken,
        "false": false,
        "miss_rate": (missed + taken) / (drops + taken) if drops else None,
        "false_rate": false / drops if drops else None,
        "miss_rate_upper95": rate_upper(missed + taken, drops + taken),
        "false_rate_upper95": rate_upper(false, drops),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
