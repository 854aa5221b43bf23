"""The store's tables (SQLAlchemy Core). Times are ISO 8601 text with a UTC offset; JSON values
are text. docs/formats.md ("The store") describes every table."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "ANALYSIS_TABLES",
    "INPUT_TABLES",
    "artifacts",
    "cameras",
    "checkpoints",
    "election",
    "findings",
    "input_warnings",
    "jobs",
    "metadata",
    "protocols",
    "results",
    "stations",
]

metadata = MetaData()

# --- inputs (written by ingest, in one transaction) ------------------------------------------

election = Table(
    "election",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),  # JSON
)

stations = Table(
    "stations",
    metadata,
    Column("station_id", String, primary_key=True),
    Column("region", String, nullable=False),
    Column("district", String, nullable=False),
    Column("name", String, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("registered", Integer, nullable=False),
    Column("has_camera", Boolean, nullable=False),
)

protocols = Table(
    "protocols",
    metadata,
    Column("station_id", String, ForeignKey("stations.station_id"), primary_key=True),
    Column("registered", Integer, nullable=False),
    Column("ballots_issued", Integer, nullable=False),
    Column("ballots_cast", Integer, nullable=False),
    Column("invalid", Integer, nullable=False),
)

results = Table(
    "results",
    metadata,
    Column("station_id", String, ForeignKey("stations.station_id"), primary_key=True),
    Column("candidate", String, primary_key=True),
    Column("position", Integer, nullable=False),  # the candidate's place in election.toml
    Column("votes", Integer, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("station_id", String, ForeignKey("stations.station_id"), primary_key=True),
    Column("time", String, primary_key=True),
    Column("voters_cumulative", Integer, nullable=False),
)

cameras = Table(
    "cameras",
    metadata,
    Column("camera_id", String, primary_key=True),
    Column("station_id", String, ForeignKey("stations.station_id"), nullable=False),
    Column("source", String, nullable=False),
    Column("start_time", String, nullable=False),
    Column("box_polygon", Text),  # JSON [[x, y], ...] or NULL
    Column("reference_image", String),
    Column("duration_s", Float),
    Column("fps", Float),
    Column("width", Integer),
    Column("height", Integer),
    Column("has_audio", Boolean),
    Column("source_stamp", String),
)

input_warnings = Table(
    "input_warnings",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("file", String, nullable=False),
    Column("line", Integer),
    Column("column", String),
    Column("message", Text, nullable=False),
)

# Children before parents: the order to delete in (insert in reverse).
INPUT_TABLES = (input_warnings, cameras, checkpoints, results, protocols, stations, election)

# --- analysis (written by the pipeline and its steps) ----------------------------------------

jobs = Table(
    "jobs",
    metadata,
    Column("camera_id", String, primary_key=True),
    Column("analyser", String, primary_key=True),
    Column("status", String, nullable=False),  # pending | running | done | failed
    Column("started_at", String),
    Column("finished_at", String),
    Column("error", Text),
    Column("progress_s", Float),
)

findings = Table(
    "findings",
    metadata,
    Column("finding_id", String, primary_key=True),
    Column("kind", String, nullable=False),
    Column("analyser", String, nullable=False),
    Column("station_id", String),
    Column("camera_id", String),
    Column("t_start", String),
    Column("t_end", String),
    Column("score", Float),
    Column("p_value", Float),
    Column("summary", Text, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON object
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("analyser", String, primary_key=True),
    Column("camera_id", String, primary_key=True),  # "" for case-level tables
    Column("name", String, primary_key=True),
    Column("rows", Integer, nullable=False),
    Column("written_at", String, nullable=False),
    Column("parquet", LargeBinary, nullable=False),
)

ANALYSIS_TABLES = (jobs, findings, artifacts)
