"""Fixtures of the stuffing tests: the clips of stuffclips.py, rendered once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from stuffclips import BUNDLE_CLIP, CLEAN, HANDS_CLIP

from pollwatch.simulate.render import render_camera


@pytest.fixture(scope="session")
def stuffing_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three clips rendered (camera_id → MP4 path)."""
    folder = tmp_path_factory.mktemp("stuffing-clips")
    return {
        p.camera_id: Path(render_camera(p, folder / f"{p.camera_id}.mp4").video_path)
        for p in (CLEAN, HANDS_CLIP, BUNDLE_CLIP)
    }
