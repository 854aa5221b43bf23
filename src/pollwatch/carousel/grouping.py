"""From matched pairs to persons, and from persons to groups that travel together.

Persons: constrained agglomeration of the candidate pairs, strongest first (Kruskal order over a
union–find). Two clusters merge only if (a) the linking pair's match probability reaches
`link_probability` and, when `require_mutual`, each sighting was among the other's nearest
neighbours; (b) every pair across the two clusters is feasible (one person cannot be at two
stations too close in time); and (c) the mean match probability over all pairs across the two
clusters reaches `average_probability` (average linkage). (b) and (c) stop chaining through a
weak link: a look-alike who joins one sighting of a person must also look like the others.

Group support of a pair: a carousel group moves together, so a true match (a at station A at
time t_a, b at station B at t_b) comes with other plausible matches between A and B at about the
same times (the co-travellers'). Its support m counts the other plausible pairs (a' ≠ a,
b' ≠ b) between the same two stations with |t_a' − t_a| ≤ `together_s` and |t_b' − t_b| ≤
`together_s`. By chance alone (no group), with N plausible pairs between A and B spread over the
stations' observed days D_A and D_B, m is Poisson with λ = (N − 1)·min(1, 2w/D_A)·min(1, 2w/D_B);
the tail p = P(X ≥ m | λ) becomes a Bayes factor with the bound of Sellke, Bayarri & Berger
(2001), BF = 1/(−e·p·ln p) for p < 1/e (else 1), capped at `max_bayes_factor`.

Groups of persons: two persons travel together when they were seen within `together_s` of each
other at `min_shared_stations` or more stations; groups are the connected components. A group's
joint evidence (`group_probability`): its members' own match probabilities q (by appearance
alone) make at least one of them a match with 1 − Π(1 − q), the look-alikes taken as
independent; the detector may anchor a group on it (`CarouselParams.group_anchor_probability`).

Group completion (`complete_groups`): where a group was seen at a station, a member with no
sighting there most likely voted there too, seen from an angle that hid what matched him
elsewhere. Each unlinked sighting at that station within `together_s` of the group's visit is
scored by its mean cosine to the member's sightings; the best pairs (one sighting per member,
one member per sighting) join when that mean reaches `min_similarity`.

Joining a group (`attach_to_groups`, after completion): a person with no co-traveller seen
within `together_s` of one group's visit (and no other's) is most likely a member whom the
linkage cut in two (demo seed 76: member m3 was one person at two stations, cosine 0.96, and
another at the group's other two, the two halves 0.29–0.59 alike). It merges with the group's
member seen at none of its stations whose sightings it is most alike on average, when that
mean reaches `min_similarity` and every trip between the two is possible; else, at each other
station of the group, it takes the unlinked sighting within `together_s` of the group's visit
there that it is most alike on average, from the same mean.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse, stats
from scipy.sparse import csgraph

__all__ = [
    "attach_to_groups",
    "chain_probability",
    "chance_bayes_factor",
    "co_travel",
    "complete_groups",
    "group_probability",
    "link_persons",
    "pair_support",
    "person_members",
    "seen_with",
    "strong_core",
]

PairFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def link_persons(
    n: int,
    i: np.ndarray,
    j: np.ndarray,
    probability: np.ndarray,
    mutual: np.ndarray,
    *,
    feasible: PairFn,
    pair_probability: PairFn,
    link_probability: float = 0.5,
    average_probability: float = 0.5,
    require_mutual: bool = True,
) -> np.ndarray:
    """Person label of each of `n` sightings (see module doc); unlinked sightings get their own.

    `feasible(a, b)` and `pair_probability(a, b)` take arrays of sighting rows."""
    for name, value in (
        ("link_probability", link_probability),
        ("average_probability", average_probability),
    ):
        if not 0 < value < 1:
            raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    keep = probability >= link_probability
    if require_mutual:
        keep &= mutual
    order = np.flatnonzero(keep)[np.argsort(-probability[keep], kind="stable")]
    parent = np.arange(n)
    members: dict[int, list[int]] = {}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in order:
        ra, rb = root(int(i[e])), root(int(j[e]))
        if ra == rb:
            continue
        ma, mb = members.get(ra, [ra]), members.get(rb, [rb])
        a = np.repeat(ma, len(mb))
        b = np.tile(mb, len(ma))
        if not np.all(feasible(a, b)):
            continue
        if float(np.mean(pair_probability(a, b))) < average_probability:
            continue
        if len(ma) < len(mb):
            ra, rb, ma, mb = rb, ra, mb, ma
        parent[rb] = ra
        members[ra] = ma + mb
        members.pop(rb, None)
    return np.array([root(x) for x in range(n)])


def co_travel(
    person: np.ndarray,
    station: np.ndarray,
    time: np.ndarray,
    *,
    together_s: float,
    min_shared_stations: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """For visits (person, station code, time) of candidate persons 0..P-1: the group label of
    each person (connected components of travelling together) and its number of co-travellers."""
    if together_s <= 0:
        raise ValueError(f"together_s must be positive, got {together_s!r}")
    if min_shared_stations < 1:
        raise ValueError(f"min_shared_stations must be >= 1, got {min_shared_stations!r}")
    n_persons = int(person.max()) + 1 if len(person) else 0
    if n_persons == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort((time, station))
    p, s, t = person[order], station[order], time[order]
    # Within each station, pair every visit with the later visits inside the window.
    key_end = np.empty(len(t), np.int64)
    for code in np.unique(s):
        lo, hi = np.searchsorted(s, code, "left"), np.searchsorted(s, code, "right")
        key_end[lo:hi] = lo + np.searchsorted(t[lo:hi], t[lo:hi] + together_s, side="right")
    counts = key_end - np.arange(len(t)) - 1
    a = np.repeat(np.arange(len(t)), counts)
    b = a + (np.arange(len(a)) - np.repeat(np.cumsum(counts) - counts, counts)) + 1
    pa, pb, st = p[a], p[b], s[a]
    diff = pa != pb
    pa, pb, st = np.minimum(pa, pb)[diff], np.maximum(pa, pb)[diff], st[diff]
    triples = np.unique(np.stack([pa, pb, st], axis=1), axis=0) if len(pa) else np.zeros((0, 3))
    if len(triples):
        pairs, shared = np.unique(triples[:, :2], axis=0, return_counts=True)
        pairs = pairs[shared >= min_shared_stations]
    else:
        pairs = np.zeros((0, 2), np.int64)
    graph = sparse.coo_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n_persons, n_persons)
    ).tocsr()
    _, labels = csgraph.connected_components(graph, directed=False)
    degree = np.bincount(pairs.ravel().astype(np.int64), minlength=n_persons)
    return labels.astype(np.int64), degree.astype(np.int64)


def chance_bayes_factor(met: int, expected: float, max_bayes_factor: float = 1000.0) -> float:
    """Bayes factor for meeting `met` co-travellers when chance alone gives `expected`
    (Poisson tail, Sellke–Bayarri–Berger bound, capped; see module doc)."""
    if met < 0 or expected < 0:
        raise ValueError(f"met and expected must be >= 0, got {met!r}, {expected!r}")
    if met == 0:
        return 1.0
    p = float(stats.poisson.sf(met - 1, max(expected, 1e-12)))
    if p >= 1 / np.e:
        return 1.0
    if p <= 0:
        return max_bayes_factor
    return float(min(max_bayes_factor, 1.0 / (-np.e * p * np.log(p))))


def pair_support(
    station_a: np.ndarray,
    station_b: np.ndarray,
    time_a: np.ndarray,
    time_b: np.ndarray,
    row_a: np.ndarray,
    row_b: np.ndarray,
    span: np.ndarray,
    *,
    together_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Support m and chance expectation λ of each plausible pair (see module doc).

    Pairs are oriented (`time_a` <= `time_b`); `span[s]` is station s's observed day length."""
    if together_s <= 0:
        raise ValueError(f"together_s must be positive, got {together_s!r}")
    n = len(station_a)
    support = np.zeros(n, np.int64)
    expected = np.zeros(n)
    if n == 0:
        return support, expected
    key = station_a.astype(np.int64) * (int(span.shape[0]) + 1) + station_b
    order = np.lexsort((time_a, key))
    sk = key[order]
    cuts = np.flatnonzero(np.diff(sk)) + 1
    for part in np.split(order, cuts):
        if len(part) < 2:
            continue
        ta, tb, ra, rb = time_a[part], time_b[part], row_a[part], row_b[part]
        for x in range(len(part)):
            near = (np.abs(ta - ta[x]) <= together_s) & (np.abs(tb - tb[x]) <= together_s)
            near &= (ra != ra[x]) & (rb != rb[x]) & (ra != rb[x]) & (rb != ra[x])
            support[part[x]] = int(near.sum())
        sa, sb = int(station_a[part[0]]), int(station_b[part[0]])
        window = min(1.0, 2 * together_s / span[sa]) * min(1.0, 2 * together_s / span[sb])
        expected[part] = (len(part) - 1) * window
    return support, expected


