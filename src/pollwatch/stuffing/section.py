"""The report's "Ballot stuffing" section: every `ballot_stuffing` finding (and every
suspicious `stuffing_not_observable` period) in a table, a frame
strip of the box around each (crops kept during the video pass, `stuffing/frames`), per
camera with a finding the box's fill level through the day with the events marked, and apart
from the findings the periods the box could not be watched while someone was at it and the
pile could not be read across them (`stuffing/events`, kind `hidden`, not flagged)."""

from __future__ import annotations

import json
from datetime import timedelta, tzinfo

import cv2
import numpy as np
import pandas as pd
from markupsafe import Markup

from pollwatch.case import CasePaths
from pollwatch.report.base import SECTIONS, Plot, Section, table_html
from pollwatch.report.plots import figure_png
from pollwatch.store import NotFoundError, Store
from pollwatch.stuffing.findings import ANALYSER, KIND, KINDS, unwatched

__all__ = ["fill_plot", "frame_strip", "stuffing_section"]

_BLUE, _RED, _GREY, _AMBER = "#2f5d8a", "#c0392b", "#9aa5b1", "#d68910"


def frame_strip(title: str, frames: pd.DataFrame, start: pd.Timestamp) -> Plot | None:
    """The crops (`stuffing/frames` rows: t_s, png) side by side, each under its wall-clock
    time; None without crops."""
    from matplotlib.figure import Figure

    images = []
    for t, png in frames[["t_s", "png"]].itertuples(index=False):
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        if image is not None:
            images.append((float(t), cv2.cvtColor(image, cv2.COLOR_BGR2RGB)))
    if not images:
        return None
    fig = Figure(figsize=(1.25 * len(images) + 0.2, 2.0), layout="constrained")
    axes = fig.subplots(1, len(images), squeeze=False)[0]
    for ax, (t, image) in zip(axes, images, strict=True):
        ax.imshow(image)
        ax.set_title(f"{start + timedelta(seconds=t):%H:%M:%S}", fontsize=8)
        ax.set_axis_off()
    fig.suptitle(title, fontsize=9, x=0.0, ha="left")
    return Plot(figure_png(fig), f"Frames of the ballot box: {title}")


def fill_plot(
    title: str,
    fill: pd.DataFrame,
    events: list[tuple[pd.Timestamp, pd.Timestamp, bool]],
    blind: list[tuple[pd.Timestamp, pd.Timestamp]],
) -> Plot:
    """The box's fill level (`stuffing/fill`: time, fill_level) with the flagged events
    (red; amber when not observable) and the time the box could not be watched (grey)."""
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 2.6), layout="constrained")
    ax = fig.add_subplot()
    times = pd.to_datetime(fill["time"])
    ax.plot(times, fill["fill_level"], color=_BLUE, lw=1.2, label="visible fill level")
    for a, b in blind:
        ax.axvspan(a, b, color=_GREY, alpha=0.3, lw=0)
    for a, b, observable in events:
        pad = timedelta(seconds=1)
        ax.axvspan(a - pad, b + pad, color=_RED if observable else _AMBER, alpha=0.45, lw=0)
    if blind:
        ax.plot([], [], color=_GREY, alpha=0.5, lw=8, label="box not observable")
    if any(seen for _, _, seen in events):
        ax.plot([], [], color=_RED, alpha=0.6, lw=8, label="stuffing finding")
    if any(not seen for _, _, seen in events):
        ax.plot([], [], color=_AMBER, alpha=0.6, lw=8, label="activity, box not observable")
    ax.set_ylabel("fill level (0–1)")
    ax.set_title(title, fontsize=10, loc="left")
    if len(times):
        span = (times.max() - times.min()).total_seconds()
        fmt = "%H:%M" if span > 3 * 3600 else "%H:%M:%S"
        ax.xaxis.set_major_formatter(DateFormatter(fmt, tz=times.iloc[0].tzinfo))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return Plot(figure_png(fig), f"Ballot box fill level: {title}")


def _table(store: Store, name: str, camera_id: str) -> pd.DataFrame | None:
    try:
        return store.read_table(ANALYSER, name, camera_id=camera_id)
    except NotFoundError:
        return None


