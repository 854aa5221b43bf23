"""simulate_case: the case folder it writes, its errors, and the command line."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pollwatch.cli import app
from pollwatch.errors import InputError
from pollwatch.simulate.runner import simulate_case
from pollwatch.simulate.truth import TRUTH_TABLES, read_truth


def test_case_folder(cases: dict[str, Path]) -> None:
    root = cases["tiny"]
    toml = tomllib.loads((root / "election.toml").read_text())
    assert set(toml) == {"name", "polls_open", "polls_close", "checkpoints", "candidates",
                         "time_scale"}  # fmt: skip
    assert toml["time_scale"] == 200.0
    assert toml["polls_open"].utcoffset().total_seconds() == 4 * 3600
    cams = pd.read_csv(root / "cameras.csv", keep_default_na=False)
    assert list(cams.columns) == ["camera_id", "station_id", "source", "start_time",
                                  "box_polygon", "reference_image"]  # fmt: skip
    assert len(cams) == 3
    for row in cams.itertuples():
        assert (root / row.source).is_file()
        assert pd.Timestamp(row.start_time) < pd.Timestamp(toml["polls_open"])
        if row.reference_image:
            assert (root / row.reference_image).is_file()
    assert [bool(p) for p in cams["box_polygon"]] == [True, False, True]
    assert [bool(r) for r in cams["reference_image"]] == [True, False, True]
    polygons = read_truth(root).cameras.set_index("camera_id")["box_polygon"]
    assert json.loads(cams["box_polygon"][0]) == json.loads(polygons[cams["camera_id"][0]])
    stations = pd.read_csv(root / "stations.csv")
    assert set(cams["station_id"]) <= set(stations.loc[stations["has_camera"], "station_id"])
    truth = read_truth(root)
    assert set(truth.cameras["camera_id"]) == set(
        "cam-" + stations.loc[stations["has_camera"], "station_id"]
    )
    assert truth.cameras["box_polygon"].ne("").sum() == 3


def test_rerun_replaces_an_earlier_case(tmp_path: Path, make_case: Callable[..., Path]) -> None:
    make_case(tmp_path, "tiny")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "pollwatch.db").write_text("stale")
    make_case(tmp_path, "tiny", render=0)
    assert not (tmp_path / "out").exists() and not (tmp_path / "video").exists()
    assert read_truth(tmp_path).summary["rendered"] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preset": "nowhere"}, "unknown preset"),
        ({"preset": "tiny", "render": -1}, "render"),
        ({"preset": "tiny", "time_scale": 2000.0}, "lower the time scale"),
        ({"preset": "tiny", "time_scale": -1.0}, "time_scale"),
        ({"preset": "tiny", "clip_s": 0.0}, "clip_s"),
    ],
)
def test_simulate_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate_case(seed=0, out=tmp_path / "case", progress=False, **{"render": 0, **kwargs})
    assert not (tmp_path / "case").exists()


def test_refuses_a_folder_that_is_not_a_case(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        simulate_case("tiny", seed=0, out=tmp_path, render=0, progress=False)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_read_truth_of_a_real_case(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"summary\.json"):
        read_truth(tmp_path)
    assert "stations" in TRUTH_TABLES


def test_cli_simulate(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["simulate", "--preset", "tiny-clean", "--seed", "2", "--render", "0",
              "--clip-s", "90", "--out", str(tmp_path / "c")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "tiny-clean seed 2" in result.output
    assert read_truth(tmp_path / "c").summary["clip_s"] == 90.0
    bad = CliRunner().invoke(app, ["simulate", "--preset", "x", "--out", str(tmp_path / "d")])
    assert bad.exit_code == 2 and "unknown preset" in bad.output
