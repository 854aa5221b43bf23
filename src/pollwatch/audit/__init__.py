"""The camera audit: sound, viewing angle and picture conditions of every camera, and the
network's summary in observers' words. Everything runs inside the video engine's single decode:
`CameraAuditor` is an analyser of `pollwatch.video.analyse_video` (`needs`, `start(info)`,
`update(frame)`, `on_audio(chunk)`, `on_gap(gap)`, `result()`, `reset()`)."""

from pollwatch.audit.audio import AudioAuditor, AudioAuditResult, SpeechDetector
from pollwatch.audit.camera import CameraAuditor, CameraAuditResult
from pollwatch.audit.frozen import FreezeDetector
from pollwatch.audit.geometry import ViewTransform
from pollwatch.audit.image import ConditionsAuditor, ConditionsResult
from pollwatch.audit.network import (
    AuditFinding,
    CameraAuditRow,
    audit_findings,
    audit_row,
    network_summary,
    observability_timeline,
)
from pollwatch.audit.registration import Registrar
from pollwatch.audit.stored import (
    make_audit_analyser,
    observable_at,
    read_blind_ranges,
    read_unobservable,
    save_audit,
    unobservable_table,
)
from pollwatch.audit.types import TimeRange
from pollwatch.audit.view import ViewAuditor, ViewAuditResult

__all__ = [
    "AudioAuditResult",
    "AudioAuditor",
    "AuditFinding",
    "CameraAuditResult",
    "CameraAuditRow",
    "CameraAuditor",
    "ConditionsAuditor",
    "ConditionsResult",
    "FreezeDetector",
    "Registrar",
    "SpeechDetector",
    "TimeRange",
    "ViewAuditResult",
    "ViewAuditor",
    "ViewTransform",
    "audit_findings",
    "audit_row",
    "make_audit_analyser",
    "network_summary",
    "observability_timeline",
    "observable_at",
    "read_blind_ranges",
    "read_unobservable",
    "save_audit",
    "unobservable_table",
]
