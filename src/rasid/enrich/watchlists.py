"""Watchlists: named queries evaluated on every stored article, and the spike rule.

A query is words and "quoted phrases" combined with AND, OR, NOT and parentheses; words side
by side mean AND. Words are compared as stems (rasid.enrich.terms), so ``حريق`` matches
"الحريق" and "وبالحريق", ``fire`` matches "fires"; a phrase matches its words' stems in a row.
The Arabic and English forms of a subject go in one query with OR.

Spike rule (a watchlist's or a story's articles per day): day D is a spike when its count is
at least ``MIN_SPIKE`` and reaches the mean of the 28 days before D plus three
standard deviations, the deviation taken as at least 1 (and as at least the square root of
the mean, as for counts that vary like Poisson ones). Days without articles count as 0, so a
subject new to the news spikes once it reaches MIN_SPIKE in a day.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from rasid.enrich.terms import stems

BASELINE_DAYS = 28
MIN_SPIKE = 3
_TOKEN = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"|([^\s()"]+))')


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class _Node:
    op: str  # "term" | "phrase" | "and" | "or" | "not"
    stems: tuple[str, ...] = ()
    children: tuple[_Node, ...] = ()

    def matches(self, words: set[str], text: Sequence[str]) -> bool:
        if self.op == "term":
            return self.stems[0] in words
        if self.op == "phrase":
            return _has_run(text, self.stems) if all(s in words for s in self.stems) else False
        if self.op == "not":
            return not self.children[0].matches(words, text)
        results = (child.matches(words, text) for child in self.children)
        return all(results) if self.op == "and" else any(results)


def _has_run(text: Sequence[str], run: tuple[str, ...]) -> bool:
    n = len(run)
    return any(tuple(text[i:i + n]) == run for i, w in enumerate(text) if w == run[0])


def parse(query: str) -> _Node:
    """The query's tree; QueryError on unbalanced parentheses or a dangling operator."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(query.rstrip()):
        found = _TOKEN.match(query, position)
        if found is None:
            raise QueryError(f"cannot read the query from {query[position:]!r}")
        position = found.end()
        opened, closed, phrase, word = found.groups()
        if opened or closed:
            tokens.append(("paren", opened or closed))
        elif phrase is not None:
            tokens.append(("phrase", phrase))
        elif word in ("AND", "OR", "NOT"):
            tokens.append(("op", word))
        else:
            tokens.append(("word", word))
    node, rest = _or(tokens)
    if rest:
        raise QueryError(f"unexpected {rest[0][1]!r} in {query!r}")
    return node


Tokens = list[tuple[str, str]]


def _or(tokens: Tokens) -> tuple[_Node, Tokens]:
    parts = []
    node, tokens = _and(tokens)
    parts.append(node)
    while tokens and tokens[0] == ("op", "OR"):
        node, tokens = _and(tokens[1:])
        parts.append(node)
    return (parts[0] if len(parts) == 1 else _Node("or", children=tuple(parts))), tokens


def _and(tokens: Tokens) -> tuple[_Node, Tokens]:
    parts = []
    node, tokens = _not(tokens)
    parts.append(node)
    while tokens and tokens[0] not in (("op", "OR"), ("paren", ")")):
        if tokens[0] == ("op", "AND"):
            tokens = tokens[1:]
        node, tokens = _not(tokens)
        parts.append(node)
    return (parts[0] if len(parts) == 1 else _Node("and", children=tuple(parts))), tokens


def _not(tokens: Tokens) -> tuple[_Node, Tokens]:
    if not tokens:
        raise QueryError("the query ends where a word was expected")
    kind, value = tokens[0]
    if (kind, value) == ("op", "NOT"):
        node, rest = _not(tokens[1:])
        return _Node("not", children=(node,)), rest
    if (kind, value) == ("paren", "("):
        node, rest = _or(tokens[1:])
        if not rest or rest[0] != ("paren", ")"):
            raise QueryError("a parenthesis is not closed")
        return node, rest[1:]
    if kind in ("word", "phrase"):
        words = tuple(stems(value, drop_stop_words=False))
        if not words:
            raise QueryError(f"{value!r} has no word to search for")
        return _Node("term" if kind == "word" and len(words) == 1 else "phrase", words), tokens[1:]
    raise QueryError(f"unexpected {value!r}")


class Watchlist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    query: str

    @field_validator("query")
    @classmethod
    def _parses(cls, query: str) -> str:
        parse(query)
        return query

    def matches(self, words: Sequence[str]) -> bool:
        """Whether an article, given as its stems in order (stop words kept), matches."""
        return _parsed(self.query).matches(set(words), words)


_cache: dict[str, _Node] = {}


def _parsed(query: str) -> _Node:
    if query not in _cache:
        _cache[query] = parse(query)
    return _cache[query]


class _WatchlistFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    watchlists: list[Watchlist]


def load_watchlists(path: str | Path) -> list[Watchlist]:
    return parse_watchlists(Path(path).read_text(encoding="utf-8"), str(path))


def parse_watchlists(text: str, origin: str) -> list[Watchlist]:
    """The watchlists of a watchlists.yaml's text (``origin`` names it in errors)."""
    data = yaml.safe_load(text) or {"watchlists": []}
    watchlists = _WatchlistFile.model_validate(data).watchlists
    ids = [w.id for w in watchlists]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{origin}: watchlist ids repeat")
    return watchlists


@dataclass(frozen=True)
class Spike:
    day: date
    count: int
    baseline_mean: float
    threshold: float


def spike(daily: Mapping[date, int], day: date) -> Spike | None:
    """The spike of ``day`` under the rule in this module's docstring, or None."""
    history = [daily.get(day - timedelta(days=offset), 0)
               for offset in range(1, BASELINE_DAYS + 1)]
    mean = sum(history) / BASELINE_DAYS
    deviation = math.sqrt(sum((n - mean) ** 2 for n in history) / BASELINE_DAYS)
    threshold = mean + 3 * max(deviation, math.sqrt(mean), 1.0)
    count = daily.get(day, 0)
    if count >= MIN_SPIKE and count >= threshold:
        return Spike(day, count, round(mean, 3), round(threshold, 3))
    return None
