"""The forensic suite on simulated elections of the presets, against their truth; prints JSON.

* ``clean``: clean elections (``azerbaijan-2024-clean``, ``demo-clean``; results only, nothing
  rendered) through `run_forensics` as the case step runs it (results and regions): how often
  the integer-percentage test gives p < 0.01, and Shpilkin's estimate as a share of the
  votes (the reported figure: the regions with evidence of their own; the single national
  fit of the published method; the plain sum of regional fits), and how many regions were
  counted.
* ``cameras``: elections of ``azerbaijan-2024`` with their fraud. Rendering the 1,000 camera
  stations is out of reach, so each camera's out/counts.csv is made from the truth: the true
  ballots dropped per checkpoint interval (voters, carousel and stuffed ballots) pass
  through the counter's measured error model (`COUNTER_ERRORS`: each ballot missed with
  probability miss_rate, false drops Poisson(false_rate × ballots); bounds by
  `count_bounds`), and intervals the camera could not observe are drawn from the preset's
  camera faults (turned away from the start or from mid-day, box occluded, frozen, outage,
  defocused, dark), an interval counting as unobservable below 98 % seen, as the counting
  step does. The rows then go through `observations_from_counts` and `run_forensics`
  exactly as in the case step. Reported: how often the 95 % interval of the extrapolated
  national inflated ballots covers the truth (protocol inflation, and inflation + stuffed
  ballots as `pollwatch evaluate` scores it), and the relative error.

Usage: PYTHONPATH=src python benchmarks/forensics_simulated.py clean [--runs 100] [--first 0]
       PYTHONPATH=src python benchmarks/forensics_simulated.py cameras [--runs 100] [--first 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from functools import cache

import numpy as np
import pandas as pd

from pollwatch.counting.calibration import COUNTER_ERRORS
from pollwatch.counting.stats import CounterErrors, count_bounds
from pollwatch.forensics import run_forensics
from pollwatch.forensics.step import COUNTS_COLUMNS, observations_from_counts
from pollwatch.simulate.election import Election, simulate_election
from pollwatch.simulate.presets import CameraFaults, get_preset

MIN_OBSERVED = 0.98  # as pollwatch.counting.turnout.count_intervals


def _inputs(e: Election) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """results.csv, stations.csv (station_id, region) and turnout.csv as the case holds them."""
    counts = e.interval_counts({})
    official = sum(counts.values())
    times = [t.isoformat() for t in e.clock.checkpoints]
    turnout = pd.DataFrame(
        {
            "station_id": np.repeat(e.stations["station_id"].to_numpy(), len(times)),
            "time": np.tile(times, len(e.stations)),
            "voters_cumulative": np.cumsum(official, axis=1).ravel(),
        }
    )
    return e.official(), e.stations[["station_id", "region"]], turnout


def clean(runs: int, first: int) -> dict:
    out = {}
    for name in ("azerbaijan-2024-clean", "demo-clean"):
        preset = get_preset(name)
        rows = []
        for seed in range(first, first + runs):
            e = simulate_election(preset, seed)
            results, regions, _ = _inputs(e)
            r = run_forensics(results, regions=regions, n_mc=1000, n_boot=1, seed=seed)
            valid = results[list(preset.candidates)].to_numpy().sum()
            sh = r.shpilkin
            rows.append(
                (
                    r.integer_peaks.pvalue,
                    sh.anomalous_votes / valid if sh.applicable else np.nan,
                    sh.national / valid if sh.applicable else np.nan,
                    sh.within_region / valid if sh.applicable else np.nan,
                    float(sh.regions["evidence"].sum()) if sh.applicable else np.nan,
                )
            )
        a = np.array(rows)
        out[name] = {
            "elections": runs,
            "seeds": [first, first + runs - 1],
            "stations": len(e.stations),
            "integer_p_below_0.01": int((a[:, 0] < 0.01).sum()),
            "shpilkin_applicable": int(np.isfinite(a[:, 1]).sum()),
        }
        counted = a[np.isfinite(a[:, 4]), 4]
        out[name]["shpilkin_regions_counted"] = {
            "elections_with_any": int((counted > 0).sum()),
            "mean": round(float(counted.mean()), 3) if len(counted) else None,
        }
        for key, col in (
            ("shpilkin", 1),
            ("shpilkin_national_fit", 2),
            ("shpilkin_within_region_sum", 3),
        ):
            v = a[np.isfinite(a[:, col]), col]
            if len(v):
                out[name][key] = {
                    "mean_share_of_votes": round(float(v.mean()), 5),
                    "sd": round(float(v.std()), 5),
                    "max": round(float(v.max()), 5),
                    "min": round(float(v.min()), 5),
                    "runs_at_or_above_1pct": int((v >= 0.01).sum()),
                    "runs_abs_at_or_above_1pct": int((np.abs(v) >= 0.01).sum()),
                }
    return out


def _unseen(faults: CameraFaults, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Unobservable parts of the day (fractions 0..1) of one camera, drawn as
    `pollwatch.simulate.conditions` draws the conditions that hide the box."""
    mid = 0.15 + 0.55 * rng.random()
    out = []

    def stretch(lo: float, hi: float) -> tuple[float, float]:
        length = lo + (hi - lo) * rng.random()
        start = (1 - length) * rng.random()
        return start, start + length

    if rng.random() < faults.turned_away:
        out.append((0.0 if rng.random() < 0.6 else mid, 1.0))
    if rng.random() < faults.defocus:
        out.append((0.0 if rng.random() < 0.5 else mid, 1.0))
    for p, lo, hi in (
        (faults.box_occluded, 0.1, 0.3),
        (faults.frozen, 0.03, 0.1),
        (faults.outage, 0.03, 0.1),
        (faults.dark, 0.05, 0.2),
    ):
        if rng.random() < p:
            out.append(stretch(lo, hi))
    return out


