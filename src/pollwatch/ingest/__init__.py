"""Reading and validating a case's inputs (docs/formats.md, "Inputs") into the store.

Every problem of every file is collected and raised together as one `InputError`; nothing is
stored unless all inputs are valid.
"""

from pollwatch.ingest.load import FORMAT_VERSION, ingest_case, input_fingerprint, read_case

__all__ = ["FORMAT_VERSION", "ingest_case", "input_fingerprint", "read_case"]
