"""The visible dateline: the date printed by the article's title."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, lru_cache
from typing import NamedTuple

from lxml import etree
from lxml.html import HtmlElement

from rasid.dates.labels import labels, words_pattern
from rasid.dates.parse import (
    _TIME,
    SOLAR_HIJRI_DATE,
    _find_time,
    find_dates,
    parse_machine_datetime,
)
from rasid.text import OTHER_STORIES, normalize_arabic, title_variants

# --- the visible dateline -----------------------------------------------------------------

# Containers whose dates belong to other articles (boxes, tickers, comments) or to the day
# the page was viewed (a site header's "today"). Matched per class/id token.
_OTHER_ZONE = re.compile(
    r"comment|related|popular|most|sidebar|widget|ticker|breaking|marquee|newsbar|"
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
# The same for class names: a "footer" outside the article is the site's, inside it (TYPO3's
# news "footer" with its date) the article's own. Class names that mark the article itself:
_SITE_CLASS = re.compile(r"footer", re.I)
_ARTICLE_CLASS = re.compile(r"^(?:article|post|entry|hentry|story|news-single|news-detail)$", re.I)
# Markup that names an element's value the publication date (microdata, RDFa).
_PUBLISHED_PROPERTIES = frozenset({
    "datepublished", "schema:datepublished", "datecreated", "schema:datecreated", "dc:date",
    "dc:created", "dcterms:created",
    "dcterms:issued", "dcterms:date", "article:published_time",
})
_DATE_CLASS = re.compile(r"date|time|publish|posted|byline|^meta$|-meta$|^meta-|تاريخ", re.I)
_UPDATED = re.compile(r"updat|modif|edited|تحديث|تعديل|محدث", re.I)
# Labels, joiners and weekdays that may stand before a dateline's date (labels.yaml).
_LABELS = re.compile(words_pattern(labels().published + labels().joiners + labels().weekdays))
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
_UPDATE_LABEL = re.compile(words_pattern(labels().updated))
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
# A weekday may follow the date ("9 Kasım 2026 Pazartesi"), joiners the time ("alle ore"), and
# a clock word the time ("07:49 Uhr").
_DATELINE_TAIL = re.compile(
    r"\s*(?:م\b|ميلادي)?\s*[,،]?\s*(?:" + words_pattern(labels().weekdays) + r")?\s*[,،]?"
    r"\s*(?:(?:(?:علي|في|" + words_pattern(labels().joiners) + r")\s*)*(?:الساعه)?\s*"
    + _TIME.pattern + r"(?:\s*(?:uhr|hrs?|hs|horas?)\b\.?)?)?\s*(?:$|[-–—|:،,/(\[•·])"
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


class _Marks(NamedTuple):
    other: bool  # another zone by its class (related, comments, "updated" ...)
    dated: bool  # an element whose class says it holds a date
    site: bool  # the site's furniture (a footer) unless inside the article
    article: bool  # the article itself


_NO_MARKS = _Marks(False, False, False, False)


def _class_marks(element: HtmlElement) -> _Marks:
    """What the element's class and id say about it."""
    names, ident = element.get("class"), element.get("id")
    if names is None and ident is None:  # most elements
        return _NO_MARKS
    return _marks(names or "", ident or "")


@lru_cache(maxsize=4096)
def _marks(names: str, ident: str) -> _Marks:
    # Pages repeat their class names: each distinct one is matched once.
    tokens = f"{names} {ident}".split()
    # WordPress marks a never-edited post's time "published updated": still the publication.
    updated = any(map(_UPDATED.search, tokens)) and not any("publish" in t.lower() for t in tokens)
    return _Marks(updated or any(map(_OTHER_ZONE.search, tokens)),
                  any(map(_DATE_CLASS.search, tokens)), any(map(_SITE_CLASS.search, tokens)),
                  any(map(_ARTICLE_CLASS.match, tokens)))


def _other_zone(element: HtmlElement, scoped: bool, marks: _Marks) -> bool:
    """Markup whose dates are not this article's publication date (incl. "updated" times);
    ``marks`` are the element's own (``_class_marks``)."""
    if element.tag in _OTHER_TAGS or (element.tag in _SITE_TAGS and not scoped):
        return True
    if (element.get("itemprop") or "").lower() == "datemodified":
        return True
    return marks.other or (marks.site and not scoped)


