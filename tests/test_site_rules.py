"""Discovery from a site's own pointers and conditional requests, against a real loopback
site: robots.txt's Sitemap: lines, the homepage's <link rel="alternate">, ETag and
Last-Modified sent back on the next run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rasid import USER_AGENT
from rasid.config import Settings, Source
from rasid.discover import DiscoveryResult, alternate_feeds, discover
from rasid.fetch import Fetcher
from rasid.fetch.documents import SiteDocuments
from rasid.models import Validator
from rasid.pipeline import LakeState
from tests.rules_site import RulesSite, running
from tests.site_rules_pages import (
    DISALLOWED,
    ETAG,
    IN_FEED,
    IN_SITEMAP,
    LAST_MODIFIED,
    publish,
    urlset,
)


@pytest.fixture
def site() -> Iterator[RulesSite]:
    with running() as site:
        publish(site)
        yield site


def fetcher() -> Fetcher:
    return Fetcher(Settings(allow_private_hosts="127.0.0.1", max_retries=0))


def source(site: RulesSite, **fields: Any) -> Source:
    return Source(id="rules", name="Rules", homepage=site.base + "/", min_delay_seconds=0,
                  **fields)


def run(site: RulesSite, src: Source, known: dict[str, Validator] | None = None
        ) -> DiscoveryResult:
    """One run's discovery, as the collect flow does it, with a fetcher of its own."""
    docs = SiteDocuments(fetcher(), src, known)
    result = discover(src, docs.get, robots_sitemaps=docs.robots_sitemaps)
    result.validators = docs.validators(result.kinds)
    return result


def paths(site: RulesSite, result: DiscoveryResult) -> set[str]:
    return {c.url.removeprefix(site.base) for c in result.candidates}


def test_a_source_with_no_feed_or_sitemap_reads_what_the_site_points_to(site: RulesSite) -> None:
    result = run(site, source(site))
    assert result.pointers == {"feeds": [site.base + "/feed.xml"],
                               "sitemaps": [site.base + "/sitemaps/news.xml"]}
    # Everything the feed and the sitemap list is a candidate; robots.txt is the fetcher's
    # business (the disallowed pages are refused when fetched, see test_robots).
    assert paths(site, result) >= set(IN_FEED + IN_SITEMAP)
    assert result.kinds[site.base + "/feed.xml"] == "feed"
    assert result.kinds[site.base + "/sitemaps/news.xml"] == "sitemap"
    assert "/comments/feed/" not in site.paths()
    assert len(site.requests_for("/")) == 1  # read once for its links and its feeds
    assert {seen.headers["user-agent"] for seen in site.seen} == {USER_AGENT}  # every request


def test_configured_feeds_are_not_reported_as_found(site: RulesSite) -> None:
    result = run(site, source(site, feeds=[site.base + "/feed.xml"], site_pointers=True))
    assert result.pointers == {"sitemaps": [site.base + "/sitemaps/news.xml"]}
    assert paths(site, result) >= set(IN_FEED + IN_SITEMAP)


def test_a_configured_source_reads_only_its_own_list_unless_asked(site: RulesSite) -> None:
    result = run(site, source(site, feeds=[site.base + "/feed.xml"]))
    assert result.pointers == {}
    assert paths(site, result) == set(IN_FEED + DISALLOWED[:1])
    assert "/robots.txt" in site.paths()  # asked for the feed's sake, not for its sitemaps
    assert "/sitemaps/news.xml" not in site.paths() and "/" not in site.paths()


def test_etag_and_last_modified_come_back_and_the_second_run_parses_nothing(
    site: RulesSite,
) -> None:
    first = run(site, source(site))
    feed, sitemap = site.base + "/feed.xml", site.base + "/sitemaps/news.xml"
    assert first.validators == {feed: Validator(etag=ETAG),
                                sitemap: Validator(last_modified=LAST_MODIFIED)}
    # The lake carries them from one run to the next (the manifest's shape).
    state = LakeState()
    state.learn_validators({url: v.as_dict() for url, v in first.validators.items()})
    second = run(site, source(site), state.validators)

    feed_ask, sitemap_ask = site.requests_for("/feed.xml")[1], site.requests_for(
        "/sitemaps/news.xml")[1]
    assert feed_ask.headers["if-none-match"] == ETAG
    assert sitemap_ask.headers["if-modified-since"] == LAST_MODIFIED
    assert sorted(second.unchanged) == [feed, sitemap]
    assert second.failures == [] and feed not in second.kinds and sitemap not in second.kinds
    # Only the homepage's links remain: no feed or sitemap entry was parsed again.
    assert paths(site, second) <= paths(site, first) - set(IN_FEED + IN_SITEMAP)
    assert second.validators == first.validators  # still valid for the run after


