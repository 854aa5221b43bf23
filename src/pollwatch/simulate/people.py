"""How simulated people look and walk: sampling `Appearance`s, and their truth-table form.

Clothes come from palettes of everyday colours with a little noise, so two people rarely look
identical; commission members dress more formally. A carousel member keeps one appearance for
the whole day, so the same person can be recognised on several cameras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pollwatch.simulate.plan import Appearance, Role

__all__ = ["APPEARANCE_COLUMNS", "appearance_record", "sample_appearance"]

BGR = tuple[int, int, int]

APPEARANCE_COLUMNS = (
    "height_m",
    "build",
    "speed_m_s",
    "gait_hz",
    "has_bag",
    *(f"{part}_{ch}" for part in ("shirt", "trousers", "skin", "hair", "hat") for ch in "bgr"),
)

_SHIRTS: tuple[BGR, ...] = (
    (40, 40, 180),  # red
    (160, 80, 30),  # blue
    (60, 140, 60),  # green
    (40, 160, 220),  # ochre
    (200, 200, 200),  # light grey
    (60, 60, 60),  # charcoal
    (130, 50, 110),  # purple
    (30, 90, 150),  # brown
    (210, 170, 90),  # sky blue
    (235, 235, 235),  # white
    (20, 20, 20),  # black
    (90, 160, 190),  # beige
)
_FORMAL: tuple[BGR, ...] = ((235, 235, 235), (70, 50, 30), (40, 40, 40), (200, 190, 180))
_TROUSERS: tuple[BGR, ...] = (
    (50, 35, 25),  # navy
    (30, 30, 30),  # black
    (110, 100, 90),  # grey
    (130, 90, 40),  # denim
    (60, 80, 100),  # khaki-brown
)
_SKIN: tuple[BGR, ...] = ((150, 180, 225), (120, 155, 200), (95, 130, 175), (70, 100, 140))
_HAIR: tuple[BGR, ...] = ((20, 20, 25), (30, 40, 60), (60, 80, 110), (160, 160, 165))
_HATS: tuple[BGR, ...] = ((30, 30, 30), (60, 60, 120), (150, 120, 90))


def _jitter(rng: np.random.Generator, colour: BGR, amount: int) -> BGR:
    c = np.clip(np.asarray(colour) + rng.integers(-amount, amount + 1, size=3), 0, 255)
    return (int(c[0]), int(c[1]), int(c[2]))


def _pick(rng: np.random.Generator, palette: tuple[BGR, ...]) -> BGR:
    return palette[int(rng.integers(len(palette)))]


def sample_appearance(rng: np.random.Generator, role: Role = "voter") -> Appearance:
    """A random plausible person; commission members wear formal colours and carry no bag."""
    height = float(np.clip(rng.normal(1.71, 0.08), 1.5, 2.0))
    speed = float(np.clip(rng.normal(1.2, 0.15), 0.8, 1.6))
    gait = float(np.clip(1.4 + (speed - 0.8) + rng.normal(0.0, 0.1), 1.4, 2.2))
    shirt = _FORMAL if role == "commission" else _SHIRTS
    return Appearance(
        height_m=round(height, 3),
        build=round(float(rng.uniform(0.8, 1.3)), 3),
        shirt_bgr=_jitter(rng, _pick(rng, shirt), 18),
        trousers_bgr=_jitter(rng, _pick(rng, _TROUSERS), 12),
        skin_bgr=_jitter(rng, _pick(rng, _SKIN), 8),
        hair_bgr=_jitter(rng, _pick(rng, _HAIR), 8),
        speed_m_s=round(speed, 3),
        gait_hz=round(gait, 3),
        has_bag=role != "commission" and bool(rng.random() < 0.2),
        hat_bgr=_pick(rng, _HATS) if rng.random() < 0.1 else None,
    )


def appearance_record(a: Appearance) -> dict[str, Any]:
    """Flat columns of an appearance for the truth tables (hat colour None when no hat)."""
    rec: dict[str, Any] = {
        "height_m": a.height_m,
        "build": a.build,
        "speed_m_s": a.speed_m_s,
        "gait_hz": a.gait_hz,
        "has_bag": a.has_bag,
    }
    for part in ("shirt", "trousers", "skin", "hair", "hat"):
        colour = getattr(a, f"{part}_bgr")
        for i, ch in enumerate("bgr"):
            rec[f"{part}_{ch}"] = None if colour is None else int(colour[i])
    return rec
