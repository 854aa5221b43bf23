"""Carousel descriptor tables: one person across two stations against two different people.

`build CASE PKL OUT` (CASE analysed by `carousel_replay.py crops CASE PKL`): per stored
sighting its label (the evaluation's `label_by_box`: this reads the case's truth, a scoring
tool), whether it counts as seen (`seen_rows`), and per crop the colours a descriptor may use
(head band's darkest 15% in Lab, torso median Lab, torso median BGR); with each camera's empty
view and box outline. `table VARIANT[,VARIANT] OUT ...` compares descriptor variants on the
seen, labelled sightings of two stations: the exact kernel of the same person's pairs
(quantiles) and of different people's (the null's top), the share of same-person pairs above
the null's 99.9th percentile and the AUC. A variant is `WIDTHS[@LIGHT]`: WIDTHS one of
`WIDTHS` (kernel widths of head L a b and torso L a b), LIGHT "stand" (each camera's crops
times `light_factor(stand_level(...))`, as `VoterPart(light_reference=...)`) or "voters"
(grey world: the median torso luma of the camera's voters brought to 128).

    PYTHONPATH=src python benchmarks/carousel_cosines.py build /tmp/x/demo110 /tmp/x/d110.pkl \
        /tmp/x/ds110.pkl
    PYTHONPATH=src python benchmarks/carousel_cosines.py table main,main@stand /tmp/x/ds110.pkl ...
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from pollwatch.carousel.light import STAND_LEVEL, light_factor, stand_level
from pollwatch.carousel.step import seen_rows
from pollwatch.carousel.voters import SIDE_TRACK
from pollwatch.case import CasePaths
from pollwatch.evaluate import load_truth
from pollwatch.evaluate.carousel_metrics import AMBIGUOUS, box_stays, label_by_box
from pollwatch.reid.parts import UPPER_BODY_BANDS
from pollwatch.store import Store

#: kernel widths (head L, a, b, torso L, a, b; Lab units, 8-bit scale)
WIDTHS = {
    "main": (60.0, 12.0, 12.0, 20.0, 4.0, 4.0),  # TUNED_PARTS
    "s10": (100.0, 30.0, 30.0, 15.0, 3.0, 3.0),  # session 10's torso-led (reverted)
    "m15": (60.0, 12.0, 12.0, 15.0, 4.0, 4.0),
}
_HEIGHT, _CENTRE, _DARK = 64, 0.6, 0.15  # as PartColourEmbedder(**TUNED_PARTS)
_HEAD, _TORSO_LAB, _TORSO_BGR = slice(0, 3), slice(3, 6), slice(6, 9)
_LUMA = np.array([0.114, 0.587, 0.299])


def crop_colours(crop: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
    """Head darkest-15% Lab, torso median Lab, torso median BGR (9 numbers) of one crop, read
    as `PartColourEmbedder` reads its bands; None when a band is nearly empty."""
    h0, w0 = crop.shape[:2]
    width = max(4, round(w0 * _HEIGHT / h0))
    img = cv2.resize(crop, (width, _HEIGHT), interpolation=cv2.INTER_AREA)
    fg = np.ones((_HEIGHT, width), bool)
    if mask is not None:
        fg = cv2.resize(mask.astype(np.uint8), (width, _HEIGHT), cv2.INTER_NEAREST) > 0
    margin = round(width * (1 - _CENTRE) / 2)
    if margin and width - 2 * margin >= 2:
        fg[:, :margin] = False
        fg[:, width - margin :] = False
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB).astype(np.float64)
    (h_top, h_bottom), (t_top, t_bottom) = (
        (round(a * _HEIGHT), round(b * _HEIGHT)) for a, b in UPPER_BODY_BANDS
    )
    head = lab[h_top:h_bottom][fg[h_top:h_bottom]]
    torso = lab[t_top:t_bottom][fg[t_top:t_bottom]]
    torso_bgr = img[t_top:t_bottom][fg[t_top:t_bottom]].astype(np.float64)
    if len(head) < 5 or len(torso) < 5:
        return None
    dark = head[head[:, 0] <= np.quantile(head[:, 0], _DARK)]
    return np.r_[np.median(dark, 0), np.median(torso, 0), np.median(torso_bgr, 0)]


def build(case: Path, source: Path) -> dict[str, Any]:
    """The table's input for one case (see module doc)."""
    kept = pickle.loads(source.read_bytes())
    paths = CasePaths.of(case)
    with Store(paths.db_path) as store:
        s = store.read_tables("carousel", "sightings").reset_index(drop=True)
        seen = seen_rows(store, s)
    s["label"] = label_by_box(s, box_stays(load_truth(paths))).to_numpy()
    s["seen"] = seen
    colours = []
    for r in s.itertuples():
        k = kept[r.camera_id]
        pools = list(k["sides"].values()) if r.track_id == SIDE_TRACK else [k["slot"]]
        want = np.asarray(r.crop_times, np.float64)
        rows: list[np.ndarray] = []
        for pool in pools:
            at = {t: i for i, t in enumerate(pool.times)}
            if all(t in at for t in want):
                got = (crop_colours(pool.crops[at[t]], pool.masks[at[t]]) for t in want)
                rows = [g for g in got if g is not None]
                break
        colours.append(np.array(rows) if rows else np.zeros((0, 9)))
    s["colours"] = colours
    views = {cid: (k["background"], k["box"]) for cid, k in kept.items()}
    cols = ["track_key", "camera_id", "station_id", "t_s", "label", "seen", "colours"]
    return {"case": case.name, "sightings": s[cols], "views": views}


