"""`pollwatch forensics`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from synthetic_elections import clean_election
from typer.testing import CliRunner

from pollwatch.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def results_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    f = clean_election(np.random.default_rng(4), regions=4, stations_per_region=100)
    f = f.rename(columns={"registered": "voters", "ballots_issued": "issued"})
    path = tmp_path_factory.mktemp("cli") / "results.csv"
    f.to_csv(path, index=False)
    return path


ROLES = [
    "--col", "registered=voters", "--col", "ballots_issued=issued",
    "--col", "candidates=Avery", "--col", "candidates=Blake", "--col", "candidates=Casey",
    "--col", "region=region", "--col", "station_id=station_id",
]  # fmt: skip


def test_json_output(results_csv: Path) -> None:
    result = CliRunner().invoke(
        app, ["forensics", str(results_csv), "--json", "--mc", "50", *ROLES]
    )
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["stations"] == 400 and d["integer_peaks"]["n_mc"] == 50
    assert d["source"]["layout"] == "cli" and d["candidates"] == ["Avery", "Blake", "Casey"]


def test_mapping_file_and_summary(results_csv: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[columns]\nregistered = "voters"\nballots_issued = "issued"\n'
        'candidates = ["Avery", "Blake", "Casey"]\n'
    )
    result = CliRunner().invoke(
        app, ["forensics", str(results_csv), "--mapping", str(mapping), "--mc", "20", "--seed", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "integer percentages" in result.stdout and "400 stations" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere.csv"], "no such file"),
        (["RESULTS"], "cannot tell which columns"),
        (["RESULTS", "--col", "bogus=x"], "unknown role"),
        (["RESULTS", "--mapping", "missing.toml"], "cannot read the mapping"),
    ],
)
def test_errors_are_clean(results_csv: Path, args: list[str], message: str) -> None:
    args = [str(results_csv) if a == "RESULTS" else a for a in args]
    result = CliRunner().invoke(app, ["forensics", *args])
    assert result.exit_code == 2
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "error:" in output and message in output


def test_help_and_readme() -> None:
    result = CliRunner().invoke(app, ["forensics", "--help"])
    assert result.exit_code == 0 and "--mapping" in result.output
    assert "`pollwatch forensics" in README.read_text()
