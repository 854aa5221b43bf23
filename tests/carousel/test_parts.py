"""The part-colour embedder ("parts") on drawn figures: one person seen above a ballot box on
two cameras matches, two people do not; the kernel's features approximate the kernel."""

from __future__ import annotations

import numpy as np
import pytest
from carousel_figures import View, draw_person, random_looks

from pollwatch.reid import EmbeddingUnavailable, get_embedder_by_name
from pollwatch.reid.parts import PartColourEmbedder


def _upper_body(look, camera_seed: int, n: int = 4) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    """Crops of the head and torso (what shows above a ballot box) under a camera's mild
    lighting (gain within ±7%) and background."""
    rng = np.random.default_rng(camera_seed)
    gain = float(rng.uniform(0.93, 1.07))
    background = tuple(int(c) for c in rng.integers(40, 200, 3))
    crops, masks = [], []
    for f in range(n):
        view = View(phase=f * 0.9, scale=0.6, gain=gain, background=background, seed=f)  # type: ignore[arg-type]
        img, mask = draw_person(look, view)
        cut = int(0.5 * img.shape[0])
        crops.append(img[:cut])
        masks.append(mask[:cut])
    return crops, masks


def test_parts_ranks_same_person_first() -> None:
    # the upper body shows the shirt, not the trousers: one look per shirt colour
    looks = list({look.shirt: look for look in random_looks(40, seed=3)}.values())
    assert len(looks) >= 8
    emb = PartColourEmbedder()
    a = np.stack([emb.embed(*_upper_body(look, 1000 + i)) for i, look in enumerate(looks)])
    b = np.stack([emb.embed(*_upper_body(look, 5000 + i)) for i, look in enumerate(looks)])
    sim = a @ b.T
    pos, neg = np.diag(sim), sim[~np.eye(len(looks), dtype=bool)]
    assert float(np.mean(sim.argmax(axis=1) == np.arange(len(looks)))) >= 0.85
    assert pos.mean() > 0.7 and abs(neg.mean()) < 0.2
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("distance", [0.0, 6.0, 12.0, 24.0])
def test_features_approximate_the_gaussian_kernel(distance: float) -> None:
    emb = PartColourEmbedder(dim=4096, lightness_weight=1.0, sigma=12.0)
    x = np.array([120.0, 140, 130, 90, 150, 110])
    y = x + distance / np.sqrt(len(x))  # |x - y| = distance
    got = float(emb.features(x)[0] @ emb.features(y)[0])
    assert got == pytest.approx(np.exp(-(distance**2) / (2 * 12.0**2)), abs=0.06)


