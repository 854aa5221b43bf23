"""Where the within-region Shpilkin sum's noise comes from, and what cuts it; prints JSON.

On clean elections of ``azerbaijan-2024-clean`` (share of the valid votes) and on elections of
``azerbaijan-2024`` with their fraud (share of the ballots added: protocol inflation + stuffed
ballots), the plain sum of `shpilkin`'s regional fits (``within_region_sum``, reported as
`within_region_votes`) against variants of its regional clean ratio and anomalous range,
computed from the same regional peaks:

* ``station_weighted``: clean ratio mean(share) / mean(1 − share) over the clean stations
  (each station counts once) instead of winner votes / others' votes (each by its votes);
* ``empirical_bayes``: each region's log clean ratio shrunk towards the precision-weighted mean
  of the regions' by tau² / (tau² + se²) (se by the delta method, tau² the regions' variance
  less the mean se², moments);
* ``above_baseline``: stations counted as anomalous only above the stations the ratio is taken
  over (bins > peak + window instead of > peak);
* ``ratio_from_every_station`` (clean elections only; not a method, fraud would enter it): the
  clean ratio over all the region's stations; the noise left is the above-peak stations' own
  scatter, a floor for any better estimate of the clean ratio.

Regions whose fit is not applicable keep the national fit's station values, as in `shpilkin`.

Usage: PYTHONPATH=src python benchmarks/shpilkin_noise.py [--clean 50] [--fraud 20] [--first 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from pollwatch.forensics.shpilkin import shpilkin
from pollwatch.simulate.election import simulate_election
from pollwatch.simulate.presets import get_preset

BIN, WINDOW = 0.01, 1  # shpilkin's defaults
VARIANTS = ("within_region_sum", "station_weighted", "empirical_bayes", "above_baseline")


def variants(
    registered: np.ndarray,
    issued: np.ndarray,
    winner: np.ndarray,
    others: np.ndarray,
    region: np.ndarray,
) -> dict[str, float]:
    """Anomalous votes of the within-region sum and of each variant (see the module docstring)."""
    fit = shpilkin(registered, issued, winner, others, regions=region)
    turnout = issued / np.maximum(registered, 1)
    bins = np.minimum((turnout / BIN + 1e-9).astype(np.int64), round(1 / BIN) - 1)
    own = fit.regions[np.isfinite(fit.regions["regional"])]
    stand_in = ~np.isin(region, own["region"].to_numpy())
    rest = float(np.nansum(fit.station_anomalous[stand_in]))
    masks, log_r, se, weighted = [], [], [], []
    for name, peak_turnout in zip(own["region"], own["regional_peak"], strict=True):
        m = region == name
        peak = round(peak_turnout / BIN)
        clean = m & (bins <= peak + WINDOW)
        r = winner[clean].sum() / others[clean].sum()
        resid = winner[clean] - r * others[clean]
        share = winner[clean] / np.maximum(winner[clean] + others[clean], 1)
        masks.append((m, peak))
        log_r.append(np.log(r))
        se.append(np.sqrt((resid**2).sum()) / others[clean].sum() / r)
        weighted.append(share.mean() / (1 - share).mean())
    log_r, se = np.array(log_r), np.array(se)
    tau2 = max(log_r.var(ddof=1) - (se**2).mean(), 1e-12)
    precision = 1 / (tau2 + se**2)
    mu = (precision * log_r).sum() / precision.sum()
    shrunk = np.exp(mu + tau2 / (tau2 + se**2) * (log_r - mu))
    out = {"within_region_sum": fit.within_region, "ratio_from_every_station": rest}
    for key in VARIANTS[1:]:
        out[key] = rest
    for (m, peak), r, rw, rs in zip(masks, np.exp(log_r), weighted, shrunk, strict=True):
        above = m & (bins > peak)
        out["station_weighted"] += (winner[above] - rw * others[above]).sum()
        out["empirical_bayes"] += (winner[above] - rs * others[above]).sum()
        beyond = m & (bins > peak + WINDOW)
        out["above_baseline"] += (winner[beyond] - r * others[beyond]).sum()
        every = winner[m].sum() / others[m].sum()
        out["ratio_from_every_station"] += (winner[above] - every * others[above]).sum()
    return out


def _summary(values: list[float], fraud: bool) -> dict:
    v = np.array(values)
    out = {
        key: round(float(f(v)), 5)
        for key, f in (("mean", np.mean), ("sd", np.std), ("min", np.min), ("max", np.max))
    }
    if not fraud:
        out["runs_abs_at_or_above_1pct"] = int((np.abs(v) >= 0.01).sum())
    return out


def run(preset_name: str, seeds: range, fraud: bool) -> dict:
    preset = get_preset(preset_name)
    rows: dict[str, list[float]] = {}
    for seed in seeds:
        e = simulate_election(preset, seed)
        res = e.official().merge(e.stations[["station_id", "region"]], on="station_id")
        names = list(preset.candidates)
        winner = res[names[0]].to_numpy(float)
        others = res[names[1:]].to_numpy(float).sum(axis=1)
        args = (res["registered"].to_numpy(float), res["ballots_issued"].to_numpy(float))
        got = variants(*args, winner, others, res["region"].to_numpy(object))
        base = float(e.inflation.sum() + e.stuffed_ballots().sum()) if fraud else winner.sum()
        if not fraud:
            base += others.sum()
        for key, value in got.items():
            if not (fraud and key == "ratio_from_every_station"):
                rows.setdefault(key, []).append(value / base)
    return {
        "preset": preset_name,
        "seeds": [seeds.start, seeds.stop - 1],
        "share_of": "ballots added" if fraud else "valid votes",
        **{key: _summary(v, fraud) for key, v in rows.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clean", type=int, default=50, help="clean elections")
    parser.add_argument("--fraud", type=int, default=20, help="elections with fraud")
    parser.add_argument("--first", type=int, default=5000, help="first seed")
    args = parser.parse_args()
    wall, cpu = time.perf_counter(), time.process_time()
    out = {
        "clean": run("azerbaijan-2024-clean", range(args.first, args.first + args.clean), False),
        "fraud": run("azerbaijan-2024", range(args.first, args.first + args.fraud), True),
        "wall_s": round(time.perf_counter() - wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
