"""Drawing the camera audit: one timeline per camera, its states as coloured bars over the
voting day. The function takes the lanes the section computed and draws them; it decides
nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from matplotlib.dates import DateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from pollwatch.report.base import Plot
from pollwatch.report.plots import figure_png

__all__ = ["STATE_COLOURS", "audit_timeline"]

STATE_COLOURS = {
    "ok": "#5b9a68",
    "quiet": "#e0a030",
    "muted": "#c0392b",
    "absent": "#7f8c8d",
    "speech": "#2f5d8a",
    "shifted": "#e0a030",
    "box_not_visible": "#c0392b",
    "offline": "#2c3e50",
    "dark": "#34495e",
    "frozen": "#8e44ad",
    "blocked": "#a0522d",
    "blurred": "#16a085",
    "not observable": "#c0392b",
}


def audit_timeline(
    lanes: pd.DataFrame,
    order: Sequence[str],
    day: tuple[datetime, datetime],
    title: str,
) -> Plot:
    """One camera's states over the day: `lanes` has lane, state, start_time, end_time (one
    bar each); `order` lists the lanes top to bottom; `day` is (polls open, polls close)."""
    fig = Figure(figsize=(7.5, 0.28 * len(order) + 0.9), layout="constrained")
    ax = fig.add_subplot()
    rows = {lane: i for i, lane in enumerate(order)}
    for bar in lanes.itertuples():
        start, end = date2num(pd.Timestamp(bar.start_time)), date2num(pd.Timestamp(bar.end_time))
        ax.broken_barh(
            [(start, max(end - start, 1e-9))],
            (rows[bar.lane] - 0.38, 0.76),
            color=STATE_COLOURS.get(str(bar.state), "#9aa5b1"),
        )
    ax.set_yticks(range(len(order)), list(order))
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlim(date2num(pd.Timestamp(day[0])), date2num(pd.Timestamp(day[1])))
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M", tz=day[0].tzinfo))
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    shown = [s for s in STATE_COLOURS if s in set(lanes["state"])]
    if shown:
        ax.legend(
            handles=[Patch(color=STATE_COLOURS[s], label=s.replace("_", " ")) for s in shown],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
            fontsize=7,
        )
    return Plot(figure_png(fig), title)
