"""The forensics metric block on a fake truth and hand-written forensic outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pollwatch.case import CasePaths
from pollwatch.evaluate import EvaluationError, get_metric_by_name
from pollwatch.evaluate.forensics_metrics import rank_auc
from pollwatch.forensics import STATION_SCORE_COLUMNS


@pytest.mark.parametrize(
    ("scores", "positive", "expected"),
    [
        ([1, 2, 3, 4], [0, 0, 1, 1], 1.0),
        ([4, 3, 2, 1], [0, 0, 1, 1], 0.0),
        ([1, 1, 1, 1], [0, 0, 1, 1], 0.5),
        ([1, 3, 2, 4], [0, 0, 1, 1], 0.75),
        ([np.nan, 2, 1, 3], [0, 0, 1, 1], 0.75),  # unscored counts as lowest
        ([1, 2], [1, 1], None),
    ],
)
def test_rank_auc(scores: list[float], positive: list[int], expected: float | None) -> None:
    assert rank_auc(np.array(scores, float), np.array(positive, bool)) == expected


def _fake_case(tmp_path, extrapolation: dict | None) -> tuple[CasePaths, dict]:
    paths = CasePaths.of(tmp_path / "case")
    truth = {
        "stations": pd.DataFrame(
            {
                "station_id": ["A", "B", "C", "D"],
                "inflation": [100, 0, 0, 0],
                "stuffed_ballots": [0, 20, 0, 0],
                "carousel_ballots": [0, 0, 5, 0],
            }
        )
    }
    scores = pd.DataFrame(
        {
            "station_id": ["A", "B", "C", "D"],
            "anomaly_score": [5.0, 2.0, 1.0, 3.5],
            "shpilkin_anomalous_votes": 0.0,
            "est_inflated": np.nan,
            "est_inflated_lower": np.nan,
            "est_inflated_upper": np.nan,
            "observed_by_camera": False,
        }
    )[list(STATION_SCORE_COLUMNS)]
    scores.to_csv(paths.out("station_scores.csv"), index=False)
    report = {
        "shpilkin": {
            "anomalous_votes": 125.0,
            "method": "regions_with_evidence",
            "national_votes": 150.0,
        },
        "extrapolation": extrapolation,
    }
    paths.out("forensics.json").write_text(json.dumps(report))
    return paths, truth


@pytest.mark.parametrize(
    ("extrapolation", "estimated", "covered"),
    [
        (None, None, None),
        ({"inflated_ballots": 110.0, "ci": [90.0, 130.0], "measured_stations": 2}, 110.0, True),
        ({"inflated_ballots": 200.0, "ci": [150.0, 250.0], "measured_stations": 2}, 200.0, False),
    ],
)
def test_forensics_block(tmp_path, extrapolation, estimated, covered) -> None:
    paths, truth = _fake_case(tmp_path, extrapolation)
    block = get_metric_by_name("forensics")(paths, truth)
    infl = block["inflated_ballots"]
    assert infl["true"] == 120.0  # inflation + stuffed: what the cameras cannot see cast
    assert infl["estimated"] == estimated and infl["covered"] == covered
    assert block["shpilkin"]["true_added_votes"] == 125.0
    assert block["shpilkin"]["ratio"] == pytest.approx(1.0)
    assert block["shpilkin"]["method"] == "regions_with_evidence"
    assert block["shpilkin"]["national_ratio"] == pytest.approx(1.2)
    sc = block["anomaly_score"]
    assert sc["auc_fraud_vs_clean"] == pytest.approx(1 / 3)  # D (clean) outranks B and C
    assert sc["flagged"] == 2 and sc["clean_flagged_share"] == 1.0
    assert sc["fraud_flagged_share"] == pytest.approx(1 / 3) and sc["precision"] == 0.5


def test_block_before_the_step(tmp_path) -> None:
    paths, truth = _fake_case(tmp_path, None)
    paths.out("forensics.json").unlink()
    assert get_metric_by_name("forensics")(paths, truth)["available"] is False


def test_truth_without_fraud_columns_is_refused(tmp_path) -> None:
    paths, truth = _fake_case(tmp_path, None)
    truth["stations"] = truth["stations"].drop(columns="inflation")
    with pytest.raises(EvaluationError, match="inflation"):
        get_metric_by_name("forensics")(paths, truth)
