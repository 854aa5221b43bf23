"""Session fixtures of the audit tests: clips rendered by the simulator's renderer (see
rendered_clips.py), made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from rendered_clips import (
    AUDIO_CUT_AT,
    Clip,
    covered_plan,
    cut_audio,
    moved_behind_board_plan,
    sabotaged_plan,
)

from pollwatch.simulate.plan import CameraPlan
from pollwatch.simulate.render import render_camera


def _render(folder: Path, plan: CameraPlan) -> Clip:
    rendered = render_camera(plan, folder / "cam.mp4", folder / "cam.png")
    return Clip(folder / "cam.mp4", rendered, plan)


@pytest.fixture(scope="session")
def sabotaged(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """The 40 s clip with a frozen picture, a nudge, an outage and muted sound."""
    return _render(tmp_path_factory.mktemp("rendered"), sabotaged_plan())


@pytest.fixture(scope="session")
def covered(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """The 50 s clip dark, covered, blurred and turned away in turn, its sound turned down."""
    return _render(tmp_path_factory.mktemp("covered"), covered_plan())


@pytest.fixture(scope="session")
def moved_behind_board(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """The 60 s defocused clip nudged while a board covers the box."""
    return _render(tmp_path_factory.mktemp("moved_behind_board"), moved_behind_board_plan())


@pytest.fixture(scope="session")
def audio_cut(tmp_path_factory: pytest.TempPathFactory, sabotaged: Clip):
    """`audio_cut(how)`: the sabotaged clip with its audio after 10 s "dropped" or "garbage"."""
    folder = tmp_path_factory.mktemp("audio_cut")
    made: dict[str, Path] = {}

    def make(how: str) -> Path:
        if how not in made:
            made[how] = folder / f"{how}.mp4"
            cut_audio(sabotaged.path, made[how], AUDIO_CUT_AT, how)
        return made[how]

    return make
