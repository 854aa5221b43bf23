"""The report's built-in sections: overview, findings, official results, turnout by region,
intra-day checkpoints, cameras and input warnings."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from markupsafe import Markup, escape

from pollwatch.case import CasePaths
from pollwatch.report.base import SECTIONS, Section, facts_html, table_html
from pollwatch.report.plots import checkpoint_curve, region_bars, results_bars
from pollwatch.report.tallies import national_checkpoints, national_results, turnout_by_region
from pollwatch.store import Store

__all__ = [
    "cameras_section",
    "checkpoints_section",
    "findings_section",
    "input_warnings_section",
    "overview_section",
    "regions_section",
    "results_section",
]


def _when(t: datetime) -> str:
    return f"{t:%Y-%m-%d %H:%M} ({t.tzname()})"


def _local(values: pd.Series, tz: object) -> pd.Series:
    """ISO texts as local "HH:MM:SS" (dates dropped: a report covers one voting day)."""
    times = pd.to_datetime(values, utc=True, format="ISO8601").dt.tz_convert(tz)
    return times.dt.strftime("%H:%M:%S").where(values.notna(), None)


@SECTIONS.registering("overview", order=10)
def overview_section(store: Store, paths: CasePaths) -> Section:
    """The election, the polls, the case's size and the national official figures."""
    e = store.election()
    stations, protocols, cameras = store.stations(), store.protocols(), store.cameras()
    registered = int(protocols["registered"].sum())
    issued, cast = int(protocols["ballots_issued"].sum()), int(protocols["ballots_cast"].sum())
    invalid = int(protocols["invalid"].sum())
    turnout = f" ({issued / registered:.1%} of registered)" if registered else ""
    facts: list[tuple[str, object]] = [
        ("Election", e.name),
        ("Polls open", _when(e.polls_open)),
        ("Polls close", _when(e.polls_close)),
        ("Stations", f"{len(stations):,} ({int(stations['has_camera'].sum()):,} with a camera)"),
        ("Cameras", f"{len(cameras):,}"),
        ("Registered voters", f"{registered:,} (stations with results)"),
        ("Ballots issued (turnout)", f"{issued:,}{turnout}"),
        ("Ballots cast", f"{cast:,}, of which {invalid:,} invalid"),
        ("Findings", f"{len(store.findings()):,}"),
    ]
    if e.time_scale != 1:
        facts.append(("Clock", f"simulated day compressed {e.time_scale:g}×"))
    n_warn = len(store.input_warnings())
    if n_warn:
        facts.append(("Input warnings", f"{n_warn:,} (see below)"))
    return Section("Overview", facts_html(facts), anchor="overview")


@SECTIONS.registering("findings", order=20)
def findings_section(store: Store, paths: CasePaths) -> Section:
    """Every finding, or why there are none."""
    findings = store.findings()
    tz = store.election().polls_open.tzinfo
    if findings.empty:
        analysed = not store.jobs().empty
        empty = (
            "No findings: the analysers reported nothing."
            if analysed
            else "No findings yet: the case has not been analysed (run `pollwatch analyse`)."
        )
        return Section("Findings", table_html(findings, empty=empty), anchor="findings")
    shown = findings.assign(
        t_start=_local(findings["t_start"], tz), t_end=_local(findings["t_end"], tz)
    )
    shown = shown[
        ["kind", "station_id", "camera_id", "t_start", "t_end", "score", "p_value", "summary"]
    ]
    html = table_html(
        shown,
        {"score": ".3g", "p_value": ".2g"},
        headers={
            "station_id": "station",
            "camera_id": "camera",
            "t_start": "from",
            "t_end": "to",
            "p_value": "p-value",
        },
    )
    return Section(f"Findings ({len(findings):,})", html, anchor="findings")


