"""Time `simulate_case` without rendering (results, checkpoints, truth) per preset; prints JSON.

Usage: PYTHONPATH=src python benchmarks/simulate_results.py [PRESET ...]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from pollwatch.simulate.runner import simulate_case


def main(presets: list[str]) -> None:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(presets):
            start = time.perf_counter()
            summary = simulate_case(name, seed=0, out=Path(tmp) / str(i), render=0, progress=False)
            out[name] = {"seconds": round(time.perf_counter() - start, 3), "summary": summary}
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:] or ["tiny", "demo", "azerbaijan-2024"])
