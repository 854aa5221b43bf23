"""The counter's measured error rates, used for count bounds and inflation tests.

Measured with `benchmarks/counting_calibration.py` on the simulated cases the counter was
developed on (`demo` seeds 0, 1, 21–27, 71–73, 76–78 and 83, `demo-clean` seeds 1, 74, 75,
79 and 80; never the seeds its targets are scored on), drops paired with the truth's within
5 s, split by whether the counter called the time rough (`unobservable.rough_ranges`: the box
out of focus; a view whose ballot slot was never seen, or seen only out of focus); ballots in
time called not observable (the counter's own ranges and the camera audit's) are left out (the
tests never take that time as watched):

* clear time: 1542 true ballots, 47 missed (3.0%) and 14 false (0.9%);
* rough time: 58 true ballots, 8 missed (14%) and 13 false (22%).

Session 7 re-measured both with the box located anew on demo 26's, 71's and 77's cameras
whose first-minutes picture had mixed two views or whose defocused box had lost its lid
(clear was 1540/46/14, rough 58/14/11). Session 8: demo 71's cam-D008-006 (out of focus all
day) now watches its blurred slot's hands (rough was 58/12/11).

Each rate is given by its one-sided 95% Clopper–Pearson bounds on both sides; the tests take
the side least favourable to a finding (`CounterErrors.fewest`). Re-measure after changing
the counter (docs/counting.md).
"""

from __future__ import annotations

from typing import NamedTuple

from pollwatch.counting.stats import CounterErrors, rate_lower, rate_upper

__all__ = ["CLEAR_COUNTS", "COUNTER_ERRORS", "ROUGH_COUNTS", "ROUGH_ERRORS", "Calibration"]

_SOURCE = (
    "benchmarks/counting_calibration.py on demo seeds 0, 1, 21-27, 71-73, 76-78, 83 and"
    " demo-clean seeds 1, 74, 75, 79, 80"
)


class Calibration(NamedTuple):
    """What the calibration counted: true ballots, of them missed, and false ones."""

    ballots: int
    missed: int
    false: int


CLEAR_COUNTS = Calibration(1542, 47, 14)
ROUGH_COUNTS = Calibration(58, 8, 13)


def _measured(counts: Calibration, what: str) -> CounterErrors:
    """The one-sided 95% bounds of both rates from the calibration's counts."""
    ballots, missed, false = counts
    return CounterErrors(
        miss_rate=rate_upper(missed, ballots),
        false_rate=rate_upper(false, ballots),
        source=f"{_SOURCE} ({what}: {ballots} ballots, {missed} missed, {false} false)",
        miss_rate_low=rate_lower(missed, ballots),
        false_rate_low=rate_lower(false, ballots),
    )


COUNTER_ERRORS = _measured(CLEAR_COUNTS, "clear time")
ROUGH_ERRORS = _measured(ROUGH_COUNTS, "rough time: out of focus, no slot seen")
