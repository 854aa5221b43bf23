"""Writing out/report.html: every registered section, rendered into one self-contained page
(inline CSS, plots as data URIs; it opens offline)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from pollwatch import __version__
from pollwatch.case import CasePaths
from pollwatch.report.base import SECTIONS, Section, SectionBuilder, environment
from pollwatch.store import Store

__all__ = ["build_sections", "render_report", "write_report"]


def build_sections(
    store: Store, paths: CasePaths, builders: Mapping[str, SectionBuilder] | None = None
) -> list[Section]:
    """Run the section builders (the registered ones by default) in order."""
    chosen = dict(SECTIONS.items()) if builders is None else builders
    sections = []
    for name, build in chosen.items():
        section = build(store, paths)
        if section is not None:
            sections.append(section if section.anchor else _anchored(section, name))
    return sections


def _anchored(section: Section, name: str) -> Section:
    return replace(section, anchor=name)


def render_report(title: str, sections: list[Section]) -> str:
    """The report page's HTML."""
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            sections=sections,
            version=__version__,
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
    )


def write_report(case: str | Path, *, builders: Mapping[str, SectionBuilder] | None = None) -> Path:
    """Write the case's out/report.html from its store; returns its path."""
    paths = CasePaths.of(case)
    with Store.existing(paths.db_path) as store:
        election = store.election()
        sections = build_sections(store, paths, builders)
    target = paths.report_html
    target.write_text(render_report(election.name, sections), encoding="utf-8")
    return target
