"""Carousel replay on stored crops: analyse a simulated case once, then re-run the carousel's
embedding and case step on the kept crops with other settings, and score each run.

`crops CASE PKL` runs `pollwatch analyse` on CASE (a copy: it writes the store) and keeps what
each camera's `VoterCrops` gave (the slot and side crops, the empty view, the box outline) in
PKL. `replay CASE PKL ...` writes each camera's sightings again from PKL with the pipeline's
`VoterPart` (embedder "parts" with `--emb` overrides of its options, `voter_part`'s light
reference unless `--part` sets VoterPart fields), runs the carousel step
(`--params` overrides of `STEP_PARAMS`) and prints the evaluation's carousel block in brief,
one JSON line per case (`--full`: the whole block). The evaluation reads the case's truth:
this is a scoring tool, never part of the analysis.

    PYTHONPATH=src python benchmarks/carousel_replay.py crops /tmp/x/demo110 /tmp/x/demo110.pkl
    PYTHONPATH=src python benchmarks/carousel_replay.py replay /tmp/x/demo110:/tmp/x/demo110.pkl \
        --emb '{"sigmas": [[100, 30, 30], [15, 3, 3]]}' --part '{"light_reference": 76}' \
        --params null_max_shape=0.4
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from pollwatch.carousel import step as carousel_step_module
from pollwatch.carousel import voters
from pollwatch.carousel.voters import CropPool, TrackCrops, VoterCrops, VoterPart
from pollwatch.case import CasePaths
from pollwatch.evaluate import load_truth
from pollwatch.evaluate.carousel_metrics import carousel_block
from pollwatch.pipeline import analyse_case
from pollwatch.reid import get_embedder_by_name
from pollwatch.store import NotFoundError, Store


def dump_crops(case: Path, target: Path, settings: dict[str, Any] | None = None) -> str:
    """Analyse `case` (every step), keeping each camera's carousel crops in `target`;
    `settings`: module constants of `pollwatch.carousel.voters` for this run (SIDE_FILL=null)."""
    kept: dict[str, dict[str, Any]] = {}
    for name, value in (settings or {}).items():
        if not hasattr(voters, name):
            raise SystemExit(f"pollwatch.carousel.voters has no {name}")
        setattr(voters, name, value)
    save = VoterPart.save

    def keeping(self: VoterPart, results: Any, run: Any, store: Store) -> None:
        crops: TrackCrops = results[0]
        cid = self.camera.camera_id
        try:  # the drops as the pass saw them (the counter finds them again after the audit)
            drops = store.read_table("counting", "drops", camera_id=cid)
        except NotFoundError:
            drops = None
        kept[cid] = {
            "slot": crops.slot,
            "sides": crops.sides,
            "background": self.crops.background,
            "box": self.crops.box,
            "drops": drops,
        }
        save(self, results, run, store)

    VoterPart.save = keeping  # type: ignore[method-assign]
    try:
        summary = analyse_case(case, restart=True, progress=False)
    finally:
        VoterPart.save = save  # type: ignore[method-assign]
    target.write_bytes(pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
    return summary


class _PassDrops:
    """The store as `VoterPart.save` saw it in the pass: the counter's drops of then (kept
    with the crops since session 11; older dumps: the store's, found again later)."""

    def __init__(self, store: Store, drops: pd.DataFrame | None) -> None:
        self._store, self._drops = store, drops

    def read_table(self, analyser: str, name: str, **keys: Any) -> pd.DataFrame:
        if (analyser, name) == ("counting", "drops") and self._drops is not None:
            return self._drops
        return self._store.read_table(analyser, name, **keys)

    def write_table(self, *args: Any, **kwargs: Any) -> None:
        self._store.write_table(*args, **kwargs)


def _trimmed(crops: VoterCrops, pool: CropPool) -> CropPool:
    """`pool`'s crops trimmed again by `crops.trimmed` (the kept ones were trimmed by the
    pass's rule; a rule that starts no earlier, such as `trim_centre`'s, gives what the pass
    would have kept, but for a crop it drops, after which the pass may keep the next frame)."""
    kept = [
        (t, *cut)
        for t, c, m in zip(pool.times, pool.crops, pool.masks, strict=True)
        if (cut := (c, m) if m is None else crops.trimmed(c, m)) is not None
    ]
    return CropPool(*(tuple(x) for x in zip(*kept, strict=True))) if kept else CropPool((), (), ())


