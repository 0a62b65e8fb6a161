"""What the news said, for the report: top stories (of the run and of each day), the most
named places and people, and each watchlist's matches per day over the last 14 days.

The days are the DAYS up to the newest publication day among the run's articles. Read from
the enrich stage's tables (rasid.pipeline.enrich) for those day partitions only; a lake
written before stories existed simply shows none.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup

from rasid import charts, contract
from rasid.enrich.gazetteer import PLACE_KINDS
from rasid.storage import Lake

DAYS = 14
TOP_STORIES = 10
TOP_PER_DAY = 3
TOP_ENTITIES = 10
_DAY = re.compile(r"/published_date=(\d{4}-\d{2}-\d{2})/")


@dataclass(frozen=True)
class ArticleLink:
    title: str
    url: str
    source: str  # the outlet's name
    day: str


@dataclass(frozen=True)
class StoryItem:
    story_id: str
    title: str
    outlets: tuple[str, ...]
    independent: int  # outlets with an article of their own
    articles: tuple[ArticleLink, ...]


@dataclass(frozen=True)
class DayStories:
    day: str
    stories: tuple[StoryItem, ...]


@dataclass(frozen=True)
class EntityItem:
    entity_id: str
    name: str
    kind: str
    articles: tuple[ArticleLink, ...]


@dataclass(frozen=True)
class WatchlistItem:
    id: str
    name: str
    run_count: int  # matches among the reported run's articles
    total: int  # over the days shown
    svg: Markup  # per day, newest at the left (the page reads right to left)
    articles: tuple[ArticleLink, ...]


@dataclass(frozen=True)
class News:
    run_stories: tuple[StoryItem, ...] = ()
    days: tuple[DayStories, ...] = ()
    places: tuple[EntityItem, ...] = ()
    people: tuple[EntityItem, ...] = ()
    watchlists: tuple[WatchlistItem, ...] = ()
    first_day: str = ""
    last_day: str = ""

    @property
    def empty(self) -> bool:
        return not (self.run_stories or self.places or self.people or self.watchlists)


def gather_news(lake: Lake, run: dict[str, Any], runs: list[dict[str, Any]],
                names: dict[str, str]) -> News:
    """The news of the reported ``run``, over the DAYS days up to its newest article."""
    last = _newest_day(run)
    first = last - timedelta(days=DAYS - 1)
    columns = ["article_id", "story_id", "source", "url", "title", "published_date", "run_id"]
    # The run's own rows come from its own files, whatever their days; the days shown from
    # their partitions.
    articles = list({a["article_id"]: a for a in [
        *_rows(lake, "articles", "published_date", first, columns),
        *_run_rows(lake, run, "articles")]}.values())
    links = {a["article_id"]: _link(a, names) for a in articles}
    stories = _latest_stories([*_rows(lake, "stories", "last_seen", first, None),
                               *_run_rows(lake, run, "stories")])
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in sorted(articles, key=lambda a: (a["published_date"], a["article_id"])):
        if a["story_id"]:
            members[a["story_id"]].append(a)

    def item(story_id: str) -> StoryItem:
        story = stories.get(story_id, {})
        own = members[story_id]
        return StoryItem(
            story_id, story.get("title") or own[0]["title"] or "",
            tuple(names.get(s, s) for s in story.get("sources") or sorted({a["source"] for a in own})),
            int(story.get("independent_sources") or len({a["source"] for a in own})),
            tuple(links[a["article_id"]] for a in own))

    def rank(ids: Iterable[str], counts: Counter[str]) -> list[str]:
        return sorted(set(ids), key=lambda s: (-counts[s], -int(stories.get(s, {}).get(
            "independent_sources") or 0), s))

    in_run = Counter(a["story_id"] for a in articles
                     if a["run_id"] == run["run_id"] and a["story_id"])
    run_stories = tuple(item(s) for s in rank(in_run, in_run)[:TOP_STORIES])
    by_day: dict[date, Counter[str]] = defaultdict(Counter)
    for a in articles:
        if a["story_id"]:
            by_day[a["published_date"]][a["story_id"]] += 1
    days = tuple(DayStories(f"{day}", tuple(item(s) for s in rank(counts, counts)[:TOP_PER_DAY]))
                 for day, counts in sorted(by_day.items(), reverse=True))
    mentions = _run_rows(lake, run, "mentions")
    places, people = _entities(mentions, links)
    return News(run_stories, days, places, people,
                _watchlists(lake, run, runs, first, last, links), f"{first}", f"{last}")


def _newest_day(run: dict[str, Any]) -> date:
    """The newest publication day among the run's articles (read from its files' partition
    paths), else the day it started: a backfill or the demo reports on the days it stored."""
    days = [date.fromisoformat(match.group(1)) for key in run.get("files", {}).get("articles", [])
            if (match := _DAY.search(key))]
    return max(days, default=date.fromisoformat(run["started_at"][:10]))


def _run_rows(lake: Lake, run: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The rows a run wrote to a table (its own files only), partition values included."""
    dates = {f.name for f in contract.arrow_schema(kind, include_partitions=True)
             if pa.types.is_date(f.type)}
    keys = run.get("files", {}).get(kind, [])
    live = set(lake.committed_files(kind))
    if any(key not in live for key in keys) and "run_id" in contract.columns(kind):
        # A compaction merged the run's files into others: its rows are found by run id.
        table = lake.dataset(kind).to_table(filter=pc.field("run_id") == run["run_id"])
        merged: list[dict[str, Any]] = table.to_pylist()
        return merged
    rows = []
    for key in keys:
        values: dict[str, Any] = {}
        for part in key.split("/"):
            name, _, value = part.partition("=")
            if value and name in contract.partition_columns(kind):
                values[name] = date.fromisoformat(value) if name in dates else value
        rows += [r | values for r in lake.read_files(kind, [key]).to_pylist()]
    return rows


