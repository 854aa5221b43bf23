"""How ingest scales with the number of stations: reading + checking the tables, then storing
them, for a synthetic case without cameras. Prints JSON.

    PYTHONPATH=src python benchmarks/ingest_scale.py [stations] [checkpoints] [candidates]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from pollwatch.ingest import read_case
from pollwatch.store import Store


def write_tables(root: Path, n: int, k: int, c: int, seed: int = 0) -> None:
    """A consistent case of `n` stations, `k` checkpoints and `c` candidates, no cameras."""
    rng = np.random.default_rng(seed)
    cands = [f"Cand{i}" for i in range(c)]
    hours = np.linspace(10, 20, k).round().astype(int)
    times = [f"2024-02-07T{h:02d}:00:00+04:00" for h in hours]
    (root / "election.toml").write_text(
        'name = "Scale test"\npolls_open = 2024-02-07T08:00:00+04:00\n'
        "polls_close = 2024-02-07T20:00:00+04:00\n"
        f"checkpoints = [{', '.join(times)}]\ncandidates = {json.dumps(cands)}\n"
    )
    registered = rng.integers(300, 3000, n)
    issued = (registered * rng.uniform(0.3, 0.9, n)).astype(int)
    invalid = (issued * 0.02).astype(int)
    votes = np.stack([rng.multinomial(v, np.ones(c) / c) for v in issued - invalid])
    ids = [f"S{i:06d}" for i in range(n)]
    with (root / "stations.csv").open("w") as f:
        f.write("station_id,region,district,name,lat,lon,registered,has_camera\n")
        for i, sid in enumerate(ids):
            f.write(f"{sid},R{i % 20},D{i % 400},Station {i},40.1,49.2,{registered[i]},false\n")
    with (root / "results.csv").open("w") as f:
        f.write("station_id,registered,ballots_issued,ballots_cast,invalid," + ",".join(cands))
        f.write("\n")
        for i, sid in enumerate(ids):
            row = [registered[i], issued[i], issued[i], invalid[i], *votes[i]]
            f.write(sid + "," + ",".join(map(str, row)) + "\n")
    with (root / "turnout.csv").open("w") as f:
        f.write("station_id,time,voters_cumulative\n")
        for i, sid in enumerate(ids):
            for j, t in enumerate(times):
                f.write(f"{sid},{t},{issued[i] * (j + 1) // k}\n")
    (root / "cameras.csv").write_text(
        "camera_id,station_id,source,start_time,box_polygon,reference_image\n"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    c = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_tables(root, n, k, c)
        marks = [(time.perf_counter(), time.process_time())]
        inputs = read_case(root)
        marks.append((time.perf_counter(), time.process_time()))
        with Store(root / "out" / "pollwatch.db") as store:
            store.replace_inputs(inputs)
            marks.append((time.perf_counter(), time.process_time()))
            store.results()
            marks.append((time.perf_counter(), time.process_time()))
    rows = n * (1 + 1 + k)
    report: dict[str, float] = {
        "stations": n,
        "checkpoints": k,
        "candidates": c,
        "input_rows": rows,
    }
    for i, step in enumerate(("read_and_check", "store", "read_results")):
        report[f"{step}_s"] = round(marks[i + 1][0] - marks[i][0], 3)
        report[f"{step}_cpu_s"] = round(marks[i + 1][1] - marks[i][1], 3)
    report["input_rows_per_cpu_s"] = round(rows / report["read_and_check_cpu_s"])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
