"""Ballot-stuffing events of one camera, from what the counter measured and stored.

Three kinds of evidence, each an `Event`:

* `hands` / `bundle` — a drop episode (`episodes.find_episodes`) holding far more ballots than
  legitimate voters bring to the slot in so short a time (`score.episode_test`): a stuffer's
  repeated hand movements, or one hand and a pile rise of many ballots (a bundle);
* `rise` — the pile rose between two episodes by ballots the counter saw no one put in: the
  p-value is the largest of the chances that the counter missed them all (its measured miss
  rate), that voters dropped them unseen while the box was blocked, and that the pile read
  high (`RISE_TAIL`; the episodes' `PILE_TAIL` on time out of focus);
* `hidden` — the box could not be watched (the counter's own blind ranges and the camera
  audit's) while someone was at it. Where the pile, read on either side, rose more than
  legitimate voting explains (`rise_test` with the measured burstiness of voters,
  `HIDDEN_DISPERSION`), or rose beyond it at `alpha` whoever was there, it is a suspicious,
  *not observable* period: reported, never tested (p-value None), low confidence. Where the
  pile could not be read across it, the period is kept as an event that is not flagged (a
  gap in what could be seen, listed in the report, not a finding): on the clean tuning
  cameras such periods carried no cue that told a hidden stuffer from voters.

Legitimate voters' rate λ is the camera's counted ballots per second watched, outside the
event tested (leave-one-out), at least one ballot per `min_rate_s` seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from pollwatch.counting.calibration import COUNTER_ERRORS
from pollwatch.counting.drop_options import DropFinderOptions
from pollwatch.counting.observability import Observability, Range
from pollwatch.counting.stats import count_cdf
from pollwatch.counting.unobservable import rough_ranges
from pollwatch.stuffing.episodes import EpisodeOptions, find_episodes, robust_z
from pollwatch.stuffing.fill import FillCurve, counting_curve, rise_around, rise_held
from pollwatch.stuffing.score import (
    BOX_STEP_RATIO,
    CLUSTERING,
    HANDS_TAIL_DECAY,
    HANDS_TAIL_LOW_RES,
    HIDDEN_DISPERSION,
    PAIR_SHARE,
    PILE_TAIL,
    PILE_TAIL_DECAY,
    RISE_TAIL,
    RISE_TAIL_DECAY,
    RISE_TAIL_FROM,
    EpisodeTest,
    box_step_bounds,
    day_pvalue,
    episode_test,
    extra_ballots,
    hands_tail,
    hidden_dispersion,
    hidden_extra,
    pile_tail,
    rise_test,
)
from pollwatch.stuffing.sides import (
    ONE_SIDE_REASON,
    SIDE_PAIR_TAIL,
    SIDE_RUN_TAIL,
    hand_sides,
    hand_times,
    one_person_pauses,
    pile_refutes,
    seen_times,
    side_pvalue,
    side_run,
)

__all__ = [
    "EVENT_COLUMNS",
    "HANDS_ONLY_REASON",
    "DetectOptions",
    "Event",
    "between_rises",
    "camera_events",
    "events_frame",
    "tested_episodes",
]

EVENT_COLUMNS = [
    "kind",
    "start_s",
    "end_s",
    "ballots",
    "insertions",
    "counted",
    "fill_ballots",
    "dwell_s",
    "dwell_z",
    "insertions_z",
    "extra",
    "extra_lower",
    "extra_upper",
    "expected",
    "p_local",
    "p_value",
    "confidence",
    "observable",
    "flagged",
    "activity",
    "reasons",
]


#: what a flagged episode's reasons say where the pile did not hold the ballots beyond its hand
#: movements and the hand movements alone were flagged (`DetectOptions.held_hands`)
HANDS_ONLY_REASON = "pile rise not held, its hand movements only"


@dataclass(frozen=True)
class DetectOptions:
    """Thresholds of `camera_events` (tuned on demo seed 1 and demo-clean seed 1)."""

    alpha: float = 0.02  # an event is flagged when its p-value is below this ...
    min_ballots: int = 3  # ... and it holds at least this many ballots
    clustering: float = CLUSTERING
    pair_share: float = PAIR_SHARE
    min_rate_s: float = 120.0  # legitimate rate at least one ballot per this many seconds
    rise_min: float = 4.0  # a pile rise of this many ballots no drop explains is looked at
    hidden_min_s: float = 10.0  # blind ranges shorter than this are not reported
    hidden_activity: float = 0.1  # share of a blind range with someone at the box
    # ... and reported only where the pile, read on either side, rose more than legitimate
    # voting explains: `rise_test` p-value (with `hidden_dispersion`) below this (looser than
    # alpha: the period is not a finding of stuffing; with the length-based dispersion
    # 2.4-4.7% of clean watched windows of 15-120 s fell below it, 0.65-4.7% with 3 for all)
    hidden_explained: float = 0.05
    hidden_dispersion: float = HIDDEN_DISPERSION  # legitimate voters' burstiness (score.py)
    # ... taken by the blind range's length (`score.hidden_dispersion`: 1.26 at 15 s up to
    # the constant above at 90 s, never above it) rather than the constant for every length
    hidden_dispersion_by_length: bool = True
    hidden_look_s: float = 60.0  # how far from a blind range the pile's level is looked for
    hidden_confidence: float = 0.2  # the confidence given to a not-observable period
    presence: float = DropFinderOptions().presence
    # the pile's rise counts in the test only beyond this many ballots over what the counter
    # saw (legitimate episodes of nine demo cases: 99th percentile of the excess 1.8)
    fill_margin: float = 2.0
    # what the pile alone can prove: its p-value no smaller than this per episode (PILE_TAIL)
    pile_tail: float = PILE_TAIL
    pile_decay: float = PILE_TAIL_DECAY  # ... and less by this a ballot beyond 5 (score.pile_tail)
    # the counter's drops no hand was seen for (evidence "fill": ballots it read off the pile)
    # are the pile's evidence, tested under its tail, not the count's (demo 202 cam-D002-003:
    # one voter, the pile of a defocused box read 7 up at once, counted as a drop of 7 and
    # flagged at p 3e-5 as a bundle)
    pile_drops: bool = True
    # a rise between episodes: the pile's p-value no smaller than this at one ballot, less by
    # `rise_decay` a ballot beyond (RISE_TAIL: the pile reads steadier with nobody at the box)
    rise_tail: float = RISE_TAIL
    rise_decay: float = RISE_TAIL_DECAY
    # below this frame height (the counter's error rates were measured at 640x360) a count of
    # hand movements the pile does not back proves no more than `hands_tail` (HANDS_TAIL_*)
    calibrated_height: int = 360
    hands_tail: float = HANDS_TAIL_LOW_RES
    hands_decay: float = HANDS_TAIL_DECAY
    # an episode's ballots tested against legitimate ones arriving within its own largest gap
    # between hand movements (a stuffer's hands: 1–2 s apart), not less than this
    cadence_min_s: float = 1.0
    # a finding whose ballots rest on the pile (more than its hand movements) stands only
    # where the pile still shows `held_share` of them `held_after_s` past the level after it
    # was read (and within `held_look_s` of the episode); else the episode is not observable
    # (demo-clean 101: a level read high for 4 s while two voters stood at and behind the
    # box, never read again)
    held_after_s: float = 6.0
    held_look_s: float = 120.0
    held_share: float = 0.5
    # the second cue (sides.py): a run of hands from one side of the slot, each within
    # `side_cadence_s` of the one before, is one person's; tested with `side_run_tail` and
    # `side_pair_tail` where the pile, if read, rose at least the run less `side_refute`
    sides: bool = True
    side_cadence_s: float = 2.0
    side_run_tail: float = SIDE_RUN_TAIL
    side_pair_tail: float = SIDE_PAIR_TAIL
    side_refute: float = 1.5
    # episodes apart by a pause of at most `pause_s` whose hands on either side are runs of
    # `pause_run` or more from the same side of the slot are one person's: joined before the
    # test (`sides.one_person_pauses`; 0: never). Off where the side cue is off. 4 s: one
    # hand the counter missed between two within `side_cadence_s` (session 13: on 21 tuning
    # cases only demo 178's stuffer was joined, at 3.5 s and at 4.5 s alike)
    pause_s: float = 4.0
    pause_run: int = 2
    # where the counter resolved no per-ballot step, the pile is read with `box_step_ratio` of
    # the box's height on cameras at `calibrated_height` or more, the bounds of what it reads
    # widened by the ratio's measured error (score.box_step_bounds); on since session 10b
    # (demo 130-133 scored off and on: no false finding; docs/stuffing.md "Session 10b")
    box_step: bool = True
    box_step_ratio: float = BOX_STEP_RATIO
    # a flagged episode whose pile rise is not held (`held_share`) is tested again on its
    # hand movements alone (one ballot each), flagged where they suffice; off: not observable
    held_hands: bool = True
    episodes: EpisodeOptions = field(default_factory=EpisodeOptions)

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.min_ballots < 2:
            raise ValueError(f"min_ballots must be >= 2, got {self.min_ballots}")
        if not 0 < self.hidden_explained <= 1:
            raise ValueError(f"hidden_explained must be in (0, 1], got {self.hidden_explained}")
        if not self.min_rate_s > 0 or not self.hidden_min_s > 0 or not self.hidden_look_s > 0:
            raise ValueError("min_rate_s, hidden_min_s and hidden_look_s must be positive")
        if not self.hidden_dispersion >= 1:
            raise ValueError(f"hidden_dispersion must be >= 1, got {self.hidden_dispersion}")
        if not (self.held_after_s >= 0 and self.held_look_s > 0 and 0 < self.held_share <= 1):
            raise ValueError("held_after_s must be >= 0, held_look_s > 0, held_share in (0, 1]")
        if not self.fill_margin >= 0:
            raise ValueError(f"fill_margin must be >= 0, got {self.fill_margin}")
        if not 0 <= self.pile_tail < 1:
            raise ValueError(f"pile_tail must be in [0, 1), got {self.pile_tail}")
        if not 0 < self.pile_decay <= 1 or not 0 < self.rise_decay <= 1:
            raise ValueError("pile_decay and rise_decay must be in (0, 1]")
        if not 0 <= self.rise_tail < 1:
            raise ValueError(f"rise_tail must be in [0, 1), got {self.rise_tail}")
        if not 0 < self.hands_tail <= 1 or not 0 < self.hands_decay <= 1:
            raise ValueError("hands_tail and hands_decay must be in (0, 1]")
        if not 0 < self.cadence_min_s <= self.episodes.gap_s:
            raise ValueError(f"cadence_min_s must be in (0, {self.episodes.gap_s}]")
        if not 0 < self.side_cadence_s <= self.episodes.gap_s:
            raise ValueError(f"side_cadence_s must be in (0, {self.episodes.gap_s}]")
        if not (0 < self.side_run_tail <= 1 and 0 < self.side_pair_tail <= 1):
            raise ValueError("side_run_tail and side_pair_tail must be in (0, 1]")
        if not self.side_refute >= 0:
            raise ValueError(f"side_refute must be >= 0, got {self.side_refute}")
        if not self.pause_s >= 0 or self.pause_run < 1:
            raise ValueError("pause_s must be >= 0 and pause_run >= 1")
        if not 0 < self.box_step_ratio < 1:
            raise ValueError(f"box_step_ratio must be in (0, 1), got {self.box_step_ratio}")

    def coarse(self, frame_height: int | None) -> bool:
        """Whether a camera's frames (`frame_height` px; None: taken as calibrated) are
        smaller than those the counter was calibrated on (`calibrated_height`)."""
        return frame_height is not None and frame_height < self.calibrated_height


@dataclass(frozen=True)
class Event:
    """One candidate: its `kind` (hands, bundle, rise, hidden), video seconds, the ballots
    taken for it, the test (`p_value` None for hidden periods), the extra ballots with 95%
    bounds, `confidence` in [0, 1] and whether it is `flagged` (reported as a finding)."""

    kind: str
    start_s: float
    end_s: float
    ballots: int
    insertions: int = 0
    counted: int = 0
    fill_ballots: float = math.nan
    dwell_s: float = math.nan
    dwell_z: float = math.nan
    insertions_z: float = math.nan
    extra: int = 0
    extra_lower: int = 0
    extra_upper: int = 0
    expected: float = 0.0
    p_local: float | None = None
    p_value: float | None = None
    confidence: float = 0.0
    observable: bool = True
    flagged: bool = False
    activity: float = math.nan
    reasons: str = ""


def events_frame(events: Sequence[Event]) -> pd.DataFrame:
    """Events as a DataFrame of `EVENT_COLUMNS`."""
    rows = [{c: getattr(e, c) for c in EVENT_COLUMNS} for e in events]
    frame = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    for c in ("p_local", "p_value"):
        frame[c] = frame[c].astype(float)
    return frame


def _rate(ballots: float, watched_s: float, o: DetectOptions) -> float:
    return max(ballots, 0.0) / watched_s if watched_s > 0 else 1.0 / o.min_rate_s


def tested_episodes(
    drops: pd.DataFrame,
    curve: FillCurve | None,
    step_px: float,
    observability: Observability,
    options: DetectOptions | None = None,
    *,
    series: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The camera's drop episodes (`episodes.EPISODE_COLUMNS`) with what the test takes:
    `tested`, the ballots (the pile's rise less `fill_margin` where it shows more than were
    counted, rounded down), `rate`, the legitimate ballots per second watched outside the
    episode, and `window_s`, the gap within which legitimate ballots would have to follow
    one another to make it (its largest gap between drops, within cadence_min_s..gap_s).
    `series` (the watcher's, with arm columns): episodes one person's pause parts are joined
    (`DetectOptions.pause_s`); None: never."""
    o = options or DetectOptions()
    joined = _paused(drops, series, o) if series is not None else None
    episodes = find_episodes(drops, curve, step_px, o.episodes, joined=joined)
    watched = observability.observed_s(observability.start_s, observability.end_s)
    total = float(drops["ballots"].sum()) if len(drops) else 0.0
    fill = np.floor(episodes["fill_ballots"].to_numpy(float) - o.fill_margin)
    counted = episodes["ballots"].to_numpy(float)
    tested = np.where(np.isfinite(fill), np.maximum(counted, fill), counted)
    gaps = episodes["max_gap_s"].to_numpy(float)
    window = np.where(
        np.isfinite(gaps), np.clip(gaps, o.cadence_min_s, o.episodes.gap_s), o.episodes.gap_s
    )
    rates = [max(_rate(total - b, watched, o), 1.0 / o.min_rate_s) for b in counted]
    return episodes.assign(
        tested=tested.astype(np.int64), rate=np.asarray(rates, float), window_s=window
    )


