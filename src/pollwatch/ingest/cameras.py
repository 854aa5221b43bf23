"""cameras.csv: each camera's station, recording, start time, box polygon and reference image,
with the recordings probed (URL sources are recorded, not opened)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pollwatch.ingest.csvtable import Column, Row, Sheet, read_sheet, text, timestamp
from pollwatch.ingest.tables import flag_duplicates
from pollwatch.ingest.videos import VideoInfo, parse_polygon, probe_video, read_reference_image
from pollwatch.store import Election, is_url

__all__ = ["CAMERAS_COLUMNS", "CAMERA_FRAME_COLUMNS", "VIDEO_SUFFIXES", "read_cameras"]

CAMERAS_COLUMNS = [
    Column("camera_id", text),
    Column("station_id", text),
    Column("source", text),
    Column("start_time", timestamp),
    Column("box_polygon", parse_polygon, optional=True),
    Column("reference_image", text, optional=True),
]
CAMERA_FRAME_COLUMNS = [
    "camera_id",
    "station_id",
    "source",
    "start_time",
    "box_polygon",
    "reference_image",
    "duration_s",
    "fps",
    "width",
    "height",
    "has_audio",
    "source_stamp",
]
VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".ts", ".m4v")


def _inside(root: Path, rel: str) -> Path:
    """`rel` resolved inside the case folder; ValueError if it is absolute or leaves it."""
    if Path(rel).is_absolute():
        raise ValueError(f"{rel!r} must be a path relative to the case folder")
    path = root / rel
    if not path.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"{rel!r} leads outside the case folder")
    return path


def read_cameras(
    root: Path, election: Election | None, stations: dict[str, Row] | None
) -> tuple[Sheet, pd.DataFrame]:
    """cameras.csv of the case at `root`; returns its sheet and the cameras frame."""
    sheet = read_sheet(root / "cameras.csv", "cameras.csv", CAMERAS_COLUMNS, extra=None)
    rows = flag_duplicates(sheet, ("camera_id",), "camera_id")
    sources: dict[str, int] = {}
    records = []
    for row in rows:
        v = row.values
        record = {c: v.get(c) for c in CAMERA_FRAME_COLUMNS}
        ok = True
        if stations is not None and v["station_id"] not in stations:
            sheet.problem(
                f"unknown station {v['station_id']!r} (not in stations.csv)", row.line, "station_id"
            )
            ok = False
        elif stations is not None and not stations[v["station_id"]].values["has_camera"]:
            sheet.warn(
                f"station {v['station_id']!r} has has_camera = false in stations.csv",
                row.line,
                "station_id",
            )
        if v["source"] in sources:
            sheet.warn(f"same source as line {sources[v['source']]}", row.line, "source")
        sources.setdefault(v["source"], row.line)
        info = None
        if not is_url(v["source"]):
            try:
                path = _inside(root, v["source"])
                info = probe_video(path)
                stat = path.stat()
                record["source_stamp"] = f"{stat.st_size}:{stat.st_mtime_ns}"
            except ValueError as err:
                sheet.problem(str(err), row.line, "source")
                ok = False
        if info is not None:
            record.update(
                duration_s=info.duration_s,
                fps=info.fps,
                width=info.width,
                height=info.height,
                has_audio=info.has_audio,
            )
            if election is not None:
                _check_timing(sheet, row, info, election)
        ok = _check_polygon(sheet, row, info) and ok
        ok = _check_reference(sheet, root, row, info) and ok
        if v["box_polygon"] is not None:
            record["box_polygon"] = json.dumps([list(p) for p in v["box_polygon"]])
        if ok:
            records.append(record)
    if stations is not None and sheet.header:
        seen = {r.values["station_id"] for r in rows}
        unrecorded = [
            (sid, srow.line)
            for sid, srow in stations.items()
            if srow.values["has_camera"] and sid not in seen
        ]
        if unrecorded:
            shown = ", ".join(f"{sid!r} (stations.csv line {line})" for sid, line in unrecorded[:5])
            more = f" and {len(unrecorded) - 5} more" if len(unrecorded) > 5 else ""
            sheet.warn(
                f"{len(unrecorded)} station(s) have a camera but no recording here: {shown}{more}"
            )
    _warn_unused_videos(sheet, root, {r.values["source"] for r in rows})
    return sheet, pd.DataFrame(records, columns=CAMERA_FRAME_COLUMNS)


def _check_timing(sheet: Sheet, row: Row, info: VideoInfo, election: Election) -> None:
    start = row.values["start_time"]
    end = election.wall_time(start, info.duration_s)
    if end <= election.polls_open or start >= election.polls_close:
        sheet.warn(
            f"the recording ({start.isoformat()} – {end.isoformat()}) does not overlap the polls",
            row.line,
            "start_time",
        )


def _check_polygon(sheet: Sheet, row: Row, info: VideoInfo | None) -> bool:
    polygon = row.values["box_polygon"]
    if polygon is None or info is None:
        return True
    outside = [p for p in polygon if not (0 <= p[0] <= info.width and 0 <= p[1] <= info.height)]
    if outside:
        x, y = outside[0]
        sheet.problem(
            f"point [{x:g}, {y:g}] is outside the {info.width}×{info.height} frame",
            row.line,
            "box_polygon",
        )
        return False
    return True


def _check_reference(sheet: Sheet, root: Path, row: Row, info: VideoInfo | None) -> bool:
    rel = row.values["reference_image"]
    if rel is None:
        return True
    try:
        width, height = read_reference_image(_inside(root, rel))
    except ValueError as err:
        sheet.problem(str(err), row.line, "reference_image")
        return False
    if info is not None and (width, height) != (info.width, info.height):
        sheet.warn(
            f"image is {width}×{height}, the video {info.width}×{info.height}",
            row.line,
            "reference_image",
        )
    return True


def _warn_unused_videos(sheet: Sheet, root: Path, used: set[str]) -> None:
    video_dir = root / "video"
    if not video_dir.is_dir():
        return
    used_paths = {(root / u).resolve() for u in used if not is_url(u)}
    for path in sorted(video_dir.rglob("*")):
        if path.suffix.lower() in VIDEO_SUFFIXES and path.resolve() not in used_paths:
            rel = path.relative_to(root).as_posix()
            sheet.warn(f"{rel} is not the source of any camera")
