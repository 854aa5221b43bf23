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
in use, `rise_excess` and `fill_margin`, must lie above its upper tail), and how far it
exceeds the ballots the count proves (`pile_tail`: with `DetectOptions.pile_drops`, those of
the hands seen going in) at legitimate episodes, those 5 ballots or more above (the one-sided
95% bound of their share is `PILE_TAIL`) and the factor of each ballot beyond
(`PILE_TAIL_DECAY`: exp(−1/m), m the one-sided 95% upper bound of the mean excess over 2 of
those above 2). The hands' tail on
cameras below the calibrated frame height (`hands_tail`): over their episodes the pile does not
back, the share counted as three drops or more (its one-sided 95% Clopper–Pearson bound is
`HANDS_TAIL_LOW_RES`) and the geometric factor of each further drop (`HANDS_TAIL_DECAY`).
The pile between episodes (`between_rises`, nobody at the box): how far it rose across each
stretch with no counted drop, the share that rose by one ballot or more (its one-sided 95%
Clopper–Pearson bound is `RISE_TAIL`) and the factor of each ballot beyond
(`RISE_TAIL_DECAY`: exp(−1/m), m the one-sided 95% upper bound of their mean excess over one
ballot); stretches partly on the counter's rough time (`rough_ranges`: the box out of focus)
are listed apart (`rise_on_rough_time`): the detector gives them the episodes' tail. The
burstiness of legitimate voters (`window_dispersion`, the test of a rise across a period the
box could not be watched): on cameras of the calibrated height, their watched time cut into
disjoint windows of 15-120 s, the counted ballots' variance over their expected number (the
camera's rate outside the window times its length; `HIDDEN_DISPERSION` must lie above it)
and the share of windows whose count `rise_test` with the dispersion in use puts below 0.02
and `hidden_explained`. With `--legit-only` the stretches within 5 s of a true stuffer's
hands (the case's truth, read through `pollwatch.evaluate`) are left out, and the windows
are taken on cameras without a stuffer only, so that fraud cases can be used too. The pile's
rise at a single hand counted as one ballot on cameras of the calibrated height
(`single_hand_rise`): what a thick insertion (a small bundle) would have to stand out from.
Small bundles (`hands_beyond`, cameras of the calibrated height): the episodes counted two
ballots or more beyond their hand movements with the pile backing the count, and those joined
across one person's pause (`DetectOptions.pause_s`; with `--legit-only` both should be rare).
The second cue's two tails (`side_cue`, `stuffing.sides`; cameras of the calibrated height):
the episodes with a run of three hands or more each within `side_cadence_s` of the one before
that the pile does not refute (their share's one-sided 95% bound is `SIDE_RUN_TAIL`), and the
pairs of neighbouring hands within that cadence on series with the watcher's arm columns, how
many came from one side of the slot (`SIDE_PAIR_TAIL`). Use `--legit-only` on fraud cases.

    PYTHONPATH=src python benchmarks/stuffing_calibration.py [--legit-only] CASE [CASE ...]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import numpy as np
import pandas as pd
from scipy import optimize, stats

from pollwatch.case import CasePaths
from pollwatch.counting.stats import rate_upper
from pollwatch.counting.unobservable import rough_ranges
from pollwatch.evaluate.truthview import load_truth, stuffing_events
from pollwatch.store import NotFoundError, Store
from pollwatch.stuffing.detect import DetectOptions, between_rises, tested_episodes
from pollwatch.stuffing.score import (
    PILE_TAIL_FROM,
    RISE_TAIL_FROM,
    hidden_dispersion,
    rise_test,
)
from pollwatch.stuffing.sides import hand_sides, hand_times, pile_refutes, seen_times, side_run
from pollwatch.stuffing.step import stored_events
from pollwatch.stuffing.stored import CameraData, camera_data

WINDOWS_S = (15.0, 30.0, 60.0, 90.0, 120.0)


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
    upper = rate_upper(len(big), n) if n else None
    mean = float(np.mean(big)) if big else None
    return {
        "episodes": n,
        "three_or_more": len(big),
        "share_upper95": round(upper, 4) if upper is not None else None,
        "decay_mle": round(mean / (1 + mean), 3) if mean is not None else None,
    }


def _decay(excess: np.ndarray) -> float | None:
    """The exponential tail's factor a ballot, exp(−1/m), m the one-sided 95% upper bound
    (chi-square) of the mean of `excess` (each value's excess over the tail's start); None
    without values."""
    if not excess.size:
        return None
    mean_up = 2 * float(excess.sum()) / float(stats.chi2.ppf(0.05, 2 * excess.size))
    return round(float(np.exp(-1.0 / mean_up)), 3)


def _rise_tail(rises: np.ndarray, cameras: int) -> dict[str, object]:
    """The rises between episodes: how many, on how many cameras, those of `RISE_TAIL_FROM`
    ballots or more, the one-sided 95% bound of their share and the exponential factor of
    each ballot beyond (from the 95% upper bound of their mean excess)."""
    n = rises.size
    big = rises[rises >= RISE_TAIL_FROM] - RISE_TAIL_FROM
    upper = rate_upper(int(big.size), n) if n else None
    return {
        "stretches": int(n),
        "cameras": cameras,
        "quantiles": _quantiles(rises),
        "one_or_more": np.round(np.sort(big + RISE_TAIL_FROM), 2).tolist(),
        "share_upper95": round(upper, 4) if upper is not None else None,
        "decay": _decay(big),
    }


def _pile_tail(excess: np.ndarray) -> dict[str, object]:
    """The pile's rise over the ballots seen going in at legitimate episodes (`PILE_TAIL`):
    how many, those `PILE_TAIL_FROM` ballots or more above and the one-sided 95% bound of
    their share, the excesses above 2 ballots and the exponential factor of each ballot
    beyond (`PILE_TAIL_DECAY`: from the 95% upper bound of their mean excess over 2)."""
    n = excess.size
    far = int(np.sum(excess >= PILE_TAIL_FROM))
    above = excess[excess > 2.0] - 2.0
    return {
        "episodes": int(n),
        "five_or_more": far,
        "share_upper95": round(rate_upper(far, n), 4) if n else None,
        "above_two": np.round(np.sort(above + 2.0), 2).tolist(),
        "decay": _decay(above),
    }


def _single_rises(rises: np.ndarray) -> dict[str, object]:
    """The pile's rise at single hands counted as one ballot (the null of a thick insertion,
    a small bundle): quantiles, how many read 2, 2.5 and 3 ballots or more, and the one-sided
    95% Clopper-Pearson bound of the share at 2.5 or more."""
    n = rises.size
    thick = int(np.sum(rises >= 2.5))
    upper = rate_upper(thick, n) if n else None
    return {
        "quantiles": _quantiles(rises),
        "two_or_more": int(np.sum(rises >= 2.0)),
        "two_and_a_half_or_more": thick,
        "three_or_more": int(np.sum(rises >= 3.0)),
        "share_upper95": round(upper, 4) if upper is not None else None,
    }


def _window_counts(data: CameraData, length_s: float, o: DetectOptions) -> list[tuple]:
    """(counted ballots, expected) in each disjoint window of `length_s` seconds the box
    was watched throughout: expected at the camera's rate outside the window."""
    obs = data.observability
    watched = obs.observed_s(obs.start_s, obs.end_s)
    if watched < 2 * length_s:
        return []
    t = data.drops["t_s"].to_numpy(float)
    n = data.drops["ballots"].to_numpy(float)
    total, out = float(n.sum()), []
    for a in np.arange(obs.start_s, obs.end_s - length_s + 1e-9, length_s):
        if obs.observed_share(a, a + length_s) > 0.99:
            k = float(n[(t >= a) & (t < a + length_s)].sum())
            rate = max((total - k) / (watched - length_s), 1.0 / o.min_rate_s)
            out.append((k, rate * length_s))
    return out


def _dispersion(counts: dict[float, list[tuple]], o: DetectOptions) -> dict[str, object]:
    """Per window length: windows, the counts' variance over their mean, and the share the
    dispersed `rise_test` (the dispersion in use for a blind range of that length) puts below
    0.02 and below `hidden_explained`."""
    out: dict[str, object] = {}
    for length, pairs in counts.items():
        if not pairs:
            continue
        k, mu = np.asarray(pairs, float).T
        phi = (
            min(hidden_dispersion(length), o.hidden_dispersion)
            if o.hidden_dispersion_by_length
            else o.hidden_dispersion
        )
        p = np.asarray([rise_test(a, length, m / length, dispersion=phi) for a, m in pairs])
        out[f"{length:.0f}s"] = {
            "windows": len(pairs),
            "dispersion": round(float(np.mean((k - mu) ** 2 / mu)), 3),
            "dispersion_in_use": round(phi, 3),
            "below_0.02": round(float(np.mean(p < 0.02)), 4),
            "below_hidden_explained": round(float(np.mean(p < o.hidden_explained)), 4),
        }
    return out


def _side_cue(data: CameraData, eps: pd.DataFrame, o: DetectOptions) -> tuple[int, int, int, int]:
    """(episodes, runs of three hands or more in the cadence the pile does not refute, pairs
    of neighbouring hands within the cadence, those from one side) of `eps`."""
    runs = pairs = same = 0
    t = seen_times(data.drops) if o.pile_drops else data.drops["t_s"].to_numpy(float)
    for ep in eps.itertuples(index=False):
        hands = hand_times(t[(t >= ep.start_s) & (t <= ep.end_s)], o.episodes.hand_gap_s)
        timing = side_run(hands, "L" * len(hands), o.side_cadence_s)
        runs += timing >= 3 and not pile_refutes(ep.fill_ballots, timing, o.side_refute)
        sides = hand_sides(data.series, hands)
        if "?" * len(hands) == sides:
            continue
        close = np.diff(hands) <= o.side_cadence_s
        pairs += int(close.sum())
        same += sum(
            bool(c) and a == b and a in "LR"
            for c, a, b in zip(close, sides, sides[1:], strict=False)
        )
    return len(eps), runs, pairs, same


def _hands_beyond(eps: pd.DataFrame, o: DetectOptions) -> tuple[int, int, int]:
    """(episodes, those counted at least two ballots beyond their hand movements with the
    pile backing the count (its rise at least the count less half a ballot: a small bundle's
    signature), those joined across one person's pause (`DetectOptions.pause_s`)) of `eps`."""
    fill = eps["fill_ballots"].to_numpy(float)
    counted = eps["counted"].to_numpy(float)
    beyond = (counted >= eps["insertions"].to_numpy(float) + 2) & (fill >= counted - 0.5)
    joined = eps["max_gap_s"].to_numpy(float) > o.episodes.gap_s
    return len(eps), int(beyond.sum()), int(joined.sum())


def _stuffed(case: str, legit_only: bool) -> dict[str, list[tuple[float, float]]]:
    """Per camera, the true stuffers' hands (start_s, end_s): only with `legit_only`."""
    if not legit_only:
        return {}
    events = stuffing_events(load_truth(CasePaths.of(case)))
    out: dict[str, list[tuple[float, float]]] = {}
    for cam, a, b in events[["camera_id", "start_s", "end_s"]].itertuples(index=False):
        out.setdefault(str(cam), []).append((float(a), float(b)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="+")
    parser.add_argument("--legit-only", action="store_true", help="leave out true stuffers")
    args = parser.parse_args()
    o = DetectOptions()
    sizes, rates, windows, excess, rises = [], [], [], [], []
    # the pile's rise over the ballots the count proves (`pile_drops`: those seen going in)
    # at legitimate episodes: PILE_TAIL's sample
    seen_excess: list[float] = []
    rough_rises: list[float] = []  # stretches partly out of focus: the episodes' tail instead
    singles: list[float] = []  # the pile's rise at one hand counted as one ballot (640x360)
    rise_cameras = 0
    side = np.zeros(4, int)  # episodes, runs of three, hand pairs in the cadence, one-sided
    beyond = np.zeros(3, int)  # episodes, 2+ ballots beyond the hands, joined across a pause
    coarse: list[int] = []  # episode sizes on cameras below the calibrated height, unbacked
    counts: dict[float, list[tuple]] = {length: [] for length in WINDOWS_S}
    cameras: dict[str, dict[str, object]] = {}
    for case in args.cases:
        paths = CasePaths.of(case)
        stuffed = _stuffed(case, args.legit_only)
        with Store.existing(paths.db_path) as store:
            for cam in store.camera_records():
                try:
                    data = camera_data(store, cam)
                except NotFoundError:
                    continue
                eps = tested_episodes(
                    data.drops,
                    data.curve,
                    data.step_px,
                    data.observability,
                    o,
                    series=None if o.coarse(cam.height) else data.series,  # as camera_events
                )
                sizes += eps["tested"].clip(lower=1).tolist()
                rates += eps["rate"].tolist()
                windows += eps["window_s"].tolist()
                over = (eps["fill_ballots"] - eps["counted"]).to_numpy(float)
                excess += over[np.isfinite(over)].tolist()
                fair = eps
                for a, b in stuffed.get(cam.camera_id, []):
                    fair = fair[(fair["end_s"] < a - 5.0) | (fair["start_s"] > b + 5.0)]
                own = fair["seen"] if o.pile_drops else fair["counted"]
                over = (fair["fill_ballots"] - own).to_numpy(float)
                seen_excess += over[np.isfinite(over)].tolist()
                if (cam.height or 0) >= o.calibrated_height:
                    one = eps[(eps["insertions"] == 1) & (eps["counted"] == 1)]
                    for a, b in stuffed.get(cam.camera_id, []):
                        one = one[(one["end_s"] < a - 5.0) | (one["start_s"] > b + 5.0)]
                    singles += one["fill_ballots"].dropna().tolist()
                    fair = eps
                    for a, b in stuffed.get(cam.camera_id, []):
                        fair = fair[(fair["end_s"] < a - 5.0) | (fair["start_s"] > b + 5.0)]
                    side += np.asarray(_side_cue(data, fair, o))
                    beyond += np.asarray(_hands_beyond(fair, o))
                rough = rough_ranges(data.series)
                gaps = between_rises(eps, data.curve, data.step_px, data.observability, o, rough)
                for a, b in stuffed.get(cam.camera_id, []):
                    gaps = gaps[(gaps["end_s"] < a - 5.0) | (gaps["start_s"] > b + 5.0)]
                on_rough = gaps["rough_s"] > 0
                rough_rises += gaps.loc[on_rough, "ballots"].dropna().round(2).tolist()
                found = gaps.loc[~on_rough, "ballots"].dropna().tolist()
                rises += found
                rise_cameras += bool(found)
                if cam.camera_id not in stuffed and (cam.height or 0) >= o.calibrated_height:
                    for length in WINDOWS_S:
                        counts[length] += _window_counts(data, length, o)
                if o.coarse(cam.height):
                    backed = eps["fill_ballots"] >= eps["ballots"] - o.fill_margin
                    coarse += eps.loc[~backed, "tested"].astype(int).tolist()
                events = stored_events(data, o)
                tested = [e.p_value for e in events if e.p_value is not None]
                cameras[f"{case}:{cam.camera_id}"] = {
                    "episodes": len(eps),
                    "min_p": min(tested) if tested else None,
                    "flagged": sum(e.flagged and e.observable for e in events),
                    "not_observable": sum(not e.observable and e.flagged for e in events),
                    "unwatched_listed": sum(not e.observable and not e.flagged for e in events),
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
                "pile_tail": _pile_tail(np.asarray(seen_excess, float)),
                "pile_tail_in_use": [o.pile_tail, o.pile_decay, o.pile_drops],
                "rise_excess_in_use": o.episodes.rise_excess,
                "single_hand_rise": _single_rises(np.asarray(singles, float)),
                "fill_margin_in_use": o.fill_margin,
                "coarse_hands": _hands_tail(coarse),
                "hands_tail_in_use": [o.hands_tail, o.hands_decay],
                "side_cue": {
                    "episodes": int(side[0]),
                    "runs_of_three": int(side[1]),
                    "run_share_upper95": round(rate_upper(int(side[1]), int(side[0])), 4)
                    if side[0]
                    else None,
                    "hand_pairs": int(side[2]),
                    "pairs_one_side": int(side[3]),
                    "pair_share_upper95": round(rate_upper(int(side[3]), int(side[2])), 4)
                    if side[2]
                    else None,
                    "in_use": [o.side_run_tail, o.side_pair_tail],
                },
                "hands_beyond": {
                    "episodes": int(beyond[0]),
                    "two_or_more_backed": int(beyond[1]),
                    "share_upper95": round(rate_upper(int(beyond[1]), int(beyond[0])), 4)
                    if beyond[0]
                    else None,
                    "joined_across_pause": int(beyond[2]),
                    "pause_in_use": [o.pause_s, o.pause_run],
                },
                "rise_between_episodes": _rise_tail(np.asarray(rises, float), rise_cameras),
                "rise_tail_in_use": [o.rise_tail, o.rise_decay],
                "rise_on_rough_time": sorted(rough_rises),
                "window_dispersion": _dispersion(counts, o),
                "hidden_dispersion_in_use": o.hidden_dispersion,
                "hidden_dispersion_by_length": o.hidden_dispersion_by_length,
                "cameras_with_not_observable": sum(
                    1 for v in cameras.values() if v["not_observable"]
                ),
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
