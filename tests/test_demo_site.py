"""The bundled demo news site: what each outlet serves, where the traps are, and its server."""

from __future__ import annotations

import gzip
import json
import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from html import unescape
from pathlib import Path

import defusedxml.ElementTree as safe_xml
import lxml.html
import pytest
import requests

from rasid.config import load_sources, parse_sources
from rasid.demo import content, plan
from rasid.demo import site as site_module
from rasid.demo.server import DemoServer
from rasid.demo.site import DEMO_HOSTS, DEMO_PORT, PAGES, SOURCE_NAMES, TRAPS, DemoPage, build_site

REPO = Path(__file__).resolve().parents[1]
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"
LEVANTINE_MONTH = re.compile("كانون|شباط|آذار|نيسان|أيار|حزيران|تموز|آب|أيلول|تشرين")
EGYPTIAN_MONTH = re.compile(
    "يناير|فبراير|مارس|أبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر"
)
Site = dict[str, dict[str, bytes]]  # rendered bodies by source id and path


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer(port=0) as server:
        yield server


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: loopback traffic only
        yield session


@pytest.fixture(scope="module")
def site() -> Site:
    """Rendered bodies by source id and path, without a server."""
    rendered = build_site(DEMO_PORT)
    return {sid: {path: r.body for path, r in rendered[f"{host}:{DEMO_PORT}"].items()}
            for sid, host in DEMO_HOSTS.items()}


def fetch(http: requests.Session, demo: DemoServer, source_id: str, path: str) -> requests.Response:
    return http.get(demo.base_url(source_id) + path, timeout=5)


def pages_with(trap: str) -> list[DemoPage]:
    return [p for p in PAGES if trap in p.traps]


def text_of(site: Site, page: DemoPage) -> str:
    charset = "cp1256" if "windows_1256" in page.traps else "utf-8"
    return site[page.source_id][page.path].decode(charset)


# --- over HTTP ------------------------------------------------------------------------------

