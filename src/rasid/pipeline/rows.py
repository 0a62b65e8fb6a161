"""Rows: one per fetched page, built once, checked by the suite, split into articles and
quarantine (with reasons); nothing is dropped."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from rasid import checks, neardup
from rasid.config import Source
from rasid.models import Extracted, Page
from rasid.pipeline.record import ArticleRow, MatchRow, MentionRow, QuarantineRow
from rasid.pipeline.state import LakeState, _timestamp
from rasid.urls import url_id

LOGGER = logging.getLogger(__name__)


def extract_kwargs(page: Page, source: Source, now: datetime) -> dict[str, Any]:
    hint = page.candidate.published_hint if page.candidate else None
    return {
        "published_hint": hint,
        "hint_source": page.candidate.via if page.candidate and hint else None,
        "timezone": source.timezone,
        "now": now,
        "founded": source.founded,
    }


def build_row(
    page: Page, extracted: Extracted, source: Source, run_id: str, run_date: date
) -> ArticleRow:
    """One row with every contract column (articles and quarantine share them)."""
    return ArticleRow(
        article_id=url_id(page.url),
        url=page.url,
        canonical_url=extracted.canonical_url,
        source=source.id,
        published_date=extracted.published_date,
        title=extracted.title,
        author=extracted.author,
        published_at=extracted.published_at,
        date_source=extracted.date_source,
        body=extracted.body,
        language=extracted.language,
        word_count=extracted.word_count,
        arabic_ratio=extracted.arabic_ratio,
        body_hash=extracted.body_hash,
        near_duplicate_of=None,
        near_duplicate_cluster=None,
        repeated_share=extracted.repeated_share,
        flags=sorted(set(extracted.flags)),
        discovered_via=page.candidate.via if page.candidate else None,
        http_status=page.status,
        encoding=page.encoding,
        fetched_at=page.fetched_at,
        run_id=run_id,
        run_date=run_date,
        minhash=extracted.minhash,
    )


def _check_frame(
    rows: list[ArticleRow], sources: dict[str, Source], duplicate_of: list[str | None]
) -> pd.DataFrame:
    """The helper columns the suite reads."""
    published: list[Any] = [r.published_at for r in rows]  # None becomes NaT
    return pd.DataFrame(
        {
            "article_id": [r.article_id for r in rows],
            "published_at": pd.to_datetime(published, utc=True),
            "word_count": [r.word_count for r in rows],
            "duplicate_of": duplicate_of,
            "near_duplicate_of": [r.near_duplicate_of for r in rows],
            "arabic_ratio": [r.arabic_ratio for r in rows],
            "min_arabic_ratio": [sources[r.source].arabic_threshold for r in rows],
            "language_matches": [
                r.language in (None, sources[r.source].language) for r in rows
            ],
            "body_repeated": ["body_repeated" in r.flags for r in rows],
            "date_plausible": [
                not any(f in r.flags for f in ("date_future", "date_implausible_old"))
                for r in rows
            ],
        }
    )


def _duplicates(
    rows: list[ArticleRow], eligible: list[bool], state: LakeState
) -> list[str | None]:
    """For each row, the earlier stored copy of its body, if any. Only rows that pass every
    other blocking check can own a body: a copy without a date must not push out a good one."""
    owner: dict[str, str] = {}  # this batch's bodies, over the lake's
    out: list[str | None] = []
    for row, ok in zip(rows, eligible, strict=True):
        first = owner.get(row.body_hash) or state.body_owner.get(row.body_hash)
        if first is None and ok and row.body:
            owner[row.body_hash] = row.article_id
        out.append(first if first and first != row.article_id else None)
    return out


def _near_duplicates(
    rows: list[ArticleRow], can_own: list[bool], state: LakeState
) -> dict[str, str]:
    """Set each row's near-duplicate cluster and earliest copy, against the lake and the rows
    before it; return the signatures of rows that may own a cluster (by article_id), for the
    run's manifest: that is how later runs know what the lake holds."""
    # The workers' signatures; rows built without one (by hand, in tests) are signed here.
    unsigned = [r for r in rows if r.minhash is None]
    signed = dict(zip((id(r) for r in unsigned),
                      neardup.signatures([r.body for r in unsigned]), strict=True))
    found = [neardup.from_bytes(r.minhash) if r.minhash is not None else signed[id(r)]
             for r in rows]
    items = [neardup.Item(r.article_id, signature, _timestamp(r.published_at), ok)
             for r, signature, ok in zip(rows, found, can_own, strict=True)]
    for row, verdict in zip(rows, neardup.assign(state.near, items), strict=True):
        row.near_duplicate_cluster = verdict.cluster
        row.near_duplicate_of = verdict.duplicate_of
    return {item.article_id: neardup.encode(item.signature) for item in items
            if item.can_own and item.signature is not None}


