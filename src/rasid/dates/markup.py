"""Dates a page declares for machines: meta tags, JSON-LD, the URL."""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from datetime import date, datetime
from urllib.parse import unquote, urlsplit

from lxml.html import HtmlElement

from rasid.dates.parse import _valid, parse_machine_datetime

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
OLDEST_PLAUSIBLE = date(1990, 1, 1)



# Meta names of the last modification: never a publication date, but the only date some
# pages give (see rasid.dates.decide).
MODIFIED_META_NAMES = (
    "article:modified_time", "og:updated_time", "datemodified", "dc.date.modified",
    "dcterms.modified", "last-modified", "lastmod",
)


def meta_dates(tree: HtmlElement, names: tuple[str, ...] = META_NAMES) -> list[datetime | date]:
    """The dates of the ``names`` meta tags, in the order of ``names``."""
    found: dict[str, datetime | date] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in names and key not in found:
            parsed = parse_machine_datetime(meta.get("content") or "")
            if parsed is not None:
                found[key] = parsed
    return [found[name] for name in names if name in found]


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


def jsonld_dates(tree: HtmlElement, key: str = "datePublished") -> list[datetime | date]:
    """``key`` (datePublished) of Article-like objects first, then of WebPage objects."""
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
            value = obj.get(key)
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



# A publication key in a script's JSON (a site's state object, not JSON-LD): "datePublished":
# "2022-01-28T06:00:00+01:00", "published_at": "...". Only corroborates htmldate's answer.
_SCRIPT_PUBLISHED = re.compile(
    r"""["'](?:datePublished|date_published|published_at|publishedAt|publishDate|publish_date|"""
    r"""pubDate|firstPublished|first_published_at|createdAt|created_at)["']\s*:\s*["']"""
    r"""(\d{4}-\d{2}-\d{2})""")


def script_days(tree: HtmlElement) -> frozenset[date]:
    """The days that scripts' JSON names as a publication (or creation) date."""
    found = set()
    for script in tree.iter("script"):
        for match in _SCRIPT_PUBLISHED.finditer(script.text or ""):
            day = _valid(*(int(part) for part in match[1].split("-")))
            if day:
                found.add(day)
    return frozenset(found)
