"""The editors' quality report: per source, what was found, kept, set aside and why, over time.

Editors are newsroom staff, not engineers: the page is Arabic first with English labels, right
to left, one self-contained HTML file (inline CSS and SVG, no scripts, no CDN) that reads on a
phone as well as on a desktop. It is built only from committed runs — their manifests, and the
committed article and quarantine rows for titles, links and warnings — so every number on it
is a number the lake holds. Beside it, under ``reports/data-docs/``, GX Data Docs for the same
runs, rendered from the validation results each run committed.

Where each part lives:

- ``facts``: what is read from the lake (``Facts``: runs, failing articles, failed fetches);
- ``attention``: what needs an editor, per source; ``trends``: counts over time, pass rates;
- ``view``: the page's view model, computed once per report from the Facts;
- ``render`` and ``templates/``: the page, autoescaping Jinja2 templates beside report.css;
- ``text``: the same facts for a terminal and for a Prefect artifact;
- ``publishing``: the report's files in the lake or a folder, with the Data Docs;
- ``labels`` and ``labels.yaml``: the words; each check's own words are in the GX suite.
"""

from rasid.report.attention import attention
from rasid.report.facts import (
    WINDOW_DAYS,
    WINDOW_RUNS,
    Facts,
    FailedFetch,
    Problem,
    committed_runs,
    gather,
    window,
)
from rasid.report.labels import COUNT_LABELS, REASONS, fetch_reason, reason_text
from rasid.report.publishing import Published, build, link, publish, report_key, write_directory
from rasid.report.render import Links, render_html
from rasid.report.text import markdown_summary, render_text
from rasid.report.trends import pass_rate, percent
from rasid.report.view import ReportView
from rasid.report.view import build as build_view

__all__ = [
    "COUNT_LABELS",
    "REASONS",
    "WINDOW_DAYS",
    "WINDOW_RUNS",
    "Facts",
    "FailedFetch",
    "Links",
    "Problem",
    "Published",
    "ReportView",
    "attention",
    "build",
    "build_view",
    "committed_runs",
    "fetch_reason",
    "gather",
    "link",
    "markdown_summary",
    "pass_rate",
    "percent",
    "publish",
    "reason_text",
    "render_html",
    "render_text",
    "report_key",
    "window",
    "write_directory",
]
