"""The thresholds of `pollwatch.counting.drops.find_drops`, one validated dataclass."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DropFinderOptions"]


@dataclass(frozen=True)
class DropFinderOptions:
    """Thresholds of `find_drops` (tuned on simulated demo cameras, see docs/counting.md).
    Areas are in units of the box height squared, so they hold at any resolution; times are
    seconds, levels pixels."""

    burst_area: float = 0.008  # a ballot shows at least this many h² of new paper-white
    burst_min_s: float = 0.1
    burst_max_s: float = 1.6
    slot_x: float = 0.15  # a ballot vanishes within this many box widths of the box's middle
    background_s: float = 2.5  # running median window removed from the white series
    plateau_samples: int = 5  # a plateau: this many valid samples ...
    plateau_px: float = 0.15  # ... within this of their median ...
    plateau_s: float = 0.8  # ... for this long
    settle_s: float = 2.2  # a level held shorter than this and then risen from with no
    # ballot seen was on its way (the encoder may show a new level fully only at the next
    # keyframe): the two rises are one
    min_contrast: float = 40.0
    line_rows: float = 1.5  # the pile's edge this close to a box edge is not read
    min_step_px: float = 0.15  # a per-ballot step below this cannot be resolved
    hidden_steps: float = 0.75  # a rise of this many steps with no ballot seen: one went in
    seen_steps: float = 0.6  # where the slot is seen but no hand showed, a ballot patch going
    # in at the slot and a rise of this many steps: one went in (a sleeve like the slot)
    fill_before_s: float = 3.0  # a ballot only the pile showed is put at the unclear patch or
    # hint nearest when the pile passed its step, up to this long before it ...
    fill_after_s: float = 1.0  # ... or this long after it
    blur_patches: bool = True  # on a box out of focus (`find_drops`' `blurred`) whose slot
    # was not seen, a ballot seen going in counts where the pile held still
    blur_slot_hands: float = 0.5  # a slot found out of focus (first seen in `blurred` time)
    # that showed fewer hands than this share of the ballot-shaped patches at the lid is not
    # watched for hands: its blurred bar hides them, and the patches decide there, as where
    # no slot is seen (0: off; session 14: demo 196 cam-D003-006, σ 4.9, 2 hands for 23
    # patches, 2 of 31 ballots counted; demo 176 cam-D003-010, σ 3.3, 20 for 20, kept)
    blur_cover: float = 0.3  # on a slot found out of focus (first seen in `blurred` time), a
    # hand covering it less than this above its running median with no ballot seen at the
    # slot: a standing voter's wobble, not a hand (0: off)
    more_steps: float = 1.75  # a rise of this many steps more than the ballots seen: more went
    # in (where every hand over the slot was seen too: a small bundle, three voters at once)
    more_steps_per_hand: float = 0.15  # ... plus this much per clear hand beyond the first: the
    # per-ballot step's error adds up over the hands of one rise (0: off; session 11)
    bundle_steps: float = 3.0  # a rise this many steps above the hands seen: a bundle
    presence: float = 0.04  # share of the watched region changed: someone at the box
    reach_cover: float = 0.12  # share of the slot covered above its running median: a hand
    reach_join_s: float = 0.45  # coverings this close are one hand movement ...
    reach_max_s: float = 2.0  # ... which lasts at most this long (longer: something in front)
    reach_lead_s: float = 0.05  # the ballot goes in this long after the slot is covered
    reach_seen: float = 0.5  # the slot cue is used when the slot was seen this share of time
    reach_front: float = 0.2  # the box's bottom this much changed: someone in front, no hand
    reach_chain_s: float = 0.8  # hands over the slot this close one after another ...
    patch_near_s: float = 0.6  # ... with fewer ballot patches at the slot this close: one hand
    patch_two_s: float = 0.8  # a patch at the slot this long: two ballots one after the other
    visit_min_s: float = 2.5  # a hand while someone was at the box for less: a passing arm
    patch_with_hand_s: float = 0.1  # a ballot patch vanishing this close to a covering of
    # the slot taken for a passer-by: a hand after all
    two_hands_s: float = 1.1  # a hand over the slot this long (and twice the camera's usual
    # one) is two voters' hands one after the other: on the tuning cameras every one was
    late_patch_s: float = 0.3  # a ballot patch vanishing at the slot this long after a hand's
    # ballot went in, while that hand (of `late_hand_s` or more) still covered the slot, is a
    # second voter's ballot: two voters at the box, their hands joined
    late_hand_s: float = 0.45
    still_hand: bool = True  # a hand while the pile held still, no ballot patch at the slot
    # near it (`patch_near_s`): an arm over the slot, not a drop
    weak_cover: float = 0.15  # a hand whose peak covers the slot at most this much above its
    # running median (barely a hand: `reach_cover` is 0.12), with no ballot patch at the slot
    # near it, `weak_near_s` or less from a hand that showed one: the same voter's hand before
    # or after the drop (0 turns the rule off)
    weak_near_s: float = 3.0
    weak_steps: float = 0.2  # ... unless the pile rose this many steps or more above the clear
    # hands of its rise (every hand seen, someone at the box): a second voter's hand, barely
    # over the slot (0: off; session 14: on the 36 tuning cases the two such hands in rises
    # 0.22 and 0.39 steps above their hands were missed true drops; the five others were in
    # rises at most 0.05 above theirs, four of them no drop)
    two_arms: float = 0.25  # a hand over the slot of `two_arms_hand_s` or more while arms moved
    # on both sides of it (each side's share moved at least this much: `counting.arms`) is two
    # voters' hands, one standing behind the box and one beside, reaching from opposite sides
    # (0: off; session 8: joined hands 0.32–0.47, single voters' hands of 0.45 s or more at
    # most 0.20, on the re-rendered demo 1 and 93)
    two_arms_hand_s: float = 0.45
    split_front: float = 0.2  # ... unless the box's bottom was hidden this much more during
    # the hand than just before (`Burst.front_rise`): someone crossing in front of the box
    # covered the slot and moved both sides of it, the hand's length and arms are theirs
    # (0: off; session 11)
    pile_arms: float = 0.09  # a hand over the slot of `pile_arms_hand_s` or more while arms moved
    # on both sides of it (each side's share at least this much), alone in a rise of the pile
    # `pile_arms_steps` or more above one ballot (under `more_steps` above it: more is a
    # bundle), is two voters' hands joined, short ones too (0: off; session 9: on the tuning
    # seeds 5 of 6 such joined hands of 0.30–0.42 s gained, arms 0.10–0.18, rises 1.46–2.02
    # steps; single hands with both arms moving rose at most 1.42)
    pile_arms_hand_s: float = 0.3
    pile_arms_steps: float = 0.45
    side_patch_steps: float = 0.6  # a ballot-shaped patch at the box after every hand over
    # the slot, in a rise of the pile this many steps above the hands it holds, the slot's
    # cover rising `side_patch_cover` or more above its running median within 0.3 s of the
    # patch vanishing: a second voter's ballot, their arm over the slot barely seen (0: off;
    # session 10: 0.3-0.6 steps and a cover of 0.03-0.09 gained the same two true drops on
    # the tuning pool, docs/counting.md "third counting task")
    side_patch_cover: float = 0.06  # (0: any patch after the last hand counts, not off)
    unanswered_peak: float = 0.2  # a hand over the slot covering it at most this much above
    # its running median while arms moved on both sides of it (each side's share at least
    # `unanswered_arms`), in a rise of the pile `unanswered_steps` or more short of the hands
    # in it (every hand seen), is no drop: people leaving and arriving brushed the slot and
    # the pile did not answer (0: off; session 11)
    unanswered_arms: float = 0.09
    unanswered_steps: float = 0.75
    short_steps: float = 1.1  # a rise of the pile this many steps or more short of the clear
    # hands in it: a hand split for two voters' is one voter's, and a hand of at most
    # `weak_cover` a brush of the slot, weakest first while it stays short (0: off; session
    # 12: clean 113 cam-D003-009, four hands in 1.04 steps; true splits were 0.95-0.98 short)
    side_arm: float = 0.45  # a hand over the slot alone in a rise of the pile `side_arm_steps`
    # or more above its one ballot (under `more_steps` above it), with motion of this share or
    # more in the arm window right of the slot (`arm_r`) in the `side_arm_s` before its ballot
    # went in, is two voters' hands joined: one behind the box, one beside it on the right
    # (the simulator's `box_side`), their hands at once (0: off; session 12: on the tuning
    # cases 5 of 6 such joined hands missed had 0.41-0.59 there, rises 1.83-2.06 steps; the 9
    # single hands in rises of 1.75-2.75 steps at most 0.40)
    side_arm_steps: float = 0.8
    side_arm_s: float = 2.5
    crowd_fg: float = 1.5  # ... or with the watched region changed (`fg`, within 1 s of its
    # ballot) this many times as much as at the camera's usual hand (the median over its
    # `crowd_hands` or more hands): two people at the box, the second beside the voter out of
    # the arm window (0: off; session 13: on the 28 tuning cases the three joined hands the
    # arm missed, in rises of 1.97-2.09 steps, had 1.63-2.00; the seven single hands in rises
    # of 1.8-2.75 steps at most 1.39)
    crowd_hands: int = 5
    front_steps: float = 0.6  # a covering of the slot taken for someone passing in front of
    # the box (`Burst.passing`), in a rise of the pile this many steps or more above the clear
    # hands in it (every hand seen, someone at the box), is a voter's hand after all: the box's
    # bottom hidden by the voter or whoever stood beside them (0: off; session 13: at 0.6, on
    # the 28 tuning cases the five such coverings 0.68-2.01 steps above their rise's hands
    # were missed true drops, the other 18 at most 0.31 above; on fresh demo 180 it took a
    # passer-by's covering for the voter's in a rise holding both, a non-voter counted: left
    # off then; on since session 14, with `front_most`)
    front_most: float = 0.9  # ... only a covering under which the box's bottom was hidden less
    # than this much more than just before (`Burst.front_rise`): a voter's body hides part of
    # it, someone crossing in front all of it (0: no limit; session 14: on the 47 tuning
    # cases the coverings `front_steps` takes under 0.9 were 5 true drops, 0.25-0.88; the
    # 4 above it 2 true (demo 166, demo-clean 127) and 3 false, 0.97-1.0, the non-voter of
    # demo 180 at 316.17 s among them: docs/counting.md "Session 14")
    blur_edges: bool = True  # a rise of the pile across the start or end of time out of
    # focus (`find_drops`' `blurred`, not at the series' own ends; within 1 s of the gap
    # between the two levels: the audit's times) is the focus changing, not
    # ballots: its hands count alone and it gives no per-ballot step (session 12, blur12: the
    # blurred edge read 1.1-2.2 px more than the one ballot in such rises; False: off)

    def __post_init__(self) -> None:
        for name in ("burst_area", "burst_max_s", "background_s", "plateau_px", "slot_x"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.burst_min_s < self.burst_max_s:
            raise ValueError("burst_min_s must be in [0, burst_max_s)")
        if self.plateau_samples < 2:
            raise ValueError(f"plateau_samples must be >= 2, got {self.plateau_samples}")
        if self.crowd_hands < 1:
            raise ValueError(f"crowd_hands must be >= 1, got {self.crowd_hands}")
        for name in (
            "fill_before_s",
            "fill_after_s",
            "blur_cover",
            "blur_slot_hands",
            "two_arms",
            "two_arms_hand_s",
            "split_front",
            "pile_arms",
            "pile_arms_hand_s",
            "pile_arms_steps",
            "side_patch_steps",
            "side_patch_cover",
            "more_steps_per_hand",
            "unanswered_peak",
            "unanswered_arms",
            "unanswered_steps",
            "short_steps",
            "side_arm",
            "side_arm_steps",
            "side_arm_s",
            "front_steps",
            "front_most",
            "weak_steps",
            "crowd_fg",
        ):
            # 0 turns a rule off (`side_patch_cover` 0: no cover needed); NaN is refused too
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