def test_parts_without_masks_and_unusable_crops() -> None:
    emb = get_embedder_by_name("parts", dim=64)
    crop = np.full((40, 16, 3), 90, np.uint8)
    assert emb.embed([crop]).shape == (64,)
    empty = np.zeros((40, 16), np.uint8)
    assert emb.embed([crop], [empty]).shape == (64,)  # masks empty: read without them
    with pytest.raises(EmbeddingUnavailable):  # a band of one row, two central pixels
        PartColourEmbedder(bands=((0.0, 0.01),)).embed([np.zeros((40, 2, 3), np.uint8)])


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"bands": ((0.5, 0.2),)}, "bands"),
        ({"bands": ()}, "bands"),
        ({"sigma": 0.0}, "sigma"),
        ({"band_weights": (1.0,)}, "band_weights"),
        ({"band_weights": (1.0, -1.0)}, "band_weights"),
        ({"lightness_weight": -1.0}, "lightness_weight"),
        ({"dim": 8}, "dim"),
        ({"centre_width": 0.0}, "centre_width"),
        ({"height": 4}, "height"),
        ({"sigmas": ((10.0, 4.0, 4.0),)}, "sigmas"),
        ({"sigmas": ((10.0, 4.0, 4.0), (10.0, 0.0, 4.0))}, "sigmas"),
        ({"dark_share": (0.2,)}, "dark_share"),
        ({"dark_share": (0.0, None)}, "dark_share"),
        ({"dark_erode": -1}, "dark_erode"),
        ({"dark_erode": 1.5}, "dark_erode"),
        ({"two_tone": (True,)}, "two_tone"),
        ({"two_tone": (1, 0)}, "two_tone"),
        ({"two_tone": (True, False), "sigmas": ((60.0, 12.0, 12.0), (20.0, 4.0, 4.0))}, "sigmas"),
    ],
)
def test_parts_bad_arguments(kwargs: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        PartColourEmbedder(**kwargs)


@pytest.mark.parametrize(("dark_share", "hair_seen"), [(0.15, True), (None, False)])
def test_dark_share_reads_the_hair_of_a_face(dark_share: float | None, hair_seen: bool) -> None:
    """A head band showing a face under a little hair: its darkest pixels are the hair."""
    crop = np.full((64, 20, 3), (40, 40, 180), np.uint8)  # red shirt
    crop[:16] = (120, 160, 210)  # face
    crop[:3] = (20, 20, 25)  # hair
    emb = PartColourEmbedder(dark_share=(dark_share, None))
    head_l = float(emb.part_colours(crop)[0])
    assert (head_l < 40) == hair_seen


@pytest.mark.parametrize(("wall", "erode"), [(20, 0), (20, 1), (20, 2), (200, 0), (200, 1)])
def test_dark_erode_reads_a_bald_head_not_its_edge(wall: int, erode: int) -> None:
    """A bald head (skin, L about 200) against a dark or a light wall, its mask a ring of
    blurred edge wider than the head (demo 126's m4, session 13): the head band's darkest
    pixels are the edge's mix of skin and wall, unless taken from the eroded mask."""
    crop = np.full((64, 24, 3), (40, 40, 180), np.uint8)  # red shirt
    crop[:16] = wall
    crop[2:16, 8:16] = (170, 200, 230)  # the head, skin
    crop[2:16, 7] = crop[2:16, 16] = (np.array([170, 200, 230]) + wall) // 2  # its blurred edge
    mask = np.zeros((64, 24), bool)
    mask[16:] = True
    mask[1:16, 7:17] = True  # head and edge
    emb = PartColourEmbedder(dark_share=(0.15, None), dark_erode=erode, centre_width=1.0)
    head_l = float(emb.part_colours(crop, mask)[0])
    skin_l = float(emb.part_colours(crop[:, 8:16], mask[:, 8:16])[0])  # the head alone
    assert (abs(head_l - skin_l) < 5) == (erode > 0 or wall > 150)


def _head(skin_rows: int) -> np.ndarray:
    """A crop of a grey-haired head over a red shirt, its band's top `16 - skin_rows` rows
    hair (L about 167) and the rest brown skin (L about 115)."""
    crop = np.full((64, 20, 3), (40, 40, 180), np.uint8)  # red shirt
    crop[:16] = (160, 160, 165)  # grey hair
    crop[16 - skin_rows : 16] = (70, 100, 140)  # brown skin
    return crop


@pytest.mark.parametrize(("two_tone", "alike"), [((True, False), True), (None, False)])
def test_two_tone_reads_one_head_from_the_front_and_from_behind(
    two_tone: tuple[bool, bool] | None, alike: bool
) -> None:
    """The face (12 of the head band's 16 rows skin) and the back of the head (1 row of neck):
    the darkest 15% read the skin on one and the hair on the other; hair and skin, the two
    tones, are the same on both."""
    emb = PartColourEmbedder(dark_share=(0.15, None), two_tone=two_tone)
    front, back = emb.part_colours(_head(12)), emb.part_colours(_head(1))
    assert len(front) == (9 if two_tone else 6)
    assert (float(np.abs(front - back).max()) < 2) == alike
    if two_tone:  # dark tone the skin, light tone the hair
        assert front[0] < 130 < front[3]


def test_tuned_widths_set_the_kernel_per_channel() -> None:
    emb = PartColourEmbedder(sigmas=((60.0, 12.0, 12.0), (20.0, 4.0, 4.0)), dim=4096)
    x = np.array([30.0, 128, 128, 100, 150, 150])
    lighter = x + np.array([0, 0, 0, 20.0, 0, 0])  # the shirt 20 L units lighter: one width
    other = x + np.array([0, 0, 0, 0, 8.0, 0])  # its a 8 units off: two widths
    assert float(emb.features(x)[0] @ emb.features(lighter)[0]) == pytest.approx(
        np.exp(-0.5), abs=0.06
    )
    assert float(emb.features(x)[0] @ emb.features(other)[0]) == pytest.approx(np.exp(-2), abs=0.06)
