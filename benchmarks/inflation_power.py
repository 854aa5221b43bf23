"""How often a station's turnout-inflation tests flag it, inflated or clean, under the
counter's error model; prints JSON.

Simulates stations as the `demo` preset makes them (the simulator's own rules, read from
`pollwatch.simulate`): N true ballots on camera (uniform over `--voters`, the range seen on
the tuning cameras), spread over the checkpoint intervals by the day's shape
(`interval_shares`, Dirichlet noise of concentration 150 as `simulate_election` draws it);
an inflated station's protocol adds round(u·N) votes, u uniform over the preset's
`inflation_size`, spread over the intervals multinomially by its `inflation_weights`. The
counter sees each ballot with probability 1 − m and adds Poisson(f·N) false drops; the tests
take the calibrated rates' side least favourable to a finding (`COUNTER_ERRORS.fewest()`), as
`pollwatch.counting.turnout` does, every interval observable. Compares, per station:

- `now`: what the counter reports: a finding for each interval with p < `turnout.ALPHA`, and
  one for the whole day (the sum) with p < `turnout.DAY_ALPHA`;
- `all_at_0.01`: the same with 0.01 for both (session 4);
- `day_at_0.03`: the day test alone;
- `suffix_bonferroni`: the sums from checkpoint k to the close (k = 1..5: the inflation is
  weighted to the day's end) at 0.03/5 each;
- `intervals_bonferroni`: the intervals alone at 0.02/5 each;
- `fisher`: Fisher's combination of the five interval p-values at 0.02;
- `prior_A_D`, `mid_A_D`, `prior_mid_A_D`: intervals at A or the day at D with other
  p-values: `prior` takes the rates' calibration uncertainty as a Beta posterior (Jeffreys
  prior; `_QUADRATURE` quantiles of each rate) and averages P(C ≤ c | N = official) over it
  instead of taking the least favourable bound; `mid` is the mid-p value
  P(C < c) + P(C = c)/2 (the discrete test's conservatism halved). Levels chosen so that
  clean stations stay near 2% at the bounds (session 9).

For each: `power` (inflated stations flagged), and the false-alarm rate of clean stations
with the counter's true rates at the calibration's upper miss / lower false bound
(`false_alarm_at_bounds`: the least favourable case the tests allow) and at its point
estimates (`false_alarm_at_estimates`).

`power_by_size` splits the power of `now` by the share u of the station's turnout added.

    PYTHONPATH=src python benchmarks/inflation_power.py [--stations 3000] [--seed 1]
        [--counts BALLOTS MISSED FALSE]  (another calibration's counts: what-if)
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy import stats

from pollwatch.counting.calibration import CLEAR_COUNTS, Calibration, _measured
from pollwatch.counting.stats import CounterErrors, count_cdf
from pollwatch.counting.turnout import ALPHA, DAY_ALPHA
from pollwatch.simulate.clock import interval_shares
from pollwatch.simulate.presets import get_preset

_CONCENTRATION = 150.0  # simulate/election.py's _CURVE_CONCENTRATION
_QUADRATURE = 16  # quantiles of the rates' Beta posterior averaged over by `prior`
#: (name, p-value kind, interval level, day level) of the variants beside `now`
_VARIANTS = (
    ("prior_0.003_0.015", "prior", 0.003, 0.015),
    ("mid_0.003_0.015", "mid", 0.003, 0.015),
    ("prior_mid_0.002_0.01", "prior_mid", 0.002, 0.01),
)
#: bands [lo, hi) of the share of a station's turnout added, for `power_by_size` (the demo
#: preset adds 10-60%)
_SIZES = ((0.1, 0.2), (0.2, 0.3), (0.3, 0.6))


def _p(counted: int, official: int, opts: argparse.Namespace) -> float:
    return count_cdf(counted, official, opts.fewest) if counted < official else 1.0


def _posterior(c: Calibration) -> list[CounterErrors]:
    """Rates at `_QUADRATURE` quantiles of their Jeffreys posteriors, the miss rate's rising
    with the false rate's falling (the pairing least favourable to a finding)."""
    q = (np.arange(_QUADRATURE) + 0.5) / _QUADRATURE
    miss = stats.beta.ppf(q, c.missed + 0.5, c.ballots - c.missed + 0.5)
    false = stats.beta.ppf(q[::-1], c.false + 0.5, c.ballots - c.false + 0.5)
    return [CounterErrors(float(m), float(f)) for m, f in zip(miss, false, strict=True)]


def _p_kind(counted: int, official: int, kind: str, opts: argparse.Namespace) -> float:
    """The p-value of `kind` ("prior", "mid", "prior_mid") for `counted` of `official`."""
    if counted >= official:
        return 1.0
    rates = opts.posterior if kind.startswith("prior") else [opts.fewest]

    def cdf(c: int) -> float:
        return float(np.mean([count_cdf(c, official, r) for r in rates])) if c >= 0 else 0.0

    if kind.endswith("mid"):
        return 0.5 * (cdf(counted) + cdf(counted - 1))
    return cdf(counted)


