"""The counter's measured error rates, used for count bounds and inflation tests.

Measured with `benchmarks/counting_calibration.py` on the simulated calibration cases `demo`
seed 1 and `demo-clean` seed 1 (not the seeds the targets are scored on): 165 true ballots on
observable time, 1 missed and 3 false (drops paired within 5 s), i.e. 0.6% and 1.8% per
ballot. The rates below are the one-sided 95% upper bounds of those (Clopper–Pearson), so
bounds and tests stay conservative. Re-measure after changing the counter (docs/counting.md,
which also gives the rates over every tuning case and what they would change).
"""

from __future__ import annotations

from pollwatch.counting.stats import CounterErrors

__all__ = ["COUNTER_ERRORS"]

COUNTER_ERRORS = CounterErrors(
    miss_rate=0.028,
    false_rate=0.046,
    source="benchmarks/counting_calibration.py on demo seed 1 and demo-clean seed 1",
)
