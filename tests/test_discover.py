"""Discovery reads feeds, sitemaps and pages into candidates, and survives hostile documents."""

from __future__ import annotations

import contextlib
import gzip
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rasid.config import Source
from rasid.discover import (
    DiscoveryError,
    discover,
    extract_links,
    parse_feed,
    parse_sitemap,
)
from rasid.fetch import FetchError
from rasid.models import Candidate, FetchFailure
from rasid.urls import normalize_url

HOME = "https://news.example.org/"
FEED = HOME + "feed/"
SITEMAP = HOME + "sitemap.xml"
PLUS3 = timezone(timedelta(hours=3))
NOW = datetime(2026, 11, 10, tzinfo=UTC)


def make_source(**fields: object) -> Source:
    return Source.model_validate({"id": "example", "name": "Example", "homepage": HOME, **fields})


class FakeSite:
    """The ``get`` seam: serves fixed documents and answers 404 for everything else."""

    def __init__(self, documents: dict[str, bytes]) -> None:
        self.documents = documents
        self.requested: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.requested.append(url)
        if url not in self.documents:
            failure = FetchFailure(url, "example", "http_404", "not found", False, status=404)
            raise FetchError(failure)
        return self.documents[url]


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">'
        f"<channel><title>أخبار المثال</title><link>{HOME}</link>{''.join(items)}</channel></rss>"
    ).encode()


def item(link: str = "", date: str = "", title: str = "خبر", extra: str = "") -> str:
    parts = [f"<title>{title}</title>", extra]
    if link:
        parts.append(f"<link>{link}</link>")
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    return f"<item>{''.join(parts)}</item>"


def urlset(*entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"{''.join(entries)}</urlset>"
    ).encode()


def url_entry(loc: str, lastmod: str = "", news_date: str = "", news_title: str = "") -> str:
    news = ""
    if news_date:
        news = (
            "<news:news><news:publication><news:name>المثال</news:name>"
            "<news:language>ar</news:language></news:publication>"
            f"<news:publication_date>{news_date}</news:publication_date>"
            f"<news:title>{news_title}</news:title></news:news>"
        )
    lastmod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    return f"<url><loc>{loc}</loc>{lastmod}{news}</url>"


def index(*locs: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</sitemapindex>"
    ).encode()


# --- feeds -------------------------------------------------------------------------------


def test_rss_items_become_feed_candidates_with_utc_hints() -> None:
    content = rss(
        item(HOME + "archives/700001?utm_source=rss", "Thu, 05 Nov 2026 10:30:00 +0300",
             "افتتاح جسر جديد"),
        item(extra=f'<guid isPermaLink="true">{HOME}archives/700002</guid>'),
        item("/archives/700003", extra="<dc:date>2026-11-04T08:00:00Z</dc:date>"),
        item(extra='<guid isPermaLink="false">tag:news.example.org,2026:4</guid>'),
        item("javascript:alert(1)"),
    )
    candidates = parse_feed(content, FEED, "example")
    assert [c.url for c in candidates] == [
        HOME + "archives/700001", HOME + "archives/700002", HOME + "archives/700003",
    ]
    first = candidates[0]
    assert first.via == "feed" and first.source_id == "example"
    assert first.title_hint == "افتتاح جسر جديد"
    assert first.published_hint == datetime(2026, 11, 5, 7, 30, tzinfo=UTC)
    assert first.published_hint.utcoffset() == timedelta(0)
    assert candidates[1].published_hint is None
    assert candidates[2].published_hint == datetime(2026, 11, 4, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Thu, 05 Nov 2026 10:30:00 GMT+3", datetime(2026, 11, 5, 7, 30, tzinfo=UTC)),
        ("Thu, 05 Nov 2026 10:30:00 +03:00", datetime(2026, 11, 5, 7, 30, tzinfo=UTC)),
        ("Thursday, 5 November 2026 10:30:00 +0300", datetime(2026, 11, 5, 7, 30, tzinfo=UTC)),
        ("Thu, 05 Nov 2026 10:30:00 GMT", datetime(2026, 11, 5, 10, 30, tzinfo=UTC)),
        ("Thu, 05 Nov 2026 10:30:00 -0000", datetime(2026, 11, 5, 10, 30, tzinfo=UTC)),
        ("05 Nov 2026 10:30:00", datetime(2026, 11, 5, 7, 30, tzinfo=UTC)),  # site's local time
        ("2026-11-05T10:30:00+03:00", datetime(2026, 11, 5, 7, 30, tzinfo=UTC)),
        ("2026-11-05 10:30:00", datetime(2026, 11, 5, 7, 30, tzinfo=UTC)),
        ("٢٠٢٦-١١-٠٥T10:30:00Z", datetime(2026, 11, 5, 10, 30, tzinfo=UTC)),
        ("yesterday evening", None),
        ("Thu, 45 Nov 2026 10:30:00 +0300", None),
    ],
)
def test_feed_dates_in_common_broken_forms(written: str, expected: datetime | None) -> None:
    content = rss(item(HOME + "archives/700001", written))
    [candidate] = parse_feed(content, FEED, "example", default_tz=PLUS3)
    assert candidate.published_hint == expected


