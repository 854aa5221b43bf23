"""Reading a whole case: validate every input file, then store them in one transaction."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pollwatch.case import CasePaths
from pollwatch.errors import InputError, InputProblem
from pollwatch.ingest.cameras import read_cameras
from pollwatch.ingest.election import read_election
from pollwatch.ingest.tables import read_results, read_stations, read_turnout, stations_frame
from pollwatch.store import CaseInputs, Store

__all__ = ["FORMAT_VERSION", "ingest_case", "input_fingerprint", "read_case"]

# Bump when ingest reads or checks inputs differently: stored fingerprints then no longer match.
FORMAT_VERSION = "1"
_INPUT_FILES = ("election.toml", "stations.csv", "results.csv", "turnout.csv", "cameras.csv")
_NOT_INPUT = ("out", "truth")


def input_fingerprint(case: str | Path) -> str:
    """A hash of a case's inputs: the bytes of its tables, and the size and modification time
    of every other file (recordings, images) outside out/ and truth/."""
    root = Path(case)
    digest = hashlib.sha256(f"pollwatch-ingest {FORMAT_VERSION}\n".encode())
    for name in _INPUT_FILES:
        path = root / name
        digest.update(f"{name}\0".encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in _NOT_INPUT or rel.as_posix() in _INPUT_FILES or not path.is_file():
            continue
        stat = path.stat()
        digest.update(f"{rel.as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def read_case(case: str | Path) -> CaseInputs:
    """Read and check every input of the case; InputError lists all problems of all files."""
    paths = CasePaths.of(case)
    if not paths.root.is_dir():
        raise InputError.at(paths.root, "case folder does not exist")
    fingerprint = input_fingerprint(paths.root)
    election, problems = read_election(paths.election_toml)
    st_sheet, stations = read_stations(paths.stations_csv)
    # Cross-file checks need a complete stations.csv; without one they would only add noise.
    known = stations if not st_sheet.problems else None
    res_sheet, protocols, votes = read_results(paths.results_csv, election, known)
    turn_sheet, checkpoints = read_turnout(paths.turnout_csv, election, known)
    cam_sheet, cameras = read_cameras(paths.root, election, known)
    sheets = (st_sheet, res_sheet, turn_sheet, cam_sheet)
    problems += [p for sh in sheets for p in sh.problems]
    if problems or election is None:
        raise InputError(problems)
    warnings: list[InputProblem] = [w for sh in sheets for w in sh.warnings]
    return CaseInputs(
        election=election,
        stations=stations_frame(stations),
        protocols=protocols,
        votes=votes,
        checkpoints=checkpoints,
        cameras=cameras,
        fingerprint=fingerprint,
        warnings=tuple(warnings),
    )


def ingest_case(case: str | Path) -> str:
    """Validate the case's inputs and load them into out/pollwatch.db; returns a summary.

    Nothing is written unless every input is valid (InputError otherwise), and then all in one
    transaction. Ingesting unchanged inputs again changes nothing.
    """
    paths = CasePaths.of(case)
    inputs = read_case(paths.root)
    with Store(paths.db_path) as store:
        unchanged = store.input_fingerprint() == inputs.fingerprint
        if not unchanged:
            store.replace_inputs(inputs)
    return _summary(inputs, unchanged)


def _summary(inputs: CaseInputs, unchanged: bool) -> str:
    e = inputs.election
    text = (
        f"{e.name!r}: {len(inputs.stations)} stations, {len(inputs.protocols)} results, "
        f"{len(inputs.checkpoints)} checkpoints, {len(inputs.cameras)} cameras"
    )
    if unchanged:
        text += " (unchanged since the last ingest)"
    if inputs.warnings:
        text += f"; {len(inputs.warnings)} warning(s):"
        text += "".join(f"\n  {w}" for w in inputs.warnings)
    return text