def _station(
    rng: np.random.Generator, inflated: bool, miss: float, false: float, opts: argparse.Namespace
) -> dict[str, bool]:
    preset = get_preset("demo")
    shares = interval_shares(preset.checkpoint_hours, preset.polls_hours)
    weights = np.asarray(preset.fraud.inflation_weights, float)
    n = int(rng.integers(opts.voters[0], opts.voters[1] + 1))
    legit = rng.multinomial(n, rng.dirichlet(_CONCENTRATION * shares))
    drawn = rng.uniform(*preset.fraud.inflation_size) if inflated else 0.0
    added = round(drawn * n)
    official = legit + rng.multinomial(added, weights / weights.sum())
    seen = rng.binomial(legit, 1 - miss) + rng.poisson(false * legit)
    pairs = [(int(c), int(o)) for c, o in zip(seen, official, strict=True)]
    p = np.array([_p(c, o, opts) for c, o in pairs])
    day = _p(int(seen.sum()), int(official.sum()), opts)
    suffix = min(_p(int(seen[k:].sum()), int(official[k:].sum()), opts) for k in range(len(seen)))
    fisher = stats.chi2.sf(-2 * np.log(np.clip(p, 1e-300, 1)).sum(), 2 * len(p))
    k = len(p)
    out = {
        "now": bool(p.min() < ALPHA or day < DAY_ALPHA),
        "all_at_0.01": bool(p.min() < 0.01 or day < 0.01),
        "day_at_0.03": day < 0.03,
        "suffix_bonferroni": suffix < 0.03 / k,
        "intervals_bonferroni": bool(p.min() < 0.02 / k),
        "fisher": bool(fisher < 0.02),
    }
    for name, kind, a_interval, a_day in _VARIANTS:
        day_p = _p_kind(int(seen.sum()), int(official.sum()), kind, opts)
        out[name] = day_p < a_day or any(_p_kind(c, o, kind, opts) < a_interval for c, o in pairs)
    # banded by the share drawn, inside the preset's range: `added / n` is rounded and can
    # fall just outside every band of `_SIZES` (review 9)
    out["share_added"] = drawn
    return out


def _rates(
    rng: np.random.Generator, inflated: bool, miss: float, false: float, opts: argparse.Namespace
) -> dict[str, float]:
    runs = [_station(rng, inflated, miss, false, opts) for _ in range(opts.stations)]
    out = {
        name: round(float(np.mean([r[name] for r in runs])), 4)
        for name in runs[0]
        if name != "share_added"
    }
    if inflated:
        for lo, hi in _SIZES:
            band = [r["now"] for r in runs if lo <= r["share_added"] < hi]
            out[f"now_u_{lo}_{hi}"] = round(float(np.mean(band)), 4) if band else float("nan")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=3000)
    parser.add_argument("--voters", type=int, nargs=2, default=(10, 37))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--counts",
        type=int,
        nargs=3,
        metavar=("BALLOTS", "MISSED", "FALSE"),
        help="a calibration's counts to take instead of calibration.CLEAR_COUNTS",
    )
    opts = parser.parse_args()
    rng = np.random.default_rng(opts.seed)
    c = Calibration(*opts.counts) if opts.counts else CLEAR_COUNTS
    if c.ballots <= 0 or min(c.missed, c.false) < 0 or max(c.missed, c.false) > c.ballots:
        parser.error(f"--counts: need 0 <= MISSED, FALSE <= BALLOTS, BALLOTS > 0; got {c}")
    e = _measured(c, "clear time")
    opts.fewest = e.fewest()
    opts.posterior = _posterior(c)
    estimate = (c.missed / c.ballots, c.false / c.ballots)
    power = _rates(rng, True, *estimate, opts)
    at_bounds = _rates(rng, False, e.miss_rate, e.false_rate_low, opts)
    at_estimates = _rates(rng, False, *estimate, opts)
    print(
        json.dumps(
            {
                "stations": opts.stations,
                "alpha_interval": ALPHA,
                "alpha_day": DAY_ALPHA,
                "voters_on_camera": list(opts.voters),
                "rates": {
                    "counts": list(c),
                    "miss_estimate": round(estimate[0], 4),
                    "false_estimate": round(estimate[1], 4),
                    "miss_upper": round(e.miss_rate, 4),
                    "false_lower": round(e.false_rate_low, 4),
                },
                "tests": {
                    name: {
                        "power": power[name],
                        "false_alarm_at_bounds": at_bounds[name],
                        "false_alarm_at_estimates": at_estimates[name],
                    }
                    for name in at_bounds
                },
                "power_by_size": {
                    f"u in [{lo}, {hi})": power[f"now_u_{lo}_{hi}"] for lo, hi in _SIZES
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
