"""Publication dates: the evidence on a page, weighed.

Evidence, best first: meta tags, JSON-LD, the visible dateline by the title (Arabic month
systems, Hijri-with-Gregorian, and the month names and labels of labels.yaml), a feed's time,
htmldate's answer when the page corroborates it, a sitemap's, the URL's; a last-modified
stamp only when nothing else dates the page (flagged). A date needs a day, a month and a year
that were all printed: a missing date is better than a confidently wrong one, and a page
without one says why (``no_date_no_evidence``, ``no_date_conflicting``, ``no_date_bare_year``).

Modules: parse (date expressions), labels (labels.yaml), markup (meta, JSON-LD, URL),
dateline (the visible date by the title), fallback (htmldate, corroborated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from rasid.dates.dateline import PageDates, is_dateline, page_dates
from rasid.dates.fallback import NO_EVIDENCE, htmldate_day
from rasid.dates.markup import (
    MODIFIED_META_NAMES,
    OLDEST_PLAUSIBLE,
    jsonld_dates,
    meta_dates,
    url_date,
)
from rasid.dates.parse import (
    EGYPTIAN,
    LEVANTINE,
    MAGHREBI,
    MAX_UTC_OFFSET,
    MAX_YEAR,
    MIN_YEAR,
    MOROCCAN,
    find_dates,
    parse_arabic_date,
    parse_arabic_datetime,
    parse_machine_datetime,
)

__all__ = [
    "EGYPTIAN", "LEVANTINE", "MAGHREBI", "MOROCCAN", "MAX_UTC_OFFSET", "MAX_YEAR", "MIN_YEAR",
    "DateResult", "Evidence", "decide",
    "find_dates", "find_published", "is_dateline", "parse_arabic_date", "parse_arabic_datetime",
    "parse_machine_datetime", "url_date",
]

SOURCE_ORDER = ("meta", "jsonld", "dateline", "feed", "htmldate", "sitemap", "url", "updated")
# A sitemap's lastmod is often a modification time: it counts as evidence, not as a witness.
STRONG_SOURCES = frozenset({"meta", "jsonld", "dateline", "feed", "url"})
CONFLICT_DAYS = 2
RESTAMP_DAYS = 90
MACHINE_SOURCES = frozenset({"meta", "jsonld"})
PAGE_SOURCES = frozenset({"meta", "jsonld", "dateline", "htmldate"})

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


def publisher_day(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar day a timestamp falls on for its publisher.

    A timestamp printed with its offset ("21:30-05:00", "23:30Z") is dated by the day it
    prints: that is the day the page states, whatever rasid's source timezone says. A naive
    one is read in the source's timezone. A visible dateline one day apart still wins the
    day (see ``decide``): a CMS that stores UTC prints the newsroom's day on the page.
    """
    if moment.tzinfo is not None:
        return moment.date()
    return moment.replace(tzinfo=tz).date()


def _evidence(source: str, value: datetime | date, tz: ZoneInfo) -> Evidence:
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=tz) if value.tzinfo is None else value
        # A feed's or sitemap's time is rasid's own reading of the source, kept in its zone.
        day = publisher_day(value, tz) if source in PAGE_SOURCES else aware.astimezone(tz).date()
        return Evidence(source, aware.astimezone(UTC), day, True)
    midnight = datetime.combine(value, time(0), tz)
    return Evidence(source, midnight.astimezone(UTC), value, False)


# --- combining the evidence ---------------------------------------------------------------


def _load(html: str) -> HtmlElement | None:
    try:
        return load_html(html)
    except (ValueError, TypeError, RecursionError, etree.ParserError):
        return None


def page_evidence(tree: HtmlElement, url: str, title: str | None, tz: ZoneInfo, now: datetime
                  ) -> tuple[list[Evidence], str, PageDates]:
    """The best value of each kind of evidence the page itself carries; htmldate's answer,
    corroborated, when the page has no meta, JSON-LD or dateline of its own. With no
    evidence, why not (a ``no_date_*`` note)."""
    page = page_dates(tree, title)
    found = []
    for source, values in (("meta", meta_dates(tree)), ("jsonld", jsonld_dates(tree)),
                           ("dateline", page.datelines)):
        if values:
            found.append(_evidence(source, values[0], tz))
    if found and not page.datelines and len(page.marked) == 1:
        # No dateline by the title, but every element marked as a date gives one day: the
        # page's visible date, a witness against a meta tag that says otherwise.
        found.append(_evidence("dateline", next(iter(page.marked)), tz))
    if found:
        return found, "", page
    day, note = htmldate_day(tree, url, now, OLDEST_PLAUSIBLE, page)
    return ([_evidence("htmldate", day, tz)] if day else []), note, page


