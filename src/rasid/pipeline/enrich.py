"""The enrich stage, between check and write: stories, mentions and watchlist matches.

Open stories are read from the stories table's partitions of the last ``2 × window`` days
only (each run appends the new state of the stories it changed, partitioned by last_seen, so
the latest row of a story is its state): a run reads a bounded slice, whatever the history.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rasid.enrich.analyse import analyse
from rasid.enrich.mentions import Matcher, default_matcher
from rasid.enrich.stories import Assigner, Story, StorySettings
from rasid.enrich.watchlists import BASELINE_DAYS, Spike, Watchlist, load_watchlists, spike
from rasid.pipeline.record import ArticleRow, MatchRow, MentionRow, StoryRow
from rasid.storage import Lake


@dataclass
class Enricher:
    """The enrich stage's state for one run."""

    matcher: Matcher
    assigner: Assigner
    watchlists: list[Watchlist]
    run_id: str
    matched: Counter[str] = field(default_factory=Counter)  # per watchlist, this run
    daily: dict[str, Counter[date]] = field(default_factory=dict)  # per watchlist, stored+run
    story_daily: dict[str, Counter[date]] = field(default_factory=dict)  # per story, likewise

    def enrich(self, articles: list[ArticleRow]) -> tuple[list[MentionRow], list[MatchRow]]:
        """Set each article's story_id; return its mentions and watchlist-match rows."""
        now = datetime.now(UTC)
        analysed = [analyse(self.matcher, article_id=r.article_id, source=r.source,
                            day=_day(r), title=r.title, body=r.body,
                            cluster=r.near_duplicate_cluster) for r in articles]
        story_ids = self.assigner.assign([a.doc for a in analysed])
        mentions: list[MentionRow] = []
        matches: list[MatchRow] = []
        for row, result, story_id in zip(articles, analysed, story_ids, strict=True):
            row.story_id = story_id
            self.story_daily.setdefault(story_id, Counter())[_day(row)] += 1
            where: dict[str, Any] = {"article_id": row.article_id, "story_id": story_id,
                                     "source": row.source, "published_date": _day(row),
                                     "run_id": self.run_id}
            mentions += [MentionRow(entity_id=m.entity_id, kind=m.kind, name=m.name,
                                    count=m.count, first_position=m.first_position,
                                    enriched_at=now, **where) for m in result.mentions]
            for watchlist in self.watchlists:
                if watchlist.matches(result.words):
                    self.matched[watchlist.id] += 1
                    self.daily.setdefault(watchlist.id, Counter())[_day(row)] += 1
                    matches.append(MatchRow(watchlist_id=watchlist.id, title=row.title,
                                            matched_at=now, **where))
        return mentions, matches

    def story_rows(self) -> list[StoryRow]:
        """The state of every story this run created or grew."""
        now = datetime.now(UTC)
        rows = []
        for story_id in sorted(self.assigner.changed):
            story = self.assigner.story(story_id)
            terms = story.top_terms()
            counts = story.towns + story.governorates
            places = sorted(counts, key=lambda p: (-counts[p], p))
            rows.append(StoryRow(
                story_id=story.story_id, run_id=self.run_id,
                first_seen=story.first_seen, last_seen=story.last_seen,
                title=story.title, article_count=story.article_count,
                sources=sorted(story.sources),
                independent_sources=story.independent_sources,
                original_sources=sorted(story.original_sources),
                top_terms=[t for t, _ in terms], term_weights=[w for _, w in terms],
                places=places, place_counts=[counts[p] for p in places],
                entities=sorted(story.entities), clusters=sorted(story.clusters),
                updated_at=now,
            ))
        return rows

    def spikes(self, day: date) -> dict[str, Spike]:
        """Watchlists whose count on ``day`` is a spike (rasid.enrich.watchlists)."""
        return {wid: found for wid, counts in sorted(self.daily.items())
                if (found := spike(counts, day)) is not None}

    def story_spikes(self, day: date) -> dict[str, tuple[str, Spike]]:
        """Stories whose articles on ``day`` are a spike, by the same rule: story id ->
        (its representative title, the spike). A story new today spikes once it has
        MIN_SPIKE articles of the day."""
        found: dict[str, tuple[str, Spike]] = {}
        for story_id, counts in sorted(self.story_daily.items()):
            if counts.get(day, 0) and (grown := spike(counts, day)) is not None:
                story = (self.assigner.stories.get(story_id)
                         or self.assigner.closed.get(story_id))
                found[story_id] = (story.title if story else "", grown)
        return found


def _day(row: ArticleRow) -> date:
    day: date = row.published_date or row.fetched_at.date()
    return day


def load_enricher(lake: Lake, run_id: str, today: date, *,
                  watchlists: str | Path | list[Watchlist] | None = None,
                  settings: StorySettings | None = None) -> Enricher:
    """The stage for a run: open stories, and the daily counts of the watchlists and of the
    stories over the spike rule's baseline (the tables' partitions of those days only)."""
    settings = settings or StorySettings()
    since = today - timedelta(days=2 * settings.window_days)
    stories = [_story(r) for r in _latest(_read_days(lake, "stories", "last_seen", since, today))]
    lists = (watchlists if isinstance(watchlists, list)
             else load_watchlists(watchlists) if watchlists else [])
    daily: dict[str, Counter[date]] = {}
    baseline_from = today - timedelta(days=BASELINE_DAYS)
    for row in _read_days(lake, "watchlist_matches", "published_date", baseline_from, today,
                          columns=["watchlist_id"]):
        daily.setdefault(row["watchlist_id"], Counter())[row["published_date"]] += 1
    story_daily: dict[str, Counter[date]] = {}
    for row in _read_days(lake, "articles", "published_date", baseline_from, today,
                          columns=["story_id"]):
        if row["story_id"]:
            story_daily.setdefault(row["story_id"], Counter())[row["published_date"]] += 1
    return Enricher(default_matcher(), Assigner(stories, settings), lists, run_id, daily=daily,
                    story_daily=story_daily)


def _read_days(lake: Lake, kind: str, column: str, first: date, last: date,
               columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows (``columns`` of them, default all) of a table's committed files in the day
    partitions first..last (by path: the files of other days are neither opened nor read)."""
    days = {f"{column}={first + timedelta(days=n)}" for n in range((last - first).days + 1)}
    rows = []
    for key in lake.committed_files(kind):
        partition = next((d for d in days if f"/{d}/" in key), None)
        if partition is not None:
            value = date.fromisoformat(partition.split("=", 1)[1])
            table = lake.read_files(kind, [key], columns)
            rows += [r | {column: value} for r in table.to_pylist()]
    return rows


def _latest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (r["updated_at"], r["run_id"])):
        latest[row["story_id"]] = row
    return list(latest.values())


def _story(row: dict[str, Any]) -> Story:
    places = list(zip(row["places"], row["place_counts"], strict=True))
    return Story(story_id=row["story_id"], first_seen=row["first_seen"],
                 last_seen=row["last_seen"], title=row["title"],
                 terms=dict(zip(row["top_terms"], row["term_weights"], strict=True)),
                 article_count=row["article_count"], sources=set(row["sources"]),
                 original_sources=set(row["original_sources"]),
                 towns=Counter({p: n for p, n in places if not p.startswith("iso3166-2:")}),
                 governorates=Counter({p: n for p, n in places if p.startswith("iso3166-2:")}),
                 entities=set(row["entities"]), clusters=set(row["clusters"]))
