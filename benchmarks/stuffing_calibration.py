"""The stuffing test's clustering factor and false-alarm rate on analysed clean cases; prints
JSON.

On a `-clean` preset every drop episode is legitimate. The test's model
(`pollwatch.stuffing.score`): an episode holds a second ballot with probability π, and grows
by each further one with probability q = 1 − exp(−c·λ·g), so P(B = 1) = 1 − π and
P(B = k) = π·q^(k−2)·(1 − q) for k ≥ 2. This script reads every camera's episodes
(`tested_episodes`: B as the test takes it, λ the camera's rate outside the episode) and
prints the maximum-likelihood π (`PAIR_SHARE`) and c (`CLUSTERING`), the episode-size
histogram, and with the values in use: each camera's smallest p-value and the share of cameras
with a flagged event (observable events only; not-observable periods are counted apart). The
pile's calibration: over the episodes whose pile could be read, how far its rise (in the
camera's per-ballot steps) exceeds the counted ballots (`pile_excess`: quantiles; the margins
in use, `rise_excess` and `fill_margin`, must lie above its upper tail). The hands' tail on
cameras below the calibrated frame height (`hands_tail`): over their episodes the pile does not
back, the share counted as three drops or more (its one-sided 95% Clopper–Pearson bound is
`HANDS_TAIL_LOW_RES`) and the geometric factor of each further drop (`HANDS_TAIL_DECAY`).

    PYTHONPATH=src python benchmarks/stuffing_calibration.py CASE [CASE ...]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import numpy as np
from scipy import optimize, stats

from pollwatch.case import CasePaths
from pollwatch.store import NotFoundError, Store
from pollwatch.stuffing.detect import DetectOptions, camera_events, tested_episodes
from pollwatch.stuffing.stored import camera_data


def _loglik(c: float, sizes: np.ndarray, rates: np.ndarray, gap: np.ndarray) -> float:
    """Log-likelihood of c for the sizes of the episodes of two ballots or more, each
    within its own window `gap` (seconds)."""
    q = np.clip(-np.expm1(-c * rates * gap), 1e-12, 1 - 1e-12)
    return float(np.sum((sizes - 2) * np.log(q) + np.log1p(-q)))


def _quantiles(x: np.ndarray) -> dict[str, float | int | None]:
    """n, median, 95th and 99th percentile and maximum of `x` (None without values)."""
    if not x.size:
        return {"n": 0, "median": None, "p95": None, "p99": None, "max": None}
    q = np.percentile(x, [50, 95, 99]).round(2)
    return {"n": int(x.size), "median": q[0], "p95": q[1], "p99": q[2], "max": round(x.max(), 2)}


def _hands_tail(sizes: list[int]) -> dict[str, object]:
    """The coarse cameras' episodes the pile does not back: how many, how many were counted
    as three drops or more, the one-sided 95% upper bound of that share and the geometric
    maximum-likelihood factor of each drop beyond three."""
    n = len(sizes)
    big = [k - 3 for k in sizes if k >= 3]
    upper = float(stats.beta.ppf(0.95, len(big) + 1, n - len(big))) if n else None
    mean = float(np.mean(big)) if big else None
    return {
        "episodes": n,
        "three_or_more": len(big),
        "share_upper95": round(upper, 4) if upper is not None else None,
        "decay_mle": round(mean / (1 + mean), 3) if mean is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="+")
    args = parser.parse_args()
    o = DetectOptions()
    sizes, rates, windows, excess = [], [], [], []
    coarse: list[int] = []  # episode sizes on cameras below the calibrated height, unbacked
    cameras: dict[str, dict[str, object]] = {}
    for case in args.cases:
        paths = CasePaths.of(case)
        with Store.existing(paths.db_path) as store:
            for cam in store.camera_records():
                try:
                    data = camera_data(store, cam)
                except NotFoundError:
                    continue
                eps = tested_episodes(data.drops, data.curve, data.step_px, data.observability, o)
                sizes += eps["tested"].clip(lower=1).tolist()
                rates += eps["rate"].tolist()
                windows += eps["window_s"].tolist()
                over = (eps["fill_ballots"] - eps["counted"]).to_numpy(float)
                excess += over[np.isfinite(over)].tolist()
                if cam.height is not None and cam.height < o.calibrated_height:
                    backed = eps["fill_ballots"] >= eps["ballots"] - o.fill_margin
                    coarse += eps.loc[~backed, "tested"].astype(int).tolist()
                events = camera_events(
                    data.drops,
                    data.series,
                    data.curve,
                    data.step_px,
                    data.observability,
                    o,
                    frame_height=cam.height,
                )
                tested = [e.p_value for e in events if e.p_value is not None]
                cameras[f"{case}:{cam.camera_id}"] = {
                    "episodes": len(eps),
                    "min_p": min(tested) if tested else None,
                    "flagged": sum(e.flagged and e.observable for e in events),
                    "not_observable": sum(not e.observable for e in events),
                }
    s, r, w = (np.asarray(x, float) for x in (sizes, rates, windows))
    pairs = s >= 2
    s, r, w = s[pairs], r[pairs], w[pairs]
    fit = optimize.minimize_scalar(
        lambda c: -_loglik(c, s, r, w), bounds=(0.05, 20.0), method="bounded"
    )
    flagged = sum(1 for v in cameras.values() if v["flagged"])
    print(
        json.dumps(
            {
                "episodes": len(sizes),
                "episode_sizes": dict(sorted(Counter(int(x) for x in sizes).items())),
                "pair_share_mle": round(float(pairs.mean()), 3) if len(sizes) else None,
                "pair_share_in_use": o.pair_share,
                "clustering_mle": round(float(fit.x), 3),
                "clustering_in_use": o.clustering,
                "alpha": o.alpha,
                "pile_excess": _quantiles(np.asarray(excess, float)),
                "rise_excess_in_use": o.episodes.rise_excess,
                "fill_margin_in_use": o.fill_margin,
                "coarse_hands": _hands_tail(coarse),
                "hands_tail_in_use": [o.hands_tail, o.hands_decay],
                "cameras": len(cameras),
                "cameras_flagged": flagged,
                "cameras_flagged_share": flagged / len(cameras) if cameras else None,
                "per_camera": cameras,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
