"""Scoring a simulated case's outputs against its ground truth (the only reader of truth/).

Evaluation never feeds anything back into analysis: it reads the store and truth/, and writes
only out/evaluation.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pollwatch.case import CasePaths
from pollwatch.evaluate.registry import METRICS, Metric, get_metric_by_name
from pollwatch.evaluate.truthview import CaseTruth, EvaluationError, case_truth, load_truth

__all__ = [
    "METRICS",
    "CaseTruth",
    "EvaluationError",
    "Metric",
    "case_truth",
    "evaluate_case",
    "get_metric_by_name",
    "load_truth",
]


def evaluate_case(
    case: str | Path, *, metrics: Mapping[str, Metric] | None = None, truth: Any = None
) -> dict[str, Any]:
    """Every metric block (the registered ones by default) of the case, by name; also written
    to out/evaluation.json. `truth` defaults to the simulator's truth of the case."""
    paths = CasePaths.of(case)
    if truth is None:
        truth = load_truth(paths)
    chosen = dict(METRICS.items()) if metrics is None else metrics
    result: dict[str, Any] = {}
    for name, metric in chosen.items():
        try:
            result[name] = metric(paths, truth)
        except EvaluationError as err:  # one block's missing truth must not hide the others
            result[name] = {"error": str(err)}
    paths.out("evaluation.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    return result