@SECTIONS.registering("results", order=30)
def results_section(store: Store, paths: CasePaths) -> Section:
    """Official votes per candidate over all stations."""
    tally = national_results(store.results(), store.election().candidates)
    html = table_html(
        tally, {"votes": ",d", "share": ".1%"}, headers={"share": "share of valid votes"}
    )
    return Section("Official results", html, (results_bars(tally),), anchor="results")


@SECTIONS.registering("regions", order=40)
def regions_section(store: Store, paths: CasePaths) -> Section:
    """Official turnout per region."""
    regions = turnout_by_region(store.stations(), store.protocols())
    counts = {c: ",d" for c in ("stations", "registered", "ballots_issued", "ballots_cast")}
    html = table_html(
        regions,
        {**counts, "turnout": ".1%"},
        headers={"ballots_issued": "issued", "ballots_cast": "cast"},
    )
    return Section("Turnout by region", html, (region_bars(regions),), anchor="regions")


@SECTIONS.registering("checkpoints", order=50)
def checkpoints_section(store: Store, paths: CasePaths) -> Section:
    """The official intra-day turnout, summed over the stations reporting at each time."""
    e = store.election()
    curve = national_checkpoints(store.checkpoints(), store.stations())
    protocols = store.protocols()
    registered = int(protocols["registered"].sum())
    final = int(protocols["ballots_issued"].sum()) / registered if registered else None
    shown = curve.assign(time=curve["time"].map(lambda t: f"{t:%H:%M}"))
    html = table_html(
        shown,
        {"stations": ",d", "voters": ",d", "registered": ",d", "turnout": ".1%"},
        headers={"stations": "stations reporting"},
        empty="turnout.csv holds no checkpoints.",
    )
    plots = () if curve.empty else (checkpoint_curve(curve, e.polls_open, e.polls_close, final),)
    return Section("Official turnout during the day", html, plots, anchor="checkpoints")


def _analysis_state(jobs: pd.DataFrame) -> pd.Series:
    """Per camera: "probe done, count failed" (or "not analysed")."""
    if jobs.empty:
        return pd.Series(dtype=str)
    text = jobs["analyser"] + " " + jobs["status"]
    return text.groupby(jobs["camera_id"]).agg(", ".join)


@SECTIONS.registering("cameras", order=60)
def cameras_section(store: Store, paths: CasePaths) -> Section | None:
    """Each camera, its recording as ingest and the probe step saw it, and its analysis state."""
    cameras = store.cameras()
    if cameras.empty:
        return None
    shown = cameras[["camera_id", "station_id", "source", "duration_s", "fps"]].copy()
    shown["audio"] = cameras["has_audio"].map({True: "yes", False: "no"})
    streams = store.read_tables("probe", "streams")
    if not streams.empty:
        video = streams[streams["kind"] == "video"].groupby("camera_id")["gaps"].sum()
        shown["frame gaps"] = shown["camera_id"].map(video)
    state = _analysis_state(store.jobs())
    shown["analysis"] = [state.get(c, "not analysed") for c in shown["camera_id"]]
    html = table_html(
        shown,
        {"duration_s": ".1f", "fps": ".3g", "frame gaps": ".0f"},
        headers={"camera_id": "camera", "station_id": "station", "duration_s": "duration (s)"},
    )
    failed = store.jobs().query("status == 'failed'")
    if not failed.empty:
        items = "".join(
            f"<li><b>{escape(r.camera_id)}</b> {escape(r.analyser)}: {escape(r.error)}</li>"
            for r in failed.itertuples()
        )
        html = Markup(html + Markup(f'<p>Failed analyses:</p><ul class="errors">{items}</ul>'))
    return Section("Cameras", html, anchor="cameras")


@SECTIONS.registering("input-warnings", order=90)
def input_warnings_section(store: Store, paths: CasePaths) -> Section | None:
    """What ingest accepted but found implausible (docs/formats.md)."""
    warnings = store.input_warnings()
    if warnings.empty:
        return None
    html = table_html(warnings.astype({"line": "Int64"}), {"line": "d"})
    return Section(f"Input warnings ({len(warnings):,})", html, anchor="input-warnings")
