"""The case store (out/pollwatch.db): inputs, jobs, findings and analyser tables.

This package is the only code that writes SQL. See docs/formats.md ("The store").
"""

from pollwatch.store.records import Camera, CaseInputs, Election, Finding, finding_id, is_url
from pollwatch.store.store import JOB_STATUSES, JobStatus, NotFoundError, Store, StoreError

__all__ = [
    "JOB_STATUSES",
    "Camera",
    "CaseInputs",
    "Election",
    "Finding",
    "JobStatus",
    "NotFoundError",
    "Store",
    "StoreError",
    "finding_id",
    "is_url",
]