def replay(
    case: Path,
    source: Path,
    emb: dict[str, Any],
    params: dict[str, Any],
    part: dict[str, Any] | None = None,
) -> dict:
    """Sightings again from the kept crops, the carousel step, the evaluation's block."""
    kept = pickle.loads(source.read_bytes())
    part_options = {"light_reference": voters.LIGHT_REFERENCE, **(part or {})}
    paths = CasePaths.of(case)
    with Store(paths.db_path) as store:
        for camera in store.camera_records():
            if camera.camera_id not in kept:
                continue
            k = kept[camera.camera_id]
            crops = VoterCrops(
                background=k["background"],
                box=k["box"],
                side_crops=voters.SIDE_CROPS,
                side_fill=voters.SIDE_FILL,
                trim_centre=voters.TRIM_CENTRE,
            )
            embedder = get_embedder_by_name("parts", **emb)
            part = VoterPart(camera, embedder, crops, **part_options)
            slot, sides = (
                _trimmed(crops, k["slot"]),
                {side: _trimmed(crops, pool) for side, pool in k["sides"].items()},
            )
            result = TrackCrops(None, {}, {}, slot, sides)  # type: ignore[arg-type]
            seen = _PassDrops(store, k.get("drops"))
            part.save([result], None, seen)  # type: ignore[arg-type]
        step_params = replace(carousel_step_module.STEP_PARAMS, **params)
        carousel_step_module.carousel_step(paths, store, step_params)
    return carousel_block(paths, load_truth(paths))


def brief(block: dict[str, Any]) -> dict[str, Any]:
    """The block's headline figures."""
    out: dict[str, Any] = {}
    for key in ("pairs", "pairs_found", "pairs_reported", "pairs_correct", "precision", "recall"):
        if key in block:
            out[key] = block[key]
    for key, value in block.items():
        if key not in out and not isinstance(value, (dict, list)):
            out[key] = value
    groups = block.get("groups")
    if isinstance(groups, dict):
        out["groups"] = f"{groups.get('recovered')} of {groups.get('groups')}"
    clean = block.get("clean_stations")
    if isinstance(clean, dict):
        out["clean_flagged"] = f"{clean.get('flagged')} of {clean.get('stations')}"
    return out


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("crops", help="analyse a case, keeping its carousel crops")
    c.add_argument("case", type=Path)
    c.add_argument("target", type=Path)
    c.add_argument("--voters", nargs="*", default=[], help="voters' constants, NAME=JSON")
    r = sub.add_parser("replay", help="the carousel again on kept crops, scored")
    r.add_argument("cases", nargs="+", help="CASE:PKL")
    r.add_argument("--emb", default="{}", help="options of the 'parts' embedder (JSON)")
    r.add_argument("--part", default="{}", help="VoterPart fields (JSON)")
    r.add_argument("--params", nargs="*", default=[], help="STEP_PARAMS fields, NAME=JSON")
    r.add_argument("--voters", nargs="*", default=[], help="voters' constants, NAME=JSON")
    r.add_argument("--full", action="store_true", help="print the whole carousel block")
    args = ap.parse_args()
    if args.command == "crops":
        settings = {k: _value(v) for k, v in (p.split("=", 1) for p in args.voters)}
        print(dump_crops(args.case, args.target, settings))
        return
    for name, value in (p.split("=", 1) for p in args.voters):
        if not hasattr(voters, name):
            raise SystemExit(f"pollwatch.carousel.voters has no {name}")
        setattr(voters, name, _value(value))
    emb = json.loads(args.emb)
    params = dict(p.split("=", 1) for p in args.params)
    params = {k: _value(v) for k, v in params.items()}
    for spec in args.cases:
        case, pkl = spec.rsplit(":", 1)
        block = replay(Path(case), Path(pkl), emb, params, json.loads(args.part))
        shown = block if args.full else brief(block)
        print(json.dumps({"case": Path(case).name, **shown}, default=float), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
