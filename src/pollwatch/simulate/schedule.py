"""One rendered camera's day: who enters the room, where they stop, when ballots go in.

Voters arrive following the day's intensity curve (compressed by the time scale), some with
family. Everyone walks at their own speed between room.py places. At the table one voter at a
time is given a ballot (the others wait at `table_queue`); carousel members are served before
waiting voters (the commission is in on it). A voter then takes a free booth, or votes openly
if none is free or by habit, and drops the ballot at the box; a few walk off with it instead.
Stuffers come in at their planned time and drop their ballots one by one or as a bundle.
Commission members sit behind the table and now and then walk about (to `box_near` too, never
dropping anything); observers sit at their seats; passers-by cross in front of the box.
Two people can stand behind the box at once, shoulder to shoulder (`box` and `box_side`); a
third waits until one of them leaves.

A voter is "counted" (for the official checkpoints) when the ballot goes in, or when leaving
the table for those who take their ballot away.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
from datetime import timedelta

import numpy as np

from pollwatch.simulate.clock import sample_arrival_hours
from pollwatch.simulate.conditions import LabelledCondition, sample_conditions
from pollwatch.simulate.election import Election, IntervalCounts
from pollwatch.simulate.fraud import ENTRY_STAGGER_S, StuffingEvent
from pollwatch.simulate.people import sample_appearance
from pollwatch.simulate.plan import Appearance, CameraPlan, Drop, Role, Stop, Visit
from pollwatch.simulate.room import BOOTHS, walk_time
from pollwatch.simulate.streams import stream

__all__ = ["CameraSchedule", "build_schedule"]

_WANDER = ("box_near", "table_queue", "entrance")  # never into a booth a voter may be using
_WANDER_P = (0.4, 0.3, 0.3)


@dataclass(frozen=True)
class CameraSchedule:
    """A camera's plan plus what the truth needs that the plan does not say."""

    plan: CameraPlan
    open_s: float  # video seconds at which polls open
    counts: IntervalCounts
    conditions: tuple[LabelledCondition, ...]
    counted_s: dict[str, float] = field(default_factory=dict)  # person_id → counted at


@dataclass
class _Voter:
    person_id: str
    role: Role
    look: Appearance
    arrive: float  # at the entrance
    group_id: str | None = None
    casts: bool = True
    booth: bool = True
    stops: list[Stop] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)

    def walk(self, a: str, b: str) -> float:
        return walk_time(a, b, self.look.speed_m_s)


def _r(x: float) -> float:
    return round(float(x), 3)


def _stop(place: str, a: float, b: float) -> Stop:
    return Stop(place, _r(a), _r(b))


def _legit_voters(
    rng: np.random.Generator, election: Election, row: int, cam: str, open_s: float
) -> list[_Voter]:
    p = election.preset
    true = election.true.iloc[row]
    n, taken = int(true["voters"]), int(true["taken"])
    hours = sample_arrival_hours(rng, n, p.polls_hours)
    arrive = open_s + hours * 3600.0 / p.time_scale
    casts = np.ones(n, dtype=bool)
    casts[rng.choice(n, size=taken, replace=False)] = False
    voters = [
        _Voter(
            f"{cam}-v{i + 1:04d}",
            "voter",
            sample_appearance(rng),
            float(arrive[i]),
            casts=bool(casts[i]),
            booth=bool(rng.random() >= p.dwell.open_vote_rate),
        )
        for i in range(n)
    ]
    i, fam = 0, 0
    while i < n:  # families: the next 1-2 voters come in right behind
        if rng.random() < p.crowd.family_rate and i + 1 < n:
            size = min(n - i, int(rng.integers(2, 4)))
            fam += 1
            for j in range(size):
                v = voters[i + j]
                v.group_id = f"{cam}-fam{fam}"
                v.arrive = voters[i].arrive + j * float(rng.uniform(0.5, 1.5))
            i += size
        else:
            i += 1
    return voters