def _rows(lake: Lake, kind: str, day_column: str, first: date,
          columns: list[str] | None) -> list[dict[str, Any]]:
    """Rows of the day partitions from ``first`` on (pruned by path, not read and dropped)."""
    table = lake.dataset(kind).to_table(columns=columns, filter=pc.field(day_column) >= first)
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _latest_stories(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (r["updated_at"], r["run_id"])):
        latest[row["story_id"]] = row
    return latest


def _link(article: dict[str, Any], names: dict[str, str]) -> ArticleLink:
    return ArticleLink(article["title"] or article["url"], article["url"],
                       names.get(article["source"], article["source"]),
                       f"{article['published_date']}")


def _entities(mentions: list[dict[str, Any]], links: dict[str, ArticleLink]) -> tuple[
        tuple[EntityItem, ...], tuple[EntityItem, ...]]:
    named: dict[str, list[str]] = defaultdict(list)
    about: dict[str, dict[str, Any]] = {}
    for m in sorted(mentions, key=lambda m: m["article_id"]):
        named[m["entity_id"]].append(m["article_id"])
        about[m["entity_id"]] = m
    order = sorted(named, key=lambda e: (-len(named[e]), e))

    def items(places: bool) -> tuple[EntityItem, ...]:
        chosen = [e for e in order if (about[e]["kind"] in PLACE_KINDS) == places]
        return tuple(EntityItem(e, about[e]["name"], about[e]["kind"],
                                tuple(links[a] for a in named[e] if a in links))
                     for e in chosen[:TOP_ENTITIES])

    return items(True), items(False)


def _watchlists(lake: Lake, run: dict[str, Any], runs: list[dict[str, Any]], first: date,
                last: date, links: dict[str, ArticleLink]) -> tuple[WatchlistItem, ...]:
    matches = list({(m["watchlist_id"], m["article_id"]): m for m in [
        *_rows(lake, "watchlist_matches", "published_date", first, None),
        *_run_rows(lake, run, "watchlist_matches")]}.values())
    names: dict[str, str] = {}
    for manifest in runs:
        names.update(manifest.get("watchlist_names") or {})
    per_day: dict[str, Counter[date]] = defaultdict(Counter)
    matched: dict[str, list[str]] = defaultdict(list)
    for m in sorted(matches, key=lambda m: (m["published_date"], m["article_id"])):
        per_day[m["watchlist_id"]][m["published_date"]] += 1
        matched[m["watchlist_id"]].append(m["article_id"])
    newest_first = [last - timedelta(days=n) for n in range(DAYS)]
    items = []
    for wid in sorted(set(per_day) | set(run.get("watchlists") or {})):
        counts = per_day[wid]
        day_counts = [counts.get(day, 0) for day in newest_first]
        series = charts.Series("matched", "مطابقات / matches", day_counts)
        svg = charts.stacked_bars([f"{d}" for d in newest_first], [series], label=wid)
        items.append(WatchlistItem(
            wid, names.get(wid, wid), int((run.get("watchlists") or {}).get(wid, 0)),
            sum(day_counts), Markup(svg),
            tuple(links[a] for a in reversed(matched[wid]) if a in links)))
    return tuple(items)