def test_atom_entries_use_the_alternate_link_and_published_before_updated() -> None:
    content = f"""<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom">
      <title>المثال</title><link rel="self" href="{HOME}feed/atom/"/>
      <entry>
        <title type="xhtml">
          <div xmlns="http://www.w3.org/1999/xhtml">عنوان <b>الخبر</b></div>
        </title>
        <link rel="edit" href="{HOME}wp-json/posts/1"/>
        <link rel="alternate" type="text/html" href="{HOME}2026/11/first-story"/>
        <published>2026-11-05T10:00:00+02:00</published>
        <updated>2026-11-06T00:00:00Z</updated>
      </entry>
      <entry>
        <title>الثاني</title><link href="/2026/11/second-story"/>
        <updated>2026-11-04T09:00:00Z</updated>
      </entry>
      <entry><title>no link</title><link rel="enclosure" href="{HOME}audio.mp3"/></entry>
    </feed>""".encode()
    first, second = parse_feed(content, HOME + "feed/atom/", "example")
    assert (first.url, first.title_hint) == (HOME + "2026/11/first-story", "عنوان الخبر")
    assert first.published_hint == datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
    assert second.url == HOME + "2026/11/second-story"
    assert second.published_hint == datetime(2026, 11, 4, 9, 0, tzinfo=UTC)


def test_rss_1_rdf_items_with_dc_date() -> None:
    content = f"""<?xml version="1.0"?>
    <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
             xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="{FEED}"><title>المثال</title><link>{HOME}</link></channel>
      <item rdf:about="{HOME}archives/700010">
        <title>خبر من RDF</title><link>{HOME}archives/700010</link>
        <dc:date>2026-11-05T12:00:00+03:00</dc:date>
      </item>
    </rdf:RDF>""".encode()
    [candidate] = parse_feed(content, FEED, "example")
    assert candidate.url == HOME + "archives/700010"
    assert candidate.title_hint == "خبر من RDF"
    assert candidate.published_hint == datetime(2026, 11, 5, 9, 0, tzinfo=UTC)


def test_feedburner_original_link_wins_over_the_redirector() -> None:
    original = f"<feedburner:origLink>{HOME}archives/700011</feedburner:origLink>"
    content = rss(item("https://feeds.feedburner.example/~r/x/~3/abc/", extra=original))
    [candidate] = parse_feed(content, FEED, "example")
    assert candidate.url == HOME + "archives/700011"


def test_gzipped_feed_is_recognised_by_its_magic_number() -> None:
    content = gzip.compress(rss(item(HOME + "archives/700012")))
    assert [c.url for c in parse_feed(content, FEED, "example")] == [HOME + "archives/700012"]