def _episode_test(
    tested: int,
    counted: int,
    rate: float,
    episodes: int,
    window_s: float,
    o: DetectOptions,
    *,
    excess: float = math.nan,
    hands_only: bool = False,
) -> EpisodeTest:
    """`episode_test` of the ballots taken for an episode; where the pile raised them above
    `counted`, the ballots the count proves (with `pile_drops` those of the hands seen going
    in: the counter's drops only the pile showed are the pile's reading), the pile's part
    proves no more than `score.pile_tail` of its `excess` over them per episode: the p-value
    is the smaller of the count's own and the pile's floored at that. `hands_only`: the
    count rests on hand movements the camera resolves too coarsely (and the pile does not
    back it): it proves no more than `hands_tail`."""

    def test(ballots: int) -> EpisodeTest:
        return episode_test(
            ballots,
            rate,
            episodes,
            gap_s=float(window_s),
            clustering=o.clustering,
            pair_share=o.pair_share,
        )

    full = test(tested)
    p_local = full.p_local
    if tested > counted:
        floor = pile_tail(excess, o.pile_tail, o.pile_decay)
        p_local = min(test(counted).p_local, max(full.p_local, floor))
    if hands_only:
        p_local = max(p_local, hands_tail(tested, o.hands_tail, o.hands_decay))
    if p_local == full.p_local:
        return full
    return replace(full, p_local=p_local, pvalue=day_pvalue(p_local, episodes))


