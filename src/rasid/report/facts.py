"""What a report is built from, read from committed runs only: the runs it covers, the
committed articles that failed a check, the fetches that still fail, and what needs attention.

Everything the report reads from the lake goes through ``committed_runs`` and ``_problems``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import pyarrow.compute as pc

from rasid import checks
from rasid.checks import Words
from rasid.report import labels
from rasid.report.attention import attention
from rasid.report.labels import DATE_NOTES
from rasid.report.news import News, gather_news
from rasid.storage import Lake

WINDOW_DAYS = 14  # trends and article lists cover the runs of the last two weeks ...
WINDOW_RUNS = 60  # ... but never more runs than a chart can show as separate bars

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """A committed article (stored or quarantined) that failed at least one check."""

    run_id: str
    source: str
    url: str
    title: str | None
    reasons: tuple[str, ...]  # blocking reasons first, then warnings
    quarantined: bool


@dataclass(frozen=True)
class FailedFetch:
    """A URL that could not be fetched and has not been fetched since."""

    run_id: str  # the latest run that tried it
    source: str
    url: str
    reason: str
    detail: str
    tries: int  # runs that tried it in the window


@dataclass
class Facts:
    """The committed data one report shows; what is derived from it is computed once."""

    runs: list[Manifest]  # manifests in the window, oldest first; the last is reported
    problems: list[Problem]
    failures: list[FailedFetch]
    rules: list[checks.Rule] = field(default_factory=checks.rules)
    news: News = field(default_factory=News)  # stories, places, people, watchlists

    @property
    def run(self) -> Manifest:
        return self.runs[-1]

    @cached_property
    def blocking(self) -> set[str]:
        return {r.reason for r in self.rules if r.blocking}

    @property
    def sources(self) -> list[str]:
        return sorted(self.run["sources"])

    @cached_property
    def notes(self) -> dict[str, list[Words]]:
        """Per source of the reported run, what an editor should look at."""
        return attention(self.runs)

    def words(self, reason: str) -> Words:
        """What a reason means: a check's in the words its rule gives, any other (rasid.dates'
        notes) from the labels."""
        return next((r.failure for r in self.rules if r.reason == reason), labels.reason(reason))

    def name(self, source: str) -> str:
        for manifest in reversed(self.runs):
            if name := manifest.get("source_names", {}).get(source):
                return str(name)
        return source

    def failed(self, run_id: str, source: str, reason: str) -> int:
        return self._failures[(run_id, source, reason)]

    @cached_property
    def _failures(self) -> Counter[tuple[str, str, str]]:
        return Counter((p.run_id, p.source, r) for p in self.problems for r in p.reasons)


def started(manifest: Manifest) -> datetime:
    return datetime.fromisoformat(manifest["started_at"])


def when(manifest: Manifest) -> str:
    return f"{started(manifest):%Y-%m-%d %H:%M} UTC"


def committed_runs(lake: Lake, run_id: str | None = None) -> list[Manifest]:
    """The committed collection runs a report on ``run_id`` (default: the latest) can look at,
    oldest first: those of the last two weeks, read from the lake's checkpoint without the
    rest of its history; every run only when the one asked for (or the latest) is older."""
    since = datetime.now(UTC) - timedelta(days=WINDOW_DAYS + 1)
    recent = lake.collection_runs(since=since)
    if recent and (run_id is None or any(m["run_id"] == run_id for m in recent)):
        return recent
    return lake.collection_runs()


def window(manifests: list[Manifest], run_id: str | None = None) -> list[Manifest]:
    """The committed runs a report on ``run_id`` (default: the latest) looks back over."""
    upto = next((i for i, m in enumerate(manifests) if m["run_id"] == run_id), len(manifests) - 1)
    if run_id is not None and manifests[upto]["run_id"] != run_id:
        raise KeyError(f"run {run_id!r} is not committed")
    since = started(manifests[upto]) - timedelta(days=WINDOW_DAYS)
    recent = [m for m in manifests[: upto + 1] if started(m) >= since]
    return recent[-WINDOW_RUNS:]


def gather(lake: Lake, run_id: str | None = None, manifests: list[Manifest] | None = None) -> Facts:
    manifests = committed_runs(lake, run_id) if manifests is None else manifests
    if not manifests:
        raise LookupError(f"no committed run in {lake.uri}")
    runs = window(manifests, run_id)
    later = manifests[manifests.index(runs[-1]) + 1 :]
    names = {sid: name for m in runs for sid, name in m.get("source_names", {}).items()}
    return Facts(runs, _problems(lake, runs), _failed_fetches(runs, later),
                 news=gather_news(lake, runs[-1], runs, names))


def _problems(lake: Lake, runs: list[Manifest]) -> list[Problem]:
    ids = [m["run_id"] for m in runs]
    warnings = {r.reason for r in checks.rules() if not r.blocking}
    found = []
    for kind in ("quarantine", "articles"):
        columns = ["run_id", "source", "url", "title", "flags"]
        columns += ["reasons"] if kind == "quarantine" else []
        table = lake.dataset(kind).to_table(columns=columns, filter=pc.field("run_id").isin(ids))
        for row in table.to_pylist():
            flagged = [f for f in row["flags"] or [] if f in warnings or f in DATE_NOTES]
            reasons = tuple(row.get("reasons") or []) + tuple(sorted(flagged))
            if reasons:
                found.append(
                    Problem(
                        row["run_id"],
                        row["source"],
                        row["url"],
                        row["title"],
                        reasons,
                        kind == "quarantine",
                    )
                )
    order = {run: i for i, run in enumerate(ids)}
    return sorted(found, key=lambda p: (-order[p.run_id], p.source, p.url))


def _failed_fetches(runs: list[Manifest], later: list[Manifest]) -> list[FailedFetch]:
    """Each failing URL once, from its latest try; dropped once a later run fetched it."""
    fetched_since: set[str] = set()
    tries: Counter[str] = Counter()
    latest: dict[str, FailedFetch] = {}
    shown = {m["run_id"] for m in runs}
    for manifest in reversed([*runs, *later]):
        in_window = manifest["run_id"] in shown
        for failure in manifest.get("failures", []):
            url = failure["url"]
            if url in fetched_since or not in_window:
                continue
            tries[url] += 1
            latest.setdefault(
                url,
                FailedFetch(
                    manifest["run_id"],
                    failure["source_id"],
                    url,
                    failure["reason"],
                    failure.get("detail", ""),
                    0,
                ),
            )
        # Summaries name the URLs stored (older ones, and whole manifests, their records).
        fetched_since.update(manifest.get("urls") or [r["url"] for r in manifest.get("records", [])])
    return [
        FailedFetch(f.run_id, f.source, f.url, f.reason, f.detail, tries[url])
        for url, f in latest.items()
    ]
