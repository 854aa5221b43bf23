"""Counting the voters a camera sees casting ballots, and testing the official turnout.

watcher.py measures the ballot box several times a second in the shared video pass; drops.py
turns those series into ballot drops (cues.py reads the cues, hands.py judges the hands over
the slot, drop_options.py holds the thresholds); unobservable.py finds when the box could not
be watched; boxzone.py finds the box;
observability.py says when the box could be watched; stats.py holds the counter's error model
and the tests; turnout.py sets counts against the official checkpoints; step.py plugs it all
into the pipeline, section.py into the report.
"""

from pollwatch.counting.boxzone import BoxZone, resolve_box_zone
from pollwatch.counting.drop_options import DropFinderOptions
from pollwatch.counting.drops import find_drops
from pollwatch.counting.observability import Observability, ranges_from_wall
from pollwatch.counting.stats import (
    CountBounds,
    CounterErrors,
    InflationTest,
    count_bounds,
    inflation_test,
)
from pollwatch.counting.unobservable import unobservable_ranges
from pollwatch.counting.watcher import BoxRegions, BoxWatcher, WatchResult

__all__ = [
    "BoxRegions",
    "BoxWatcher",
    "BoxZone",
    "CountBounds",
    "CounterErrors",
    "DropFinderOptions",
    "InflationTest",
    "Observability",
    "WatchResult",
    "count_bounds",
    "find_drops",
    "inflation_test",
    "ranges_from_wall",
    "resolve_box_zone",
    "unobservable_ranges",
]
