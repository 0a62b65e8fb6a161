"""Discovery: find candidate article URLs in a source's feeds, sitemaps or pages.

Everything here parses bytes. Documents arrive through an injected ``get`` function, so the
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

import re
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as safe_xml
import lxml.html
from defusedxml import DefusedXmlException
from lxml import etree

from rasid.config import Source
from rasid.fetch.decoding import decode_html
from rasid.models import Candidate, FetchFailure, Validator
from rasid.urls import looks_like_article, normalize_url, same_site

MAX_BYTES = 50 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_XML_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]*\?>")
_HTTP = ("http://", "https://")
_FEED_ROOTS = frozenset({"rss", "rdf", "feed"})
_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
MAX_ALTERNATE_FEEDS = 10  # a homepage announcing more is listing categories, not its feed
# Publication first; "updated" is the last resort because it moves on every edit.
_FEED_DATES = ("pubdate", "published", "issued", "date", "updated")
# RFC 822 dates with "GMT+3", "+03:00" or "-0000" lose their offset in the email parser.
_LOOSE_OFFSET = re.compile(r"\s(?:GMT|UTC|UT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# Future hints within this margin are clock skew; beyond it they cannot rank as newest.
_CLOCK_SKEW = timedelta(days=1)

T = TypeVar("T")


class DiscoveryError(Exception):
    """A feed or sitemap that cannot be read: malformed, hostile, too large or of a wrong kind."""


@dataclass(frozen=True)
class SitemapDoc:
    """One parsed sitemap: article candidates (a urlset) or further sitemaps (an index)."""

    candidates: list[Candidate]
    children: list[str]


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


def parse_feed(
    content: bytes,
    feed_url: str,
    source_id: str,
    *,
    default_tz: tzinfo = UTC,
    max_bytes: int = MAX_BYTES,
) -> list[Candidate]:
    """Candidates from an RSS 2.0, RSS 1.0 (RDF) or Atom feed; raise DiscoveryError.

    ``default_tz`` is the zone of dates written without an offset (the site's local time).
    """
    root = _parse_xml(_decompress(content, max_bytes))
    if _local(root) not in _FEED_ROOTS:
        raise DiscoveryError(f"not an RSS or Atom feed (root element <{_local(root)}>)")
    return _feed_candidates(root, feed_url, source_id, default_tz)


def parse_sitemap(
    content: bytes,
    sitemap_url: str,
    source_id: str,
    *,
    default_tz: tzinfo = UTC,
    max_bytes: int = MAX_BYTES,
) -> SitemapDoc:
    """Parse an XML sitemap, sitemap index or plain-text URL list, gzipped or not.

    Entries come newest-modified first (by ``lastmod``), so count limits keep recent ones;
    ``lastmod`` is never a publication date, only Google News' ``publication_date`` is.
    """
    content = _decompress(content, max_bytes).lstrip()
    if not content.startswith(b"<"):
        return SitemapDoc(_text_sitemap(content, sitemap_url, source_id), [])
    root = _parse_xml(content)
    kind = _local(root)
    if kind == "urlset":
        entries = [
            _sitemap_entry(e, sitemap_url, source_id, default_tz) for e in _children(root, "url")
        ]
        ordered = _newest_first([e for e in entries if e is not None], lambda e: e[1])
        return SitemapDoc([candidate for candidate, _ in ordered], [])
    if kind == "sitemapindex":
        children = [_located(e, sitemap_url, default_tz) for e in _children(root, "sitemap")]
        located = _newest_first([c for c in children if c is not None], lambda c: c[1])
        return SitemapDoc([], [url for url, _ in located])
    if kind in _FEED_ROOTS:  # search engines accept feeds as sitemaps, and so do sites
        return SitemapDoc(_feed_candidates(root, sitemap_url, source_id, default_tz), [])
    raise DiscoveryError(f"not a sitemap (root element <{kind}>)")


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
    ranked = _newest_first(kept, lambda c: _plausible(c.published_hint, horizon))
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


def _decompress(content: bytes, max_bytes: int) -> bytes:
    """Inflate gzip (known by its magic number, not its name), stopping at ``max_bytes``."""
    if not content.startswith(_GZIP_MAGIC):
        if len(content) > max_bytes:
            raise DiscoveryError(f"document exceeds {max_bytes} bytes")
        return content
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    out = bytearray()
    pending = content
    try:
        while not inflater.eof:
            chunk = inflater.decompress(pending, max_bytes + 1 - len(out))
            out += chunk
            if len(out) > max_bytes:
                raise DiscoveryError(f"gzip document inflates beyond {max_bytes} bytes")
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break
    except zlib.error as exc:
        raise DiscoveryError(f"broken gzip data: {exc}") from None
    if not inflater.eof:
        raise DiscoveryError("truncated gzip data")
    return bytes(out)


def _parse_xml(content: bytes) -> Element:
    try:
        return _parse_defused(content)
    except DiscoveryError:
        recoded = _as_utf8(content)
        if recoded is None:
            raise
        return _parse_defused(recoded)


def _parse_defused(content: bytes) -> Element:
    try:
        root: Element = safe_xml.fromstring(
            content.lstrip(), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        return root
    except DefusedXmlException as exc:
        raise DiscoveryError(f"refused XML with a DTD or entities: {exc}") from None
    except (ParseError, ValueError, LookupError) as exc:
        raise DiscoveryError(f"not well-formed XML: {exc}") from None


def _as_utf8(content: bytes) -> bytes | None:
    """A document that is not UTF-8, decoded as the fetcher decodes pages and re-encoded
    without its XML declaration; None if it is UTF-8 already. Arabic sites serve windows-1256
    feeds under a declaration that says UTF-8, or under none, which means UTF-8 in XML."""
    try:
        content.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    text, _, _ = decode_html(content, None)
    return _XML_DECLARATION.sub("", text, count=1).encode("utf-8")


def _local(element: Element) -> str:
    """The tag without its namespace, lowercased: feeds mix namespaces and letter case."""
    tag = element.tag
    return tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""


def _children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if _local(child) == name)


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    return " ".join("".join(element.itertext()).split()) or None


def _child_text(element: Element | None, name: str) -> str | None:
    if element is None:
        return None
    return _text(next(_children(element, name), None))


def _feed_candidates(root: Element, feed_url: str, source_id: str, tz: tzinfo) -> list[Candidate]:
    found: list[Candidate] = []
    for item in root.iter():
        if _local(item) not in ("item", "entry"):
            continue
        url = _first_url(_item_links(item), feed_url)
        if url is None:
            continue
        dates = (_parse_date(_child_text(item, name), tz) for name in _FEED_DATES)
        published = next(filter(None, dates), None)
        found.append(Candidate(url, source_id, "feed", published, _child_text(item, "title")))
    return found


def _item_links(item: Element) -> Iterator[str]:
    """An item's possible article links, best first."""
    # FeedBurner puts its redirector in <link> and the real address in <feedburner:origLink>.
    yield from filter(None, (_text(e) for e in _children(item, "origlink")))
    for link in _children(item, "link"):
        href = link.get("href")
        if href is None:
            yield _text(link) or ""
        elif link.get("rel", "alternate") == "alternate":
            yield href
    for guid in _children(item, "guid"):
        if guid.get("isPermaLink", "true").lower() != "false":
            yield _text(guid) or ""


def _first_url(options: Iterable[str | None], base: str) -> str | None:
    for option in options:
        if option:
            try:
                return normalize_url(option, base)
            except ValueError:
                continue
    return None


def _sitemap_entry(
    entry: Element, sitemap_url: str, source_id: str, tz: tzinfo
) -> tuple[Candidate, datetime | None] | None:
    located = _located(entry, sitemap_url, tz)
    if located is None:
        return None
    news = next(_children(entry, "news"), None)
    published = _parse_date(_child_text(news, "publication_date"), tz)
    url, lastmod = located
    return Candidate(url, source_id, "sitemap", published, _child_text(news, "title")), lastmod


def _located(
    entry: Element, sitemap_url: str, tz: tzinfo
) -> tuple[str, datetime | None] | None:
    """An entry's URL and its ``lastmod``, which only orders entries."""
    url = _first_url([_child_text(entry, "loc")], sitemap_url)
    return None if url is None else (url, _parse_date(_child_text(entry, "lastmod"), tz))


def _text_sitemap(content: bytes, sitemap_url: str, source_id: str) -> list[Candidate]:
    lines = (line.strip() for line in content.decode("utf-8", "replace").splitlines())
    urls = (_first_url([line], sitemap_url) for line in lines if line.lower().startswith(_HTTP))
    found = [Candidate(url, source_id, "sitemap") for url in urls if url]
    if not found:
        raise DiscoveryError("neither XML nor a list of URLs")
    return found


def _parse_date(text: str | None, tz: tzinfo) -> datetime | None:
    """A feed or sitemap date in UTC: ISO 8601 / W3C, or RFC 822 in its many broken forms."""
    if not text:
        return None
    text = text.translate(_EASTERN_DIGITS).strip()
    try:
        parsed = _parse_iso_or_rfc822(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=tz)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _parse_iso_or_rfc822(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    return parsedate_to_datetime(_LOOSE_OFFSET.sub(_offset_repl, text))


def _offset_repl(match: re.Match[str]) -> str:
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if hours == minutes == 0:
        sign = "+"  # "-0000" means UTC to us; the email parser would make it naive
    return f" {sign}{hours:02d}{minutes:02d}"


def _plausible(hint: datetime | None, horizon: datetime) -> datetime | None:
    return hint if hint is not None and hint <= horizon else None


def _newest_first(items: list[T], when: Callable[[T], datetime | None]) -> list[T]:
    """Dated items newest first, then undated ones in their original order (stable)."""

    def key(item: T) -> tuple[int, float]:
        moment = when(item)
        return (0, -moment.timestamp()) if moment is not None else (1, 0.0)

    return sorted(items, key=key)


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