def _copy_order(row: ArticleRow) -> tuple[Any, ...]:
    # Between copies published at the same moment the URL decides, not the fetch order: a
    # rerun (after a kill, or a reprocess) must keep the same copy.
    published = row.published_at or datetime.max.replace(tzinfo=UTC)
    return (published, row.url)


# The columns that say a row copies another, and the reasons the suite gives for them.
_COPY_COLUMNS = frozenset({"duplicate_of", "near_duplicate_of"})
_COPY_REASONS = frozenset(r.reason for r in checks.rules() if r.column in _COPY_COLUMNS)


@dataclass
class CheckedBatch:
    articles: list[ArticleRow]
    quarantine: list[QuarantineRow]
    outcome: checks.CheckOutcome
    signatures: dict[str, str] = field(default_factory=dict)  # article_id -> MinHash, encoded
    mentions: list[MentionRow] = field(default_factory=list)  # set by the enrich stage
    matches: list[MatchRow] = field(default_factory=list)  # watchlist matches, likewise


def check_rows(
    rows: list[ArticleRow], sources: dict[str, Source], state: LakeState
) -> CheckedBatch:
    """Run the suite; split rows into articles and quarantine (with reasons); never drop one."""
    # Rows are ordered oldest first so the earliest copy of a body is the one kept.
    rows = sorted(rows, key=_copy_order)
    # Which rows may own a body depends on what else blocks them: forecast from the suite,
    # then confirmed by its one run over the batch. Where the forecast was wrong (or the suite
    # holds what it cannot forecast: then nothing is taken as blocked), the suite's own
    # verdict decides and it runs again.
    blocked = checks.predict_blocked(_check_frame(rows, sources, [None] * len(rows)),
                                     ignore=_COPY_COLUMNS) or [False] * len(rows)
    while True:
        eligible = [not b for b in blocked]
        duplicate_of = _duplicates(rows, eligible, state)
        # An exact copy is quarantined: it must not become the earliest copy of a cluster.
        can_own = [ok and copy is None for ok, copy in zip(eligible, duplicate_of, strict=True)]
        signatures = _near_duplicates(rows, can_own, state)
        outcome = checks.validate(_check_frame(rows, sources, duplicate_of))
        verdict = [bool(set(outcome.blocking(r.article_id)) - _COPY_REASONS) for r in rows]
        if verdict == blocked:
            break
        LOGGER.warning("the suite blocked other rows than forecast: checking the batch again")
        blocked = verdict
    articles: list[ArticleRow] = []
    quarantine: list[QuarantineRow] = []
    for row in rows:
        warnings = outcome.warnings.get(row.article_id, [])
        row.flags = sorted(set(row.flags) | set(warnings))
        reasons = outcome.blocking(row.article_id)
        if reasons:
            quarantine.append(QuarantineRow.of(row, sorted(set(reasons))))
        else:
            articles.append(row)
    return CheckedBatch(articles, quarantine, outcome, signatures)
