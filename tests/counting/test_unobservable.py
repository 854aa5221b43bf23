"""When the box could not be watched (too dark, frozen, out of view) and when it was watched
out of focus, from synthetic watcher series (`test_drops.series`)."""

from __future__ import annotations

import numpy as np
import pytest
from test_drops import series  # on sys.path, as for test_counting_step

from pollwatch.counting.unobservable import (
    outline_lost_to_blur,
    rough_ranges,
    unobservable_ranges,
)


@pytest.mark.parametrize(
    ("column", "values", "reason"),
    [
        ("luma", lambda t: np.where((t > 20) & (t < 30), 20.0, 110.0), "too dark"),
        ("motion", lambda t: np.where((t > 20) & (t < 30), 0.0, 1.0), "picture frozen"),
        ("outline", lambda t: np.where((t > 20) & (t < 30), 0.1, 1.0), "box not in view"),
    ],
)
def test_unobservable_ranges(column: str, values, reason: str) -> None:
    s = series(50)
    s[column] = values(s["t_s"].to_numpy())
    if column == "outline":  # the camera turned: the coarse picture changed with the outline
        s["view"] = np.where((s["t_s"] > 20) & (s["t_s"] < 30), 0.2, 1.0)
    ranges = unobservable_ranges(s)
    assert [r[2] for r in ranges] == [reason]
    start, end, _ = ranges[0]
    assert start == pytest.approx(20, abs=3.5) and end == pytest.approx(30, abs=3.5)


@pytest.mark.parametrize(
    ("view", "blind"),
    [(0.95, False), (np.nan, True), (0.5, True)],
)
def test_outline_lost_with_the_same_coarse_view_is_a_defocus(view: float, blind: bool) -> None:
    s = series(50)
    lost = (s["t_s"] > 10).to_numpy()
    s["outline"] = np.where(lost, 0.05, 1.0)
    s["view"] = np.where(lost, view, 1.0)
    assert [r[2] for r in unobservable_ranges(s)] == (["box not in view"] if blind else [])
    # a defocus is watched on, as rough time; a box out of view is not rough, it is blind
    rough = rough_ranges(s)
    assert [r[2] for r in rough] == ([] if blind else ["box out of focus"])
    if rough:
        start, end, _ = rough[0]
        assert start == pytest.approx(10, abs=3.5) and end == pytest.approx(50, abs=0.1)


@pytest.mark.parametrize(
    ("spells", "expected"),
    [
        ([(10, 40), (50, 80)], [(10, 80)]),  # someone at the box for 10 s: one defocus
        ([(10, 40), (75, 90)], [(10, 40), (75, 90)]),  # 35 s apart: two
        ([(10, 16)], []),  # too short to call
    ],
)
def test_rough_ranges_join_spells_of_defocus(spells, expected) -> None:
    s = series(100)
    t = s["t_s"].to_numpy()
    lost = np.zeros(len(t), bool)
    for a, b in spells:
        lost |= (t >= a) & (t < b)
    s["outline"] = np.where(lost, 0.05, 1.0)
    s["view"] = 0.97
    got = [(a, b) for a, b, _ in rough_ranges(s)]
    assert len(got) == len(expected)
    for (a, b), (x, y) in zip(got, expected, strict=True):
        assert a == pytest.approx(x, abs=3.5) and b == pytest.approx(y, abs=3.5)


def test_quiet_series_is_observable() -> None:
    assert unobservable_ranges(series(30)) == []
    assert rough_ranges(series(30)) == []


@pytest.mark.parametrize(
    ("ranges", "blurred", "kept", "freed"),
    [
        # a voter's stay at a defocused box: the outline gone, the coarse picture changed
        ([(20.0, 30.0, "box not in view")], [(10.0, 60.0, "audit: blurred")], 0, 1),
        # sticking out of the audit's blur: the box may be gone, it stays blind
        ([(5.0, 30.0, "box not in view")], [(10.0, 60.0, "audit: blurred")], 1, 0),
        # no blur: a lost outline is a lost box
        ([(20.0, 30.0, "box not in view")], [], 1, 0),
        # blur does not make a dark or frozen picture watched
        ([(20.0, 30.0, "too dark"), (31.0, 40.0, "picture frozen")], [(0.0, 60.0, "b")], 2, 0),
    ],
)
def test_outline_lost_to_blur(ranges, blurred, kept: int, freed: int) -> None:
    got, read_as_blur = outline_lost_to_blur(ranges, blurred)
    assert len(got) == kept and len(read_as_blur) == freed
    assert all(why == "box out of focus" for _, _, why in read_as_blur)
    assert [r[:2] for r in got + read_as_blur] == [r[:2] for r in ranges]