def modified_evidence(tree: HtmlElement, page: PageDates, tz: ZoneInfo) -> list[Evidence]:
    """The page's last-modified stamp (meta, JSON-LD dateModified, a visible "Updated:" date
    when it is the only one), for a page with no other date: flagged as an update stamp."""
    values = meta_dates(tree, MODIFIED_META_NAMES) + jsonld_dates(tree, "dateModified")
    values += list(page.updated) if len(page.updated) == 1 else []
    return [_evidence("updated", values[0], tz)] if values else []


def _problems(evidence: Evidence, now: datetime, founded: date | None) -> list[str]:
    problems = []
    if evidence.moment > now + timedelta(days=1):
        problems.append("date_future")
    if evidence.day < max(founded or OLDEST_PLAUSIBLE, OLDEST_PLAUSIBLE):
        problems.append("date_implausible_old")
    return problems


def _rank(evidence: Evidence) -> int:
    return SOURCE_ORDER.index(evidence.source) if evidence.source in SOURCE_ORDER else 99


def _restamped(machine: date, visible: date) -> bool:
    """Whether a meta tag and the visible date disagree as a re-stamped article does: more
    than a couple of days but less than a season apart, and not one date read day-first and
    the other month-first (11/01 and 01/11). Years apart, the visible date is another
    matter's (an event, a quoted date) and the meta tag stands."""
    gap = abs((visible - machine).days)
    swapped = visible.day <= 12 and (visible.year, visible.day, visible.month) == (
        machine.year, machine.month, machine.day)
    return CONFLICT_DAYS < gap <= RESTAMP_DAYS and not swapped


def decide(evidence: list[Evidence], now: datetime, founded: date | None) -> DateResult:
    """The best plausible evidence wins; disagreement and implausibility become flags."""
    if not evidence:
        return DateResult(None, None, None, [])
    ordered = sorted(evidence, key=_rank)
    plausible = [e for e in ordered if not _problems(e, now, founded)]
    best = (plausible or ordered)[0]
    visible = next((e for e in plausible if e.source == "dateline"), None)
    if visible and best.source in MACHINE_SOURCES and _restamped(best.day, visible.day):
        best = visible  # what the page shows its readers over a meta tag that disagrees
    flags = _problems(best, now, founded)
    strong = [e.day for e in evidence if e.source in STRONG_SOURCES]
    if strong and (max(strong) - min(strong)).days > CONFLICT_DAYS:
        flags.append("date_conflict")
    moment, day = best.moment, best.day
    printed = next((e.day for e in ordered
                    if (e.source == "dateline" or (e.source == "url" and not e.has_time))
                    and abs((e.day - best.day).days) == 1), None)
    if best.has_time and printed is not None:
        day = printed  # the stamp is UTC or another zone's; the page prints the newsroom's day
    if not best.has_time:
        # A dateline often prints only the day; a feed or meta time on that day refines it.
        timed = next((e for e in ordered if e.has_time and e.day == best.day), None)
        moment = timed.moment if timed else moment
    if best.source == "updated":
        flags.append("date_from_update")  # the only date given is a later edit's
    return DateResult(moment, day, best.source, flags)


def find_published(html: str | HtmlElement, url: str, *, title: str | None,
                   hints: list[tuple[datetime, str]], timezone: str, now: datetime,
                   founded: date | None = None) -> DateResult:
    """When the article was published, from every kind of evidence, best first.

    Naive times are local to ``timezone``; feed and sitemap hints are UTC when naive.
    """
    tz = ZoneInfo(timezone)
    tree = html if isinstance(html, HtmlElement) else _load(html)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    page = None
    evidence: list[Evidence] = []
    note = ""
    if tree is not None:
        evidence, note, page = page_evidence(tree, url, title, tz, now)
    for moment, source in hints:
        if isinstance(moment, datetime) and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        evidence.append(_evidence(source, moment, tz))
    from_url = url_date(url)
    if from_url:
        evidence.append(_evidence("url", from_url, tz))
    if not evidence and tree is not None and page is not None:
        evidence = modified_evidence(tree, page, tz)
    result = decide(evidence, now, founded)
    if result.published_date is None:
        result.flags.append(note or NO_EVIDENCE)
    return result