def _seen_times(drops: pd.DataFrame, o: DetectOptions) -> np.ndarray:
    """The drop times the side cue reads: with `pile_drops` those of the hands seen going in
    (`sides.seen_times`), else every drop's."""
    return seen_times(drops) if o.pile_drops else drops["t_s"].to_numpy(float)


@dataclass(frozen=True)
class _Judge:
    """An episode's test with what stays fixed whatever ballots are taken for it: its
    `rate`, the camera's `episodes`, its `window_s`, its one-sided `run` of hands (the
    second cue: the smaller p-value is taken) and whether its count is `hands_only`."""

    rate: float
    episodes: int
    window_s: float
    run: int
    o: DetectOptions
    hands_only: bool

    def __call__(self, tested: int, own: int, excess: float) -> tuple[EpisodeTest, bool, str]:
        """(the test, flagged, what the reasons add) of `tested` ballots, `own` of them the
        count's, the pile `excess` ballots over those."""
        o = self.o
        test = _episode_test(
            tested,
            own,
            self.rate,
            self.episodes,
            self.window_s,
            o,
            excess=excess,
            hands_only=self.hands_only,
        )
        side = side_pvalue(self.run, run_tail=o.side_run_tail, pair_tail=o.side_pair_tail)
        side_day = day_pvalue(side, self.episodes)
        reasons = ""
        if side_day < test.pvalue:
            test = replace(test, p_local=side, pvalue=side_day)
            reasons = f"; {self.run} {ONE_SIDE_REASON}"
        # (a run of hands never exceeds the episode's counted ballots, so never `tested`)
        return test, test.pvalue < o.alpha and tested >= o.min_ballots, reasons


