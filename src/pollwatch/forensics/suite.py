"""The whole forensic suite on one election's official results: `run_forensics` (a results
DataFrame, as the pipeline has it), `forensics_file` (a results file, as the CLI has it),
`station_scores` (the per-station table written to out/station_scores.csv).

The JSON form (`ForensicsReport.to_dict`, written to out/forensics.json and printed by
``pollwatch forensics --json``) is documented in docs/forensics.md.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from pollwatch.errors import InputError, InputProblem
from pollwatch.forensics.checkpoints import CheckpointResult, checkpoint_consistency
from pollwatch.forensics.digits import (
    CAVEAT,
    DigitTestResult,
    c05s,
    last_digit,
    p05s,
    second_digit_benford,
)
from pollwatch.forensics.extrapolate import Extrapolation, extrapolate_inflation
from pollwatch.forensics.fingerprint import Fingerprint, fingerprint
from pollwatch.forensics.integer_peaks import IntegerPeaksResult, integer_percentages
from pollwatch.forensics.klimek import KlimekResult, klimek_fit
from pollwatch.forensics.read import (
    POLLWATCH,
    ColumnMapping,
    ResultsTable,
    check_results,
    load_mapping,
    read_results,
)
from pollwatch.forensics.score import AnomalyScores, anomaly_scores
from pollwatch.forensics.shape import (
    CorrelationResult,
    DipResult,
    MomentsResult,
    SlopeResult,
    dip_test,
    moments,
    sobyanin_sukhovolsky,
    turnout_share_correlation,
)
from pollwatch.forensics.shpilkin import ShpilkinResult, shpilkin
from pollwatch.forensics.stations import Stations

__all__ = [
    "STATION_SCORE_COLUMNS",
    "ForensicsReport",
    "forensics_file",
    "run_forensics",
    "station_scores",
]

STATION_SCORE_COLUMNS = (
    "station_id",
    "anomaly_score",
    "shpilkin_anomalous_votes",
    "est_inflated",
    "est_inflated_lower",
    "est_inflated_upper",
    "observed_by_camera",
)
_T = TypeVar("_T")


@dataclass(frozen=True)
class ForensicsReport:
    """Every test's result on one election; a test that could not run is None with the reason
    in `skipped`."""

    stations: Stations
    table: ResultsTable
    fingerprint: Fingerprint
    integer_peaks: IntegerPeaksResult | None
    shpilkin: ShpilkinResult | None
    klimek: KlimekResult | None
    digits: dict[str, DigitTestResult]
    moments: dict[str, MomentsResult]
    dip: dict[str, DipResult]
    slope: SlopeResult | None
    correlation: CorrelationResult | None
    scores: AnomalyScores
    checkpoints: CheckpointResult | None = None
    extrapolation: Extrapolation | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    seed: int | None = None
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able data (NaN as null); see docs/forensics.md."""
        return _clean(_report_dict(self))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def summary(self) -> str:
        """A few lines for people (the CLI prints them without --json)."""
        return "\n".join(_summary_lines(self.to_dict()))


def _attempt(name: str, skipped: dict[str, str], fn: Callable[[], _T]) -> _T | None:
    try:
        return fn()
    except ValueError as err:
        skipped[name] = str(err)
        return None


def _merge_regions(results: pd.DataFrame, regions: pd.DataFrame | None) -> pd.DataFrame:
    if regions is None:
        return results
    if not {"station_id", "region"} <= set(regions.columns):
        raise InputError.at("stations", "needs columns station_id and region")
    lookup = regions.assign(station_id=regions["station_id"].astype(str)).set_index("station_id")
    merged = results.drop(columns=["region"], errors="ignore").copy()
    merged.insert(1, "region", results["station_id"].astype(str).map(lookup["region"]).to_numpy())
    merged["region"] = merged["region"].fillna("")
    return merged


def run_forensics(
    results: pd.DataFrame,
    *,
    regions: pd.DataFrame | None = None,
    checkpoints: pd.DataFrame | None = None,
    observations: pd.DataFrame | None = None,
    mapping: ColumnMapping = POLLWATCH,
    n_mc: int = 1000,
    n_boot: int = 100,
    seed: int | None = 0,
    file: str = "results.csv",
) -> ForensicsReport:
    """Run every test on a results table (a case's results.csv: station_id, registered,
    ballots_issued, ballots_cast, invalid, one column per candidate, optional region).

    `regions`: station_id → region (stations.csv) when results has no region column.
    `checkpoints`: station_id, time, voters_cumulative (turnout.csv). `observations`: camera
    counts for the extrapolation (see `extrapolate_inflation`). Malformed rows are excluded
    and listed in the report; missing columns raise `InputError`."""
    table = check_results(_merge_regions(results, regions), mapping, file=file)
    return _run(table, checkpoints, observations, n_mc, n_boot, seed)


