"""The command line: every command has help text and is documented in README.md."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pollwatch.case import CasePaths
from pollwatch.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_the_commands_are_the_expected_ones() -> None:
    assert COMMANDS == ["analyse", "demo", "evaluate", "forensics", "ingest", "report", "simulate"]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(name: str) -> None:
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.help and len(command.help.strip()) > 20
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"`pollwatch {name}" in README.read_text()


def test_ingest_analyse_report(small_case: CasePaths) -> None:
    runner = CliRunner()
    for args in (["ingest"], ["analyse"], ["report"]):
        result = runner.invoke(app, [*args, str(small_case.root)])
        assert result.exit_code == 0, result.output
    assert small_case.report_html.is_file()
    assert small_case.out("findings.csv").is_file()


@pytest.mark.parametrize("name", ["report", "evaluate", "analyse"])
def test_commands_fail_cleanly_on_a_missing_case(name: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [name, str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "error:" in result.output
    assert not (tmp_path / "nowhere").exists()