def _unwatched(store: Store, tz: tzinfo | None) -> pd.DataFrame:
    """The busy blind periods whose pile could not be read (events of kind `hidden` that
    are not flagged), one row each: station, camera, from, to, someone at the box, why."""
    rows = []
    for cam in store.camera_records():
        events = _table(store, "events", cam.camera_id)
        if events is None or events.empty:
            continue
        start = pd.Timestamp(cam.start_time)
        gaps = unwatched(events)
        for a, b, share, why in gaps[["start_s", "end_s", "activity", "reasons"]].itertuples(
            index=False
        ):
            rows.append(
                {
                    "station": cam.station_id,
                    "camera": cam.camera_id,
                    "from": f"{(start + timedelta(seconds=a)).tz_convert(tz):%H:%M:%S}",
                    "to": f"{(start + timedelta(seconds=b)).tz_convert(tz):%H:%M:%S}",
                    "someone at the box": f"{share:.0%}",
                    "why not watched": why,
                }
            )
    return pd.DataFrame(rows)


@SECTIONS.registering("stuffing", order=65)
def stuffing_section(store: Store, paths: CasePaths) -> Section | None:
    """Each ballot-stuffing finding with its frame strip, and the fill-level curves."""
    findings = store.findings()
    mine = findings[findings["kind"].isin(KINDS)]
    held = store.tables()
    if held[(held["analyser"] == ANALYSER) & (held["name"] == "events")].empty:
        return None
    tz = store.election().polls_open.tzinfo
    gaps = _unwatched(store, tz)
    gaps_html = (
        Markup(
            "<p>Not findings: periods of 10 s or more the box could not be watched while "
            "someone was at it, the pile not readable across them (the camera audit reports "
            "why the box was hidden). On clean simulated cameras such periods come from voters "
            "at a blocked, dark or frozen box as often as from a hidden stuffer.</p>"
        )
        + table_html(gaps)
        if len(gaps)
        else Markup("")
    )
    if mine.empty:
        return Section(
            "Ballot stuffing",
            Markup("<p>No ballot stuffing found on the cameras analysed.</p>") + gaps_html,
            anchor="stuffing",
        )
    plots: list[Plot] = []
    rows = []
    for cam in store.camera_records():
        here = mine[mine["camera_id"] == cam.camera_id]
        if here.empty:
            continue
        start = pd.Timestamp(cam.start_time)
        evidence = [json.loads(e or "{}") for e in here["evidence"]]
        frames = _table(store, "frames", cam.camera_id)
        marked = []
        for f, ev in zip(here.itertuples(index=False), evidence, strict=True):
            a, b = pd.Timestamp(f.t_start), pd.Timestamp(f.t_end)
            seen = f.kind == KIND and bool(ev.get("observable", True))
            marked.append((a, b, seen))
            rows.append(
                {
                    "station": f.station_id,
                    "camera": f.camera_id,
                    "from": f"{a.tz_convert(tz):%H:%M:%S}",
                    "to": f"{b.tz_convert(tz):%H:%M:%S}",
                    "what": "ballot stuffing" if seen else "suspicious, not observable",
                    "extra ballots": (
                        f"{ev.get('extra_ballots')} ({ev.get('extra_lower')}–"
                        f"{ev.get('extra_upper')})"
                        if seen
                        else "–"
                    ),
                    "p_value": f.p_value,
                    "summary": f.summary,
                }
            )
            if frames is not None and len(frames):
                shown = frames[frames["t_s"].isin(ev.get("frames_s", []))]
                strip = frame_strip(f"{f.station_id} {a.tz_convert(tz):%H:%M:%S}", shown, start)
                if strip is not None:
                    plots.append(strip)
        fill = _table(store, "fill", cam.camera_id)
        if fill is not None and len(fill):
            unobs = store.read_table("counting", "unobservable", camera_id=cam.camera_id)
            blind = [
                (start + timedelta(seconds=a), start + timedelta(seconds=b))
                for a, b in unobs[["start_s", "end_s"]].itertuples(index=False)
            ]
            title = f"{cam.station_id} (camera {cam.camera_id})"
            plots.append(fill_plot(title, fill, marked, blind))
    note = Markup(
        "<p>Drops at the box far more numerous than legitimate voters bring in so short a "
        "time, a pile rising by many ballots behind one hand (a bundle), or rising with no "
        "ballot seen going in. Extra ballots are estimates with 95% bounds; a period the box "
        "could not be watched while someone was at it and the pile, read on either side, "
        "rose more than the camera's voters explain is listed as suspicious, not "
        "observable: a rise no one was seen causing, not proof of stuffing.</p>"
    )
    html = table_html(pd.DataFrame(rows), {"p_value": ".2g"}, headers={"p_value": "p-value"})
    seen_n = sum(r["what"] == "ballot stuffing" for r in rows)
    title = f"Ballot stuffing ({seen_n:,}; {len(rows) - seen_n:,} suspicious, not observable)"
    return Section(title, Markup(note + html) + gaps_html, tuple(plots), anchor="stuffing")
