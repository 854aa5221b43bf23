"""The counter's error rates from analysed simulated cases; prints JSON.

For each case folder given (simulated and `pollwatch analyse`d), sets every camera's drops
(from the store) against the truth's drops on the time the box could truly be watched (the
conditions that hide it taken out, as in the "counting" metric block), pairing drops at most
`--within` seconds apart (default 5 s: a drop's time matters for counts only at an interval's
edge, where the tests already take the neighbours' drops into account), and counts ballots:

- missed: true ballots not paired (plus ballots voters took away: official figures count them
  and no camera sees them; a station's taken ballots are over its whole day, so each station
  adds them in the share of its day's ballots that went in during the clear time scored: a
  case rendered as clips, `--clip-s`, sees a few of a station's hundreds);
- false: detected ballots not paired.

Ballots are split by when they went in: in time the counter called not observable (its own
`unobservable` table and its sources', the camera audit's: `camera_observability`, while the
truth says the box could be watched: a nudge the views had not yet followed, the lights just
back), in time it called rough (its `rough` table: the
box out of focus, no ballot slot seen), or clear. The first are reported apart (`blind`) and
left out of the rates: the tests never take such time as watched — an interval with more than
2% of it is not tested, and the up to 2% of a tested one go into the miss rate by
`CounterErrors.thinned` — so counting its ballots as misses too would count them twice (until
session 6 they were in the clear rates). Prints, per class, the per-ballot rates and their
one-sided 95% bounds on both sides (Clopper–Pearson), which
`pollwatch.counting.calibration.COUNTER_ERRORS` (clear time) and `ROUGH_ERRORS` take.

With `--replay`, each camera's drops, unobservable and rough time are decided anew from the
stored watcher series by this code's decision logic (`pollwatch.counting.step.replay_camera`,
as `analyse` would with the same measures) instead of read as stored: the way to recalibrate
after a change to the drop logic without decoding the videos again (a change to the watcher's
measures needs `analyse` first). `clear_counts` is the clear time's line for
`pollwatch.counting.calibration.CLEAR_COUNTS` (missed including taken ballots).

    PYTHONPATH=src python benchmarks/counting_calibration.py CASE [CASE ...] [--within 5]
        [--replay]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from pollwatch.case import CasePaths
from pollwatch.counting.stats import rate_lower, rate_upper
from pollwatch.counting.step import camera_observability, replay_camera
from pollwatch.evaluate import load_truth
from pollwatch.evaluate.counting_metrics import _hidden, _outside, match_drops
from pollwatch.store import NotFoundError, Store


def _in(t: np.ndarray, ranges: list[tuple[float, float]]) -> np.ndarray:
    return ~_outside(t, ranges) if ranges else np.zeros(len(t), bool)


def _spans(store: Store, table: str, camera_id: str) -> list[tuple[float, float]]:
    """(start_s, end_s) of the counter's `table` of time ranges for a camera (none stored:
    empty)."""
    try:
        frame = store.read_table("counting", table, camera_id=camera_id)
    except NotFoundError:
        return []
    spans = zip(frame["start_s"], frame["end_s"], strict=True)
    return [(float(a), float(b)) for a, b in spans]


def _case(case: str, within: float, replay: bool = False) -> dict[str, dict[str, float]]:
    paths = CasePaths.of(case)
    truth = load_truth(paths)
    out: dict[str, dict[str, float]] = {
        k: {"true_ballots": 0, "missed": 0, "false": 0} for k in ("clear", "rough", "blind")
    }
    clear_at: dict[str, int] = {}  # true ballots scored in clear time, per station
    with Store.existing(paths.db_path) as store:
        for cam in store.camera_records():
            again = replay_camera(store, cam) if replay else None
            if again is not None:
                found = again.drops
                rough = [(a, b) for a, b, _ in again.rough.unobservable]
                blind = [(a, b) for a, b, _ in again.observability.unobservable]
            else:
                try:
                    found = store.read_table("counting", "drops", camera_id=cam.camera_id)
                except NotFoundError:
                    continue
                rough = _spans(store, "rough", cam.camera_id)
                blind = [(a, b) for a, b, _ in camera_observability(store, cam).unobservable]
            true = truth.drops[truth.drops["camera_id"] == cam.camera_id]
            hidden = _hidden(truth.conditions, cam.camera_id)
            tt, tb = true["t_video_s"].to_numpy(float), true["ballots"].to_numpy(int)
            ft, fb = found["t_s"].to_numpy(float), found["ballots"].to_numpy(int)
            keep_t, keep_f = _outside(tt, hidden), _outside(ft, hidden)
            tt, tb, ft, fb = tt[keep_t], tb[keep_t], ft[keep_f], fb[keep_f]
            pairs = match_drops(tt, ft, within)
            hit_t = np.array([min(tb[i], fb[j]) if j >= 0 else 0 for i, j in enumerate(pairs)])
            hit_f = np.zeros(len(ft), int)
            for i, j in enumerate(pairs):
                if j >= 0:
                    hit_f[j] += hit_t[i]
            t_blind, f_blind = _in(tt, blind), _in(ft, blind)
            t_rough, f_rough = _in(tt, rough) & ~t_blind, _in(ft, rough) & ~f_blind
            for name, tsel, fsel in (
                ("clear", ~t_rough & ~t_blind, ~f_rough & ~f_blind),
                ("rough", t_rough, f_rough),
                ("blind", t_blind, f_blind),
            ):
                out[name]["true_ballots"] += int(tb[tsel].sum())
                out[name]["missed"] += int((tb - hit_t)[tsel].sum())
                out[name]["false"] += int((fb - hit_f)[fsel].sum())
            clear = int(tb[~t_rough & ~t_blind].sum())
            clear_at[cam.station_id] = clear_at.get(cam.station_id, 0) + clear
    out["clear"]["taken"] = round(_taken(truth.stations, clear_at), 2)
    return out


def _taken(stations: pd.DataFrame, clear_at: dict[str, int]) -> float:
    """Ballots voters took away at the rendered stations, each station's in the share of its
    day's ballots (`true_cast`) scored in clear time (`clear_at`)."""
    total = 0.0
    for row in stations[stations["rendered"].astype(bool)].itertuples(index=False):
        cast = float(row.true_cast)
        share = min(1.0, clear_at.get(row.station_id, 0) / cast) if cast > 0 else 1.0
        total += float(row.true_taken) * share
    return total


