"""URL normalisation gives one identity per article; the URL heuristics tell articles apart."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from rasid.fetch.hosts import host_key
from rasid.urls import looks_like_article, normalize_url, same_site, url_id

HOME = "https://news.example.org/"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  HTTPS://News.Example.ORG:443/a/b  ", "https://news.example.org/a/b"),
        ("http://news.example.org:80", "http://news.example.org/"),
        ("http://news.example.org:8080/x", "http://news.example.org:8080/x"),
        ("https://news.example.org/a/b#comments", "https://news.example.org/a/b"),
        ("https://news.example.org//a///b/", "https://news.example.org/a/b/"),
        ("https://news.example.org/a/./b/../c", "https://news.example.org/a/c"),
        ("https://news.example.org/a/b/..", "https://news.example.org/a/"),
        ("https://news.example.org/%7euser/%2e%2e/x", "https://news.example.org/x"),
        ("https://news.example.org/a%2fb", "https://news.example.org/a%2Fb"),
        ("https://news.example.org/100%", "https://news.example.org/100%25"),
        ("https://news.example.org/?", "https://news.example.org/"),
        ("https://user:secret@news.example.org/a", "https://news.example.org/a"),
        ("http://مثال.إختبار/", "http://xn--mgbh0fb.xn--kgbechtv/"),
        ("http://[::1]:8000/x", "http://[::1]:8000/x"),
    ],
)
def test_normalize_url_spelling_variants(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


def test_trailing_slash_is_kept_as_the_site_wrote_it() -> None:
    assert normalize_url(HOME + "news/1234/") != normalize_url(HOME + "news/1234")


def test_tracking_parameters_go_and_meaningful_ones_stay_sorted() -> None:
    raw = (
        HOME + "?utm_source=tw&UTM_Medium=social&fbclid=abc&gclid=1&mc_cid=2&mc_eid=3"
        "&yclid=4&_ga=5&igshid=6&ref_src=twsrc&spm=a.b&at_medium=x&at_campaign=y&p=123&id=9"
    )
    assert normalize_url(raw) == HOME + "?id=9&p=123"


def test_query_parameters_are_sorted_and_empty_pieces_dropped() -> None:
    assert normalize_url(HOME + "story?b=2&&a=1&c") == HOME + "story?a=1&b=2&c"


def test_arabic_slug_spellings_share_one_url_and_one_id() -> None:
    spellings = [
        HOME + "أخبار/سوريا-اليوم",
        HOME + "%d8%a3%d8%ae%d8%a8%d8%a7%d8%b1/%d8%b3%d9%88%d8%b1%d9%8a%d8%a7-"
        "%d8%a7%d9%84%d9%8a%d9%88%d9%85",
        HOME + "%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/%D8%B3%D9%88%D8%B1%D9%8A%D8%A7-"
        "%D8%A7%D9%84%D9%8A%D9%88%D9%85",
    ]
    assert len({normalize_url(s) for s in spellings}) == 1
    assert len({url_id(s) for s in spellings}) == 1
    assert normalize_url(spellings[0]).isascii()


def test_relative_links_resolve_against_the_base() -> None:
    assert normalize_url("../../archives/700001", HOME + "news/today/") == HOME + "archives/700001"
    assert normalize_url("//news.example.org/x", HOME) == HOME + "x"


def test_wordpress_numeric_permalinks_are_kept() -> None:
    assert normalize_url(HOME + "archives/700001") == HOME + "archives/700001"
    assert normalize_url(HOME + "?p=123") == HOME + "?p=123"


@pytest.mark.parametrize(
    "bad",
    ["mailto:desk@example.org", "javascript:void(0)", "ftp://example.org/f", "//example.org/x",
     "http://", "http://exa mple.org/", "http://example.org:99999/", "http://[nonsense]/", ""],
)
def test_non_http_or_unparseable_urls_raise_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_url(bad)


def test_url_id_is_32_hex_digits_of_the_normalised_url() -> None:
    ident = url_id(HOME + "a?utm_source=x")
    assert ident == url_id("HTTPS://NEWS.example.org:443/a")
    assert len(ident) == 32 and int(ident, 16) >= 0
    assert ident != url_id(HOME + "b")


@pytest.mark.parametrize(
    ("url", "homepage", "expected"),
    [
        ("https://www.news.example.org/a", HOME, True),
        ("http://news.example.org/a", "https://www.news.example.org/", True),
        ("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/", True),
        ("http://127.0.0.2:8000/a", "http://127.0.0.1:8000/", False),
        ("http://127.0.0.1:8001/a", "http://127.0.0.1:8000/", False),
        ("https://cdn.news.example.org/a", HOME, False),
        ("https://other.example/a", HOME, False),
        ("not a url", HOME, False),
    ],
)
def test_same_site(url: str, homepage: str, expected: bool) -> None:
    assert same_site(url, homepage) is expected


@pytest.mark.parametrize(
    "path",
    [
        "archives/700001",
        "article/12345-minister-visits-aleppo",
        "news/some-story-123456.html",
        "?p=123",
        "news.php?id=42",
        "2026/11/opening-of-the-new-bridge",
        "2026/11/05/bridge",
        "politics/minister-visits-aleppo-today",
        "politics/%D8%B2%D9%8A%D8%A7%D8%B1%D8%A9-%D8%AD%D9%84%D8%A8",  # زيارة-حلب
        "politics/story.html",
    ],
)
def test_article_urls_are_recognised(path: str) -> None:
    assert looks_like_article(HOME + path, HOME)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "tag/syria-news-today",
        "category/politics/local-news-items",
        "author/some-writer-name",
        "section/economy/",
        "page/2",
        "news/page/2",
        "search?q=aleppo",
        "?s=aleppo",
        "login",
        "feed/",
        "2026/11/some-long-story-title/feed/",
        "wp-content/uploads/2026/11/photo-of-the-day.jpg",
        "static/app-main-bundle.js",
        "files/annual-report-2026.pdf",
        "sitemap-posts-1.xml",
        "archives/700001?replytocom=55",
        "2026/11/",
        "2026/11/05/",
        "archives/2026",
        "about",
        "politics/",
        "politics/economy",
        "%D9%88%D8%B3%D9%85/%D8%B3%D9%88%D8%B1%D9%8A%D8%A7-%D8%A7%D9%84%D9%8A%D9%88%D9%85",  # وسم/…
    ],
)
def test_non_article_urls_are_rejected(path: str) -> None:
    assert not looks_like_article(HOME + path, HOME)


@pytest.mark.parametrize(
    "url",
    ["https://other.example/archives/700001", "mailto:desk@news.example.org",
     "javascript:openStory(700001)"],
)
def test_off_site_and_non_http_links_are_not_articles(url: str) -> None:
    assert not looks_like_article(url, HOME)


_url_parts = st.sampled_from(
    ["http://", "https://", "HTTP://", "ftp://", "//", "", "news.example.org", "WWW.EX.org",
     "مثال.إختبار", ":80", ":8080", ":x", "[::1]", "/", "//", "/./", "/../", "%", "%d8%a7",
     "%D8%A7", "%2e", "%7E", "ا", "?", "&", "=", "#", "p=1", "utm_source=x", " ", "\t", "@",
     "a", "archives", "700001", "\\", "%25", "+", ";", "~", "é"]
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(_url_parts, max_size=12).map("".join), st.text(max_size=60)))
def test_normalize_url_is_idempotent_and_only_raises_value_error(raw: str) -> None:
    try:
        once = normalize_url(raw)
    except ValueError:
        return
    assert normalize_url(once) == once
    assert once.isascii()


@settings(max_examples=200, deadline=None)
@given(st.lists(_url_parts, max_size=10).map("".join), st.text(max_size=30))
def test_relative_resolution_only_raises_value_error(base: str, href: str) -> None:
    try:
        once = normalize_url(href, base)
    except ValueError:
        return
    assert normalize_url(once) == once


# --- one URL identity: UTS 46 host names -------------------------------------------------------

# Computed with the normaliser as it was before host names went through UTS 46 (IDNA 2003 by
# Python's codec): lakes written then hold these ids, and they must still match.
EARLIER_IDS = {
    "https://www.sana.sy/?p=2145678": "073f42f13ab6f4e01a385a815cb7d1a2",
    "HTTPS://Example.COM:443/a/b/../c/./d.html?utm_source=x&b=2&a=1#frag":
        "8d9bf90c422dacc59e834bce4efb8e4d",
    "http://news.example:8080/2026/11/05/slug-of-story/": "7d737b48ed1acdf4c2b22fe18b65b5e7",
    "https://www.enabbaladi.net/archives/700070": "a613a1023ea482ed9642850275bfaed9",
    "https://aljazeera.net/news/politics/2026/12/2/%d8%b3%d9%88%d8%b1%d9%8a%d8%a7":
        "10465b73db3121e84d761fe1d837d633",
    "https://syria.tv/سوريا-اليوم-خبر": "611d23fac1c27da9ff9af3cb21128920",
    "http://127.0.0.1:8471/news/1001.html": "c2d544f10e94be7d37af4a7ad7b4d66a",
    "http://[::1]:8000/x": "c1c918f4bee8474ba538555246602bc8",
    "https://xn--mgbh0fb.xn--kgbechtv/article/1": "ba32f1cf75d7a5eabadf0ef54b5fd63f",
    "https://user:pw@Sub.Domain.example./path//to///page?id=5&fbclid=abc":
        "262dde78fd574e66067a526494cd93eb",
    # A name both IDNA versions encode alike keeps its id too.
    "https://مثال.إختبار/خبر/1": "0c464d571108dd89b03128254c488276",
}


@pytest.mark.parametrize(("url", "earlier"), EARLIER_IDS.items())
def test_ids_of_urls_stored_earlier_do_not_change(url: str, earlier: str) -> None:
    assert url_id(url) == earlier


@pytest.mark.parametrize("host", [
    "نامه‌نگار.ir",  # a zero-width non-joiner: IDNA 2003 drops it and names another host
    "faß.de",  # IDNA 2003 maps ß to ss
    "مثال.إختبار",
    "ΣΊΣΥΦΟΣ.gr",  # a label-final sigma
])
def test_a_host_is_named_as_requests_sends_it(host: str) -> None:
    wire = requests.Request("GET", f"https://{host}/a").prepare().url
    assert normalize_url(f"https://{host}/a") == wire
    assert host_key(f"https://www.{host}/a") == urlsplit(wire).hostname


def test_uts46_mapping_makes_a_host_requests_refuses_fetchable() -> None:
    assert normalize_url("https://ＥＸＡＭＰＬＥ。com/a") == "https://example.com/a"


def test_the_zero_width_non_joiner_makes_another_host() -> None:
    with_zwnj, without = normalize_url("https://نامه‌نگار.ir/"), normalize_url("https://نامهنگار.ir/")
    assert with_zwnj == "https://xn--mgba4a4edcg74fu38n.ir/" and with_zwnj != without
    assert normalize_url(with_zwnj) == with_zwnj


def test_a_host_uts46_refuses_is_not_a_url() -> None:
    with pytest.raises(ValueError):
        normalize_url("https://a\u200db.example/")  # a joiner where the rules allow none