def complete_groups(
    person: np.ndarray,
    group: np.ndarray,
    station: np.ndarray,
    time: np.ndarray,
    embedding: np.ndarray,
    *,
    together_s: float,
    min_similarity: float,
) -> np.ndarray:
    """Person labels of the sightings (-1: none) after group completion (see module doc).
    `group[p]` is person p's group label, -1 for a person with no co-traveller."""
    if together_s <= 0:
        raise ValueError(f"together_s must be positive, got {together_s!r}")
    out = person.copy()
    if not len(group):
        return out
    own = person_members(out, len(group))
    free = np.flatnonzero(out < 0)
    free = free[np.lexsort((time[free], station[free]))]
    free_station, free_time = station[free], time[free]
    for g in np.unique(group[group >= 0]):
        persons = np.flatnonzero(group == g)
        if len(persons) < 2:
            continue
        rows = np.concatenate([own[q] for q in persons])
        for s in np.unique(station[rows]):
            at = rows[station[rows] == s]
            lo = np.searchsorted(free_station, s, "left")
            hi = np.searchsorted(free_station, s, "right")
            t = free_time[lo:hi]
            a = lo + np.searchsorted(t, time[at].min() - together_s, "left")
            b = lo + np.searchsorted(t, time[at].max() + together_s, "right")
            near = free[a:b]
            near = near[out[near] < 0]
            lacking = [q for q in persons if len(own[q]) and not np.any(station[own[q]] == s)]
            if not len(near) or not lacking:
                continue
            score = np.array(
                [(embedding[near] @ embedding[own[q]].T).mean(axis=1) for q in lacking]
            )
            while score.max() >= min_similarity:
                qa, nb = np.unravel_index(int(np.argmax(score)), score.shape)
                out[near[nb]] = lacking[qa]
                own[lacking[qa]] = np.r_[own[lacking[qa]], near[nb]]
                score[qa, :] = -np.inf
                score[:, nb] = -np.inf
    return out


