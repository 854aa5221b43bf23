"""Where the shared data is: $POLLWATCH_SHARED_DATA, else the first `shared/data` beside the
repository root or one of its parents (../shared/data from /work/main)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    env = os.environ.get("POLLWATCH_SHARED_DATA")
    if env:
        return Path(env)
    for ancestor in REPO.parents:
        if (ancestor / "shared" / "data").is_dir():
            return ancestor / "shared" / "data"
    sys.exit(f"no shared/data beside {REPO} or its parents: set POLLWATCH_SHARED_DATA")
