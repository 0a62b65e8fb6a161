"""The editors' quality report: per source, what was found, kept, set aside and why, over time.

Editors are newsroom staff, not engineers: the page is Arabic first with English labels, right
to left, one self-contained HTML file (inline CSS and SVG, no scripts, no CDN) that reads on a
phone as well as on a desktop. It is built only from committed runs — their manifests, and the
committed article and quarantine rows for titles, links and warnings — so every number on it
is a number the lake holds. Beside it, under ``reports/data-docs/``, GX Data Docs for the same
runs, rendered from the validation results each run committed.
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from html import escape
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pyarrow.compute as pc

from rasid import charts, checks, health
from rasid.storage import Lake

REPORTS = "reports"
DATA_DOCS = "data-docs"
WINDOW_DAYS = 14  # trends and article lists cover the runs of the last two weeks ...
WINDOW_RUNS = 60  # ... but never more runs than a chart can show as separate bars
BASELINE_RUNS = 5  # "a sudden drop" is measured against the median of this many earlier runs

# --- words ------------------------------------------------------------------------------------

# Plain words for each check's failure, Arabic then English; the report, the CLI and the
# Prefect artifact share them.
REASONS: dict[str, tuple[str, str]] = {
    "no_date": ("لم يُعثر على تاريخ النشر", "no publication date found"),
    "too_short": ("النص قصير جداً أو فارغ", "the text is too short or empty"),
    "duplicate_body": ("النص مكرر من مقال آخر", "the text is repeated from another article"),
    "not_arabic": ("النص ليس بالعربية", "the text is not Arabic"),
    "wrong_language": ("لغة النص لا تطابق لغة المصدر", "the language does not match the source"),
    "duplicate_url": ("الرابط مكرر في الجولة نفسها", "the URL is repeated within the run"),
    "body_repeated": (
        "النص مكرر داخل الصفحة (حُفظ مرة واحدة)",
        "the text is repeated within the page (stored once)",
    ),
    "date_implausible": ("تاريخ النشر غير معقول", "the publication date is implausible"),
    "near_duplicate": (
        "نسخة شبه مطابقة لمقال نُشر قبله (خبر منقول)",
        "a near-copy of an article published earlier (syndicated)",
    ),
}

# What each check asks, for the pass-rate tables.
CHECK_NAMES: dict[str, tuple[str, str]] = {
    "no_date": ("تاريخ النشر موجود", "publication date found"),
    "too_short": ("النص بطول كافٍ", "text long enough"),
    "duplicate_body": ("النص غير منسوخ من مقال آخر", "text not copied from another article"),
    "not_arabic": ("النص بالعربية", "text is Arabic"),
    "wrong_language": ("اللغة تطابق المصدر", "language matches the source"),
    "duplicate_url": ("الرابط غير مكرر", "URL not repeated"),
    "body_repeated": ("النص غير مكرر داخل الصفحة", "text not repeated within the page"),
    "date_implausible": ("تاريخ النشر معقول", "publication date plausible"),
    "near_duplicate": ("ليس نسخة من مقال سابق", "not a copy of an earlier article"),
}

# Why a page could not be fetched (codes from rasid.fetch and rasid.discover).
FETCH_REASONS: dict[str, tuple[str, str]] = {
    "http_404": ("الصفحة غير موجودة", "page not found"),
    "http_410": ("الصفحة حُذفت", "page removed"),
    "http_403": ("الموقع رفض الطلب", "the site refused the request"),
    "http_429": ("الموقع طلب الإبطاء", "the site asked us to slow down"),
    "timeout": ("لم يردّ الموقع في الوقت المحدد", "the site did not answer in time"),
    "connection_error": ("تعذّر الاتصال بالموقع", "could not connect to the site"),
    "blocked_address": ("عنوان محظور (شبكة داخلية)", "blocked address (private network)"),
    "too_large": ("الصفحة أكبر من الحد المسموح", "the page is too large"),
    "not_html": ("ليست صفحة ويب", "not a web page"),
    "redirect_loop": ("تحويل دائري بين الروابط", "redirect loop"),
    "too_many_redirects": ("تحويلات كثيرة جداً", "too many redirects"),
    "robots_disallowed": ("ملف robots.txt يمنع الجلب", "robots.txt disallows it"),
    "bad_feed": ("تعذّرت قراءة الخلاصة", "the feed could not be read"),
    "bad_sitemap": ("تعذّرت قراءة خريطة الموقع", "the sitemap could not be read"),
    "internal_error": ("خطأ داخلي في راصد", "internal error in rasid"),
    "deadline_exceeded": ("الموقع أبطأ من المهلة المسموحة", "the answer took longer than allowed"),
    "truncated_body": ("وصلت الصفحة مبتورة", "the page arrived cut short"),
    "bad_content_encoding": ("ضغط الصفحة تالف أو غير مدعوم", "broken or unsupported compression"),
    "bad_redirect": ("تحويل إلى عنوان غير صالح", "redirect to an invalid address"),
    "rate_limited": ("الموقع طلب التوقف مدة طويلة", "the site asked for a long pause"),
}

COUNT_LABELS = (
    ("discovered", "روابط مكتشفة", "discovered"),
    ("new", "روابط جديدة", "new"),
    ("fetched", "صفحات جُلبت", "fetched"),
    ("stored", "مقالات خُزّنت", "stored"),
    ("quarantined", "في الحجر", "quarantined"),
    ("failed", "تعذّر جلبها", "fetch failed"),
)


def reason_text(code: str) -> str:
    arabic, english = REASONS.get(code, (code, code))
    return f"{arabic} / {english}"


def fetch_reason(code: str) -> tuple[str, str]:
    if code in FETCH_REASONS:
        return FETCH_REASONS[code]
    if code.startswith("http_5"):
        return "خطأ في خادم الموقع", f"server error (HTTP {code[5:]})"
    if code.startswith("http_"):
        return "ردّ غير متوقع من الموقع", f"unexpected answer (HTTP {code[5:]})"
    return code, code


# --- the facts, from committed runs only -----------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A committed article (stored or quarantined) that failed at least one check."""

    run_id: str
    source: str
    url: str
    title: str | None
    reasons: tuple[str, ...]  # blocking reasons first, then warnings
    quarantined: bool


