"""What a report section is, the section registry, and the helpers sections build HTML with.

A section builder is `build(store, case_paths) -> Section | None` (None: nothing to show). To
add one, register it in `SECTIONS` from a module listed in `SECTIONS.modules`; `order` places
it (built-ins: overview 10, findings 20, results 30, regions 40, checkpoints 50, cameras 60,
forensics 70, input warnings 90; parts: counting 55, camera audit 55, stuffing 65).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from pollwatch.case import CasePaths
from pollwatch.registry import Registry
from pollwatch.store import Store

__all__ = [
    "SECTIONS",
    "Plot",
    "Section",
    "SectionBuilder",
    "environment",
    "facts_html",
    "get_section_by_name",
    "table_html",
]


@dataclass(frozen=True)
class Plot:
    """A PNG image and its alternative text; embedded in the report as a data URI."""

    png: bytes
    alt: str

    def __post_init__(self) -> None:
        if not self.png.startswith(b"\x89PNG"):
            raise ValueError("png must hold PNG bytes")

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class Section:
    """A titled part of the report: an HTML fragment (trusted: built with `table_html`,
    `facts_html` or escaped text) followed by its plots. `anchor` is the id to link to."""

    title: str
    html: Markup
    plots: tuple[Plot, ...] = field(default=())
    anchor: str = ""

    def __post_init__(self) -> None:
        if not self.title:
            raise ValueError("title must not be empty")


SectionBuilder = Callable[[Store, CasePaths], Section | None]

SECTIONS: Registry[SectionBuilder] = Registry(
    "report section",
    modules=(
        "pollwatch.report.sections",
        "pollwatch.counting.section",
        "pollwatch.stuffing.section",
        "pollwatch.report.audit",
        "pollwatch.report.forensics",
        "pollwatch.report.carousel",
    ),
)


def get_section_by_name(name: str) -> SectionBuilder:
    """The section builder registered as `name`."""
    return SECTIONS.get(name)


@cache
def environment() -> Environment:
    """The report's Jinja2 environment (templates in pollwatch/report/templates, autoescaped)."""
    return Environment(
        loader=PackageLoader("pollwatch.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _cell(value: object, fmt: str | None) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if fmt is not None:
        return format(value, fmt)
    return str(value)


def table_html(
    frame: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    empty: str = "Nothing to show.",
) -> Markup:
    """`frame` as an escaped HTML table; `formats` maps columns to format specs (",d", ".1%"),
    `headers` renames columns; numeric columns are right-aligned."""
    formats = dict(formats or {})
    headers = dict(headers or {})
    columns = list(frame.columns)
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in columns]
    rows = [
        [_cell(v, formats.get(c)) for c, v in zip(columns, row, strict=True)]
        for row in frame.itertuples(index=False)
    ]
    return Markup(
        environment()
        .get_template("table.html.j2")
        .render(
            headers=[headers.get(c, c) for c in columns],
            numeric=numeric,
            rows=rows,
            empty=empty,
        )
    )


def facts_html(facts: Sequence[tuple[str, object]]) -> Markup:
    """Label/value pairs as an escaped definition list."""
    return Markup(environment().get_template("facts.html.j2").render(facts=facts))
