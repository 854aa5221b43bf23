"""Accuracy of the forensic suite against its targets; prints JSON.

* Russia 2011, 2012, 2016 (shared/data/russia): national turnout and winner share, the
  integer-peak excess and its 99.9 % null, Shpilkin's anomalous votes and the Klimek fit,
  next to the published figures (README of the data).
* 100 clean synthetic elections (tests/forensics/synthetic_elections.py): how often the
  integer test gives p < 0.01, and the largest Shpilkin estimate (national and within-region)
  as a share of the votes, with regions alike and with regions that differ.
* how often the digit tests and the Sobyanin–Sukhovolsky slope reject on 100 clean and 100
  stuffed synthetic elections (the digit tests' blindness, measured).
* 100 synthetic elections with stuffing of known size: coverage of the 95 % interval of the
  camera extrapolation (HC3 and bootstrap).

Usage: PYTHONPATH=src python benchmarks/forensics_accuracy.py [--runs 100] [--skip-russia]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from _shared_data import shared_data_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "forensics"))

from synthetic_elections import (
    CANDIDATES,
    add_stuffing,
    camera_counts,
    clean_election,
)

from pollwatch.forensics import (
    Stations,
    c05s,
    extrapolate_inflation,
    forensics_file,
    integer_percentages,
    last_digit,
    second_digit_benford,
    shpilkin,
    sobyanin_sukhovolsky,
)

PUBLISHED = {
    "2011": {"turnout": 0.602, "winner_share": 0.493, "excess": 1003, "null_q999": 330,
             "shpilkin": 14.93e6, "f_i": 0.64, "f_e": 0.033},
    "2012": {"turnout": 0.653, "winner_share": 0.636, "excess": 1160, "null_q999": 354,
             "shpilkin": 11.18e6, "f_i": 0.39, "f_e": 0.021},
    "2016": {"turnout": 0.479, "winner_share": 0.542, "excess": 1502, "null_q999": 341,
             "shpilkin": 12.65e6},
}  # fmt: skip


def russia() -> dict:
    out = {}
    for year, pub in PUBLISHED.items():
        start = time.perf_counter()
        d = forensics_file(shared_data_dir() / "russia" / f"{year}.csv.zip", seed=0).to_dict()
        k = d["klimek"]
        out[year] = {
            "turnout": round(d["turnout"], 4),
            "winner_share": round(d["winner_share"], 4),
            "integer_excess": round(d["integer_peaks"]["excess"], 1),
            "integer_null_q999": round(d["integer_peaks"]["null_q999"], 1),
            "integer_p_value": d["integer_peaks"]["p_value"],
            "shpilkin_national_votes": round(d["shpilkin"]["national_votes"]),
            "shpilkin_anomalous_votes": round(d["shpilkin"]["anomalous_votes"]),
            "shpilkin_within_region_sum": round(d["shpilkin"]["within_region_votes"]),
            "klimek_f_i": k["f_i"],
            "klimek_f_i_ci": k["f_i_ci"],
            "klimek_f_e": k["f_e"],
            "klimek_f_e_ci": k["f_e_ci"],
            "klimek_shape": [k["alpha"], k["sigma_x"]],
            "published": pub,
            "relative_error": {
                "excess": round(d["integer_peaks"]["excess"] / pub["excess"] - 1, 4),
                "shpilkin": round(d["shpilkin"]["anomalous_votes"] / pub["shpilkin"] - 1, 4),
                "shpilkin_national": round(
                    d["shpilkin"]["national_votes"] / pub["shpilkin"] - 1, 4
                ),
            },
            "seconds": round(time.perf_counter() - start, 1),
        }
        if "f_i" in pub:
            out[year]["absolute_error"] = {
                "f_i": round(k["f_i"] - pub["f_i"], 3),
                "f_e": round(k["f_e"] - pub["f_e"], 4),
            }
    return out


def clean(runs: int) -> dict:
    flagged = 0
    for seed in range(runs):
        f = clean_election(np.random.default_rng(seed), regions=20, stations_per_region=100)
        st = Stations.from_frame(f)
        r = integer_percentages(
            st.registered, st.ballots_issued, st.ballots_cast, st.winner_votes, seed=seed
        )
        flagged += r.pvalue < 0.01
    out = {"integer_p_below_0.01": f"{flagged}/{runs}"}
    for name, sd in (("regions_alike", 0.01), ("regions_differ", 0.05)):
        shares = []
        for seed in range(runs):
            f = clean_election(
                np.random.default_rng(seed), regions=50, stations_per_region=200,
                station_sd=0.25, turnout=(0.55, sd), share=(0.5, sd),
            )  # fmt: skip
            others = f[list(CANDIDATES[1:])].sum(axis=1)
            r = shpilkin(
                f["registered"], f["ballots_issued"], f[CANDIDATES[0]], others,
                regions=f["region"],
            )  # fmt: skip
            valid = f[list(CANDIDATES)].to_numpy().sum()
            shares.append((r.national / valid, r.anomalous_votes / valid))
        a = np.abs(np.array(shares))
        out[f"shpilkin_{name}"] = {
            "national_max_share": round(float(a[:, 0].max()), 4),
            "national_runs_over_1pct": int((a[:, 0] > 0.01).sum()),
            "reported_max_share": round(float(a[:, 1].max()), 4),
            "reported_runs_over_1pct": int((a[:, 1] > 0.01).sum()),
        }
    return out


def power(runs: int) -> dict:
    """How often each test rejects (p < 0.01) on clean elections and on elections where 20 %
    of the stations of half the regions were stuffed with 5–30 % of their non-voters."""
    tests = {
        "second_digit_benford": lambda st: second_digit_benford(st.winner_votes).pvalue,
        "last_digit": lambda st: last_digit(st.winner_votes).pvalue,
        "c05s": lambda st: c05s(st.winner_votes).pvalue,
        "sobyanin_sukhovolsky_national": lambda st: (
            sobyanin_sukhovolsky(st.registered, st.ballots_issued, st.winner_votes).pvalue
        ),
        "sobyanin_sukhovolsky_within_regions": lambda st: (
            sobyanin_sukhovolsky(
                st.registered, st.ballots_issued, st.winner_votes, groups=st.region
            ).pvalue
        ),
    }
    out: dict = {name: {} for name in tests}
    for kind in ("clean", "stuffed"):
        hits = dict.fromkeys(tests, 0)
        for seed in range(runs):
            rng = np.random.default_rng(20_000 + seed)
            f = clean_election(rng, regions=20, stations_per_region=100, station_sd=0.25)
            if kind == "stuffed":
                f, _ = add_stuffing(f, rng, station_fraction=0.2, region_fraction=0.5)
            st = Stations.from_frame(f)
            for name, test in tests.items():
                hits[name] += test(st) < 0.01
        for name in tests:
            out[name][kind] = f"{hits[name]}/{runs}"
    return out


def coverage(runs: int) -> dict:
    out = {}
    for method in ("hc3", "bootstrap"):
        covered, errors = 0, []
        for seed in range(runs):
            rng = np.random.default_rng(10_000 + seed)
            f = clean_election(rng, regions=20, stations_per_region=50, station_sd=0.25)
            f, added = add_stuffing(f, rng, station_fraction=0.3, region_fraction=0.4)
            cams = camera_counts(f, added, rng, fraction=0.15)
            st = f.rename(columns={CANDIDATES[0]: "winner_votes"})
            r = extrapolate_inflation(st, cams, method=method, n_boot=300, seed=seed)
            covered += r.lower <= added.sum() <= r.upper
            errors.append(r.statistic / added.sum() - 1)
        out[method] = {
            "coverage_95": covered / runs,
            "mean_relative_error": round(float(np.mean(errors)), 4),
            "sd_relative_error": round(float(np.std(errors)), 4),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--skip-russia", action="store_true")
    args = parser.parse_args()
    out = {} if args.skip_russia else {"russia": russia()}
    out["clean_elections"] = clean(args.runs)
    out["rejections_p_below_0.01"] = power(args.runs)
    out["extrapolation"] = coverage(args.runs)
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