@cache
def _bounds(counted: int, errors: CounterErrors) -> tuple[int, int]:
    b = count_bounds(counted, errors)
    return b.lower, b.upper


def camera_counts(
    e: Election, rng: np.random.Generator, errors: CounterErrors = COUNTER_ERRORS
) -> pd.DataFrame:
    """out/counts.csv of every camera station, made from the true ballots dropped per
    checkpoint interval through the counter's error model (see the module docstring)."""
    counts = e.interval_counts({})
    dropped = counts["legit"] + counts["carousel"] + counts["stuffed"]
    official = dropped + counts["inflation"]
    cams = e.stations[e.stations["camera_id"] != ""]
    edges = np.r_[0.0, e.clock.checkpoints_s] / e.clock.close_s
    starts = [e.clock.at(s).isoformat() for s in np.r_[0.0, e.clock.checkpoints_s[:-1]]]
    ends = [t.isoformat() for t in e.clock.checkpoints]
    faults = e.preset.faults
    rows = []
    for row, sid, cid in zip(cams.index, cams["station_id"], cams["camera_id"], strict=True):
        n = dropped[row]
        full = rng.binomial(n, 1 - errors.miss_rate) + rng.poisson(errors.false_rate * n)
        hidden = np.zeros(len(n))
        for a, b in _unseen(faults, rng):
            hidden += np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0, None)
        seen = 1 - np.minimum(hidden / np.diff(edges), 1)
        counted = rng.binomial(full, seen)
        for i in range(len(n)):
            lower, upper = _bounds(int(counted[i]), errors)
            observable = seen[i] >= MIN_OBSERVED
            rows.append(
                (cid, sid, starts[i], ends[i], int(counted[i]), lower,
                 upper if observable else np.nan, int(official[row, i]), observable)
            )  # fmt: skip
    return pd.DataFrame(rows, columns=list(COUNTS_COLUMNS))


def cameras(runs: int, first: int) -> dict:
    preset = get_preset("azerbaijan-2024")
    per_run = []
    for seed in range(first, first + runs):
        e = simulate_election(preset, seed)
        rng = np.random.default_rng(seed)
        results, regions, turnout = _inputs(e)
        obs = observations_from_counts(camera_counts(e, rng), errors=COUNTER_ERRORS)
        r = run_forensics(
            results, regions=regions, checkpoints=turnout, observations=obs, n_mc=100,
            n_boot=1, seed=seed,
        )  # fmt: skip
        x = r.extrapolation
        inflation = float(e.inflation.sum())
        stuffed = float(e.stuffed_ballots().sum())
        per_run.append(
            {
                "seed": seed,
                "estimate": x.statistic,
                "lower": x.lower,
                "upper": x.upper,
                "inflation": inflation,
                "inflation_and_stuffed": inflation + stuffed,
                "measured": x.n_measured,
                "bounded": x.n_bounded,
            }
        )
    f = pd.DataFrame(per_run)
    out: dict = {"elections": runs, "seeds": [first, first + runs - 1]}
    for truth in ("inflation", "inflation_and_stuffed"):
        t = f[truth]
        covered = (f["lower"] <= t) & (t <= f["upper"])
        rel = f["estimate"] / t - 1
        out[truth] = {
            "coverage_95": round(float(covered.mean()), 3),
            "true_below_interval": int((t < f["lower"]).sum()),
            "true_above_interval": int((t > f["upper"]).sum()),
            "mean_relative_error": round(float(rel.mean()), 4),
            "sd_relative_error": round(float(rel.std()), 4),
        }
    out["mean_true_inflation"] = round(float(f["inflation"].mean()))
    out["mean_half_width_relative"] = round(
        float(((f["upper"] - f["lower"]) / 2 / f["inflation"]).mean()), 4
    )
    out["measured_stations_mean"] = round(float(f["measured"].mean()), 1)
    out["bounded_stations_mean"] = round(float(f["bounded"].mean()), 1)
    out["counter_errors"] = {"miss_rate": COUNTER_ERRORS.miss_rate,
                             "false_rate": COUNTER_ERRORS.false_rate}  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("part", choices=("clean", "cameras"))
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--first", type=int, default=0, help="first seed")
    args = parser.parse_args()
    wall, cpu = time.perf_counter(), time.process_time()
    out = {args.part: (clean if args.part == "clean" else cameras)(args.runs, args.first)}
    out["wall_s"] = round(time.perf_counter() - wall, 1)
    out["cpu_s"] = round(time.process_time() - cpu, 1)
    out["load_average"] = [round(x, 1) for x in os.getloadavg()]
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
