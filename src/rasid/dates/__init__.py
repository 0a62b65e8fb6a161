"""Publication dates: Arabic datelines in every month system, and the evidence on a page.

htmldate does not read Levantine, Maghrebi or Hijri-with-Gregorian datelines and, when those
are a page's only explicit date, may build YYYY-01-01 from a footer's copyright year. Here a
date needs a day, a month and a year that were all printed: a missing date is better than a
confidently wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from rasid.dates.dateline import dateline_dates, is_dateline
from rasid.dates.markup import OLDEST_PLAUSIBLE, jsonld_dates, meta_dates, url_date
from rasid.dates.parse import (
    EGYPTIAN,
    LEVANTINE,
    MAGHREBI,
    MOROCCAN,
    find_dates,
    parse_arabic_date,
    parse_arabic_datetime,
    parse_machine_datetime,
)

__all__ = [
    "EGYPTIAN", "LEVANTINE", "MAGHREBI", "MOROCCAN", "DateResult", "Evidence", "decide",
    "find_dates", "find_published", "is_dateline", "parse_arabic_date", "parse_arabic_datetime",
    "parse_machine_datetime", "url_date",
]

SOURCE_ORDER = ("meta", "jsonld", "dateline", "feed", "sitemap", "url")
# A sitemap's lastmod is often a modification time: it counts as evidence, not as a witness.
STRONG_SOURCES = frozenset({"meta", "jsonld", "dateline", "feed", "url"})
CONFLICT_DAYS = 2

@dataclass(frozen=True)
class DateResult:
    published_at: datetime | None  # UTC
    published_date: date | None  # the calendar day in the source's timezone
    date_source: str | None
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Evidence:
    source: str
    moment: datetime  # aware, UTC
    day: date  # in the source's timezone
    has_time: bool


def _evidence(source: str, value: datetime | date, tz: ZoneInfo) -> Evidence:
    if isinstance(value, datetime):
        local = value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
        return Evidence(source, local.astimezone(UTC), local.date(), True)
    midnight = datetime.combine(value, time(0), tz)
    return Evidence(source, midnight.astimezone(UTC), value, False)
# --- combining the evidence ---------------------------------------------------------------


def _load(html: str) -> HtmlElement | None:
    try:
        return load_html(html)
    except (ValueError, TypeError, RecursionError, etree.ParserError):
        return None


def page_evidence(tree: HtmlElement, title: str | None, tz: ZoneInfo) -> list[Evidence]:
    """The best value of each kind of evidence the page itself carries."""
    found = []
    for source, values in (("meta", meta_dates(tree)), ("jsonld", jsonld_dates(tree)),
                           ("dateline", dateline_dates(tree, title))):
        if values:
            found.append(_evidence(source, values[0], tz))
    return found


def _problems(evidence: Evidence, now: datetime, founded: date | None) -> list[str]:
    problems = []
    if evidence.moment > now + timedelta(days=1):
        problems.append("date_future")
    if evidence.day < max(founded or OLDEST_PLAUSIBLE, OLDEST_PLAUSIBLE):
        problems.append("date_implausible_old")
    return problems


def _rank(evidence: Evidence) -> int:
    return SOURCE_ORDER.index(evidence.source) if evidence.source in SOURCE_ORDER else 99


def decide(evidence: list[Evidence], now: datetime, founded: date | None) -> DateResult:
    """The best plausible evidence wins; disagreement and implausibility become flags."""
    if not evidence:
        return DateResult(None, None, None, [])
    ordered = sorted(evidence, key=_rank)
    plausible = [e for e in ordered if not _problems(e, now, founded)]
    best = (plausible or ordered)[0]
    flags = _problems(best, now, founded)
    strong = [e.day for e in evidence if e.source in STRONG_SOURCES]
    if strong and (max(strong) - min(strong)).days > CONFLICT_DAYS:
        flags.append("date_conflict")
    moment = best.moment
    if not best.has_time:
        # A dateline often prints only the day; a feed or meta time on that day refines it.
        timed = next((e for e in ordered if e.has_time and e.day == best.day), None)
        moment = timed.moment if timed else moment
    return DateResult(moment, best.day, best.source, flags)


def find_published(html: str | HtmlElement, url: str, *, title: str | None,
                   hints: list[tuple[datetime, str]], timezone: str, now: datetime,
                   founded: date | None = None) -> DateResult:
    """When the article was published, from every kind of evidence, best first.

    Naive times are local to ``timezone``; feed and sitemap hints are UTC when naive.
    """
    tz = ZoneInfo(timezone)
    tree = html if isinstance(html, HtmlElement) else _load(html)
    evidence = page_evidence(tree, title, tz) if tree is not None else []
    for moment, source in hints:
        if isinstance(moment, datetime) and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        evidence.append(_evidence(source, moment, tz))
    from_url = url_date(url)
    if from_url:
        evidence.append(_evidence("url", from_url, tz))
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    return decide(evidence, now, founded)