def _scopes(element: HtmlElement, marks: _Marks) -> bool:
    """Whether the element is the article (or the page's main part), by tag or class."""
    return element.tag in ("article", "main") or marks.article


def _dated_element(element: HtmlElement, marks: _Marks | None = None
                   ) -> tuple[str, str, bool] | None:
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
    elif not (marks or _class_marks(element)).dated:
        return None
    if element.tag == "abbr":
        # The microformats' way (Blogger's themes): <abbr class="published" title="ISO">.
        value = element.get("title")
        if value and any(ch.isdigit() for ch in value):
            return "attribute", value, declared
    text = element.text_content().strip()
    return ("element", text, declared) if 0 < len(text) <= _STRUCTURED_TEXT_MAX else None


def _find_anchor(root: HtmlElement, title: str | None) -> HtmlElement | None:
    """The heading that carries the article's title.

    A heading matches when it and the title (or the title's longest part, without the site
    name) contain one another and are of similar length, so a site-name logo in an <h1>
    does not pass for the headline.
    """
    headings = [h for h in root.iter("h1", "h2", "h3") if h.text_content().strip()]
    keys = {key for t in title_variants(title) if len(key := normalize_arabic(t)) >= 8}
    for heading in headings:  # blog themes (Blogger's) title a post with an <h3>
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
    opened: list[bool] = []  # for each element the walk is inside, whether it scopes
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        if not isinstance(element.tag, str):
            continue
        if event == "start":
            marks = _class_marks(element)
            opened.append(_scopes(element, marks))
            scoped += opened[-1]
            if element not in protected and _other_zone(element, scoped > 0, marks):
                walker.skip_subtree()
                offset += len(element.text_content().strip())  # still distance from the title
                continue
            if element in holders:
                entered.append(element)
            if element is mark:
                mark_offset = offset
            if anchor is not None and element is anchor:
                # The headline's words are its subject, but an element inside it that is
                # marked as a date (<time datetime>, class="date") dates the article.
                spots += [_Spot(offset, True, article in entered or article is None, *dated[:2],
                                dated[2] and _own_item(inner, anchor))
                          for inner in element.iterdescendants()
                          if isinstance(inner.tag, str) and (dated := _dated_element(inner))]
                # So does a line of its own under the title that is nothing but a dateline
                # ("<h1>Title<br><small>02.02.2022 • News</small></h1>").
                spots += [_Spot(offset, True, article in entered or article is None, "text", line)
                          for inner in element.iterdescendants()
                          if isinstance(inner.tag, str)
                          for line in ((inner.text or "").strip(), (inner.tail or "").strip())
                          if line and _dated_text(line, dateline_only=True)]
                walker.skip_subtree()
                offset += len(element.text_content().strip())
                continue
            if mark_offset is not None and _opens_other_stories(element):
                break  # the rest of the page lists other articles
            if (prose is None and mark_offset is not None and element.tag == "p"
                    and len(element.text_content().strip()) >= _PROSE):
                prose = offset
            dated = _dated_element(element, marks)
            if dated:
                kind, value, declared = dated
                spots.append(_Spot(offset, bool(entered), article in entered, kind, value,
                                   declared and _own_item(element, anchor)))
            text = element.text
        else:
            scoped -= opened.pop()
            if entered and element is entered[-1]:
                entered.pop()
            text = element.tail
        if text and text.strip():
            spots.append(_Spot(offset, bool(entered), article in entered, "text", text.strip()))
            offset += len(text.strip())
    return spots, mark_offset, prose


def _labels_only(prefix: str) -> bool:
    """Nothing but labels, a weekday, a place or the same day in another calendar stands
    before the date ("دمشق - ", "۲۴ آبان ۱۴۰۵ - ", "24 جمادى الأولى 1448 هـ الموافق")."""
    prefix = _HIJRI_DATE.sub(" ", SOLAR_HIJRI_DATE.sub(" ", prefix))
    rest = re.sub(r"\s+", " ", _LABELS.sub(" ", _DATELINE_GLUE.sub(" ", prefix))).strip()
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
        before = normalized[max(label_start, match.start - 30): match.start]
        if _UPDATED.search(before) or _UPDATE_LABEL.search(before):
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


