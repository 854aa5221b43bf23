"""Face embedding backend: dlib's ResNet face descriptor (128 numbers per face).

Needs the optional extra `face` (packages `dlib-bin` and `face-recognition-models`; the latter
ships the model files, so nothing is downloaded at run time). Faces are found with dlib's HOG
frontal-face detector in every crop; the largest face of each crop is aligned with the
5-landmark shape predictor and described; descriptors are averaged over the track and
L2-normalised. A track whose crops show no face raises `EmbeddingUnavailable` unless
`fallback_full_crop` is set, in which case the whole crop is taken as the face box (for crops
that are already face chips).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pollwatch.reid.base import EmbeddingUnavailable, check_crops, l2_normalise

__all__ = ["FaceEmbedder", "face_model_dir"]

_MODELS = {
    "shape": "shape_predictor_5_face_landmarks.dat",
    "recognition": "dlib_face_recognition_resnet_model_v1.dat",
}


def face_model_dir() -> Path:
    """The folder of model files shipped by `face-recognition-models` (without importing it:
    its __init__ needs pkg_resources, which recent setuptools no longer provides)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "the face embedder needs the optional extra 'face': "
            "pip install 'pollwatch[face]' (dlib-bin, face-recognition-models)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@functools.cache
def _load_models() -> tuple[Any, Any, Any, Any]:
    """dlib and its three models, loaded once per process (the ResNet file is 22 MB)."""
    try:
        import dlib
    except ImportError as err:
        raise ImportError(
            "the face embedder needs the optional extra 'face': "
            "pip install 'pollwatch[face]' (dlib-bin, face-recognition-models)"
        ) from err
    models = face_model_dir()
    return (
        dlib,
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(models / _MODELS["shape"])),
        dlib.face_recognition_model_v1(str(models / _MODELS["recognition"])),
    )


class FaceEmbedder:
    """dlib face descriptors averaged over a track (see module doc)."""

    name = "face"

    def __init__(
        self,
        *,
        upsample: int = 1,
        jitter: int = 0,
        min_face_px: int = 20,
        fallback_full_crop: bool = False,
    ) -> None:
        for arg, value in (
            ("upsample", upsample),
            ("jitter", jitter),
            ("min_face_px", min_face_px),
        ):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{arg} must be a non-negative integer, got {value!r}")
        self.upsample, self.jitter = upsample, jitter
        self.min_face_px, self.fallback_full_crop = min_face_px, fallback_full_crop
        self._dlib, self._detector, self._shape, self._recognition = _load_models()

    @property
    def dim(self) -> int:
        return 128

    def embed(
        self, crops: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None
    ) -> np.ndarray:
        """Mean of the per-crop face descriptors, L2-normalised; masks are ignored."""
        crops, _ = check_crops(crops, masks)
        found = [d for d in (self._describe(c) for c in crops) if d is not None]
        if not found:
            raise EmbeddingUnavailable(
                f"no face of at least {self.min_face_px} px in {len(crops)} crops"
            )
        return l2_normalise(np.mean(found, axis=0))

    def _describe(self, crop: np.ndarray) -> np.ndarray | None:
        rgb = np.ascontiguousarray(crop[:, :, ::-1])
        faces = [
            r
            for r in self._detector(rgb, self.upsample)
            if min(r.width(), r.height()) >= self.min_face_px
        ]
        if faces:
            rect = max(faces, key=lambda r: r.area())
        elif self.fallback_full_crop:
            rect = self._dlib.rectangle(0, 0, crop.shape[1] - 1, crop.shape[0] - 1)
        else:
            return None
        shape = self._shape(rgb, rect)
        desc = self._recognition.compute_face_descriptor(rgb, shape, self.jitter)
        return np.asarray(desc, dtype=np.float32)
