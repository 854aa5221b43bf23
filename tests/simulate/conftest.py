"""Shared simulated cases for the simulator tests, rendered with a stand-in renderer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pollwatch.simulate.plan import CameraPlan, RenderedCamera
from pollwatch.simulate.runner import simulate_case

BOX = ((100, 80), (140, 80), (140, 130), (100, 130))


def fake_renderer(plan: CameraPlan, video: Path, reference: Path | None) -> RenderedCamera:
    """Writes placeholder files instead of video; reports a fixed box polygon."""
    video.write_bytes(b"not a video")
    if reference is not None:
        reference.write_bytes(b"not a png")
    frames = int(plan.duration_s * plan.fps)
    ref = None if reference is None else str(reference)
    return RenderedCamera(plan.camera_id, str(video), BOX, frames, ref)


def _make_case(root: Path, preset: str, seed: int = 3, **kw: object) -> Path:
    simulate_case(
        preset, seed=seed, out=root, renderer=fake_renderer, workers=1, progress=False, **kw
    )
    return root


@pytest.fixture
def make_case() -> Callable[..., Path]:
    """`make_case(root, preset, seed=3, **simulate_case options)` with the fake renderer."""
    return _make_case


@pytest.fixture(scope="session")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tiny, tiny-clean, demo, demo-clean (seed 3) and azerbaijan-2024 (seed 0, its default
    two cameras), rendered with the fake renderer."""
    out = {}
    for name in ("tiny", "tiny-clean", "demo", "demo-clean"):
        out[name] = _make_case(tmp_path_factory.mktemp(name), name)
    az = "azerbaijan-2024"
    out[az] = _make_case(tmp_path_factory.mktemp("az"), az, seed=0)
    return out