@dataclass(frozen=True)
class FailedFetch:
    """A URL that could not be fetched and has not been fetched since."""

    run_id: str  # the latest run that tried it
    source: str
    url: str
    reason: str
    detail: str
    tries: int  # runs that tried it in the window


@dataclass
class Facts:
    runs: list[dict[str, Any]]  # manifests in the window, oldest first; the last is reported
    problems: list[Problem]
    failures: list[FailedFetch]
    rules: list[checks.Rule] = field(default_factory=checks.rules)

    @property
    def run(self) -> dict[str, Any]:
        return self.runs[-1]

    @property
    def blocking(self) -> set[str]:
        return {r.reason for r in self.rules if r.blocking}

    @property
    def sources(self) -> list[str]:
        return sorted(self.run["sources"])

    def name(self, source: str) -> str:
        for manifest in reversed(self.runs):
            if name := manifest.get("source_names", {}).get(source):
                return str(name)
        return source

    def failed(self, run_id: str, source: str, reason: str) -> int:
        return self._failures[(run_id, source, reason)]

    @cached_property
    def _failures(self) -> Counter[tuple[str, str, str]]:
        return Counter((p.run_id, p.source, r) for p in self.problems for r in p.reasons)


def window(manifests: list[dict[str, Any]], run_id: str | None = None) -> list[dict[str, Any]]:
    """The committed runs a report on ``run_id`` (default: the latest) looks back over."""
    upto = next((i for i, m in enumerate(manifests) if m["run_id"] == run_id), len(manifests) - 1)
    if run_id is not None and manifests[upto]["run_id"] != run_id:
        raise KeyError(f"run {run_id!r} is not committed")
    since = _started(manifests[upto]) - timedelta(days=WINDOW_DAYS)
    recent = [m for m in manifests[: upto + 1] if _started(m) >= since]
    return recent[-WINDOW_RUNS:]


def gather(
    lake: Lake, run_id: str | None = None, manifests: list[dict[str, Any]] | None = None
) -> Facts:
    manifests = lake.collection_runs() if manifests is None else manifests
    if not manifests:
        raise LookupError(f"no committed run in {lake.uri}")
    runs = window(manifests, run_id)
    later = manifests[manifests.index(runs[-1]) + 1 :]
    return Facts(runs, _problems(lake, runs), _failed_fetches(runs, later))


def _problems(lake: Lake, runs: list[dict[str, Any]]) -> list[Problem]:
    ids = [m["run_id"] for m in runs]
    warnings = {r.reason for r in checks.rules() if not r.blocking}
    found = []
    for kind in ("quarantine", "articles"):
        columns = ["run_id", "source", "url", "title", "flags"]
        columns += ["reasons"] if kind == "quarantine" else []
        table = lake.dataset(kind).to_table(columns=columns, filter=pc.field("run_id").isin(ids))
        for row in table.to_pylist():
            flagged = [f for f in row["flags"] or [] if f in warnings]
            reasons = tuple(row.get("reasons") or []) + tuple(sorted(flagged))
            if reasons:
                found.append(
                    Problem(
                        row["run_id"],
                        row["source"],
                        row["url"],
                        row["title"],
                        reasons,
                        kind == "quarantine",
                    )
                )
    order = {run: i for i, run in enumerate(ids)}
    return sorted(found, key=lambda p: (-order[p.run_id], p.source, p.url))


