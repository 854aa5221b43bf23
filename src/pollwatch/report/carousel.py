"""The report's carousel section: per carousel group, its people's visits, the stations on a
map (station coordinates, the group's path in time order) and a timeline.

`group_path` computes what is drawn (one stop per station the group visited, at the median
time of its people's visits there); `carousel_map` and `carousel_timeline` draw it and decide
nothing.
"""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup, escape
from matplotlib.dates import DateFormatter, date2num
from matplotlib.figure import Figure

from pollwatch.case import CasePaths
from pollwatch.report.base import SECTIONS, Plot, Section, table_html
from pollwatch.report.plots import figure_png
from pollwatch.store import NotFoundError, Store

__all__ = ["MAX_GROUPS", "carousel_map", "carousel_section", "carousel_timeline", "group_path"]

MAX_GROUPS = 30  # groups drawn; the largest first
_BLUE, _GREY, _RED = "#2f5d8a", "#c5ccd3", "#c0392b"


def group_path(visits: pd.DataFrame, stations: pd.DataFrame) -> pd.DataFrame:
    """One group's stops in time order: station_id, lat, lon, time (median of its people's
    visits there), persons (how many of them voted there)."""
    where = stations.set_index("station_id")[["lat", "lon"]]
    stops = (
        visits.groupby("station_id")
        .agg(time=("time", "median"), persons=("person_key", "nunique"))
        .reset_index()
        .sort_values("time", kind="stable", ignore_index=True)
    )
    return stops.join(where, on="station_id")


def carousel_map(stations: pd.DataFrame, path: pd.DataFrame, title: str) -> Plot:
    """Every station (grey) and the group's stations joined in visiting order (numbered)."""
    fig = Figure(figsize=(4.6, 4.0), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(stations["lon"], stations["lat"], s=10, color=_GREY, label="stations")
    ax.plot(path["lon"], path["lat"], "-", color=_RED, lw=1.5, zorder=2)
    ax.scatter(path["lon"], path["lat"], s=40, color=_RED, zorder=3, label="group voted here")
    for k, row in enumerate(path.itertuples(), start=1):
        ax.annotate(
            f"{k}. {row.station_id}",
            (row.lon, row.lat),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=7,
        )
    pad_lon = max(float(path["lon"].max() - path["lon"].min()), 0.01) * 0.6
    pad_lat = max(float(path["lat"].max() - path["lat"].min()), 0.01) * 0.6
    ax.set_xlim(float(path["lon"].min()) - pad_lon, float(path["lon"].max()) + pad_lon)
    ax.set_ylim(float(path["lat"].min()) - pad_lat, float(path["lat"].max()) + pad_lat)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(title, fontsize=9, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return Plot(figure_png(fig), title)


def carousel_timeline(visits: pd.DataFrame, title: str, tz: object) -> Plot:
    """Each person of the group on a row, a marker per visit (labelled with its station)."""
    persons = sorted(visits["person_key"].unique())
    fig = Figure(figsize=(7.5, 0.35 * len(persons) + 1.1), layout="constrained")
    ax = fig.add_subplot()
    rows = {p: i for i, p in enumerate(persons)}
    for p, group in visits.groupby("person_key"):
        t = date2num(pd.to_datetime(group["time"], utc=True).sort_values())
        ax.plot(t, [rows[p]] * len(t), "-o", color=_BLUE, ms=5, lw=1)
    for v in visits.itertuples():
        ax.annotate(
            str(v.station_id),
            (date2num(pd.Timestamp(v.time)), rows[v.person_key]),
            xytext=(0, 5),
            textcoords="offset points",
            fontsize=6,
            ha="center",
        )
    ax.set_yticks(range(len(persons)), persons)
    ax.set_ylim(len(persons) - 0.4, -0.6)
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M", tz=tz))
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title, fontsize=9, loc="left")
    return Plot(figure_png(fig), title)


@SECTIONS.registering("carousel", order=75)
def carousel_section(store: Store, paths: CasePaths) -> Section | None:
    """Carousel groups: a table of their visits, a map and a timeline per group."""
    try:
        visits = store.read_table("carousel", "visits")
    except NotFoundError:
        return None
    if visits.empty:
        html = Markup("<p>No carousel: no voter was matched at two stations (or twice at one).</p>")
        return Section("Carousels", html, anchor="carousel")
    tz = store.election().polls_open.tzinfo
    stations = store.stations()[["station_id", "lat", "lon"]]
    sizes = visits.groupby("group_id")["person_key"].nunique().sort_values(ascending=False)
    html = Markup(
        f"<p>{visits['person_key'].nunique()} person(s) in {len(sizes)} group(s) were seen "
        "casting ballots at several stations (or twice at one). Similarity is each visit's "
        "best cosine similarity to another visit of the same person; confidence the share "
        "of persons found right on simulated cases at the person's match probability, with "
        "or without co-travellers (docs/carousel.md).</p>"
    )
    plots = []
    for gid in sizes.index[:MAX_GROUPS]:
        g = visits[visits["group_id"] == gid].sort_values(["person_key", "time"])
        shown = g.assign(time=pd.to_datetime(g["time"], utc=True).dt.tz_convert(tz))
        shown = shown.assign(time=shown["time"].dt.strftime("%H:%M:%S"))
        html += Markup(f"<h3>Group {escape(str(gid))}</h3>") + table_html(
            shown[["person_key", "station_id", "camera_id", "time", "similarity", "confidence"]],
            {"similarity": ".3f", "confidence": ".3f"},
            headers={"person_key": "person", "station_id": "station", "camera_id": "camera"},
        )
        path = group_path(g, stations)
        route = " → ".join(path["station_id"])
        plots.append(carousel_map(stations, path, f"Group {gid}: {route}"))
        plots.append(carousel_timeline(g, f"Group {gid}: visits over the day", tz))
    if len(sizes) > MAX_GROUPS:
        html += Markup(f"<p>Maps of the {MAX_GROUPS} largest of {len(sizes)} groups.</p>")
    return Section("Carousels", html, tuple(plots), anchor="carousel")
