"""`Stations`: the one container every forensic test reads, one row per polling station.

It holds the official final protocol as numpy arrays (checked in `__post_init__`), derives the
quantities the tests share (turnout, the winner's share, the other candidates' votes) and is
changed with `dataclasses.replace` or boolean-mask indexing, never in place.

Definitions (those of the published Russian figures, see docs/forensics.md):

* turnout = ballots issued / registered voters;
* winner share = winner's votes / ballots cast, where ballots cast = valid + invalid ballots;
* the winner is the candidate with the most votes over all stations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["PROTOCOL_COLUMNS", "Stations"]

#: The protocol columns of a results table, before the candidates' columns.
PROTOCOL_COLUMNS = ("station_id", "registered", "ballots_issued", "ballots_cast", "invalid")


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Stations:
    """Official per-station results: N rows of protocol numbers and a (N, K) vote matrix."""

    station_id: np.ndarray
    region: np.ndarray
    registered: np.ndarray
    ballots_issued: np.ndarray
    ballots_cast: np.ndarray
    invalid: np.ndarray
    votes: np.ndarray
    candidates: tuple[str, ...]
    winner: int = field(default=-1)

    def __post_init__(self) -> None:
        n = len(self.station_id)
        ints = ("registered", "ballots_issued", "ballots_cast", "invalid")
        for name in ints:
            a = np.asarray(getattr(self, name))
            if a.shape != (n,):
                raise ValueError(f"{name}: expected shape ({n},), got {a.shape}")
            if a.size and (not np.all(np.isfinite(a)) or np.any(a < 0)):
                raise ValueError(f"{name}: counts must be finite and >= 0")
            object.__setattr__(self, name, _frozen(a.astype(np.int64)))
        votes = np.asarray(self.votes)
        if votes.ndim != 2 or votes.shape[0] != n:
            raise ValueError(f"votes: expected shape ({n}, K), got {votes.shape}")
        if votes.shape[1] != len(self.candidates) or not self.candidates:
            raise ValueError("candidates: one name per column of votes, at least one")
        if votes.size and np.any(votes < 0):
            raise ValueError("votes: counts must be >= 0")
        object.__setattr__(self, "votes", _frozen(votes.astype(np.int64)))
        region = np.asarray(self.region, dtype=object)
        if region.shape != (n,):
            raise ValueError(f"region: expected shape ({n},), got {region.shape}")
        object.__setattr__(self, "region", _frozen(region))
        object.__setattr__(self, "station_id", _frozen(np.asarray(self.station_id, dtype=object)))
        object.__setattr__(self, "candidates", tuple(str(c) for c in self.candidates))
        winner = self.winner
        if winner == -1:
            winner = int(np.argmax(self.votes.sum(axis=0))) if n else 0
        if not 0 <= winner < len(self.candidates):
            raise ValueError(f"winner: index {winner} out of range")
        object.__setattr__(self, "winner", winner)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        candidates: Sequence[str] | None = None,
        winner: str | None = None,
    ) -> Stations:
        """Build from a results table (PROTOCOL_COLUMNS, optional `region`, candidate columns).

        `candidates` defaults to every column that is not a protocol column or `region`;
        `winner` to the candidate with the most votes.
        """
        missing = [c for c in ("registered", "ballots_issued") if c not in frame.columns]
        if missing:
            raise ValueError(f"missing columns: {', '.join(missing)}")
        if candidates is None:
            skip = {*PROTOCOL_COLUMNS, "region"}
            candidates = [c for c in frame.columns if c not in skip]
        candidates = list(candidates)
        votes = frame[candidates].to_numpy(dtype=np.int64) if candidates else np.zeros((0, 0))
        n = len(frame)
        invalid = (
            frame["invalid"].to_numpy(np.int64) if "invalid" in frame else np.zeros(n, np.int64)
        )
        if "ballots_cast" in frame:
            cast = frame["ballots_cast"].to_numpy(np.int64)
        else:
            cast = votes.sum(axis=1) + invalid
        ids = (
            frame["station_id"].astype(str).to_numpy(dtype=object)
            if "station_id" in frame
            else np.array([str(i + 1) for i in range(n)], dtype=object)
        )
        region = (
            frame["region"].astype(str).to_numpy(dtype=object)
            if "region" in frame
            else np.full(n, "", dtype=object)
        )
        index = -1 if winner is None else candidates.index(winner)
        return cls(
            station_id=ids,
            region=region,
            registered=frame["registered"].to_numpy(np.int64),
            ballots_issued=frame["ballots_issued"].to_numpy(np.int64),
            ballots_cast=cast,
            invalid=invalid,
            votes=votes,
            candidates=tuple(candidates),
            winner=index,
        )

    # -- derived quantities -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.station_id)

    def __getitem__(self, mask: np.ndarray) -> Stations:
        """The stations where the boolean `mask` is true (the winner stays the same)."""
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != (len(self),):
            raise ValueError("Stations can only be indexed with a boolean mask of its length")
        return Stations(
            station_id=self.station_id[mask],
            region=self.region[mask],
            registered=self.registered[mask],
            ballots_issued=self.ballots_issued[mask],
            ballots_cast=self.ballots_cast[mask],
            invalid=self.invalid[mask],
            votes=self.votes[mask],
            candidates=self.candidates,
            winner=self.winner,
        )

    @property
    def winner_name(self) -> str:
        return self.candidates[self.winner]

    @property
    def winner_votes(self) -> np.ndarray:
        return self.votes[:, self.winner]

    @property
    def valid(self) -> np.ndarray:
        return self.votes.sum(axis=1)

    @property
    def other_votes(self) -> np.ndarray:
        """Valid votes for every candidate but the winner."""
        return self.valid - self.winner_votes

    @property
    def turnout(self) -> np.ndarray:
        """Ballots issued / registered (NaN where nobody is registered)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(
                self.registered > 0, self.ballots_issued / np.maximum(self.registered, 1), np.nan
            )

    @property
    def winner_share(self) -> np.ndarray:
        """Winner's votes / ballots cast (NaN where no ballot was cast)."""
        return np.where(
            self.ballots_cast > 0, self.winner_votes / np.maximum(self.ballots_cast, 1), np.nan
        )

    def national_turnout(self) -> float:
        """Σ ballots issued / Σ registered."""
        return float(self.ballots_issued.sum() / max(int(self.registered.sum()), 1))

    def national_winner_share(self) -> float:
        """Σ winner's votes / Σ ballots cast."""
        return float(self.winner_votes.sum() / max(int(self.ballots_cast.sum()), 1))