def test_a_document_that_is_not_a_feed_is_a_discovery_error() -> None:
    with pytest.raises(DiscoveryError, match="not an RSS or Atom feed"):
        parse_feed(b"<html><body>Not found</body></html>", FEED, "example")


# --- sitemaps ----------------------------------------------------------------------------


def test_gzipped_google_news_sitemap_gives_publication_dates_not_lastmod() -> None:
    content = gzip.compress(urlset(
        url_entry(HOME + "archives/700020", "2026-11-06T00:00:00Z", "2026-11-05T09:00:00+03:00",
                  "خبر عاجل"),
        url_entry(HOME + "archives/700021", "2026-11-06T00:00:00Z"),
    ))
    doc = parse_sitemap(content, HOME + "news-sitemap.xml", "example")
    assert doc.children == []
    news, plain = doc.candidates
    assert (news.url, news.via) == (HOME + "archives/700020", "sitemap")
    assert news.title_hint == "خبر عاجل"
    assert news.published_hint == datetime(2026, 11, 5, 6, 0, tzinfo=UTC)
    assert plain.url == HOME + "archives/700021"
    assert plain.published_hint is None and plain.title_hint is None


def test_sitemap_entries_come_most_recently_modified_first() -> None:
    content = urlset(
        url_entry(HOME + "archives/1001", "2024-01-01"),
        url_entry(HOME + "archives/1002"),
        url_entry(HOME + "archives/1003", "2026-11-01"),
        url_entry("mailto:desk@news.example.org"),
    )
    doc = parse_sitemap(content, SITEMAP, "example")
    assert [c.url.rsplit("/", 1)[1] for c in doc.candidates] == ["1003", "1001", "1002"]


def test_sitemap_index_lists_children() -> None:
    doc = parse_sitemap(index(HOME + "post-sitemap.xml", "/page-sitemap.xml"), SITEMAP, "example")
    assert doc.candidates == []
    assert doc.children == [HOME + "post-sitemap.xml", HOME + "page-sitemap.xml"]


def test_plain_text_sitemap_lists_one_url_per_line() -> None:
    content = f"{HOME}archives/700030\n\n  {HOME}archives/700031  \nnot a url\n".encode()
    doc = parse_sitemap(gzip.compress(content), HOME + "sitemap.txt", "example")
    assert [c.url for c in doc.candidates] == [HOME + "archives/700030", HOME + "archives/700031"]


def test_a_binary_blob_is_not_a_sitemap() -> None:
    with pytest.raises(DiscoveryError):
        parse_sitemap(bytes(range(256)), SITEMAP, "example")


# --- hostile and broken documents --------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
        for n in range(1, 10)
    )
    + "]>\n<rss><channel><item><title>&lol9;</title>"
    f"<link>{HOME}archives/1</link></item></channel></rss>"
).encode()

EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    f"<rss><channel><item><title>&x;</title><link>{HOME}archives/1</link></item></channel></rss>"
).encode()


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "external"])
@pytest.mark.parametrize("parse", [parse_feed, parse_sitemap])
def test_entity_tricks_are_refused_without_expansion(hostile: bytes, parse: object) -> None:
    with pytest.raises(DiscoveryError) as caught:
        parse(hostile, FEED, "example")  # type: ignore[operator]
    assert "lollol" not in str(caught.value) and "root:" not in str(caught.value)


def test_gzip_bomb_stops_at_the_cap() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (8 * 1024 * 1024))
    with pytest.raises(DiscoveryError, match="beyond"):
        parse_sitemap(bomb, SITEMAP, "example", max_bytes=1024 * 1024)