def _carousel_voters(
    rng: np.random.Generator, election: Election, sid: str, open_s: float
) -> list[_Voter]:
    out = []
    for g in election.carousels:
        for stop in g.stops:
            if stop.station_id != sid:
                continue
            t = open_s + stop.arrive_s
            for j, m in enumerate(g.members):
                t += 0.0 if j == 0 else float(rng.uniform(0.5, ENTRY_STAGGER_S))
                booth = bool(rng.random() < election.preset.dwell.carousel_booth_rate)
                out.append(
                    _Voter(m.person_id, "carousel", m.appearance, t, g.group_id, booth=booth)
                )
    return out


def _serve(rng: np.random.Generator, voters: list[_Voter], election: Election) -> None:
    """Queue at the table, booth, box, exit: fills each voter's stops and drops."""
    dwell = election.preset.dwell
    regular: list[tuple[float, int]] = []
    priority: list[tuple[float, int]] = []
    for i, v in enumerate(voters):
        q = v.arrive + v.walk("entrance", "table_queue")
        heapq.heappush(priority if v.role == "carousel" else regular, (q, i))
    table_free = -np.inf
    order: list[tuple[int, float]] = []  # (voter, time leaving the table)
    while regular or priority:
        t = max(table_free, min(h[0][0] for h in (regular, priority) if h))
        q, i = heapq.heappop(priority if priority and priority[0][0] <= t else regular)
        v = voters[i]
        at_table = t + v.walk("table_queue", "table")
        span = dwell.carousel_table_s if v.role == "carousel" else dwell.table_s
        table_free = at_table + float(rng.uniform(*span))
        v.stops += [
            _stop("entrance", v.arrive, v.arrive),
            _stop("table_queue", q, t),
            _stop("table", at_table, table_free),
        ]
        order.append((i, table_free))
    booths: list[list[tuple[float, float]]] = [[] for _ in BOOTHS]
    for i, left in order:
        v = voters[i]
        here, t = "table", left
        if v.booth:
            span = dwell.carousel_booth_s if v.role == "carousel" else dwell.booth_s
            stay = float(rng.uniform(*span))
            for k in rng.permutation(len(BOOTHS)):
                arr = left + v.walk("table", f"booth{k}")
                if all(b <= arr or a >= arr + stay for a, b in booths[k]):
                    booths[k].append((arr, arr + stay))
                    v.stops.append(_stop(f"booth{k}", arr, arr + stay))
                    here, t = f"booth{k}", arr + stay
                    break
        if v.casts:
            arr = t + v.walk(here, "box")
            stay = float(rng.uniform(*dwell.box_s))
            drop = arr + stay * float(rng.uniform(0.35, 0.65))
            v.stops.append(_stop("box", arr, arr + stay))
            v.drops.append(Drop(_r(drop)))
            here, t = "box", arr + stay
        out = t + v.walk(here, "exit")
        v.stops.append(_stop("exit", out, out))


def _stuffer(rng: np.random.Generator, e: StuffingEvent, open_s: float) -> _Voter:
    v = _Voter(e.person_id, "stuffer", sample_appearance(rng), 0.0)
    at_box = open_s + e.time_s
    if rng.random() < 0.5:  # a look around beside the box first
        pause = float(rng.uniform(2.0, 5.0))
        near = at_box - v.walk("box_near", "box") - pause
        v.arrive = near - v.walk("entrance", "box_near")
        v.stops += [_stop("entrance", v.arrive, v.arrive), _stop("box_near", near, near + pause)]
    else:
        v.arrive = at_box - v.walk("entrance", "box")
        v.stops.append(_stop("entrance", v.arrive, v.arrive))
    if e.bundle:
        times = [at_box + float(rng.uniform(1.0, 2.0))]
        v.drops.append(Drop(_r(times[0]), e.ballots))
    else:
        times = list(at_box + np.cumsum(rng.uniform(1.0, 2.0, size=e.ballots)))
        v.drops += [Drop(_r(t)) for t in times]
    leave = times[-1] + float(rng.uniform(1.0, 2.0))
    out = leave + v.walk("box", "exit")
    v.stops += [_stop("box", at_box, leave), _stop("exit", out, out)]
    return v


