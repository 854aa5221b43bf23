"""Presets: the registry, the -clean variants and validation of every field."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pollwatch.simulate.presets import (
    CameraFaults,
    Crowd,
    Dwell,
    FraudRates,
    RegionSpec,
    get_preset,
    preset_names,
)


@pytest.mark.parametrize("name", preset_names())
def test_every_name_resolves(name: str) -> None:
    p = get_preset(name)
    assert p.name == name
    assert p.clean == name.endswith("-clean")
    assert p.render <= p.n_cameras <= p.n_stations


def test_clean_variant_differs_only_by_flag() -> None:
    base, clean = get_preset("demo"), get_preset("demo-clean")
    assert replace(clean, name="demo", clean=False) == base


@pytest.mark.parametrize("name", ["", "nope", "demo-clean-clean", "DEMO"])
def test_unknown_preset(name: str) -> None:
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset(name)


def test_azerbaijan_preset_matches_the_published_election() -> None:
    p = get_preset("azerbaijan-2024")
    assert (p.n_stations, p.n_cameras, len(p.candidates)) == (6319, 1000, 7)
    assert (p.target_turnout, p.target_winner) == (0.767, 0.921)
    assert p.checkpoint_hours == (2.0, 4.0, 7.0, 9.0, 11.0) and p.open_hour == 8
    assert p.faults.audio_muted >= 0.9 and p.faults.turned_away == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_cameras": 11}, "n_cameras"),
        ({"render": 6}, "render"),
        ({"candidates": ("a",)}, "candidates"),
        ({"candidates": ("a", "a", "b")}, "candidates"),
        ({"minor_weights": (1.0,)}, "minor_weights"),
        ({"target_turnout": 1.0}, "target_turnout"),
        ({"time_scale": 0.0}, "time_scale"),
        ({"checkpoint_hours": (2.0, 1.0, 11.0)}, "checkpoint_hours"),
        ({"checkpoint_hours": (2.0, 4.0, 7.0, 9.0, 10.0)}, "checkpoint_hours"),
        ({"checkpoint_hours": (4.0, 11.0)}, "inflation_weights"),
        ({"width": 321}, "width"),
        ({"registered_range": (30, 14)}, "registered_range"),
        ({"taken_rate": 1.5}, "taken_rate"),
        ({"regions": ()}, "regions"),
    ],
)
def test_preset_validation(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(get_preset("tiny"), **change)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Dwell((9, 4), (5, 15), (3, 5), (3, 6), (3, 6)), "table_s"),
        (lambda: Dwell((4, 9), (5, 15), (1, 5), (3, 6), (3, 6)), "box_s"),
        (lambda: Dwell((4, 9), (5, 15), (3, 5), (3, 6), (3, 6), open_vote_rate=2), "open_vote"),
        (lambda: CameraFaults(audio_muted=0.8, audio_absent=0.3), "audio"),
        (lambda: CameraFaults(turned_away=0.7, nudged=0.4), "turned_away"),
        (lambda: CameraFaults(dark=-0.1), "dark"),
        (lambda: Crowd(commission=(0, 3)), "commission"),
        (lambda: Crowd(observers=(0, 3)), "observers"),
        (lambda: RegionSpec("X", 0, 0, 0.0, 1, 10, 1), "weight"),
        (lambda: replace(get_preset("tiny").fraud, carousel_size=(1, 3)), "carousel_size"),
        (lambda: replace(get_preset("tiny").fraud, inflation_weights=(0, 0)), "weights"),
        (
            lambda: FraudRates(1.2, (0.1, 0.2), (1,), 0, (1, 2), (2, 3), 0, 0, (3, 3), (3, 3)),
            "inflation_rate",
        ),
    ],
)
def test_part_validation(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(("scale", "expected"), [(None, 200.0), (60.0, 60.0)])
def test_with_time_scale(scale: float | None, expected: float) -> None:
    assert get_preset("tiny").with_time_scale(scale).time_scale == expected


@pytest.mark.parametrize(("clip", "expected"), [(None, None), (300.0, 300.0)])
def test_with_clip(clip: float | None, expected: float | None) -> None:
    assert get_preset("tiny").with_clip(clip).clip_s == expected


@pytest.mark.parametrize("clip", [0.0, -5.0])
def test_clip_must_be_positive(clip: float) -> None:
    with pytest.raises(ValueError, match="clip_s must be positive"):
        get_preset("tiny").with_clip(clip)
