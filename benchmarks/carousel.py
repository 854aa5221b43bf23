"""Carousel matching at scale: a million synthetic sightings across 1,000 cameras.

Persons are random unit vectors (dim 128); each sighting adds isotropic noise (see
pollwatch.carousel.synthetic); planted carousel groups travel through nearby stations. Prints
JSON: wall time and CPU time of detection, peak RSS, index parameters, pairwise precision and
recall of the reported persons on the planted carousel persons, groups recovered with >= 80% of
their persons, and the number of findings on a clean set (no repeated persons) when --clean.

    PYTHONPATH=src python benchmarks/carousel.py [--sightings 1000000] [--clean]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

from pollwatch.carousel import CarouselParams, IndexParams, detect_carousels
from pollwatch.carousel.synthetic import make_planted_set, pairwise_scores, recovered_groups


def _run(args: argparse.Namespace, n_groups: int, params: CarouselParams) -> dict[str, object]:
    t0 = time.perf_counter()
    planted = make_planted_set(
        n_sightings=args.sightings,
        n_stations=args.cameras,
        n_groups=n_groups,
        dim=args.dim,
        noise=args.noise,
        seed=args.seed,
    )
    made = time.perf_counter() - t0
    emb = planted.sightings.embedding
    same = [emb[a] @ emb[b] for a, b in _same_person_pairs(planted.person, 2000)]
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, len(emb), (2, 20000))
    diff = np.einsum("ij,ij->i", emb[a], emb[b])[planted.person[a] != planted.person[b]]
    t1, c1 = time.perf_counter(), time.process_time()
    result = detect_carousels(planted.sightings, planted.stations, params)
    wall, cpu = time.perf_counter() - t1, time.process_time() - c1
    reported = result.reported_person()
    group = np.full(len(reported), -1)
    if len(result.person_group):
        group = np.where(reported >= 0, result.person_group[np.maximum(reported, 0)], -1)
    out: dict[str, object] = {
        "sightings": len(planted.sightings),
        "planted_groups": n_groups,
        "planted_carousel_sightings": int((planted.group >= 0).sum()),
        "generate_s": round(made, 1),
        "detect_wall_s": round(wall, 1),
        "detect_cpu_s": round(cpu, 1),
        "detect_steps_s": result.timings,
        "candidate_pairs": len(result.candidates),
        "findings": len(result.findings),
        "same_person_cosine": [round(float(np.mean(same)), 3), round(float(np.std(same)), 3)],
        "different_person_cosine": [round(float(diff.mean()), 3), round(float(diff.std()), 3)],
        "calibration": {k: (v.to_dict() if v else None) for k, v in result.calibration.items()},
    }
    if n_groups:
        out.update(pairwise_scores(reported, planted.person, planted.group))
        out["groups_recovered_80pct"] = recovered_groups(group, planted.person, planted.group)
    return out


def _same_person_pairs(person: np.ndarray, limit: int) -> list[tuple[int, int]]:
    order = np.argsort(person, kind="stable")
    sp = person[order]
    dup = np.flatnonzero(sp[1:] == sp[:-1])[:limit]
    return [(int(order[i]), int(order[i + 1])) for i in dup]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sightings", type=int, default=1_000_000)
    ap.add_argument("--cameras", type=int, default=1000)
    ap.add_argument("--groups", type=int, default=300)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--noise", type=float, default=0.42)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--nprobe", type=int, default=10)
    ap.add_argument("--nlist", type=int, default=1024)
    ap.add_argument("--pq-m", type=int, default=32)
    ap.add_argument("--kind", default="auto")
    ap.add_argument("--train-size", type=int, default=65_536)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clean", action="store_true", help="also run a clean set (no carousels)")
    ap.add_argument(
        "--attach",
        type=float,
        default=None,
        help="attach_similarity: lone persons join a group (the pipeline's step: 0.4; off)",
    )
    args = ap.parse_args()
    index = IndexParams(
        kind=args.kind,
        k=args.k,
        nprobe=args.nprobe,
        nlist=args.nlist,
        pq_m=args.pq_m,
        k_factor=4,
        train_size=65_536,
        kmeans_iterations=10,
        hnsw_m=16,
        ef_construction=64,
        ef_search=64,
    )
    params = CarouselParams(index=index, attach_similarity=args.attach)
    report: dict[str, object] = {
        "machine_cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "index": index.__dict__,
        "planted": _run(args, args.groups, params),
    }
    if args.clean:
        report["clean"] = _run(args, 0, params)
    report["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)
    json.dump(report, sys.stdout, indent=2, default=float)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