def attach_to_groups(
    person: np.ndarray,
    group: np.ndarray,
    met: np.ndarray,
    station: np.ndarray,
    time: np.ndarray,
    embedding: np.ndarray,
    *,
    together_s: float,
    min_similarity: float,
    feasible: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Person labels of the sightings (-1: none) after lone persons join a travelling group
    (see module doc): a person with no co-traveller (`met` 0) seen within `together_s` of one
    group's visit (a group of persons with `met` > 0) at some station, and of no other group's,
    merges with the member seen at none of its stations that it is most alike on average, when
    that mean cosine reaches `min_similarity` and `feasible(a, b)` allows every trip between
    them (no merging without `feasible`); else it takes, at each other station of that group,
    the unlinked sighting within `together_s` of the group's visit there that it is most alike
    on average, from the same mean. Person labels are kept: a merged person is left empty."""
    if together_s <= 0:
        raise ValueError(f"together_s must be positive, got {together_s!r}")
    out = person.copy()
    own = person_members(out, len(group))
    # each group's visit to each of its stations: (first, last) sighting time
    visits: dict[tuple[int, int], tuple[float, float]] = {}
    for k in np.flatnonzero(met > 0):
        for r in own[k]:
            key = (int(group[k]), int(station[r]))
            lo, hi = visits.get(key, (np.inf, -np.inf))
            visits[key] = (min(lo, float(time[r])), max(hi, float(time[r])))
    at_station: dict[int, list[tuple[int, float, float]]] = {}
    group_stations: dict[int, list[int]] = {}
    for (g, s), (lo, hi) in visits.items():
        at_station.setdefault(s, []).append((g, lo - together_s, hi + together_s))
        group_stations.setdefault(g, []).append(s)
    for k in np.flatnonzero(met == 0):
        rows = own[k]
        if len(rows) < 2:
            continue
        met_by = {
            g
            for r in rows
            for g, lo, hi in at_station.get(int(station[r]), ())
            if lo <= time[r] <= hi
        }
        if len(met_by) != 1:
            continue
        g = met_by.pop()
        if feasible is not None:
            # a member of the group seen at none of the person's stations may be the same
            # person cut in two by the linkage (two angles, two halves of his day)
            best_q, best_score = -1, min_similarity
            for q in np.flatnonzero((group == g) & (met > 0)):
                theirs = own[q]
                if not len(theirs) or np.isin(station[theirs], station[rows]).any():
                    continue
                a, b = np.repeat(rows, len(theirs)), np.tile(theirs, len(rows))
                score = float((embedding[rows] @ embedding[theirs].T).mean())
                if score >= best_score and feasible(a, b).all():
                    best_q, best_score = int(q), score
            if best_q >= 0:
                out[rows] = best_q
                own[best_q] = np.r_[own[best_q], rows]
                continue
        for s in group_stations[g]:
            if np.any(station[rows] == s):
                continue
            lo, hi = visits[(g, s)]
            near = np.flatnonzero(
                (out < 0) & (station == s) & (time >= lo - together_s) & (time <= hi + together_s)
            )
            if not len(near):
                continue
            score = (embedding[near] @ embedding[rows].T).mean(axis=1)
            best = int(np.argmax(score))
            if score[best] >= min_similarity:
                out[near[best]] = k
    return out


def _strongest_tree(
    probability: np.ndarray, bar: float | np.ndarray = -1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Prim's maximum spanning tree of a symmetric (k, k) matrix of pair probabilities, grown
    from the strongest pair (both its ends first) while an edge reaching a new sighting is at
    least that sighting's `bar` (one for all, or one per sighting), the strongest such edge
    first: the sightings joined in order, and the probability of the edge that joined each
    (the first two: the strongest pair's)."""
    k = len(probability)
    bars = np.broadcast_to(np.asarray(bar, np.float64), (k,))
    a, b = np.triu_indices(k, 1)
    best = int(np.argmax(probability[a, b]))
    order, edge = [int(a[best]), int(b[best])], [float(probability[a[best], b[best]])] * 2
    joined = np.zeros(k, bool)
    joined[order] = True
    while not joined.all():
        open_ = joined[:, None] & ~joined[None, :] & (probability >= bars[None, :])
        reach = np.where(open_, probability, -np.inf)
        i, j = np.unravel_index(int(np.argmax(reach)), reach.shape)
        if not open_[i, j]:
            break
        order.append(int(j))
        edge.append(float(probability[i, j]))
        joined[j] = True
    return np.asarray(order, np.int64), np.asarray(edge, np.float64)


def _pair_matrix(probability: np.ndarray) -> np.ndarray:
    p = np.asarray(probability, np.float64)
    if p.ndim != 2 or p.shape != (len(p), len(p)) or len(p) < 2:
        raise ValueError(f"probability must be a (k, k) matrix with k >= 2, got {p.shape}")
    return p


def chain_probability(probability: np.ndarray, agree: float) -> float | None:
    """The probability that a person's sightings are one person from all of its pairs'
    match probabilities (`probability`: symmetric (k, k), k >= 3), when every pair agrees
    (reaches `agree`); None when one does not. Each sighting joins the chain by its most
    probable pair to those before it, strongest first (a maximum spanning tree, Prim), and
    the chain's odds are the product of those k - 1 pairs' odds: each pair counts its own
    prior, and the pairs' similarities are taken as separate evidence, which a chain of
    look-alikes (same shirt, hair and skin) would break at its weakest pair, hence `agree`
    on every pair (see docs/carousel.md, session 12)."""
    p = _pair_matrix(probability)
    if len(p) < 3:
        raise ValueError(f"probability must be a (k, k) matrix with k >= 3, got {p.shape}")
    if not 0 < agree < 1:
        raise ValueError(f"agree must be in (0, 1), got {agree!r}")
    a, b = np.triu_indices(len(p), 1)
    if np.any(p[a, b] < agree):
        return None
    q = np.minimum(_strongest_tree(p)[1][1:], 1 - 1e-12)
    return float(1.0 / (1.0 + np.exp(-np.sum(np.log(q / (1 - q))))))


def strong_core(probability: np.ndarray, bar: float | np.ndarray) -> np.ndarray:
    """Which of a person's sightings the evidence holds together (`probability`: its pairs'
    match probabilities, symmetric (k, k), k >= 2): its strongest pair, and every sighting
    joined to those by a chain of pairs each reaching `bar` (the maximum spanning tree grown
    from the strongest pair, cut at its first edge under `bar`). Group completion (a cosine
    of 0.2) and the average linkage (a mean probability) can join a look-alike to a right
    person (demo 166: a voter at a fourth station at 0.02-0.09 to a member's three
    sightings; demo 168: one at 0.55 and 0.69; docs/carousel.md, session 13 carprec13).
    `bar` may be one per sighting (a (k,) vector: the edge that joins a sighting must reach
    its own; the strongest pair stays whatever its ends' bars). Returns a boolean mask."""
    p = _pair_matrix(probability)
    bars = np.asarray(bar, np.float64)
    if bars.ndim > 1 or (bars.ndim == 1 and len(bars) != len(p)):
        raise ValueError(f"bar must be a number or one per sighting ({len(p)}), got {bar!r}")
    if np.any(np.isnan(bars)) or np.any((bars < 0) | (bars > 1)):
        raise ValueError(f"bar must be in [0, 1], got {bar!r}")
    keep = np.zeros(len(p), bool)
    keep[_strongest_tree(p, bars)[0]] = True
    return keep


def seen_with(
    rows: np.ndarray,
    others: np.ndarray,
    station: np.ndarray,
    time: np.ndarray,
    *,
    together_s: float,
) -> np.ndarray:
    """Per sighting of `rows`: whether a sighting of `others` was taken at its station within
    `together_s` of it (a person's co-travellers seen with it there). A carousel group votes
    together, so a member's sighting where none of its co-travellers was seen has only its
    own appearance behind it: five of the seven wrong sightings that the linkage had joined
    to right persons on the tuning cases were such, and none of the right ones under a pair
    probability of 0.99 (docs/carousel.md, session 14)."""
    if together_s <= 0:
        raise ValueError(f"together_s must be positive, got {together_s!r}")
    rows, others = np.asarray(rows, np.int64), np.asarray(others, np.int64)
    if not len(rows) or not len(others):
        return np.zeros(len(rows), bool)
    near = np.abs(time[others][None, :] - time[rows][:, None]) <= together_s
    return (near & (station[others][None, :] == station[rows][:, None])).any(axis=1)


def group_probability(probability: np.ndarray) -> float:
    """The probability that at least one of a group's persons is a match, from each one's
    own match probability (`probability`, by appearance alone: no group support in it),
    the persons' look-alikes taken as independent: 1 − Π(1 − q). Three members linked
    between the same two stations at 0.98, 0.7 and 0.56 (demo 126) are all look-alikes
    with probability 0.0026: the group is a carousel with 0.9974 although no member reaches
    0.99 on its own (docs/carousel.md, session 13)."""
    q = np.asarray(probability, np.float64)
    if q.ndim != 1 or np.any((q < 0) | (q > 1)) or np.any(np.isnan(q)):
        raise ValueError(f"probability must be a vector in [0, 1], got {probability!r}")
    return float(-np.expm1(np.sum(np.log1p(-np.minimum(q, 1.0 - 1e-15)))))


def person_members(person: np.ndarray, n_persons: int) -> list[np.ndarray]:
    """The sighting rows of each person 0..`n_persons` − 1 (ascending; -1 in `person`: no
    person), in one sort rather than a scan of every row per person."""
    rows = np.flatnonzero(person >= 0)
    rows = rows[np.argsort(person[rows], kind="stable")]
    bounds = np.searchsorted(person[rows], np.arange(n_persons + 1))
    return [rows[bounds[k] : bounds[k + 1]] for k in range(n_persons)]
