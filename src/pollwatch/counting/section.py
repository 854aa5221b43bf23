"""The report's "Voters counted on camera" section: per camera, the ballots counted going into
the box (a cumulative curve with 95% bounds) against the official turnout checkpoints, the
time the box could not be watched shaded, and a table of the intervals."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib.dates import DateFormatter

from pollwatch.case import CasePaths
from pollwatch.counting.calibration import COUNTER_ERRORS, ROUGH_ERRORS
from pollwatch.counting.stats import count_bounds
from pollwatch.report.base import SECTIONS, Plot, Section, table_html
from pollwatch.report.plots import figure_png
from pollwatch.store import NotFoundError, Store

__all__ = ["counting_section", "cumulative_plot"]

_BLUE, _RED, _GREY = "#2f5d8a", "#c0392b", "#9aa5b1"


def cumulative_plot(
    title: str,
    drops: pd.DataFrame,
    counts: pd.DataFrame,
    blind: list[tuple[pd.Timestamp, pd.Timestamp]],
    polls_open: pd.Timestamp,
) -> Plot:
    """Counted cumulative ballots (step curve, bounds at the checkpoints as error bars) and
    the official cumulative checkpoints of one camera's station; blind time shaded."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.0), layout="constrained")
    ax = fig.add_subplot()
    times = [polls_open, *sorted(pd.Timestamp(t) for t in drops["time"])]
    ballots = [0, *drops.sort_values("time")["ballots"].cumsum()]
    ax.step(times, ballots, where="post", color=_BLUE, label="ballots seen going in")
    ends = [pd.Timestamp(t) for t in counts["interval_end"]]
    counted = counts["counted"].cumsum().to_numpy()
    official = counts["official"].cumsum().to_numpy(float)
    lo, hi = [], []
    for c in counted:
        b = count_bounds(int(c), COUNTER_ERRORS)
        lo.append(c - b.lower)
        hi.append(b.upper - c)
    ax.errorbar(
        ends, counted, yerr=[lo, hi], fmt="none", ecolor=_BLUE, capsize=3, label="95% bounds"
    )
    ax.plot([polls_open, *ends], [0, *official], "o--", color=_RED, label="official checkpoints")
    for a, b in blind:
        ax.axvspan(a, b, color=_GREY, alpha=0.35, lw=0)
    if blind:
        ax.plot([], [], color=_GREY, alpha=0.5, lw=8, label="box not observable")
    ax.set_ylabel("cumulative ballots")
    ax.set_title(title, fontsize=10, loc="left")
    span = (max(ends) - polls_open).total_seconds() if ends else 0.0
    fmt = "%H:%M" if span > 3 * 3600 else "%H:%M:%S"  # a simulated day may last minutes
    ax.xaxis.set_major_formatter(DateFormatter(fmt, tz=polls_open.tzinfo))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return Plot(figure_png(fig), f"Ballots counted on camera vs official turnout: {title}")


@SECTIONS.registering("counting", order=55)
def counting_section(store: Store, paths: CasePaths) -> Section | None:
    """Per camera: the counted curve against the official checkpoints, and the intervals."""
    try:
        counts = store.read_table("counting", "counts")
    except NotFoundError:
        return None
    if counts.empty:
        return None
    election = store.election()
    tz = election.polls_open.tzinfo
    plots = []
    for cam in store.camera_records():
        mine = counts[counts["camera_id"] == cam.camera_id]
        if mine.empty:
            continue
        drops = store.read_table("counting", "drops", camera_id=cam.camera_id)
        unobs = store.read_table("counting", "unobservable", camera_id=cam.camera_id)
        start = pd.Timestamp(cam.start_time)
        blind = [
            (start + timedelta(seconds=a), start + timedelta(seconds=b))
            for a, b in unobs[["start_s", "end_s"]].itertuples(index=False)
        ]
        title = f"{cam.station_id} (camera {cam.camera_id})"
        plots.append(cumulative_plot(title, drops, mine, blind, pd.Timestamp(election.polls_open)))
    shown = counts.assign(
        interval=[
            f"{pd.Timestamp(a).tz_convert(tz):%H:%M:%S}–{pd.Timestamp(b).tz_convert(tz):%H:%M:%S}"
            for a, b in zip(counts["interval_start"], counts["interval_end"], strict=True)
        ],
        bounds=[
            f"{lo}–{int(hi)}" if np.isfinite(hi) else f"≥ {lo}"
            for lo, hi in zip(counts["lower"], counts["upper"], strict=True)
        ],
        observable=counts["observable"].map({True: "yes", False: "no"}),
    )[
        [
            "station_id",
            "camera_id",
            "interval",
            "counted",
            "bounds",
            "official",
            "observable",
            "p_value",
        ]
    ]
    html = table_html(
        shown,
        {"official": ".0f", "p_value": ".2g"},
        headers={"station_id": "station", "camera_id": "camera", "p_value": "p-value"},
    )
    note = Markup(
        "<p>Ballots seen going into the box per official checkpoint interval, with 95% bounds "
        "on the true number from the counter's measured error rates (missed "
        f"{COUNTER_ERRORS.miss_rate_low:.1%}–{COUNTER_ERRORS.miss_rate:.1%}, false "
        f"{COUNTER_ERRORS.false_rate_low:.1%}–{COUNTER_ERRORS.false_rate:.1%} per drop; "
        f"{ROUGH_ERRORS.miss_rate_low:.0%}–{ROUGH_ERRORS.miss_rate:.0%} and "
        f"{ROUGH_ERRORS.false_rate_low:.0%}–{ROUGH_ERRORS.false_rate:.0%} where the picture "
        "was rough: the box out of focus, no ballot slot seen). "
        "An interval the camera could not watch is not observable: its count is a floor and "
        "it is not tested.</p>"
    )
    return Section("Voters counted on camera", Markup(note + html), tuple(plots), anchor="counting")
