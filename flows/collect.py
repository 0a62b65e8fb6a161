"""The collection flow: sources → discover → fetch → extract → check → write → report.

A table of contents over ``rasid``: each task is one batched step (per source, or per batch of
URLs — never per article); the decisions live in the package.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from rasid import config, discover, extract, pipeline, progress, report
from rasid.config import Settings, Source
from rasid.fetch import Fetcher
from rasid.models import Candidate, Extracted, FetchFailure, Page
from rasid.storage import Lake, StorageError, open_lake

TRANSIENT = (StorageError, ConnectionError, TimeoutError)


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry storage and network hiccups; a bug or a bad page will fail the same way again."""
    try:
        state.result()
    except TRANSIENT:
        return True
    except Exception:
        return False
    return False


@cache
def _fetcher(settings_json: str) -> Fetcher:
    # One fetcher per worker process, so politeness and robots.txt state span all batches.
    return Fetcher(Settings.model_validate_json(settings_json))


@task(name="discover-source", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=only_transient)
def discover_source(source: Source, settings_json: str) -> discover.DiscoveryResult:
    fetcher = _fetcher(settings_json)
    return discover.discover(source, lambda url: fetcher.fetch_document(url, source))


@task(name="fetch-batch", cache_policy=NO_CACHE)
def fetch_batch(
    jobs: list[tuple[Source, list[Candidate]]], settings_json: str
) -> tuple[list[Page], list[FetchFailure]]:
    return _fetcher(settings_json).fetch_all(jobs)


@task(name="extract-batch", cache_policy=NO_CACHE)
def extract_batch(
    pages: list[Page], sources: dict[str, Source], now: datetime, pool: Any
) -> list[Extracted]:
    items = [
        (p.html, p.final_url, pipeline.extract_kwargs(p, sources[p.source_id], now)) for p in pages
    ]
    return extract.extract_many(items, executor=pool)


@task(name="check-and-write", cache_policy=NO_CACHE, retries=3,
      retry_delay_seconds=[2, 10, 30], retry_condition_fn=only_transient)
def check_and_write(
    lake: Lake, run_id: str, part: int, rows: list[dict[str, Any]], pages: list[Page],
    sources: dict[str, Source], state: pipeline.LakeState,
) -> tuple[pipeline.CheckedBatch, dict[str, list[str]]]:
    batch = pipeline.check_rows(rows, sources, state)
    return batch, pipeline.write_batch(lake, run_id, part, batch, pages)


@task(name="commit-run", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 10, 30],
      retry_condition_fn=only_transient)
def commit_run(lake: Lake, summary: pipeline.RunSummary) -> str:
    summary.report = report.write_run_report(lake, summary.manifest())
    return pipeline.commit_run(lake, summary)


@contextmanager
def _progress_artifact(total: int) -> Iterator[Any]:
    artifact = create_progress_artifact(0.0, description="articles processed")
    yield lambda done: update_progress_artifact(artifact, 100.0 * done / max(total, 1))


@flow(name="collect", log_prints=False)
def collect(
    sources_file: str = "sources.yaml", lake: str = "./lake", batch_size: int = 200
) -> dict[str, Any]:
    """One collection run over every enabled source in ``sources_file`` into ``lake``."""
    logger = get_run_logger()
    settings = Settings()
    sources = {s.id: s for s in config.load_sources(sources_file)}
    store = open_lake(lake)
    now = datetime.now(UTC)
    summary = pipeline.RunSummary(run_id=pipeline.new_run_id(now), started_at=now)
    show = progress.current().show
    settings_json = settings.model_dump_json()
    state = pipeline.load_state(store)

    found = {sid: discover_source.submit(s, settings_json) for sid, s in sources.items()}
    queues: list[list[Candidate]] = []
    for sid, future in found.items():
        result = future.result()
        stats = summary.stats(sid)
        fresh = pipeline.select_new(result.candidates, state)
        stats.discovered, stats.new = len(result.candidates), len(fresh)
        summary.add_failures(result.failures)
        queues.append(fresh)
    show(summary.sources, "discover")

    total = sum(len(q) for q in queues)
    with extract.extraction_pool(settings.extract_workers) as pool, _progress_artifact(total) as tick:
        done = 0
        for part, candidates in enumerate(pipeline.interleave(queues, batch_size)):
            jobs = _jobs(candidates, sources)
            pages, failures = fetch_batch(jobs, settings_json)
            summary.add_failures(failures)
            for page in pages:
                summary.stats(page.source_id).fetched += 1
            show(summary.sources, "fetch")
            extracted = extract_batch(pages, sources, now, pool)
            rows = [
                pipeline.build_row(p, e, sources[p.source_id], summary.run_id, now.date())
                for p, e in zip(pages, extracted, strict=True)
            ]
            for page in pages:
                summary.stats(page.source_id).extracted += 1
            show(summary.sources, "extract")
            batch, files = check_and_write(store, summary.run_id, part, rows, pages, sources, state)
            for record in summary.add_batch(batch, files):
                state.remember(record)
            show(summary.sources, "write")
            done += len(candidates)
            tick(done)

    manifest_key = commit_run(store, summary)
    _publish(summary, store)
    logger.info("run %s committed: %s", summary.run_id, manifest_key)
    return summary.manifest() | {"manifest": store.uri_for(manifest_key)}


def _jobs(candidates: list[Candidate], sources: dict[str, Source]) -> list[tuple[Source, list[Candidate]]]:
    by_source: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_source.setdefault(candidate.source_id, []).append(candidate)
    return [(sources[sid], items) for sid, items in by_source.items()]


def _publish(summary: pipeline.RunSummary, store: Lake) -> None:
    """The run's tables as Prefect artifacts, linking to the editor report."""
    rows = [{"source": sid, **{k: v for k, v in s.as_dict().items() if not isinstance(v, dict)},
             "quarantined by reason": ", ".join(f"{r}: {n}" for r, n in s.quarantine_reasons.items()),
             "errors": ", ".join(f"{r}: {n}" for r, n in s.failure_reasons.items())}
            for sid, s in sorted(summary.sources.items())]
    create_table_artifact(rows, key="rasid-run-sources", description=f"run {summary.run_id}")
    if summary.report:
        create_markdown_artifact(
            f"Quality report for run `{summary.run_id}`: {store.uri_for(summary.report)}",
            key="rasid-run-report",
        )
