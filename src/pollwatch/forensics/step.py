"""The forensics case step: the whole suite on a case's official results, fed with what the
cameras counted, its outputs under out/ and its findings in the store.

The step reads the official results, the regions (stations.csv) and the checkpoints
(turnout.csv) from the store and, when the counting detector has written out/counts.csv
(camera_id, station_id, interval_start, interval_end, counted, lower, upper, official,
observable; docs/formats.md), turns it into the extrapolation's camera observations with
`observations_from_counts`. It writes out/forensics.json and out/station_scores.csv, stores
the per-station turnout and winner share (table forensics/stations, for the report) and
replaces the findings of analyser ``forensics``:

* ``forensic_anomaly`` for every station whose anomaly score is at least
  `ForensicsSettings.min_score` (default 3: a tail probability ≤ 0.001 under the clean model,
  see `pollwatch.forensics.score`), with the score, the p-value and the tests that drove it;
* ``checkpoint_anomaly`` for every station the checkpoint checks flag (an impossible count, an
  increment sequence identical to another station's, or a late surge or round increments with
  p < `ForensicsSettings.checkpoint_alpha`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pollwatch.case import CasePaths
from pollwatch.counting.calibration import COUNTER_ERRORS
from pollwatch.counting.stats import CounterErrors
from pollwatch.counting.turnout import COUNTS_CSV_COLUMNS as COUNTS_COLUMNS
from pollwatch.errors import InputError, InputProblem
from pollwatch.forensics.checkpoints import CheckpointResult
from pollwatch.forensics.suite import ForensicsReport, run_forensics, station_scores
from pollwatch.pipeline import CASE_STEPS
from pollwatch.store import Store
from pollwatch.store.records import Finding, finding_id

__all__ = [
    "ANALYSER",
    "COUNTS_COLUMNS",
    "ForensicsSettings",
    "forensic_findings",
    "forensics_step",
    "observations_from_counts",
]

ANALYSER = "forensics"
_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n", ""}
_COMPONENTS = {
    "p_fingerprint": "turnout and winner share jointly high for the region",
    "p_integer": "integer percentage",
    "p_checkpoints": "intra-day checkpoints",
}


@dataclass(frozen=True)
class ForensicsSettings:
    """How the step runs: Monte Carlo repetitions of the integer test (`n_mc`), bootstrap
    replicates of the Klimek fit (`n_boot`), the seed, the anomaly score from which a station
    becomes a finding (`min_score`: 3 = a 0.1 % tail) and the checkpoint checks' level."""

    n_mc: int = 1000
    n_boot: int = 100
    seed: int = 0
    min_score: float = 3.0
    checkpoint_alpha: float = 0.001

    def __post_init__(self) -> None:
        if self.n_mc < 1:
            raise ValueError(f"n_mc must be >= 1, got {self.n_mc}")
        if self.n_boot < 1:
            raise ValueError(f"n_boot must be >= 1, got {self.n_boot}")
        if self.min_score <= 0:
            raise ValueError(f"min_score must be > 0, got {self.min_score}")
        if not 0 < self.checkpoint_alpha < 1:
            raise ValueError(f"checkpoint_alpha must be in (0, 1), got {self.checkpoint_alpha}")


def _flags(values: pd.Series, file: str) -> tuple[np.ndarray, list[InputProblem]]:
    text = values.astype(str).str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE) & values.notna()
    problems = [
        InputProblem(
            file, f"not a boolean: {values.iloc[i]!r}", line=int(i) + 2, column="observable"
        )
        for i in np.flatnonzero(bad.to_numpy())
    ]
    return text.isin(_TRUE).to_numpy(), problems