def test_a_changed_document_is_read_again_with_its_new_validator(site: RulesSite) -> None:
    first = run(site, source(site))
    site.text("/feed.xml", "<rss><channel></channel></rss>", "application/rss+xml",
              etag='"feed-v2"')
    second = run(site, source(site), first.validators)
    assert site.base + "/feed.xml" not in second.unchanged
    assert second.validators[site.base + "/feed.xml"] == Validator(etag='"feed-v2"')


def test_a_sitemap_index_is_always_read_in_full(site: RulesSite) -> None:
    site.text("/sitemaps/news.xml",
              '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap>'
              f"<loc>{site.base}/sitemaps/day.xml</loc></sitemap></sitemapindex>",
              "application/xml", last_modified=LAST_MODIFIED)
    site.text("/sitemaps/day.xml", urlset(site.base, IN_SITEMAP), "application/xml",
              etag='"day-1"')
    index, day = site.base + "/sitemaps/news.xml", site.base + "/sitemaps/day.xml"
    first = run(site, source(site))
    assert index not in first.validators and first.validators[day] == Validator(etag='"day-1"')
    assert "if-modified-since" not in site.requests_for("/sitemaps/news.xml")[0].headers
    second = run(site, source(site), first.validators)
    assert "if-modified-since" not in site.requests_for("/sitemaps/news.xml")[1].headers
    assert second.unchanged == [site.base + "/feed.xml", day]
    # A validator an older run kept, from when the URL was a plain sitemap, is dropped.
    third = run(site, source(site), first.validators | {index: Validator("old")})
    assert index not in third.unchanged and third.validators[index] == Validator()


def test_the_latest_run_wins_and_an_empty_validator_forgets() -> None:
    state = LakeState()
    state.learn_validators({"a": {"etag": '"1"', "last_modified": None},
                            "b": {"etag": None, "last_modified": LAST_MODIFIED}})
    state.learn_validators({"a": {"etag": '"2"', "last_modified": None},
                            "b": {"etag": None, "last_modified": None}})
    assert state.validators == {"a": Validator(etag='"2"')}


def test_alternate_feeds_are_rss_or_atom_links_in_order() -> None:
    html = ('<html><head><link rel="alternate" type="application/atom+xml" href="atom.xml">'
            '<link rel="alternate" hreflang="en" href="/en/">'
            '<link rel="Alternate Feed" type="application/rss+xml; charset=utf-8" href="/rss">'
            '<link rel="alternate" type="application/rss+xml" href="/comments/feed/">'
            '<link rel="alternate" type="application/rss+xml" href="/rss"></head></html>')
    assert alternate_feeds(html, "https://news.example/section/") == [
        "https://news.example/section/atom.xml", "https://news.example/rss"]


def test_a_page_failing_transiently_is_asked_for_again_for_a_few_runs_only() -> None:
    from rasid.pipeline.state import MAX_RETRY_RUNS

    url = "https://news.example/a/1.html"
    failure = {"url": url, "source_id": "rules", "reason": "timeout", "transient": True,
               "candidate": {"url": url, "source_id": "rules", "via": "feed"}}
    state = LakeState()
    for _ in range(MAX_RETRY_RUNS):
        state.failed(failure)
        assert [c.url for c in state.left_over("rules")] == [url]
    state.failed(failure)  # one run too many: left to its feed
    assert state.left_over("rules") == []
    # A feed that failed has no candidate: it is read again anyway, never fetched as a page.
    state.failed({**failure, "url": "https://news.example/feed.xml", "candidate": None})
    assert state.left_over("rules") == []
