"""The case store: one SQLite database (out/pollwatch.db, WAL mode) and the only code that
writes SQL. Reads return pandas DataFrames (single records as dataclasses); every write is one
transaction, so a failed write leaves what was stored before intact.

One writer per database: a case is analysed by one process at a time; readers (the report,
evaluation) may run beside it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    create_engine,
    event,
    literal_column,
    select,
)
from sqlalchemy.exc import IntegrityError

from pollwatch.errors import PollwatchError
from pollwatch.store import schema as s
from pollwatch.store.records import Camera, CaseInputs, Election, Finding

__all__ = ["JOB_STATUSES", "JobStatus", "NotFoundError", "Store", "StoreError"]

JobStatus = Literal["pending", "running", "done", "failed"]
JOB_STATUSES: tuple[JobStatus, ...] = ("pending", "running", "done", "failed")

_CASE_LEVEL = ""  # artifacts.camera_id of case-level tables


class StoreError(PollwatchError):
    """The store refused a write or cannot be read."""


class NotFoundError(StoreError):
    """What was asked for is not in the store."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as plain-Python dicts, missing values as None."""
    columns = list(df.columns)
    plain = df.astype(object).where(df.notna(), None)  # object columns hold Python scalars
    return [dict(zip(columns, row, strict=True)) for row in plain.itertuples(False, None)]


def _insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many full rows at driver speed: the statement is compiled once by SQLAlchemy
    and the rows go straight to the driver's executemany (no per-row processing)."""
    if rows:
        compiled = table.insert().compile(dialect=conn.dialect)
        keys = compiled.positiontup or []
        conn.exec_driver_sql(str(compiled), [tuple(r[k] for k in keys) for r in rows])


def _camera_record(row: dict[str, Any]) -> dict[str, Any]:
    """A cameras row with the types the database gives back, so rows compare equal."""
    out = dict(row)
    for key in ("duration_s", "fps"):
        out[key] = None if out.get(key) is None else float(out[key])
    for key in ("width", "height"):
        out[key] = None if out.get(key) is None else int(out[key])
    out["has_audio"] = None if out.get("has_audio") is None else bool(out["has_audio"])
    return out