@dataclass(frozen=True)
class PageDates:
    """What the page's visible dates say: the dateline candidates, the days of its dated
    elements, and (read only when asked: most pages never need them) every day printed in
    full outside other articles' zones and the days printed after an update label."""

    datelines: list[datetime | date]  # near the title, best first
    marked: frozenset[date]  # in elements whose markup says they hold a date
    # The day of the dated element nearest the title, when no element of another day is
    # nearly as near: on a page that also lists other stories' dates, the article's own.
    nearest_marked: date | None = None
    # The spots outside update stamps, and the spots that follow an update label.
    spots: tuple[_Spot, ...] = ()
    stamps: tuple[_Spot, ...] = ()

    @cached_property
    def printed(self) -> frozenset[date]:
        """Days in text or markup, outside other zones and copyright lines (for weighing
        another finder's answer)."""
        return frozenset(d for s in self.spots if any(c.isdigit() for c in s.text)
                         for d in _days(s))

    @cached_property
    def updated(self) -> frozenset[date]:
        """Days in text after an update label ("Aktualisiert:", "آخر تحديث")."""
        return frozenset(d for s in self.spots
                         if s.kind == "text" and any(c.isdigit() for c in s.text)
                         for d in _days(s, updates=True)) | frozenset(
            d for s in self.stamps for d in _days(s))


_COPYRIGHT = re.compile(r"©|\(c\)|copyright|all rights reserved|جميع الحقوق|حقوق النشر", re.I)


def _days(spot: _Spot, updates: bool = False) -> set[date]:
    """The full dates of a spot: publication ones, or with ``updates`` the update stamps."""
    if spot.kind == "attribute":
        if updates:
            return set()
        value = parse_machine_datetime(spot.text)
        return {value.date() if isinstance(value, datetime) else value} if value else set()
    normalized = normalize_arabic(spot.text)
    if _COPYRIGHT.search(normalized):
        return set()
    return {m.day for m in find_dates(normalized)
            if updates == bool(_UPDATE_LABEL.search(normalized[max(0, m.start - 30): m.start]))}


_ENDS_WITH_UPDATE_LABEL = re.compile(words_pattern(labels().updated) + r"\W*$")


def _after_update_label(spots: list[_Spot]) -> list[_Spot | None]:
    """For each spot, itself when the text just before it ends with an update label
    ("<b>Aktualisiert am</b> 17.01.2021", "<span>Updated</span> <time ...>"), else None."""
    found: list[_Spot | None] = []
    previous = ""
    for spot in spots:
        found.append(spot if _ENDS_WITH_UPDATE_LABEL.search(previous) else None)
        if spot.kind == "text":
            previous = normalize_arabic(spot.text[-40:])
    return found


def page_dates(root: HtmlElement, title: str | None) -> PageDates:
    """The visible publication date near the title (best candidate first), and the days the
    page prints outside other articles' zones."""
    body = root.find(".//body")
    root = body if body is not None else root
    anchor = _find_anchor(root, title)
    containers = _containers(root, anchor)
    spots, mark, prose = _spots(root, anchor, containers)
    stamps = _after_update_label(spots)
    spots = [s for s, stamp in zip(spots, stamps, strict=True) if not stamp]
    marked = frozenset(d for s in spots if s.kind != "text" for d in _days(s))
    return PageDates(_datelines(spots, mark, prose), marked, _nearest_marked(spots, mark),
                     tuple(spots), tuple(s for s in stamps if s))


# How near the title the nearest dated element must be, and how much nearer than any element
# of another day, for its day to stand out among a page's dated elements.
_NEAREST_MARKED = 1500
_NEARER = 3


def _nearest_marked(spots: list[_Spot], mark: int | None) -> date | None:
    if mark is None:
        return None
    dated = sorted((abs(s.offset - mark), day) for s in spots if s.kind != "text"
                   for day in _days(s))
    if not dated or dated[0][0] > _NEAREST_MARKED:
        return None
    distance, day = dated[0]
    other = next((d for d, found in dated if found != day), None)
    return day if other is None or other >= _NEARER * max(distance, _BEFORE_TITLE) else None


def dateline_dates(root: HtmlElement, title: str | None) -> list[datetime | date]:
    """The visible publication date near the title, best candidate first."""
    return page_dates(root, title).datelines


def _datelines(spots: list[_Spot], mark: int | None, prose: int | None
               ) -> list[datetime | date]:
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