def observations_from_counts(
    counts: pd.DataFrame, *, errors: CounterErrors | None = None, file: str = "counts.csv"
) -> pd.DataFrame:
    """Per camera station, the extrapolation's observations (`extrapolate_inflation`):
    station_id, camera_id, observed, observed_lower, observed_upper, observable_share.

    observed = Σ counted over the observable intervals, divided by the counter's mean drops
    per true ballot 1 − miss_rate + false_rate when `errors` (the counter's error model) are
    given: the counter misses some ballots and counts some false drops, so the raw count is
    biased (by −2 % for `COUNTER_ERRORS`), and a bias common to every camera station would
    move the extrapolated national total by 2 % of all voters, far outside its interval;
    bounds = Σ lower / Σ upper over the observable intervals;
    observable_share = the observable intervals' share of the camera's recorded time. A camera
    not observable all along gives bounds only (observed = NaN): its upper bound adds the
    official increments of the unobservable intervals (no more real voters than the protocol
    claims there), its lower bound only what was seen. A station with several cameras keeps
    the one observable longest. Malformed rows raise `InputError` naming line and column."""
    missing = [c for c in COUNTS_COLUMNS if c not in counts.columns]
    if missing:
        raise InputError([InputProblem(file, "missing column", column=c) for c in missing])
    problems: list[InputProblem] = []
    frame = counts.reset_index(drop=True)
    numbers = {}
    for col in ("counted", "lower", "upper", "official"):
        num = pd.to_numeric(frame[col], errors="coerce")
        bad = num.isna() & frame[col].notna() | (num < 0)
        problems += [
            InputProblem(file, f"not a count: {frame[col].iloc[i]!r}", line=int(i) + 2, column=col)
            for i in np.flatnonzero(bad.to_numpy())
        ]
        numbers[col] = num.to_numpy(float)
    times = {}
    for col in ("interval_start", "interval_end"):
        t = pd.to_datetime(frame[col], utc=True, errors="coerce", format="ISO8601")
        problems += [
            InputProblem(file, f"not a time: {frame[col].iloc[i]!r}", line=int(i) + 2, column=col)
            for i in np.flatnonzero(t.isna().to_numpy())
        ]
        times[col] = t
    observable, flag_problems = _flags(frame["observable"], file)
    problems += flag_problems
    if problems:
        raise InputError(problems)
    seconds = (times["interval_end"] - times["interval_start"]).dt.total_seconds().to_numpy()
    problems = [
        InputProblem(file, "interval_end before interval_start", line=int(i) + 2)
        for i in np.flatnonzero(seconds < 0)
    ]
    if problems:
        raise InputError(problems)
    obs = observable.astype(float)
    detected = 1.0 if errors is None else 1.0 - errors.miss_rate + errors.false_rate
    rows = pd.DataFrame(
        {
            "station_id": frame["station_id"].astype(str),
            "camera_id": frame["camera_id"].astype(str),
            "seconds": seconds,
            "seen_seconds": seconds * obs,
            "counted": np.nan_to_num(numbers["counted"]) * obs / detected,
            "lower": np.nan_to_num(numbers["lower"]) * obs,
            "upper": np.where(observable, numbers["upper"], numbers["official"]),
            "unseen": (~observable).astype(int),
        }
    )
    per_camera = rows.groupby(["station_id", "camera_id"], sort=False).agg(
        seconds=("seconds", "sum"),
        seen_seconds=("seen_seconds", "sum"),
        observed=("counted", "sum"),
        observed_lower=("lower", "sum"),
        observed_upper=("upper", lambda u: u.sum(min_count=len(u))),
        unseen=("unseen", "sum"),
    )
    per_camera = per_camera.reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(
            per_camera["seconds"] > 0, per_camera["seen_seconds"] / per_camera["seconds"], 0.0
        )
    per_camera["observable_share"] = share
    per_camera.loc[per_camera["unseen"] > 0, "observed"] = np.nan
    best = per_camera.sort_values("seen_seconds", ascending=False, kind="stable")
    best = best.drop_duplicates("station_id").sort_index()
    return best[
        [
            "station_id",
            "camera_id",
            "observed",
            "observed_lower",
            "observed_upper",
            "observable_share",
        ]
    ].reset_index(drop=True)


def _drivers(components: pd.Series) -> list[str]:
    """The tests whose p-value is the station's smallest (within a factor of 10)."""
    ps = {k: float(components[k]) for k in _COMPONENTS if np.isfinite(components[k])}
    if not ps:
        return []
    smallest = min(ps.values())
    return [k for k, p in ps.items() if p <= 10 * smallest]


