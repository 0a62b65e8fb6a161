"""Discovery: find candidate article URLs in a source's feeds, sitemaps or pages.

Everything here parses bytes; feeds and sitemaps themselves are parsed in ``rasid.feeds``. Documents arrive through an injected ``get`` function, so the
only HTTP client stays in the fetcher; ``get`` may answer None for a document unchanged since
the last run (a 304), which then costs no parsing. Feeds and sitemaps come from strangers: XML
is parsed with DTDs and entities forbidden, and gzip is inflated with an output cap, so a
hostile or broken document becomes a recorded failure, never a crash or a memory blow-up.

A source that names no feed and no sitemap (or asks for it with ``site_pointers``) is also
read from what the site itself points to: the ``Sitemap:`` lines of its robots.txt and the RSS
or Atom ``<link rel="alternate">`` of its homepage. The result says what was found, so an
operator can pin it in sources.yaml.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree

from rasid.config import Source
from rasid.feeds import (
    MAX_BYTES,
    DiscoveryError,
    SitemapDoc,
    newest_first,
    parse_feed,
    parse_sitemap,
)
from rasid.fetch.decoding import decode_html
from rasid.models import Candidate, FetchFailure, Validator
from rasid.urls import looks_like_article, normalize_url, same_site

# Re-exported: the parsers' names are part of discovery's API.
__all__ = ["MAX_BYTES", "DiscoveryError", "DiscoveryResult", "SitemapDoc", "alternate_feeds",
           "describe_pointers", "discover", "extract_links", "parse_feed", "parse_sitemap"]

_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
MAX_ALTERNATE_FEEDS = 10  # a homepage announcing more is listing categories, not its feed
# Future hints within this margin are clock skew; beyond it they cannot rank as newest.
_CLOCK_SKEW = timedelta(days=1)






@dataclass
class DiscoveryResult:
    """What one source's discovery found, and what it could not read."""

    candidates: list[Candidate]
    failures: list[FetchFailure]
    documents: int  # feeds, sitemaps and pages fetched (readable or not)
    # Sitemaps not read because of the depth or count limit: known, not lost.
    skipped_sitemaps: list[str] = field(default_factory=list)
    # What each document read turned out to be: "feed", "sitemap", "index" or "page".
    kinds: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)  # answered "not modified"
    # Feeds and sitemaps the site points to that sources.yaml does not name.
    pointers: dict[str, list[str]] = field(default_factory=dict)
    # What the server said identifies each document read, for the next run (set by the
    # caller that holds the fetcher; see rasid.fetch.documents).
    validators: dict[str, Validator] = field(default_factory=dict)






def extract_links(html: str, page_url: str, homepage: str, source_id: str) -> list[Candidate]:
    """Article-looking same-site links of an HTML page, with their anchor text as title."""
    # libxml2 stops at 256 levels by default; pages full of unclosed tags go deeper than
    # that. Past its hard limit the parser stops and we keep the links read so far.
    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        doc = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return []
    base_tag = next(doc.iter("base"), None)
    base = _resolve_or(page_url, None if base_tag is None else base_tag.get("href"))
    found: list[Candidate] = []
    for anchor in doc.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        try:
            url = normalize_url(href, base)
        except ValueError:
            continue
        if looks_like_article(url, homepage):
            title = " ".join(anchor.text_content().split()) or anchor.get("title") or None
            found.append(Candidate(url, source_id, "links", None, title))
    return _merge(found)


def discover(
    source: Source,
    get: Callable[[str], bytes | None],
    *,
    robots_sitemaps: Callable[[], list[str]] = list,
    max_sitemaps: int = 50,
    max_depth: int = 3,
    now: datetime | None = None,
) -> DiscoveryResult:
    """Read every feed and sitemap of a source (or its pages, when it has neither).

    ``get(url)`` returns a body, None for a document unchanged since the last run, or raises
    an exception carrying a ``FetchFailure`` as ``.failure``; such failures are recorded and
    discovery carries on. ``robots_sitemaps()`` lists the ``Sitemap:`` lines of the site's
    robots.txt. ``max_depth`` is how many levels of sitemap index are followed below the
    top-level sitemaps. The result holds same-site candidates, one per URL, newest-first by
    their hint, at most ``source.max_articles_per_run``; hints later than ``now``
    (timezone-aware) plus a day are kept but rank as undated.
    """
    session = _Session(source, get, ZoneInfo(source.timezone))
    configured = bool(source.feeds or source.sitemaps)
    feeds, sitemaps = list(source.feeds), list(source.sitemaps)
    pointers: dict[str, list[str]] = {}
    if source.site_pointers or not configured:
        pointers = session.site_pointers(robots_sitemaps(), feeds + sitemaps)
        feeds += pointers["feeds"]
        sitemaps += pointers["sitemaps"]
    found = session.read_feeds(feeds)
    found += session.read_sitemaps(sitemaps, max_sitemaps, max_depth)
    if not configured:
        found += session.read_pages()
    kept = _merge(c for c in found if same_site(c.url, source.homepage))
    horizon = (now or datetime.now(UTC)) + _CLOCK_SKEW
    ranked = newest_first(kept, lambda c: _plausible(c.published_hint, horizon))
    return DiscoveryResult(
        candidates=ranked[: source.max_articles_per_run],
        failures=session.failures,
        documents=session.documents,
        skipped_sitemaps=session.skipped,
        kinds=session.kinds,
        unchanged=session.unchanged,
        pointers={kind: urls for kind, urls in pointers.items() if urls},
    )