def _paused(drops: pd.DataFrame, series: pd.DataFrame, o: DetectOptions) -> np.ndarray:
    """The drop times that continue the episode before them across one person's pause
    (`sides.one_person_pauses`, the sides of the hands seen going in from `series`)."""
    if not (o.sides and o.pause_s > o.episodes.gap_s) or drops.empty:
        return np.empty(0)
    hands = hand_times(_seen_times(drops, o), o.episodes.hand_gap_s)
    return one_person_pauses(
        hands,
        hand_sides(series, hands),
        cadence_s=o.side_cadence_s,
        gap_s=o.episodes.gap_s,
        pause_s=o.pause_s,
        run=o.pause_run,
    )


def _one_side(drops: pd.DataFrame, series: pd.DataFrame, episode: Any, o: DetectOptions) -> int:
    """The episode's longest run of hands seen going in from one side of the slot
    (`sides.side_run`), 0 where the cue is off or the pile, read, refutes it (rose less than
    the run less `side_refute` ballots: one voter's hand counted several times)."""
    if not o.sides or drops.empty:
        return 0
    t = _seen_times(drops, o)
    hands = hand_times(t[(t >= episode.start_s) & (t <= episode.end_s)], o.episodes.hand_gap_s)
    run = side_run(hands, hand_sides(series, hands), o.side_cadence_s)
    return 0 if pile_refutes(episode.fill_ballots, run, o.side_refute) else run