def forensics_file(
    path: str | Path,
    *,
    mapping: str | Path | ColumnMapping | None = None,
    columns: Sequence[str] = (),
    n_mc: int = 1000,
    n_boot: int = 100,
    seed: int | None = 0,
) -> ForensicsReport:
    """Read a results file (Russian CEC tables, a case's results.csv, or any layout through a
    TOML `mapping` and ``role=column`` `columns`) and run every test on it."""
    if isinstance(mapping, str | Path):
        mapping = load_mapping(mapping)
    table = read_results(path, mapping, columns)
    return _run(table, None, None, n_mc, n_boot, seed)


def _run(
    table: ResultsTable,
    checkpoints: pd.DataFrame | None,
    observations: pd.DataFrame | None,
    n_mc: int,
    n_boot: int,
    seed: int | None,
) -> ForensicsReport:
    start = time.perf_counter()
    if table.frame.empty:
        raise InputError([InputProblem(table.file, "no usable station"), *table.excluded[:20]])
    st = Stations.from_frame(table.frame, table.candidates, table.winner)
    rng = np.random.default_rng(seed)
    skipped: dict[str, str] = {}
    turnout, share = st.turnout, st.winner_share
    fp = fingerprint(np.minimum(turnout, 1.0), share, st.registered)
    ints = _attempt(
        "integer_peaks",
        skipped,
        lambda: integer_percentages(
            st.registered, st.ballots_issued, st.ballots_cast, st.winner_votes, n_mc=n_mc, seed=rng
        ),
    )
    shp = _attempt(
        "shpilkin",
        skipped,
        lambda: shpilkin(
            st.registered, st.ballots_issued, st.winner_votes, st.other_votes, regions=st.region
        ),
    )
    if shp is not None and not shp.applicable:
        skipped["shpilkin"] = shp.reason
    klm = _attempt(
        "klimek",
        skipped,
        lambda: klimek_fit(
            st.registered,
            st.ballots_issued,
            st.ballots_cast,
            st.winner_votes,
            n_boot=n_boot,
            seed=rng,
        ),
    )
    digits = {
        "second_digit_benford": second_digit_benford(st.winner_votes),
        "last_digit": last_digit(st.winner_votes),
        "c05s": c05s(st.winner_votes),
        "p05s": p05s(st.winner_votes, st.ballots_cast),
    }
    mom, dip = {}, {}
    for name, values in (("turnout", turnout), ("winner_share", share)):
        m = _attempt(f"moments.{name}", skipped, lambda v=values: moments(v))
        d = _attempt(f"dip.{name}", skipped, lambda v=values: dip_test(v))
        if m is not None:
            mom[name] = m
        if d is not None:
            dip[name] = d
    slope = _attempt(
        "sobyanin_sukhovolsky",
        skipped,
        lambda: sobyanin_sukhovolsky(
            st.registered, st.ballots_issued, st.winner_votes, groups=st.region
        ),
    )
    corr = _attempt(
        "turnout_share_correlation", skipped, lambda: turnout_share_correlation(turnout, share)
    )
    cps = None
    if checkpoints is not None:
        final = pd.DataFrame(
            {
                "station_id": st.station_id,
                "ballots_issued": st.ballots_issued,
                "registered": st.registered,
                "region": st.region,
            }
        )
        cps = checkpoint_consistency(checkpoints, final)
    scores = anomaly_scores(st, integer=ints, checkpoints=cps)
    extra = None
    if observations is not None:
        frame = pd.DataFrame(
            {
                "station_id": st.station_id,
                "region": st.region,
                "registered": st.registered,
                "ballots_issued": st.ballots_issued,
                "ballots_cast": st.ballots_cast,
                "winner_votes": st.winner_votes,
                "anomaly_score": scores.score,
            }
        )
        extra = _attempt(
            "extrapolation",
            skipped,
            lambda: extrapolate_inflation(frame, observations, n_boot=max(n_boot, 200), seed=rng),
        )
    return ForensicsReport(
        stations=st,
        table=table,
        fingerprint=fp,
        integer_peaks=ints,
        shpilkin=shp,
        klimek=klm,
        digits=digits,
        moments=mom,
        dip=dip,
        slope=slope,
        correlation=corr,
        scores=scores,
        checkpoints=cps,
        extrapolation=extra,
        skipped=skipped,
        seed=seed,
        elapsed_s=time.perf_counter() - start,
    )