def _failed_fetches(runs: list[dict[str, Any]], later: list[dict[str, Any]]) -> list[FailedFetch]:
    """Each failing URL once, from its latest try; dropped once a later run fetched it."""
    fetched_since: set[str] = set()
    tries: Counter[str] = Counter()
    latest: dict[str, FailedFetch] = {}
    shown = {m["run_id"] for m in runs}
    for manifest in reversed([*runs, *later]):
        in_window = manifest["run_id"] in shown
        for failure in manifest.get("failures", []):
            url = failure["url"]
            if url in fetched_since or not in_window:
                continue
            tries[url] += 1
            latest.setdefault(
                url,
                FailedFetch(
                    manifest["run_id"],
                    failure["source_id"],
                    url,
                    failure["reason"],
                    failure.get("detail", ""),
                    0,
                ),
            )
        fetched_since.update(r["url"] for r in manifest.get("records", []))
    return [
        FailedFetch(f.run_id, f.source, f.url, f.reason, f.detail, tries[url])
        for url, f in latest.items()
    ]


# --- what needs attention ---------------------------------------------------------------------

# The flags rasid.health raises (the flow publishes them too), in Arabic; their English is the
# flag's own sentence.
FLAG_WORDS = {
    health.YIELDS_NOTHING: "المصدر لم يُعطِ أي مقال",
    health.MOSTLY_QUARANTINED: "معظم المقالات حُجزت",
}


