"""Stories: reports of one event across outlets and days, assigned one article at a time.

An article is a vector of stemmed title and lead terms (rasid.enrich.terms), weighted by how
rare each term is among the open stories (a term every story has tells none apart). It joins
the open story whose centroid it is most similar to, when

- the story was last seen at most ``window_days`` before the article's day (and the article
  is not older than the story by more than that), and the similarity reaches ``threshold``,
  raised by ``day_penalty`` for each day between them: a fire in the same market three days
  later is more likely another fire;
- their places agree: when both name Syrian towns or neighbourhoods in the title or the lead,
  they share one (a neighbourhood counts as its town too), and likewise for governorates. A
  story's places are those at least half as many of its articles name as its most named one:
  a town one article names in passing does not open the story to that town's events.
  Two fires in two cities are two stories however alike the words.

Otherwise the article opens a story. A syndicated copy (the same near_duplicate_cluster as
an article already placed) joins that article's story without a vote and does not count as an
independent source. Articles are taken in (day, article id) order and ties go to the lower
story id, so the same input and state give the same stories. Each article is compared only
with stories sharing its salient terms or a town (inverted indexes over the open stories), and
stories past the window leave the index: cost grows with articles, not with history.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from rasid.enrich.terms import cosine

TOP_TERMS = 40  # terms a story keeps (its centroid), stored in the stories table
QUERY_TERMS = 12  # an article's most salient terms, used to find candidate stories
MIN_SHARED = 2  # candidate stories share at least this many of them
LOCAL_KINDS = ("city", "neighbourhood")
# Pseudo-stories added to the count in the inverse story frequency: with few open stories, a
# term shared by the story under comparison would otherwise weigh far less than the article's
# other terms, and paraphrases of one event would be pushed apart by the words they share.
IDF_PRIOR = 10


@dataclass(frozen=True)
class StorySettings:
    window_days: int = 3
    threshold: float = 0.18
    day_penalty: float = 0.06
    place_bonus: float = 0.05  # added when the article names one of the story's towns


@dataclass(frozen=True)
class Doc:
    """An article as story assignment sees it."""

    article_id: str
    source: str
    day: date
    title: str
    terms: Counter[str]
    towns: frozenset[str] = frozenset()  # towns and neighbourhoods of the title and lead
    governorates: frozenset[str] = frozenset()  # theirs and those named
    entities: frozenset[str] = frozenset()  # people and organisations named
    cluster: str | None = None  # near_duplicate_cluster


@dataclass
class Story:
    story_id: str
    first_seen: date
    last_seen: date
    title: str
    terms: dict[str, float]  # the centroid: sum of member vectors, top TOP_TERMS kept
    article_count: int = 0
    sources: set[str] = field(default_factory=set)
    original_sources: set[str] = field(default_factory=set)  # outlets with a non-copy member
    towns: Counter[str] = field(default_factory=Counter)  # articles naming each
    governorates: Counter[str] = field(default_factory=Counter)
    entities: set[str] = field(default_factory=set)
    clusters: set[str] = field(default_factory=set)

    @property
    def independent_sources(self) -> int:
        return len(self.original_sources)

    def top_terms(self) -> list[tuple[str, float]]:
        return sorted(self.terms.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TERMS]


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {t: v / norm for t, v in vector.items()} if norm else {}


class Assigner:
    """Open stories and their index; ``assign`` places a batch of articles."""

    def __init__(self, stories: Iterable[Story] = (), settings: StorySettings | None = None):
        self.settings = settings or StorySettings()
        self.stories: dict[str, Story] = {}
        self._postings: dict[str, set[str]] = {}
        self._by_cluster: dict[str, str] = {}
        self._by_town: dict[str, set[str]] = {}
        self._norms: dict[str, float] = {}  # each story centroid's length, once per change
        self._expired_to: date | None = None  # the latest day stories were expired for
        self.changed: set[str] = set()  # stories a batch created or grew
        self.closed: dict[str, Story] = {}  # changed stories that have left the window since
        for story in stories:
            self._index(story)

    def _index(self, story: Story) -> None:
        self.stories[story.story_id] = story
        for term, _ in story.top_terms():
            self._postings.setdefault(term, set()).add(story.story_id)
        for town in story.towns:
            self._by_town.setdefault(town, set()).add(story.story_id)
        for cluster in story.clusters:
            self._by_cluster.setdefault(cluster, story.story_id)

    def _unindex(self, story: Story) -> None:
        for index, keys in ((self._postings, story.terms), (self._by_town, story.towns)):
            for key in keys:
                postings = index.get(key)
                if postings is not None:
                    postings.discard(story.story_id)
                    if not postings:
                        del index[key]

    def story(self, story_id: str) -> Story:
        """An open story, or a changed one that has closed since."""
        return self.stories.get(story_id) or self.closed[story_id]

    def _idf(self, term: str) -> float:
        frequency = len(self._postings.get(term, ()))
        return math.log((len(self.stories) + IDF_PRIOR) / (frequency + 1)) + 1.0

    def vector(self, doc: Doc) -> dict[str, float]:
        return _unit({t: (1.0 + math.log(c)) * self._idf(t) for t, c in doc.terms.items()})

    def assign(self, docs: Sequence[Doc]) -> list[str]:
        """The story id of each doc, in the order given."""
        out: dict[str, str] = {}
        for doc in sorted(docs, key=lambda d: (d.day, d.article_id)):
            self._expire(doc.day)
            out[doc.article_id] = self._place(doc)
        return [out[doc.article_id] for doc in docs]

    def _expire(self, today: date) -> None:
        """Stories past the window stop being candidates; a changed one is kept aside, its
        state still to be written."""
        if self._expired_to is not None and today <= self._expired_to:
            return  # nothing more can have aged out since the last look
        self._expired_to = today
        limit = 2 * self.settings.window_days
        for story in [s for s in self.stories.values() if (today - s.last_seen).days > limit]:
            self._unindex(story)
            del self.stories[story.story_id]
            self._norms.pop(story.story_id, None)
            if story.story_id in self.changed:
                self.closed[story.story_id] = story
            for cluster in story.clusters:
                if self._by_cluster.get(cluster) == story.story_id:
                    del self._by_cluster[cluster]

    def _place(self, doc: Doc) -> str:
        vector = self.vector(doc)
        copied = self._by_cluster.get(doc.cluster) if doc.cluster else None
        if copied is not None and copied in self.stories:
            self._join(self.stories[copied], doc, vector, copy=True)
            return copied
        best: tuple[float, str] | None = None
        for story_id in self._candidates(vector, doc.towns):
            story = self.stories[story_id]
            score = self._score(story, doc, vector)
            if score is not None and (best is None or score > best[0]):
                best = (score, story_id)
        if best is None:
            story = Story(f"st-{doc.article_id}", doc.day, doc.day, doc.title, {})
            self.stories[story.story_id] = story
            self._join(story, doc, vector, copy=False)
            return story.story_id
        self._join(self.stories[best[1]], doc, vector, copy=False)
        return best[1]

    def _candidates(self, vector: dict[str, float], towns: frozenset[str]) -> list[str]:
        """Open stories sharing MIN_SHARED of the article's salient terms, or a town."""
        salient = sorted(vector, key=lambda t: (-vector[t], t))[:QUERY_TERMS]
        shared = Counter(s for t in salient for s in self._postings.get(t, ()))
        local = {s for town in towns for s in self._by_town.get(town, ())}
        return sorted(local | {s for s, n in shared.items() if n >= MIN_SHARED})

    def _score(self, story: Story, doc: Doc, vector: dict[str, float]) -> float | None:
        """The similarity of doc to story, net of the day penalty; None when they cannot be
        one event (too far apart in time, or in different places)."""
        s = self.settings
        gap = max((doc.day - story.last_seen).days, (story.first_seen - doc.day).days, 0)
        if gap > s.window_days or not _places_agree(story, doc):
            return None
        score = cosine(vector, story.terms) / self._norm(story)
        score += s.place_bonus * bool(_main(story.towns) & doc.towns)
        score -= s.day_penalty * gap
        return score if score >= s.threshold else None

    def _norm(self, story: Story) -> float:
        if story.story_id not in self._norms:
            self._norms[story.story_id] = math.sqrt(sum(v * v for v in story.terms.values())) or 1.0
        return self._norms[story.story_id]

    def _join(self, story: Story, doc: Doc, vector: dict[str, float], *, copy: bool) -> None:
        self._unindex(story)
        self._norms.pop(story.story_id, None)
        for term, weight in vector.items():
            story.terms[term] = story.terms.get(term, 0.0) + weight
        story.terms = dict(story.top_terms())
        story.first_seen = min(story.first_seen, doc.day)
        story.last_seen = max(story.last_seen, doc.day)
        story.article_count += 1
        story.sources.add(doc.source)
        if not copy:
            story.original_sources.add(doc.source)
        story.towns.update(doc.towns)
        story.governorates.update(doc.governorates)
        story.entities |= doc.entities
        if doc.cluster:
            story.clusters.add(doc.cluster)
        self._index(story)
        self.changed.add(story.story_id)


def _places_agree(story: Story, doc: Doc) -> bool:
    towns, governorates = _main(story.towns), _main(story.governorates)
    if towns and doc.towns and not towns & doc.towns:
        return False
    return not (governorates and doc.governorates and not governorates & doc.governorates)


def _main(places: Counter[str]) -> set[str]:
    """The places at least half as many articles name as the most named one."""
    most = max(places.values(), default=0)
    return {place for place, n in places.items() if 2 * n >= most}


def doc_places(place_ids: Iterable[str], kind_of: Callable[[str], str],
               ancestors: Callable[[str], set[str]]) -> tuple[frozenset[str], frozenset[str]]:
    """(towns, governorates) of the places an article names in its title and lead: a
    neighbourhood brings its town, a town its governorate."""
    towns: set[str] = set()
    governorates: set[str] = set()
    for place in place_ids:
        chain = {place} | ancestors(place)
        towns |= {p for p in chain if kind_of(p) in LOCAL_KINDS}
        governorates |= {p for p in chain if kind_of(p) == "governorate"}
    return frozenset(towns), frozenset(governorates)