class Store:
    """The store of one case; `Store(path)` creates the database and its tables if needed."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._engine: Engine = create_engine(f"sqlite:///{self.path}")
        event.listen(self._engine, "connect", _on_connect)
        event.listen(self._engine, "begin", _on_begin)
        s.metadata.create_all(self._engine)

    @classmethod
    def existing(cls, path: str | Path) -> Store:
        """Open a store that must already exist (readers: report, evaluation)."""
        if not Path(path).is_file():
            raise NotFoundError(f"{path}: no store yet (run `pollwatch ingest` first)")
        return cls(path)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except IntegrityError as err:
            raise StoreError(f"{self.path}: {err.orig}") from err

    def _frame(self, query: Any) -> pd.DataFrame:
        with self._engine.connect() as conn:
            return pd.read_sql(query, conn)

    # --- inputs --------------------------------------------------------------------------

    def replace_inputs(self, inputs: CaseInputs) -> None:
        """Replace every input table by `inputs`, in one transaction.

        The analysis of a camera whose row changed (another file, another polygon...) or that
        disappeared is forgotten (its jobs, tables and findings); the rest is kept.
        """
        e = inputs.election
        meta = {
            "name": e.name,
            "polls_open": e.polls_open.isoformat(),
            "polls_close": e.polls_close.isoformat(),
            "checkpoints": [t.isoformat() for t in e.checkpoints],
            "candidates": list(e.candidates),
            "time_scale": e.time_scale,
            "input_fingerprint": inputs.fingerprint,
        }
        position = {c: i for i, c in enumerate(e.candidates)}
        votes = inputs.votes.assign(position=inputs.votes["candidate"].map(position))
        checkpoints = inputs.checkpoints.assign(time=inputs.checkpoints["time"].map(_iso))
        cameras = inputs.cameras.assign(start_time=inputs.cameras["start_time"].map(_iso))
        new_cams = {r["camera_id"]: _camera_record(r) for r in _records(cameras)}
        warnings = [
            {"seq": i, "file": w.file, "line": w.line, "column": w.column, "message": w.message}
            for i, w in enumerate(inputs.warnings)
        ]
        rows = {
            s.election: [{"key": k, "value": json.dumps(v)} for k, v in meta.items()],
            s.stations: _records(inputs.stations),
            s.protocols: _records(inputs.protocols),
            s.results: _records(votes),
            s.checkpoints: _records(checkpoints),
            s.cameras: list(new_cams.values()),
            s.input_warnings: warnings,
        }
        with self._write() as conn:
            old_cams = {r["camera_id"]: dict(r) for r in conn.execute(select(s.cameras)).mappings()}
            for table in s.INPUT_TABLES:
                conn.execute(table.delete())
            for table in reversed(s.INPUT_TABLES):
                _insert_many(conn, table, rows[table])
            stale = [cid for cid, old in old_cams.items() if new_cams.get(cid) != old]
            if stale:
                for table in s.ANALYSIS_TABLES:
                    conn.execute(table.delete().where(table.c.camera_id.in_(stale)))

    def input_fingerprint(self) -> str | None:
        """The fingerprint of the inputs last ingested, None if nothing was."""
        with self._engine.connect() as conn:
            value = conn.execute(
                select(s.election.c.value).where(s.election.c.key == "input_fingerprint")
            ).scalar()
        return None if value is None else json.loads(value)

    def election(self) -> Election:
        """The election; NotFoundError before the case was ingested."""
        with self._engine.connect() as conn:
            meta = {k: json.loads(v) for k, v in conn.execute(select(s.election))}
        if "name" not in meta:
            raise NotFoundError(f"{self.path}: no case ingested yet (run `pollwatch ingest`)")
        return Election(
            name=meta["name"],
            polls_open=datetime.fromisoformat(meta["polls_open"]),
            polls_close=datetime.fromisoformat(meta["polls_close"]),
            checkpoints=tuple(datetime.fromisoformat(t) for t in meta["checkpoints"]),
            candidates=tuple(meta["candidates"]),
            time_scale=float(meta["time_scale"]),
        )

    def _times(self, values: pd.Series) -> pd.Series:
        """ISO texts as timestamps in the election's time zone."""
        tz = self.election().polls_open.tzinfo
        return pd.to_datetime(values, utc=True, format="ISO8601").dt.tz_convert(tz)

    def stations(self) -> pd.DataFrame:
        """stations.csv as stored, in file order."""
        return self._frame(select(s.stations).order_by(literal_column("rowid")))

    def protocols(self) -> pd.DataFrame:
        """The protocol numbers per station: registered, ballots_issued, ballots_cast, invalid."""
        return self._frame(select(s.protocols).order_by(literal_column("rowid")))

    def votes(self) -> pd.DataFrame:
        """Votes in long form: station_id, candidate, votes (candidates in election order)."""
        query = select(s.results.c.station_id, s.results.c.candidate, s.results.c.votes)
        return self._frame(query.order_by(literal_column("rowid")))

    def results(self) -> pd.DataFrame:
        """results.csv's wide form: protocol numbers, then one column of votes per candidate."""
        candidates = list(self.election().candidates)
        wide = self.votes().pivot(index="station_id", columns="candidate", values="votes")
        wide = wide.reindex(columns=candidates).reset_index()
        wide.columns.name = None
        return self.protocols().merge(wide, on="station_id", how="left")

    def checkpoints(self) -> pd.DataFrame:
        """Official intra-day turnout: station_id, time (local timestamps), voters_cumulative."""
        frame = self._frame(select(s.checkpoints).order_by(literal_column("rowid")))
        if not frame.empty:
            frame["time"] = self._times(frame["time"])
        return frame

    def cameras(self) -> pd.DataFrame:
        """cameras.csv plus the probe columns; box_polygon stays JSON text."""
        frame = self._frame(select(s.cameras).order_by(literal_column("rowid")))
        if not frame.empty:
            frame["start_time"] = self._times(frame["start_time"])
        return frame

    def camera_records(self) -> list[Camera]:
        """Every camera as a `Camera`, in file order."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(s.cameras).order_by(literal_column("rowid"))).mappings()
            return [_camera(dict(r)) for r in rows]

    def camera(self, camera_id: str) -> Camera:
        with self._engine.connect() as conn:
            row = conn.execute(select(s.cameras).where(s.cameras.c.camera_id == camera_id))
            found = row.mappings().first()
        if found is None:
            raise NotFoundError(f"no camera {camera_id!r} in {self.path}")
        return _camera(dict(found))

    def input_warnings(self) -> pd.DataFrame:
        """The warnings of the last ingest: file, line, column, message."""
        query = select(s.input_warnings).order_by(s.input_warnings.c.seq)
        return self._frame(query).drop(columns="seq")

    # --- jobs ----------------------------------------------------------------------------

    def _set_job(self, camera_id: str, analyser: str, **values: Any) -> None:
        key = and_(s.jobs.c.camera_id == camera_id, s.jobs.c.analyser == analyser)
        with self._write() as conn:
            if conn.execute(s.jobs.update().where(key).values(**values)).rowcount == 0:
                row = {"camera_id": camera_id, "analyser": analyser, **values}
                conn.execute(s.jobs.insert().values(**row))

    def start_job(self, camera_id: str, analyser: str) -> None:
        """Mark (camera, analyser) running from now."""
        self._set_job(
            camera_id,
            analyser,
            status="running",
            started_at=_now(),
            finished_at=None,
            error=None,
            progress_s=0.0,
        )

    def set_job_progress(self, camera_id: str, analyser: str, progress_s: float) -> None:
        """Record how far (seconds of video) a running job got."""
        self._set_job(camera_id, analyser, progress_s=float(progress_s))

    def finish_job(self, camera_id: str, analyser: str) -> None:
        self._set_job(camera_id, analyser, status="done", finished_at=_now())

    def fail_job(self, camera_id: str, analyser: str, error: str) -> None:
        self._set_job(camera_id, analyser, status="failed", finished_at=_now(), error=error)

    def add_pending_jobs(self, camera_ids: Iterable[str], analysers: Iterable[str]) -> None:
        """Create a pending job for every (camera, analyser) that has none yet."""
        with self._write() as conn:
            have = {tuple(r) for r in conn.execute(select(s.jobs.c.camera_id, s.jobs.c.analyser))}
            new = [
                {"camera_id": c, "analyser": a, "status": "pending"}
                for c in camera_ids
                for a in analysers
                if (c, a) not in have
            ]
            if new:
                conn.execute(s.jobs.insert(), new)

    def job_status(self, camera_id: str, analyser: str) -> JobStatus | None:
        """The job's status, None when it was never scheduled."""
        key = and_(s.jobs.c.camera_id == camera_id, s.jobs.c.analyser == analyser)
        with self._engine.connect() as conn:
            return conn.execute(select(s.jobs.c.status).where(key)).scalar()

    def jobs(self) -> pd.DataFrame:
        """Every job: camera_id, analyser, status, started_at, finished_at, error, progress_s."""
        return self._frame(select(s.jobs).order_by(literal_column("rowid")))

    def reset_analysis(self) -> None:
        """Forget every job, finding and analyser table (inputs stay)."""
        with self._write() as conn:
            for table in s.ANALYSIS_TABLES:
                conn.execute(table.delete())

    # --- findings ------------------------------------------------------------------------

    def replace_findings(
        self, analyser: str, findings: Iterable[Finding], *, camera_id: str | None = None
    ) -> None:
        """Replace what `analyser` found (on `camera_id`, or case-wide when None) atomically."""
        rows = []
        for f in findings:
            if f.analyser != analyser or (camera_id is not None and f.camera_id != camera_id):
                raise ValueError(
                    f"finding {f.finding_id} is from {f.analyser}/{f.camera_id}, "
                    f"not {analyser}/{camera_id}"
                )
            rows.append(
                {
                    "finding_id": f.finding_id,
                    "kind": f.kind,
                    "analyser": f.analyser,
                    "station_id": f.station_id,
                    "camera_id": f.camera_id,
                    "t_start": _iso(f.t_start),
                    "t_end": _iso(f.t_end),
                    "score": f.score,
                    "p_value": f.p_value,
                    "summary": f.summary,
                    "evidence": json.dumps(dict(f.evidence), sort_keys=True, default=str),
                }
            )
        where = s.findings.c.analyser == analyser
        if camera_id is not None:
            where = and_(where, s.findings.c.camera_id == camera_id)
        with self._write() as conn:
            conn.execute(s.findings.delete().where(where))
            if rows:
                conn.execute(s.findings.insert(), rows)

    def findings(self) -> pd.DataFrame:
        """Every finding (evidence as JSON text), by station, camera, start time and id."""
        c = s.findings.c
        order = (c.station_id, c.camera_id, c.t_start, c.finding_id)
        return self._frame(select(s.findings).order_by(*order))

    def finding(self, finding_id: str) -> Finding:
        with self._engine.connect() as conn:
            query = select(s.findings).where(s.findings.c.finding_id == finding_id)
            row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(f"no finding {finding_id!r} in {self.path}")
        r = dict(row)
        for key in ("t_start", "t_end"):
            r[key] = None if r[key] is None else datetime.fromisoformat(r[key])
        r["evidence"] = json.loads(r["evidence"])
        return Finding(**r)

    # --- analyser tables -----------------------------------------------------------------

    def write_table(
        self, analyser: str, name: str, frame: pd.DataFrame, *, camera_id: str | None = None
    ) -> None:
        """Store `frame` as (analyser, camera, name), replacing the previous one atomically.

        The frame travels as Parquet, so dtypes, time zones and the index come back as written.
        """
        if not analyser or not name:
            raise ValueError("analyser and name must not be empty")
        buf = io.BytesIO()
        frame.to_parquet(buf)
        row = {
            "analyser": analyser,
            "camera_id": camera_id or _CASE_LEVEL,
            "name": name,
            "rows": len(frame),
            "written_at": _now(),
            "parquet": buf.getvalue(),
        }
        with self._write() as conn:
            conn.execute(s.artifacts.delete().where(_artifact_key(analyser, name, camera_id)))
            conn.execute(s.artifacts.insert().values(**row))

    def read_table(self, analyser: str, name: str, *, camera_id: str | None = None) -> pd.DataFrame:
        """The frame written as (analyser, camera, name); NotFoundError if there is none."""
        query = select(s.artifacts.c.parquet).where(_artifact_key(analyser, name, camera_id))
        with self._engine.connect() as conn:
            blob = conn.execute(query).scalar()
        if blob is None:
            where = f"camera {camera_id}" if camera_id else "the case"
            raise NotFoundError(f"no table {analyser}/{name} for {where} in {self.path}")
        return pd.read_parquet(io.BytesIO(blob))

    def read_tables(self, analyser: str, name: str) -> pd.DataFrame:
        """Every camera's (analyser, name) frame stacked, with a leading camera_id column."""
        a = s.artifacts.c
        query = (
            select(a.camera_id, a.parquet)
            .where(a.analyser == analyser, a.name == name, a.camera_id != _CASE_LEVEL)
            .order_by(a.camera_id)
        )
        with self._engine.connect() as conn:
            parts = [
                pd.read_parquet(io.BytesIO(blob)).assign(camera_id=cid)
                for cid, blob in conn.execute(query)
            ]
        if not parts:
            return pd.DataFrame({"camera_id": pd.Series(dtype=str)})
        frame = pd.concat(parts, ignore_index=True)
        return frame[["camera_id", *[c for c in frame.columns if c != "camera_id"]]]

    def tables(self) -> pd.DataFrame:
        """The analyser tables held: analyser, camera_id ("" case-level), name, rows, written_at."""
        a = s.artifacts.c
        query = select(a.analyser, a.camera_id, a.name, a.rows, a.written_at)
        return self._frame(query.order_by(a.analyser, a.camera_id, a.name))


def _artifact_key(analyser: str, name: str, camera_id: str | None) -> Any:
    a = s.artifacts.c
    return and_(a.analyser == analyser, a.name == name, a.camera_id == (camera_id or _CASE_LEVEL))


def _camera(row: dict[str, Any]) -> Camera:
    polygon = row.pop("box_polygon")
    return Camera(
        **{**row, "start_time": datetime.fromisoformat(row["start_time"])},
        box_polygon=None if polygon is None else tuple(tuple(p) for p in json.loads(polygon)),
    )


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _on_begin).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")
