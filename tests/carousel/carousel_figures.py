"""Draw simple person figures with cv2 for the carousel and embedding tests.

Independent of the simulator's renderer on purpose: the descriptor must work on any drawing of
clothed people, and these tests must not depend on how the simulator draws them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Look", "View", "draw_person", "random_looks", "track_crops"]

# Realistic clothing colours (BGR): many dark, grey and blue, a few bright.
PALETTE = [
    (30, 30, 30),
    (200, 200, 200),
    (120, 120, 120),
    (120, 60, 20),
    (60, 40, 20),
    (170, 110, 70),
    (30, 30, 160),
    (40, 140, 40),
    (30, 160, 200),
    (60, 20, 110),
    (150, 80, 160),
    (20, 90, 160),
    (80, 170, 170),
    (200, 160, 120),
    (40, 40, 90),
    (230, 230, 240),
    (90, 120, 50),
    (20, 60, 200),
]
SKINS = [(150, 170, 210), (110, 140, 190), (70, 100, 150), (170, 190, 230)]
HAIRS = [(20, 20, 20), (30, 50, 80), (60, 90, 140), (160, 160, 160)]


@dataclass(frozen=True)
class Look:
    """How one person is drawn."""

    shirt: tuple[int, int, int]
    trousers: tuple[int, int, int]
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    build: float = 1.0
    hat: tuple[int, int, int] | None = None
    bag: bool = False


@dataclass(frozen=True)
class View:
    """How a camera sees a person in one frame."""

    phase: float = 0.0  # gait phase, radians
    scale: float = 1.0
    gain: float = 1.0  # brightness
    cast: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per-channel colour cast (B, G, R)
    background: tuple[int, int, int] = (90, 100, 110)
    noise: float = 4.0
    blur: int = 0
    seed: int = 0


def random_looks(n: int, seed: int) -> list[Look]:
    """`n` looks with pairwise different shirt/trousers pairs."""
    rng = np.random.default_rng(seed)
    pairs = [(a, b) for a in range(len(PALETTE)) for b in range(len(PALETTE)) if a != b]
    chosen = rng.choice(len(pairs), size=n, replace=False)
    looks = []
    for c in chosen:
        a, b = pairs[c]
        looks.append(
            Look(
                shirt=PALETTE[a],
                trousers=PALETTE[b],
                skin=SKINS[rng.integers(len(SKINS))],
                hair=HAIRS[rng.integers(len(HAIRS))],
                build=float(rng.uniform(0.85, 1.25)),
                hat=PALETTE[rng.integers(len(PALETTE))] if rng.random() < 0.2 else None,
                bag=bool(rng.random() < 0.25),
            )
        )
    return looks


def draw_person(look: Look, view: View) -> tuple[np.ndarray, np.ndarray]:
    """A tight BGR crop of the person and its foreground mask (uint8 0/255)."""
    rng = np.random.default_rng(view.seed)
    h = max(40, round(160 * view.scale))
    w = max(16, round(h * 0.42 * look.build))
    canvas = np.empty((h, w, 3), np.float32)
    canvas[:] = view.background
    canvas += np.linspace(-15, 15, h, dtype=np.float32)[:, None, None]
    mask = np.zeros((h, w), np.uint8)
    cx = w // 2
    sw = np.sin(view.phase)

    def paint(colour: tuple[int, int, int], draw) -> None:  # type: ignore[no-untyped-def]
        layer = np.zeros((h, w), np.uint8)
        draw(layer)
        canvas[layer > 0] = colour
        mask[layer > 0] = 255

    torso_w = int(w * 0.28)
    hip, foot = int(0.55 * h), int(0.98 * h)
    leg_t = max(2, int(w * 0.13))
    for side in (-1, 1):
        dx = int(side * sw * 0.12 * h)
        paint(
            look.trousers,
            lambda m, s=side, d=dx: cv2.line(
                m, (cx + s * torso_w // 2, hip), (cx + s * torso_w // 3 + d, foot), 255, leg_t
            ),
        )
    arm_t = max(2, int(w * 0.09))
    for side in (-1, 1):
        dx = int(-side * sw * 0.08 * h)
        hand = (cx + side * (torso_w + arm_t // 2) + dx, int(0.52 * h))
        paint(
            look.shirt,
            lambda m, s=side, hd=hand: cv2.line(
                m, (cx + s * torso_w, int(0.22 * h)), hd, 255, arm_t
            ),
        )
        paint(look.skin, lambda m, hd=hand: cv2.circle(m, hd, arm_t // 2 + 1, 255, -1))
    paint(
        look.shirt,
        lambda m: cv2.rectangle(m, (cx - torso_w, int(0.19 * h)), (cx + torso_w, hip + 2), 255, -1),
    )
    head = (cx, int(0.1 * h))
    axes = (max(3, int(0.06 * h)), max(4, int(0.08 * h)))
    paint(look.skin, lambda m: cv2.ellipse(m, head, axes, 0, 0, 360, 255, -1))
    paint(look.hair, lambda m: cv2.ellipse(m, head, axes, 0, 180, 360, 255, -1))
    if look.hat is not None:
        paint(
            look.hat,
            lambda m: cv2.rectangle(
                m, (cx - axes[0] - 2, 0), (cx + axes[0] + 2, head[1] - axes[1] // 2), 255, -1
            ),
        )
    if look.bag:
        paint(
            (30, 50, 70),
            lambda m: cv2.rectangle(
                m,
                (cx + torso_w - 2, int(0.4 * h)),
                (min(w - 1, cx + torso_w + 2 * arm_t), int(0.6 * h)),
                255,
                -1,
            ),
        )
    canvas = canvas * np.float32(view.gain) * np.asarray(view.cast, np.float32)
    canvas += rng.normal(0, view.noise, canvas.shape).astype(np.float32)
    img = np.clip(canvas, 0, 255).astype(np.uint8)
    if view.blur:
        img = cv2.GaussianBlur(img, (0, 0), view.blur)
    return img, mask


def track_crops(
    look: Look, n_frames: int, camera_seed: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Crops and masks of one track: a random camera (scale, lighting, colour cast,
    background) and a walking person with a different gait phase in every frame."""
    rng = np.random.default_rng(camera_seed)
    scale = float(rng.uniform(0.5, 1.3))
    gain = float(rng.uniform(0.65, 1.35))
    cast = tuple(float(c) for c in rng.uniform(0.88, 1.12, 3))
    background = tuple(int(c) for c in rng.integers(40, 200, 3))
    blur = int(rng.integers(0, 2))
    start = float(rng.uniform(0, 2 * np.pi))
    crops, masks = [], []
    for f in range(n_frames):
        view = View(
            phase=start + f * 0.9,
            scale=scale * float(rng.uniform(0.95, 1.05)),
            gain=gain,
            cast=cast,
            background=background,
            blur=blur,  # type: ignore[arg-type]
            seed=camera_seed * 1000 + f,
        )
        img, m = draw_person(look, view)
        crops.append(img)
        masks.append(m)
    return crops, masks