def attention(runs: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """Per source of the last run, what an editor should look at, in Arabic and English."""
    last, earlier = runs[-1], runs[:-1]
    notes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for flag in health.flag_sources(last["sources"], earlier):
        notes[flag.source].append((FLAG_WORDS.get(flag.code, flag.code), flag.detail))
    for source, stats in sorted(last["sources"].items()):
        history = [m["sources"][source] for m in earlier if source in m["sources"]]
        notes[source] += _fetch_notes(stats) + _drop_notes(stats, history)
    return {source: found for source, found in sorted(notes.items()) if found}


def _fetch_notes(stats: dict[str, Any]) -> list[tuple[str, str]]:
    # With nothing fetched at all, the "yields nothing" flag already says it.
    if not stats["fetched"] or stats["failed"] <= stats["fetched"]:
        return []
    code = Counter(stats.get("failure_reasons") or {"": 0}).most_common(1)[0][0]
    arabic, english = fetch_reason(code)
    failed, tried = stats["failed"], stats["failed"] + stats["fetched"]
    return [
        (
            f"تعذّر جلب معظم الصفحات ({failed} من {tried})، أكثر الأسباب: {arabic}",
            f"most pages could not be fetched ({failed} of {tried}), mostly: {english}",
        )
    ]


def _drop_notes(stats: dict[str, Any], history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Far fewer links than usual: a feed that shrank or a section that moved."""
    usual = [h["discovered"] for h in history[-BASELINE_RUNS:] if h["discovered"]]
    typical = statistics.median(usual) if usual else 0
    if not stats["discovered"] or typical < 4 or stats["discovered"] >= typical / 2:
        return []
    return [
        (
            f"انخفاض مفاجئ في الروابط المكتشفة: {stats['discovered']} مقابل نحو {typical:g} عادةً",
            f"sudden drop in links discovered: {stats['discovered']}, usually about {typical:g}",
        )
    ]


# --- trends -----------------------------------------------------------------------------------

TREND_LAYERS = (
    ("stored", "خُزّنت / stored"),
    ("quarantined", "في الحجر / quarantined"),
    ("failed", "تعذّر جلبها / fetch failed"),
)


def _count(manifest: dict[str, Any], source: str | None, key: str) -> int:
    if source is None:
        return int(manifest["totals"][key])
    return int(manifest["sources"].get(source, {}).get(key, 0))


def _per_run(
    runs: list[dict[str, Any]], source: str | None
) -> tuple[list[str], dict[str, list[int | None]]]:
    slots = [_when(m) for m in runs]
    keys = [k for k, _ in TREND_LAYERS] + ["discovered"]
    return slots, {k: [_count(m, source, k) for m in runs] for k in keys}


def _per_day(
    runs: list[dict[str, Any]], source: str | None
) -> tuple[list[str], dict[str, list[int | None]]]:
    """Sums per UTC day (discovered: the day's largest run, since runs rediscover the same
    links); a day without runs is a gap, not a zero."""
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for manifest in runs:
        by_day[_started(manifest).date()].append(manifest)
    first, last = min(by_day), max(by_day)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    series: dict[str, list[int | None]] = {}
    for key, _ in TREND_LAYERS:
        series[key] = [
            sum(_count(m, source, key) for m in by_day[d]) if d in by_day else None for d in days
        ]
    series["discovered"] = [
        max(_count(m, source, "discovered") for m in by_day[d]) if d in by_day else None
        for d in days
    ]
    return [d.isoformat() for d in days], series


def pass_rate(checked: int, failed: int) -> float | None:
    return None if checked == 0 else (checked - failed) / checked


def percent(rate: float | None) -> str:
    """Rounded down, so a check with any failure never shows as 100%."""
    if rate is None:
        return "—"
    return f"{math.floor(rate * 1000) / 10:g}%"


# --- HTML -------------------------------------------------------------------------------------


def _bi(arabic: str, english: str) -> str:
    return f'{escape(arabic)} <span class="en" lang="en" dir="ltr">{escape(english)}</span>'


def _started(manifest: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(manifest["started_at"])


def _when(manifest: dict[str, Any]) -> str:
    return f"{_started(manifest):%Y-%m-%d %H:%M} UTC"


def _time(manifest: dict[str, Any]) -> str:
    return f'<bdi dir="ltr" class="time">{escape(_when(manifest))}</bdi>'


def _href(url: str) -> str:
    # Titles and links come from the sites being watched: only web links become clickable.
    return escape(url) if urlsplit(url).scheme in ("http", "https") else "#"


def _anchor(source: str) -> str:
    return f"source-{source}"


@dataclass(frozen=True)
class Links:
    """Where the page's links point, relative to the page itself."""

    root: str  # from the page to reports/
    runs: bool  # whether earlier runs' reports sit beside this one
    docs: dict[str, list[str]]  # run id -> its Data Docs pages, relative to data-docs/


def render_html(facts: Facts, links: Links) -> str:
    run = facts.run
    title = f"راصد — تقرير جودة البيانات — {_when(run)}"
    body = [
        _header(facts, links),
        _attention(facts),
        _overview(facts),
        _trends(facts, None, "all"),
        *(_source_section(facts, sid, links) for sid in facts.sources),
        _history(facts, links),
        _footer(),
    ]
    return (
        '<!doctype html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_css()}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _css() -> str:
    return files("rasid").joinpath("report_assets/report.css").read_text(encoding="utf-8")


def _header(facts: Facts, links: Links) -> str:
    run = facts.run
    first = facts.runs[0]
    doc_link = (
        f' · <a href="{escape(links.root + DATA_DOCS + "/index.html")}">'
        f"{_bi('تفاصيل الفحوص', 'GX Data Docs')}</a>"
        if links.docs
        else ""
    )
    return (
        "<header>"
        f'<h1>راصد — تقرير جودة البيانات <span class="en" lang="en" dir="ltr">rasid — '
        "data-quality report</span></h1>"
        f'<p class="meta">{_bi("الجولة", "run")} <bdi dir="ltr" data-run-id>{escape(run["run_id"])}'
        f"</bdi> · {_time(run)}{doc_link}</p>"
        f'<p class="meta">{_bi("الاتجاهات تغطي", "trends cover")} {len(facts.runs)} '
        f"{_bi('جولة منذ', 'runs since')} {_time(first)}</p>"
        f"{_totals(run)}</header>"
    )


def _totals(run: dict[str, Any]) -> str:
    cards = "".join(
        f'<div class="card card-{key}"><dt>{_bi(ar, en)}</dt>'
        f'<dd data-metric="{key}" data-source="*">{run["totals"][key]}</dd></div>'
        for key, ar, en in COUNT_LABELS
    )
    return f'<dl class="cards">{cards}</dl>'


def _attention(facts: Facts) -> str:
    notes = attention(facts.runs)
    if not notes:
        return (
            '<section class="summary ok" id="attention"><h2>'
            f"{_bi('كل المصادر تعمل كما يجب', 'every source looks fine')}</h2></section>"
        )
    items = "".join(
        f'<li data-source="{escape(sid)}"><a href="#{_anchor(sid)}">{escape(facts.name(sid))}</a> '
        f'<bdi dir="ltr" class="id">{escape(sid)}</bdi>: '
        + "؛ ".join(_bi(ar, en) for ar, en in found)
        + "</li>"
        for sid, found in notes.items()
    )
    return (
        '<section class="summary" id="attention">'
        f"<h2>{_bi('مصادر تحتاج انتباهاً', 'sources that need attention')}</h2>"
        f"<ul>{items}</ul></section>"
    )


def _overview(facts: Facts) -> str:
    head = "".join(f"<th>{_bi(ar, en)}</th>" for _, ar, en in COUNT_LABELS)
    rows = []
    notes = attention(facts.runs)
    for sid in facts.sources:
        stats = facts.run["sources"][sid]
        state = (
            ("needs", "يحتاج انتباهاً", "needs attention") if sid in notes else ("ok", "سليم", "OK")
        )
        rows.append(
            f'<tr><th scope="row" data-label="المصدر / source"><a href="#{_anchor(sid)}">'
            f"{escape(facts.name(sid))}</a></th>"
            + _count_cells(stats, sid)
            + f'<td data-label="الحالة / status"><span class="badge {state[0]}">'
            f"{_bi(state[1], state[2])}</span></td></tr>"
        )
    return (
        f'<section id="overview"><h2>{_bi("المصادر في هذه الجولة", "sources in this run")}</h2>'
        '<table class="reflow"><thead><tr>'
        f"<th>{_bi('المصدر', 'source')}</th>{head}<th>{_bi('الحالة', 'status')}</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _count_cells(stats: dict[str, Any], source: str) -> str:
    return "".join(
        f'<td class="n" data-label="{escape(ar)} / {en}" data-metric="{key}" '
        f'data-source="{escape(source)}">{stats[key]}</td>'
        for key, ar, en in COUNT_LABELS
    )


def _trends(facts: Facts, source: str | None, key: str) -> str:
    figures = []
    for slot, title, (slots, series) in (
        ("run", ("حسب الجولة", "per run"), _per_run(facts.runs, source)),
        ("day", ("حسب اليوم (UTC)", "per day (UTC)"), _per_day(facts.runs, source)),
    ):
        layers = [charts.Series(k, label, series[k]) for k, label in TREND_LAYERS]
        line = charts.Series("discovered", "مكتشفة / discovered", series["discovered"])
        figures.append(
            f'<figure class="trend" data-trend="{escape(key)}-{slot}">'
            f"<figcaption>{_bi(*title)}</figcaption>"
            f'<div class="plot" dir="ltr"><span class="ymax">{charts.scale(layers, line):g}</span>'
            f"{charts.stacked_bars(slots, layers, line, label=f'{key}, {title[1]}')}"
            f'<div class="xaxis"><span>{escape(slots[0])}</span><span>{escape(slots[-1])}</span>'
            "</div></div></figure>"
        )
    legend = "".join(
        f'<li><i class="key-{k}"></i>{_bi(*label.split(" / "))}</li>'
        for k, label in (*TREND_LAYERS, ("discovered", "مكتشفة / discovered"))
    )
    heading = (
        _bi("الاتجاه", "trend") if source else _bi("الاتجاه لكل المصادر", "trend, all sources")
    )
    return (
        f'<section class="trends"><h3>{heading}</h3><ul class="legend">{legend}</ul>'
        f'<div class="figures">{"".join(figures)}</div></section>'
    )


def _source_section(facts: Facts, sid: str, links: Links) -> str:
    stats = facts.run["sources"][sid]
    notes = attention(facts.runs).get(sid, [])
    badge = (
        "".join(f"<li>{_bi(ar, en)}</li>" for ar, en in notes)
        if notes
        else f'<li class="ok">{_bi("يعمل كما يجب", "working as expected")}</li>'
    )
    cards = "".join(
        f'<div class="card card-{key}"><dt>{_bi(ar, en)}</dt>'
        f'<dd data-metric="{key}" data-source="{escape(sid)}">{stats[key]}</dd></div>'
        for key, ar, en in COUNT_LABELS
    )
    return (
        f'<section class="source" id="{_anchor(sid)}" data-source="{escape(sid)}">'
        f'<h2>{escape(facts.name(sid))} <bdi dir="ltr" class="id">{escape(sid)}</bdi></h2>'
        f'<ul class="notes">{badge}</ul><dl class="cards">{cards}</dl>'
        + _checks_table(facts, sid)
        + _trends(facts, sid, sid)
        + _problem_lists(facts, sid)
        + _failure_list(facts, sid)
        + "</section>"
    )


def _checks_table(facts: Facts, sid: str) -> str:
    rows = []
    for rule in facts.rules:
        per_run = []
        for manifest in facts.runs:
            stats = manifest["sources"].get(sid)
            checked = stats["stored"] + stats["quarantined"] if stats else 0
            per_run.append((checked, facts.failed(manifest["run_id"], sid, rule.reason)))
        checked, failed = per_run[-1]
        overall = (sum(c for c, _ in per_run), sum(f for _, f in per_run))
        kind = ("يحجز المقال", "quarantines") if rule.blocking else ("تنبيه فقط", "warning only")
        trend = charts.sparkline([pass_rate(c, f) for c, f in per_run], label=rule.reason)
        rows.append(
            f'<tr data-check="{rule.reason}" data-source="{escape(sid)}">'
            f'<th scope="row">{_bi(*CHECK_NAMES.get(rule.reason, (rule.reason,) * 2))}'
            f"<br><small>{_bi(*kind)}</small></th>"
            f'<td data-label="هذه الجولة / this run" data-failed="{failed}" '
            f'data-checked="{checked}"><span>{_rate(checked, failed)}</span></td>'
            f'<td data-label="كل الجولات المعروضة / all runs shown">'
            f"<span>{_rate(*overall)}</span></td>"
            f'<td data-label="حسب الجولة / per run"><span dir="ltr">{trend}</span></td></tr>'
        )
    return (
        f"<h3>{_bi('الفحوص ونسب النجاح', 'checks and pass rates')}</h3>"
        '<table class="reflow checks"><thead><tr>'
        f"<th>{_bi('الفحص', 'check')}</th><th>{_bi('هذه الجولة', 'this run')}</th>"
        f"<th>{_bi('كل الجولات المعروضة', 'all runs shown')}</th>"
        f"<th>{_bi('حسب الجولة', 'per run')}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _rate(checked: int, failed: int) -> str:
    if not checked:
        return f"<small>{_bi('لا مقالات جديدة', 'no new articles')}</small>"
    return (
        f'<b class="pct {"bad" if failed else "good"}">{percent(pass_rate(checked, failed))}</b> '
        f"<small>{_bi(f'فشل {failed} من {checked}', f'{failed} of {checked} failed')}</small>"
    )


def _problem_lists(facts: Facts, sid: str) -> str:
    mine = [p for p in facts.problems if p.source == sid]
    heading = f"<h3>{_bi('مقالات لم تجتز الفحوص', 'articles that failed a check')}</h3>"
    if not mine:
        return (
            heading
            + f'<p class="none">{_bi("لا شيء في الجولات المعروضة", "none in the runs shown")}</p>'
        )
    runs = {m["run_id"]: m for m in facts.runs}
    groups = []
    for rule in facts.rules:
        failing = [p for p in mine if rule.reason in p.reasons]
        if not failing:
            continue
        items = "".join(_problem_item(facts, p, rule.reason, runs[p.run_id]) for p in failing)
        is_open = " open" if len(failing) <= 25 else ""
        groups.append(
            f'<details class="problems" data-check="{rule.reason}"{is_open}><summary>'
            f'<span class="count">{len(failing)}</span> '
            f"{_bi(*REASONS.get(rule.reason, (rule.reason,) * 2))}"
            f'</summary><ul class="articles">{items}</ul></details>'
        )
    return heading + "".join(groups)


def _problem_item(facts: Facts, problem: Problem, check: str, manifest: dict[str, Any]) -> str:
    reasons = "".join(
        f'<li class="{"block" if code in facts.blocking else "warn"}">'
        f"{_bi(*REASONS.get(code, (code, code)))}</li>"
        for code in problem.reasons
    )
    where = (
        ("في الحجر", "quarantined")
        if problem.quarantined
        else ("خُزّن مع تنبيه", "stored with a warning")
    )
    latest = manifest["run_id"] == facts.run["run_id"]
    fresh = f' <span class="badge new">{_bi("جديد", "new")}</span>' if latest else ""
    title = problem.title or problem.url
    return (
        f'<li class="problem" data-check="{check}" data-source="{escape(problem.source)}" '
        f'data-run="{escape(problem.run_id)}" data-url="{escape(problem.url)}">'
        f'<a class="title" dir="auto" href="{_href(problem.url)}">{escape(title)}</a>'
        f'<span class="url" dir="ltr">{escape(problem.url)}</span>'
        f'<ul class="reasons">{reasons}</ul>'
        f'<span class="when">{_bi(*where)} · {_time(manifest)}{fresh}</span></li>'
    )


def _failure_list(facts: Facts, sid: str) -> str:
    mine = [f for f in facts.failures if f.source == sid]
    heading = f"<h3>{_bi('صفحات تعذّر جلبها', 'pages that could not be fetched')}</h3>"
    if not mine:
        return (
            heading
            + f'<p class="none">{_bi("لا شيء في الجولات المعروضة", "none in the runs shown")}</p>'
        )
    runs = {m["run_id"]: m for m in facts.runs}
    items = []
    for failure in mine:
        tries = (
            f" · {_bi(f'جُرّب في {failure.tries} جولات', f'tried in {failure.tries} runs')}"
            if failure.tries > 1
            else ""
        )
        items.append(
            f'<li class="failure" data-source="{escape(sid)}" data-url="{escape(failure.url)}" '
            f'data-reason="{escape(failure.reason)}">'
            f'<a class="url" dir="ltr" href="{_href(failure.url)}">{escape(failure.url)}</a>'
            f'<ul class="reasons"><li class="block">{_bi(*fetch_reason(failure.reason))}</li></ul>'
            f'<span class="detail" dir="ltr">{escape(failure.detail)}</span>'
            f'<span class="when">{_time(runs[failure.run_id])}{tries}</span></li>'
        )
    return heading + f'<ul class="articles">{"".join(items)}</ul>'


def _history(facts: Facts, links: Links) -> str:
    rows = []
    for manifest in reversed(facts.runs):
        run_id = manifest["run_id"]
        cells = "".join(
            f'<td class="n" data-label="{escape(ar)} / {en}">{manifest["totals"][key]}</td>'
            for key, ar, en in COUNT_LABELS
        )
        refs = []
        if links.runs and manifest.get("report"):
            refs.append(
                f'<a href="{escape(links.root + run_id)}/index.html">{_bi("التقرير", "report")}</a>'
            )
        pages = links.docs.get(run_id, [])
        for n, page in enumerate(pages, 1):
            part = f" {n}" if len(pages) > 1 else ""
            href = escape(f"{links.root}{DATA_DOCS}/{page}")
            refs.append(
                f'<a href="{href}" data-docs="{escape(run_id)}">'
                f"{_bi('تفاصيل الفحوص' + part, 'GX checks' + part)}</a>"
            )
        rows.append(
            f'<tr data-run="{escape(run_id)}">'
            f'<th scope="row" data-label="الجولة / run">{_time(manifest)}</th>{cells}'
            f'<td data-label="روابط / links"><span>{" · ".join(refs) or "—"}</span></td></tr>'
        )
    head = "".join(f"<th>{_bi(ar, en)}</th>" for _, ar, en in COUNT_LABELS)
    return (
        f'<section id="history"><h2>{_bi("الجولات المعروضة", "runs shown")}</h2>'
        f'<table class="reflow"><thead><tr><th>{_bi("الجولة", "run")}</th>{head}'
        f"<th>{_bi('روابط', 'links')}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _footer() -> str:
    words = _bi(
        "الأرقام من الجولات المُثبتة في البحيرة فقط",
        "numbers come only from runs committed to the lake",
    )
    return f"<footer><p>{words}</p></footer>"


# --- text for terminals and Prefect -------------------------------------------------------


def render_text(manifest: dict[str, Any]) -> str:
    """The run's facts for a terminal."""
    lines = []
    for sid, stats in manifest["sources"].items():
        counts = ", ".join(f"{en} {stats[key]}" for key, _, en in COUNT_LABELS)
        lines.append(f"{sid}: {counts}")
        for reason, n in stats.get("quarantine_reasons", {}).items():
            lines.append(f"    quarantined {n} × {reason_text(reason)}")
        for reason, n in stats.get("failure_reasons", {}).items():
            arabic, english = fetch_reason(reason)
            lines.append(f"    fetch failed {n} × {arabic} / {english} [{reason}]")
    return "\n".join(lines)


def markdown_summary(facts: Facts, report_url: str, docs_url: str | None) -> str:
    """The run's table for a Prefect artifact: each source links to its part of the report."""
    notes = attention(facts.runs)
    lines = [
        f"**[تقرير الجودة / quality report]({report_url})** for run `{facts.run['run_id']}`"
        + (f" · [GX Data Docs]({docs_url})" if docs_url else ""),
        "",
        "| source | " + " | ".join(en for _, _, en in COUNT_LABELS) + " | needs attention |",
        "|" + "---|" * (len(COUNT_LABELS) + 2),
    ]
    for sid in facts.sources:
        stats = facts.run["sources"][sid]
        counts = " | ".join(str(stats[key]) for key, _, _ in COUNT_LABELS)
        why = "; ".join(en for _, en in notes.get(sid, [])).replace("|", "/") or "—"
        lines.append(f"| [{sid}]({report_url}#{_anchor(sid)}) | {counts} | {why} |")
    return "\n".join(lines)


# --- publishing -------------------------------------------------------------------------------


def report_key(run_id: str) -> str:
    return f"{REPORTS}/{run_id}/index.html"


@dataclass(frozen=True)
class Published:
    report: str  # the run's report, e.g. reports/<run>/index.html
    markdown: str  # the run's table linking to the report, for a Prefect artifact


def link(lake: Lake, key: str) -> str:
    """A URL for a file in the lake: file:// for a local lake, s3:// otherwise."""
    uri = lake.uri_for(key)
    return uri if "://" in uri else Path(uri).as_uri()


def build(
    lake: Lake, run_id: str | None = None, *, runs_beside: bool = True, in_lake: bool = False
) -> tuple[Facts, dict[str, bytes]]:
    """The report's files, keyed by their path under ``reports/``: the run's page, the latest
    page (when the run is the latest) and the Data Docs of the runs it covers. ``in_lake``:
    the files go to the lake's reports/, where Data Docs built from the same results already
    are need not be built again (and are left out)."""
    manifests = lake.collection_runs()
    facts = gather(lake, run_id, manifests)
    site, pages = _data_docs(lake, facts.runs, reuse=in_lake)
    out = {f"{DATA_DOCS}/{path}": data for path, data in site.items()}
    run = facts.run["run_id"]
    out[f"{run}/index.html"] = render_html(facts, Links("../", runs_beside, pages)).encode()
    if run == manifests[-1]["run_id"]:
        out["index.html"] = render_html(facts, Links("", runs_beside, pages)).encode()
    return facts, out


def publish(lake: Lake, run_id: str | None = None) -> Published:
    """Write the report on ``run_id`` (default: the latest run) and its Data Docs to the lake."""
    facts, out = build(lake, run_id, in_lake=True)
    for path, data in out.items():
        lake.write_bytes(f"{REPORTS}/{path}", data)
    key = report_key(facts.run["run_id"])
    docs = f"{REPORTS}/{DATA_DOCS}/index.html" if _validations(facts.runs) else None
    return Published(
        key, markdown_summary(facts, link(lake, key), link(lake, docs) if docs else None)
    )


def write_directory(lake: Lake, folder: Path) -> Path:
    """The latest report and its Data Docs as files in ``folder``; returns the page."""
    _, out = build(lake, runs_beside=False)
    for path, data in out.items():
        if PurePosixPath(path).parts[0] == DATA_DOCS or path == "index.html":
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return folder / "index.html"


# Which validation results the Data Docs in the lake were built from, and their pages per run.
DOCS_INDEX = "rasid-docs-index.json"


def _data_docs(
    lake: Lake, runs: list[dict[str, Any]], reuse: bool = False
) -> tuple[dict[str, bytes], dict[str, list[str]]]:
    """GX Data Docs for the runs' committed validation results: (files, pages per run).

    ``reuse``: docs the lake holds, built from exactly these results, are not built again (no
    files): a run that found nothing new validated nothing, and must not pay seconds of GX
    for its report.
    """
    keys = _validations(runs)
    if not keys:
        return {}, {}
    built = _built_docs(lake) if reuse else None
    if built is not None and built.get("validations") == keys:
        return {}, built["pages"]
    started = {m["run_id"]: _started(m) for m in runs}
    stored = [
        checks.StoredValidation(run, started[run], PurePosixPath(key).stem,
                                json.loads(lake.read_bytes(key)))
        for run, key in keys
    ]
    with tempfile.TemporaryDirectory(prefix="rasid-docs-") as tmp:
        site = Path(tmp)
        pages = checks.build_data_docs(stored, site)
        out = {
            p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()
        }
    index = {"validations": keys, "pages": pages}
    out[DOCS_INDEX] = json.dumps(index, ensure_ascii=False, indent=1).encode()
    return out, pages


def _validations(runs: list[dict[str, Any]]) -> list[list[str]]:
    """[run id, key] of every stored validation result of the runs, in order (as JSON has it)."""
    return [[m["run_id"], key] for m in runs for key in m.get("files", {}).get("validations", [])]


def _built_docs(lake: Lake) -> dict[str, Any] | None:
    try:
        found = json.loads(lake.read_bytes(f"{REPORTS}/{DATA_DOCS}/{DOCS_INDEX}"))
    except (FileNotFoundError, KeyError, ValueError):
        return None
    return found if isinstance(found, dict) and isinstance(found.get("pages"), dict) else None