def test_truncated_gzip_is_a_discovery_error() -> None:
    content = gzip.compress(urlset(url_entry(HOME + "archives/700040")))
    with pytest.raises(DiscoveryError, match="gzip"):
        parse_sitemap(content[: len(content) // 2], SITEMAP, "example")


def test_absurdly_deep_xml_is_handled() -> None:
    depth = 50_000
    title = "<b>" * depth + "x" + "</b>" * depth
    [candidate] = parse_feed(rss(item(HOME + "archives/700041", title=title)), FEED, "example")
    assert candidate.title_hint == "x"


XMLISH = st.lists(
    st.sampled_from([
        "<rss>", "</rss>", "<channel>", "</channel>", "<item>", "</item>", "<link>", "</link>",
        "<entry>", "</entry>", '<link href="', '"/>', "<urlset>", "</urlset>", "<url>", "</url>",
        "<loc>", "</loc>", "<sitemapindex>", "<sitemap>", "<pubDate>", "</pubDate>", "<guid>",
        "</guid>", "<news>", "<publication_date>", "</publication_date>", "<lastmod>",
        "</lastmod>", "http://", "https://news.example.org/", "/archives/1", "Thu, 05 Nov 2026",
        "10:00 +03:00", "9999-99-99", "0001-01-01T00:00:00+14:00", "&amp;", "&x;", "<!DOCTYPE x>",
        "<?xml version='1.0' encoding='utf-16'?>", "<?xml version='1.0' encoding='nope'?>",
        "javascript:", "%", "ا", "\x00", " ",
    ]),
    max_size=30,
).map(lambda tokens: "".join(tokens).encode("utf-8", "replace"))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), XMLISH, XMLISH.map(gzip.compress)))
def test_arbitrary_bytes_never_raise_anything_but_discovery_error(content: bytes) -> None:
    for parse in (parse_feed, parse_sitemap):
        with contextlib.suppress(DiscoveryError):
            parse(content, FEED, "example")  # type: ignore[operator]


# --- homepage links ----------------------------------------------------------------------

HOMEPAGE = f"""<!doctype html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>المثال</title></head>
<body>
<nav>
  <a href="/">الرئيسية</a> <a href="/category/politics/">سياسة</a>
  <a href="/tag/aleppo-news-today/">حلب</a> <a href="/author/staff-writer-one/">المحرر</a>
  <a href="/page/2">التالي</a> <a href="/about">من نحن</a> <a href="#top">أعلى</a>
  <a href="mailto:desk@news.example.org">راسلنا</a> <a href="javascript:void(0)">بحث</a>
  <a href="https://social.example/share?u=1">شارك</a>
</nav>
<main>
  <article><a href="/archives/700001"><img src="/wp-content/uploads/a.jpg" alt=""></a>
    <h2><a href="/archives/700001">  افتتاح   جسر جديد </a></h2></article>
  <article><h2><a href="{HOME}2026/11/market-prices-rise-again?utm_source=home">الأسعار</a></h2>
  </article>
  <article><h2><a href="politics/%D8%B2%D9%8A%D8%A7%D8%B1%D8%A9-%D8%AD%D9%84%D8%A8">زيارة</a></h2>
  </article>
</main>
</body></html>"""


def test_homepage_links_keep_articles_and_drop_navigation() -> None:
    candidates = extract_links(HOMEPAGE, HOME, HOME, "example")
    assert [(c.url, c.title_hint) for c in candidates] == [
        (HOME + "archives/700001", "افتتاح جسر جديد"),
        (HOME + "2026/11/market-prices-rise-again", "الأسعار"),
        (HOME + "politics/%D8%B2%D9%8A%D8%A7%D8%B1%D8%A9-%D8%AD%D9%84%D8%A8", "زيارة"),
    ]
    assert {c.via for c in candidates} == {"links"}


def test_links_resolve_against_the_base_element() -> None:
    page = '<html><head><base href="/ar/"></head><body><a href="archives/700050">x</a></body>'
    [candidate] = extract_links(page, HOME + "index.html", HOME, "example")
    assert candidate.url == HOME + "ar/archives/700050"


