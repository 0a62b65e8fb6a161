"""Publication dates: Arabic datelines in every month system, and the evidence on a page.

htmldate does not read Levantine, Maghrebi or Hijri-with-Gregorian datelines and, when those
are a page's only explicit date, may build YYYY-01-01 from a footer's copyright year. Here a
date needs a day, a month and a year that were all printed: a missing date is better than a
confidently wrong one.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from datetime import timezone as fixed_offset
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from rasid.text import OTHER_STORIES, normalize_arabic, title_variants

# --- month names --------------------------------------------------------------------------

LEVANTINE = {
    "كانون الثاني": 1, "شباط": 2, "آذار": 3, "نيسان": 4, "أيار": 5, "حزيران": 6, "تموز": 7,
    "آب": 8, "أيلول": 9, "تشرين الأول": 10, "تشرين الثاني": 11, "كانون الأول": 12,
    # Short forms printed by Syrian and Lebanese papers: "كانون 2", "ك2", "تشرين أول".
    "كانون ثاني": 1, "كانون 2": 1, "ك 2": 1, "تشرين أول": 10, "تشرين 1": 10, "ت 1": 10,
    "تشرين ثاني": 11, "تشرين 2": 11, "ت 2": 11, "كانون أول": 12, "كانون 1": 12, "ك 1": 12,
}
EGYPTIAN = {
    "يناير": 1, "فبراير": 2, "مارس": 3, "أبريل": 4, "إبريل": 4, "ابريل": 4, "مايو": 5,
    "يونيو": 6, "يونية": 6, "يوليو": 7, "يولية": 7, "أغسطس": 8, "سبتمبر": 9, "أكتوبر": 10,
    "نوفمبر": 11, "ديسمبر": 12,
}
MAGHREBI = {
    "جانفي": 1, "فيفري": 2, "مارس": 3, "أفريل": 4, "ماي": 5, "جوان": 6, "جويلية": 7, "أوت": 8,
    "سبتمبر": 9, "أكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12,
}
MOROCCAN = {
    "يناير": 1, "فبراير": 2, "مارس": 3, "أبريل": 4, "ماي": 5, "يونيو": 6, "يوليوز": 7,
    "غشت": 8, "شتنبر": 9, "أكتوبر": 10, "نونبر": 11, "دجنبر": 12,
}
# Latin-script editions of the same outlets (English, and French in the Maghreb).
LATIN = {
    **{m: i for i, m in enumerate(("january february march april may june july august "
                                   "september october november december").split(), 1)},
    **{m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)},
    "sept": 9,
    **{m: i for i, m in enumerate(("janvier février mars avril mai juin juillet août "
                                   "septembre octobre novembre décembre").split(), 1)},
    "fevrier": 2, "aout": 8, "decembre": 12,
}


def _month_table() -> dict[str, int]:
    table: dict[str, int] = {}
    for names in (LEVANTINE, EGYPTIAN, MAGHREBI, MOROCCAN, LATIN):
        for name, number in names.items():
            key = normalize_arabic(name)
            if table.setdefault(key, number) != number:
                raise ValueError(f"month {name!r} means two months")
    return table


MONTHS = _month_table()
# Looked up without spaces: a printed month may be "كانون2", "كانون  الثاني" or "ك2".
_MONTH_BY_LETTERS = {name.replace(" ", ""): number for name, number in MONTHS.items()}


def _month_pattern(name: str) -> str:
    # "كانون 2" also appears as "كانون2" and "ك2"; a trailing digit must not run into a number.
    pattern = r"\s*".join(re.escape(part) for part in name.split())
    return pattern + (r"(?!\d)" if name[-1].isdigit() else "")


_MONTH = "(?:" + "|".join(_month_pattern(m) for m in sorted(MONTHS, key=len, reverse=True)) + ")"
_NOT_AFTER_LETTER = r"(?<![^\W\d_])"
_NOT_BEFORE_LETTER = r"(?![^\W\d_])"
_SEP = r"\s*[-/.,،]?\s*"
_DAY = r"(?<!\d)(?P<day>\d{1,2})(?:st|nd|rd|th|er)?"
_YEAR = r"(?P<year>\d{4})(?!\d)"
# A second name for the same month: "11 كانون الثاني/ يناير 2018", "16 تشرين الثاني (نوفمبر)".
_ALSO = rf"(?:\s*[/\-(]\s*{_MONTH}{_NOT_BEFORE_LETTER}\s*\)?)?"
_NAMED = _NOT_AFTER_LETTER + rf"(?P<month>{_MONTH}){_NOT_BEFORE_LETTER}"

DAY_MONTH_YEAR = re.compile(rf"{_DAY}{_SEP}(?:من\s+)?{_NAMED}{_ALSO}{_SEP}{_YEAR}")
MONTH_DAY_YEAR = re.compile(rf"{_NAMED}\s+{_DAY}\s*[,،]?\s*{_YEAR}")
NUMERIC_DMY = re.compile(
    r"(?<![\d/.-])(?P<day>\d{1,2})\s*(?P<sep>[-/.])\s*(?P<month>\d{1,2})\s*(?P=sep)\s*"
    r"(?P<year>\d{4})(?![\d/.-])"
)
NUMERIC_YMD = re.compile(
    r"(?<![\d/.-])(?P<year>\d{4})\s*(?P<sep>[-/.])\s*(?P<month>\d{1,2})\s*(?P=sep)\s*"
    r"(?P<day>\d{1,2})(?![\d/.-])"
)
_PATTERNS = (DAY_MONTH_YEAR, MONTH_DAY_YEAR, NUMERIC_DMY, NUMERIC_YMD)
_HIJRI_MARK = re.compile(r"\s*(?:ه\b|هجري)")
_TIME = re.compile(
    r"(?<![\d:])(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?(?![\d:])\s*"
    r"(?P<half>صباحا|مساء|ظهرا|عصرا|ليلا|ص|م|a\.?m\.?|p\.?m\.?)?" + _NOT_BEFORE_LETTER
)
_MORNING = {"ص", "صباحا", "am", "a.m.", "am.", "a.m"}
_NOON = {"ظهرا"}

MIN_YEAR, MAX_YEAR = 1900, 2200  # keeps Hijri (14xx) and Solar Hijri years out
MAX_UTC_OFFSET = timedelta(hours=14)  # Kiribati's; no civil time is further from UTC


@dataclass(frozen=True)
class DateMatch:
    """A date expression found in text: where it is and what it says."""

    start: int
    end: int
    day: date


def _valid(year: int, month: int, day: int) -> date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:  # 31 شباط
        return None


def _numeric_day(match: re.Match[str]) -> date | None:
    year, first, second = int(match["year"]), int(match["day"]), int(match["month"])
    if match.re is NUMERIC_DMY and second > 12 >= first:
        first, second = second, first  # unambiguously month-first (US style)
    return _valid(year, second, first)


def _named_day(match: re.Match[str]) -> date | None:
    month = _MONTH_BY_LETTERS[re.sub(r"\s+", "", match["month"])]
    return _valid(int(match["year"]), month, int(match["day"]))


def find_dates(normalized: str) -> Iterator[DateMatch]:
    """Every full date in text already passed through ``normalize_arabic``, in text order."""
    found: list[DateMatch] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(normalized):
            if _HIJRI_MARK.match(normalized, match.end()):
                continue
            numeric = pattern in (NUMERIC_DMY, NUMERIC_YMD)
            day = _numeric_day(match) if numeric else _named_day(match)
            if day:
                found.append(DateMatch(match.start(), match.end(), day))
    yield from sorted(found, key=lambda m: m.start)


def _find_time(normalized: str) -> time | None:
    match = _TIME.search(normalized)
    if not match:
        return None
    hour, minute = int(match["hour"]), int(match["minute"])
    half = (match["half"] or "").lower()
    if half and half not in _MORNING and (hour < 12 and (half not in _NOON or hour < 6)):
        hour += 12
    elif half in _MORNING and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute, int(match["second"] or 0))


def parse_arabic_datetime(text: str) -> tuple[date, time | None] | None:
    """The first full date in a short text (a dateline), with its time of day if printed."""
    normalized = normalize_arabic(text)
    match = next(find_dates(normalized), None)
    if match is None:
        return None
    rest = normalized[: match.start] + " " + normalized[match.end:]
    return match.day, _find_time(rest)


def parse_arabic_date(text: str) -> date | None:
    """One date expression in any Arabic month system, Eastern digits or numeric form."""
    parsed = parse_arabic_datetime(text)
    return parsed[0] if parsed else None


# --- machine-readable values (meta tags, JSON-LD, <time datetime>) ------------------------

_ISO = re.compile(
    r"^\s*(?P<year>\d{4})[-/](?P<month>\d{1,2})[-/](?P<day>\d{1,2})"
    r"(?:[T\s]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?"
)


def parse_machine_datetime(value: str) -> datetime | date | None:
    """A datetime (naive when no offset was given) or a bare date; None for partial dates."""
    value = value.strip()
    match = _ISO.match(value)
    if match:
        return _from_iso(match)
    if re.fullmatch(r"\d{4}(?:-\d{1,2})?", value):
        return None  # a year, or a year and month: not a day
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        pass
    else:  # the email parser takes any year, even one a zone shift pushes past datetime.max
        return moment if MIN_YEAR <= moment.year <= MAX_YEAR else None
    parsed = parse_arabic_datetime(value)
    if parsed is None:
        return None
    day, clock = parsed
    return datetime.combine(day, clock) if clock else day


def _from_iso(match: re.Match[str]) -> datetime | date | None:
    day = _valid(int(match["year"]), int(match["month"]), int(match["day"]))
    if day is None or match["hour"] is None:
        return day
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return day
    moment = datetime.combine(day, time(hour, minute, second))
    zone = match["zone"]
    if zone in ("Z", "UTC", "GMT"):
        return moment.replace(tzinfo=UTC)
    if zone:
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if offset > MAX_UTC_OFFSET:  # "+99:00": the zone is junk, the day may still be right
            return day
        return moment.replace(tzinfo=fixed_offset(sign * offset))
    return moment


# --- evidence on a page -------------------------------------------------------------------

# Meta names that carry the publication (never the modification) time, best first.
META_NAMES = (
    "article:published_time", "og:article:published_time", "og:published_time",
    "datepublished", "article.published", "pubdate", "publishdate", "publish-date",
    "publish_date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date",
    "sailthru.date", "parsely-pub-date", "article_date_original", "original-publish-date",
    "citation_publication_date", "date",
)
JSONLD_ARTICLE = re.compile(r"(Article|BlogPosting|Posting|Report)$")
JSONLD_PAGE = re.compile(r"(WebPage|ItemPage)$")
SOURCE_ORDER = ("meta", "jsonld", "dateline", "feed", "sitemap", "url")
# A sitemap's lastmod is often a modification time: it counts as evidence, not as a witness.
STRONG_SOURCES = frozenset({"meta", "jsonld", "dateline", "feed", "url"})
CONFLICT_DAYS = 2
OLDEST_PLAUSIBLE = date(1990, 1, 1)


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


def meta_dates(tree: HtmlElement) -> list[datetime | date]:
    found: dict[str, datetime | date] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in META_NAMES and key not in found:
            parsed = parse_machine_datetime(meta.get("content") or "")
            if parsed is not None:
                found[key] = parsed
    return [found[name] for name in META_NAMES if name in found]


def _jsonld_objects(data: object) -> Iterator[dict[str, object]]:
    """Every object in a JSON-LD document, outermost first (an @graph, a WebPage's
    mainEntity), so the page's own article comes before anything it cites."""
    queue = deque([data])
    while queue:
        item = queue.popleft()
        if isinstance(item, list):
            queue.extend(item)
        elif isinstance(item, dict):
            yield item
            queue.extend(v for v in item.values() if isinstance(v, (list, dict)))


