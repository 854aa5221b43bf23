"""Counted ballots against the official turnout checkpoints: counts, bounds, inflation tests.

The official checkpoints split the day into intervals: polls open → first checkpoint → ... →
last checkpoint. For each camera and interval, the ballots the counter saw go in are set
against the official increment (`voters_cumulative` at the interval's end minus at its start,
0 at the opening). When the last checkpoint is the close, ballots dropped after it (voters in
line at the close) count in the last interval. An interval the camera could not watch for at
least `min_observed` of its time is "not observable": its count is a floor, and it is never
tested (no finding says it was clean); the few percent an observable interval was not
watched are folded into the miss rate (`CounterErrors.thinned`). Time the counter watched
with a degraded picture (`rough`: the box out of focus, no ballot slot seen) is counted with
the error rates measured on such time (`rough_errors`): an interval with more than
1 − `min_observed` of its watched time rough takes them. Drops seen within the counter's
timing error of an interval's edge may belong to the neighbour: bounds and tests take them
the way least favourable to a finding.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from pollwatch.counting.observability import Observability
from pollwatch.counting.stats import CounterErrors, count_bounds, inflation_test
from pollwatch.store import Election, Finding, finding_id

__all__ = [
    "ALPHA",
    "COUNTS_CSV_COLUMNS",
    "COUNT_COLUMNS",
    "DAY_ALPHA",
    "Interval",
    "checkpoint_intervals",
    "count_intervals",
    "inflation_findings",
    "interval_errors",
    "official_increments",
]

#: out/counts.csv's columns (docs/formats.md), what the forensics step reads back
COUNTS_CSV_COLUMNS = (
    "camera_id",
    "station_id",
    "interval_start",
    "interval_end",
    "counted",
    "lower",
    "upper",
    "official",
    "observable",
)

#: the store's counts table: counts.csv's columns plus the interval and its test
COUNT_COLUMNS = [
    *COUNTS_CSV_COLUMNS[:2],
    "interval",
    *COUNTS_CSV_COLUMNS[2:],
    "observed_share",
    "rough",
    "excess_lower",
    "p_value",
]

#: an interval's test flags it below this p; the whole day's (the station's test) below
#: `DAY_ALPHA`. A station has five interval tests and its day's: the false-alarm rate of a
#: clean station (any of them flagged) is 1.7% at the calibration's least favourable rates
#: (1.1% at its point estimates), and an inflated demo station (10-60% of its turnout added,
#: weighted to the day's end) is flagged 91% of the time (61% of those with 10-20% added);
#: with 0.01 for all six, 1.8% and 89%; a Beta prior on the rates or mid-p values gain at
#: most a point within 2% of clean stations flagged (`benchmarks/inflation_power.py
#: --stations 6000`, session 9, docs/counting.md)
ALPHA = 0.005
DAY_ALPHA = 0.025

# how far a drop's time may be off: a ballot seen going in, a drop only the pile's rise showed
_TIME_ERROR_S = {"burst+fill": 1.0, "burst": 1.0, "fill": 2.5}


@dataclass(frozen=True)
class Interval:
    """One official checkpoint interval [start, end) (the last one includes its end)."""

    index: int
    start: datetime
    end: datetime


def checkpoint_intervals(election: Election) -> list[Interval]:
    """The intervals between polls open and each checkpoint in turn."""
    edges = [election.polls_open, *election.checkpoints]
    return [Interval(i + 1, a, b) for i, (a, b) in enumerate(itertools.pairwise(edges))]


def official_increments(
    checkpoints: pd.DataFrame, station_id: str, intervals: list[Interval]
) -> list[int | None]:
    """The official increase of `voters_cumulative` over each interval (None where a
    checkpoint is missing from turnout.csv)."""
    rows = checkpoints[checkpoints["station_id"] == station_id]
    at = {
        pd.Timestamp(t).to_pydatetime(): int(v)
        for t, v in zip(rows["time"], rows["voters_cumulative"], strict=True)
    }
    out: list[int | None] = []
    for iv in intervals:
        start = 0 if iv.index == 1 else at.get(iv.start)
        end = at.get(iv.end)
        out.append(None if start is None or end is None else end - start)
    return out


@dataclass(frozen=True)
class _Window:
    start_s: float
    end_s: float


def _windows(
    intervals: list[Interval], start_time: datetime, close: datetime, obs: Observability
) -> list[_Window]:
    out = []
    for iv in intervals:
        a = (iv.start - start_time).total_seconds()
        b = (iv.end - start_time).total_seconds()
        if iv.end == close:  # voters in line at the close drop their ballots after it
            b = max(b, obs.end_s)
        out.append(_Window(a, b))
    return out


def count_intervals(
    drops: pd.DataFrame,
    obs: Observability,
    *,
    camera_id: str,
    station_id: str,
    start_time: datetime,
    election: Election,
    official: list[int | None],
    errors: CounterErrors,
    rough: Observability | None = None,
    rough_errors: CounterErrors | None = None,
    min_observed: float = 0.98,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """One row per checkpoint interval (`COUNT_COLUMNS`): ballots counted (`t_s` of `drops`
    on the recording's clock, `ballots`, `evidence`), the 95% bounds of the true number,
    the official increment, whether the interval was observable, whether it was `rough`
    (watched with a degraded picture: `rough`'s unobservable ranges are those times, and
    `rough_errors` the rates then, `errors` when not given), and the inflation test's
    p-value and lower bound of the excess (NaN when not tested)."""
    intervals = checkpoint_intervals(election)
    if len(official) != len(intervals):
        raise ValueError(f"official has {len(official)} values for {len(intervals)} intervals")
    windows = _windows(intervals, start_time, election.polls_close, obs)
    t = drops["t_s"].to_numpy(float)
    ballots = drops["ballots"].to_numpy(np.int64)
    margin = drops["evidence"].map(_TIME_ERROR_S).fillna(2.5).to_numpy(float)
    rows = []
    for iv, w, off in zip(intervals, windows, official, strict=True):
        last = iv.index == len(intervals)
        inside = (t >= w.start_s) & ((t <= w.end_s) if last else (t < w.end_s))
        before = ~inside & (t < w.start_s) & (t >= w.start_s - margin)
        after = ~inside & (t > w.end_s - 1e-9) & (t <= w.end_s + margin)
        counted = int(ballots[inside].sum())
        extra = int(ballots[before | after].sum())
        share = obs.observed_share(w.start_s, w.end_s)
        observable = share >= min_observed
        is_rough = _rough_share(rough, obs, w) > 1 - min_observed
        used = interval_errors(errors, rough_errors, rough=is_rough, observed_share=share)
        bounds = count_bounds(counted, used, extra=extra)
        row = {
            "camera_id": camera_id,
            "station_id": station_id,
            "interval": iv.index,
            "interval_start": iv.start,
            "interval_end": iv.end,
            "counted": counted,
            "lower": bounds.lower,
            "upper": bounds.upper if observable else np.nan,
            "official": np.nan if off is None else off,
            "observable": observable,
            "observed_share": share,
            "rough": is_rough,
            "excess_lower": np.nan,
            "p_value": np.nan,
            "extra": extra,
            "extra_before": int(ballots[before].sum()),
            "extra_after": int(ballots[after].sum()),
        }
        if observable and off is not None and off >= 0:
            test = inflation_test(off, counted + extra, used, alpha=alpha)
            row["p_value"], row["excess_lower"] = test.pvalue, test.excess_lower
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame


def _rough_share(rough: Observability | None, obs: Observability, w: _Window) -> float:
    """Share of the watched time of window `w` that was rough."""
    if rough is None or not rough.unobservable:
        return 0.0
    watched = obs.observed_s(w.start_s, w.end_s)
    if watched <= 0:
        return 0.0
    both = obs.with_ranges(rough.unobservable).observed_s(w.start_s, w.end_s)
    return (watched - both) / watched


def interval_errors(
    errors: CounterErrors,
    rough_errors: CounterErrors | None,
    *,
    rough: bool,
    observed_share: float,
) -> CounterErrors:
    """The rates a stretch is counted and tested with: `rough_errors` (else `errors`) where
    it was `rough`, thinned by the share of its time watched (none watched: as they are)."""
    used = (rough_errors or errors) if rough else errors
    return used.thinned(min(observed_share, 1.0)) if observed_share > 0 else used


def _day_errors(
    ok: pd.DataFrame, errors: CounterErrors, rough_errors: CounterErrors | None
) -> CounterErrors:
    """The rates of the day test over intervals `ok`: the rough ones' when any interval was
    rough, thinned by the share of their time watched."""
    length = (ok["interval_end"] - ok["interval_start"]).dt.total_seconds()
    share = float((ok["observed_share"] * length).sum() / length.sum()) if length.sum() else 1.0
    rough = bool(ok.get("rough", pd.Series(False)).any())
    return interval_errors(errors, rough_errors, rough=rough, observed_share=share)


def _day(
    counts: pd.DataFrame,
    errors: CounterErrors,
    alpha: float,
    rough_errors: CounterErrors | None = None,
) -> dict | None:
    """The whole day over the observable intervals with an official figure, or None."""
    ok = counts[counts["observable"] & counts["official"].notna()]
    if ok.empty:
        return None
    # drops near an edge between two tested intervals are counted in one of them already:
    # only the edges of the tested stretches widen the count
    tested = set(ok["interval"])
    edges = sum(
        int(r.extra_before) * (r.interval - 1 not in tested)
        + int(r.extra_after) * (r.interval + 1 not in tested)
        for r in ok.itertuples(index=False)
    )
    official, counted = int(ok["official"].sum()), int(ok["counted"].sum()) + edges
    errors = _day_errors(ok, errors, rough_errors)
    test = inflation_test(max(official, 0), counted, errors, alpha=alpha)
    return {
        "official": official,
        "counted": int(ok["counted"].sum()),
        "p_value": test.pvalue,
        "excess_lower": test.excess_lower,
        "significant": test.significant and official >= 0,
        "start": ok["interval_start"].min(),
        "end": ok["interval_end"].max(),
        "intervals": [int(i) for i in ok["interval"]],
        "errors": errors,
    }


def _when(t: datetime) -> str:
    return f"{t:%H:%M:%S}"


def inflation_findings(
    counts: pd.DataFrame,
    errors: CounterErrors,
    *,
    rough_errors: CounterErrors | None = None,
    alpha: float = ALPHA,
    day_alpha: float = DAY_ALPHA,
    analyser: str = "counting",
) -> list[Finding]:
    """`turnout_inflation` findings of one camera's interval counts (tested by
    `count_intervals` with these rates): each observable interval whose official increment is
    credibly above the ballots seen (p < `alpha`), and the whole observable day when its sum
    is (p < `day_alpha`)."""
    out = []
    for r in counts.itertuples(index=False):
        if not (r.observable and np.isfinite(r.p_value) and r.p_value < alpha):
            continue
        used = interval_errors(
            errors,
            rough_errors,
            rough=bool(getattr(r, "rough", False)),
            observed_share=float(r.observed_share),
        )
        summary = (
            f"Official turnout rose by {int(r.official)} between {_when(r.interval_start)} and "
            f"{_when(r.interval_end)}; the camera saw {r.counted} ballot(s) go in "
            f"(95% bounds {r.lower}–{int(r.upper)}): at least {int(r.excess_lower)} more "
            f"than seen (p = {r.p_value:.2g})"
        )
        out.append(
            Finding(
                finding_id=finding_id("turnout_inflation", r.camera_id, r.interval),
                kind="turnout_inflation",
                analyser=analyser,
                summary=summary,
                station_id=r.station_id,
                camera_id=r.camera_id,
                t_start=r.interval_start,
                t_end=r.interval_end,
                score=float(r.excess_lower),
                p_value=float(r.p_value),
                evidence={
                    "interval": int(r.interval),
                    "official": int(r.official),
                    "counted": int(r.counted),
                    "lower": int(r.lower),
                    "upper": int(r.upper),
                    "near_edges": int(r.extra),
                    "rough": bool(getattr(r, "rough", False)),
                    "observed_share": round(float(r.observed_share), 4),
                    "miss_rate": used.miss_rate,
                    "false_rate": used.false_rate_low,
                },
            )
        )
    day = _day(counts, errors, day_alpha, rough_errors)
    if day is not None and day["significant"]:
        first = counts.iloc[0]
        summary = (
            f"Over the {len(day['intervals'])} interval(s) the camera could watch, official "
            f"turnout rose by {day['official']} and the camera saw {day['counted']} ballot(s) "
            f"go in: at least {day['excess_lower']} more than seen (p = {day['p_value']:.2g})"
        )
        out.append(
            Finding(
                finding_id=finding_id("turnout_inflation", first.camera_id, "day"),
                kind="turnout_inflation",
                analyser=analyser,
                summary=summary,
                station_id=str(first.station_id),
                camera_id=str(first.camera_id),
                t_start=day["start"],
                t_end=day["end"],
                score=float(day["excess_lower"]),
                p_value=float(day["p_value"]),
                evidence={
                    "intervals": day["intervals"],
                    "official": day["official"],
                    "counted": day["counted"],
                    "miss_rate": day["errors"].miss_rate,
                    "false_rate": day["errors"].false_rate_low,
                },
            )
        )
    return out
