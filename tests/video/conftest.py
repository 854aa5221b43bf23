"""Fixtures of the video tests: synthetic clips (see videoclips.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from videoclips import ClipSpec, write_clip


@pytest.fixture(scope="session")
def make_clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[[ClipSpec], Path]:
    """Encode a clip once per session per spec."""
    folder = tmp_path_factory.mktemp("clips")
    cache: dict[ClipSpec, Path] = {}

    def make(spec: ClipSpec) -> Path:
        key = spec
        if key not in cache:
            cache[key] = write_clip(folder / f"clip{len(cache)}.{spec.container}", spec)
        return cache[key]

    return make
