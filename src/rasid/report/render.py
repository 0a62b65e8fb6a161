"""The report page as HTML: the view model laid out by the autoescaping Jinja2 templates in
templates/, with report.css inlined (the page is one self-contained file: no scripts, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from rasid.report import trends
from rasid.report.labels import COUNT_LABELS
from rasid.report.view import ReportView

DATA_DOCS = "data-docs"


@dataclass(frozen=True)
class Links:
    """Where the page's links point, relative to the page itself."""

    root: str  # from the page to reports/
    runs: bool  # whether earlier runs' reports sit beside this one
    docs: dict[str, list[str]]  # run id -> its Data Docs pages, relative to data-docs/


def href(url: str) -> str:
    # Titles and links come from the sites being watched: only web links become clickable.
    return url if urlsplit(url).scheme in ("http", "https") else "#"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("rasid.report", "templates"),
        autoescape=True,  # every title, URL and detail on the page comes from a watched site
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["href"] = href
    css = files("rasid.report").joinpath("templates/report.css").read_text(encoding="utf-8")
    env.globals.update(
        css=Markup(css),
        data_docs=DATA_DOCS,
        count_labels=COUNT_LABELS,
        trend_keys=(*trends.TREND_LAYERS, ("discovered", trends.DISCOVERED)),
    )
    return env


def render_html(report: ReportView, links: Links) -> str:
    return _environment().get_template("page.html.j2").render(report=report, links=links)
