"""The collection run as plain steps: select new candidates, build rows, check, write, commit.

The Prefect flow in ``flows/collect.py`` calls these in order; a test can call them directly.
State that drives incremental runs (which URLs are already stored, which bodies are known)
comes only from committed manifests, so a run that died before its commit leaves no trace
a later run would trust.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from rasid import checks, dates, neardup
from rasid.config import Source
from rasid.models import Candidate, Extracted, FetchFailure, Page
from rasid.storage import Lake
from rasid.urls import url_id

MANIFEST_FORMAT = 1


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by start time, unique across concurrent runs."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class LakeState:
    """What committed runs already hold: the basis of incremental runs and duplicate checks."""

    known_ids: set[str] = field(default_factory=set)
    body_owner: dict[str, str] = field(default_factory=dict)  # body_hash -> earliest article_id
    near: neardup.Index = field(default_factory=neardup.Index)  # stored articles' signatures

    def remember(self, record: dict[str, Any]) -> None:
        self.known_ids.add(record["article_id"])
        body_hash = record.get("body_hash")
        if record.get("kind") == "article" and body_hash:
            self.body_owner.setdefault(body_hash, record["article_id"])
        signature = neardup.decode(record.get("minhash"))
        if record.get("kind") == "article" and signature is not None:
            cluster = record.get("near_duplicate_cluster") or record["article_id"]
            self.near.add(record["article_id"], signature, cluster,
                          _timestamp(record.get("published_at")))


def _timestamp(moment: datetime | str | None) -> float | None:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.timestamp() if moment else None


def load_state(lake: Lake) -> LakeState:
    # A run killed between its commit and the end of its publish is finished first, so what
    # the state says is stored is also what readers see.
    lake.publish_pending()
    state = LakeState()
    for manifest in lake.manifests():
        for record in manifest.get("records", []):
            state.remember(record)
        for failure in manifest.get("failures", []):
            if not failure.get("transient", True):
                state.known_ids.add(url_id(failure["url"]))
    return state


@dataclass
class SourceStats:
    """One source's funnel in one run; the report and the Prefect artifact show these."""

    discovered: int = 0
    new: int = 0
    fetched: int = 0
    extracted: int = 0
    stored: int = 0
    quarantined: int = 0
    failed: int = 0
    quarantine_reasons: Counter[str] = field(default_factory=Counter)
    failure_reasons: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it rebuilds a Counter from (key, value) pairs and counts them.
        return {
            name: dict(sorted(value.items())) if isinstance(value, Counter) else value
            for name, value in vars(self).items()
        }


def select_new(candidates: Iterable[Candidate], state: LakeState) -> list[Candidate]:
    """Drop URLs a committed run already stored or found permanently broken."""
    return [c for c in candidates if url_id(c.url) not in state.known_ids]


def published_within(
    candidates: Iterable[Candidate], first: date, last: date, timezone: str
) -> list[Candidate]:
    """Candidates whose feed/sitemap date or URL date falls in [first, last] (the day in the
    source's timezone): what a backfill of those days fetches. Undated ones are left out: a
    backfill fetches what it can tell belongs to the window, not the site's whole archive."""
    zone = ZoneInfo(timezone)
    kept = []
    for candidate in candidates:
        hint = candidate.published_hint
        day = hint.astimezone(zone).date() if hint else dates.url_date(candidate.url)
        if day is not None and first <= day <= last:
            kept.append(candidate)
    return kept


FIRST_BATCH = 100


