"""What one run did, per source: the counts, the records and the body of its manifest."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from rasid.models import FUNNEL, FetchFailure, Page, Validator
from rasid.pipeline.enrich import Enricher
from rasid.pipeline.record import ArticleRow, QuarantineRow
from rasid.pipeline.rows import CheckedBatch
from rasid.storage import Lake

MANIFEST_FORMAT = 1


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by start time, unique across concurrent runs."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class SourceStats:
    """One source's funnel in one run; the report and the Prefect artifact show these."""

    discovered: int = 0
    new: int = 0
    fetched: int = 0
    archived: int = 0  # read back from the raw archive instead of fetched (a reprocess)
    extracted: int = 0
    stored: int = 0
    quarantined: int = 0
    failed: int = 0
    unchanged: int = 0  # feeds and sitemaps answered "304 Not Modified": nothing to parse
    quarantine_reasons: Counter[str] = field(default_factory=Counter)
    failure_reasons: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it rebuilds a Counter from (key, value) pairs and counts them.
        return {
            name: dict(sorted(value.items())) if isinstance(value, Counter) else value
            for name, value in vars(self).items()
        }


def record_of(row: ArticleRow, minhash: str | None = None) -> dict[str, Any]:
    """The manifest's record of a stored article or quarantined row: what later runs need."""
    # A stored article's signature, cluster and time let later runs find its copies.
    near = {"minhash": minhash, "near_duplicate_cluster": row.near_duplicate_cluster,
            "published_at": row.published_at and row.published_at.isoformat()}
    return {
        "article_id": row.article_id,
        "url": row.url,
        "source": row.source,
        "body_hash": row.body_hash,
        "title": row.title,
        **({"kind": "quarantine", "reasons": row.reasons} if isinstance(row, QuarantineRow)
           else {"kind": "article"}),
        **(near if minhash else {}),
    }


def failure_record(failure: FetchFailure) -> dict[str, Any]:
    record = asdict(failure)
    if record["candidate"] is None:  # kept only for pages the next run asks for again
        del record["candidate"]
    return record


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
    watchlists: dict[str, int] = field(default_factory=dict)  # matches per watchlist, this run
    watchlist_names: dict[str, str] = field(default_factory=dict)
    # Committed files this run supersedes, by kind (a reprocess replaces every row file).
    removes: dict[str, list[str]] = field(default_factory=dict)
    # Per source: the feeds and sitemaps its site points to that sources.yaml does not name.
    site_pointers: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # Per source: feed and sitemap URL -> validators for the next run's conditional requests.
    validators: dict[str, dict[str, Validator]] = field(default_factory=dict)

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
        added = [record_of(r, batch.signatures.get(r.article_id)) for r in batch.articles]
        added += [record_of(r) for r in batch.quarantine]
        self.records.extend(added)
        for row in batch.articles:
            stats = self.stats(row.source)
            stats.stored += 1
            stats.warnings.update(row.flags)
        for quarantined in batch.quarantine:
            stats = self.stats(quarantined.source)
            stats.quarantined += 1
            stats.quarantine_reasons.update(quarantined.reasons)
        for kind, keys in files.items():
            self.files.setdefault(kind, []).extend(keys)
        self.checks.extend(batch.outcome.rules)
        return added

    def next_validators(self) -> dict[str, dict[str, str | None]]:
        """The manifest's validators: URL -> {"etag", "last_modified"}; both None forgets."""
        return {url: validator.as_dict()
                for _, validators in sorted(self.validators.items())
                for url, validator in validators.items()}

    @property
    def totals(self) -> dict[str, int]:
        return {k: sum(getattr(s, k) for s in self.sources.values()) for k in FUNNEL}

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
            "watchlists": self.watchlists,
            "watchlist_names": self.watchlist_names,
            "source_config": self.source_config,
            **({"removes": self.removes} if self.removes else {}),
            "site_pointers": self.site_pointers,
            "validators": self.next_validators(),
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
    files["articles"] = lake.write_rows("articles", [r.columns() for r in batch.articles],
                                     f"{run_id}-{part:04d}")
    files["quarantine"] = lake.write_rows("quarantine", [r.columns() for r in batch.quarantine],
                                       f"{run_id}-{part:04d}")
    files["mentions"] = lake.write_rows("mentions", [m.columns() for m in batch.mentions],
                                        f"{run_id}-{part:04d}")
    files["watchlist_matches"] = lake.write_rows(
        "watchlist_matches", [m.columns() for m in batch.matches], f"{run_id}-{part:04d}")
    if batch.outcome.validation:
        # The GX result itself, so Data Docs can be built later from committed runs alone.
        key = f"reports/validations/{run_id}/part-{part:04d}.json"
        files["validations"] = [lake.write_bytes(key, json.dumps(batch.outcome.validation).encode())]
    return files


def commit_run(lake: Lake, summary: RunSummary, enricher: Enricher | None = None) -> str:
    """Commit the run; with the enrich stage, its stories' new states go in the same commit."""
    if enricher is not None:
        summary.files["stories"] = lake.write_rows(
            "stories", [s.columns() for s in enricher.story_rows()], summary.run_id)
        summary.watchlists = dict(sorted(enricher.matched.items()))
        summary.watchlist_names = {w.id: w.name for w in enricher.watchlists}
    summary.finished_at = datetime.now(UTC)
    return lake.commit(summary.run_id, summary.manifest())