def _box_step(
    step_px: float, curve: FillCurve | None, frame_height: int | None, o: DetectOptions
) -> float:
    """The per-ballot step to read the pile with: the counter's, else (`box_step` on, a
    camera at the calibrated resolution) that share of the box's height; NaN: none."""
    if math.isfinite(step_px) or not o.box_step or curve is None or o.coarse(frame_height):
        return step_px
    return o.box_step_ratio * curve.box_h


def _widened(event: Event) -> Event:
    """An event read with a step from the box's height: where its ballots rest on the pile,
    its bounds widened by the step's error (`score.box_step_bounds`)."""
    hands = event.kind in ("hands", "bundle") and event.ballots <= event.insertions
    if hands or not math.isfinite(event.fill_ballots):
        return event
    lower, upper = box_step_bounds(event.extra_lower, event.extra_upper)
    reasons = "; ".join(r for r in (event.reasons, "step from the box height") if r)
    return replace(event, extra_lower=lower, extra_upper=upper, reasons=reasons)


def camera_events(
    drops: pd.DataFrame,
    series: pd.DataFrame,
    curve: FillCurve | None,
    step_px: float,
    observability: Observability,
    options: DetectOptions | None = None,
    *,
    frame_height: int | None = None,
) -> list[Event]:
    """Every candidate event of one camera, flagged or not, in time order: drop episodes
    (`drops`: the counter's drops on observable time), pile rises no drop explains, and blind
    ranges with activity (`series`: the watcher's, for someone at the box; `observability`:
    the camera's unobservable ranges). `frame_height`: the camera's, in pixels (None:
    taken as the calibrated one); below `calibrated_height` counts of hand movements the pile
    does not back take the low-resolution tail. `step_px` NaN (the counter resolved no
    per-ballot step): with `box_step`, on a camera not below `calibrated_height`, the pile is
    read with `box_step_ratio` of the box's height, each event whose ballots rest on the
    pile says so in its reasons with its bounds widened (`_widened`), and no blind range's
    rise is taken as explained (`_hidden`)."""
    o = options or DetectOptions()
    coarse = o.coarse(frame_height)
    guessed = not math.isfinite(step_px)
    step_px = _box_step(step_px, curve, frame_height, o)
    guessed = guessed and math.isfinite(step_px)
    paused = None if coarse else series
    episodes = tested_episodes(drops, curve, step_px, observability, o, series=paused)
    watched = observability.observed_s(observability.start_s, observability.end_s)
    total = float(drops["ballots"].sum()) if len(drops) else 0.0
    ins = episodes["insertions"].to_numpy(float)
    ins_z = robust_z(ins, ins, floor=0.5) if len(ins) else ins
    events: list[Event] = []
    for k, ep in enumerate(episodes.itertuples(index=False)):
        backed = bool(ep.fill_ballots >= ep.ballots - o.fill_margin)  # False for NaN
        own = int(ep.seen) if o.pile_drops else int(ep.counted)  # what the count proves
        run = 0 if coarse else _one_side(drops, series, ep, o)  # the second cue (sides.py)
        judge = _Judge(ep.rate, len(episodes), ep.window_s, run, o, coarse and not backed)
        ballots = int(ep.ballots)
        test, flagged, reasons = judge(int(ep.tested), own, float(ep.fill_ballots - own))
        reasons = f"{ep.evidence}{reasons}"
        held = not flagged or _pile_held(
            (ballots, int(ep.insertions)), (ep.start_s, ep.end_s), curve, step_px, o
        )
        if not held and o.held_hands:
            # the ballots beyond the hand movements rest on a pile not read again; the hand
            # movements' own stand without it (demo 188 cam-D008-005: a stuffer's five hands,
            # two of them counted twice 0.1 s apart, the pile unreadable after them)
            hands = int(ep.insertions)
            retest, held, more = judge(hands, min(own, hands), math.nan)
            if held:
                ballots, test = hands, retest
                reasons = f"{ep.evidence}{more}; {HANDS_ONLY_REASON}"
        extra, lower, upper = extra_ballots(ballots, from_pile=ballots > ep.insertions)
        events.append(
            Event(
                kind="bundle" if ep.insertions < ballots / 2 else "hands",
                start_s=float(ep.start_s),
                end_s=float(ep.end_s),
                ballots=ballots,
                insertions=int(ep.insertions),
                counted=int(ep.counted),
                fill_ballots=float(ep.fill_ballots),
                dwell_s=float(ep.dwell_s),
                dwell_z=float(ep.dwell_z),
                insertions_z=float(ins_z[k]),
                extra=extra,
                extra_lower=lower,
                extra_upper=upper,
                expected=test.expected,
                p_local=test.p_local,
                p_value=test.pvalue,
                confidence=1.0 - test.pvalue,
                observable=held,
                flagged=bool(flagged and held),
                reasons=reasons if held else f"{reasons}; pile rise not held",
            )
        )
    rate = max(_rate(total, watched, o), 1.0 / o.min_rate_s)
    rough = rough_ranges(series) if "outline" in series else []
    events += _rises(episodes, curve, step_px, observability, rate, o, rough)
    events += _hidden(drops, series, curve, step_px, observability, rate, o, guessed=guessed)
    if guessed:
        events = [_widened(e) for e in events]
    return sorted(events, key=lambda e: (e.start_s, e.kind))


