"""The report's forensics section: what the forensic case step (`pollwatch.forensics.step`)
wrote — out/forensics.json and the stored per-station turnout and winner share — as key
figures, a table of the tests with honest notes, the election fingerprint and the turnout and
winner-share histograms with their integer-percentage peaks marked.

Drawing is apart from logic: the figures come from `pollwatch.forensics.plots`; this module
only picks what to show (`integer_spikes`, `forensic_tests_table`).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from pollwatch.case import CasePaths
from pollwatch.report.base import SECTIONS, Plot, Section, facts_html, table_html
from pollwatch.store import NotFoundError, Store

__all__ = ["forensic_tests_table", "forensics_section", "integer_spikes", "key_figures"]

ANALYSER = "forensics"  # the step's analyser name (pollwatch.forensics.step.ANALYSER)


def integer_spikes(
    percent: np.ndarray, *, step: float = 0.1, z: float = 3.0, min_count: int = 3
) -> list[int]:
    """Whole percentages whose `step`-wide bin holds clearly more stations than the bins
    around it (0.2–0.5 points away on both sides): count ≥ `min_count` and above the
    neighbours' mean by `z` Poisson standard deviations."""
    v = np.asarray(percent, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    counts, _ = np.histogram(v, bins=np.arange(0, 100 + 2 * step, step) - step / 2)
    per = round(1 / step)
    out = []
    for k in range(1, 100):
        centre = k * per
        around = [centre + d for d in range(-5, 6) if abs(d) >= 2 and 0 <= centre + d < len(counts)]
        base = float(np.mean(counts[around]))
        if counts[centre] >= min_count and counts[centre] > base + z * math.sqrt(max(base, 1.0)):
            out.append(k)
    return out


def _p(value: Any) -> str:
    return "–" if value is None else f"{value:.3g}"


def _f(value: Any, spec: str) -> str:
    """`value` formatted, "–" for a missing (null) value."""
    return "–" if value is None else format(value, spec)


def forensic_tests_table(report: dict[str, Any]) -> pd.DataFrame:
    """The key tests of a forensics.json: test, result, p-value, note (what the test can
    and cannot see)."""
    rows: list[tuple[str, str, str, str]] = []
    skipped = report.get("skipped", {})
    if ip := report.get("integer_peaks"):
        rows.append(
            (
                "Integer percentages (Kobak et al.)",
                f"excess {ip['excess']:,.0f} stations (null 99.9 %: {ip['null_q999']:,.0f})",
                _p(ip["p_value"]),
                f"{ip['n_mc']} Monte Carlo draws; p cannot go below 1/(n+1)",
            )
        )
    if s := report.get("sobyanin_sukhovolsky"):
        rows.append(
            (
                "Sobyanin–Sukhovolsky slope, within regions",
                f"{_f(s['slope'], '.3f')} vs winner share {_f(s['reference_share'], '.3f')}",
                _p(s["p_value"]),
                "near or above 1: the extra turnout went almost all to the winner",
            )
        )
    if c := report.get("turnout_share_correlation"):
        rows.append(
            (
                "Turnout × winner share correlation",
                f"Pearson {_f(c['pearson'], '.3f')}, Spearman {_f(c['spearman'], '.3f')}",
                _p(c["p_value"]),
                "also positive where regions differ honestly",
            )
        )
    for name, d in report.get("distribution", {}).items():
        if d.get("dip") is not None:
            rows.append(
                (
                    f"Dip test of unimodality, {name.replace('_', ' ')}",
                    f"dip {_f(d['dip'], '.4f')}",
                    _p(d["dip_p_value"]),
                    "two modes: a group of stations apart from the rest",
                )
            )
    digits = report.get("digits", {})
    blind = "nearly blind to stuffing and rewritten protocols (docs/forensics.md)"
    for key, label in (
        ("second_digit_benford", "Second-digit Benford (2BL)"),
        ("last_digit", "Last digit uniform"),
        ("c05s", "Counts ending in 0 or 5 (C05s)"),
        ("p05s", "Percentages ending in 0 or 5 (P05s)"),
    ):
        if d := digits.get(key):
            note = blind
            if key == "second_digit_benford":
                note += "; reacts to the size of counts"
            elif key == "p05s":
                note = "round percentages: the integer-percentage effect seen another way"
            rows.append(
                (
                    label,
                    f"{_p(d['statistic'])} vs {d['expected']:.3f} (n = {d['n']:,})",
                    _p(d["p_value"]),
                    note,
                )
            )
    if cp := report.get("checkpoints"):
        impossible = cp["above_final"] + cp["above_registered"] + cp["decreasing"]
        rows.append(
            (
                "Intra-day checkpoints",
                f"{impossible} impossible, {cp['identical_increments']} identical, "
                f"{cp['late_surge_p001']} late surges, "
                f"{cp['round_increments_p001']} round (p < 0.001) of {cp['stations']:,}",
                _p(cp["round_p_value"]),
                "p-value: share of round increments overall",
            )
        )
    rows += [(name, "not run", "–", why) for name, why in skipped.items()]
    return pd.DataFrame(rows, columns=["test", "result", "p-value", "note"])


def key_figures(report: dict[str, Any]) -> list[tuple[str, object]]:
    """Label/value pairs: the election, Shpilkin, Klimek, the anomaly scores and the camera
    extrapolation (or that there are no camera observations yet)."""
    facts: list[tuple[str, object]] = [
        (
            "Stations analysed",
            f"{report['stations']:,} ({report['source']['excluded_rows']:,} rows excluded)",
        ),
        (
            "Turnout, winner's share",
            f"{report['turnout']:.1%}, {report['winner_share']:.1%} ({report['winner']})",
        ),
    ]
    if (sh := report.get("shpilkin")) and sh.get("anomalous_votes") is not None:
        national = sh.get("national_votes")
        regional = sh.get("method") == "regions_with_evidence"
        how = "regions with evidence of their own" if regional else "national fit"
        facts.append(
            (
                "Shpilkin's anomalous votes",
                f"{sh['anomalous_votes']:,.0f} ({sh['fraction_of_winner_votes']:.1%} of the "
                f"winner's, {how}); one national fit as published: {national:,.0f}"
                if national is not None and regional
                else f"{sh['anomalous_votes']:,.0f} ({how})",
            )
        )
    elif "shpilkin" in report.get("skipped", {}):
        facts.append(
            ("Shpilkin's anomalous votes", f"not applicable: {report['skipped']['shpilkin']}")
        )
    if k := report.get("klimek"):
        facts.append(
            (
                "Klimek et al. fraud rates",
                f"incremental f_i = {k['f_i']:.2f} [{_p(k['f_i_ci'][0])}, {_p(k['f_i_ci'][1])}], "
                f"extreme f_e = {k['f_e']:.3f} [{_p(k['f_e_ci'][0])}, {_p(k['f_e_ci'][1])}] (95 %)",
            )
        )
    sc = report["anomaly_score"]
    facts.append(
        (
            "Anomaly score ≥ 3 (0.1 % tail)",
            f"{sc['share_ge_3']:.2%} of stations (≥ 2: {sc['share_ge_2']:.2%})",
        )
    )
    if e := report.get("extrapolation"):
        lo, hi = e["ci"]
        facts.append(
            (
                "Inflated ballots, national estimate",
                f"{e['inflated_ballots']:,.0f} [{lo:,.0f}, {hi:,.0f}] ({e['confidence']:.0%}); "
                f"{e['measured_stations']} stations measured by camera, "
                f"{e['bounded_stations']} bounded",
            )
        )
    else:
        facts.append(("Inflated ballots, national estimate", "no camera observations yet"))
    return facts


@SECTIONS.registering("forensics", order=70)
def forensics_section(store: Store, paths: CasePaths) -> Section | None:
    """Election forensics on the official results; None before the forensic step has run."""
    json_path = paths.out_dir / "forensics.json"
    if not json_path.is_file():
        return None
    report = json.loads(json_path.read_text())
    from pollwatch.forensics.fingerprint import fingerprint
    from pollwatch.forensics.plots import plot_fingerprint, plot_percent_histogram

    html = facts_html(key_figures(report))
    html = Markup(html + table_html(forensic_tests_table(report)))
    plots: list[Plot] = []
    try:
        st = store.read_table(ANALYSER, "stations")
    except NotFoundError:
        st = pd.DataFrame()
    if not st.empty:
        turnout = st["turnout"].to_numpy(float)
        share = st["winner_share"].to_numpy(float)
        fp = fingerprint(np.minimum(turnout, 1.0), share, st["registered"].to_numpy(float))
        plots.append(Plot(plot_fingerprint(fp), "turnout × winner share fingerprint"))
        for values, name in ((turnout, "Turnout"), (share, "Winner's share")):
            pct = values * 100
            spikes = integer_spikes(pct)
            title = f"{name}, 0.1-point bins" + (
                f"; integer peaks at {', '.join(map(str, spikes))} %" if spikes else ""
            )
            plots.append(Plot(plot_percent_histogram(pct, title=title, marks=spikes), title))
    return Section("Election forensics", html, tuple(plots), anchor="forensics")
