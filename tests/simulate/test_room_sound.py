"""The synthetic room sound: levels, determinism, the audio conditions."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from pollwatch.simulate.audio import QUIET_DB, RoomSound, apply_audio_conditions
from pollwatch.simulate.plan import Appearance, CameraCondition, CameraPlan, Stop, Visit

SR = 16_000
MIC = (4.0, 0.05, 2.75)
LOOK = Appearance(1.75, 1.0, (40, 40, 200), (60, 60, 60), (120, 150, 200), (20, 20, 30), 1.2, 1.8)
VOTER = Visit(
    "v1",
    "voter",
    LOOK,
    (Stop("entrance", 1.0, 1.5), Stop("table", 4.0, 12.0), Stop("exit", 16.0, 16.5)),
)
PLAN = CameraPlan("cam", "st", datetime(2024, 2, 7, 8, tzinfo=UTC), 20.0, (VOTER,), seed=5)


def _dbfs(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)


def _render(block: int, seconds: float = 20.0) -> np.ndarray:
    sound = RoomSound(PLAN, MIC, SR)
    n = int(seconds * SR) // block * block
    return np.concatenate([sound.render(k, block) for k in range(0, n, block)])


def test_levels_are_plausible() -> None:
    x = _render(1024)
    room_tone = x[int(18.2 * SR) : int(19.9 * SR)]  # nobody there: ventilation only
    talk = x[int(4.5 * SR) : int(11.5 * SR)]  # voter and clerk talking at the table
    assert -55 < _dbfs(room_tone) < -45
    assert -34 < _dbfs(talk) < -18
    assert np.abs(x).max() < 1.0  # no clipping


@pytest.mark.parametrize("block", [512, 4096, 16_000])
def test_the_sound_does_not_depend_on_block_size(block: int) -> None:
    a = _render(1024, 4.0)
    b = _render(block, 4.0)
    n = min(len(a), len(b))
    np.testing.assert_array_equal(a[:n], b[:n])


def test_blocks_must_come_in_order() -> None:
    sound = RoomSound(PLAN, MIC, SR)
    sound.render(SR, 1024)
    with pytest.raises(ValueError, match="in order"):
        sound.render(0, 1024)


@pytest.mark.parametrize(
    ("kind", "expected_db"),
    [("audio_muted", None), ("audio_quiet", QUIET_DB)],
)
def test_audio_conditions(kind: str, expected_db: float | None) -> None:
    x = _render(1024, 12.0)
    cond = (CameraCondition(kind, 5.0, 9.0),)  # type: ignore[arg-type]
    y = apply_audio_conditions(x.copy(), 0, SR, cond)
    inside, outside = slice(5 * SR, 9 * SR), slice(0, 5 * SR)
    np.testing.assert_array_equal(y[outside], x[outside])
    if expected_db is None:
        assert np.all(y[inside] == 0.0)
    else:
        assert _dbfs(y[inside]) - _dbfs(x[inside]) == pytest.approx(expected_db, abs=0.01)