def _types(obj: dict[str, object]) -> list[str]:
    kind = obj.get("@type")
    if isinstance(kind, str):
        return [kind]
    return [k for k in kind if isinstance(k, str)] if isinstance(kind, list) else []


def jsonld_dates(tree: HtmlElement) -> list[datetime | date]:
    """datePublished of Article-like objects first, then of WebPage objects."""
    articles: list[datetime | date] = []
    pages: list[datetime | date] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):
            continue
        for obj in _jsonld_objects(data):
            value = obj.get("datePublished")
            parsed = parse_machine_datetime(value) if isinstance(value, str) else None
            if parsed is None:
                continue
            if any(JSONLD_ARTICLE.search(t) for t in _types(obj)):
                articles.append(parsed)
            elif any(JSONLD_PAGE.search(t) for t in _types(obj)):
                pages.append(parsed)
    return articles + pages


def url_date(url: str) -> date | None:
    """A full date in the URL path: /2026/11/16/, /2026-11-16-..., /20261116."""
    path = unquote(urlsplit(url).path)
    for pattern in (r"(?<!\d)(\d{4})[/_-](\d{1,2})[/_-](\d{1,2})(?!\d)",
                    r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"):
        for match in re.finditer(pattern, path):
            day = _valid(*(int(g) for g in match.groups()))
            if day and day >= OLDEST_PLAUSIBLE:
                return day
    return None


# --- the visible dateline -----------------------------------------------------------------

# Containers whose dates belong to other articles (boxes, tickers, comments) or to the day
# the page was viewed (a site header's "today"). Matched per class/id token.
_OTHER_ZONE = re.compile(
    r"comment|related|popular|most|sidebar|widget|footer|ticker|breaking|marquee|newsbar|"
    r"share|social|recommend|read-?more|more-?news|newsletter|copyright|today|current-?date|"
    r"^(?:site-|main-|top-|page-)?header(?:-top|-bar)?$|masthead|top-?bar|menu|nav|aside|"
    r"latest|trending|slider|carousel|caption|gallery",
    re.I,
)
_OTHER_TAGS = frozenset({"nav", "form", "script", "style", "noscript", "template",
                         "figcaption", "blockquote", "select", "button", "iframe", "svg", "head"})
# The site's header, sidebars and footer, unless they sit inside the article: an article's
# own <footer> is where Drupal and WordPress themes print "submitted on ...".
_SITE_TAGS = frozenset({"header", "aside", "footer"})
# Markup that names an element's value the publication date (microdata, RDFa).
_PUBLISHED_PROPERTIES = frozenset({
    "datepublished", "schema:datepublished", "dc:date", "dc:created", "dcterms:created",
    "dcterms:issued", "dcterms:date", "article:published_time",
})
_DATE_CLASS = re.compile(r"date|time|publish|posted|byline|^meta$|-meta$|^meta-|تاريخ", re.I)
_UPDATED = re.compile(r"updat|modif|edited|تحديث|تعديل|محدث", re.I)
_LABELS = re.compile(
    r"\b(?:تاريخ النشر|نشر بتاريخ|نشر في|نشر|اضيف في|اضيف|بتاريخ|تاريخ|published on|published|"
    r"posted on|posted|publie le|publié le|le|on|"
    r"الاحد|الاثنين|الثلاثاء|الاربعاء|الخميس|الجمعه|السبت|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b"
)
# What may stand before a dateline's date besides labels: a place or a byline and a separator,
# as in "دمشق - ", "حماة، ", "حلب - راصد: ", "بقلم: سامر الأحمد | ". "في 15 آذار 2011
# خرجت..." is narrative, not a dateline.
_PLACE_PREFIX = re.compile(
    r"(?:(?:بقلم|كتب|كتبت|اعداد|تحرير|by)\s*[:：]?\s*)?(?:[^\W\d_]+[\s\-–—]*){1,4}[-–—:|،,]\s*")
_STRUCTURED_TEXT_MAX = 200
# How far from the title (in visible characters) a dateline may be: datelines sit just above
# or below the headline; dates further down belong to the story or to other articles. A dated
# element may stand further above the title when it is inside the same <article>.
_BEFORE_TITLE = 150
_AFTER_TITLE = {"attribute": 1500, "element": 1500, "text": 1000}
_PARAGRAPH = 150  # characters: a text node this long is the article text, not page furniture
_PROSE = 100  # characters: a <p> this long is a paragraph of the text (a lede can be short)
_UPDATE_LABEL = re.compile(r"\b(?:اخر |last )?(?:تحديث|updated?)\b")
# A heading that opens a list of other articles or the comments: below it, every date is
# another article's (or a reader's), whatever the markup says.
_OTHER_STORIES_HEADING = re.compile(
    OTHER_STORIES.pattern
    + r"|^(?:اخبار|مقالات|مواضيع) اخري\b|^(?:اخر|احدث) (?:الاخبار|المقالات|المواضيع)\b"
    r"|^المزيد من\b|^(?:الخبر|المقال|المقاله|الموضوع) (?:السابق|التالي)\b"
    r"|^(?:ال)?تعليقات\b|^\d+ تعليقات?\b"
    r"|^(?:related|read (?:also|more)|more (?:news|stories)|most read|comments)\b"
)
_HEADING_MAX = 60
# What may follow a free-text dateline's date: a time of day, the Gregorian mark after a
# Hijri date, then the end or a separator. "15 كانون الثاني 2027 موعداً لبدء الامتحانات" opens
# a sentence about that day; it does not date the article.
_DATELINE_TAIL = re.compile(
    r"\s*(?:م\b|ميلادي)?\s*(?:(?:علي|في)?\s*(?:الساعه)?\s*" + _TIME.pattern + r")?"
    r"\s*(?:$|[-–—|:،,/(\[•·])"
)
_DATELINE_MAX = 80


@dataclass(frozen=True)
class _Spot:
    offset: int  # visible characters before this point of the page
    near: bool  # inside the article, or the block, that holds the title
    in_article: bool  # inside the <article> that holds the title
    kind: str  # "attribute" (datetime=, content=), "element" (a dated element's text), "text"
    text: str
    declared: bool = False  # microdata or RDFa names it the publication date


def _opens_other_stories(element: HtmlElement) -> bool:
    text = (element.text or "").strip()
    return 0 < len(text) <= _HEADING_MAX and bool(
        _OTHER_STORIES_HEADING.search(normalize_arabic(text)))


def _own_item(element: HtmlElement, anchor: HtmlElement | None) -> bool:
    """Whether the microdata item or RDFa resource a date is declared for holds the title:
    an item nested in the article (a related story, a quoted post) declares its own date."""
    scope = next((a for a in element.iterancestors()
                  if a.get("itemscope") is not None or a.get("typeof")), None)
    return scope is None or anchor is None or any(e is anchor for e in scope.iter())


def _class_marks(element: HtmlElement) -> tuple[bool, bool]:
    """(another zone, a dated element) by the element's class and id."""
    names, ident = element.get("class"), element.get("id")
    if names is None and ident is None:  # most elements
        return False, False
    return _marks(names or "", ident or "")


@lru_cache(maxsize=4096)
def _marks(names: str, ident: str) -> tuple[bool, bool]:
    # Pages repeat their class names: each distinct one is matched once.
    tokens = f"{names} {ident}".split()
    # WordPress marks a never-edited post's time "published updated": still the publication.
    updated = any(map(_UPDATED.search, tokens)) and not any("publish" in t.lower() for t in tokens)
    return (updated or any(map(_OTHER_ZONE.search, tokens)),
            any(map(_DATE_CLASS.search, tokens)))


def _other_zone(element: HtmlElement, scoped: bool) -> bool:
    """Markup whose dates are not this article's publication date (incl. "updated" times)."""
    if element.tag in _OTHER_TAGS or (element.tag in _SITE_TAGS and not scoped):
        return True
    if (element.get("itemprop") or "").lower() == "datemodified":
        return True
    return _class_marks(element)[0]


def _dated_element(element: HtmlElement) -> tuple[str, str, bool] | None:
    """(kind, value, declared) of an element whose markup says it holds a date, or the
    publication date (declared)."""
    if element.tag == "meta":
        return None
    itemprop, prop = element.get("itemprop"), element.get("property")
    declared = (itemprop is not None or prop is not None) and (
        (itemprop or "").lower() in _PUBLISHED_PROPERTIES
        or (prop or "").lower() in _PUBLISHED_PROPERTIES)
    if element.tag in ("time", "amp-timeago") or declared:
        value = element.get("datetime") or element.get("content")
        if value:
            return "attribute", value, declared
    elif not _class_marks(element)[1]:
        return None
    text = element.text_content().strip()
    return ("element", text, declared) if 0 < len(text) <= _STRUCTURED_TEXT_MAX else None


def _find_anchor(root: HtmlElement, title: str | None) -> HtmlElement | None:
    """The heading that carries the article's title.

    A heading matches when it and the title (or the title's longest part, without the site
    name) contain one another and are of similar length, so a site-name logo in an <h1>
    does not pass for the headline.
    """
    headings = [h for h in root.iter("h1", "h2") if h.text_content().strip()]
    keys = {key for t in title_variants(title) if len(key := normalize_arabic(t)) >= 8}
    for heading in headings:
        text = normalize_arabic(heading.text_content())
        if any((text in key or key in text) and 2 * min(len(text), len(key)) >= len(key)
               for key in keys):
            return heading
    first_level = [h for h in headings if h.tag == "h1"]
    return first_level[0] if len(first_level) == 1 else None


def _containers(root: HtmlElement, anchor: HtmlElement | None) -> tuple[HtmlElement | None, ...]:
    """The elements whose dates may be the article's: its <article> and the title's block.

    The block is the smallest ancestor of the heading that holds more than the heading, so
    a sidebar or a "more news" column beside the article stays outside.
    """
    if anchor is None:
        articles = list(root.iter("article"))
        return (articles[0],) if len(articles) == 1 else ()
    block = anchor.getparent()
    heading_length = len(anchor.text_content().strip())
    while (block is not None and block is not root and block.getparent() is not None
           and len(block.text_content().strip()) <= heading_length):
        block = block.getparent()
    return next(anchor.iterancestors("article"), None), block


def _spots(root: HtmlElement, anchor: HtmlElement | None, containers: tuple[HtmlElement | None, ...]
           ) -> tuple[list[_Spot], int | None, int | None]:
    """Date-bearing places in document order, skipping other articles' and the site's zones;
    where the title is, and where the first paragraph of prose after it starts."""
    protected = set(anchor.iterancestors()) | {anchor} if anchor is not None else set()
    holders = {c for c in containers if c is not None}  # lxml elements hash by identity
    mark = anchor if anchor is not None else next(iter(containers), None)
    article = containers[0] if containers else None
    spots: list[_Spot] = []
    entered: list[HtmlElement] = []  # the containers the walk is inside
    offset, mark_offset, scoped, prose = 0, None, 0, None
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        if not isinstance(element.tag, str):
            continue
        if event == "start":
            scoped += element.tag in ("article", "main")
            if element not in protected and _other_zone(element, scoped > 0):
                walker.skip_subtree()
                offset += len(element.text_content().strip())  # still distance from the title
                continue
            if element in holders:
                entered.append(element)
            if element is mark:
                mark_offset = offset
            if anchor is not None and element is anchor:  # the headline: its dates are its subject
                walker.skip_subtree()
                offset += len(element.text_content().strip())
                continue
            if mark_offset is not None and _opens_other_stories(element):
                break  # the rest of the page lists other articles
            if (prose is None and mark_offset is not None and element.tag == "p"
                    and len(element.text_content().strip()) >= _PROSE):
                prose = offset
            dated = _dated_element(element)
            if dated:
                kind, value, declared = dated
                spots.append(_Spot(offset, bool(entered), article in entered, kind, value,
                                   declared and _own_item(element, anchor)))
            text = element.text
        else:
            scoped -= element.tag in ("article", "main")
            if entered and element is entered[-1]:
                entered.pop()
            text = element.tail
        if text and text.strip():
            spots.append(_Spot(offset, bool(entered), article in entered, "text", text.strip()))
            offset += len(text.strip())
    return spots, mark_offset, prose


def _labels_only(prefix: str) -> bool:
    """Nothing but labels, a weekday or a place stands before the date ("دمشق - ")."""
    rest = re.sub(r"\s+", " ", _LABELS.sub(" ", prefix)).strip()
    return not re.search(r"[^\W_]", rest) or _PLACE_PREFIX.fullmatch(rest) is not None


def _dated_text(text: str, dateline_only: bool) -> datetime | date | None:
    """The first date in a text that is not an "updated" date, with its time if printed.

    With ``dateline_only`` the date must open the text (after labels or a place): "في 15
    آذار 2011 خرجت..." is narrative, "دمشق - 16 تشرين الثاني 2026 - ..." is a dateline.
    """
    if not any(ch.isdigit() for ch in text):
        return None
    normalized = normalize_arabic(text)
    label_start = 0  # labels between the previous date and this one belong to this one
    for match in find_dates(normalized):
        prefix = normalized[: match.start]
        if _UPDATED.search(normalized[max(label_start, match.start - 30): match.start]):
            label_start = match.end
            continue
        if dateline_only and not (_labels_only(prefix)
                                  and _DATELINE_TAIL.match(normalized, match.end)):
            return None
        clock = _find_time(normalized[match.end: match.end + 40])
        return datetime.combine(match.day, clock) if clock else match.day
    return None


def _parse_spot(spot: _Spot) -> datetime | date | None:
    if spot.kind == "attribute":
        return parse_machine_datetime(spot.text)
    return _dated_text(spot.text, dateline_only=spot.kind == "text")


# Hijri dates never date an article here (no guess from them), but a line that holds nothing
# else is page furniture all the same. Matched on normalize_arabic text.
_HIJRI_DATE = re.compile(
    r"(?<!\d)\d{1,2}\s*(?:من\s+)?(?:محرم|صفر|ربيع (?:الاول|الاخر|الثاني)|جمادي (?:الاولي|الاخره|"
    r"الثانيه)|رجب|شعبان|رمضان|شوال|(?:ذو|ذي) (?:القعده|الحجه))\s*\d{3,4}(?!\d)\s*(?:ه\b|هجري)?"
    r"|(?<!\d)\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\s*(?:ه\b|هجري)"
)
# Words that join a dateline's parts: "على الساعة", "الموافق", the Gregorian "م".
_DATELINE_GLUE = re.compile(
    r"\b(?:(?:علي|في) )?(?:تمام )?الساعه\b|\bالموافق\b|\bل\b|\bم\b|\bميلادي\b")


def is_dateline(text: str) -> bool:
    """True for a short line that only dates the article: a date (Gregorian or Hijri), a time,
    labels, a weekday, and at most a place or a byline before them ("بقلم: سليم بن عمر | نشر
    في 7 أكتوبر 2026"). Such a line is page furniture; a dateline that opens a paragraph of
    news is not.
    """
    normalized = normalize_arabic(text)
    if len(normalized) > _DATELINE_MAX:
        return False
    rest, found = normalized, False
    for match in sorted(find_dates(normalized), key=lambda m: m.start, reverse=True):
        rest, found = rest[: match.start] + " " + rest[match.end:], True
    rest, hijri = _HIJRI_DATE.subn(" ", rest)
    rest = _LABELS.sub(" ", _UPDATE_LABEL.sub(" ", _TIME.sub(" ", rest)))
    rest = " ".join(_DATELINE_GLUE.sub(" ", rest).split())
    return (found or hijri > 0) and (not re.search(r"[^\W_]", rest)
                                     or _PLACE_PREFIX.fullmatch(rest) is not None)


def _nearest_first(spots: list[_Spot], mark: int) -> list[_Spot]:
    """Below the title first (nearest first), then above it; at one place, a machine-readable
    datetime= before the element's text."""
    return sorted(spots, key=lambda s: (s.offset < mark, abs(s.offset - mark),
                                        s.kind != "attribute"))


def dateline_dates(root: HtmlElement, title: str | None) -> list[datetime | date]:
    """The visible publication date near the title, best candidate first."""
    body = root.find(".//body")
    root = body if body is not None else root
    anchor = _find_anchor(root, title)
    containers = _containers(root, anchor)
    spots, mark, prose = _spots(root, anchor, containers)
    if mark is None:
        # No title to stand by: only a date that every dated element agrees on is trusted.
        values = [v for s in spots if s.kind != "text" and (v := _parse_spot(s))]
        days = {v.date() if isinstance(v, datetime) else v for v in values}
        return values[:1] if len(days) == 1 else []
    # A dateline stands above the article's text or at its very start: below, dates are the
    # story's own (an event's day, a <time> in a sentence) or other articles'. Markup inside
    # the article that declares the publication date counts wherever it stands.
    long_text = next((s.offset for s in spots if s.kind == "text" and s.offset > mark
                      and len(s.text) >= _PARAGRAPH), None)
    body_start = min((o for o in (long_text, prose) if o is not None), default=None)
    eligible = [s for s in spots if (s.declared and s.in_article) or (
        s.near and s.offset - mark <= _AFTER_TITLE[s.kind]
        and (s.offset - mark >= -_BEFORE_TITLE or (s.in_article and s.kind != "text"))
        and (body_start is None or s.offset <= body_start))]
    free = [s for s in eligible if s.kind == "text"]
    ordered = _nearest_first([s for s in eligible if s.kind != "text"], mark)
    return [v for s in ordered + _nearest_first(free, mark) if (v := _parse_spot(s))]


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
