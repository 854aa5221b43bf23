"""Fixtures of the counting tests: the plans of countclips.py rendered once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pollwatch.simulate.plan import CameraPlan
from pollwatch.simulate.render import render_camera


@pytest.fixture(scope="session")
def render(tmp_path_factory: pytest.TempPathFactory) -> Callable[[CameraPlan], Path]:
    """Render a plan once per session; returns the MP4's path."""
    folder = tmp_path_factory.mktemp("counting-clips")
    done: dict[str, Path] = {}

    def make(p: CameraPlan) -> Path:
        if p.camera_id not in done:
            done[p.camera_id] = Path(render_camera(p, folder / f"{p.camera_id}.mp4").video_path)
        return done[p.camera_id]

    return make