def _rates(per_case: dict[str, dict[str, dict[str, float]]], name: str) -> dict[str, object]:
    parts = [c[name] for c in per_case.values()]
    n = sum(p["true_ballots"] for p in parts)
    taken = round(sum(p.get("taken", 0) for p in parts))
    missed = sum(p["missed"] for p in parts) + taken
    false = sum(p["false"] for p in parts)
    return {
        "true_ballots": n,
        "missed_or_taken": missed,
        "false": false,
        "miss_rate": missed / (n + taken) if n + taken else None,
        "false_rate": false / n if n else None,
        "miss_rate_upper95": rate_upper(missed, n + taken) if n + taken else None,
        "miss_rate_lower95": rate_lower(missed, n + taken) if n + taken else None,
        "false_rate_upper95": rate_upper(min(false, n), n) if n else None,
        "false_rate_lower95": rate_lower(min(false, n), n) if n else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cases", nargs="+")
    parser.add_argument("--within", type=float, default=5.0)
    parser.add_argument(
        "--replay", action="store_true", help="decide the drops anew from the stored series"
    )
    opts = parser.parse_args()
    per_case = {Path(c).name: _case(c, opts.within, opts.replay) for c in opts.cases}
    clear = _rates(per_case, "clear")
    print(
        json.dumps(
            {
                "within_s": opts.within,
                "replay": opts.replay,
                "clear_counts": (
                    f"Calibration({clear['true_ballots']}, {clear['missed_or_taken']},"
                    f" {clear['false']})"
                ),
                "cases": per_case,
                "clear": clear,
                "rough": _rates(per_case, "rough"),
                "blind": _rates(per_case, "blind"),
            },
            indent=2,
            default=lambda x: int(x) if isinstance(x, np.integer) else str(x),
        )
    )


if __name__ == "__main__":
    main()
