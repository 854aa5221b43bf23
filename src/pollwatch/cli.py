"""The `pollwatch` command line: thin commands that parse, call one library function and turn
domain errors into a clean message and exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pollwatch.errors import PollwatchError

__all__ = ["app"]

app = typer.Typer(
    name="pollwatch",
    help="Audit polling-station cameras, count voters, detect fraud, test official results.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

CaseArg = Annotated[Path, typer.Argument(help="The case folder (see docs/formats.md).")]


def _fail(err: Exception) -> typer.Exit:
    console.print(f"[bold red]error:[/] {err}")
    return typer.Exit(code=2)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Folder to write the simulated case into.")],
    preset: Annotated[
        str, typer.Option(help="tiny, demo, azerbaijan-2024 (add -clean for no fraud).")
    ] = "demo",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same case.")] = 0,
    render: Annotated[
        int | None, typer.Option(help="Render video for this many cameras (default: the preset's).")
    ] = None,
    time_scale: Annotated[
        float | None,
        typer.Option(help="Compress the voting day by this factor (default: preset's)."),
    ] = None,
    clip_s: Annotated[
        float | None,
        typer.Option(
            help="Record each rendered camera for at most this many seconds from its start "
            "(default: the whole day); the official results still cover the whole day."
        ),
    ] = None,
) -> None:
    """Simulate a whole election: results, checkpoints, camera video with audio, ground truth."""
    from pollwatch.simulate.runner import simulate_case

    try:
        summary = simulate_case(
            preset, seed=seed, out=out, render=render, time_scale=time_scale, clip_s=clip_s
        )
    except (PollwatchError, ValueError) as err:
        raise _fail(err) from err
    console.print(f"simulated [bold]{summary}[/] → {out}")


@app.command()
def ingest(case: CaseArg) -> None:
    """Validate a case's inputs and load them into the store (out/pollwatch.db)."""
    from pollwatch.ingest import ingest_case

    try:
        summary = ingest_case(case)
    except PollwatchError as err:
        raise _fail(err) from err
    console.print(f"ingested {summary}")


@app.command()
def analyse(
    case: CaseArg,
    restart: Annotated[bool, typer.Option(help="Forget finished work and start over.")] = False,
) -> None:
    """Run every analyser on every camera; resumable (finished cameras are kept)."""
    from pollwatch.pipeline import analyse_case

    try:
        summary = analyse_case(case, restart=restart)
    except PollwatchError as err:
        raise _fail(err) from err
    console.print(f"analysed {summary}")


@app.command()
def report(case: CaseArg) -> None:
    """Write the self-contained HTML report out/report.html."""
    from pollwatch.report import write_report

    try:
        path = write_report(case)
    except PollwatchError as err:
        raise _fail(err) from err
    console.print(f"report: {path}")


@app.command()
def evaluate(case: CaseArg) -> None:
    """Score a simulated case's outputs against its ground truth; prints JSON metrics."""
    from pollwatch.evaluate import evaluate_case

    try:
        metrics = evaluate_case(case)
    except PollwatchError as err:
        raise _fail(err) from err
    json.dump(metrics, sys.stdout, indent=2, default=float)
    sys.stdout.write("\n")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo case.")] = Path("demo-case"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Simulate a small election, ingest it, analyse it and write the report."""
    from pollwatch.pipeline import run_demo

    try:
        path = run_demo(out, seed=seed)
    except PollwatchError as err:
        raise _fail(err) from err
    console.print(f"[bold green]report written:[/] {path.resolve()}")
    print(path.resolve())


@app.command()
def forensics(
    file: Annotated[Path, typer.Argument(help="Results file: CSV, or a zip holding one CSV.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON report (as out/forensics.json).")
    ] = False,
    mapping: Annotated[
        Path | None, typer.Option(help="TOML column mapping (see docs/forensics.md).")
    ] = None,
    col: Annotated[
        list[str] | None,
        typer.Option(help="role=column; repeat a role for several columns (summed/listed)."),
    ] = None,
    mc: Annotated[int, typer.Option(help="Monte Carlo repetitions of the integer test.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Test a results file alone: integer peaks, Shpilkin, Klimek, digits, distributions."""
    from pollwatch.forensics import forensics_file

    try:
        report = forensics_file(file, mapping=mapping, columns=col or (), n_mc=mc, seed=seed)
    except (PollwatchError, ValueError) as err:
        raise _fail(err) from err
    print(report.to_json() if as_json else report.summary())


def main() -> None:  # pragma: no cover - console entry point
    app()
