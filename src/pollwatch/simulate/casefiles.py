"""Writing a simulated election's official inputs: election.toml and the four CSV tables.

The files follow README "The case folder" and docs/formats.md: UTF-8, a header line, `\\n`
line ends, times in ISO 8601 with the UTC offset (milliseconds only where a compressed clock
needs them), booleans as true/false. Only rendered cameras appear in cameras.csv; stations.csv
marks every camera station with has_camera = true.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from pollwatch.case import CasePaths
from pollwatch.simulate.election import Election
from pollwatch.simulate.geography import STATION_COLUMNS
from pollwatch.simulate.truth import Truth

__all__ = ["CAMERA_COLUMNS", "iso", "write_cameras_csv", "write_official_files"]

CAMERA_COLUMNS = (
    "camera_id",
    "station_id",
    "source",
    "start_time",
    "box_polygon",
    "reference_image",
)


def iso(t: datetime | pd.Timestamp) -> str:
    """ISO 8601 with offset; milliseconds only when the time has a fraction of a second."""
    t = pd.Timestamp(t).to_pydatetime()
    return t.isoformat(timespec="milliseconds" if t.microsecond else "seconds")


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == bool:
            out[c] = np.where(out[c], "true", "false")
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _toml_string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def write_election_toml(path: Path, election: Election) -> None:
    clock, p = election.clock, election.preset
    lines = [
        f"# Simulated by pollwatch: preset {p.name}, seed {election.seed}.",
        f"# The day is compressed {p.time_scale:g} times: see docs/truth.md.",
        f"name = {_toml_string(f'{p.name} (simulated, seed {election.seed})')}",
        f"polls_open = {iso(clock.polls_open)}",
        f"polls_close = {iso(clock.polls_close)}",
        "checkpoints = [" + ", ".join(iso(t) for t in clock.checkpoints) + "]",
        "candidates = [" + ", ".join(_toml_string(c) for c in p.candidates) + "]",
        f"time_scale = {float(p.time_scale)!r}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_official_files(root: Path, election: Election, truth: Truth) -> None:
    """election.toml, stations.csv, results.csv and turnout.csv of the case at `root`."""
    paths = CasePaths.of(root)
    write_election_toml(paths.election_toml, election)
    _write_csv(election.stations[list(STATION_COLUMNS)], paths.stations_csv)
    _write_csv(election.official(), paths.results_csv)
    cp = truth.checkpoints
    turnout = pd.DataFrame(
        {
            "station_id": cp["station_id"],
            "time": cp["checkpoint"].map(
                {i + 1: iso(t) for i, t in enumerate(election.clock.checkpoints)}
            ),
            "voters_cumulative": cp["official"],
        }
    )
    _write_csv(turnout, paths.turnout_csv)


def write_cameras_csv(root: Path, truth: Truth) -> None:
    """cameras.csv: one row per rendered camera, in rendering order."""
    cams = truth.cameras[truth.cameras["rendered"]]
    frame = pd.DataFrame(
        {
            "camera_id": cams["camera_id"],
            "station_id": cams["station_id"],
            "source": "video/" + cams["camera_id"] + ".mp4",
            "start_time": [iso(t) for t in cams["start_time"]],
            "box_polygon": np.where(cams["polygon_in_csv"].fillna(False), cams["box_polygon"], ""),
            "reference_image": cams["reference_image"],
        },
        columns=list(CAMERA_COLUMNS),
    )
    _write_csv(frame, CasePaths.of(root).cameras_csv)
