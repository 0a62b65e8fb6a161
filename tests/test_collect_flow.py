"""The collect flow end to end under Prefect's harness: the demo site over real HTTP on
loopback, into a local lake and into moto's S3 server, read back with DuckDB and pyarrow."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rasid.demo import site
from rasid.storage import open_lake
from rasid.urls import normalize_url

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def run_collect(sources: Path, lake: str) -> dict[str, Any]:
    from rasid_flows.collect import collect

    return collect(sources_file=str(sources), lake=lake)


def trap_urls(server: Any, name: str) -> list[str]:
    return [normalize_url(server.base_url(sid).rstrip("/") + path) for sid, path in site.TRAPS[name]]


def query(lake: Path, sql: str, kind: str = "articles") -> list[tuple]:
    glob = f"{lake}/{kind}/**/*.parquet"
    rel = f"read_parquet('{glob}', hive_partitioning=true)"
    return duckdb.sql(sql.replace("LAKE", rel)).fetchall()


@pytest.fixture(scope="module")
def demo_run(demo_site: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run over the demo site into a local lake, then a second run with nothing new."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("RASID_ALLOW_PRIVATE_HOSTS", demo_site.allowlist())
    root = tmp_path_factory.mktemp("flow")
    sources = root / "sources.yaml"
    sources.write_text(demo_site.sources_yaml(), encoding="utf-8")
    (root / "watchlists.yaml").write_text(demo_site.watchlists_yaml(), encoding="utf-8")
    lake = root / "lake"
    first = run_collect(sources, str(lake))
    rows_after_first = query(lake, "SELECT count(*) FROM LAKE")[0][0]
    second = run_collect(sources, str(lake))
    monkeypatch.undo()
    return {"lake": lake, "first": first, "second": second, "rows_after_first": rows_after_first}


def test_demo_articles_land_in_hive_partitions_with_contract_types(demo_run: dict[str, Any]) -> None:
    lake = demo_run["lake"]
    count, sources = query(lake, "SELECT count(*), count(DISTINCT source) FROM LAKE")[0]
    assert count >= 40 and sources == 3
    types = dict(query(lake, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM LAKE)"))
    assert types["published_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["fetched_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["published_date"] == "DATE"
    assert types["source"] == "VARCHAR"
    assert types["flags"] == "VARCHAR[]"
    assert query(lake, "SELECT count(*) - count(DISTINCT url) FROM LAKE")[0][0] == 0
    assert query(lake, "SELECT count(*) FROM LAKE WHERE published_at IS NULL OR body = ''")[0][0] == 0


def test_every_page_is_stored_or_quarantined_or_reported(demo_run: dict[str, Any]) -> None:
    first = demo_run["first"]
    totals = first["totals"]
    assert totals["new"] == totals["fetched"] + totals["failed"]
    assert totals["fetched"] == totals["stored"] + totals["quarantined"]
    stored = query(demo_run["lake"], "SELECT count(*) FROM LAKE")[0][0]
    quarantined = query(demo_run["lake"], "SELECT count(*) FROM LAKE", "quarantine")[0][0]
    assert (stored, quarantined) == (totals["stored"], totals["quarantined"])


def test_traps_are_quarantined_with_reasons(demo_run: dict[str, Any], demo_site: Any) -> None:
    reasons = {
        url: list(r)
        for url, r in query(demo_run["lake"], "SELECT url, reasons FROM LAKE", "quarantine")
    }
    for url in trap_urls(demo_site, "no_date"):
        assert "no_date" in reasons[url]
    for url in trap_urls(demo_site, "english_page"):
        assert "not_arabic" in reasons[url]
    duplicates = [u for u in trap_urls(demo_site, "exact_duplicate")]
    assert sum("duplicate_body" in reasons.get(u, []) for u in duplicates) == 1


def test_the_page_with_its_body_twice_is_stored_once_and_flagged(demo_run: dict[str, Any], demo_site: Any) -> None:
    (url,) = trap_urls(demo_site, "body_twice")
    body, flags, share = query(
        demo_run["lake"], f"SELECT body, flags, repeated_share FROM LAKE WHERE url = '{url}'"
    )[0]
    assert "body_repeated" in flags and share > 0.3
    first_paragraph = body.split("\n")[0]
    assert len(first_paragraph) > 40 and body.count(first_paragraph) == 1


def test_arabic_datelines_give_the_right_day(demo_run: dict[str, Any], demo_site: Any) -> None:
    pages = {normalize_url(demo_site.base_url(p.source_id).rstrip("/") + p.path): p for p in site.PAGES}
    for trap in ("levantine_dateline", "eastern_digits_dateline"):
        for url in trap_urls(demo_site, trap):
            (day, how), = query(demo_run["lake"], f"SELECT published_date, date_source FROM LAKE WHERE url = '{url}'")
            assert how == "dateline"
            assert day == pages[url].published.date()


def test_missing_pages_are_reported_not_lost(demo_run: dict[str, Any], demo_site: Any) -> None:
    failures = {f["url"]: f for f in demo_run["first"]["failures"]}
    for url in trap_urls(demo_site, "missing_page"):
        assert failures[url]["reason"] == "http_404" and not failures[url]["transient"]


def test_a_rerun_with_nothing_new_fetches_and_adds_nothing(demo_run: dict[str, Any]) -> None:
    totals = demo_run["second"]["totals"]
    assert totals["discovered"] == demo_run["first"]["totals"]["discovered"]
    assert totals["new"] == totals["fetched"] == totals["stored"] == 0
    assert query(demo_run["lake"], "SELECT count(*) FROM LAKE")[0][0] == demo_run["rows_after_first"]
    assert len(open_lake(str(demo_run["lake"])).manifests()) == 2


def test_raw_responses_are_archived(demo_run: dict[str, Any]) -> None:
    store = open_lake(str(demo_run["lake"]))
    raw = demo_run["first"]["files"]["raw"]
    assert raw and all(k.endswith(".warc.gz") for k in raw)
    archived = sum(len(store.read_raw(k)) for k in raw)
    assert archived == demo_run["first"]["totals"]["fetched"]


def test_the_report_is_written_to_the_lake(demo_run: dict[str, Any]) -> None:
    report = demo_run["lake"] / demo_run["first"]["report"]
    html = report.read_text(encoding="utf-8")
    assert 'dir="rtl"' in html and "لم يُعثر على تاريخ النشر" in html


def test_the_demo_event_is_one_story_across_the_three_outlets(demo_run: dict[str, Any]) -> None:
    """The Aleppo market fire, told by each outlet in its own words, is one story; the Homs
    market fire two days later is another; places, people and the fires watchlist are found."""
    lake = demo_run["lake"]
    fire = query(lake, "SELECT story_id, source FROM LAKE WHERE title LIKE '%سوق الهال%'")
    assert len(fire) == 4 and len({story for story, _ in fire}) == 1
    assert {source for _, source in fire} == {"sham-today", "furat-post", "halab-online"}
    [(homs_story,)] = query(lake, "SELECT story_id FROM LAKE WHERE title LIKE '%وسط حمص%'")
    assert homs_story != fire[0][0]
    stories = query(lake, "SELECT story_id, article_count, independent_sources FROM LAKE "
                          "WHERE story_id = '" + fire[0][0] + "'", kind="stories")
    assert stories[-1][1:] == (4, 3)
    named = {e for (e,) in query(lake, "SELECT DISTINCT entity_id FROM LAKE", kind="mentions")}
    assert {"geonames:170063", "rasid:place:aleppo-shaar", "geonames:169577",
            "rasid:person:governor-of-aleppo", "rasid:organisation:syrian-civil-defence"} <= named
    fires = query(lake, "SELECT count(*) FROM LAKE WHERE watchlist_id = 'fires'",
                  kind="watchlist_matches")[0][0]
    assert fires >= 5 and demo_run["first"]["watchlists"]["fires"] == fires
    assert demo_run["second"]["watchlists"] == {}  # a second run adds nothing
    html = (lake / demo_run["first"]["report"]).read_text(encoding="utf-8")
    assert 'id="news"' in html and f'data-story="{fire[0][0]}"' in html
    assert 'data-watchlist="fires"' in html and 'data-entity="geonames:170063"' in html


def test_the_same_demo_into_s3(demo_sources: Path, s3_lake: str) -> None:
    result = run_collect(demo_sources, s3_lake)
    assert result["totals"]["stored"] >= 40
    articles = open_lake(s3_lake).dataset("articles").to_table(columns=["url", "source", "published_date"])
    assert articles.num_rows == result["totals"]["stored"]
    assert len(set(articles.column("url").to_pylist())) == articles.num_rows
    by_source = duckdb.sql("SELECT count(DISTINCT source) FROM articles").fetchall()[0]
    assert by_source == (3,)
    assert isinstance(articles.column("published_date")[0].as_py(), date)