def between_rises(
    episodes: pd.DataFrame,
    curve: FillCurve | None,
    step_px: float,
    obs: Observability,
    options: DetectOptions | None = None,
    rough: Sequence[Range] = (),
) -> pd.DataFrame:
    """The pile's rise (`ballots`, per-ballot steps) across each stretch between consecutive
    episodes (or before the first, after the last) of 8 s or more (`start_s`, `end_s`: from
    the level settled after one episode to the level held before the next) on time the box
    was watched but for moments shorter than `hidden_min_s`, the seconds of it not watched
    (`blind_s`) and those watched with a degraded picture (`rough_s`: within the counter's
    `rough` ranges, `counting.unobservable.rough_ranges`); empty where the pile cannot count
    ballots."""
    o = options or DetectOptions()
    columns = ["start_s", "end_s", "ballots", "blind_s", "rough_s"]
    pile = counting_curve(curve, step_px)
    if pile is None:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    t = pile.samples["t_s"].to_numpy(float)
    settle = o.episodes.settle_s
    starts = [*episodes["start_s"], float(t[-1])]
    ends = [float(t[0]) - settle, *episodes["end_s"]]
    rows = []
    for a, b in ((e + settle, s) for e, s in zip(ends, starts, strict=True)):
        if b - a < 8.0 or any(
            lo < b and hi > a and hi - lo >= o.hidden_min_s for lo, hi, _ in obs.unobservable
        ):
            continue
        rise = pile.level_near(b - 4.0, b - 0.3) - pile.level_near(a, a + 4.0)
        blind = (b - a) * (1.0 - obs.observed_share(a, b))
        rough_s = sum(max(0.0, min(b, hi) - max(a, lo)) for lo, hi, _ in rough)
        rows.append((a, b, rise / step_px if np.isfinite(rise) else np.nan, blind, rough_s))
    return pd.DataFrame(rows, columns=columns).astype(float)


