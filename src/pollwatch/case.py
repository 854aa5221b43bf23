"""The case folder: the contract between users, the simulator and every stage.

A case is a folder. Inputs (see docs/formats.md): election.toml, stations.csv, results.csv,
turnout.csv, cameras.csv and video/. Outputs go under out/ (the store out/pollwatch.db, CSV
exports, out/report.html). The simulator alone writes truth/; only evaluation reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["CasePaths"]


@dataclass(frozen=True)
class CasePaths:
    """Every path of a case folder, derived from its root."""

    root: Path

    @classmethod
    def of(cls, root: str | Path) -> CasePaths:
        return cls(Path(root))

    @property
    def election_toml(self) -> Path:
        return self.root / "election.toml"

    @property
    def stations_csv(self) -> Path:
        return self.root / "stations.csv"

    @property
    def results_csv(self) -> Path:
        return self.root / "results.csv"

    @property
    def turnout_csv(self) -> Path:
        return self.root / "turnout.csv"

    @property
    def cameras_csv(self) -> Path:
        return self.root / "cameras.csv"

    @property
    def video_dir(self) -> Path:
        return self.root / "video"

    @property
    def out_dir(self) -> Path:
        return self.root / "out"

    @property
    def db_path(self) -> Path:
        return self.out_dir / "pollwatch.db"

    @property
    def report_html(self) -> Path:
        return self.out_dir / "report.html"

    @property
    def truth_dir(self) -> Path:
        """Simulator ground truth: written by `simulate`, read only by `evaluate` and tests."""
        return self.root / "truth"

    def out(self, name: str) -> Path:
        """A file under out/, creating the folder."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return self.out_dir / name
