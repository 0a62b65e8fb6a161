"""Arbitrary input never crashes the parsers: property tests with hypothesis.

Generated input is shaped like the real thing (feeds and sitemaps as element trees, Arabic
datelines, URLs assembled from hostile parts, mixed-script text), mixed with plain noise, and
each property says what must hold besides "no exception". Example counts stay modest so the
file runs in seconds; CI runs it every time, so the search adds up across runs.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasid import dates, text
from rasid.config import Source
from rasid.discover import DiscoveryError, discover, extract_links, parse_feed, parse_sitemap
from rasid.fetch.decoding import decode_html
from rasid.models import FetchFailure
from rasid.urls import looks_like_article, normalize_url, same_site, url_id

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOME = "https://news.example.org/"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)

# --- building blocks ---------------------------------------------------------------------------

ARABIC = st.text(alphabet=st.characters(min_codepoint=0x0600, max_codepoint=0x06FF), max_size=20)
MONTHS = st.sampled_from([
    "كانون الثاني", "كانون 2", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول",
    "تشرين الأول", "تشرين الثاني", "كانون الأول", "يناير", "فبراير", "مارس", "أبريل", "ابريل",
    "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر", "جانفي", "فيفري",
    "أفريل", "ماي", "جوان", "جويلية", "أوت", "محرم", "رمضان", "ذو الحجة", "January",
])
EASTERN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
NUMBER = st.integers(min_value=0, max_value=99999).map(str) | st.sampled_from(["00", "31", "29", "1446"])
SEPARATOR = st.sampled_from([" ", "/", "-", ".", " / ", "، ", "  "])
SHAPED = st.tuples(  # day, month (named or numbered), year, maybe a time: a dateline's shape
    st.integers(min_value=0, max_value=40).map(str), SEPARATOR,
    MONTHS | st.integers(min_value=0, max_value=13).map(str), SEPARATOR,
    st.integers(min_value=1880, max_value=2230).map(str) | NUMBER,
    st.sampled_from(["", "م", " هـ", " الساعة 10:30 مساءً", " 23:61", " 7:05 ص", " 12:00 ظهرا"]),
).map("".join)
DATELINE = st.one_of(
    SHAPED, SHAPED.map(lambda d: d.translate(EASTERN)),
    st.lists(st.one_of(NUMBER, MONTHS, ARABIC, st.sampled_from([
        " ", "/", "-", ".", ":", "،", "هـ", "م", "الساعة", "صباحاً", "مساءً", "ظهرا", "PM", "T",
        "Z", "+03:00", "-99:99", "GMT+3", "الأحد", "تحديث", "نشر في", "\u200f", "ـ"])),
        max_size=12).map("".join),
)
NOISE = st.text(max_size=80)
URL_PART = st.sampled_from([
    "http://", "https://", "HTTPS://", "ftp://", "//", "javascript:", "news.example.org",
    "WWW.News.Example.ORG", "أخبار.سوريا", "xn--", "127.0.0.1", "[::1]", "[fe80::1%25eth0]",
    "[::ffff:10.0.0.1]", "user:pw@", "@", ":", ":0", ":80", ":443", ":65536", ":-1", ":08",
    "/", "//", "/./", "/../", "/archives/700001", "/2026/11/16/", "%", "%2", "%zz", "%D8%A7",
    "%d8%a7", "ا", "?", "&", "=", "#", "#frag", "utm_source=x", "p=12", "\\", " ", "\t", "\n",
    "\x00", "é", "a" * 64, ".", "..", "-",
])
URLISH = st.one_of(st.lists(URL_PART, max_size=10).map("".join), NOISE)


def _element(name: str, content: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return content.map(lambda value: f"<{name}>{escape(value)}</{name}>")


FIELD_TEXT = st.one_of(URLISH, DATELINE, st.sampled_from([
    "2026-11-16T09:30:00+03:00", "Mon, 16 Nov 2026 09:30:00 GMT+3", "9999-12-31T23:59:59-23:59",
    "0001-01-01", "2026-02-30", "Fri, 31 Dec 9999 23:59:59 -2359", "", "  "]))
ITEM = st.lists(st.one_of(
    _element("link", URLISH), _element("guid", URLISH), _element("title", NOISE),
    _element("pubDate", FIELD_TEXT), _element("published", FIELD_TEXT),
    _element("updated", FIELD_TEXT), _element("dc:date", FIELD_TEXT),
    URLISH.map(lambda href: f"<link href={quoteattr(href)}/>"),
), max_size=6).map("".join)
FEED = st.one_of(
    st.lists(ITEM.map(lambda body: f"<item>{body}</item>"), max_size=5).map(
        lambda items: '<rss xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
                      + "".join(items) + "</channel></rss>"),
    st.lists(ITEM.map(lambda body: f"<entry>{body}</entry>"), max_size=5).map(
        lambda items: '<feed xmlns="http://www.w3.org/2005/Atom" '
                      'xmlns:dc="http://purl.org/dc/elements/1.1/">' + "".join(items) + "</feed>"),
)
ENTRY = st.lists(st.one_of(
    _element("loc", URLISH), _element("lastmod", FIELD_TEXT),
    st.tuples(FIELD_TEXT, NOISE).map(lambda pair: (
        f"<news:news><news:publication_date>{escape(pair[0])}</news:publication_date>"
        f"<news:title>{escape(pair[1])}</news:title></news:news>")),
), max_size=4).map("".join)
SITEMAP = st.one_of(
    st.lists(ENTRY.map(lambda body: f"<url>{body}</url>"), max_size=5).map(
        lambda urls: '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                     'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                     + "".join(urls) + "</urlset>"),
    st.lists(ENTRY.map(lambda body: f"<sitemap>{body}</sitemap>"), max_size=5).map(
        lambda maps: '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                     'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                     + "".join(maps) + "</sitemapindex>"),
    st.lists(URLISH, max_size=5).map("\n".join),  # a plain-text sitemap
)


def _wire(document: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """A document as it may arrive: UTF-8, UTF-16, gzipped, cut short, or behind a BOM."""
    return st.tuples(document, st.sampled_from(["utf-8", "utf-16", "gzip", "cut", "bom"])).map(
        lambda pair: {
            "utf-8": lambda d: d.encode("utf-8", "surrogatepass"),
            "utf-16": lambda d: d.encode("utf-16", "surrogatepass"),
            "gzip": lambda d: gzip.compress(d.encode("utf-8", "surrogatepass")),
            "cut": lambda d: d.encode("utf-8", "surrogatepass")[: len(d) // 2],
            "bom": lambda d: b"\xef\xbb\xbf" + d.encode("utf-8", "surrogatepass"),
        }[pair[1]](pair[0])
    )


def _is_utc(moment: datetime | None) -> bool:
    return moment is None or moment.utcoffset() == timedelta(0)


# --- feeds and sitemaps ------------------------------------------------------------------------


@FUZZ
@given(_wire(FEED) | st.binary(max_size=200))
def test_feeds_give_normalised_candidates_or_a_discovery_error(content: bytes) -> None:
    try:
        candidates = parse_feed(content, HOME + "feed/", "example")
    except DiscoveryError:
        return
    for candidate in candidates:
        assert normalize_url(candidate.url) == candidate.url
        assert _is_utc(candidate.published_hint)


@FUZZ
@given(_wire(SITEMAP) | st.binary(max_size=200))
def test_sitemaps_give_normalised_urls_or_a_discovery_error(content: bytes) -> None:
    try:
        doc = parse_sitemap(content, HOME + "sitemap.xml", "example")
    except DiscoveryError:
        return
    for candidate in doc.candidates:
        assert normalize_url(candidate.url) == candidate.url
        assert _is_utc(candidate.published_hint)
    for child in doc.children:
        assert normalize_url(child) == child


class _Missing(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.failure = FetchFailure(url, "example", "http_404", "not found", transient=False)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["sitemap.xml", "a.xml", "b.xml.gz", "feed/"]),
                       _wire(SITEMAP) | _wire(FEED), max_size=4),
       st.integers(min_value=1, max_value=5))
def test_discovery_of_any_site_ends_with_same_site_candidates_under_the_cap(
    site: dict[str, bytes], cap: int
) -> None:
    """Sitemap indexes listing themselves, each other or junk; documents that are missing."""
    source = Source(id="example", name="مثال", homepage=HOME, feeds=[HOME + "feed/"],
                    sitemaps=[HOME + "sitemap.xml"], max_articles_per_run=cap)
    fetched: list[str] = []

    def get(url: str) -> bytes:
        fetched.append(url)
        if url.removeprefix(HOME) not in site:
            raise _Missing(url)
        return site[url.removeprefix(HOME)]

    result = discover(source, get, max_sitemaps=10, now=NOW)
    assert len(result.candidates) <= cap
    assert all(same_site(c.url, HOME) for c in result.candidates)
    assert len(fetched) <= 1 + 10  # the feed, and at most max_sitemaps sitemaps
    assert all(f.source_id == "example" and f.reason for f in result.failures)


@FUZZ
@given(st.lists(st.one_of(URLISH.map(lambda href: f"<a href={quoteattr(href)}>{escape(href)}</a>"),
                          st.sampled_from(["<div>", "</div>", "<base href='/x/'>", "<a>", "<p",
                                           "<!--", "-->", "<![CDATA[", "\x00"]), NOISE),
                max_size=20).map("".join))
def test_links_of_any_page_are_same_site_article_urls(page: str) -> None:
    for candidate in extract_links(page, HOME + "section/", HOME, "example"):
        assert normalize_url(candidate.url) == candidate.url
        assert looks_like_article(candidate.url, HOME)


# --- dates -------------------------------------------------------------------------------------


@FUZZ
@given(DATELINE | NOISE)
def test_arabic_dates_are_real_days_in_range_or_none(written: str) -> None:
    parsed = dates.parse_arabic_datetime(written)
    if parsed is not None:
        day, _ = parsed
        assert isinstance(day, date) and dates.MIN_YEAR <= day.year <= dates.MAX_YEAR
        assert dates.parse_arabic_date(written) == day


@FUZZ
@given(FIELD_TEXT | NOISE)
def test_machine_dates_are_in_range_with_a_real_offset_or_none(value: str) -> None:
    parsed = dates.parse_machine_datetime(value)
    if parsed is None:
        return
    assert dates.MIN_YEAR <= parsed.year <= dates.MAX_YEAR
    if isinstance(parsed, datetime) and parsed.tzinfo is not None:
        assert abs(parsed.utcoffset()) <= dates.MAX_UTC_OFFSET  # type: ignore[arg-type]
        assert parsed.astimezone(UTC).tzinfo is UTC


PAGE_DATES = st.one_of(
    FIELD_TEXT.map(lambda v: f'<meta property="article:published_time" content={quoteattr(v)}>'),
    FIELD_TEXT.map(lambda v: '<script type="application/ld+json">'
                   + json.dumps({"@type": "NewsArticle", "datePublished": v}) + "</script>"),
    DATELINE.map(lambda v: f"<time>{escape(v)}</time>"),
    DATELINE.map(lambda v: f"<p class='date'>{escape(v)}</p>"),
    NOISE.map(lambda v: f"<h1>{escape(v)}</h1>"),
    st.sampled_from(["<article>", "</article>", "<div>" * 300, "<p>", "<footer>© 2024</footer>"]),
)


@FUZZ
@given(st.lists(PAGE_DATES, max_size=8).map(lambda parts: "<html><head>" + "".join(parts) + "</html>"),
       URLISH, NOISE | st.none(), st.none() | st.datetimes(timezones=st.just(UTC)),
       st.sampled_from(["Asia/Damascus", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"]))
def test_find_published_always_answers_in_utc_with_a_local_day(
    html: str, url: str, title: str | None, hint: datetime | None, timezone: str
) -> None:
    result = dates.find_published(html, url, title=title, hints=[(hint, "feed")] if hint else [],
                                  timezone=timezone, now=NOW)
    assert _is_utc(result.published_at)
    dated = [value is not None for value in (result.published_at, result.published_date,
                                             result.date_source)]
    assert all(dated) or not any(dated)


# --- URLs -------------------------------------------------------------------------------------


@FUZZ
@given(URLISH, URLISH | st.none())
def test_normalised_urls_are_stable_ascii_http_and_identify_one_article(
    raw: str, base: str | None
) -> None:
    try:
        once = normalize_url(raw, base)
    except ValueError:
        return
    parts = urlsplit(once)
    assert parts.scheme in ("http", "https") and parts.hostname and once.isascii()
    assert not parts.fragment and "@" not in parts.netloc
    assert normalize_url(once) == once and url_id(once) == url_id(raw if base is None else once)
    assert same_site(once, once)


@FUZZ
@given(URLISH, URLISH)
def test_site_and_article_guesses_never_raise(url: str, homepage: str) -> None:
    assert isinstance(same_site(url, homepage), bool)
    assert isinstance(looks_like_article(url, homepage), bool)


# --- Arabic text -------------------------------------------------------------------------------

MIXED = st.one_of(NOISE, ARABIC, st.lists(st.one_of(ARABIC, NOISE, DATELINE, st.sampled_from(
    ["\n", "\n\n", "ـــ", "\u064b\u0651", "\u200c", "\u200f", "ﻻ", "ﷺ", "٣", "۳", "ی", "ک", "Ã˜Â§",
     "Ø§Ù„", "ط§ظ„", "\ufeff", "\x00", "\ud800"])), max_size=15).map("".join))


@FUZZ
@given(MIXED)
def test_arabic_normalisation_is_a_stable_key(value: str) -> None:
    key = text.normalize_arabic(value)
    assert text.normalize_arabic(key) == key
    assert text.body_hash(value) == text.body_hash(key)
    assert 0.0 <= text.arabic_ratio(value) <= 1.0
    assert text.word_count(value) >= 0


@FUZZ
@given(st.lists(MIXED, max_size=6).map("\n".join), NOISE | st.none())
def test_repetition_removal_keeps_a_share_between_zero_and_one(body: str, title: str | None) -> None:
    cleaned, share = text.remove_repetition(body, title)
    assert isinstance(cleaned, str) and 0.0 <= share <= 1.0
    assert len(cleaned) <= len(body)


@FUZZ
@given(MIXED, st.sampled_from([None, "ar", "fa", "en", "", "x" * 40]))
def test_language_and_mojibake_checks_never_raise(value: str, lang: str | None) -> None:
    language = text.detect_language(value, lang)
    assert language is None or (isinstance(language, str) and language)
    assert isinstance(text.detect_mojibake(value), bool)
    assert isinstance(text.repair_mojibake(value), str)


# --- bytes off the wire ------------------------------------------------------------------------


# Labels seen on the web, and labels Python knows that are no text encoding at all.
LABELS = st.sampled_from(["utf-8", "", "windows-1256", "utf-16", "x-unknown", '"utf-32"',
                          "cp1006", "latin1", "iso-8859-6", "undefined", "punycode", "rot13",
                          "idna", "base64", "utf-7", "unicode_escape"]) | NOISE
BODY = st.binary(max_size=300) | MIXED.map(lambda v: v.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.one_of(BODY, st.tuples(LABELS, BODY).map(
           lambda pair: f'<meta charset="{pair[0]}">'.encode("utf-8", "surrogatepass") + pair[1])),
       st.none() | NOISE | LABELS.map(lambda label: f"text/html; charset={label}"))
def test_any_body_decodes_to_text_with_a_named_encoding(
    content: bytes, content_type: str | None
) -> None:
    html, encoding, how = decode_html(content, content_type)
    assert isinstance(html, str) and encoding
    assert how in ("bom", "http", "meta", "detected", "fallback")