def _rises(
    episodes: pd.DataFrame,
    curve: FillCurve | None,
    step_px: float,
    obs: Observability,
    rate: float,
    o: DetectOptions,
    rough: Sequence[Range] = (),
) -> list[Event]:
    """Pile rises between episodes (`between_rises`) that no counted drop explains:
    legitimate voters at `rate` a second may have dropped unseen in the moments not watched
    (someone standing in front of the box; `rise_test`), the counter may have missed them all
    (`count_cdf`), or the pile read high with nobody at the box (`pile_tail` with the
    between-episode `rise_tail`); the p-value is the largest of the three. demo 76: a
    bundle of 12 put in while the stuffer hid the box for 8 s. A stretch partly on `rough`
    time (the box out of focus) takes the episodes' `pile_tail` instead: there the counter
    misses voters and the pile reads as with someone at the box: of the 4 such stretches on
    the 640x360 tuning cases (`benchmarks/stuffing_calibration.py --legit-only`,
    `rise_on_rough_time`) one rose 2.30 ballots, the largest of those RISE_TAIL was
    measured on; demo 85's cam-D001-003, out of focus from 192 s, rose 5.4 across 28 s with
    one voter unseen."""
    gaps = between_rises(episodes, curve, step_px, obs, o, rough)
    out = []
    for a, b, ballots, blind, rough_s in gaps.itertuples(index=False):
        if not ballots >= o.rise_min:
            continue
        n = round(ballots)
        tail = (
            pile_tail(float(ballots), o.pile_tail, o.pile_decay)
            if rough_s > 0
            else pile_tail(float(ballots), o.rise_tail, o.rise_decay, RISE_TAIL_FROM)
        )
        p_local = max(
            count_cdf(0, n, COUNTER_ERRORS),
            tail,
            rise_test(float(ballots), blind, rate, clustering=o.clustering),
        )
        p_day = day_pvalue(p_local, len(gaps))
        extra, lower, upper = extra_ballots(n, from_pile=True)
        out.append(
            Event(
                kind="rise",
                start_s=a,
                end_s=b,
                ballots=n,
                fill_ballots=float(ballots),
                extra=extra,
                extra_lower=lower,
                extra_upper=upper,
                p_local=p_local,
                p_value=p_day,
                confidence=1.0 - p_day,
                flagged=p_day < o.alpha and n >= o.min_ballots,
                reasons=_rise_reasons(blind, rough_s),
            )
        )
    return out


