"""Why Shpilkin's national fit is large on clean simulated elections; prints JSON.

* ``russia``: per year, the three figures of `shpilkin` (reported, national fit, within-region
  sum) against Cedar's, the regions with evidence, the regions where the national fit and the
  within-region sum differ most, and the spread of the regions' clean references (regional
  peak turnout and clean share on the logit scale, fits with the published per-region
  settings) over the regions that have a figure in Cedar's regional table (its "N/A" marks,
  "usually mass falsification", are listed below as `CEDAR_NA`).
* ``preset``: the same spread for the regional shifts of ``azerbaijan-2024``; one clean
  election split by region; the national fit and the reported figure on clean elections when
  the preset's winner's shifts are replaced (0, halved, or drawn with a given sd and
  correlation with the turnout shifts, turnout shifts kept).

Usage: PYTHONPATH=src python benchmarks/shpilkin_regions.py russia
       PYTHONPATH=src python benchmarks/shpilkin_regions.py preset [--runs 20] [--first 6000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace

import numpy as np
from _shared_data import shared_data_dir
from scipy.special import logit

from pollwatch.forensics import Stations, read_results, shpilkin
from pollwatch.simulate.election import simulate_election
from pollwatch.simulate.presets import Preset, get_preset

CEDAR = {"2011": 14.93e6, "2012": 11.18e6, "2016": 12.65e6}
# Source: Cedar-Russia/electoral_statistics, region_analysis_tables/absolute_values_vbrosy.csv:
# regions whose figure is "N/A" in that year (matched by a word of the region's name).
CEDAR_NA = {
    "2011": "Кабардино Карачаево Коми Краснодарский Башкортостан Дагестан Ингушетия Мордовия "
    "Осетия Татарстан Тыва Тамбовская Тульская Чеченская Ямало",
    "2012": "Кабардино Карачаево Дагестан Ингушетия Мордовия Осетия Татарстан Тыва Чеченская Ямало",
    "2016": "Брянская Кабардино Карачаево Кемеровская Башкортостан Дагестан Ингушетия Мордовия "
    "Осетия Татарстан Тыва Саратовская Тюменская Чеченская",
}


def _spread(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict:
    """Weighted sd of x and y, their correlation and covariance."""
    w = w / w.sum()
    dx, dy = x - (w * x).sum(), y - (w * y).sum()
    sx, sy, cov = np.sqrt((w * dx**2).sum()), np.sqrt((w * dy**2).sum()), (w * dx * dy).sum()
    return {
        "sd_turnout": round(sx, 3),
        "sd_share": round(sy, 3),
        "correlation": round(cov / (sx * sy), 3),
        "covariance": round(cov, 4),
    }


def russia() -> dict:
    out = {}
    for year, published in CEDAR.items():
        table = read_results(shared_data_dir() / "russia" / f"{year}.csv.zip")
        st = Stations.from_frame(table.frame, table.candidates, table.winner)
        args = (st.registered, st.ballots_issued, st.winner_votes, st.other_votes)
        r = shpilkin(*args, regions=st.region)
        reg = r.regions
        gap = (reg["attributed"] - reg["regional"].fillna(reg["attributed"])).sort_values()
        published_fits = shpilkin(
            *args, regions=st.region, regional_smoothing=3, regional_baseline="peak"
        ).regions.dropna(subset=["regional"])
        published_fits = published_fits[published_fits["regional_peak"] > 0]
        marks = CEDAR_NA[year].split()
        na = published_fits["region"].map(lambda s, marks=marks: any(k in s for k in marks))
        ref = published_fits[~na.to_numpy()]
        out[year] = {
            "cedar": published,
            "reported": round(r.anomalous_votes),
            "reported_relative_error": round(r.anomalous_votes / published - 1, 4),
            "national_fit": round(r.national),
            "within_region_sum": round(r.within_region),
            "z_threshold": round(r.z_threshold, 2),
            "regions_with_evidence": f"{int(reg['evidence'].sum())}/{len(reg)}",
            "largest_national_minus_within": {
                reg.loc[i, "region"]: round(v) for i, v in gap.iloc[::-1][:10].items()
            },
            "clean_references_of_cedar_regions": {
                "regions": len(ref),
                **_spread(
                    logit(ref["regional_peak"].to_numpy() + 0.005),
                    logit(ref["regional_share"].to_numpy()),
                    ref["winner_votes"].to_numpy(float),
                ),
            },
        }
    return out


def _shares(preset: Preset, seeds: range) -> dict:
    """National fit and reported figure as shares of the valid votes on clean elections."""
    rows = []
    for seed in seeds:
        e = simulate_election(preset, seed)
        o, c = e.official(), list(preset.candidates)
        w, others = o[c[0]].to_numpy(float), o[c[1:]].to_numpy(float).sum(axis=1)
        r = shpilkin(o.registered, o.ballots_issued, w, others, regions=e.stations["region"])
        valid = w.sum() + others.sum()
        rows.append((r.national / valid, r.anomalous_votes / valid))
    a = np.array(rows)
    return {
        key: {
            "mean": round(float(a[:, j].mean()), 4),
            "sd": round(float(a[:, j].std()), 4),
            "at_or_above_1pct": int((a[:, j] >= 0.01).sum()),
        }
        for j, key in enumerate(("national_fit", "reported"))
    }


def preset(runs: int, first: int) -> dict:
    clean = get_preset("azerbaijan-2024-clean")
    w = np.array([r.weight for r in clean.regions])
    t = np.array([r.turnout_shift for r in clean.regions])
    out: dict = {"preset_shifts": _spread(t, np.array([r.winner_shift for r in clean.regions]), w)}
    e = simulate_election(clean, 7000)
    o, c = e.official(), list(clean.candidates)
    votes = o[c].to_numpy().sum()
    r = shpilkin(o.registered, o.ballots_issued, o[c[0]], o[c[1:]].sum(axis=1),
                 regions=e.stations["region"])  # fmt: skip
    out["seed_7000_national_fit_by_region"] = {
        row.region: round(row.attributed / votes, 4) for row in r.regions.itertuples()
    }
    out["seed_7000_national_fit"] = round(r.national / votes, 4)

    wn = w / w.sum()

    def std(x: np.ndarray) -> np.ndarray:
        x = x - (wn * x).sum()
        return x / np.sqrt((wn * x * x).sum())

    def with_shifts(shifts: np.ndarray) -> Preset:
        regions = tuple(
            replace(reg, winner_shift=float(s))
            for reg, s in zip(clean.regions, shifts, strict=True)
        )
        return replace(clean, regions=regions)

    seeds = range(first, first + runs)
    old = np.array([r.winner_shift for r in clean.regions])
    variants = {"preset": old, "winner_shifts_0": 0 * old, "winner_shifts_halved": 0.5 * old}
    for sd, rho in ((0.21, 0.20), (0.25, 0.29), (0.33, 0.47), (0.25, 0.0)):
        for pattern in (1, 2, 3):
            z = std(np.random.default_rng(pattern).normal(size=len(t)))
            z = std(z - (wn * z * std(t)).sum() * std(t))  # orthogonal to the turnout shifts
            variants[f"sd_{sd}_corr_{rho}_pattern_{pattern}"] = sd * (
                rho * std(t) + np.sqrt(1 - rho**2) * z
            )
    out["seeds"] = [first, first + runs - 1]
    out["clean_elections"] = {k: _shares(with_shifts(v), seeds) for k, v in variants.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("russia", "preset"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--first", type=int, default=6000)
    args = parser.parse_args()
    load = os.getloadavg()
    out = russia() if args.what == "russia" else preset(args.runs, args.first)
    out["load_average"] = [round(x, 1) for x in load]
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
