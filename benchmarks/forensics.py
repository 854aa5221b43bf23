"""Speed and memory of the whole forensic suite on a Russian federal election; prints JSON.

Reads the CEC table (2011 by default: 95,225 stations), runs every test with 1,000 Monte Carlo
repetitions of the integer test and 100 bootstrap replicates of the Klimek fit, and reports
wall and CPU seconds (reading and the tests apart), peak resident memory
(resource.getrusage) and the main figures. Targets: ≤ 20 s and ≤ 2 GB.

Usage: PYTHONPATH=src python benchmarks/forensics.py [YEAR] [--mc N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

from _shared_data import shared_data_dir

from pollwatch.forensics import forensics_file


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("year", nargs="?", default="2011")
    parser.add_argument("--mc", type=int, default=1000)
    args = parser.parse_args()
    path = shared_data_dir() / "russia" / f"{args.year}.csv.zip"
    load = os.getloadavg()
    wall, cpu = time.perf_counter(), time.process_time()
    report = forensics_file(path, n_mc=args.mc, seed=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    d = report.to_dict()
    out = {
        "file": str(path),
        "stations": d["stations"],
        "n_mc": args.mc,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "tests_wall_s": round(report.elapsed_s, 2),
        "read_wall_s": round(wall - report.elapsed_s, 2),
        "peak_rss_mb": round(peak_mb, 1),
        "load_average_1min_at_start": round(load[0], 2),
        "cpus": os.cpu_count(),
        "target_wall_s": 20,
        "target_peak_rss_mb": 2048,
        "within_targets": wall <= 20 and peak_mb <= 2048,
        "turnout": d["turnout"],
        "winner_share": d["winner_share"],
        "integer_peaks": d["integer_peaks"],
        "shpilkin_anomalous_votes": d["shpilkin"]["anomalous_votes"],
        "klimek": {
            k: d["klimek"][k] for k in ("f_i", "f_e", "f_i_ci", "f_e_ci", "alpha", "sigma_x")
        },
    }
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
