"""Backend for a user-supplied ONNX re-identification model (onnxruntime, optional extra `onnx`).

The model takes a batch of images and returns one feature vector per image. Its first input
must be 4-D, NCHW (channels second, 3 of them) or NHWC (channels last); the image size comes
from the model's input shape, or from `input_size=(width, height)` when the model leaves it
symbolic. Each crop is resized, converted to RGB (unless `rgb=False`), scaled by `scale` and
normalised with per-channel `mean`/`std` (ImageNet values by default, as most re-id models are
trained with). Outputs are flattened per image, L2-normalised, averaged over the track and
normalised again. Masks are ignored: re-id models are trained on whole boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pollwatch.reid.base import check_crops, l2_normalise

__all__ = ["OnnxEmbedder"]


class OnnxEmbedder:
    """Embeds crops with an ONNX model (see module doc)."""

    name = "onnx"

    def __init__(
        self,
        model_path: str | Path,
        *,
        mean: Sequence[float] = (0.485, 0.456, 0.406),
        std: Sequence[float] = (0.229, 0.224, 0.225),
        scale: float = 1.0 / 255.0,
        rgb: bool = True,
        input_size: tuple[int, int] | None = None,
        output_name: str | None = None,
        batch_size: int = 32,
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ValueError(f"model_path: no such file {str(path)!r}")
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        if self.mean.shape != (3,) or self.std.shape != (3,) or np.any(self.std <= 0):
            raise ValueError(f"mean and std must have 3 values, std > 0; got {mean!r}, {std!r}")
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        try:
            import onnxruntime as ort
        except ImportError as err:
            raise ImportError(
                "the onnx embedder needs the optional extra 'onnx': pip install 'pollwatch[onnx]'"
            ) from err
        try:
            self._session: Any = ort.InferenceSession(str(path), providers=list(providers))
        except Exception as err:  # onnxruntime raises its own exception types
            raise ValueError(
                f"model_path: {str(path)!r} is not a loadable ONNX model: {err}"
            ) from err
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        shape = list(inp.shape)
        if len(shape) != 4:
            raise ValueError(
                f"model_path: the model's input {inp.name!r} must be 4-D "
                f"(N, C, H, W) or (N, H, W, C), got {shape}"
            )
        if shape[1] == 3:
            self._layout, hw = "NCHW", shape[2:4]
        elif shape[3] == 3:
            self._layout, hw = "NHWC", shape[1:3]
        else:
            raise ValueError(f"model_path: cannot tell the channel axis of input shape {shape}")
        if all(isinstance(v, int) and v > 0 for v in hw):
            self.input_size = (int(hw[1]), int(hw[0]))
            if input_size is not None and tuple(input_size) != self.input_size:
                raise ValueError(
                    f"input_size {input_size} disagrees with the model's "
                    f"{self.input_size} (width, height)"
                )
        elif input_size is None:
            raise ValueError(
                f"input_size: the model's input size is symbolic ({shape}); "
                "give input_size=(width, height)"
            )
        else:
            if len(input_size) != 2 or min(input_size) < 1:
                raise ValueError(f"input_size must be (width, height), got {input_size!r}")
            self.input_size = (int(input_size[0]), int(input_size[1]))
        fixed_batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
        self.batch_size = fixed_batch or batch_size
        self._fixed_batch = fixed_batch
        outputs = [o.name for o in self._session.get_outputs()]
        if output_name is not None and output_name not in outputs:
            raise ValueError(
                f"output_name {output_name!r} is not an output of the model: {outputs}"
            )
        self._output_name = output_name or outputs[0]
        self.scale, self.rgb = float(scale), rgb
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        """Length of the model's feature vector (known after the first `embed`, else probed)."""
        if self._dim is None:
            self.embed([np.zeros((self.input_size[1], self.input_size[0], 3), np.uint8)])
        assert self._dim is not None
        return self._dim

    def preprocess(self, crop: np.ndarray) -> np.ndarray:
        """One crop as the model's input tensor (without the batch axis)."""
        img = cv2.resize(crop, self.input_size, interpolation=cv2.INTER_LINEAR)
        if self.rgb:
            img = img[:, :, ::-1]
        x = (img.astype(np.float32) * self.scale - self.mean) / self.std
        return np.ascontiguousarray(x.transpose(2, 0, 1) if self._layout == "NCHW" else x)

    def embed_each(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """One L2-normalised feature row per crop, shape (len(crops), dim)."""
        crops, _ = check_crops(crops, None)
        batch = np.stack([self.preprocess(c) for c in crops])
        rows = []
        for start in range(0, len(batch), self.batch_size):
            part = batch[start : start + self.batch_size]
            n = len(part)
            if self._fixed_batch and n < self._fixed_batch:  # pad to the model's batch size
                pad = np.zeros((self._fixed_batch - n, *part.shape[1:]), np.float32)
                part = np.concatenate([part, pad])
            out = self._session.run([self._output_name], {self._input_name: part})[0]
            out = np.asarray(out, np.float32)
            if out.ndim < 2 or out.shape[0] != len(part):
                raise ValueError(
                    f"model_path: output {self._output_name!r} has shape "
                    f"{out.shape}, expected one row per image of the batch"
                )
            rows.append(out.reshape(len(part), -1)[:n])
        feats = np.concatenate(rows)
        if not np.all(np.isfinite(feats)):
            raise ValueError("model_path: the model returned non-finite features")
        self._dim = feats.shape[1]
        return l2_normalise(feats)

    def embed(
        self, crops: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None
    ) -> np.ndarray:
        """Mean of the per-crop features, L2-normalised (masks are checked, then ignored)."""
        check_crops(crops, masks)
        return l2_normalise(self.embed_each(crops).mean(axis=0))
