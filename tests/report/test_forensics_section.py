"""The report's forensics section: absent before the step, key figures, tests and plots after."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwatch.case import CasePaths
from pollwatch.forensics.step import COUNTS_COLUMNS, ForensicsSettings, forensics_step
from pollwatch.ingest import ingest_case
from pollwatch.report import get_section_by_name
from pollwatch.report.forensics import forensic_tests_table, integer_spikes
from pollwatch.store import Store

FAST = ForensicsSettings(n_mc=50, n_boot=5)


def _section(case: CasePaths, *, run: bool = True):
    ingest_case(case.root)
    with Store(case.db_path) as store:
        if run:
            forensics_step(case, store, settings=FAST)
        return get_section_by_name("forensics")(store, case)


def test_no_section_before_the_step(small_case: CasePaths) -> None:
    assert _section(small_case, run=False) is None


def test_section_without_camera_counts(small_case: CasePaths) -> None:
    section = _section(small_case)
    assert section.title == "Election forensics"
    assert len(section.plots) == 3  # fingerprint, turnout, winner's share
    assert all(p.png.startswith(b"\x89PNG") for p in section.plots)
    html = str(section.html)
    assert "no camera observations yet" in html
    assert "Second-digit Benford (2BL)" in html and "nearly blind" in html
    assert "not applicable: fewer than 200 stations" in html  # Shpilkin on 4 stations


def test_section_with_camera_counts(small_case: CasePaths) -> None:
    day = ("2024-02-07T08:00:00+04:00", "2024-02-07T20:00:00+04:00")
    rows = [
        ("C1", "S1", *day, 500, 495, 505, 610, True),
        ("C2", "S2", *day, 495, 490, 500, 505, True),
    ]
    pd.DataFrame(rows, columns=list(COUNTS_COLUMNS)).to_csv(
        small_case.out("counts.csv"), index=False
    )
    html = str(_section(small_case).html)
    assert "no camera observations yet" not in html
    assert "2 stations measured by camera" in html


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], []),
        ([50.0] * 40, [50]),
        ([50.0] * 40 + [70.02] * 40, [50, 70]),
        ([50.3] * 40, []),  # a spike off the whole percentage is not an integer peak
    ],
)
def test_integer_spikes(extra: list[float], expected: list[int]) -> None:
    smooth = np.random.default_rng(0).uniform(30, 90, 6000)
    assert integer_spikes(np.r_[smooth, extra]) == expected


def test_test_rows_list_skipped_tests_with_their_reason() -> None:
    rows = forensic_tests_table({"skipped": {"klimek": "too few stations"}, "digits": {}})
    assert rows.to_dict("records") == [
        {"test": "klimek", "result": "not run", "p-value": "–", "note": "too few stations"}
    ]
