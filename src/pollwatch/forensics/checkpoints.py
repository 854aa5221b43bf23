"""Consistency of the official intra-day turnout checkpoints with the final protocol.

Input: a checkpoints table (``station_id``, ``time``, ``voters_cumulative``: voters who had
received a ballot by then) and the final numbers (``station_id``, ``ballots_issued``,
``registered``, optional ``region``). Per station:

* impossible counts: a checkpoint above the final ballots issued (``above_final``) or above
  the registered voters (``above_registered``), or a cumulative count that goes down
  (``decreasing``);
* a late surge: the share of the day's ballots issued after the last checkpoint, against the
  other stations of its region that closed their last checkpoint at the same time (robust
  z-score, see `pollwatch.forensics.robust`; ``late_pvalue`` one-sided);
* round increments: increments ≥ `round_base` that are multiples of `round_base`, against a
  binomial with probability 1 / `round_base` (``round_pvalue``, one-sided);
* identical increments: stations whose whole sequence of increments (at least 2 of them, at
  least `min_identical_total` ballots) is the same as another station's (``identical_group``).

Rows that cannot be used (unknown station, unparsable time or count, negative count) are
excluded and reported as `InputProblem`s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from pollwatch.errors import InputError, InputProblem
from pollwatch.forensics.robust import robust_z

__all__ = ["CheckpointResult", "checkpoint_consistency"]


@dataclass(frozen=True)
class CheckpointResult:
    """Per-station flags and p-values (`stations`), the groups of stations with identical
    increments, the global share of round increments and its binomial p-value."""

    stations: pd.DataFrame
    identical_groups: tuple[tuple[str, ...], ...]
    round_share: float
    round_pvalue: float
    excluded: tuple[InputProblem, ...]

    def flagged(self, alpha: float = 0.001) -> pd.DataFrame:
        """Stations with an impossible count, an identical-increments group, or a late-surge
        or round-increment p-value below `alpha`."""
        s = self.stations
        mask = (
            s["above_final"]
            | s["above_registered"]
            | s["decreasing"]
            | (s["identical_group"] >= 0)
            | (s["late_pvalue"] < alpha)
            | (s["round_pvalue"] < alpha)
        )
        return s[mask]

    def counts(self) -> dict[str, int]:
        s = self.stations
        return {
            "stations": len(s),
            "above_final": int(s["above_final"].sum()),
            "above_registered": int(s["above_registered"].sum()),
            "decreasing": int(s["decreasing"].sum()),
            "identical_increments": int((s["identical_group"] >= 0).sum()),
            "late_surge_p001": int((s["late_pvalue"] < 0.001).sum()),
            "round_increments_p001": int((s["round_pvalue"] < 0.001).sum()),
        }


def _clean(
    checkpoints: pd.DataFrame, final: pd.DataFrame, file: str
) -> tuple[pd.DataFrame, list[InputProblem]]:
    need = {"station_id", "time", "voters_cumulative"}
    missing = [
        InputProblem(file, "missing column", column=c) for c in sorted(need - set(checkpoints))
    ]
    missing += [
        InputProblem("final results", "missing column", column=c)
        for c in sorted({"station_id", "ballots_issued", "registered"} - set(final))
    ]
    if missing:
        raise InputError(missing)
    cp = checkpoints[["station_id", "time", "voters_cumulative"]].copy()
    cp["station_id"] = cp["station_id"].astype(str)
    cp["line"] = np.arange(len(cp)) + 2
    cp["t"] = pd.to_datetime(cp["time"], utc=True, errors="coerce", format="ISO8601")
    cp["v"] = pd.to_numeric(cp["voters_cumulative"], errors="coerce")
    known = set(final["station_id"].astype(str))
    problems = []
    checks = (
        (cp["t"].isna(), "time", lambda r: f"not an ISO 8601 time: {r.time!r}"),
        (cp["v"].isna(), "voters_cumulative", lambda r: f"not a number: {r.voters_cumulative!r}"),
        (cp["v"] < 0, "voters_cumulative", lambda r: f"negative count {r.v:g}"),
        (~cp["station_id"].isin(known), "station_id", lambda r: f"unknown station {r.station_id}"),
    )
    bad = np.zeros(len(cp), dtype=bool)
    for mask, column, message in checks:
        mask = mask.to_numpy() & ~bad
        for row in cp[mask].itertuples():
            problems.append(InputProblem(file, message(row), line=int(row.line), column=column))
        bad |= mask
    dup = cp.duplicated(["station_id", "t"]).to_numpy() & ~bad
    for row in cp[dup].itertuples():
        problems.append(InputProblem(file, "repeated (station, time)", line=int(row.line)))
    bad |= dup
    problems.sort(key=lambda p: p.line or 0)
    return cp[~bad].sort_values(["station_id", "t"]), problems


def checkpoint_consistency(
    checkpoints: pd.DataFrame,
    final: pd.DataFrame,
    *,
    round_base: int = 10,
    min_identical_total: int = 20,
    file: str = "turnout.csv",
) -> CheckpointResult:
    """Check every station's checkpoints against each other and its final protocol."""
    if round_base < 2:
        raise ValueError(f"round_base must be >= 2, got {round_base}")
    cp, problems = _clean(checkpoints, final, file)
    fin = final.assign(station_id=final["station_id"].astype(str)).drop_duplicates("station_id")
    fin = fin.set_index("station_id")
    sid = cp["station_id"].to_numpy(object)
    v = cp["v"].to_numpy(dtype=float)
    first = np.r_[True, sid[1:] != sid[:-1]] if len(sid) else np.zeros(0, dtype=bool)
    inc = np.where(first, v, np.diff(np.r_[0.0, v]))
    by = cp.assign(inc=inc, down=(inc < 0) & ~first).groupby("station_id", sort=False)
    table = by.agg(
        checkpoints=("v", "size"),
        last_time=("t", "last"),
        last=("v", "last"),
        top=("v", "max"),
        decreasing=("down", "any"),
    ).reset_index()
    issued = fin["ballots_issued"].reindex(table["station_id"]).to_numpy(dtype=float)
    registered = fin["registered"].reindex(table["station_id"]).to_numpy(dtype=float)
    final_inc = issued - table["last"].to_numpy()
    table["above_final"] = table["top"].to_numpy() > issued
    table["above_registered"] = table["top"].to_numpy() > registered
    # round increments: the checkpoints' increments and the final one
    station_index = pd.factorize(sid)[0] if len(sid) else np.zeros(0, dtype=np.int64)
    all_inc = np.r_[inc, final_inc]
    owner = np.r_[station_index, np.arange(len(table))]
    eligible = all_inc >= round_base
    is_round = eligible & (np.mod(all_inc, round_base) == 0)
    m = np.bincount(owner, weights=eligible, minlength=len(table))
    k = np.bincount(owner, weights=is_round, minlength=len(table))
    table["round_increments"] = k.astype(np.int64)
    table["round_pvalue"] = np.where(m > 0, stats.binom.sf(k - 1, m, 1 / round_base), 1.0)
    n_round, n_eligible = int(k.sum()), int(m.sum())
    # identical increment sequences (same times, same increments, whole day)
    position = cp.groupby("station_id", sort=False).cumcount().to_numpy()
    wide = pd.DataFrame({"s": station_index, "k": position, "t": cp["t"].astype(str), "i": inc})
    wide = wide.pivot(index="s", columns="k", values=["t", "i"]).reindex(range(len(table)))
    wide.columns = [f"{a}{b}" for a, b in wide.columns]
    wide["final"] = final_inc
    usable = (table["checkpoints"].to_numpy() >= 2) & (issued >= min_identical_total)
    shared = np.zeros(len(table), dtype=bool)
    shared[usable] = wide[usable].duplicated(keep=False).to_numpy()
    codes = wide.groupby(list(wide.columns), dropna=False, sort=False).ngroup().to_numpy()
    uniq = np.unique(codes[shared])
    table["identical_group"] = np.where(shared, np.searchsorted(uniq, codes), -1)
    groups = tuple(
        tuple(table["station_id"][table["identical_group"] == g_]) for g_ in range(len(uniq))
    )
    # late surge
    region = (
        fin["region"].reindex(table["station_id"]).to_numpy(object) if "region" in fin else None
    )
    key2 = table["last_time"].astype(str).to_numpy(object)
    if region is not None:
        key2 = key2 + "|" + region.astype(str)
    late = np.clip(final_inc, 0, np.maximum(issued, 0))
    z = robust_z(late, np.maximum(issued, 0), key2) if len(table) else np.zeros(0)
    table["late_share"] = np.where(issued > 0, late / np.maximum(issued, 1), np.nan)
    table["late_pvalue"] = np.where(np.isfinite(z), stats.norm.sf(z), 1.0)
    table = table.drop(columns=["last", "top"])
    round_p = (
        float(stats.binomtest(n_round, n_eligible, 1 / round_base, alternative="greater").pvalue)
        if n_eligible
        else 1.0
    )
    return CheckpointResult(
        stations=table,
        identical_groups=groups,
        round_share=n_round / n_eligible if n_eligible else float("nan"),
        round_pvalue=round_p,
        excluded=tuple(problems),
    )
