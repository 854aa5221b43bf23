"""Drawing the report's charts with Matplotlib (Agg, no pyplot state): each function takes the
frame a tally computed and returns a `Plot`; none computes anything itself."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from pollwatch.report.base import Plot

__all__ = ["checkpoint_curve", "figure_png", "region_bars", "results_bars"]

_BLUE = "#2f5d8a"
_GREY = "#9aa5b1"


def figure_png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes (96 dpi, tight)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _figure(width: float = 7.5, height: float = 3.2) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def results_bars(results: pd.DataFrame) -> Plot:
    """Votes per candidate (frame of `national_results`), labelled with shares."""
    fig = _figure()
    ax = fig.add_subplot()
    bars = ax.bar(results["candidate"], results["votes"], color=_BLUE)
    ax.bar_label(bars, labels=[f"{s:.1%}" for s in results["share"]], padding=2)
    ax.set_ylabel("votes")
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(y=0.15)
    return Plot(figure_png(fig), "Official votes per candidate")


def region_bars(regions: pd.DataFrame) -> Plot:
    """Turnout per region (frame of `turnout_by_region`, national row drawn in grey)."""
    fig = _figure(height=0.45 * len(regions) + 1.0)
    ax = fig.add_subplot()
    colors = [_GREY if r == "All regions" else _BLUE for r in regions["region"]]
    bars = ax.barh(regions["region"], regions["turnout"], color=colors)
    ax.bar_label(bars, labels=[f"{t:.1%}" for t in regions["turnout"]], padding=2)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, max(1.0, float(regions["turnout"].max()) * 1.1))
    ax.set_xlabel("turnout (ballots issued / registered)")
    ax.spines[["top", "right"]].set_visible(False)
    return Plot(figure_png(fig), "Official turnout by region")


def checkpoint_curve(
    curve: pd.DataFrame, polls_open: datetime, polls_close: datetime, final: float | None
) -> Plot:
    """National cumulative turnout at the checkpoints (frame of `national_checkpoints`), from
    0 at the opening of the polls, with the final protocols' turnout at the close."""
    fig = _figure()
    ax = fig.add_subplot()
    times = [pd.Timestamp(polls_open), *curve["time"]]
    values = [0.0, *curve["turnout"]]
    ax.plot(times, values, marker="o", color=_BLUE, label="official checkpoints")
    if final is not None:
        ax.plot(
            [pd.Timestamp(polls_close)],
            [final],
            marker="D",
            linestyle="none",
            color="#c0392b",
            label="final protocols",
        )
    pad = (polls_close - polls_open) * 0.02
    ax.set_xlim(pd.Timestamp(polls_open - pad), pd.Timestamp(polls_close + pad))
    ax.set_ylim(0, max(0.1, *values, final or 0) * 1.15)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M", tz=polls_open.tzinfo))
    ax.set_ylabel("cumulative turnout")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return Plot(figure_png(fig), "National cumulative turnout during the day")
