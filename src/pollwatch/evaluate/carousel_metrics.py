"""The "carousel" metric block: voters matched across stations against the simulator's truth.

Each stored voter sighting (carousel/sightings: a camera and the time its track dropped a
ballot) is given the true person whose ballot drop on that camera is closest in time, within
±3 s, one to one (else no person). Then:

* pairs: a *true pair* is two visits (cameras) of one person who dropped ballots at two or more
  stations, both *seen*: the drop fell outside the camera's conditions that hide the box
  (`hiding_ranges`: outage, frozen or dark picture, box blocked, view turned away); it is
  *found* when both visits have a sighting and the two sit in one reported carousel person.
  Recall = found / true pairs (`pairs_all`: the same over every visit, seen or not).
  Precision = pairs of sightings inside reported persons that show one true person / all such
  pairs (a sighting with no person is wrong);
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

from pollwatch.case import CasePaths
from pollwatch.evaluate.counting_metrics import match_drops
from pollwatch.evaluate.registry import METRICS
from pollwatch.evaluate.truthview import CarouselTruth, carousel_truth, hiding_ranges
from pollwatch.store import NotFoundError, Store

__all__ = ["carousel_block", "carousel_scores", "label_sightings", "observable_drops"]

_MATCH_S = 3.0
_GROUP_SHARE = 0.8


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


def _share(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def carousel_scores(
    sightings: pd.DataFrame, visits: pd.DataFrame, truth: CarouselTruth
) -> dict[str, Any]:
    """Scores of reported carousel `visits` (person_key, track_key, station_id) given every
    voter sighting (track_key, camera_id, station_id, t_s) and the truth; see module doc."""
    person = label_sightings(sightings, truth.drops)
    by_key = dict(zip(sightings["track_key"], person, strict=True))
    reported = dict(zip(visits["track_key"], visits["person_key"], strict=True))
    seen = sightings.assign(person=person.to_numpy())
    key_of = {  # (person, camera) → a sighting's track key
        (p, c): k
        for k, p, c in seen[["track_key", "person", "camera_id"]].itertuples(index=False)
        if p
    }
    drops = truth.drops
    observable = (
        drops["observable"].to_numpy(bool)
        if "observable" in drops.columns
        else np.ones(len(drops), bool)
    )
    every = _pair_counts(drops, key_of, reported)
    travellers, true_pairs, found, linked = _pair_counts(drops[observable], key_of, reported)
    good = pairs = 0
    for _, rows in visits.groupby("person_key"):
        for a, b in combinations(rows["track_key"].tolist(), 2):
            pairs += 1
            pa, pb = by_key.get(a, ""), by_key.get(b, "")
            good += bool(pa) and pa == pb
    groups = _groups(drops, travellers, linked)
    stations_seen = set(sightings["station_id"]) | set(drops["station_id"])
    carousel_stations = set(truth.stops["station_id"])
    clean = sorted(stations_seen - carousel_stations)
    flagged = set(visits["station_id"])
    clean_flagged = [s for s in clean if s in flagged]
    return {
        "sightings": len(sightings),
        "sightings_with_person": int((person != "").sum()),
        "voters_at_2_stations": len(travellers),
        "pairs": {
            "true": true_pairs,
            "found": found,
            "reported": pairs,
            "correct": good,
            "recall": _share(found, true_pairs),
            "precision": _share(good, pairs),
        },
        "pairs_all": {"true": every[1], "found": every[2], "recall": _share(every[2], every[1])},
        "groups": groups,
        "findings": int(visits["person_key"].nunique()) if len(visits) else 0,
        "clean_stations": {
            "stations": len(clean),
            "flagged": len(clean_flagged),
            "share_without_finding": _share(len(clean) - len(clean_flagged), len(clean)),
            "flagged_ids": clean_flagged,
        },
    }


def _pair_counts(
    drops: pd.DataFrame, key_of: dict[tuple[str, str], str], reported: dict[str, str]
) -> tuple[set[str], int, int, dict[str, set[str]]]:
    """Over the voters' `drops`: the persons with drops at two or more stations, their true
    pairs of visits (one visit per person and camera), the pairs found (both sightings in
    one reported person) and the stations each person was linked at."""
    visits_true = drops.drop_duplicates(["person_id", "camera_id"])
    n_st = visits_true.groupby("person_id")["station_id"].nunique()
    travellers = set(n_st[n_st >= 2].index)
    true_pairs = found = 0
    linked: dict[str, set[str]] = {}
    for pid, rows in visits_true[visits_true["person_id"].isin(travellers)].groupby("person_id"):
        for (ca, sa), (cb, sb) in combinations(rows[["camera_id", "station_id"]].to_numpy(), 2):
            if sa == sb:
                continue
            true_pairs += 1
            ka, kb = key_of.get((pid, ca)), key_of.get((pid, cb))
            if ka in reported and kb in reported and reported[ka] == reported[kb]:
                found += 1
                linked.setdefault(pid, set()).update((sa, sb))
    return travellers, true_pairs, found, linked


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
    with Store.existing(paths.db_path) as store:
        sightings = store.read_tables("carousel", "sightings")
        try:
            visits = store.read_table("carousel", "visits")
        except NotFoundError:
            return {"error": "the carousel step has not run"}
    if "track_key" not in sightings.columns:
        sightings = pd.DataFrame(columns=["track_key", "camera_id", "station_id", "t_s"])
    sightings = sightings.reset_index(drop=True)
    scores = carousel_scores(sightings, visits, t)
    scores["sightings_per_voter_drop"] = round(
        float(np.divide(len(sightings), max(len(t.drops), 1))), 3
    )
    return scores
