"""The fetcher against a real HTTP server on 127.0.0.1.

Timing claims (retry waits, politeness gaps) are checked with the server's own record of
when each request arrived, never by timing the client.
"""

from __future__ import annotations

import functools
import gzip
import socket
import threading
import time
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from rasid import USER_AGENT
from rasid.config import Settings, Source
from rasid.fetch import Fetcher, FetchError, GuardedAdapter, decode_html
from rasid.fetch import connection as fetch_module
from rasid.models import Candidate, FetchFailure, Page
from rasid.netguard import AddressGuard, BlockedAddress

ARABIC = "أعلن المجلس البلدي اليوم عن افتتاح حديقة جديدة قرب النهر"
# Server and client clocks differ by the time a request takes to cross loopback and reach
# the handler; this slack keeps the timing assertions about the fetcher, not the scheduler.
CLOCK_SLACK = 0.05


def _html(charset_meta: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head>{charset_meta}<title>خبر</title></head>"
        f"<body><article><p>{ARABIC}.</p></article></body></html>"
    )


@functools.cache
def _gzip_bomb() -> bytes:
    """50 MB of zeros, gzip-compressed to about 50 KB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    return b"".join([compressor.compress(zeros) for _ in range(50)] + [compressor.flush()])


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


class Site:
    """A test site: routes by path, a record of every request with its arrival time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, float]] = []
        self.user_agents: set[str] = set()
        self.counts: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.robots: tuple[int, str] = (404, "")
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.site = self  # type: ignore[attr-defined]
        self.port = self.server.server_port
        self.base = f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def times(self, path: str) -> list[float]:
        return [when for seen, when in self.requests if seen == path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

    def do_GET(self) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        with site.lock:
            site.requests.append((path, time.monotonic()))
            site.user_agents.add(self.headers.get("User-Agent", ""))
            site.counts[path] += 1
            count = site.counts[path]
        route = ROUTES.get(path) or ROUTES.get(path.rsplit("/", 1)[0] + "/*", _not_found)
        route(self, site, count)

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


Route = Callable[[_Handler, Site, int], None]
HTML_UTF8 = {"Content-Type": "text/html; charset=utf-8"}


def _ok(handler: _Handler, site: Site, count: int) -> None:
    handler.reply(200, _html().encode("utf-8"), HTML_UTF8)


def _not_found(handler: _Handler, site: Site, count: int) -> None:
    handler.reply(404, b"no such page", {"Content-Type": "text/plain"})


def _robots(handler: _Handler, site: Site, count: int) -> None:
    status, text = site.robots
    handler.reply(status, text.encode(), {"Content-Type": "text/plain"})


def _status_then_ok(status: int, headers: dict[str, str] | None = None) -> Route:
    def route(handler: _Handler, site: Site, count: int) -> None:
        if count == 1:
            handler.reply(status, b"try later", headers)
        else:
            _ok(handler, site, count)

    return route


def _always(status: int, headers: dict[str, str] | None = None) -> Route:
    return lambda handler, site, count: handler.reply(status, b"", headers)


def _redirect(location: Callable[[_Handler, Site], str]) -> Route:
    def route(handler: _Handler, site: Site, count: int) -> None:
        handler.reply(302, b"", {"Location": location(handler, site)})

    return route


def _chain(handler: _Handler, site: Site, count: int) -> None:
    """/chain/N redirects N times before serving the page."""
    hops = int(handler.path.rsplit("/", 1)[1])
    if hops == 0:
        _ok(handler, site, count)
    else:
        handler.reply(302, b"", {"Location": f"/chain/{hops - 1}"})


def _drip(handler: _Handler, site: Site, count: int) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", "400")
    handler.end_headers()
    try:
        for _ in range(400):
            handler.wfile.write(b"a")
            time.sleep(0.02)
    except OSError:  # the client gave up, as it should
        pass


def _drip_headers(handler: _Handler, site: Site, count: int) -> None:
    """A status line, then a header one byte every 0.1 s: each read is quick, the whole never."""
    try:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        handler.wfile.flush()
        for byte in b"X-Slow: " + b"a" * 200:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.1)
    except OSError:  # the client gave up, as it should
        pass


