"""The appearance-embedding protocol, input checks shared by every backend, and the registry.

An embedder turns several crops of one track (BGR person boxes, optionally with a foreground
mask each) into one L2-normalised vector; two tracks of the same person should have a higher
cosine similarity (dot product) than tracks of different people. Backends are adapters resolved
by name with `get_embedder_by_name`; heavy ones import their packages only when built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from pollwatch.errors import PollwatchError

__all__ = [
    "AppearanceEmbedder",
    "EmbeddingUnavailable",
    "available_embedders",
    "check_crops",
    "get_embedder_by_name",
    "l2_normalise",
    "split_track_similarities",
]


class EmbeddingUnavailable(PollwatchError):
    """The backend could not embed this track (no face found, say); the caller skips the track."""


@runtime_checkable
class AppearanceEmbedder(Protocol):
    """Anything that embeds the crops of one track into a unit vector of `dim` numbers."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed(
        self, crops: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None
    ) -> np.ndarray: ...


def l2_normalise(x: np.ndarray, axis: int = -1, eps: float = 1e-12) -> np.ndarray:
    """`x` divided by its L2 norm along `axis` (float32; an all-zero vector stays zero)."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=axis, keepdims=True)
    return x / np.maximum(norm, eps)


def check_crops(
    crops: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None
) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Validate the arguments of `embed`: a non-empty list of HxWx3 uint8 BGR crops and, if
    given, one HxW mask per crop. Raises ValueError naming `crops` or `masks`."""
    if isinstance(crops, np.ndarray) or not isinstance(crops, Sequence) or len(crops) == 0:
        raise ValueError("crops must be a non-empty list of HxWx3 uint8 BGR images")
    out = []
    for i, c in enumerate(crops):
        if not isinstance(c, np.ndarray) or c.ndim != 3 or c.shape[2] != 3:
            shape = getattr(c, "shape", type(c).__name__)
            raise ValueError(f"crops[{i}] must be an HxWx3 BGR image, got {shape}")
        if c.dtype != np.uint8:
            raise ValueError(f"crops[{i}] must be uint8, got {c.dtype}")
        if c.shape[0] < 2 or c.shape[1] < 2:
            raise ValueError(f"crops[{i}] is too small: {c.shape[:2]}")
        out.append(c)
    if masks is None:
        return out, None
    if isinstance(masks, np.ndarray) or not isinstance(masks, Sequence):
        raise ValueError("masks must be a list of HxW arrays (one per crop) or None")
    if len(masks) != len(out):
        raise ValueError(f"masks has {len(masks)} items for {len(out)} crops")
    checked = []
    for i, (m, c) in enumerate(zip(masks, out, strict=True)):
        if not isinstance(m, np.ndarray) or m.shape[:2] != c.shape[:2] or m.ndim != 2:
            shape = getattr(m, "shape", type(m).__name__)
            raise ValueError(f"masks[{i}] must be an HxW array of shape {c.shape[:2]}, got {shape}")
        checked.append(m)
    return out, checked


def split_track_similarities(
    embedder: AppearanceEmbedder,
    tracks: Sequence[tuple[Sequence[np.ndarray], Sequence[np.ndarray] | None]],
    min_crops: int = 4,
) -> np.ndarray:
    """Cosine similarity between the first and second halves of each track (crops, masks)
    with at least `min_crops` crops: known same-person pairs, to calibrate matching."""
    if min_crops < 2:
        raise ValueError(f"min_crops must be >= 2, got {min_crops!r}")
    out = []
    for crops, masks in tracks:
        if len(crops) < min_crops:
            continue
        half = len(crops) // 2
        first = embedder.embed(crops[:half], None if masks is None else masks[:half])
        second = embedder.embed(crops[half:], None if masks is None else masks[half:])
        out.append(float(first @ second))
    return np.asarray(out, np.float64)


def _colour(**options: object) -> AppearanceEmbedder:
    from pollwatch.reid.colour import ColourEmbedder

    return ColourEmbedder(**options)  # type: ignore[arg-type]


def _parts(**options: object) -> AppearanceEmbedder:
    from pollwatch.reid.parts import TUNED_PARTS, PartColourEmbedder

    return PartColourEmbedder(**{**TUNED_PARTS, **options})  # type: ignore[arg-type]


def _face(**options: object) -> AppearanceEmbedder:
    from pollwatch.reid.face import FaceEmbedder

    return FaceEmbedder(**options)  # type: ignore[arg-type]


def _onnx(**options: object) -> AppearanceEmbedder:
    from pollwatch.reid.onnx_model import OnnxEmbedder

    return OnnxEmbedder(**options)  # type: ignore[arg-type]


_REGISTRY: dict[str, Callable[..., AppearanceEmbedder]] = {
    "colour": _colour,
    "parts": _parts,
    "face": _face,
    "onnx": _onnx,
}


def available_embedders() -> list[str]:
    """The names `get_embedder_by_name` knows."""
    return sorted(_REGISTRY)


def get_embedder_by_name(name: str, **options: object) -> AppearanceEmbedder:
    """Build the embedder registered as `name` ("colour", "parts", "face", "onnx") with `options`
    passed to its constructor (e.g. `model_path=` for "onnx")."""
    try:
        factory = _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"name: unknown embedder {name!r}; known: {available_embedders()}"
        ) from None
    return factory(**options)
