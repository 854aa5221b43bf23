"""The self-contained HTML report (out/report.html): a page of sections built from the store.

Later parts add sections by registering a builder in `SECTIONS` (see `pollwatch.report.base`).
"""

from pollwatch.report.base import SECTIONS, Plot, Section, SectionBuilder, get_section_by_name
from pollwatch.report.render import build_sections, render_report, write_report

__all__ = [
    "SECTIONS",
    "Plot",
    "Section",
    "SectionBuilder",
    "build_sections",
    "get_section_by_name",
    "render_report",
    "write_report",
]
