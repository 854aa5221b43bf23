"""The video step leaves the garbage collector as it found it, whatever happens."""

from __future__ import annotations

import gc
from pathlib import Path
from types import SimpleNamespace

import pytest

import pollwatch.videostep as videostep
from pollwatch.case import CasePaths


class _Failure(RuntimeError):
    pass


def _raise(*args: object, **kwargs: object) -> None:
    raise _Failure("boom")


def _camera(tmp_path: Path) -> SimpleNamespace:
    """A camera row as the video step reads it, its file under `tmp_path` (never opened)."""
    return SimpleNamespace(
        camera_id="cam-1",
        source="cam-1.mp4",
        start_time=None,
        source_path=lambda root: tmp_path / "cam-1.mp4",
    )


class _NoKeyframes:
    def __init__(self, path: Path) -> None:
        self.path = path

    def background(self, **kwargs: object) -> None:
        return None

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("reader", "analyse"),
    [
        (_raise, None),  # the keyframe reader fails
        (_NoKeyframes, _raise),  # the pass fails
    ],
)
def test_video_step_unfreezes_on_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, reader: object, analyse: object
) -> None:
    monkeypatch.setattr(videostep, "KeyframeReader", reader)
    monkeypatch.setattr(videostep, "VIDEO_PARTS", SimpleNamespace(items=lambda: []))
    if analyse is not None:
        monkeypatch.setattr(videostep, "analyse_video", analyse)
    camera = _camera(tmp_path)
    before = gc.get_freeze_count()
    with pytest.raises(_Failure):
        videostep.video_step(camera, CasePaths.of(tmp_path), store=None)  # type: ignore[arg-type]
    assert gc.get_freeze_count() == before


def test_video_step_unfreezes_after_a_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    progress: list[tuple[str, str, float]] = []
    monkeypatch.setattr(videostep, "KeyframeReader", _NoKeyframes)
    monkeypatch.setattr(videostep, "VIDEO_PARTS", SimpleNamespace(items=lambda: []))
    frozen: list[int] = []

    def analyse(path: Path, analysers: list[object], **kwargs: object) -> SimpleNamespace:
        frozen.append(gc.get_freeze_count())
        return SimpleNamespace(results=[], last_s=12.5)

    monkeypatch.setattr(videostep, "analyse_video", analyse)
    camera = _camera(tmp_path)
    store = SimpleNamespace(set_job_progress=lambda *a: progress.append(a))
    before = gc.get_freeze_count()
    videostep.video_step(camera, CasePaths.of(tmp_path), store)  # type: ignore[arg-type]
    assert frozen and frozen[0] > before  # the pass ran with the earlier objects frozen
    assert gc.get_freeze_count() == before
    assert progress == [("cam-1", "video", 12.5)]


def test_video_step_leaves_a_callers_frozen_objects_frozen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(videostep, "KeyframeReader", _NoKeyframes)
    monkeypatch.setattr(videostep, "VIDEO_PARTS", SimpleNamespace(items=lambda: []))
    monkeypatch.setattr(
        videostep, "analyse_video", lambda *a, **k: SimpleNamespace(results=[], last_s=1.0)
    )
    store = SimpleNamespace(set_job_progress=lambda *a: None)
    gc.freeze()  # the caller's own
    try:
        before = gc.get_freeze_count()
        assert before > 0
        videostep.video_step(_camera(tmp_path), CasePaths.of(tmp_path), store)  # type: ignore[arg-type]
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()
