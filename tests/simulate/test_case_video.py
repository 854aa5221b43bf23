"""A whole simulated case with real rendering: the recordings agree with the ground truth."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest

from pollwatch.case import CasePaths
from pollwatch.simulate.runner import simulate_case
from pollwatch.simulate.truth import read_truth


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> CasePaths:
    root = tmp_path_factory.mktemp("tiny") / "case"
    simulate_case("tiny", seed=5, out=root, progress=False)
    return CasePaths.of(root)


def _probe(path: Path) -> tuple[list[float], int, float, bool]:
    """Frame times, frame width, nominal fps and whether an audio stream exists."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        times = [float(f.time) for f in c.decode(v)]
        return (
            times,
            v.codec_context.width,
            float(v.average_rate or v.guessed_rate),
            bool(c.streams.audio),
        )


def test_recordings_match_the_truth(tiny: CasePaths) -> None:
    truth = read_truth(tiny.root)
    cameras = pd.read_csv(tiny.cameras_csv)
    rendered = truth.cameras[truth.cameras["rendered"].astype(bool)].set_index("camera_id")
    assert sorted(cameras["camera_id"]) == sorted(rendered.index)
    absent = set(truth.conditions.loc[truth.conditions["kind"] == "audio_absent", "camera_id"])
    for row in cameras.itertuples():
        cam = rendered.loc[row.camera_id]
        times, width, fps, has_audio = _probe(tiny.root / row.source)
        assert width == cam["width"]
        assert fps == pytest.approx(cam["fps"])
        assert has_audio == (row.camera_id not in absent)
        outage = truth.conditions[
            (truth.conditions["camera_id"] == row.camera_id)
            & (truth.conditions["kind"] == "outage")
        ]
        last_needed = cam["duration_s"] - 1.5 / cam["fps"]
        if not ((outage["end_s"] >= last_needed).any()):
            assert times[-1] == pytest.approx(cam["duration_s"] - 1 / cam["fps"], abs=0.15)
        assert len(times) == cam["frames"]
        # every ballot drop of this camera happens while the recording runs
        drops = truth.drops[truth.drops["camera_id"] == row.camera_id]
        assert len(drops) > 0
        assert np.all((drops["t_video_s"] >= 0) & (drops["t_video_s"] <= times[-1]))


def test_same_seed_same_csv_bytes(tiny: CasePaths, tmp_path: Path) -> None:
    again = tmp_path / "again"
    simulate_case("tiny", seed=5, out=again, progress=False, render=0)
    for name in ("election.toml", "stations.csv", "results.csv"):
        assert (again / name).read_bytes() == (tiny.root / name).read_bytes(), name