def station_scores(report: ForensicsReport) -> pd.DataFrame:
    """One row per station: station_id, anomaly_score, shpilkin_anomalous_votes,
    est_inflated, est_inflated_lower, est_inflated_upper (NaN without camera observations),
    observed_by_camera."""
    st = report.stations
    out = pd.DataFrame(
        {
            "station_id": st.station_id,
            "anomaly_score": report.scores.score,
            "shpilkin_anomalous_votes": report.shpilkin.station_anomalous
            if report.shpilkin is not None
            else np.nan,
        }
    )
    if report.extrapolation is not None:
        est = report.extrapolation.stations.set_index("station_id").reindex(st.station_id)
        for col in ("est_inflated", "est_inflated_lower", "est_inflated_upper"):
            out[col] = est[col].to_numpy()
        out["observed_by_camera"] = est["observed_by_camera"].fillna(False).to_numpy(bool)
    else:
        for col in ("est_inflated", "est_inflated_lower", "est_inflated_upper"):
            out[col] = np.nan
        out["observed_by_camera"] = False
    return out[list(STATION_SCORE_COLUMNS)]


# -- JSON ----------------------------------------------------------------------------------
def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _report_dict(r: ForensicsReport) -> dict[str, Any]:
    st = r.stations
    out: dict[str, Any] = {
        "source": {
            "file": r.table.file,
            "layout": r.table.layout,
            "rows_read": r.table.rows_read,
            "excluded_rows": r.table.excluded_rows,
            "excluded": [str(p) for p in r.table.excluded[:100]],
        },
        "stations": len(st),
        "registered": int(st.registered.sum()),
        "ballots_issued": int(st.ballots_issued.sum()),
        "ballots_cast": int(st.ballots_cast.sum()),
        "winner": st.winner_name,
        "winner_votes": int(st.winner_votes.sum()),
        "candidates": list(st.candidates),
        "turnout": st.national_turnout(),
        "winner_share": st.national_winner_share(),
        "fingerprint": {
            "bins": r.fingerprint.counts.shape[0],
            "weighted_by": r.fingerprint.weighted_by,
            "corner_mass_95": r.fingerprint.corner_mass(0.95),
        },
        "integer_peaks": None,
        "shpilkin": None,
        "klimek": None,
    }
    if (ip := r.integer_peaks) is not None:
        out["integer_peaks"] = {
            "excess": ip.excess,
            "observed": ip.observed,
            "expected": ip.expected,
            "null_q999": ip.null_q999,
            "p_value": ip.pvalue,
            "stations": ip.stations,
            "n_mc": ip.n_mc,
            "method": ip.method,
        }
    if (sh := r.shpilkin) is not None:
        out["shpilkin"] = {
            "anomalous_votes": sh.anomalous_votes,
            "method": sh.method,
            "fraction_of_winner_votes": sh.fraction(),
            "national_votes": sh.national,
            "within_region_votes": sh.within_region,
            "z_threshold": sh.z_threshold,
            "peak_turnout": sh.peak_turnout,
            "clean_share": sh.clean_share,
            "applicable": sh.applicable,
            "reason": sh.reason,
            "regions": _records(sh.regions) if sh.regions is not None else [],
        }
    if (k := r.klimek) is not None:
        (fi_lo, fi_hi), (fe_lo, fe_hi) = k.ci()
        out["klimek"] = {
            "f_i": k.f_i,
            "f_e": k.f_e,
            "f_i_ci": [fi_lo, fi_hi],
            "f_e_ci": [fe_lo, fe_hi],
            "n_boot": len(k.boot_f_i),
            "alpha": k.alpha,
            "sigma_x": k.sigma_x,
            "clean_turnout": [k.turnout_mean, k.turnout_sd],
            "clean_share": [k.share_mean, k.share_sd],
            "sse": k.sse,
            "stations": k.stations,
            "shape_fits": _records(k.shape_fits),
        }
    out["digits"] = {name: _digit(d) for name, d in r.digits.items()}
    out["digits"]["caveat"] = CAVEAT
    out["distribution"] = {
        name: {
            "skewness": m.skewness,
            "kurtosis": m.kurtosis,
            "skew_p_value": m.skew_pvalue,
            "kurtosis_p_value": m.kurtosis_pvalue,
            "dip": r.dip[name].statistic if name in r.dip else None,
            "dip_p_value": r.dip[name].pvalue if name in r.dip else None,
        }
        for name, m in r.moments.items()
    }
    if (s := r.slope) is not None:
        out["sobyanin_sukhovolsky"] = {
            "slope": s.statistic,
            "stderr": s.stderr,
            "reference_share": s.reference,
            "p_value": s.pvalue,
        }
    if (c := r.correlation) is not None:
        out["turnout_share_correlation"] = {
            "pearson": c.statistic,
            "p_value": c.pvalue,
            "spearman": c.spearman,
            "spearman_p_value": c.spearman_pvalue,
        }
    out["checkpoints"] = None
    if (cp := r.checkpoints) is not None:
        out["checkpoints"] = {
            **cp.counts(),
            "round_share": cp.round_share,
            "round_p_value": cp.round_pvalue,
            "identical_groups": [list(g) for g in cp.identical_groups[:50]],
            "excluded": [str(p) for p in cp.excluded[:100]],
        }
    sc = r.scores
    out["anomaly_score"] = {
        "scored": int(np.isfinite(sc.score).sum()),
        "share_ge_2": sc.share_above(2),
        "share_ge_3": sc.share_above(3),
        "top": _records(sc.top(10)),
    }
    out["extrapolation"] = None
    if (e := r.extrapolation) is not None:
        out["extrapolation"] = {
            "inflated_ballots": e.statistic,
            "ci": [e.lower, e.upper],
            "confidence": e.confidence,
            "measured_total": e.measured_total,
            "predicted_total": e.predicted_total,
            "measured_stations": e.n_measured,
            "bounded_stations": e.n_bounded,
            "coefficients": dict(zip(e.features, e.coefficients, strict=True)),
            "regions": _records(e.regions),
        }
    out["skipped"] = dict(r.skipped)
    out["seed"] = r.seed
    out["elapsed_s"] = r.elapsed_s
    return out