_BOX_GAP_S = 0.3  # a person waiting for a place at the box steps in this long after it frees
_QUEUE_MIN_S = 0.5  # a wait longer than this is spent standing at `box_queue`
_HANDOVER_MAX_S = 2.0  # the longest step in from `box_queue` (0.84 m at the slowest 0.8 m/s)


def _share_the_box(voters: list[_Voter]) -> None:
    """Give everyone who drops a ballot a place of their own behind the box.

    Stuffers first (their times are the fraud plan's), then everyone else in arrival order: a
    visit takes the place where it can start soonest, `box` before `box_side` (beside whoever
    is at the box) at the same time; when neither is free for its whole stay it waits until
    one of them frees: its box stop, the drops in it and the later stops move later by the
    wait, and a wait long enough is spent standing at `box_queue` (behind both places), from
    which it steps in once the place's last person has left. No random draws, so the rest of
    the day is unchanged."""
    stays = sorted(
        (v.role != "stuffer", s.arrive_s, k, i)
        for k, v in enumerate(voters)
        for i, s in enumerate(v.stops)
        if s.place == "box"
    )
    booked: dict[str, list[tuple[float, float]]] = {"box": [], "box_side": []}
    for _, _, k, i in stays:
        v = voters[k]
        arrive = v.stops[i].arrive_s
        stay = v.stops[i].leave_s - arrive
        # only stays not over `_HANDOVER_MAX_S` before it can be in its way or free a place for
        # it (else each stay looks at all before it: 137 s of CPU for a station of 1,652 voters)
        live = {
            spot: [(a, b) for a, b in p if b + _HANDOVER_MAX_S > arrive]
            for spot, p in booked.items()
        }
        ready = dict.fromkeys(booked, arrive)  # no stop before: it is there when it arrives
        if i > 0:  # when it can be at each place from its stop before (less 1 ms: rounding)
            came = v.stops[i - 1]
            ready = {spot: came.leave_s + v.walk(came.place, spot) - 1e-3 for spot in booked}
        free = []  # (start, place's rank, place) where the whole stay fits
        for n, spot in enumerate(booked):
            # a place frees when its person leaves; whoever waited steps in from the queue
            step_in = max(_BOX_GAP_S, v.walk("box_queue", spot))
            for t in [arrive, *(b + step_in for _, b in live[spot])]:
                go = max(t, arrive, ready[spot])
                if _free(live[spot], go, go + stay):
                    free.append((go, n, spot))
        go, _, spot = min(free)  # the last stay's end frees both places: never empty
        _delay(v, i, go - arrive)
        if i > 0 and go - arrive > _QUEUE_MIN_S:  # a real wait: stand at the queue till then
            came = v.stops[i - 1]
            queued = came.leave_s + v.walk(came.place, "box_queue")
            step_out = v.stops[i].arrive_s - v.walk("box_queue", spot)
            if step_out - queued > _QUEUE_MIN_S:
                v.stops.insert(i, _stop("box_queue", queued, step_out))
                i += 1
        stop = v.stops[i]
        v.stops[i] = _stop(spot, stop.arrive_s, stop.leave_s)
        booked[spot].append((stop.arrive_s, stop.leave_s))
        if i + 1 < len(v.stops):  # the walk on from a place further off
            nxt = v.stops[i + 1]
            _delay(v, i + 1, stop.leave_s + v.walk(spot, nxt.place) - nxt.arrive_s)


def _free(booked: list[tuple[float, float]], a: float, b: float) -> bool:
    """Whether none of the `booked` stays (start, end) overlaps [a, b]."""
    return all(end <= a or start >= b for start, end in booked)


def _delay(v: _Voter, i: int, by: float) -> None:
    """Move stop `i` of `v`, the stops after it and the drops during them `by` seconds later;
    nothing when `by` is 1 ms or less (a stop is never moved earlier)."""
    if by <= 1e-3:
        return
    since = v.stops[i].arrive_s
    v.stops[i:] = [_stop(s.place, s.arrive_s + by, s.leave_s + by) for s in v.stops[i:]]
    v.drops = [Drop(_r(d.t_s + by), d.ballots) if d.t_s >= since else d for d in v.drops]