def forensic_findings(report: ForensicsReport, settings: ForensicsSettings) -> list[Finding]:
    """The step's findings (see the module docstring) from a forensic report."""
    sc = report.scores
    comps = sc.components.reset_index(drop=True)
    findings = []
    for i in np.flatnonzero(np.nan_to_num(sc.score, nan=-1.0) >= settings.min_score):
        sid = str(sc.station_id[i])
        row = comps.iloc[i]
        drivers = _drivers(row)
        tests = "; ".join(f"{_COMPONENTS[k]} (p = {row[k]:.2g})" for k in drivers)
        findings.append(
            Finding(
                finding_id=finding_id("forensic_anomaly", sid),
                kind="forensic_anomaly",
                analyser=ANALYSER,
                station_id=sid,
                score=float(sc.score[i]),
                p_value=float(sc.pvalue[i]),
                summary=(
                    f"anomaly score {sc.score[i]:.1f} (tail probability {sc.pvalue[i]:.2g} "
                    f"under the regional clean model), driven by: {tests}"
                ),
                evidence={
                    "score": float(sc.score[i]),
                    "p_value": float(sc.pvalue[i]),
                    "tests": drivers,
                    "z_turnout": float(row["z_turnout"]),
                    "z_share": float(row["z_share"]),
                    **{k: float(row[k]) for k in _COMPONENTS if np.isfinite(row[k])},
                },
            )
        )
    if report.checkpoints is not None:
        findings += _checkpoint_findings(report.checkpoints, settings.checkpoint_alpha)
    return findings


def _checkpoint_findings(result: CheckpointResult, alpha: float) -> list[Finding]:
    out = []
    for r in result.flagged(alpha).itertuples(index=False):
        reasons = [
            text
            for flag, text in (
                (r.above_final, "a checkpoint above the final ballots issued"),
                (r.above_registered, "a checkpoint above the registered voters"),
                (r.decreasing, "a cumulative count going down"),
                (r.identical_group >= 0, "increments identical to another station's"),
                (r.late_pvalue < alpha, f"late surge (p = {r.late_pvalue:.2g})"),
                (r.round_pvalue < alpha, f"round increments (p = {r.round_pvalue:.2g})"),
            )
            if flag
        ]
        p = min(float(r.late_pvalue), float(r.round_pvalue))
        out.append(
            Finding(
                finding_id=finding_id("checkpoint_anomaly", r.station_id),
                kind="checkpoint_anomaly",
                analyser=ANALYSER,
                station_id=str(r.station_id),
                p_value=p if np.isfinite(p) else None,
                summary="implausible intra-day turnout: " + "; ".join(reasons),
                evidence={"reasons": reasons, "checkpoints": int(r.checkpoints)},
            )
        )
    return out


def forensics_step(
    paths: CasePaths, store: Store, *, settings: ForensicsSettings | None = None
) -> ForensicsReport:
    """Run the forensic suite on the case (see the module docstring); returns the report."""
    settings = settings or ForensicsSettings()
    counts_path = paths.out_dir / "counts.csv"
    observations = None
    if counts_path.is_file():
        counts = pd.read_csv(counts_path, dtype={"camera_id": str, "station_id": str})
        observations = observations_from_counts(
            counts, errors=COUNTER_ERRORS, file=str(counts_path)
        )
    checkpoints = store.checkpoints()
    report = run_forensics(
        store.results(),
        regions=store.stations(),
        checkpoints=None if checkpoints.empty else checkpoints,
        observations=observations,
        n_mc=settings.n_mc,
        n_boot=settings.n_boot,
        seed=settings.seed,
        file=str(paths.results_csv),
    )
    paths.out("forensics.json").write_text(report.to_json() + "\n")
    station_scores(report).to_csv(paths.out("station_scores.csv"), index=False)
    st = report.stations
    store.write_table(
        ANALYSER,
        "stations",
        pd.DataFrame(
            {
                "station_id": st.station_id.astype(str),
                "registered": st.registered,
                "turnout": st.turnout,
                "winner_share": st.winner_share,
            }
        ),
    )
    store.replace_findings(ANALYSER, forensic_findings(report, settings))
    return report


def _registered_step(paths: CasePaths, store: Store) -> None:
    """The registered step, default settings; to change them pass
    ``case_steps={"forensics": functools.partial(forensics_step, settings=...)}`` to
    `analyse_case`."""
    forensics_step(paths, store)


CASE_STEPS.register("forensics", _registered_step, order=900)
