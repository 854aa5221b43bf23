"""Drop episodes: the counter's ballot drops of one camera grouped into bursts of activity at
the slot, each with what a stuffer leaves behind.

An *episode* is a run of drops (`counting/drops`) each within `gap_s` of the previous one: a
voter's single drop, a family or a group dropping one after another, or a stuffer's repeated
hand movements. Per episode: the hand movements at the slot (`insertions`: drops less than
`hand_gap_s` apart are one movement; the counter places the ballots only the pile showed at
the moment the pile passed each step, several at once), the ballots the counter put in them
(`counted`: a bundle counts its ballots; the drops only the pile showed, evidence "fill",
count only as far as the pile's rise across the episode shows ballots beyond those seen going
in; `seen`: those of the drops a hand was seen going in, the rest are the pile's reading),
the pile's rise across the episode in per-ballot steps (`fill_ballots`, NaN where the
pile cannot be read or the camera's step is not resolved), the ballots taken for the episode
(`ballots`: the counted ones, or the pile's rise where it is far larger), the stretch someone
was at the box (`dwell_s`) and its robust z-score against the camera's episodes of a single
hand (`dwell_z`), and the largest gap between two of its drops (`max_gap_s`, NaN for one
drop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pollwatch.stuffing.fill import FillCurve, counting_curve, rise_between

__all__ = ["EPISODE_COLUMNS", "EpisodeOptions", "find_episodes", "robust_z"]

EPISODE_COLUMNS = [
    "episode",
    "start_s",
    "end_s",
    "insertions",
    "counted",
    "seen",
    "fill_ballots",
    "ballots",
    "dwell_s",
    "dwell_z",
    "max_gap_s",
    "evidence",
]


@dataclass(frozen=True)
class EpisodeOptions:
    """How drops are grouped and when the pile's rise overrides the counted ballots."""

    gap_s: float = 2.5  # drops this close belong to one episode (a stuffer: 1–2 s apart)
    # the pile rose this many ballots above those counted: take it (legitimate episodes of
    # nine demo cases: 99th percentile of the rise over the counted ballots 1.8, largest 3.66;
    # a bundle of 8, demo's smallest, left uncounted shows 7)
    rise_excess: float = 5.0
    # drops closer than this are one hand movement: the counter placed several ballots the
    # pile alone showed at one moment (demo 71: a voter's two such drops 0.0 s apart)
    hand_gap_s: float = 0.3
    # the pile shows a new level fully this long after the drop (the encoder's next
    # keyframe); an episode's rise is measured from the level settled after the previous one
    # (demo 82: a voter 2.6 s after a bundle of 13 read a rise of 17)
    settle_s: float = 2.5

    def __post_init__(self) -> None:
        if not self.gap_s > 0:
            raise ValueError(f"gap_s must be positive, got {self.gap_s}")
        if not 0 <= self.hand_gap_s < self.gap_s:
            raise ValueError(f"hand_gap_s must be in [0, gap_s), got {self.hand_gap_s}")
        if not self.settle_s >= 0:
            raise ValueError(f"settle_s must be >= 0, got {self.settle_s}")
        if not self.rise_excess > 0:
            raise ValueError(f"rise_excess must be positive, got {self.rise_excess}")


def robust_z(values: np.ndarray, reference: np.ndarray, *, floor: float) -> np.ndarray:
    """(values − median) / (1.4826 · MAD) of `reference`, the scale at least `floor`; NaN
    for every value when `reference` holds no finite number."""
    ref = np.asarray(reference, float)
    ref = ref[np.isfinite(ref)]
    vals = np.asarray(values, float)
    if ref.size == 0:
        return np.full(vals.shape, np.nan)
    med = float(np.median(ref))
    scale = max(1.4826 * float(np.median(np.abs(ref - med))), floor)
    return (vals - med) / scale


