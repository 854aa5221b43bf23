"""The "carousel" metric block: voters matched across stations against the simulator's truth.

Each stored voter sighting (carousel/sightings: a camera, its slot crops' times
`crop_times`) is labelled with what its crops show (`label_by_box`): per crop, the person in
front at the camera's ballot box then (the truth's stops at `BOX_PLACES`, "box" and
"box_side" beside it: the stays that the slot crop above the box shows; of several there,
the one who entered the room last, whom the simulator draws on top; a sighting from the side
crops, `track_id` `SIDE_TRACK`, shows who stands at "box_side" only); the sighting is that
person's when he is in front in at least half of its crops and nobody else in more than a
quarter; nobody at the box in any crop gives no person (a passer-by, a wrong sighting);
anything else (two people in turn, or one in few crops) is *ambiguous*: left out of the
pairs counted for precision, and a true pair whose visit only ambiguous sightings show is
left out of recall (`true_ambiguous`). A sighting without crop
times (tables written before session 6, or a truth without stops) falls back to the true
person whose ballot drop on that camera is closest in time, within ±3 s, one to one
(`label_sightings`). Then:

* pairs: a *true pair* is two visits (cameras) of one person who dropped ballots at two or more
  stations, both *seen*: the drop fell outside the camera's conditions that hide the box
  (`hiding_ranges`: outage, frozen or dark picture, box blocked, view turned away); it is
  *found* when a sighting of each visit sits in one reported carousel person.
  Recall = found / true pairs (`pairs_all`: the same over every visit, seen or not).
  Precision = pairs of sightings inside reported persons that show one true person / all such
  pairs (a sighting with no person is wrong; a pair with an ambiguous sighting is not counted
  and shows under `pairs.ambiguous`);
* groups: a carousel group seen voting at two or more stations on camera is *recovered* when
  at least 80% of its members seen at two or more stations are reported with two of them;
* clean stations: stations on camera where no carousel group voted; the share with no carousel
  finding visit (the target is >= 98%).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from pollwatch.carousel.voters import SIDE_TRACK
from pollwatch.case import CasePaths
from pollwatch.evaluate.counting_metrics import match_drops
from pollwatch.evaluate.registry import METRICS
from pollwatch.evaluate.truthview import CarouselTruth, carousel_truth, hiding_ranges
from pollwatch.simulate.room import BOX_PLACES
from pollwatch.store import NotFoundError, Store

__all__ = [
    "AMBIGUOUS",
    "box_stays",
    "carousel_block",
    "carousel_scores",
    "label_by_box",
    "label_sightings",
    "observable_drops",
]

_MATCH_S = 3.0
_GROUP_SHARE = 0.8
#: the label of a sighting whose crops show two people, or one in few of them
AMBIGUOUS = "?"
_CLEAR = 0.5  # the person is at the box in at least this share of the crops
_OTHER = 0.25  # and nobody else in more than this share
_PAD_S = 0.5  # a person stepping up to the box or away is in its crop this long


def label_sightings(sightings: pd.DataFrame, drops: pd.DataFrame) -> pd.Series:
    """The true person of each sighting (camera_id, t_s), "" when no voter's drop on its camera
    is within ±3 s (closest first, one to one)."""
    out = pd.Series("", index=sightings.index, dtype=object)
    for cam, rows in sightings.groupby("camera_id"):
        true = drops[drops["camera_id"] == cam]
        if true.empty:
            continue
        matched = match_drops(rows["t_s"].to_numpy(float), true["t_s"].to_numpy(float), _MATCH_S)
        persons = true["person_id"].to_numpy()
        out.loc[rows.index] = [persons[m] if m >= 0 else "" for m in matched]
    return out


def box_stays(truth: Any) -> pd.DataFrame:
    """camera_id, person_id, arrive_s, leave_s, enter_s, place: everyone's stays at the ballot
    box (the truth's stops at places "box" and "box_side") and when they entered the room (the
    truth's visits; the stay's arrival when unknown); empty when the truth has no stops."""
    cols = ["camera_id", "person_id", "arrive_s", "leave_s", "enter_s", "place"]
    stops, visits = (
        truth.get(n) if isinstance(truth, dict) else getattr(truth, n, None)
        for n in ("stops", "visits")
    )
    if not isinstance(stops, pd.DataFrame) or not {*cols[:4], "place"} <= set(stops.columns):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out = stops.loc[stops["place"].isin(BOX_PLACES), [*cols[:4], "place"]].astype(
        {"camera_id": str, "person_id": str, "place": str}
    )
    enter = out["arrive_s"].astype(float)
    if isinstance(visits, pd.DataFrame) and {"camera_id", "person_id", "enter_s"} <= set(
        visits.columns
    ):
        keys = visits.astype({"camera_id": str, "person_id": str}).drop_duplicates(
            ["camera_id", "person_id"]
        )
        when = keys.set_index(["camera_id", "person_id"])["enter_s"]
        found = pd.MultiIndex.from_frame(out[["camera_id", "person_id"]]).map(when.get)
        enter = pd.Series(np.asarray(found, object), index=out.index).fillna(enter).astype(float)
    return out.assign(enter_s=enter)[cols].reset_index(drop=True)


def label_by_box(sightings: pd.DataFrame, stays: pd.DataFrame) -> pd.Series:
    """The person each sighting's crops show (camera_id, crop_times: seconds; see module doc):
    the one in front at the camera's box (`stays`, see `box_stays`) in at least half of the
    crops with nobody else in front in more than a quarter; "" when nobody is at the box in
    any crop; `AMBIGUOUS` otherwise."""
    out = pd.Series("", index=sightings.index, dtype=object)
    for idx, (counts, n) in _box_counts(sightings, stays).items():
        first, second = int(counts.iloc[0]), int(counts.iloc[1]) if len(counts) > 1 else 0
        clear = first >= _CLEAR * n and second <= _OTHER * n
        out.loc[idx] = str(counts.index[0]) if clear else AMBIGUOUS
    return out


def _front(t: np.ndarray, stays: pd.DataFrame) -> np.ndarray:
    """Per time in `t`: the row of `stays` (one camera's) in front at the box, -1 for nobody.
    The slot crop is cut over the box: someone on the box's own spot is in it before someone
    at its side (place "box_side", since session 8: over the slot crops of demo seed 1 taken
    while both places were held, the crop's torso colour was the one at the box's 118 times,
    the one at its side's never, 15 too close to tell); of those on one spot (before session 8
    everyone stood on the box's) the simulator's painter draws the one who entered the room
    last on top; with nobody there, someone within `_PAD_S` of his stay (stepping up or away)
    is in the crop."""
    arrive = stays["arrive_s"].to_numpy(float)[:, None]
    leave = stays["leave_s"].to_numpy(float)[:, None]
    enter = stays["enter_s"].to_numpy(float)
    if "place" in stays.columns:  # the box's own spot first, whoever entered last
        enter = enter + np.where(stays["place"].to_numpy() == "box", 1e9, 0.0)
    enter = enter[:, None]
    at = (t[None, :] >= arrive) & (t[None, :] <= leave)
    near = (t[None, :] >= arrive - _PAD_S) & (t[None, :] <= leave + _PAD_S)
    who = np.where(at.any(axis=0)[None, :], at, near)
    rank = np.where(who, enter, -np.inf)
    return np.where(who.any(axis=0), rank.argmax(axis=0), -1)


def _box_counts(sightings: pd.DataFrame, stays: pd.DataFrame) -> dict[Any, tuple[pd.Series, int]]:
    """Per sighting with someone at the box during its crops: in how many of its crops each
    person was in front at the box (most first), and its number of crops. A side sighting
    (`track_id` `SIDE_TRACK`) counts only the stays at "box_side"."""
    by_cam = {cam: rows for cam, rows in stays.groupby("camera_id")}
    side = (
        sightings["track_id"].eq(SIDE_TRACK)
        if "track_id" in sightings.columns
        else pd.Series(False, index=sightings.index)
    )
    out: dict[Any, tuple[pd.Series, int]] = {}
    for idx, cam, times in sightings[["camera_id", "crop_times"]].itertuples():
        t = np.asarray(times, np.float64)
        rows = by_cam.get(cam)
        if rows is not None and side.loc[idx]:  # the side crops show the side place only
            rows = rows[rows["place"] == "box_side"] if "place" in rows.columns else None
        if rows is None or not len(t) or not len(rows):
            continue
        front = _front(t, rows)
        if (front < 0).all():
            continue
        people = rows["person_id"].to_numpy()[front[front >= 0]]
        out[idx] = (pd.Series(people).value_counts(sort=True), len(t))
    return out


def _unclear_visits(
    sightings: pd.DataFrame, person: pd.Series, stays: pd.DataFrame
) -> set[tuple[str, str]]:
    """(person, camera) of the people at the box in more than a quarter of the crops of an
    ambiguous sighting."""
    out: set[tuple[str, str]] = set()
    ambiguous = sightings[person == AMBIGUOUS]
    for idx, (counts, n) in _box_counts(ambiguous, stays).items():
        cam = str(ambiguous.at[idx, "camera_id"])
        out.update((str(p), cam) for p in counts.index[counts > _OTHER * n])
    return out


def _labels(
    sightings: pd.DataFrame, truth: CarouselTruth, stays: pd.DataFrame | None
) -> tuple[pd.Series, str]:
    """`label_by_box` ("box") where the sightings have crop times and `stays` are known, else
    the nearest drop (`label_sightings`, "drop")."""
    if stays is None or stays.empty or "crop_times" not in sightings.columns:
        return label_sightings(sightings, truth.drops), "drop"
    return label_by_box(sightings, stays), "box"


def _share(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def carousel_scores(
    sightings: pd.DataFrame,
    visits: pd.DataFrame,
    truth: CarouselTruth,
    stays: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Scores of reported carousel `visits` (person_key, track_key, station_id) given every
    voter sighting (track_key, camera_id, station_id, t_s, crop_times), the truth and the
    stays at the box (`box_stays`; None: label by the nearest drop); see module doc."""
    person, how = _labels(sightings, truth, stays)
    by_key = dict(zip(sightings["track_key"], person, strict=True))
    reported = dict(zip(visits["track_key"], visits["person_key"], strict=True))
    seen = sightings.assign(person=person.to_numpy())
    key_of: dict[tuple[str, str], list[str]] = {}  # (person, camera) → its sightings' keys
    for k, p, c in seen[["track_key", "person", "camera_id"]].itertuples(index=False):
        if p and p != AMBIGUOUS:
            key_of.setdefault((p, c), []).append(k)
    drops = truth.drops
    observable = (
        drops["observable"].to_numpy(bool)
        if "observable" in drops.columns
        else np.ones(len(drops), bool)
    )
    unclear: set[tuple[str, str]] = set()
    if how == "box" and stays is not None:  # visits shown only ambiguously are not counted
        unclear = _unclear_visits(sightings, person, stays) - set(key_of)
    every = _pair_counts(drops, key_of, reported, unclear)
    travellers, true_pairs, found, linked, left = _pair_counts(
        drops[observable], key_of, reported, unclear
    )
    pairs, good, unclear_pairs = _reported_pairs(visits, by_key)
    groups = _groups(drops, travellers, linked)
    stations_seen = set(sightings["station_id"]) | set(drops["station_id"])
    carousel_stations = set(truth.stops["station_id"])
    clean = sorted(stations_seen - carousel_stations)
    flagged = set(visits["station_id"])
    clean_flagged = [s for s in clean if s in flagged]
    return {
        "sightings": len(sightings),
        "sightings_with_person": int(((person != "") & (person != AMBIGUOUS)).sum()),
        "sightings_ambiguous": int((person == AMBIGUOUS).sum()),
        "labels": how,
        "voters_at_2_stations": len(travellers),
        "pairs": {
            "true": true_pairs,
            "found": found,
            "reported": pairs,
            "correct": good,
            "ambiguous": unclear_pairs,
            "true_ambiguous": left,
            "recall": _share(found, true_pairs),
            "precision": _share(good, pairs),
        },
        "pairs_all": {
            "true": every[1],
            "found": every[2],
            "recall": _share(every[2], every[1]),
            "true_ambiguous": every[4],
        },
        "groups": groups,
        "findings": int(visits["person_key"].nunique()) if len(visits) else 0,
        "clean_stations": {
            "stations": len(clean),
            "flagged": len(clean_flagged),
            "share_without_finding": _share(len(clean) - len(clean_flagged), len(clean)),
            "flagged_ids": clean_flagged,
        },
    }


def _reported_pairs(visits: pd.DataFrame, person_of: dict[str, str]) -> tuple[int, int, int]:
    """Over the pairs of sightings inside each reported person (`visits`): how many are
    counted, how many of those show one true person (`person_of`: a sighting's track key to
    its label), and how many are left out for an `AMBIGUOUS` sighting."""
    pairs = good = unclear = 0
    for _, rows in visits.groupby("person_key"):
        for a, b in combinations(rows["track_key"].tolist(), 2):
            pa, pb = person_of.get(a, ""), person_of.get(b, "")
            if AMBIGUOUS in (pa, pb):
                unclear += 1
                continue
            pairs += 1
            good += bool(pa) and pa == pb
    return pairs, good, unclear


def _pair_counts(
    drops: pd.DataFrame,
    key_of: dict[tuple[str, str], list[str]],
    reported: dict[str, str],
    unclear: set[tuple[str, str]],
) -> tuple[set[str], int, int, dict[str, set[str]], int]:
    """Over the voters' `drops`: the persons with drops at two or more stations, their true
    pairs of visits (one visit per person and camera), the pairs found (a sighting of each
    visit in one reported person), the stations each person was linked at, and the pairs
    left out because a visit is only in ambiguous sightings (`unclear`: person, camera)."""
    visits_true = drops.drop_duplicates(["person_id", "camera_id"])
    n_st = visits_true.groupby("person_id")["station_id"].nunique()
    travellers = set(n_st[n_st >= 2].index)
    true_pairs = found = left = 0
    linked: dict[str, set[str]] = {}
    for pid, rows in visits_true[visits_true["person_id"].isin(travellers)].groupby("person_id"):
        for (ca, sa), (cb, sb) in combinations(rows[["camera_id", "station_id"]].to_numpy(), 2):
            if sa == sb:
                continue
            if (pid, ca) in unclear or (pid, cb) in unclear:
                left += 1
                continue
            true_pairs += 1
            at_a = {reported[k] for k in key_of.get((pid, ca), []) if k in reported}
            at_b = {reported[k] for k in key_of.get((pid, cb), []) if k in reported}
            if at_a & at_b:
                found += 1
                linked.setdefault(pid, set()).update((sa, sb))
    return travellers, true_pairs, found, linked, left


def observable_drops(drops: pd.DataFrame, truth: Any) -> pd.Series:
    """Per drop (camera_id, t_s): whether the camera showed it (no hiding condition then)."""
    out = pd.Series(True, index=drops.index)
    for cam, rows in drops.groupby("camera_id"):
        t = rows["t_s"].to_numpy(float)
        hidden = np.zeros(len(t), bool)
        for a, b in hiding_ranges(truth, str(cam)):
            hidden |= (t >= a) & (t <= b)
        out.loc[rows.index] = ~hidden
    return out


def _groups(
    drops: pd.DataFrame, travellers: set[str], linked: dict[str, set[str]]
) -> dict[str, Any]:
    members = drops[drops["person_id"].isin(travellers) & (drops["group_id"] != "")]
    out: dict[str, Any] = {}
    for gid, rows in members.groupby("group_id"):
        pids = sorted(set(rows["person_id"]))
        got = [p for p in pids if len(linked.get(p, ())) >= 2]
        out[str(gid)] = {
            "members_on_camera": len(pids),
            "members_recovered": len(got),
            "recovered": len(got) >= _GROUP_SHARE * len(pids),
        }
    n = len(out)
    ok = sum(g["recovered"] for g in out.values())
    return {"groups": n, "recovered": ok, "share": _share(ok, n), "by_group": out}


@METRICS.registering("carousel", order=60)
def carousel_block(paths: CasePaths, truth: Any) -> dict[str, Any]:
    """Pairwise precision/recall of voters seen at >= 2 stations, groups recovered, clean
    stations without a carousel finding (see module doc)."""
    t = carousel_truth(truth)
    t = CarouselTruth(t.drops.assign(observable=observable_drops(t.drops, truth)), t.stops)
    stays = box_stays(truth)
    with Store.existing(paths.db_path) as store:
        sightings = store.read_tables("carousel", "sightings")
        try:
            visits = store.read_table("carousel", "visits")
        except NotFoundError:
            return {"error": "the carousel step has not run"}
    if "track_key" not in sightings.columns:
        sightings = pd.DataFrame(columns=["track_key", "camera_id", "station_id", "t_s"])
    sightings = sightings.reset_index(drop=True)
    scores = carousel_scores(sightings, visits, t, stays)
    scores["sightings_per_voter_drop"] = round(
        float(np.divide(len(sightings), max(len(t.drops), 1))), 3
    )
    return scores