def _lab(bgr: np.ndarray) -> np.ndarray:
    px = np.clip(np.round(bgr), 0, 255).astype(np.uint8).reshape(-1, 1, 3)
    return cv2.cvtColor(px, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float64)


def _bgr(lab: np.ndarray) -> np.ndarray:
    px = np.clip(np.round(lab), 0, 255).astype(np.uint8).reshape(-1, 1, 3)
    return cv2.cvtColor(px, cv2.COLOR_LAB2BGR).reshape(-1, 3).astype(np.float64)


def camera_gains(ds: dict[str, Any], light: str) -> dict[str, float]:
    """Each camera's factor on its crops' colours (see module doc)."""
    s = ds["sightings"]
    out = {}
    for cid, (background, box) in ds["views"].items():
        if light == "stand":
            out[cid] = light_factor(stand_level(background, box), STAND_LEVEL)
        elif light == "voters":
            mine = s[(s.camera_id == cid) & s.seen & (s.colours.map(len) > 0)]
            lumas = [np.median(c[:, _TORSO_BGR] @ _LUMA) for c in mine.colours]
            out[cid] = 128.0 / float(np.median(lumas)) if lumas else 1.0
        elif light == "":
            out[cid] = 1.0
        else:
            raise SystemExit(f"unknown light {light!r}: 'stand' or 'voters'")
    return out


def descriptors(ds: dict[str, Any], widths: np.ndarray, light: str) -> list[np.ndarray | None]:
    """Per sighting: the median over its crops alike to the densest one (kernel >= 0.5, as
    `PartColourEmbedder(aggregate="mode")`) of its colours in kernel units."""
    gains = camera_gains(ds, light)
    out: list[np.ndarray | None] = []
    for c, cid in zip(ds["sightings"].colours, ds["sightings"].camera_id, strict=True):
        if not len(c):
            out.append(None)
            continue
        g = gains[cid]
        head, torso = c[:, _HEAD], c[:, _TORSO_LAB]
        if g != 1.0:
            head, torso = _lab(_bgr(head) * g), _lab(c[:, _TORSO_BGR] * g)
        x = np.c_[head, torso] / widths
        kernel = np.exp(-0.5 * ((x[:, None] - x[None]) ** 2).sum(axis=2))
        alike = kernel[int(np.argmax(kernel.sum(axis=1)))] >= 0.5
        out.append(np.median(x[alike], axis=0))
    return out


def pair_kernels(ds: dict[str, Any], desc: list[np.ndarray | None]) -> tuple[list, list]:
    """Kernels of the seen, labelled sightings' pairs at two stations: same person, null."""
    s = ds["sightings"]
    ok = [
        i
        for i in range(len(s))
        if s.seen[i] and desc[i] is not None and s.label[i] not in ("", AMBIGUOUS)
    ]
    same, null = [], []
    for a, i in enumerate(ok):
        for j in ok[a + 1 :]:
            if s.station_id[i] == s.station_id[j]:
                continue
            k = float(np.exp(-0.5 * ((desc[i] - desc[j]) ** 2).sum()))  # type: ignore[operator]
            (same if s.label[i] == s.label[j] else null).append(k)
    return same, null


def auc(same: np.ndarray, null: np.ndarray) -> float:
    """The chance that a same-person pair's kernel beats a null pair's (ties halved)."""
    values = np.r_[same, null]
    ranks = pd.Series(values).rank().to_numpy()[: len(same)]
    return float((ranks.sum() - len(same) * (len(same) + 1) / 2) / (len(same) * len(null)))


def table(variants: list[str], sets: list[dict[str, Any]]) -> None:
    for variant in variants:
        name, _, light = variant.partition("@")
        if name not in WIDTHS:
            raise SystemExit(f"unknown widths {name!r}: {sorted(WIDTHS)}")
        widths = np.asarray(WIDTHS[name])
        same_all: list[float] = []
        null_all: list[float] = []
        per_case = []
        for ds in sets:
            same, null = pair_kernels(ds, descriptors(ds, widths, light))
            same_all += same
            null_all += null
            per_case.append(f"{ds['case']} {np.median(same) if same else float('nan'):.2f}")
        same_arr, null_arr = np.asarray(same_all), np.asarray(null_all)
        q = np.quantile(same_arr, [0.1, 0.25, 0.5])
        n99, n999 = np.quantile(null_arr, [0.99, 0.999])
        print(
            f"{variant:14s} same n={len(same_arr)} q10/25/50 {q[0]:.2f}/{q[1]:.2f}/{q[2]:.2f}"
            f"  null n={len(null_arr)} q99/99.9/max {n99:.3f}/{n999:.3f}/{null_arr.max():.2f}"
            f"  same>q99.9 {np.mean(same_arr > n999):.0%} AUC {auc(same_arr, null_arr):.3f}"
            f"  | median by case: {'; '.join(per_case)}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="a case's sightings, labels and crop colours")
    b.add_argument("case", type=Path)
    b.add_argument("crops", type=Path, help="the case's carousel_replay.py crops dump")
    b.add_argument("out", type=Path)
    t = sub.add_parser("table", help="descriptor variants compared")
    t.add_argument("variants", help="WIDTHS[@stand|@voters],...")
    t.add_argument("sets", nargs="+", type=Path, help="outputs of build")
    args = ap.parse_args()
    if args.command == "build":
        ds = build(args.case, args.crops)
        args.out.write_bytes(pickle.dumps(ds, protocol=pickle.HIGHEST_PROTOCOL))
        s = ds["sightings"]
        print(f"{ds['case']}: {len(s)} sightings, {int(s.seen.sum())} seen")
        return
    table(args.variants.split(","), [pickle.loads(p.read_bytes()) for p in args.sets])


if __name__ == "__main__":
    main()