def _counted(part: pd.DataFrame, fill_ballots: float) -> tuple[int, int]:
    """(counted, seen): the ballots of an episode's drops, and those of its drops a hand
    was seen going in; those only the pile showed (evidence "fill") count no more than the
    pile's rise across the episode shows beyond the ballots seen going in (the counter reads
    the pile from one level to the next, which may reach beyond the episode)."""
    if "evidence" not in part:
        total = int(part["ballots"].sum())
        return total, total
    pile_only = (part["evidence"].astype(str) == "fill").to_numpy()
    seen = int(part.loc[~pile_only, "ballots"].sum())
    only = int(part.loc[pile_only, "ballots"].sum())
    if only and np.isfinite(fill_ballots):
        only = min(only, max(0, round(fill_ballots) - seen))
    return seen + only, seen


def find_episodes(
    drops: pd.DataFrame,
    curve: FillCurve | None,
    step_px: float,
    options: EpisodeOptions | None = None,
    *,
    joined: np.ndarray | None = None,
) -> pd.DataFrame:
    """The camera's drop episodes (`EPISODE_COLUMNS`, in time order) from its drops
    (`counting/drops`: t_s, ballots, evidence, dwell_s), its pile level `curve` and the pile's
    rise per ballot `step_px` (NaN: the pile cannot count ballots). `joined`: drop times that
    continue the episode before them however long the pause (`sides.one_person_pauses`)."""
    o = options or EpisodeOptions()
    missing = [c for c in ("t_s", "ballots", "dwell_s") if c not in drops]
    if missing:
        raise ValueError(f"drops lack column(s) {missing}")
    d = drops.sort_values("t_s", kind="stable").reset_index(drop=True)
    if d.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in EPISODE_COLUMNS})
    t = d["t_s"].to_numpy(float)
    breaks = np.diff(t) > o.gap_s
    if joined is not None and len(joined):
        breaks &= ~np.isin(t[1:], np.asarray(joined, float))
    label = np.concatenate([[0], np.cumsum(breaks)])
    pile = counting_curve(curve, step_px)
    rows = []
    settled = -np.inf  # the pile's level settled after the previous episode from here on
    # each episode's next one starts here: the level after an episode is read before it
    starts = pd.Series(t).groupby(label).min().to_numpy(float)
    for k, idx in pd.Series(np.arange(len(d))).groupby(label):
        part = d.iloc[idx.to_numpy()]
        start, end = float(part["t_s"].min()), float(part["t_s"].max())
        rise = np.nan
        if pile is not None:
            upto = float(starts[k + 1]) if k + 1 < len(starts) else np.inf
            rise = rise_between(
                pile, start, end, settle_s=o.settle_s, not_before=settled, not_after=upto
            )
        settled = end + o.settle_s
        fill_ballots = rise / step_px if np.isfinite(rise) else np.nan
        counted, seen = _counted(part, fill_ballots)
        ballots = counted
        if np.isfinite(fill_ballots) and fill_ballots >= counted + o.rise_excess:
            ballots = round(fill_ballots)
        cues = sorted(set(part["evidence"])) if "evidence" in part else []
        gaps = np.diff(part["t_s"].to_numpy(float))
        rows.append(
            {
                "episode": int(k),
                "start_s": start,
                "end_s": end,
                "insertions": 1 + int(np.sum(gaps >= o.hand_gap_s)),
                "counted": counted,
                "seen": seen,
                "fill_ballots": fill_ballots,
                "ballots": int(ballots),
                "dwell_s": float(part["dwell_s"].max()),
                "max_gap_s": float(gaps.max()) if gaps.size else np.nan,
                "evidence": ",".join(cues),
            }
        )
    out = pd.DataFrame(rows)
    single = out.loc[out["insertions"] == 1, "dwell_s"].to_numpy(float)
    typical = float(np.nanmedian(single)) if np.isfinite(single).any() else 0.0
    # a quarter of the typical dwell at least (a station where every dwell is alike)
    floor = max(1.0, 0.25 * typical)
    out["dwell_z"] = robust_z(out["dwell_s"].to_numpy(float), single, floor=floor)
    return out[EPISODE_COLUMNS]
