"""The "forensics" metric block: the forensic step's outputs (out/forensics.json,
out/station_scores.csv) against the simulator's per-station truth.

Truth used (truth.stations, docs/truth.md): `inflation` (votes added to the protocol only),
`stuffed_ballots` (dropped in the box by a stuffer), `carousel_ballots` (cast by carousel
voters). What the camera extrapolation estimates is ballots issued − voters seen casting, so its
target is inflation + stuffed ballots (a carousel voter is a voter on camera); Shpilkin's
estimate targets every vote added to the winner (all three).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pollwatch.case import CasePaths
from pollwatch.evaluate.registry import METRICS
from pollwatch.evaluate.truthview import EvaluationError

__all__ = ["TRUTH_COLUMNS", "forensics_block", "rank_auc"]

TRUTH_COLUMNS = ("station_id", "inflation", "stuffed_ballots", "carousel_ballots")
MIN_SCORE = 3.0  # as the step's default ForensicsSettings.min_score: a 0.1 % tail


def rank_auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """Area under the ROC curve of `scores` for `positive` against the rest (ties count
    half; Mann–Whitney U / (n₁ n₀)); None without both classes."""
    s = np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    pos = np.asarray(positive, dtype=bool)
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return None
    ranks = stats.rankdata(s)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _truth_stations(truth: Any) -> pd.DataFrame:
    value = truth.get("stations") if isinstance(truth, dict) else getattr(truth, "stations", None)
    if not isinstance(value, pd.DataFrame):
        raise EvaluationError("the truth has no stations table")
    missing = [c for c in TRUTH_COLUMNS if c not in value.columns]
    if missing:
        raise EvaluationError(f"the truth's stations table lacks column(s) {', '.join(missing)}")
    out = value[list(TRUTH_COLUMNS)].copy()
    out["station_id"] = out["station_id"].astype(str)
    return out


def _ratio(a: float | None, b: float) -> float | None:
    return None if a is None or b == 0 else float(a / b)


@METRICS.registering("forensics", order=60)
def forensics_block(paths: CasePaths, truth: Any) -> dict[str, Any]:
    """Inflated ballots estimated vs true (and the 95 % interval's coverage), Shpilkin vs the
    votes added, the anomaly score's AUC for stations with fraud against clean ones, and the
    shares of clean and fraudulent stations flagged (score ≥ 3)."""
    json_path, csv_path = paths.out_dir / "forensics.json", paths.out_dir / "station_scores.csv"
    if not (json_path.is_file() and csv_path.is_file()):
        return {"available": False, "reason": "the forensic step has not run (pollwatch analyse)"}
    report = json.loads(json_path.read_text())
    scores = pd.read_csv(csv_path, dtype={"station_id": str})
    t = _truth_stations(truth).merge(scores, on="station_id", how="inner")
    inflation = t["inflation"].to_numpy(float)
    stuffed = t["stuffed_ballots"].to_numpy(float)
    carousel = t["carousel_ballots"].to_numpy(float)
    added = inflation + stuffed + carousel
    fraud = added > 0
    flagged = t["anomaly_score"].to_numpy(float) >= MIN_SCORE
    true_inflated = float((inflation + stuffed).sum())
    out: dict[str, Any] = {
        "available": True,
        "stations": len(t),
        "stations_with_fraud": int(fraud.sum()),
        "inflated_ballots": {
            "true": true_inflated,
            "true_protocol_only": float(inflation.sum()),
            "true_stuffed": float(stuffed.sum()),
            "estimated": None,
            "ci": None,
            "covered": None,
            "note": "no camera observations",
        },
    }
    if e := report.get("extrapolation"):
        lo, hi = e["ci"]
        out["inflated_ballots"].update(
            estimated=e["inflated_ballots"],
            ci=[lo, hi],
            covered=bool(lo <= true_inflated <= hi),
            relative_error=_ratio(e["inflated_ballots"] - true_inflated, true_inflated),
            measured_stations=e["measured_stations"],
            note="",
        )
    sh = report.get("shpilkin") or {}
    out["shpilkin"] = {
        "true_added_votes": float(added.sum()),
        "estimated": sh.get("anomalous_votes"),
        "method": sh.get("method"),
        "national": sh.get("national_votes"),
        "ratio": _ratio(sh.get("anomalous_votes"), float(added.sum())),
        "national_ratio": _ratio(sh.get("national_votes"), float(added.sum())),
    }
    out["anomaly_score"] = {
        "auc_fraud_vs_clean": rank_auc(t["anomaly_score"].to_numpy(float), fraud),
        "threshold": MIN_SCORE,
        "flagged": int(flagged.sum()),
        "clean_flagged_share": float(flagged[~fraud].mean()) if (~fraud).any() else None,
        "fraud_flagged_share": float(flagged[fraud].mean()) if fraud.any() else None,
        "precision": float(fraud[flagged].mean()) if flagged.any() else None,
    }
    return out
