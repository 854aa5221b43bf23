"""The network's audit of a case, from the per-camera results in the store (a case step).

`audit_case(case_paths, store)` writes `out/camera_audit.csv` (one row per camera of the case:
the stored audit row, or "not analysed" for a camera without one — never a clean row),
`out/network_summary.json` and the case-level store table audit/network (the summary as JSON
text in one row). `camera_audit_frame(store)` and `network_from_frame(frame)` are what the
report and evaluation read.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pandas as pd

from pollwatch.audit.network import CameraAuditRow, network_summary
from pollwatch.audit.stored import ANALYSER
from pollwatch.case import CasePaths
from pollwatch.pipeline import CASE_STEPS
from pollwatch.store import Store

__all__ = [
    "CAMERA_AUDIT_COLUMNS",
    "NOT_ANALYSED",
    "audit_case",
    "camera_audit_frame",
    "network_from_frame",
]

NOT_ANALYSED = "not analysed"
CAMERA_AUDIT_COLUMNS = [
    "camera_id",
    "station_id",
    "audio_state",
    "audio_ok_share",
    "view_state",
    "view_shift_px",
    "view_changed_at",
    "blocked_s",
    "blurred_s",
    "frozen_s",
    "offline_s",
    "dark_s",
    "observable_share",
    "audio_absent_share",
    "audio_muted_share",
    "audio_quiet_share",
    "audio_level_dbfs",
    "speech_share",
    "observed_s",
]
_FIELDS = [f.name for f in dataclasses.fields(CameraAuditRow)]


def camera_audit_frame(store: Store) -> pd.DataFrame:
    """One row per camera of the case (cameras.csv order) with `CAMERA_AUDIT_COLUMNS`; a
    camera without a stored audit has states "not analysed" and empty numbers."""
    cameras = store.cameras()[["camera_id", "station_id"]]
    stored = store.read_tables(ANALYSER, "row")
    if not stored.empty:
        stored = stored.drop(columns=["station_id"], errors="ignore")
    frame = cameras.merge(stored, on="camera_id", how="left")
    frame = frame.reindex(columns=CAMERA_AUDIT_COLUMNS)
    missing = frame["audio_state"].isna()
    for column in ("audio_state", "view_state"):
        frame[column] = frame[column].astype(object).where(~missing, NOT_ANALYSED)
    return frame.reset_index(drop=True)


def _row(record: dict[str, Any]) -> CameraAuditRow:
    changed = record["view_changed_at"]
    values = {k: record[k] for k in _FIELDS}
    values["view_changed_at"] = None if pd.isna(changed) else pd.Timestamp(changed).to_pydatetime()
    for key in ("camera_id", "station_id", "audio_state", "view_state"):
        values[key] = str(values[key])
    for key in _FIELDS:
        if key not in ("camera_id", "station_id", "audio_state", "view_state", "view_changed_at"):
            values[key] = float(values[key])
    return CameraAuditRow(**values)


def network_from_frame(frame: pd.DataFrame) -> dict[str, object]:
    """`network_summary` of the analysed cameras of a `camera_audit_frame`, naming the others."""
    analysed = frame["audio_state"] != NOT_ANALYSED
    rows = [_row(r) for r in frame[analysed].to_dict("records")]
    return network_summary(rows, not_analysed=list(frame.loc[~analysed, "camera_id"]))


def _json_default(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


@CASE_STEPS.registering("audit", order=50)
def audit_case(paths: CasePaths, store: Store) -> None:
    """Write out/camera_audit.csv and out/network_summary.json from the stored audits."""
    frame = camera_audit_frame(store)
    shown = frame.copy()
    changed = pd.to_datetime(shown["view_changed_at"], utc=True)
    tz = store.election().polls_open.tzinfo
    shown["view_changed_at"] = changed.dt.tz_convert(tz).map(
        lambda t: "" if pd.isna(t) else t.isoformat()
    )
    shown.to_csv(paths.out("camera_audit.csv"), index=False, float_format="%.6g")
    summary = network_from_frame(frame)
    text = json.dumps(summary, indent=2, default=_json_default) + "\n"
    paths.out("network_summary.json").write_text(text, encoding="utf-8")
    store.write_table(ANALYSER, "network", pd.DataFrame({"summary": [text]}))