def _slow(handler: _Handler, site: Site, count: int) -> None:
    with site.lock:
        site.in_flight += 1
        site.max_in_flight = max(site.max_in_flight, site.in_flight)
    time.sleep(0.2)
    with site.lock:
        site.in_flight -= 1
    _ok(handler, site, count)


def _typed(content_type: str | None, body: bytes, encoding: str | None = None) -> Route:
    headers = {"Content-Type": content_type} if content_type else {}
    if encoding:
        headers["Content-Encoding"] = encoding
    return lambda handler, site, count: handler.reply(200, body, headers)


def _in_an_hour() -> str:
    return format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)


ROUTES: dict[str, Route] = {
    "/robots.txt": _robots,
    "/ok": _ok,
    "/private/*": _ok,
    "/cp1256": _typed("text/html; charset=windows-1256", _html().encode("cp1256")),
    "/lying": _typed("text/html; charset=iso-8859-1", _html().encode("utf-8")),
    "/meta": _typed("text/html", _html('<meta charset="windows-1256">').encode("cp1256")),
    "/unlabelled": _typed(None, _html().encode("utf-8")),
    "/gzipped": _typed("text/html; charset=utf-8", gzip.compress(_html().encode()), "gzip"),
    "/bomb": lambda h, s, c: _typed("text/html", _gzip_bomb(), "gzip")(h, s, c),
    "/png": _typed("text/html", PNG),
    "/pdf": _typed("text/html; charset=utf-8", b"%PDF-1.7\n" + bytes(200)),
    "/json": _typed("application/json", b'{"html": "<html></html>"}'),
    "/sitemap.xml.gz": _typed("application/gzip", gzip.compress(b"<urlset></urlset>")),
    "/flaky": _status_then_ok(500),
    "/down": _always(503),
    "/busy": _status_then_ok(429, {"Retry-After": "1"}),
    "/busy-long": _always(429, {"Retry-After": "3600"}),
    "/busy-date": lambda h, s, c: h.reply(429, b"", {"Retry-After": _in_an_hour()}),
    "/chain/*": _chain,
    "/loop/a": _redirect(lambda h, s: "/loop/b"),
    "/loop/b": _redirect(lambda h, s: f"{s.base}/loop/a"),
    "/escape": _redirect(lambda h, s: f"http://127.0.0.2:{s.port}/ok"),
    "/drip": _drip,
    "/drip-headers": _drip_headers,
    "/slow": _slow,
}


