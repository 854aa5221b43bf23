"""Appearance embedders: the built-in colour descriptor on drawn figures, dlib faces on a real
photograph shipped by scikit-image, and the ONNX adapter on a model built here."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from carousel_figures import random_looks, track_crops
from onnx import TensorProto, helper
from skimage import data

from pollwatch.reid import EmbeddingUnavailable, available_embedders, get_embedder_by_name
from pollwatch.reid.colour import ColourEmbedder
from pollwatch.reid.onnx_model import OnnxEmbedder


@pytest.mark.parametrize("use_masks", [False, True])
def test_colour_ranks_same_person_first(use_masks: bool) -> None:
    looks = random_looks(16, seed=3)
    emb = ColourEmbedder()
    a, b = [], []
    for i, look in enumerate(looks):
        for cam, out in ((1000 + i, a), (5000 + i, b)):  # two cameras, different conditions
            crops, masks = track_crops(look, 5, cam)
            out.append(emb.embed(crops, masks if use_masks else None))
    sim = np.array(a) @ np.array(b).T
    rank1 = float(np.mean(sim.argmax(axis=1) == np.arange(len(looks))))
    pos, neg = np.diag(sim), sim[~np.eye(len(looks), dtype=bool)]
    print(
        f"colour masks={use_masks}: rank-1 {rank1:.2f}, same {pos.mean():.3f}, "
        f"different {neg.mean():.3f}"
    )
    assert rank1 >= 0.85
    assert pos.mean() > neg.mean() + 0.4
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_colour_is_invariant_to_brightness_and_scale() -> None:
    look = random_looks(1, seed=5)[0]
    crops, masks = track_crops(look, 4, 7)
    emb = ColourEmbedder()
    ref = emb.embed(crops, masks)
    brighter = [cv2.convertScaleAbs(c, alpha=1.3) for c in crops]
    smaller = [cv2.resize(c, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA) for c in crops]
    small_masks = [
        cv2.resize(m, (s.shape[1], s.shape[0]), interpolation=cv2.INTER_NEAREST)
        for m, s in zip(masks, smaller, strict=True)
    ]
    assert float(ref @ emb.embed(brighter, masks)) > 0.95
    assert float(ref @ emb.embed(smaller, small_masks)) > 0.95


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"hue_bins": 1}, "hue_bins"),
        ({"height": 4}, "height"),
        ({"min_saturation": 300}, "min_saturation"),
        ({"centre_width": 0.0}, "centre_width"),
        ({"shape_weight": -1.0}, "shape_weight"),
        ({"aggregate": "max"}, "aggregate"),
        ({"bands": ((0.5, 0.2, 1.0),)}, "bands"),
    ],
)
def test_colour_bad_arguments(kwargs: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        ColourEmbedder(**kwargs)


GOOD = np.zeros((20, 10, 3), np.uint8)


@pytest.mark.parametrize(
    ("crops", "masks", "argument"),
    [
        ([], None, "crops"),
        (GOOD, None, "crops"),
        ([np.zeros((20, 10), np.uint8)], None, r"crops\[0\]"),
        ([GOOD.astype(np.float32)], None, r"crops\[0\]"),
        ([np.zeros((1, 10, 3), np.uint8)], None, r"crops\[0\]"),
        ([GOOD], [], "masks"),
        ([GOOD], [np.zeros((5, 5), np.uint8)], r"masks\[0\]"),
    ],
)
def test_embed_bad_crops(crops: object, masks: object, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        ColourEmbedder().embed(crops, masks)  # type: ignore[arg-type]


def test_registry() -> None:
    assert available_embedders() == ["colour", "face", "onnx", "parts"]
    assert isinstance(get_embedder_by_name("colour", hue_bins=8), ColourEmbedder)
    with pytest.raises(ValueError, match="name"):
        get_embedder_by_name("sift")


def test_face_matches_itself_over_other_regions() -> None:
    face_embedder = get_embedder_by_name("face")
    photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    face = photo[30:230, 120:320]
    ref = face_embedder.embed([face])
    variants = [
        face[:, ::-1].copy(),
        cv2.resize(face, None, fx=0.6, fy=0.6),
        cv2.convertScaleAbs(face, alpha=1.3, beta=10),
    ]
    same = [float(ref @ face_embedder.embed([v])) for v in variants]
    chips = get_embedder_by_name("face", fallback_full_crop=True)
    other = [
        float(ref @ chips.embed([photo[y : y + 180, x : x + 180]]))
        for y, x in ((300, 300), (0, 330), (330, 0))
    ]
    print(f"face: same {np.round(same, 3)}, other regions {np.round(other, 3)}")
    assert min(same) > max(other) + 0.05
    assert ref.shape == (128,)
    cameraman = cv2.cvtColor(data.camera()[::2, ::2], cv2.COLOR_GRAY2BGR)  # no frontal face
    with pytest.raises(EmbeddingUnavailable):
        face_embedder.embed([cameraman])


def _tiny_model(path: Path, batch: int | str = "N", hw: tuple = (16, 8), ndim: int = 4) -> Path:
    """GlobalAveragePool → Flatten → MatMul by a fixed 3×4 matrix: feature = channel means @ W."""
    shape = [batch, 3, *hw] if ndim == 4 else [batch, 3]
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("features", TensorProto.FLOAT, [batch, 4])
    w = helper.make_tensor("W", TensorProto.FLOAT, [3, 4], W.ravel().tolist())
    nodes = (
        [
            helper.make_node("GlobalAveragePool", ["images"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"]),
            helper.make_node("MatMul", ["flat", "W"], ["features"]),
        ]
        if ndim == 4
        else [helper.make_node("MatMul", ["images", "W"], ["features"])]
    )
    graph = helper.make_graph(nodes, "tiny", [x], [y], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


W = np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, -1]], np.float32)
MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.5)


def _expected(crop: np.ndarray) -> np.ndarray:
    rgb = cv2.resize(crop, (8, 16), interpolation=cv2.INTER_LINEAR)[:, :, ::-1]
    x = (rgb.astype(np.float32) / 255 - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    f = x.reshape(-1, 3).mean(0) @ W
    return f / np.linalg.norm(f)


@pytest.mark.parametrize("batch", ["N", 2])
def test_onnx_embedder_runs_a_tiny_model(tmp_path: Path, batch: int | str) -> None:
    emb = OnnxEmbedder(_tiny_model(tmp_path / "m.onnx", batch=batch), mean=MEAN, std=STD)
    assert emb.input_size == (8, 16)
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (40 + 7 * i, 20 + 3 * i, 3), dtype=np.uint8) for i in range(3)]
    each = emb.embed_each(crops)
    assert each.shape == (3, 4)
    for row, crop in zip(each, crops, strict=True):
        np.testing.assert_allclose(row, _expected(crop), atol=1e-4)
    track = emb.embed(crops)
    mean = each.mean(0)
    np.testing.assert_allclose(track, mean / np.linalg.norm(mean), atol=1e-5)
    assert emb.dim == 4


def test_onnx_symbolic_size_needs_input_size(tmp_path: Path) -> None:
    path = _tiny_model(tmp_path / "m.onnx", hw=("H", "W"))
    with pytest.raises(ValueError, match="input_size"):
        OnnxEmbedder(path)
    emb = OnnxEmbedder(path, input_size=(8, 16), mean=MEAN, std=STD)
    crop = np.random.default_rng(1).integers(0, 256, (30, 12, 3), dtype=np.uint8)
    np.testing.assert_allclose(emb.embed([crop]), _expected(crop), atol=1e-4)


@pytest.mark.parametrize(
    ("setup", "kwargs", "argument"),
    [
        ("missing", {}, "model_path"),
        ("garbage", {}, "model_path"),
        ("two_d", {}, "model_path"),
        ("good", {"std": (1.0, 0.0, 1.0)}, "std"),
        ("good", {"scale": 0.0}, "scale"),
        ("good", {"batch_size": 0}, "batch_size"),
        ("good", {"output_name": "nope"}, "output_name"),
        ("good", {"input_size": (4, 4)}, "input_size"),
    ],
)
def test_onnx_bad_arguments(tmp_path: Path, setup: str, kwargs: dict, argument: str) -> None:
    path = tmp_path / "m.onnx"
    if setup == "garbage":
        path.write_bytes(b"not a model")
    elif setup == "two_d":
        _tiny_model(path, ndim=2)
    elif setup == "good":
        _tiny_model(path)
    with pytest.raises(ValueError, match=argument):
        OnnxEmbedder(path, **kwargs)
