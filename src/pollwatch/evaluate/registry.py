"""The metric registry: each block is `metric(case_paths, truth) -> dict` (JSON-able) and is
reported under its name. Later parts register theirs from a module listed in `modules`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pollwatch.case import CasePaths
from pollwatch.registry import Registry

__all__ = ["METRICS", "Metric", "get_metric_by_name"]

Metric = Callable[[CasePaths, Any], dict[str, Any]]

METRICS: Registry[Metric] = Registry(
    "metric block",
    modules=(
        "pollwatch.evaluate.case_metrics",
        "pollwatch.evaluate.counting_metrics",
        "pollwatch.evaluate.audit_metrics",
        "pollwatch.evaluate.forensics_metrics",
        "pollwatch.evaluate.stuffing_metrics",
        "pollwatch.evaluate.carousel_metrics",
    ),
)


def get_metric_by_name(name: str) -> Metric:
    """The metric block registered as `name`."""
    return METRICS.get(name)