@pytest.fixture
def site() -> Iterator[Site]:
    site = Site()
    thread = threading.Thread(target=site.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


def make_fetcher(**overrides: Any) -> Fetcher:
    values: dict[str, Any] = {
        "allow_private_hosts": "127.0.0.1",
        "user_agent": None,
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "response_deadline": 3.0,
        "max_response_bytes": 1_000_000,
        "max_retries": 2,
        "max_retry_after": 5.0,
    }
    values.update(overrides)
    return Fetcher(Settings(**values))


def make_source(site: Site, **overrides: Any) -> Source:
    values: dict[str, Any] = {
        "id": "test-site",
        "name": "Test site",
        "homepage": site.base + "/",
        "min_delay_seconds": 0,
        "max_concurrency": 4,
    }
    values.update(overrides)
    return Source(**values)


def candidate(site: Site, path: str, source_id: str = "test-site") -> Candidate:
    return Candidate(url=site.base + path, source_id=source_id, via="feed")


def fetch_failure(fetcher: Fetcher, site: Site, path: str, **source: Any) -> FetchFailure:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch_page(candidate(site, path), make_source(site, **source))
    return caught.value.failure


# --- pages and encodings ----------------------------------------------------------------------


def test_page_keeps_raw_response_and_decoded_text(site: Site) -> None:
    cand = candidate(site, "/ok")
    page = make_fetcher().fetch_page(cand, make_source(site))

    assert isinstance(page, Page)
    assert (page.url, page.final_url, page.status) == (cand.url, cand.url, 200)
    assert page.source_id == "test-site" and page.candidate is cand
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.content == _html().encode("utf-8")
    assert ARABIC in page.html
    assert (page.encoding, page.encoding_source) == ("utf-8", "http")
    assert page.fetched_at.tzinfo is not None and page.fetched_at.utcoffset() == timedelta(0)
    assert site.user_agents == {USER_AGENT}


@pytest.mark.parametrize(
    ("path", "encoding", "encoding_source"),
    [
        ("/cp1256", "cp1256", "http"),
        ("/lying", "utf-8", "detected"),  # says iso-8859-1, is UTF-8
        ("/meta", "cp1256", "meta"),
        ("/unlabelled", "utf-8", "detected"),  # no Content-Type at all: sniffed as HTML
    ],
)
def test_pages_are_decoded_with_the_charset_that_fits(
    site: Site, path: str, encoding: str, encoding_source: str
) -> None:
    page = make_fetcher().fetch_page(candidate(site, path), make_source(site))
    assert ARABIC in page.html
    assert (page.encoding, page.encoding_source) == (encoding, encoding_source)


def test_gzip_content_encoding_is_undone(site: Site) -> None:
    page = make_fetcher().fetch_page(candidate(site, "/gzipped"), make_source(site))
    assert page.content == _html().encode("utf-8")
    assert ARABIC in page.html


@pytest.mark.parametrize("path", ["/png", "/pdf", "/json"])
def test_binary_or_non_html_bodies_are_not_pages(site: Site, path: str) -> None:
    failure = fetch_failure(make_fetcher(), site, path)
    assert (failure.reason, failure.transient) == ("not_html", False)


def test_fetch_document_undoes_content_encoding_but_not_gzip_files(site: Site) -> None:
    fetcher, source = make_fetcher(), make_source(site)
    assert fetcher.fetch_document(site.base + "/gzipped", source) == _html().encode("utf-8")
    sitemap = fetcher.fetch_document(site.base + "/sitemap.xml.gz", source)
    assert gzip.decompress(sitemap) == b"<urlset></urlset>"  # discovery inflates it, capped


def test_fetch_document_failure_names_url_and_source(site: Site) -> None:
    with pytest.raises(FetchError) as caught:
        make_fetcher().fetch_document(site.base + "/missing.xml", make_source(site))
    failure = caught.value.failure
    assert (failure.url, failure.source_id, failure.reason) == (
        site.base + "/missing.xml", "test-site", "http_404"
    )


# --- status codes and retries -----------------------------------------------------------------


def test_404_is_a_permanent_failure_without_retry(site: Site) -> None:
    failure = fetch_failure(make_fetcher(), site, "/missing")
    assert (failure.reason, failure.transient, failure.status) == ("http_404", False, 404)
    assert site.counts["/missing"] == 1


def test_a_500_is_retried_and_the_retry_succeeds(site: Site) -> None:
    page = make_fetcher().fetch_page(candidate(site, "/flaky"), make_source(site))
    assert page.status == 200
    assert site.counts["/flaky"] == 2


def test_a_503_that_persists_is_transient_after_all_retries(site: Site) -> None:
    failure = fetch_failure(make_fetcher(max_retries=1), site, "/down")
    assert (failure.reason, failure.transient, failure.status) == ("http_503", True, 503)
    assert failure.attempts == 2
    assert site.counts["/down"] == 2


def test_429_waits_at_least_retry_after_before_retrying(site: Site) -> None:
    page = make_fetcher().fetch_page(candidate(site, "/busy"), make_source(site))
    assert page.status == 200
    first, second = site.times("/busy")
    assert second - first >= 1.0


@pytest.mark.parametrize("path", ["/busy-long", "/busy-date"])
def test_retry_after_beyond_the_cap_gives_up_and_pauses_the_host(site: Site, path: str) -> None:
    fetcher = make_fetcher(max_retry_after=5.0)
    failure = fetch_failure(fetcher, site, path)
    assert (failure.reason, failure.transient) == ("http_429", True)
    assert site.counts[path] == 1

    # The host asked for an hour: the next page of the same host is not even requested.
    later = fetch_failure(fetcher, site, "/ok")
    assert (later.reason, later.transient) == ("rate_limited", True)
    assert site.counts["/ok"] == 0


# --- redirects and the guard ------------------------------------------------------------------


def test_redirects_are_followed_to_the_final_url(site: Site) -> None:
    cand = candidate(site, "/chain/3")
    page = make_fetcher().fetch_page(cand, make_source(site))
    assert page.url == cand.url
    assert page.final_url == site.base + "/chain/0"


def test_ten_redirects_are_followed_and_eleven_are_too_many(site: Site) -> None:
    fetcher = make_fetcher()
    assert fetcher.fetch_page(candidate(site, "/chain/10"), make_source(site)).status == 200
    failure = fetch_failure(fetcher, site, "/chain/11")
    assert (failure.reason, failure.transient) == ("too_many_redirects", False)


def test_redirect_loop_is_detected(site: Site) -> None:
    failure = fetch_failure(make_fetcher(), site, "/loop/a")
    assert failure.reason == "redirect_loop"
    assert site.counts["/loop/a"] == 1 and site.counts["/loop/b"] == 1


def test_redirect_to_a_loopback_address_outside_the_allowlist_is_refused(site: Site) -> None:
    failure = fetch_failure(make_fetcher(allow_private_hosts="127.0.0.1"), site, "/escape")
    # Nothing listens on 127.0.0.2: had the fetcher tried to connect, this would be a
    # connection_error. "blocked_address" means it stopped before connecting.
    assert (failure.reason, failure.transient) == ("blocked_address", False)
    assert "127.0.0.2" in failure.detail


def test_first_request_to_a_private_address_is_refused(site: Site) -> None:
    failure = fetch_failure(make_fetcher(allow_private_hosts=""), site, "/ok")
    assert failure.reason == "blocked_address"
    assert site.requests == []  # not even robots.txt


def _guarded_session(allow: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", GuardedAdapter(AddressGuard(allow)))
    return session


def test_adapter_refuses_a_connection_that_reached_a_blocked_address(site: Site) -> None:
    # What DNS rebinding would produce: the URL passed no check, the socket says loopback.
    with pytest.raises(BlockedAddress, match="127.0.0.1"):
        _guarded_session("").get(site.base + "/ok", timeout=2)
    assert site.requests == []  # not a byte of the request was sent


def test_adapter_lets_allowlisted_connections_through(site: Site) -> None:
    assert _guarded_session("127.0.0.1").get(site.base + "/ok", timeout=2).status_code == 200
    assert site.paths() == ["/ok"]


# --- limits -----------------------------------------------------------------------------------


def test_gzip_bomb_stops_at_the_cap_without_inflating_in_memory(site: Site) -> None:
    fetcher = make_fetcher(max_response_bytes=1_000_000)
    tracemalloc.start()
    try:
        failure = fetch_failure(fetcher, site, "/bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (failure.reason, failure.transient) == ("too_large", False)
    assert peak < 10_000_000  # the bomb inflates to 50 MB


def test_slow_drip_body_hits_the_deadline(site: Site) -> None:
    failure = fetch_failure(make_fetcher(response_deadline=0.5, read_timeout=2.0), site, "/drip")
    assert (failure.reason, failure.transient) == ("deadline_exceeded", True)
    assert site.counts["/drip"] == 1


def test_headers_dripped_a_byte_at_a_time_hit_the_deadline(site: Site) -> None:
    # Every read gets a byte well within the read timeout; only the deadline ends the wait.
    started = time.monotonic()
    failure = fetch_failure(
        make_fetcher(response_deadline=0.6, read_timeout=2.0, max_retries=0), site, "/drip-headers")
    assert (failure.reason, failure.transient) == ("deadline_exceeded", True)
    assert time.monotonic() - started < 15  # the dripped header alone would take 20 s


def test_the_deadline_watchdog_shuts_only_what_is_due() -> None:
    watchdog = fetch_module._Watchdog()
    late, late_peer = socket.socketpair()
    early, early_peer = socket.socketpair()
    cancelled, cancelled_peer = socket.socketpair()
    try:
        now = time.monotonic()
        watchdog.arm(late, now + 30)
        key = watchdog.arm(cancelled, now + 0.2)
        watchdog.arm(early, now + 0.3)  # earlier than what the thread sleeps towards
        watchdog.disarm(key)
        early.settimeout(5)
        assert early.recv(1) == b""  # shut by the watchdog: the read ends at once
        assert time.monotonic() - now < 5
        for sock in (late, cancelled):
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):  # still open: nothing arrives, nothing ends it
                sock.recv(1)
    finally:
        for sock in (late, late_peer, early, early_peer, cancelled, cancelled_peer):
            sock.close()


# --- robots.txt -------------------------------------------------------------------------------


def test_robots_disallowed_page_is_never_requested(site: Site) -> None:
    site.robots = (200, "User-agent: *\nDisallow: /private/\n")
    fetcher = make_fetcher()
    failure = fetch_failure(fetcher, site, "/private/report")
    assert (failure.reason, failure.transient) == ("robots_disallowed", False)
    assert fetcher.fetch_page(candidate(site, "/ok"), make_source(site)).status == 200
    assert "/private/report" not in site.paths()
    assert site.counts["/robots.txt"] == 1  # fetched once per host


@pytest.mark.parametrize(
    ("robots", "allowed"),
    [
        ((404, ""), True),
        ((401, ""), True),  # RFC 9309: every 4xx means "no robots.txt"
        ((403, ""), True),
        ((200, "User-agent: rasid\nDisallow: /\n"), False),
        ((200, "User-agent: otherbot\nDisallow: /\n"), True),
    ],
)
def test_robots_status_and_rules_decide_access(
    site: Site, robots: tuple[int, str], allowed: bool
) -> None:
    site.robots = robots
    fetcher = make_fetcher(max_retries=0)
    if allowed:
        assert fetcher.fetch_page(candidate(site, "/ok"), make_source(site)).status == 200
    else:
        assert fetch_failure(fetcher, site, "/ok").reason == "robots_disallowed"
        assert "/ok" not in site.paths()


def test_low_level_get_does_not_consult_robots(site: Site) -> None:
    site.robots = (200, "User-agent: *\nDisallow: /\n")
    response = make_fetcher().get(
        site.base + "/chain/1", min_delay=0, max_concurrency=1, accept="text/html"
    )
    assert (response.status, response.final_url) == (200, site.base + "/chain/0")
    assert response.content == _html().encode("utf-8")
    assert "/robots.txt" not in site.paths()


# --- politeness -------------------------------------------------------------------------------


def _gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


def test_min_delay_spaces_requests_to_one_host(site: Site) -> None:
    source = make_source(site, min_delay_seconds=0.3, max_concurrency=1)
    cands = [candidate(site, "/ok?n=1"), candidate(site, "/ok?n=2")]
    pages, failures = make_fetcher().fetch_all([(source, cands)])
    assert len(pages) == 2 and failures == []
    arrivals = sorted(when for _, when in site.requests)  # robots.txt and both pages
    assert len(arrivals) == 3
    assert min(_gaps(arrivals)) >= 0.3 - CLOCK_SLACK


def test_crawl_delay_raises_the_minimum_delay(site: Site) -> None:
    site.robots = (200, "User-agent: *\nCrawl-delay: 1\n")
    source = make_source(site, min_delay_seconds=0, max_concurrency=1)
    make_fetcher().fetch_all([(source, [candidate(site, "/ok?n=1"), candidate(site, "/ok?n=2")])])
    first, second = site.times("/ok")
    assert second - first >= 1.0 - CLOCK_SLACK


def test_max_concurrency_caps_requests_in_flight_per_host(site: Site) -> None:
    source = make_source(site, max_concurrency=2)
    cands = [candidate(site, f"/slow?n={n}") for n in range(5)]
    pages, _ = make_fetcher().fetch_all([(source, cands)], max_workers=8)
    assert len(pages) == 5
    assert site.max_in_flight == 2


def test_different_hosts_are_fetched_concurrently(site: Site) -> None:
    one = make_source(site, id="one", max_concurrency=1)
    other = make_source(site, id="other", homepage=f"http://localhost:{site.port}/",
                        max_concurrency=1)
    jobs = [
        (one, [candidate(site, f"/slow?n={n}", "one") for n in range(2)]),
        (other, [Candidate(f"http://localhost:{site.port}/slow?n={n}", "other", "feed")
                 for n in range(2)]),
    ]
    pages, failures = make_fetcher(allow_private_hosts="127.0.0.1,localhost").fetch_all(jobs)
    assert len(pages) == 4 and failures == []
    assert site.max_in_flight == 2  # one per host, both hosts at once


def test_fetch_all_keeps_order_and_accounts_for_every_candidate(site: Site) -> None:
    site.robots = (200, "User-agent: *\nDisallow: /private/\n")
    first = make_source(site, id="first")
    second = make_source(site, id="second", max_concurrency=1)
    first_paths = ["/ok?n=1", "/missing", "/cp1256", "/png", "/private/x", "/meta"]
    second_paths = ["/escape", "/lying", "/chain/2", "/loop/a"]
    jobs = [
        (first, [candidate(site, p, "first") for p in first_paths]),
        (second, [candidate(site, p, "second") for p in second_paths]),
    ]
    pages, failures = make_fetcher().fetch_all(jobs, max_workers=4)

    assert [p.url for p in pages] == [
        site.base + p for p in ["/ok?n=1", "/cp1256", "/meta", "/lying", "/chain/2"]
    ]
    assert [(f.url.removeprefix(site.base), f.reason, f.source_id) for f in failures] == [
        ("/missing", "http_404", "first"),
        ("/png", "not_html", "first"),
        ("/private/x", "robots_disallowed", "first"),
        ("/escape", "blocked_address", "second"),
        ("/loop/a", "redirect_loop", "second"),
    ]


# --- decode_html ------------------------------------------------------------------------------


def test_decode_byte_order_mark_beats_the_header() -> None:
    body = b"\xef\xbb\xbf" + _html().encode()
    text, encoding, source = decode_html(body, "text/html; charset=cp1256")
    assert (ARABIC in text, encoding, source) == (True, "utf-8", "bom")
    assert not text.startswith("\ufeff")


def test_decode_utf16_with_bom() -> None:
    text, encoding, source = decode_html(_html().encode("utf-16"), None)
    assert ARABIC in text and source == "bom" and encoding.startswith("utf-16")


def test_decode_normalises_charset_names() -> None:
    _, encoding, source = decode_html(_html().encode("cp1256"), 'text/html; charset="Windows-1256"')
    assert (encoding, source) == ("cp1256", "http")


def test_decode_meta_http_equiv() -> None:
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
    text, encoding, source = decode_html(_html(meta).encode("cp1256"), "text/html")
    assert (ARABIC in text, encoding, source) == (True, "cp1256", "meta")


def test_decode_default_latin1_header_yields_to_a_specific_meta() -> None:
    # Old Apache installs send ISO-8859-1 for every page, windows-1256 ones included.
    body = _html('<meta charset="windows-1256">').encode("cp1256")
    text, encoding, source = decode_html(body, "text/html; charset=ISO-8859-1")
    assert (ARABIC in text, encoding, source) == (True, "cp1256", "meta")


def test_decode_utf8_under_a_stale_windows_1256_label() -> None:
    text, encoding, source = decode_html(_html().encode("utf-8"), "text/html; charset=windows-1256")
    assert (ARABIC in text, encoding, source) == (True, "utf-8", "detected")


@pytest.mark.parametrize("body", [ARABIC, "<p>خبر عاجل</p>"])
def test_decode_detects_unlabelled_windows_1256(body: str) -> None:
    text, encoding, source = decode_html(body.encode("cp1256"), None)
    assert (text, encoding, source) == (body, "cp1256", "detected")


def test_decode_pure_ascii_without_label_is_utf8() -> None:
    assert decode_html(b"<html>plain</html>", None) == ("<html>plain</html>", "utf-8", "detected")