def _staff(rng: np.random.Generator, election: Election, cam: str, d: float) -> list[Visit]:
    """Commission members and observers, present (most of) the recording."""
    crowd = election.preset.crowd
    visits = []
    for i in range(int(rng.integers(crowd.commission[0], crowd.commission[1] + 1))):
        look = sample_appearance(rng, "commission")
        seat, t, stops = f"commission{i}", 0.0, []
        walks = np.sort(
            rng.uniform(
                5.0, max(5.0, d - 40.0), size=rng.poisson(crowd.commission_walk_per_min * d / 60)
            )
        )
        for w in walks:
            if w < t + 2.0:
                continue
            dest = str(rng.choice(_WANDER, p=_WANDER_P))
            stay = float(rng.uniform(5.0, 30.0) if dest == "entrance" else rng.uniform(3.0, 15.0))
            there = w + walk_time(seat, dest, look.speed_m_s)
            back = there + stay + walk_time(dest, seat, look.speed_m_s)
            if back > d - 2.0:
                break
            stops += [_stop(seat, t, w), _stop(dest, there, there + stay)]
            t = back
        stops.append(_stop(seat, t, d))
        visits.append(Visit(f"{cam}-c{i + 1}", "commission", look, tuple(stops)))
    for i in range(int(rng.integers(crowd.observers[0], crowd.observers[1] + 1))):
        look = sample_appearance(rng, "observer")
        seat = f"observer{i}"
        late, early = rng.random() < 0.4, rng.random() < 0.3
        come = float(rng.uniform(0.05, 0.3) * d) if late else 0.0
        go = float(rng.uniform(0.6, 0.9) * d) if early else d
        sit = come + walk_time("entrance", seat, look.speed_m_s) if late else 0.0
        stops = [_stop("entrance", come, come)] if late else []
        stops.append(_stop(seat, sit, go))
        if early:
            out = go + walk_time(seat, "exit", look.speed_m_s)
            stops.append(_stop("exit", out, out))
        visits.append(Visit(f"{cam}-o{i + 1}", "observer", look, tuple(stops)))
    return visits


def _passersby(
    rng: np.random.Generator, election: Election, cam: str, open_s: float, close_s: float
) -> list[Visit]:
    visits = []
    n = rng.poisson(election.preset.crowd.passerby_per_min * (close_s - open_s) / 60.0)
    for i, t in enumerate(np.sort(rng.uniform(open_s, close_s, size=n))):
        look = sample_appearance(rng, "passerby")
        first, second = (
            ("pass_left", "pass_right") if rng.random() < 0.5 else ("pass_right", "pass_left")
        )
        a = float(t) + walk_time("entrance", first, look.speed_m_s)
        b = a + walk_time(first, second, look.speed_m_s)
        pause = float(rng.uniform(1.0, 6.0))
        out = b + pause + walk_time(second, "exit", look.speed_m_s)
        stops = (
            _stop("entrance", t, t),
            _stop(first, a, a),
            _stop(second, b, b + pause),
            _stop("exit", out, out),
        )
        visits.append(Visit(f"{cam}-p{i + 1}", "passerby", look, stops))
    return visits


def _counts(
    election: Election, voters: list[_Voter], open_s: float
) -> tuple[IntervalCounts, dict[str, float]]:
    k = election.n_intervals
    legit, carousel, stuffed = (np.zeros(k, dtype=np.int64) for _ in range(3))
    counted: dict[str, float] = {}
    for v in voters:
        if v.role == "stuffer":
            for d in v.drops:
                stuffed[election.clock.interval_index(d.t_s - open_s)] += d.ballots
            continue
        t = v.drops[0].t_s if v.drops else next(s.leave_s for s in v.stops if s.place == "table")
        counted[v.person_id] = t
        target = carousel if v.role == "carousel" else legit
        target[election.clock.interval_index(t - open_s)] += 1
    return IntervalCounts(legit, carousel, stuffed), counted


