"""robots.txt per RFC 9309, against a real loopback site: which pages are requested at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rasid.config import Settings, Source
from rasid.fetch import Fetcher
from rasid.models import Candidate, FetchFailure, Page
from tests.rules_site import Route, RulesSite, running

PAGE = "<!DOCTYPE html><html><head><title>خبر</title></head><body><p>نص الخبر.</p></body></html>"


@pytest.fixture
def site() -> Iterator[RulesSite]:
    with running() as site:
        yield site


def fetcher(**overrides: Any) -> Fetcher:
    values: dict[str, Any] = {
        "allow_private_hosts": "127.0.0.1", "connect_timeout": 1.0, "read_timeout": 2.0,
        "response_deadline": 3.0, "max_retries": 1, "max_retry_after": 5.0,
    }
    return Fetcher(Settings(**(values | overrides)))


def source(base: str) -> Source:
    return Source(id="rules", name="Rules", homepage=base + "/", min_delay_seconds=0,
                  max_concurrency=4)


def crawl(site: RulesSite, robots: str | Route, paths: list[str],
          client: Fetcher | None = None) -> tuple[set[str], dict[str, FetchFailure]]:
    """Serve ``robots`` and a page at every path; fetch them all. Which paths reached the
    server, and the failure of each one that did not come back as a page."""
    site.routes["/robots.txt"] = robots if isinstance(robots, Route) else Route(
        body=robots.encode(), content_type="text/plain")
    for path in paths:
        site.page(path, PAGE)
    src = source(site.base)
    jobs = [(src, [Candidate(url=site.base + p, source_id=src.id, via="feed") for p in paths])]
    pages, failures = (client or fetcher()).fetch_all(jobs)
    assert len(pages) + len(failures) == len(paths)
    assert all(isinstance(page, Page) for page in pages)
    requested = {p for p in site.paths() if p in paths}
    return requested, {f.url.removeprefix(site.base): f for f in failures}


def test_wildcards_and_end_anchor(site: RulesSite) -> None:
    robots = "User-agent: *\nDisallow: /*?replytocom=\nDisallow: /*.php$\n"
    paths = ["/a?replytocom=5", "/a", "/x/old.php", "/x/old.php?id=1", "/b?page=2"]
    requested, failures = crawl(site, robots, paths)
    assert requested == {"/a", "/x/old.php?id=1", "/b?page=2"}
    assert {f.reason for f in failures.values()} == {"robots_disallowed"}
    assert set(failures) == {"/a?replytocom=5", "/x/old.php"}


def test_longest_match_wins_whatever_the_order(site: RulesSite) -> None:
    robots = "User-agent: *\nDisallow: /news/\nAllow: /news/ok/\nAllow: /m\nDisallow: /m/x\n"
    paths = ["/news/ok/1.html", "/news/2.html", "/m/x/1", "/m/y/1"]
    requested, _ = crawl(site, robots, paths)
    assert requested == {"/news/ok/1.html", "/m/y/1"}


def test_the_group_for_our_product_token_replaces_the_star_group(site: RulesSite) -> None:
    robots = ("User-agent: *\nDisallow: /\n\n"
              "User-agent: otherbot\nAllow: /\n\n"
              "User-agent: RASID\nDisallow: /private/\n")
    requested, failures = crawl(site, robots, ["/private/memo", "/public/1"])
    assert requested == {"/public/1"}
    assert failures["/private/memo"].reason == "robots_disallowed"


def test_a_configured_user_agent_is_matched_by_its_own_token(site: RulesSite) -> None:
    robots = "User-agent: rasid\nDisallow: /\n\nUser-agent: newsdesk\nDisallow: /b/\n"
    client = fetcher(user_agent="newsdesk/2.0 (+https://desk.example/crawler)")
    requested, _ = crawl(site, robots, ["/a/1", "/b/1"], client)
    assert requested == {"/a/1"}
    assert {s.headers["user-agent"] for s in site.seen} == {
        "newsdesk/2.0 (+https://desk.example/crawler)"}


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_any_4xx_robots_means_no_restrictions(site: RulesSite, status: int) -> None:
    requested, failures = crawl(site, Route(status=status, body=b"Disallow: /"), ["/a", "/b"])
    assert requested == {"/a", "/b"} and failures == {}


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_robots_keeps_the_whole_host_out_for_this_run(site: RulesSite, status: int) -> None:
    paths = ["/news/1", "/news/2", "/news/3"]
    requested, failures = crawl(site, Route(status=status), paths)
    assert requested == set()
    assert set(failures) == set(paths)
    for failure in failures.values():  # each URL its own transient failure, retried next run
        assert (failure.reason, failure.transient) == ("robots_unavailable", True)
        assert f"http_{status}" in failure.detail
    # Asked once (with its retries), not once per page.
    assert len(site.requests_for("/robots.txt")) == 2


def test_an_unreachable_host_is_not_crawled(site: RulesSite) -> None:
    closed = site.base  # a port nobody listens on once the server is gone
    site.server.shutdown()
    site.server.server_close()
    src = source(closed)
    cands = [Candidate(url=closed + "/a", source_id=src.id, via="feed")]
    pages, (failure,) = fetcher(max_retries=0).fetch_all([(src, cands)])
    assert pages == [] and (failure.reason, failure.transient) == ("robots_unavailable", True)


def _redirects(site: RulesSite, hops: int) -> None:
    for n in range(hops):
        target = f"/r{n + 1}" if n + 1 < hops else "/real-robots.txt"
        site.routes[f"/r{n}" if n else "/robots.txt"] = Route(
            status=301, headers={"Location": target})
    site.text("/real-robots.txt", "User-agent: *\nDisallow: /secret/\n")


def test_robots_reached_within_five_redirects_is_obeyed(site: RulesSite) -> None:
    _redirects(site, 5)
    requested, _ = crawl(site, site.routes["/robots.txt"], ["/secret/1", "/open/1"])
    assert requested == {"/open/1"} and "/real-robots.txt" in site.paths()


def test_more_than_five_redirects_means_no_robots(site: RulesSite) -> None:
    _redirects(site, 6)
    requested, _ = crawl(site, site.routes["/robots.txt"], ["/secret/1", "/open/1"])
    assert requested == {"/secret/1", "/open/1"}
    assert "/real-robots.txt" not in site.paths()


def test_an_oversized_robots_is_read_for_its_first_500_kib(site: RulesSite) -> None:
    filler = "# " + "x" * 97 + "\n"
    robots = ("User-agent: *\nDisallow: /early/\n" + filler * 5200  # past 500 KiB
              + "Disallow: /late/\n")
    assert len(robots) > 500 * 1024 + 1000
    requested, failures = crawl(site, robots, ["/early/1", "/late/1", "/other/1"])
    assert requested == {"/late/1", "/other/1"}
    assert failures["/early/1"].reason == "robots_disallowed"


def test_robots_is_read_once_per_host_however_many_pages(site: RulesSite) -> None:
    paths = [f"/p/{n}" for n in range(12)]
    requested, _ = crawl(site, "User-agent: *\nDisallow: /p/1\n", paths)
    assert len(site.requests_for("/robots.txt")) == 1
    assert requested == {p for p in paths if not p.startswith("/p/1")}
