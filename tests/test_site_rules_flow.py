"""Two collect runs under Prefect's harness over a site that publishes its rules, beside a
host whose robots.txt fails: what reached the servers, and what the manifests keep."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from rasid.storage import open_lake
from tests.rules_site import Route, RulesSite, running
from tests.site_rules_pages import DISALLOWED, ETAG, IN_FEED, IN_SITEMAP, article, publish, rss

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

BROKEN_PAGES = ["/a/1.html", "/a/2.html", "/a/3.html"]
FLAKY = "/news/1003.html"  # in the feed; answers 503 in the first run only


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from rasid_flows.collect import collect

    root = tmp_path_factory.mktemp("rules")
    with running() as site, running() as broken:
        publish(site)
        site.text("/feed.xml", rss(site.base, [*IN_FEED, FLAKY, DISALLOWED[0]]),
                  "application/rss+xml", etag=ETAG)
        site.routes[FLAKY] = Route(status=503)
        broken.routes["/robots.txt"] = Route(status=503)
        broken.page("/", "<html><body>" + "".join(
            f'<a href="{p}">خبر</a>' for p in BROKEN_PAGES) + "</body></html>")
        for n, path in enumerate(BROKEN_PAGES):
            broken.page(path, article(n))
        sources = root / "sources.yaml"
        sources.write_text(yaml.safe_dump({"sources": [
            {"id": "rules", "name": "Rules", "homepage": site.base + "/", "min_delay_seconds": 0},
            {"id": "broken", "name": "Broken", "homepage": broken.base + "/",
             "sitemaps": [broken.base + "/sitemap.xml"], "min_delay_seconds": 0},
        ]}, allow_unicode=True), encoding="utf-8")
        monkeypatch = pytest.MonkeyPatch()
        monkeypatch.setenv("RASID_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
        monkeypatch.setenv("RASID_MAX_RETRIES", "0")
        lake = str(root / "lake")
        first = collect(sources_file=str(sources), lake=lake)
        after_first = len(site.seen)
        site.page(FLAKY, article(99))
        second = collect(sources_file=str(sources), lake=lake)
        monkeypatch.undo()
        yield {"site": site, "broken": broken, "first": first, "second": second,
               "after_first": after_first, "lake": lake}


def test_nothing_disallowed_is_fetched_and_everything_allowed_is(runs: dict[str, Any]) -> None:
    requested = set(runs["site"].paths())
    assert not requested & {p.split("?")[0] for p in DISALLOWED}
    assert not any("replytocom" in p for p in requested)
    assert set(IN_FEED + IN_SITEMAP) <= requested
    stats = runs["first"]["sources"]["rules"]
    assert stats["fetched"] == len(set(IN_FEED + IN_SITEMAP))
    reasons = {f["url"].removeprefix(runs["site"].base): f["reason"]
               for f in runs["first"]["failures"] if f["source_id"] == "rules"}
    assert reasons == dict.fromkeys(DISALLOWED, "robots_disallowed") | {FLAKY: "http_503"}


def test_a_host_whose_robots_fails_gives_nothing_but_its_robots(runs: dict[str, Any]) -> None:
    assert set(runs["broken"].paths()) == {"/robots.txt"}
    # Asked once per run (no retries here): a worker serving both runs asked again.
    assert len(runs["broken"].requests_for("/robots.txt")) == 2
    failures = [f for f in runs["first"]["failures"] if f["source_id"] == "broken"]
    assert {(f["reason"], f["transient"]) for f in failures} == {("robots_unavailable", True)}


def test_the_run_reports_what_the_site_points_to(runs: dict[str, Any]) -> None:
    base = runs["site"].base
    assert runs["first"]["site_pointers"] == {"rules": {
        "feeds": [base + "/feed.xml"], "sitemaps": [base + "/sitemaps/news.xml"]}}


def test_the_second_run_asks_conditionally_and_gets_304(runs: dict[str, Any]) -> None:
    site: RulesSite = runs["site"]
    feed_asks = site.requests_for("/feed.xml")
    assert len(feed_asks) == 2 and "if-none-match" not in feed_asks[0].headers
    assert feed_asks[1].headers["if-none-match"] == ETAG
    assert runs["second"]["sources"]["rules"]["unchanged"] == 2
    # Nothing else was fetched again: the articles are known, the documents unchanged.
    again = {s.path for s in site.seen[runs["after_first"]:]}
    assert again == {"/robots.txt", "/", "/feed.xml", "/sitemaps/news.xml", FLAKY}


def test_a_page_that_failed_transiently_is_tried_again_though_its_feed_is_unchanged(
    runs: dict[str, Any],
) -> None:
    (failure,) = [f for f in runs["first"]["failures"] if f["url"].endswith(FLAKY)]
    assert (failure["transient"], failure["candidate"]["via"]) == (True, "feed")
    second = runs["second"]["sources"]["rules"]
    assert (second["new"], second["fetched"]) == (1, 1)
    assert not [f for f in runs["second"]["failures"] if f["source_id"] == "rules"]


def test_validators_are_kept_in_the_lake_state(runs: dict[str, Any]) -> None:
    from rasid.pipeline import load_state

    state = load_state(open_lake(runs["lake"]))
    assert state.validators[runs["site"].base + "/feed.xml"].etag == ETAG
    manifest = runs["second"]
    assert manifest["validators"][runs["site"].base + "/feed.xml"] == {
        "etag": ETAG, "last_modified": None}
    assert Path(runs["lake"]).exists()