_TURN_STEP_DEG = 5.0
_TURN_MAX_DEG = 120.0


def _box_out_of_view(
    plan: CameraPlan, conditions: tuple[LabelledCondition, ...]
) -> tuple[CameraPlan, tuple[LabelledCondition, ...]]:
    """A camera `turned_away` shows none of the box: in some rooms a pan of 50-60 deg still
    leaves part of it in a corner of the picture (the box leaves at 60-75 deg), so such a pan
    is widened by 5 deg steps until the box is out of view (at most 120 deg)."""
    from pollwatch.simulate.render import box_in_view  # the room's camera model

    out = list(conditions)
    for i, lc in enumerate(out):
        if lc.label != "turned_away":
            continue
        cond = lc.condition
        pan = float(cond.params.get("pan_deg", 0.0))
        sign = 1.0 if pan >= 0 else -1.0
        while box_in_view(plan, cond.start_s) > 0.0 and abs(pan) < _TURN_MAX_DEG:
            pan = sign * min(abs(pan) + _TURN_STEP_DEG, _TURN_MAX_DEG)
            cond = replace(cond, params={**cond.params, "pan_deg": round(pan, 3)})
            out[i] = LabelledCondition(cond, lc.label)
            plan = replace(plan, conditions=tuple(c.condition for c in out))
    return plan, tuple(out)


def build_schedule(election: Election, row: int) -> CameraSchedule:
    """The plan of the camera of station row `row`, and the counts it implies."""
    p = election.preset
    station = election.stations.iloc[row]
    sid, cam = str(station["station_id"]), str(station["camera_id"])
    if not cam:
        raise ValueError(f"station {sid} has no camera")
    rng = stream(election.seed, "camera", sid)
    open_s = float(round(p.pre_roll_s * (1.0 + 0.5 * float(rng.random()))))  # whole seconds
    close_s = open_s + election.clock.close_s
    voters = _legit_voters(rng, election, row, cam, open_s)
    voters += _carousel_voters(rng, election, sid, open_s)
    _serve(rng, voters, election)
    voters += [_stuffer(rng, e, open_s) for e in election.stuffing if e.station_id == sid]
    _share_the_box(voters)
    passers = _passersby(rng, election, cam, open_s, close_s)
    last = max([close_s] + [v.stops[-1].leave_s for v in voters] + [v.exit_s for v in passers])
    duration = _r(last + p.post_roll_s)
    if p.clip_s is not None:  # a clipped recording: who comes in before its end, what they drop
        duration = min(duration, _r(p.clip_s))
    visits = [
        Visit(
            v.person_id,
            v.role,
            v.look,
            tuple(v.stops),
            tuple(d for d in v.drops if d.t_s < duration),
            v.group_id,
        )
        for v in voters
        if v.stops[0].arrive_s < duration
    ]
    visits += _staff(stream(election.seed, "staff", sid), election, cam, duration)
    visits += [v for v in passers if v.enter_s < duration]
    visits.sort(key=lambda v: (v.enter_s, v.person_id))
    conditions: list[LabelledCondition] = []
    if not p.clean:
        conditions = sample_conditions(stream(election.seed, "conditions", sid), p.faults, duration)
    counts, counted = _counts(election, voters, open_s)  # the whole day's, clipped or not
    counted = {k: t for k, t in counted.items() if t < duration}
    plan = CameraPlan(
        camera_id=cam,
        station_id=sid,
        start_time=election.clock.polls_open - timedelta(seconds=open_s),
        duration_s=duration,
        visits=tuple(visits),
        conditions=tuple(c.condition for c in conditions),
        width=p.width,
        height=p.height,
        fps=p.fps,
        seed=int(rng.integers(2**31 - 1)),
        box_initial_ballots=0,
        box_capacity_ballots=max(
            int(station["registered"]) * 3 // 2, int(station["registered"]) + 20
        ),
    )
    plan, labelled = _box_out_of_view(plan, tuple(conditions))
    return CameraSchedule(plan, open_s, counts, labelled, counted)