def _pile_held(
    counts: tuple[int, int],
    span: tuple[float, float],
    curve: FillCurve | None,
    step_px: float,
    o: DetectOptions,
) -> bool:
    """Whether an episode's ballots (`counts`: ballots, hand movements; `span`: start_s,
    end_s) stand: those of its hand movements do; more than those (the pile's) only where
    the pile still shows `held_share` of them later on (`fill.rise_held`). A camera whose
    pile cannot be read at all is left as it was."""
    ballots, insertions = counts
    pile = counting_curve(curve, step_px)
    if ballots <= insertions or pile is None:
        return True
    rise = rise_held(
        pile,
        span,
        after_s=o.episodes.settle_s + o.held_after_s,
        look_s=o.held_look_s,
    )
    return bool(np.isfinite(rise) and rise / step_px >= o.held_share * ballots)


def _rise_reasons(blind_s: float, rough_s: float) -> str:
    """A rise event's `reasons`: "fill", and the seconds not watched and out of focus."""
    parts = ["fill"]
    if blind_s > 0:
        parts.append(f"{blind_s:.0f} s not watched")
    if rough_s > 0:
        parts.append(f"{rough_s:.0f} s out of focus")
    return "; ".join(parts)


def _hidden(
    drops: pd.DataFrame,
    series: pd.DataFrame,
    curve: FillCurve | None,
    step_px: float,
    obs: Observability,
    rate: float,
    o: DetectOptions,
    *,
    guessed: bool = False,
) -> list[Event]:
    """Blind ranges of at least `hidden_min_s` with someone at the box (`hidden_activity`).
    The pile's rise across one (`fill.rise_around`, the ballots counted on either side
    within that span taken off) is tested against legitimate voters at `rate` a second
    (`rise_test` with `hidden_dispersion`): a flagged, not observable event where p is below
    `hidden_explained` (or below `alpha`, whoever was there); an event that is not flagged
    where the pile could not be read across it (a gap in what could be seen, not a finding:
    on the 201 clean tuning cameras 16 had one, their activity 10-76% against 0-22% at the
    ten hidden stuffers); nothing where the rise is explained. `guessed`: the step is the
    box height's (`box_step`), too rough to call a rise explained: such a range is kept as
    where the pile could not be read."""
    t = series["t_s"].to_numpy(float) if "t_s" in series else np.zeros(0)
    fg = series["fg"].to_numpy(float) if "fg" in series else np.zeros(0)
    pile = counting_curve(curve, step_px)
    drop_t = drops["t_s"].to_numpy(float) if len(drops) else np.zeros(0)
    drop_n = drops["ballots"].to_numpy(float) if len(drops) else np.zeros(0)
    out = []
    for a, b, reason in obs.unobservable:
        if b - a < o.hidden_min_s:
            continue
        sel = (t >= a) & (t <= b)
        activity = float(np.mean(fg[sel] > o.presence)) if sel.any() else math.nan
        ballots = math.nan
        if pile is not None:
            rise, t0, t1 = rise_around(
                pile, a, b, settle_s=o.episodes.settle_s, look_s=o.hidden_look_s
            )
            counted = float(drop_n[(drop_t > t0) & (drop_t < t1)].sum())
            ballots = rise / step_px - counted if np.isfinite(rise) else math.nan
        dispersion = (
            min(hidden_dispersion(b - a), o.hidden_dispersion)
            if o.hidden_dispersion_by_length
            else o.hidden_dispersion
        )
        p_rise = rise_test(ballots, b - a, rate, clustering=o.clustering, dispersion=dispersion)
        busy = activity >= o.hidden_activity
        readable = bool(np.isfinite(ballots)) and not guessed
        flagged = (busy and p_rise < o.hidden_explained) or p_rise < o.alpha
        if not flagged and not (busy and not readable):
            continue
        expected = rate * (b - a)
        n, lower, upper = hidden_extra(ballots, o.clustering * expected, dispersion)
        out.append(
            Event(
                kind="hidden",
                start_s=float(a),
                end_s=float(b),
                ballots=n,
                fill_ballots=float(ballots),
                extra=n,
                extra_lower=lower,
                extra_upper=upper,
                expected=float(expected),
                confidence=o.hidden_confidence,
                observable=False,
                flagged=bool(flagged),
                activity=activity,
                reasons=reason,
            )
        )
    return out