def interleave(per_source: list[list[Candidate]], batch_size: int,
               first: int = FIRST_BATCH) -> Iterator[list[Candidate]]:
    """Batches that mix sources round-robin, so each batch fetches many hosts at once.

    The first batch holds ``first`` candidates and each next one twice as many, up to
    ``batch_size``; towards the end each takes half of what is left, down to ``first``
    again. Extraction starts as soon as a few pages are in, and the last batch — checked and
    written while the extraction workers have nothing left to do — is a small one; between,
    batches are large enough that each batch's fixed costs (a validation, task runs, files)
    stay small.
    """
    queues = [list(reversed(c)) for c in per_source if c]
    remaining = sum(len(q) for q in queues)
    smallest = growing = max(1, min(first, batch_size))

    def next_size() -> int:
        return min(growing, max(smallest, -(-remaining // 2)))  # -(-a // b): a / b rounded up

    size = next_size()
    batch: list[Candidate] = []
    while queues:
        for queue in list(queues):
            batch.append(queue.pop())
            remaining -= 1
            if not queue:
                queues.remove(queue)
            if len(batch) >= size:
                yield batch
                batch = []
                growing = min(2 * growing, batch_size)
                size = next_size()
    if batch:
        yield batch


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
) -> dict[str, Any]:
    """One row with every contract column (articles and quarantine share them)."""
    return {
        "article_id": url_id(page.url),
        "url": page.url,
        "canonical_url": extracted.canonical_url,
        "source": source.id,
        "published_date": extracted.published_date,
        "title": extracted.title,
        "author": extracted.author,
        "published_at": extracted.published_at,
        "date_source": extracted.date_source,
        "body": extracted.body,
        "language": extracted.language,
        "word_count": extracted.word_count,
        "arabic_ratio": extracted.arabic_ratio,
        "body_hash": extracted.body_hash,
        "near_duplicate_of": None,  # set by the check step, against the batch and the lake
        "near_duplicate_cluster": None,
        "repeated_share": extracted.repeated_share,
        "flags": sorted(set(extracted.flags)),
        "discovered_via": page.candidate.via if page.candidate else None,
        "http_status": page.status,
        "encoding": page.encoding,
        "fetched_at": page.fetched_at,
        "run_id": run_id,
        "run_date": run_date,
    }


def _check_frame(
    rows: list[dict[str, Any]], sources: dict[str, Source], duplicate_of: list[str | None]
) -> pd.DataFrame:
    """The helper columns the suite reads."""
    return pd.DataFrame(
        {
            "article_id": [r["article_id"] for r in rows],
            "published_at": pd.to_datetime([r["published_at"] for r in rows], utc=True),
            "word_count": [r["word_count"] for r in rows],
            "duplicate_of": duplicate_of,
            "near_duplicate_of": [r["near_duplicate_of"] for r in rows],
            "arabic_ratio": [r["arabic_ratio"] for r in rows],
            "min_arabic_ratio": [sources[r["source"]].arabic_threshold for r in rows],
            "language_matches": [
                r["language"] in (None, sources[r["source"]].language) for r in rows
            ],
            "body_repeated": ["body_repeated" in r["flags"] for r in rows],
            "date_plausible": [
                not any(f in r["flags"] for f in ("date_future", "date_implausible_old"))
                for r in rows
            ],
        }
    )


def _duplicates(
    rows: list[dict[str, Any]], eligible: list[bool], state: LakeState
) -> list[str | None]:
    """For each row, the earlier stored copy of its body, if any. Only rows that pass every
    other blocking check can own a body: a copy without a date must not push out a good one."""
    owner = dict(state.body_owner)
    out: list[str | None] = []
    for row, ok in zip(rows, eligible, strict=True):
        first = owner.get(row["body_hash"])
        if first is None and ok and row["body"]:
            owner[row["body_hash"]] = row["article_id"]
        out.append(first if first and first != row["article_id"] else None)
    return out


def _near_duplicates(
    rows: list[dict[str, Any]], can_own: list[bool], state: LakeState
) -> dict[str, str]:
    """Set each row's near-duplicate cluster and earliest copy, against the lake and the rows
    before it; return the signatures of rows that may own a cluster (by article_id), for the
    run's manifest: that is how later runs know what the lake holds."""
    found = neardup.signatures([r["body"] for r in rows])
    items = [neardup.Item(r["article_id"], signature, _timestamp(r["published_at"]), ok)
             for r, signature, ok in zip(rows, found, can_own, strict=True)]
    for row, verdict in zip(rows, neardup.assign(state.near, items), strict=True):
        row["near_duplicate_cluster"] = verdict.cluster
        row["near_duplicate_of"] = verdict.duplicate_of
    return {item.article_id: neardup.encode(item.signature) for item in items
            if item.can_own and item.signature is not None}


def _copy_order(row: dict[str, Any]) -> tuple[Any, ...]:
    # Between copies published at the same moment the URL decides, not the fetch order: a
    # rerun (after a kill, or a reprocess) must keep the same copy.
    published = row["published_at"] or datetime.max.replace(tzinfo=UTC)
    return (published, row["url"])


@dataclass
class CheckedBatch:
    articles: list[dict[str, Any]]
    quarantine: list[dict[str, Any]]
    outcome: checks.CheckOutcome
    signatures: dict[str, str] = field(default_factory=dict)  # article_id -> MinHash, encoded


def check_rows(
    rows: list[dict[str, Any]], sources: dict[str, Source], state: LakeState
) -> CheckedBatch:
    """Run the suite; split rows into articles and quarantine (with reasons); never drop one."""
    # Rows are ordered oldest first so the earliest copy of a body is the one kept.
    rows = sorted(rows, key=_copy_order)
    first = checks.validate(_check_frame(rows, sources, [None] * len(rows)))
    eligible = [not first.blocking(r["article_id"]) for r in rows]
    duplicate_of = _duplicates(rows, eligible, state)
    # An exact copy is quarantined: it must not become the earliest copy of a cluster either.
    can_own = [ok and copy is None for ok, copy in zip(eligible, duplicate_of, strict=True)]
    signatures = _near_duplicates(rows, can_own, state)
    outcome = checks.validate(_check_frame(rows, sources, duplicate_of))
    articles, quarantine = [], []
    for row in rows:
        run_date = row.pop("run_date")  # the quarantine's partition; articles use published_date
        warnings = outcome.warnings.get(row["article_id"], [])
        row["flags"] = sorted(set(row["flags"]) | set(warnings))
        reasons = outcome.blocking(row["article_id"])
        if reasons:
            quarantine.append({**row, "reasons": sorted(set(reasons)), "run_date": run_date})
        else:
            articles.append(row)
    return CheckedBatch(articles, quarantine, outcome, signatures)


def record_of(row: dict[str, Any], kind: str, minhash: str | None = None) -> dict[str, Any]:
    # A stored article's signature, cluster and time let later runs find its copies.
    near = {"minhash": minhash, "near_duplicate_cluster": row["near_duplicate_cluster"],
            "published_at": row["published_at"] and row["published_at"].isoformat()}
    return {
        "article_id": row["article_id"],
        "url": row["url"],
        "source": row["source"],
        "body_hash": row["body_hash"],
        "title": row["title"],
        "kind": kind,
        **({"reasons": row["reasons"]} if kind == "quarantine" else {}),
        **(near if minhash else {}),
    }


def failure_record(failure: FetchFailure) -> dict[str, Any]:
    return asdict(failure)


@dataclass
class RunSummary:
    """What one run did, per source; also the body of the run's manifest."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    operation: str = "collect"  # or "reprocess"; compaction writes its own manifests
    # Each source's settings as the run used them, so ``rasid reprocess`` can replay the run.
    source_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, SourceStats] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # source id -> its display name
    files: dict[str, list[str]] = field(default_factory=lambda: {"articles": [], "quarantine": [], "raw": []})
    records: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    report: str | None = None

    def stats(self, source_id: str) -> SourceStats:
        return self.sources.setdefault(source_id, SourceStats())

    def add_failures(self, failures: Iterable[FetchFailure]) -> None:
        for failure in failures:
            self.failures.append(failure_record(failure))
            stats = self.stats(failure.source_id)
            stats.failed += 1
            stats.failure_reasons[failure.reason] += 1

    def add_batch(self, batch: CheckedBatch, files: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Count a written batch; return its records (for the run's incremental state)."""
        added = [record_of(r, "article", batch.signatures.get(r["article_id"]))
                 for r in batch.articles]
        added += [record_of(r, "quarantine") for r in batch.quarantine]
        self.records.extend(added)
        for row in batch.articles:
            stats = self.stats(row["source"])
            stats.stored += 1
            stats.warnings.update(row["flags"])
        for row in batch.quarantine:
            stats = self.stats(row["source"])
            stats.quarantined += 1
            stats.quarantine_reasons.update(row["reasons"])
        for kind, keys in files.items():
            self.files.setdefault(kind, []).extend(keys)
        self.checks.extend(batch.outcome.rules)
        return added

    @property
    def totals(self) -> dict[str, int]:
        keys = ("discovered", "new", "fetched", "extracted", "stored", "quarantined", "failed")
        return {k: sum(getattr(s, k) for s in self.sources.values()) for k in keys}

    def manifest(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "operation": self.operation,
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": (self.finished_at or datetime.now(UTC)).isoformat(),
            "totals": self.totals,
            "sources": {k: v.as_dict() for k, v in sorted(self.sources.items())},
            "source_names": self.names,
            "checks": _merge_check_rules(self.checks),
            "files": self.files,
            "records": self.records,
            "failures": self.failures,
            "report": self.report,
            "source_config": self.source_config,
        }


def _merge_check_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for rule in rules:
        entry = merged.setdefault(rule["reason"], {**rule, "checked": 0, "failed": 0})
        entry["checked"] += rule["checked"]
        entry["failed"] += rule["failed"]
        entry["success"] = entry["failed"] == 0
    return list(merged.values())


def write_batch(lake: Lake, run_id: str, part: int, batch: CheckedBatch, pages: list[Page]) -> dict[str, list[str]]:
    """Data files of one batch; invisible to readers of committed data until the commit."""
    files: dict[str, list[str]] = {"raw": [], "articles": [], "quarantine": []}
    by_source: dict[str, list[Page]] = {}
    for page in pages:
        by_source.setdefault(page.source_id, []).append(page)
    for source_id, source_pages in sorted(by_source.items()):
        key = lake.write_raw(source_id, f"{run_id}-{part:04d}", source_pages)
        if key:
            files["raw"].append(key)
    files["articles"] = lake.write_rows("articles", batch.articles, f"{run_id}-{part:04d}")
    files["quarantine"] = lake.write_rows("quarantine", batch.quarantine, f"{run_id}-{part:04d}")
    if batch.outcome.validation:
        # The GX result itself, so Data Docs can be built later from committed runs alone.
        key = f"reports/validations/{run_id}/part-{part:04d}.json"
        files["validations"] = [lake.write_bytes(key, json.dumps(batch.outcome.validation).encode())]
    return files


def commit_run(lake: Lake, summary: RunSummary) -> str:
    summary.finished_at = datetime.now(UTC)
    return lake.commit(summary.run_id, summary.manifest())
