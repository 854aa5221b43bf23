"""What a carousel finding tells an observer: a confidence and a p-value measured to hold.

The detector's match probability (calibrate.py, with the group's Bayes factor) decides what is
reported, but it is not an honest probability: its null is a generalised Pareto tail fitted on
a case's few thousand candidate pairs, and look-alikes (same shirt, hair and skin colours) make
the true tail of two different people heavier than the fit (about 17 times at cosine 0.5 on
the tuning cases). Measured on the fifteen tuning cases' linked persons against the
evaluation's labels, persons at match probability 0.9-0.99 were one person 3 times in 21, and
at 0.99 and above 22 times in 27 (docs/carousel.md, session 7b; on session 8's 22 tuning cases
and demo 1's new picture 5 in 29 and 27 in 35). So a finding reports:

* **confidence**: the match probability recalibrated (Platt scaling, Platt 1999) by
  P(one person) = 1 / (1 + exp(−(a + b·logit(q) + c·[co-travellers]))), q the match
  probability clipped to [1e-6, 1 − 1e-6]: fitted by L2-penalised (λ = 1 on b and c) logistic
  regression on the 99 labelled linked persons of the 22 tuning cases of session 8 (demo 1,
  41, 42, 71-73, 76-78, 87, 88, 93, 94; demo-clean 41, 43, 74, 75, 79, 80, 89, 95;
  azerbaijan-2024 70) and demo 1 rendered again with two places at the box, with the final
  detector (the null's tail shape floored), checked leave-one-case-out. A person met at two
  stations by co-travellers is far likelier one person (30 of 35) than a lone one (3 of 64).
* **p-value**: the chance that two different people reach the person's best similarity,
  from a null tail whose shape is fitted freely within [0, 0.5] (not the detector's 0.25
  cap), times `PVALUE_INFLATION` (the least factor that keeps P(p ≤ α) ≤ α at α = 10⁻⁴,
  10⁻³, 10⁻² on the tuning cases' pairs of two different people), times the number of
  candidate pairs of its stratum (Bonferroni), at most 1.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from pollwatch.carousel.calibrate import SimilarityCalibration, fisher_z

__all__ = [
    "PVALUE_INFLATION",
    "RECALIBRATION",
    "REPORT_NULL_MAX_SHAPE",
    "null_pvalue",
    "reported_confidence",
]

#: (a, b, c) of the Platt recalibration (module doc), fitted on the tuning cases
RECALIBRATION = (-5.32, 0.803, 2.442)
#: the null tail's shape cap behind a finding's p-value (the detector's may be lower)
REPORT_NULL_MAX_SHAPE = 0.5
#: the fitted null's tail times this is a valid p-value on the tuning cases (module doc)
PVALUE_INFLATION = 2.35


def reported_confidence(
    match_probability: np.ndarray | float, co_travellers: np.ndarray | int
) -> np.ndarray:
    """The share of persons found right on the tuning cases at this match probability, with
    (`co_travellers` > 0) or without co-travellers (module doc), elementwise."""
    q = np.asarray(match_probability, np.float64)
    if np.any((q < 0) | (q > 1)) or np.any(np.isnan(q)):
        raise ValueError(f"match_probability must be in [0, 1], got {match_probability!r}")
    q = np.clip(q, 1e-6, 1 - 1e-6)
    a, b, c = RECALIBRATION
    met = (np.asarray(co_travellers) > 0).astype(np.float64)
    return 1.0 / (1.0 + np.exp(-(a + b * np.log(q / (1 - q)) + c * met)))


def null_pvalue(
    calibration: SimilarityCalibration | None,
    similarity: float,
    tests: int,
    inflation: float = PVALUE_INFLATION,
) -> float:
    """P(a pair of two different people reaches `similarity`) under the fitted null tail,
    times `inflation` and `tests` (Bonferroni), at most 1."""
    if not inflation >= 1:
        raise ValueError(f"inflation must be >= 1, got {inflation!r}")
    if calibration is None:
        return 1.0
    z = float(fisher_z(similarity))
    u = calibration.threshold
    if z <= u:
        return 1.0
    tail = stats.genpareto.sf(z - u, calibration.tail_shape, 0.0, calibration.tail_scale)
    return float(min(1.0, inflation * calibration.tail_mass * tail * max(tests, 1)))
