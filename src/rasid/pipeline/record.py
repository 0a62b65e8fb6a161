"""The typed rows of the lake's tables, checked against their contracts once.

A row is built with keywords, so a missing or misspelt column fails where the row is built,
not when the batch is written; slots make a misspelt attribute fail where it is set. When this
module is imported, each record's fields are compared with its contract's columns and Arrow
types: a contract edit that the record does not follow stops the package from starting.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, ClassVar

import pyarrow as pa

from rasid import contract


class Row:
    """A row of one of the lake's tables (``TABLE``)."""

    __slots__ = ()
    TABLE: ClassVar[str]

    def columns(self) -> dict[str, Any]:
        """The row as its table's storage takes it: one entry per contract column."""
        return {name: getattr(self, name) for name in contract.columns(self.TABLE)}


@dataclass(slots=True, kw_only=True)
class ArticleRow(Row):
    """One fetched page as the articles table stores it (every column, in contract order),
    plus the run's day, which articles leave out (they are partitioned by published_date)."""

    TABLE: ClassVar[str] = "articles"

    article_id: str
    url: str
    canonical_url: str | None
    source: str
    published_date: date | None
    title: str | None
    author: str | None
    published_at: datetime | None  # required once stored; a row without one is quarantined
    date_source: str | None
    body: str
    language: str | None
    word_count: int
    arabic_ratio: float
    body_hash: str
    near_duplicate_of: str | None  # set by the check step, against the batch and the lake
    near_duplicate_cluster: str | None
    repeated_share: float
    flags: list[str]
    discovered_via: str | None
    http_status: int | None
    encoding: str | None
    fetched_at: datetime
    run_id: str
    story_id: str | None = None  # set by the enrich stage for stored articles
    run_date: date  # not an articles column: the quarantine's partition if the row goes there
    # Not a column either: the body's MinHash as the worker computed it (Extracted.minhash);
    # None makes the check step compute it. Stored articles' signatures go to the manifest.
    minhash: bytes | None = None


@dataclass(slots=True, kw_only=True)
class QuarantineRow(ArticleRow):
    """A row a blocking check held back, with the checks' reasons."""

    TABLE: ClassVar[str] = "quarantine"

    reasons: list[str]

    @classmethod
    def of(cls, row: ArticleRow, reasons: list[str]) -> QuarantineRow:
        return cls(**{f.name: getattr(row, f.name) for f in fields(row)}, reasons=reasons)


@dataclass(slots=True, kw_only=True)
class MentionRow(Row):
    """A place, person or organisation a stored article names (the enrich stage)."""

    TABLE: ClassVar[str] = "mentions"

    article_id: str
    entity_id: str
    kind: str  # "place", "person", "organisation"
    name: str
    count: int
    first_position: int
    story_id: str | None
    source: str
    published_date: date
    run_id: str
    enriched_at: datetime


@dataclass(slots=True, kw_only=True)
class MatchRow(Row):
    """A stored article that matches a watchlist's query."""

    TABLE: ClassVar[str] = "watchlist_matches"

    watchlist_id: str
    article_id: str
    story_id: str | None
    title: str | None
    source: str
    published_date: date
    run_id: str
    matched_at: datetime


@dataclass(slots=True, kw_only=True)
class StoryRow(Row):
    """The state of a story after a run that created or grew it (the latest row wins)."""

    TABLE: ClassVar[str] = "stories"

    story_id: str
    run_id: str
    first_seen: date
    last_seen: date
    title: str
    article_count: int
    sources: list[str]
    independent_sources: int  # syndicated copies counted once
    original_sources: list[str]
    top_terms: list[str]
    term_weights: list[float]
    places: list[str]
    place_counts: list[int]
    entities: list[str]
    clusters: list[str]
    updated_at: datetime


# Python types each Arrow type of the contracts is written from.
_PYTHON: dict[pa.DataType, type] = {
    pa.string(): str, pa.date32(): date, pa.timestamp("us", tz="UTC"): datetime,
    pa.int32(): int, pa.int16(): int, pa.float64(): float, pa.list_(pa.string()): list,
    pa.list_(pa.float64()): list, pa.list_(pa.int32()): list,
}


def _check(record: type[Any], extra: frozenset[str] = frozenset()) -> None:
    """Fail unless ``record`` has exactly its contract's columns (plus ``extra``), each typed
    as its Arrow type. Nullability is left to the codec: a row is built before the check step
    decides its table, and a quarantined row may lack what a stored article requires."""
    schema = contract.arrow_schema(record.TABLE, include_partitions=True)
    hints = typing.get_type_hints(record)
    declared = {f.name for f in fields(record)}
    if declared != set(schema.names) | extra:
        raise TypeError(f"{record.__name__} fields differ from the {record.TABLE} contract: "
                        f"missing {sorted(set(schema.names) - declared)}, "
                        f"unknown {sorted(declared - set(schema.names) - extra)}")
    for column in schema:
        hint = hints[column.name]
        args = set(typing.get_args(hint)) if isinstance(hint, types.UnionType) else {hint}
        base = (args - {type(None)}).pop()
        if (typing.get_origin(base) or base) is not _PYTHON[column.type]:
            raise TypeError(f"{record.__name__}.{column.name} is {hint}, the {record.TABLE} "
                            f"contract says {column.type}")


_check(ArticleRow, frozenset({"run_date", "minhash"}))
_check(QuarantineRow, frozenset({"minhash"}))
for _record in (MentionRow, MatchRow, StoryRow):
    _check(_record)