@pytest.mark.parametrize("source_id", list(DEMO_HOSTS))
def test_each_outlet_has_a_homepage_with_headlines_most_read_and_footer(
    http: requests.Session, demo: DemoServer, source_id: str
) -> None:
    response = fetch(http, demo, source_id, "/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode("utf-8")
    newest = next(p for p in PAGES if p.source_id == source_id)
    assert newest.title in unescape(html)
    assert "الأكثر قراءة" in html and "شارك:" in html
    assert f"© 2026 {SOURCE_NAMES[source_id]} — جميع الحقوق محفوظة" in html


@pytest.mark.parametrize("source_id", list(DEMO_HOSTS))
def test_robots_allow_all_but_admin(
    http: requests.Session, demo: DemoServer, source_id: str
) -> None:
    response = fetch(http, demo, source_id, "/robots.txt")
    assert response.status_code == 200
    assert "User-agent: *" in response.text and "Disallow: /admin/" in response.text


def test_at_least_44_article_pages_over_three_sources_are_served_with_their_titles(
    http: requests.Session, demo: DemoServer
) -> None:
    assert len(PAGES) >= 44
    assert {p.source_id for p in PAGES} == set(DEMO_HOSTS)
    for page in PAGES:
        response = fetch(http, demo, page.source_id, page.path)
        assert response.status_code == 200, page.path
        charset = response.headers["Content-Type"].partition("charset=")[2]
        assert page.title in unescape(response.content.decode(charset)), page.path


def test_every_trap_path_is_served_and_the_missing_page_is_404(
    http: requests.Session, demo: DemoServer
) -> None:
    for trap, places in TRAPS.items():
        for source_id, path in places:
            expected = 404 if trap == "missing_page" else 200
            assert fetch(http, demo, source_id, path).status_code == expected, (trap, path)
    assert fetch(http, demo, "halab-online", "/no/such/page").status_code == 404


def test_sham_feed_lists_every_article_and_the_missing_page(
    http: requests.Session, demo: DemoServer
) -> None:
    response = fetch(http, demo, "sham-today", "/feed/")
    assert response.headers["Content-Type"].startswith("application/rss+xml")
    items = safe_xml.fromstring(response.content).findall("./channel/item")
    dates = {item.findtext("link"): item.findtext("pubDate") for item in items}
    base = demo.base_url("sham-today")
    expected = {base + p.path for p in PAGES if p.source_id == "sham-today"}
    assert set(dates) == expected | {base + TRAPS["missing_page"][0][1]}
    undated = {base + p.path for p in pages_with("levantine_dateline")}
    assert {link for link, date in dates.items() if date is None} == undated
    assert all(date.endswith("+0300") for date in dates.values() if date)


def test_furat_gzipped_news_sitemap_lists_the_exact_duplicate_pair_but_not_the_dateline_pages(
    http: requests.Session, demo: DemoServer
) -> None:
    base = demo.base_url("furat-post")
    index = safe_xml.fromstring(fetch(http, demo, "furat-post", "/sitemap.xml").content)
    children = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert children == [base + "/sitemap-news.xml.gz", base + "/sitemap-pages.xml"]

    packed = fetch(http, demo, "furat-post", "/sitemap-news.xml.gz").content
    news = safe_xml.fromstring(gzip.decompress(packed))
    listed = {loc.text for loc in news.iter(f"{SITEMAP}loc")}
    assert {base + path for _, path in TRAPS["exact_duplicate"]} <= listed
    eastern = {base + path for _, path in TRAPS["eastern_digits_dateline"]}
    assert not eastern & listed

    plain = safe_xml.fromstring(fetch(http, demo, "furat-post", "/sitemap-pages.xml").content)
    assert {loc.text for loc in plain.iter(f"{SITEMAP}loc")} == eastern
    atom = safe_xml.fromstring(fetch(http, demo, "furat-post", "/atom.xml").content)
    in_feed = {link.get("href") for link in atom.iter(f"{ATOM}link")}
    assert not eastern & in_feed
    assert {base + path for _, path in TRAPS["exact_duplicate"]} <= in_feed


def test_windows_1256_page_decodes_as_cp1256_and_not_as_utf8(
    http: requests.Session, demo: DemoServer
) -> None:
    (page,) = pages_with("windows_1256")
    response = fetch(http, demo, page.source_id, page.path)
    assert response.headers["Content-Type"] == "text/html; charset=windows-1256"
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    text = response.content.decode("cp1256")
    assert '<meta charset="windows-1256">' in text
    assert page.title in text and page.article.paragraphs[0] in text


def test_head_answers_headers_without_a_body(demo: DemoServer) -> None:
    # A raw socket: HTTP clients hide whether bytes followed the headers.
    with socket.create_connection((DEMO_HOSTS["sham-today"], demo.port), timeout=5) as sock:
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert int(re.search(rb"Content-Length: (\d+)", head).group(1)) > 1000
    assert rest == b""


# --- the server and its sources -------------------------------------------------------------

def test_a_taken_fixed_port_gives_a_clear_error(demo: DemoServer) -> None:
    message = f"port {demo.port} on {DEMO_HOSTS['sham-today']} is in use; pass --port"
    with pytest.raises(OSError, match=re.escape(message)):
        DemoServer(port=demo.port).start()


def test_stop_releases_every_address() -> None:
    with DemoServer(port=0) as server:
        port = server.port
    for host in DEMO_HOSTS.values():
        with socket.socket() as probe:
            assert probe.connect_ex((host, port)) != 0


def test_sources_point_at_the_running_port_and_round_trip_through_yaml(demo: DemoServer) -> None:
    sources = demo.sources()
    assert [s.id for s in sources] == list(DEMO_HOSTS)
    for source in sources:
        urls = [source.homepage, *source.feeds, *source.sitemaps, *source.sections]
        assert all(url.startswith(demo.base_url(source.id) + "/") for url in urls)
    assert parse_sources(demo.sources_yaml()) == sources
    assert demo.allowlist() == "127.0.0.11,127.0.0.12,127.0.0.13"


def test_both_sources_files_hold_the_same_three_demo_sources() -> None:
    bundled = load_sources(REPO / "src" / "rasid" / "demo" / "sources.yaml")
    assert load_sources(REPO / "sources.yaml") == bundled
    assert [(s.id, s.name, s.homepage) for s in bundled] == [
        (sid, SOURCE_NAMES[sid], f"http://{host}:{DEMO_PORT}/") for sid, host in DEMO_HOSTS.items()
    ]


# --- the rendered site ----------------------------------------------------------------------

def test_build_site_is_deterministic_and_carries_the_port() -> None:
    assert build_site(8471) == build_site(8471)
    other = build_site(9123)
    assert sorted(other) == [f"{host}:9123" for host in DEMO_HOSTS.values()]
    feed = other["127.0.0.11:9123"]["/feed/"].body.decode("utf-8")
    assert "http://127.0.0.11:9123/archives/" in feed and ":8471" not in feed


def test_halab_articles_are_all_linked_from_its_home_and_section_pages(site: Site) -> None:
    listings = [body for path, body in site["halab-online"].items()
                if path == "/" or path.startswith("/section/")]
    linked = {href for body in listings for href in lxml.html.fromstring(body).xpath("//a/@href")}
    base = f"http://{DEMO_HOSTS['halab-online']}:{DEMO_PORT}"
    assert {base + p.path for p in PAGES if p.source_id == "halab-online"} <= linked


def test_levantine_dateline_pages_have_no_machine_date_and_one_uses_the_short_month(
    site: Site
) -> None:
    pages = pages_with("levantine_dateline")
    assert len(pages) == 2 and {p.source_id for p in pages} == {"sham-today"}
    for page in pages:
        text = text_of(site, page)
        assert "published_time" not in text and "datetime=" not in text and "ld+json" not in text
        assert LEVANTINE_MONTH.search(text)
    short = [p for p in pages if p.dateline == "levantine-short"]
    assert len(short) == 1 and re.search(r"\d (?:تشرين|كانون) 2 2026", text_of(site, short[0]))
    dated = next(p for p in PAGES if p.source_id == "sham-today" and not p.traps)
    assert f'content="{dated.published.isoformat()}"' in text_of(site, dated)


def test_eastern_digit_dateline_pages_carry_no_json_ld(site: Site) -> None:
    pages = pages_with("eastern_digits_dateline")
    assert len(pages) == 2 and {p.dateline for p in pages} == {"eastern-words", "eastern-numeric"}
    for page in pages:
        text = text_of(site, page)
        assert "ld+json" not in text and "published_time" not in text
        assert re.search("[٠-٩]{4}", text)


def test_body_twice_page_repeats_the_whole_body_as_one_block(site: Site) -> None:
    (page,) = pages_with("body_twice")
    text = unescape(text_of(site, page))
    assert " ".join(page.article.paragraphs) in text
    assert all(text.count(p) == 2 for p in page.article.paragraphs)
    assert "published_time" in text


def test_syndicated_copy_is_a_lightly_edited_day_later_republication() -> None:
    by_place = {(p.source_id, p.path): p for p in PAGES}
    original, copy = (by_place[place] for place in TRAPS["syndicated"])
    assert (original.source_id, copy.source_id) == ("sham-today", "halab-online")
    assert copy.title != original.title
    assert copy.published == original.published + timedelta(days=1)
    assert copy.article.paragraphs[0] == "حلب - حلب أونلاين: " + original.article.paragraphs[0]
    assert len(copy.article.paragraphs) == len(original.article.paragraphs) - 1
    assert set(copy.article.paragraphs[1:]) < set(original.article.paragraphs)
    sham = sorted((p for p in PAGES if p.source_id == "sham-today"), key=lambda p: p.published)
    assert sham[4] == original  # the 5th by date


def test_exact_duplicate_pair_serves_the_same_story(site: Site) -> None:
    first, second = pages_with("exact_duplicate")
    assert second.path == first.path.replace(".html", "-amp.html")
    assert first.article == second.article

    def story(page: DemoPage) -> list[str]:
        doc = lxml.html.fromstring(text_of(site, page))
        parts = ('//div[@class="fp-story__body"]', '//span[@class="fp-story__date"]')
        jsonld = json.loads(doc.xpath('string(//script[@type="application/ld+json"])'))
        return [doc.xpath(f"string({xpath})") for xpath in parts] + [jsonld["datePublished"]]

    assert story(first) == story(second)


def test_no_date_page_shows_only_the_copyright_year(site: Site) -> None:
    (page,) = pages_with("no_date")
    assert page.published is None and page.source_id == "halab-online"
    text = text_of(site, page)
    assert text.count("2026") == 1 and "© 2026" in text
    assert not EGYPTIAN_MONTH.search(text) and not LEVANTINE_MONTH.search(text)


def test_english_page_uses_english_template_wording(site: Site) -> None:
    (page,) = pages_with("english_page")
    text = text_of(site, page)
    assert page.language == "en" and '<html lang="en" dir="ltr">' in text
    assert "Share:" in text and "All rights reserved" in text and "شارك" not in text


def test_halab_article_pages_have_comments_a_comment_form_and_most_read(site: Site) -> None:
    halab = [p for p in PAGES if p.source_id == "halab-online"]
    assert [(p.source_id, p.path) for p in halab] == TRAPS["comments_and_most_read"]
    for page in halab:
        text = text_of(site, page)
        assert "أضف تعليق" in text and "الحقول المطلوبة مشار إليها بـ *" in text
        assert 2 <= text.count('<li class="hl-comment">') <= 3
        assert "الأكثر قراءة" in text and text.count('class="hl-most-read__item"') == 5


# --- the data behind it -----------------------------------------------------------------------

def test_every_article_file_entry_is_served_and_no_page_is_made_up() -> None:
    for source_id in DEMO_HOSTS:
        served = {p.article.key for p in PAGES if p.source_id == source_id}
        written = {a.key for a in content.articles(source_id)}
        # halab-online also serves its day-later copy of a sham-today story.
        made = {k for k in served - written if k.endswith("-damascus")}
        assert served - made == written and len(made) == (source_id == "halab-online")


def test_a_misspelt_field_in_an_article_entry_fails_by_name() -> None:
    entry = {"key": "1", "title": "عنوان", "paragraphs": ["نص"], "published": None}
    assert content.DemoArticle.from_entry(entry).section == "local"
    with pytest.raises(TypeError, match="sektion"):
        content.DemoArticle.from_entry({**entry, "sektion": "sport"})


def test_titles_from_the_data_stay_text_in_every_template() -> None:
    hostile = content.DemoArticle("x1", '<blink>"عنوان" & \'ما\'</blink>', ("<marquee>نص",), None)
    page = DemoPage("halab-online", "/article/x1", hostile, ("no_date",))
    html = site_module.environment().get_template("halab-online/article.html.j2").render(
        outlet=site_module._Halab(DEMO_PORT, [page]), page=page)
    assert "<blink>" not in html and "<marquee>" not in html
    assert "&lt;blink&gt;&#34;عنوان&#34; &amp; &#39;ما&#39;" in html and "&lt;marquee&gt;نص" in html


def test_an_added_article_leaves_every_other_page_as_it_was() -> None:
    # Adding an article is adding an entry: it gets a page, and no trap moves to another page.
    sham = content.articles("sham-today")
    before = {p.article.key: (p.traps, p.dateline) for p in plan._plan_sham(sham)}
    oldest = content.DemoArticle("700001", "خبر أقدم من كل ما سبق", ("نص الخبر.",),
                                 "2026-08-01T09:00:00+03:00")
    after = {p.article.key: (p.traps, p.dateline) for p in plan._plan_sham((oldest, *sham))}
    assert after.pop("700001") == ((), "levantine") and after == before
    with pytest.raises(ValueError, match="no such trap"):
        plan._plan_sham((replace(oldest, trap="on_fire"), *sham))