@dataclass
class _Session:
    """One discovery pass over one source: what was fetched and what failed."""

    source: Source
    get: Callable[[str], bytes | None]
    tz: tzinfo
    failures: list[FetchFailure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    documents: int = 0
    kinds: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    bodies: dict[str, bytes | None] = field(default_factory=dict)  # pages read twice: once

    def fetch(self, url: str) -> bytes | None:
        """A document's body; None when it failed (recorded) or is unchanged (listed)."""
        try:
            body = self.get(url)
        except Exception as exc:
            failure = getattr(exc, "failure", None)
            if not isinstance(failure, FetchFailure):
                raise  # not a fetch outcome but a bug: let it surface
            self.failures.append(failure)
            return None
        self.documents += 1
        if body is None:
            self.unchanged.append(url)
        return body

    def page(self, url: str) -> bytes | None:
        if url not in self.bodies:
            self.bodies[url] = self.fetch(url)
        return self.bodies[url]

    def site_pointers(self, robots_sitemaps: list[str], known: list[str]) -> dict[str, list[str]]:
        """The feeds and sitemaps the site points to, less those already ``known``."""
        seen = {_url_key(url) for url in known}
        feeds: list[str] = []
        homepage = self.page(self.source.homepage)
        if homepage is not None:
            html, _, _ = decode_html(homepage, None)
            feeds = alternate_feeds(html, self.source.homepage)[:MAX_ALTERNATE_FEEDS]
        return {"feeds": _unseen(feeds, seen), "sitemaps": _unseen(robots_sitemaps, seen)}

    def reject(self, url: str, reason: str, error: Exception) -> None:
        detail = str(error)
        if not isinstance(error, DiscoveryError):  # a parser bug: name it, keep the other feeds
            detail = f"unexpected {type(error).__name__}: {error}"
        self.failures.append(FetchFailure(url, self.source.id, reason, detail, transient=False))

    def read_feeds(self, feeds: list[str]) -> list[Candidate]:
        found: list[Candidate] = []
        for url in feeds:
            body = self.fetch(url)
            if body is None:
                continue
            try:
                found += parse_feed(body, url, self.source.id, default_tz=self.tz)
            except Exception as error:
                self.reject(url, "bad_feed", error)
                continue
            self.kinds[url] = "feed"
        return found

    def read_sitemaps(self, sitemaps: list[str], max_sitemaps: int, max_depth: int
                      ) -> list[Candidate]:
        found: list[Candidate] = []
        queue = deque((url, 0) for url in sitemaps)
        seen: set[str] = set()
        read = 0
        while queue:
            url, depth = queue.popleft()
            key = _url_key(url)
            if key in seen:  # an index listing itself (or a cycle) ends here
                continue
            seen.add(key)
            if depth > max_depth or read >= max_sitemaps:
                self.skipped.append(url)
                continue
            read += 1
            body = self.fetch(url)
            if body is None:
                continue
            try:
                doc = parse_sitemap(body, url, self.source.id, default_tz=self.tz)
            except Exception as error:
                self.reject(url, "bad_sitemap", error)
                continue
            self.kinds[url] = "index" if doc.children else "sitemap"
            found += doc.candidates
            queue.extend((child, depth + 1) for child in doc.children)
        return found

    def read_pages(self) -> list[Candidate]:
        found: list[Candidate] = []
        for url in [self.source.homepage, *self.source.sections]:
            body = self.page(url)
            self.kinds[url] = "page"
            if body is not None:
                html, _, _ = decode_html(body, None)  # the fetcher's rules: meta, cp1256, ...
                found += extract_links(html, url, self.source.homepage, self.source.id)
        return found


def alternate_feeds(html: str, page_url: str) -> list[str]:
    """The RSS and Atom feeds a page announces with ``<link rel="alternate">``, in order.
    Comment feeds (WordPress announces one per site and per post) list no articles."""
    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        doc = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return []
    found: list[str] = []
    for link in doc.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rels or kind not in _FEED_TYPES:
            continue
        try:
            url = normalize_url((link.get("href") or "").strip(), page_url)
        except ValueError:
            continue
        if "/comments/" not in url and not url.rstrip("/").endswith("/comments"):
            found.append(url)
    return list(dict.fromkeys(found))


def describe_pointers(pointers: dict[str, list[str]]) -> str:
    """One line for the log: "feeds: a, b; sitemaps: c"."""
    return "; ".join(f"{kind}: {', '.join(urls)}" for kind, urls in sorted(pointers.items()))


def _unseen(urls: list[str], seen: set[str]) -> list[str]:
    fresh: list[str] = []
    for url in urls:
        key = _url_key(url)
        if key not in seen:
            seen.add(key)
            fresh.append(url)
    return fresh




































def _plausible(hint: datetime | None, horizon: datetime) -> datetime | None:
    return hint if hint is not None and hint <= horizon else None




def _merge(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per URL: the first keeps its ``via``; later ones fill in missing hints."""
    merged: dict[str, Candidate] = {}
    for candidate in candidates:
        first = merged.get(candidate.url)
        if first is None:
            merged[candidate.url] = candidate
        elif first.published_hint is None or first.title_hint is None:
            merged[candidate.url] = replace(
                first,
                published_hint=first.published_hint or candidate.published_hint,
                title_hint=first.title_hint or candidate.title_hint,
            )
    return list(merged.values())


def _url_key(url: str) -> str:
    try:
        return normalize_url(url)
    except ValueError:
        return url


def _resolve_or(page_url: str, href: str | None) -> str:
    try:
        return normalize_url(href or "", page_url)
    except ValueError:
        return page_url
