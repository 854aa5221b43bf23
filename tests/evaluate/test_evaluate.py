"""Evaluation: the truth adapter, the "case" block, and that it writes only evaluation.json."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from pollwatch.case import CasePaths
from pollwatch.evaluate import METRICS, EvaluationError, case_truth, evaluate_case
from pollwatch.ingest import ingest_case


def fake_truth(**override: object) -> SimpleNamespace:
    parts = {
        "stations": pd.DataFrame({"station_id": ["S1", "S2", "S3", "S4", "S5"]}),
        "cameras": pd.DataFrame({"camera_id": ["C1", "C2"]}),
        "fraud": pd.DataFrame(
            {
                # one row per fraud event, as the simulator writes them
                "station_id": ["S1", "S1", "S3", "S3", "S4", "S2"],
                "kind": ["stuffing", "carousel", "inflation", "inflation", "inflation", "carousel"],
                "ballots": [12, 4, 50, 30, 0, 5],
            }
        ),
    }
    return SimpleNamespace(**{**parts, **override})


def test_case_block(small_case: CasePaths) -> None:
    ingest_case(small_case.root)
    metrics = evaluate_case(small_case.root, truth=fake_truth())
    assert metrics["case"] == {
        "stations": {"store": 4, "truth": 5, "missing": 1, "unexpected": 0},
        "cameras": {"store": 2, "truth": 2, "missing": 0, "unexpected": 0},
        "fraud": {
            "stations": 3,  # S4's inflation added nothing
            "votes_added": 101,
            "by_kind": {
                "carousel": {"stations": 2, "votes_added": 9},
                "inflation": {"stations": 1, "votes_added": 80},
                "stuffing": {"stations": 1, "votes_added": 12},
            },
        },
    }


def test_adapter_accepts_a_mapping() -> None:
    truth = vars(fake_truth())
    assert case_truth(truth).camera_ids == ("C1", "C2")


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"cameras": None}, "the truth has no cameras table"),
        (
            {"fraud": pd.DataFrame({"station_id": []})},
            "fraud table lacks column\\(s\\) kind, ballots",
        ),
        (
            {"stations": pd.DataFrame({"id": ["S1"]})},
            "stations table lacks column\\(s\\) station_id",
        ),
    ],
)
def test_adapter_rejects_unexpected_truth(override: dict, match: str) -> None:
    with pytest.raises(EvaluationError, match=match):
        case_truth(fake_truth(**override))


def test_evaluation_writes_only_its_json(small_case: CasePaths) -> None:
    ingest_case(small_case.root)
    with sqlite3.connect(small_case.db_path) as conn:
        before = list(conn.iterdump())
    files_before = {p.name for p in small_case.out_dir.iterdir()}
    metrics = evaluate_case(small_case.root, truth=fake_truth())
    with sqlite3.connect(small_case.db_path) as conn:
        assert list(conn.iterdump()) == before
    assert {p.name for p in small_case.out_dir.iterdir()} - files_before == {"evaluation.json"}
    assert json.loads(small_case.out("evaluation.json").read_text()) == metrics


def test_metric_blocks_are_pluggable(small_case: CasePaths) -> None:
    seen = []

    def block(paths: CasePaths, truth: object) -> dict:
        seen.append(paths.root)
        return {"ok": 1}

    ingest_case(small_case.root)
    metrics = evaluate_case(small_case.root, metrics={"mine": block}, truth=fake_truth())
    assert metrics == {"mine": {"ok": 1}} and seen == [small_case.root]
    assert METRICS.names()[0] == "case"


def test_a_case_without_truth_cannot_be_evaluated(small_case: CasePaths) -> None:
    with pytest.raises(EvaluationError, match="only simulated cases can be evaluated"):
        evaluate_case(small_case.root)


def test_evaluation_needs_an_ingested_case(tmp_path: Path) -> None:
    from pollwatch.store import NotFoundError

    with pytest.raises(NotFoundError):
        evaluate_case(tmp_path, truth=fake_truth())
