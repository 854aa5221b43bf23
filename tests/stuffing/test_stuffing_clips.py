"""The stuffing detector on rendered clips: voters only (no finding), a stuffer dropping six
ballots one by one and one dropping a bundle of eight (one finding each, with its ballots)."""

from __future__ import annotations

import pytest
from stuffclips import BUNDLE, BUNDLE_CLIP, CLEAN, HANDS, HANDS_CLIP

from pollwatch.counting.boxzone import resolve_box_zone
from pollwatch.counting.drops import find_drops
from pollwatch.counting.observability import Observability
from pollwatch.counting.unobservable import unobservable_ranges
from pollwatch.counting.watcher import BoxWatcher
from pollwatch.simulate.render import CameraRenderer
from pollwatch.stuffing import BoxFrames, camera_events, fill_curve, strip_frames
from pollwatch.video import analyse_video
from pollwatch.video.boxfind import keyframe_background


def watch(path, plan):
    """What the video pass and the case step do for one camera (320x180), without a store."""
    zone = resolve_box_zone(keyframe_background(path), CameraRenderer(plan).box_polygon())
    assert zone is not None
    run = analyse_video(path, [BoxWatcher(zone.zone), BoxFrames(zone.zone)])
    w, kept = run.results
    blind = unobservable_ranges(w.series)
    drops, facts = find_drops(w.series, w.box_height_px, blind=blind)
    obs = Observability(0.0, float(w.series["t_s"].max()), tuple(blind))
    curve = fill_curve(w.series, w.box_height_px)
    events = camera_events(drops, w.series, curve, facts["step_px"], obs, frame_height=180)
    return events, kept, curve


@pytest.mark.parametrize(
    ("plan", "kind", "start", "end", "ballots"),
    [
        (CLEAN, None, None, None, 0),
        (HANDS_CLIP, "hands", HANDS[0], HANDS[-1], len(HANDS)),
        (BUNDLE_CLIP, "bundle", 23.0, 23.0, BUNDLE),
    ],
    ids=["clean", "hands", "bundle"],
)
def test_stuffer_found_and_voters_not(stuffing_clips, plan, kind, start, end, ballots) -> None:
    events, kept, curve = watch(stuffing_clips[plan.camera_id], plan)
    flagged = [e for e in events if e.flagged]
    assert curve.readable
    if kind is None:
        assert flagged == []
        assert all(e.ballots <= 1 for e in events)
        return
    assert len(flagged) == 1
    e = flagged[0]
    assert e.kind == kind and e.observable and e.p_value is not None and e.p_value < 0.02
    assert abs(e.start_s - start) <= 2.0 and abs(e.end_s - end) <= 2.0
    assert abs(e.extra - ballots) <= 0.25 * ballots
    assert e.extra_lower <= e.extra <= e.extra_upper
    strip = strip_frames(kept, [(e.start_s, e.end_s)])
    assert 1 <= len(strip) <= 6
    assert all(png.startswith(b"\x89PNG") for png in strip["png"])


def test_fill_level_rises_with_the_stuffed_ballots(stuffing_clips) -> None:
    _, _, clean = watch(stuffing_clips["clean"], CLEAN)
    _, _, stuffed = watch(stuffing_clips["hands"], HANDS_CLIP)
    a, b = clean.resampled()["fill_level"], stuffed.resampled()["fill_level"]
    assert a.between(0, 1).all() and b.dropna().between(0, 1).all()
    rise_clean = a.dropna().iloc[-5:].median() - a.dropna().iloc[:5].median()
    rise_stuffed = b.dropna().iloc[-5:].median() - b.dropna().iloc[:5].median()
    assert rise_stuffed > 2 * rise_clean > 0