def test_deeply_nested_html_keeps_the_links_read_before_the_depth_limit() -> None:
    depth = 20_000
    page = (
        '<html><body><a href="/archives/700060">أول</a>' + "<div>" * depth
        + '<a href="/archives/700061">x</a>' + "</div>" * depth + "</body></html>"
    )
    urls = [c.url for c in extract_links(page, HOME, HOME, "example")]
    assert urls[0] == HOME + "archives/700060"


@pytest.mark.parametrize("page", ["", "   ", "\x00\x00", "<<<>>>"])
def test_empty_or_junk_html_gives_no_links(page: str) -> None:
    assert extract_links(page, HOME, HOME, "example") == []


# --- discover ----------------------------------------------------------------------------


def test_malformed_feed_is_recorded_while_other_feeds_still_yield() -> None:
    site = FakeSite({
        HOME + "broken.xml": b"<rss><channel><item><link>oops</channel>",
        FEED: rss(item(HOME + "archives/700070", "Thu, 05 Nov 2026 10:30:00 +0300")),
    })
    source = make_source(feeds=[HOME + "broken.xml", HOME + "missing.xml", FEED])
    result = discover(source, site, now=NOW)
    assert [c.url for c in result.candidates] == [HOME + "archives/700070"]
    bad, missing = result.failures
    assert (bad.url, bad.reason, bad.transient, bad.source_id) == (
        HOME + "broken.xml", "bad_feed", False, "example",
    )
    assert bad.detail
    assert (missing.reason, missing.status) == ("http_404", 404)
    assert result.documents == 2


def test_hostile_sitemap_is_recorded_as_bad_sitemap() -> None:
    site = FakeSite({SITEMAP: BILLION_LAUGHS})
    result = discover(make_source(sitemaps=[SITEMAP]), site, now=NOW)
    assert result.candidates == []
    assert [(f.reason, f.transient) for f in result.failures] == [("bad_sitemap", False)]


def test_an_unexpected_parser_error_is_recorded_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def crashing_parser(*args: object, **kwargs: object) -> list[Candidate]:
        raise KeyError("surprise")

    monkeypatch.setattr("rasid.discover.parse_feed", crashing_parser)
    result = discover(make_source(feeds=[FEED]), FakeSite({FEED: rss()}), now=NOW)
    [failure] = result.failures
    assert failure.reason == "bad_feed" and "KeyError" in failure.detail


def test_an_exception_without_a_failure_record_is_a_bug_and_surfaces() -> None:
    def broken_get(url: str) -> bytes:
        raise RuntimeError("programming error")

    with pytest.raises(RuntimeError):
        discover(make_source(feeds=[FEED]), broken_get, now=NOW)


def test_sitemap_index_recursion_terminates_on_self_reference_and_cycles() -> None:
    site = FakeSite({
        SITEMAP: index(SITEMAP, HOME + "post-sitemap.xml", HOME + "more.xml"),
        HOME + "more.xml": index(HOME + "sitemap.xml", HOME + "news.xml.gz"),
        HOME + "post-sitemap.xml": urlset(url_entry(HOME + "archives/700080")),
        HOME + "news.xml.gz": gzip.compress(urlset(url_entry(
            HOME + "archives/700081", news_date="2026-11-05T09:00:00Z", news_title="خبر"))),
    })
    result = discover(make_source(sitemaps=[SITEMAP]), site, now=NOW)
    assert sorted(site.requested) == sorted(site.documents)
    urls = {c.url for c in result.candidates}
    assert urls == {HOME + "archives/700080", HOME + "archives/700081"}
    assert result.failures == [] and result.skipped_sitemaps == []
    assert result.documents == 4


