"""The report: renders the small case with its sections, offline, escaped; the tallies."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from markupsafe import Markup

from casefactory import replace_in
from pollwatch.case import CasePaths
from pollwatch.ingest import ingest_case
from pollwatch.pipeline import analyse_case
from pollwatch.report import SECTIONS, Section, get_section_by_name, write_report
from pollwatch.report.tallies import national_checkpoints, national_results, turnout_by_region
from pollwatch.store import Finding, NotFoundError, Store

BUILT_IN = [
    "Overview",
    "Findings",
    "Official results",
    "Turnout by region",
    "Official turnout during the day",
    "Camera audit",  # pollwatch.report.audit: no camera audited by the probe alone
    "Cameras",
]
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def _titles(html: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", html)


def test_report_of_the_small_case(small_case: CasePaths) -> None:
    analyse_case(small_case.root, progress=False)
    path = write_report(small_case.root)
    assert path == small_case.report_html
    html = path.read_text()
    assert _titles(html) == BUILT_IN
    assert "<title>Test election 2024 — pollwatch report</title>" in html
    assert "No findings: the analysers reported nothing." in html
    assert html.count('<img src="data:image/png;base64,') == 3
    assert not EXTERNAL.search(html)
    assert "2,115 (60.4% of registered)" in html  # issued / registered, national
    assert "1,050" in html and "51.0%" in html  # Alpha's votes and share of valid votes
    assert "probe done" in html


def test_report_before_analysis_says_so(small_case: CasePaths) -> None:
    ingest_case(small_case.root)
    html = write_report(small_case.root).read_text()
    assert "No findings yet: the case has not been analysed" in html
    assert "not analysed" in html


def test_findings_and_warnings_are_shown_escaped(small_case: CasePaths) -> None:
    replace_in(small_case.root, "turnout.csv", "00+04:00,420", "00+04:00,240")  # a warning
    replace_in(small_case.root, "results.csv", "S4,500,300,300,10,150,100,40\n", "")  # no line
    ingest_case(small_case.root)
    tz = timezone(timedelta(hours=4))
    finding = Finding(
        finding_id="stuffing-1",
        kind="stuffing",
        analyser="stuffing",
        summary="<script>alert(1)</script> bundle of 12 ballots",
        station_id="S1",
        camera_id="C1",
        t_start=datetime(2024, 2, 7, 9, 30, 5, tzinfo=tz),
        t_end=datetime(2024, 2, 7, 9, 30, 9, tzinfo=tz),
        score=0.93,
        p_value=0.004,
    )
    with Store(small_case.db_path) as store:
        store.replace_findings("stuffing", [finding], camera_id="C1")
    html = write_report(small_case.root).read_text()
    assert _titles(html) == [*BUILT_IN[:1], "Findings (1)", *BUILT_IN[2:], "Input warnings (2)"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; bundle of 12 ballots" in html
    assert "<script>" not in html
    assert "09:30:05" in html and "0.004" in html
    assert "240 voters is fewer than the 250 reported earlier" in html
    assert "station &#39;S4&#39; (stations.csv line 5) has no results" in html


def test_sections_are_pluggable(small_case: CasePaths) -> None:
    ingest_case(small_case.root)

    def extra(store: Store, paths: CasePaths) -> Section:
        n = len(store.stations())
        return Section("Extra analysis", Markup(f"<p>{n} stations seen</p>"))

    def nothing(store: Store, paths: CasePaths) -> None:
        return None

    builders = {"overview": get_section_by_name("overview"), "extra": extra, "none": nothing}
    html = write_report(small_case.root, builders=builders).read_text()
    assert _titles(html) == ["Overview", "Extra analysis"]
    assert '<section id="extra">' in html and '<a href="#extra">' in html
    assert "<p>4 stations seen</p>" in html


def test_registry_lists_the_built_ins_in_order() -> None:
    assert SECTIONS.names()[:7] == [
        "overview",
        "findings",
        "results",
        "regions",
        "checkpoints",
        "camera-audit",
        "cameras",
    ]
    with pytest.raises(ValueError, match="already registered"):
        SECTIONS.register("overview", get_section_by_name("overview"))


def test_report_needs_an_ingested_case(tmp_path) -> None:
    with pytest.raises(NotFoundError, match="run `pollwatch ingest` first"):
        write_report(tmp_path)
    assert not (tmp_path / "out").exists()


def test_national_results() -> None:
    results = pd.DataFrame({"A": [10, 30], "B": [0, 60], "invalid": [5, 5]})
    out = national_results(results, ["A", "B"])
    assert out["votes"].tolist() == [40, 60]
    assert out["share"].tolist() == pytest.approx([0.4, 0.6])


def test_turnout_by_region_leaves_out_stations_without_results() -> None:
    stations = pd.DataFrame({"station_id": ["a", "b", "c"], "region": ["R2", "R1", "R1"]})
    protocols = pd.DataFrame(
        {
            "station_id": ["a", "b"],
            "registered": [100, 200],
            "ballots_issued": [50, 150],
            "ballots_cast": [49, 150],
        }
    )
    out = turnout_by_region(stations, protocols).set_index("region")
    assert out.index.tolist() == ["R1", "R2", "All regions"]
    assert out["stations"].tolist() == [1, 1, 2]
    assert out["turnout"].tolist() == pytest.approx([0.75, 0.5, 200 / 300])


def test_national_checkpoints_counts_the_stations_reporting() -> None:
    t1, t2 = pd.Timestamp("2024-02-07T10:00+04:00"), pd.Timestamp("2024-02-07T12:00+04:00")
    checkpoints = pd.DataFrame(
        {"station_id": ["a", "b", "a"], "time": [t1, t1, t2], "voters_cumulative": [10, 30, 40]}
    )
    stations = pd.DataFrame({"station_id": ["a", "b"], "registered": [100, 300]})
    out = national_checkpoints(checkpoints, stations)
    assert out["stations"].tolist() == [2, 1]
    assert out["turnout"].tolist() == pytest.approx([40 / 400, 40 / 100])
    assert national_checkpoints(checkpoints.iloc[:0], stations).empty
