"""Appearance embeddings of tracks for re-identification across cameras.

Backends sit behind one protocol (`AppearanceEmbedder`) and are resolved by name:
"colour" (built-in colour histograms, no weights), "parts" (built-in median colour of body
parts under a Gaussian kernel, no weights), "face" (dlib, optional extra `face`), "onnx" (a
user's ONNX re-id model, optional extra `onnx`).
"""

from pollwatch.reid.base import (
    AppearanceEmbedder,
    EmbeddingUnavailable,
    available_embedders,
    check_crops,
    get_embedder_by_name,
    l2_normalise,
    split_track_similarities,
)

__all__ = [
    "AppearanceEmbedder",
    "EmbeddingUnavailable",
    "available_embedders",
    "check_crops",
    "get_embedder_by_name",
    "l2_normalise",
    "split_track_similarities",
]
