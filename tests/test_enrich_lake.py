"""The enrich stage against a real local lake: stories carried across runs through the
stories table, mentions and watchlist matches committed with the articles, old files read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rasid import contract, pipeline
from rasid.storage import open_lake
from tests.lake_support import (
    FIRES_WATCHLIST,
    STORY_ARTICLES,
    article,
    checked,
    enrich_run,
    page_of,
    story_rows,
)


def test_stories_carry_over_runs_and_tables_are_committed(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    watchlists = tmp_path / "watchlists.yaml"
    watchlists.write_text(FIRES_WATCHLIST, encoding="utf-8")
    rows = story_rows()
    ordered = sorted(rows, key=lambda k: (rows[k]["published_date"], k))
    first, second = ordered[:6], ordered[6:]
    enrich_run(lake, [rows[k] for k in first], date(2026, 3, 2), watchlists)
    enrich_run(lake, [rows[k] for k in second], date(2026, 3, 5), watchlists)

    stored = {r["article_id"]: r for r in lake.dataset("articles").to_table().to_pylist()}
    story_of = {name: stored[rows[name]["article_id"]]["story_id"] for name in rows}
    events = {g["id"]: g["event"] for g in STORY_ARTICLES}
    for a in rows:
        for b in rows:
            assert (story_of[a] == story_of[b]) == (events[a] == events[b]), (a, b)

    states = lake.dataset("stories").to_table().to_pylist()
    latest = {}
    for state in sorted(states, key=lambda s: s["updated_at"]):
        latest[state["story_id"]] = state
    homs = latest[story_of["homs-fire-a"]]
    assert homs["article_count"] == 4 and homs["sources"] == ["furat", "halab", "sham"]
    assert homs["first_seen"] == date(2026, 3, 2) and homs["last_seen"] == date(2026, 3, 3)
    assert "geonames:169577" in homs["places"]
    daraa = latest[story_of["daraa-aid-a"]]
    assert daraa["article_count"] == 3 and daraa["independent_sources"] == 2

    mentions = lake.dataset("mentions").to_table().to_pylist()
    homs_fire = rows["homs-fire-b"]["article_id"]
    assert {"geonames:169577", "rasid:organisation:syrian-civil-defence"} <= {
        m["entity_id"] for m in mentions if m["article_id"] == homs_fire}
    matched = {m["article_id"] for m in lake.dataset("watchlist_matches").to_table().to_pylist()}
    fires = {rows[k]["article_id"] for k in rows if "fire" in k}
    assert fires <= matched and rows["aleppo-power-a"]["article_id"] not in matched
    runs = [m for m in lake.manifests() if m.get("watchlists")]
    assert sum(m["watchlists"]["fires"] for m in runs) == len(fires)


def test_articles_written_before_stories_existed_read_with_an_empty_story(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    row = article("sham", date(2026, 3, 1), 1)
    old = contract.arrow_schema("articles").remove(
        contract.arrow_schema("articles").get_field_index("story_id"))
    table = pa.Table.from_pylist([{k: v for k, v in row.items() if k in old.names}], schema=old)
    key = f"{lake.partition_path('articles', {'source': 'sham', 'published_date': row['published_date']})}/old-0.parquet"
    (tmp_path / key).parent.mkdir(parents=True)
    pq.write_table(table, tmp_path / key)
    lake.commit("old", {"files": {"articles": [key]}})
    [read] = lake.dataset("articles").to_table().to_pylist()
    assert read["article_id"] == row["article_id"] and read["story_id"] is None


def test_the_report_shows_stories_places_people_and_watchlists(tmp_path: Path) -> None:
    from rasid.report.facts import gather
    from rasid.report.render import Links, render_html
    from rasid.report.view import build

    lake = open_lake(str(tmp_path / "lake"))
    watchlists = tmp_path / "watchlists.yaml"
    watchlists.write_text(FIRES_WATCHLIST, encoding="utf-8")
    rows = story_rows()
    summary_rows = [rows[k] for k in rows]
    run_id = enrich_run(lake, summary_rows, date(2026, 3, 5), watchlists)
    stored = {r["article_id"]: r for r in lake.dataset("articles").to_table().to_pylist()}
    homs = stored[rows["homs-fire-a"]["article_id"]]["story_id"]

    news = gather(lake, run_id).news
    [top] = [s for s in news.run_stories if s.story_id == homs]
    assert top.independent == 3 and len(top.articles) == 4
    assert news.run_stories[0].story_id == homs  # the most told story comes first
    assert "geonames:169577" in [p.entity_id for p in news.places]
    assert "rasid:organisation:syrian-civil-defence" in [p.entity_id for p in news.people]
    [fires] = news.watchlists
    assert fires.id == "fires" and fires.name == "حرائق" and fires.total == fires.run_count == 5

    page = render_html(build(gather(lake, run_id)), Links("", False, {}))
    assert f'data-story="{homs}"' in page and 'data-watchlist="fires"' in page
    assert rows["homs-fire-b"]["url"] in page  # each story lists its articles, linked


def test_a_story_that_grows_fast_spikes_and_the_next_run_reads_its_days(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    rows = story_rows()
    homs = [rows[k] for k in ("homs-fire-a", "homs-fire-b", "homs-fire-c")]
    day = date(2026, 3, 2)
    summary = pipeline.RunSummary(run_id=pipeline.new_run_id(), started_at=datetime.now(UTC))
    enricher = pipeline.load_enricher(lake, summary.run_id, day)
    batch = checked(homs[:2], summary.run_id)
    batch.mentions, batch.matches = enricher.enrich(batch.articles)
    assert enricher.story_spikes(day) == {}  # two articles: too few to call
    more = checked(homs[2:], summary.run_id)
    more.mentions, more.matches = enricher.enrich(more.articles)
    spikes = enricher.story_spikes(day)
    (story_id,) = spikes
    title, found = spikes[story_id]
    assert (found.day, found.count) == (day, 3) and title
    for part, done in enumerate((batch, more)):
        files = pipeline.write_batch(lake, summary.run_id, part, done,
                                     [page_of(r) for r in (homs[:2], homs[2:])[part]])
        summary.add_batch(done, files)
    pipeline.commit_run(lake, summary, enricher)

    # The next run starts from the stored articles' stories: the same day is no news again
    # once it is the baseline's, and a day later the story's three articles are its history.
    later = pipeline.load_enricher(lake, pipeline.new_run_id(), day + timedelta(days=1))
    assert later.story_daily[story_id] == {day: 3}
    assert later.story_spikes(day + timedelta(days=1)) == {}
