"""Feeds and sitemaps as bytes: RSS 2.0, RSS 1.0 (RDF), Atom, XML sitemaps and indexes, plain
URL lists, gzipped or not, each read into article candidates (discovery decides what to fetch).

They come from strangers: XML is parsed with DTDs and entities forbidden, and gzip is inflated
with an output cap, so a hostile or broken document raises DiscoveryError, never crashes or
blows up memory.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from rasid.fetch.decoding import decode_html
from rasid.models import Candidate
from rasid.urls import normalize_url

MAX_BYTES = 50 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_XML_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]*\?>")
_HTTP = ("http://", "https://")
_FEED_ROOTS = frozenset({"rss", "rdf", "feed"})
# Publication first; "updated" is the last resort because it moves on every edit.
_FEED_DATES = ("pubdate", "published", "issued", "date", "updated")
# RFC 822 dates with "GMT+3", "+03:00" or "-0000" lose their offset in the email parser.
_LOOSE_OFFSET = re.compile(r"\s(?:GMT|UTC|UT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

T = TypeVar("T")


class DiscoveryError(Exception):
    """A feed or sitemap that cannot be read: malformed, hostile, too large or of a wrong kind."""


@dataclass(frozen=True)
class SitemapDoc:
    """One parsed sitemap: article candidates (a urlset) or further sitemaps (an index)."""

    candidates: list[Candidate]
    children: list[str]


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
        ordered = newest_first([e for e in entries if e is not None], lambda e: e[1])
        return SitemapDoc([candidate for candidate, _ in ordered], [])
    if kind == "sitemapindex":
        children = [_located(e, sitemap_url, default_tz) for e in _children(root, "sitemap")]
        located = newest_first([c for c in children if c is not None], lambda c: c[1])
        return SitemapDoc([], [url for url, _ in located])
    if kind in _FEED_ROOTS:  # search engines accept feeds as sitemaps, and so do sites
        return SitemapDoc(_feed_candidates(root, sitemap_url, source_id, default_tz), [])
    raise DiscoveryError(f"not a sitemap (root element <{kind}>)")


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


def newest_first(items: list[T], when: Callable[[T], datetime | None]) -> list[T]:
    """Dated items newest first, then undated ones in their original order (stable)."""

    def key(item: T) -> tuple[int, float]:
        moment = when(item)
        return (0, -moment.timestamp()) if moment is not None else (1, 0.0)

    return sorted(items, key=key)

