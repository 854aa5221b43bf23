"""The report's camera-audit section: the network summary in observers' words, one row per
camera and a timeline per camera (drawn by `audit_plots`)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from markupsafe import Markup, escape

from pollwatch.audit.summary import NOT_ANALYSED, camera_audit_frame, network_from_frame
from pollwatch.case import CasePaths
from pollwatch.report.audit_plots import audit_timeline
from pollwatch.report.base import SECTIONS, Section, table_html
from pollwatch.store import Store

__all__ = ["LANES", "MAX_TIMELINES", "audit_lanes", "camera_audit_section"]

LANES = (
    "sound",
    "speech",
    "view",
    "offline",
    "dark",
    "frozen",
    "blocked",
    "blurred",
    "not observable",
)
MAX_TIMELINES = 40  # cameras drawn; the least observable first


def audit_lanes(
    timeline: pd.DataFrame,
    unobservable: pd.DataFrame,
    day: tuple[datetime, datetime] | None = None,
) -> pd.DataFrame:
    """One camera's bars: lane, state, start_time, end_time (picture conditions get a lane
    each; the merged unobservable ranges the last lane). With the voting `day`, the parts of
    it before and after the recording (the span of its sound states) are offline and not
    observable."""
    columns = ["lane", "state", "start_time", "end_time"]
    bars = timeline.reindex(columns=["part", "state", "start_time", "end_time"])
    bars = bars.assign(lane=bars["part"].where(bars["part"] != "picture", bars["state"]))
    blind = unobservable.reindex(columns=["start_time", "end_time"])
    blind = blind.assign(lane="not observable", state="not observable")
    parts = [bars[columns], blind[columns]]
    sound = bars[bars["part"] == "sound"]
    if day is not None and not sound.empty:
        first, last = sound["start_time"].min(), sound["end_time"].max()
        open_, close = pd.Timestamp(day[0]), pd.Timestamp(day[1])
        outside = [(open_, min(first, close)), (max(last, open_), close)]
        for a, b in outside:
            if b > a:
                parts.append(
                    pd.DataFrame(
                        {
                            "lane": ["offline", "not observable"],
                            "state": ["offline", "not observable"],
                            "start_time": [a, a],
                            "end_time": [b, b],
                        }
                    )
                )
    return pd.concat(parts, ignore_index=True)


def _table(frame: pd.DataFrame, tz: object) -> Markup:
    changed = pd.to_datetime(frame["view_changed_at"], utc=True).dt.tz_convert(tz)
    shown = frame.assign(view_changed_at=changed.dt.strftime("%H:%M:%S").where(changed.notna()))
    shown = shown[
        [
            "camera_id",
            "station_id",
            "audio_state",
            "audio_ok_share",
            "audio_level_dbfs",
            "speech_share",
            "view_state",
            "view_shift_px",
            "view_changed_at",
            "blocked_s",
            "blurred_s",
            "frozen_s",
            "offline_s",
            "dark_s",
            "observable_share",
        ]
    ]
    seconds = {c: ".0f" for c in ("blocked_s", "blurred_s", "frozen_s", "offline_s", "dark_s")}
    return table_html(
        shown,
        {
            "audio_ok_share": ".0%",
            "audio_level_dbfs": ".0f",
            "speech_share": ".0%",
            "view_shift_px": ".0f",
            "observable_share": ".0%",
            **seconds,
        },
        headers={
            "camera_id": "camera",
            "station_id": "station",
            "audio_state": "sound",
            "audio_ok_share": "sound ok",
            "audio_level_dbfs": "level (dBFS)",
            "speech_share": "speech",
            "view_state": "view",
            "view_shift_px": "shift (px)",
            "view_changed_at": "view changed",
            "blocked_s": "blocked (s)",
            "blurred_s": "blurred (s)",
            "frozen_s": "frozen (s)",
            "offline_s": "offline (s)",
            "dark_s": "dark (s)",
            "observable_share": "box observable",
        },
    )


@SECTIONS.registering("camera-audit", order=55)
def camera_audit_section(store: Store, paths: CasePaths) -> Section | None:
    """Sound, view and picture of every camera over the voting day."""
    if store.cameras().empty:
        return None
    election = store.election()
    day = (election.polls_open, election.polls_close)
    frame = camera_audit_frame(store)
    analysed = frame[frame["audio_state"] != NOT_ANALYSED]
    if analysed.empty:
        html = Markup("<p>No camera has been audited yet (run <code>pollwatch analyse</code>).</p>")
        return Section("Camera audit", html + _table(frame, day[0].tzinfo), anchor="camera-audit")
    summary = network_from_frame(frame)
    items = "".join(f"<li>{escape(s)}</li>" for s in summary["sentences"])  # type: ignore[union-attr]
    intro = Markup(
        "<p>Shares are of the voting day; time a camera did not record counts as offline, and "
        "time the ballot box could not be watched is unknown to the counts.</p>"
    )
    html = Markup(f"<ul>{items}</ul>") + intro + _table(frame, day[0].tzinfo)
    timelines = store.read_tables("audit", "timeline")
    blind = store.read_tables("audit", "unobservable")
    chosen = analysed.sort_values("observable_share", kind="stable").head(MAX_TIMELINES)
    if len(analysed) > MAX_TIMELINES:
        html += Markup(
            f"<p>Timelines of the {MAX_TIMELINES} least observable of {len(analysed)} cameras:</p>"
        )
    plots = []
    for row in chosen.itertuples():
        lanes = audit_lanes(
            timelines[timelines["camera_id"] == row.camera_id],
            blind[blind["camera_id"] == row.camera_id],
            day,
        )
        title = (
            f"Camera {row.camera_id} (station {row.station_id}): sound {row.audio_state}, "
            f"view {str(row.view_state).replace('_', ' ')}, box observable "
            f"{row.observable_share:.0%} of the day"
        )
        plots.append(audit_timeline(lanes, LANES, day, title))
    return Section("Camera audit", html, tuple(plots), anchor="camera-audit")
