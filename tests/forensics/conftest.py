"""Fixtures of the forensics tests: the real Russian results (loaded once per session) and
synthetic elections (see synthetic_elections.py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from pollwatch.forensics import ResultsTable, Stations, read_results

REPO = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """The shared data folder: $POLLWATCH_SHARED_DATA, else the first `shared/data` beside
    the repository root or one of its parents (../shared/data from /work/main)."""
    env = os.environ.get("POLLWATCH_SHARED_DATA")
    if env:
        path = Path(env)
        if not path.is_dir():
            pytest.fail(f"POLLWATCH_SHARED_DATA={env} is not a folder")
        return path
    for ancestor in REPO.parents:
        candidate = ancestor / "shared" / "data"
        if candidate.is_dir():
            return candidate
    pytest.fail(
        f"cannot find the shared data (russia/2011.csv.zip …): no shared/data beside {REPO} or "
        "its parents; set POLLWATCH_SHARED_DATA to the folder holding russia/"
    )


def _russia(year: int) -> tuple[ResultsTable, Stations]:
    path = shared_data_dir() / "russia" / f"{year}.csv.zip"
    if not path.is_file():
        pytest.fail(f"missing {path} (see shared/data/russia/README.md)")
    table = read_results(path)
    return table, Stations.from_frame(table.frame, table.candidates, table.winner)


@pytest.fixture(scope="session")
def russia_2011() -> tuple[ResultsTable, Stations]:
    return _russia(2011)


@pytest.fixture(scope="session")
def russia_2012() -> tuple[ResultsTable, Stations]:
    return _russia(2012)


@pytest.fixture(scope="session")
def russia_2016() -> tuple[ResultsTable, Stations]:
    return _russia(2016)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