def test_sitemap_depth_and_count_limits_skip_and_say_so() -> None:
    site = FakeSite({
        SITEMAP: index(HOME + "level1.xml"),
        HOME + "level1.xml": index(HOME + "level2.xml"),
        HOME + "level2.xml": urlset(url_entry(HOME + "archives/700090")),
    })
    deep = discover(make_source(sitemaps=[SITEMAP]), site, max_depth=1, now=NOW)
    assert deep.candidates == [] and deep.skipped_sitemaps == [HOME + "level2.xml"]
    few = discover(make_source(sitemaps=[SITEMAP]), site, max_sitemaps=1, now=NOW)
    assert few.skipped_sitemaps == [HOME + "level1.xml"]


def test_merge_keeps_the_first_via_and_fills_a_missing_hint() -> None:
    site = FakeSite({
        FEED: rss(item(HOME + "archives/700100")),
        SITEMAP: urlset(url_entry(HOME + "archives/700100?utm_medium=x",
                                  news_date="2026-11-05T09:00:00Z")),
    })
    result = discover(make_source(feeds=[FEED], sitemaps=[SITEMAP]), site, now=NOW)
    assert result.candidates == [Candidate(
        HOME + "archives/700100", "example", "feed",
        datetime(2026, 11, 5, 9, 0, tzinfo=UTC), "خبر",
    )]


def test_only_same_site_candidates_are_kept() -> None:
    site = FakeSite({FEED: rss(
        item("https://www.news.example.org/archives/700110"),
        item("https://elsewhere.example/archives/700111"),
    )})
    result = discover(make_source(feeds=[FEED]), site, now=NOW)
    assert [c.url for c in result.candidates] == ["https://www.news.example.org/archives/700110"]


def test_cap_keeps_the_newest_and_future_dates_do_not_jump_the_queue() -> None:
    site = FakeSite({FEED: rss(
        item(HOME + "archives/700120", "Mon, 02 Nov 2026 10:00:00 GMT"),
        item(HOME + "archives/700121"),
        item(HOME + "archives/700122", "Fri, 06 Nov 2099 10:00:00 GMT"),
        item(HOME + "archives/700123", "Thu, 05 Nov 2026 10:00:00 GMT"),
        item(HOME + "archives/700124", "Wed, 04 Nov 2026 10:00:00 GMT"),
    )})
    result = discover(make_source(feeds=[FEED], max_articles_per_run=3), site, now=NOW)
    assert [c.url[-6:] for c in result.candidates] == ["700123", "700124", "700120"]


def test_cap_keeps_discovery_order_when_there_are_no_hints() -> None:
    site = FakeSite({FEED: rss(*(item(f"{HOME}archives/{n}") for n in range(700130, 700135)))})
    result = discover(make_source(feeds=[FEED], max_articles_per_run=2), site, now=NOW)
    assert [c.url[-6:] for c in result.candidates] == ["700130", "700131"]


def test_without_feeds_or_sitemaps_the_homepage_and_sections_are_scanned() -> None:
    section = HOME + "economy/"
    cp1256_page = (
        '<html><head><meta charset="windows-1256"></head><body>'
        '<p>أخبار الاقتصاد السوري والأسواق والأسعار اليوم في المدن السورية كلها</p>'
        '<a href="/economy/ارتفاع-أسعار-الذهب">ارتفاع أسعار الذهب في الأسواق</a>'
        "</body></html>"
    ).encode("cp1256")
    site = FakeSite({HOME: HOMEPAGE.encode("utf-8"), section: cp1256_page})
    result = discover(make_source(sections=[section]), site, now=NOW)
    assert site.requested == [HOME, section]
    assert result.documents == 2
    urls = [c.url for c in result.candidates]
    assert HOME + "archives/700001" in urls
    assert normalize_url("/economy/ارتفاع-أسعار-الذهب", HOME) in urls
    assert not any("category" in u or "tag" in u for u in urls)


def test_feeds_present_means_pages_are_not_scanned() -> None:
    site = FakeSite({FEED: rss(item(HOME + "archives/700140"))})
    discover(make_source(feeds=[FEED], sections=[HOME + "economy/"]), site, now=NOW)
    assert site.requested == [FEED]