def _fmt(value: Any, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _summary_lines(d: dict[str, Any]) -> list[str]:
    src = d["source"]
    lines = [
        f"{src['file']} ({src['layout']}): {d['stations']:,} stations, "
        f"{src['excluded_rows']:,} rows excluded",
        f"winner: {d['winner']}; turnout {d['turnout']:.2%}, winner share {d['winner_share']:.2%}",
    ]
    if ip := d["integer_peaks"]:
        lines.append(
            f"integer percentages: excess {ip['excess']:,.0f} stations "
            f"(null 99.9% {ip['null_q999']:,.0f}, p = {ip['p_value']:.4g}, {ip['n_mc']} MC)"
        )
    if sh := d["shpilkin"]:
        lines.append(
            f"Shpilkin: anomalous winner votes {_fmt(sh['anomalous_votes'], ',.0f')} "
            f"({_fmt(sh['fraction_of_winner_votes'], '.1%')} of the winner's, "
            f"{sh['method'].replace('_', ' ')}; national fit as published "
            f"{_fmt(sh['national_votes'], ',.0f')}), "
            f"national clean peak at {_fmt(sh['peak_turnout'], '.0%')} turnout"
        )
    if k := d["klimek"]:
        lines.append(
            f"Klimek: f_i = {k['f_i']:.2f} [{_fmt(k['f_i_ci'][0], '.2f')}, "
            f"{_fmt(k['f_i_ci'][1], '.2f')}], f_e = {k['f_e']:.3f} "
            f"[{_fmt(k['f_e_ci'][0], '.3f')}, {_fmt(k['f_e_ci'][1], '.3f')}]"
        )
    dg = d["digits"]["second_digit_benford"]
    lines.append(
        f"2nd-digit Benford mean {_fmt(dg['statistic'], '.3f')} vs {dg['expected']:.3f} "
        f"(p = {_fmt(dg['p_value'], '.3g')}; {d['digits']['caveat']})"
    )
    sc = d["anomaly_score"]
    lines.append(
        f"anomaly score >= 2 (1% tail): {_fmt(sc['share_ge_2'], '.1%')} of stations, "
        f">= 3: {_fmt(sc['share_ge_3'], '.1%')}"
    )
    lines += [f"skipped {name}: {why}" for name, why in d["skipped"].items()]
    return lines


def _digit(d: DigitTestResult) -> dict[str, Any]:
    return {
        "statistic": d.statistic,
        "expected": d.expected,
        "p_value": d.pvalue,
        "n": d.n,
        "chi2": d.chi2,
        "chi2_p_value": d.chi2_pvalue,
    }
