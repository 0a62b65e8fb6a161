"""The collection flow: sources → discover → fetch → extract → check → write → report.

A table of contents over ``rasid``: each task is one batched step (per source, or per batch of
URLs — never per article); the decisions live in the package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, cast
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture
from prefect.utilities.annotations import quote

from rasid import config, discover, extract, health, pipeline, progress, report
from rasid.config import ConfigError, Settings, Source
from rasid.enrich.watchlists import Watchlist, parse_watchlists
from rasid.fetch import Fetcher
from rasid.fetch.documents import SiteDocuments
from rasid.fetch.http import cutoff
from rasid.fetch.lanes import Budget, FetchStream
from rasid.models import Candidate, Extracted, FetchFailure, Page, Validator
from rasid.storage import Lake, TransientStorageError, open_lake
from rasid_flows import runners, where
from rasid_flows.alerts import publish_flags, publish_watchlists
from rasid_flows.politeness import HostLimits, missing
from rasid_flows.run_logs import rasid_logs_to_run

# The S3 client has already retried with backoff; a refusal (403, missing bucket) is not here.
TRANSIENT = (TransientStorageError, ConnectionError, TimeoutError)


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry storage and network hiccups; a bug or a bad page will fail the same way again."""
    try:
        state.result()
    except TRANSIENT:
        return True
    except Exception:
        return False
    return False


@lru_cache(maxsize=8)
def _fetcher(settings_json: str, limits: HostLimits | None, run_id: str) -> Fetcher:
    # One fetcher per run in each worker process, so politeness and robots.txt state span
    # the run's batches, and a long-lived worker reads robots.txt again on the next run; with
    # shared limits, each request also holds its host's slot across processes.
    settings = Settings.model_validate_json(settings_json)
    return Fetcher(settings, shared_gate=limits.gate) if limits else Fetcher(settings)


BACKFILL_MAX_SITEMAPS = 1000  # a news site splits its sitemap by month or by day
BACKFILL_MAX_ARTICLES = 100_000  # per source and backfill run


@task(name="discover-source", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=only_transient)
def discover_source(
    source: Source, settings_json: str, limits: HostLimits | None, run_id: str,
    window: tuple[date, date] | None = None, validators: dict[str, Validator] | None = None,
    ends_at: float | None = None,
) -> discover.DiscoveryResult:
    with cutoff(ends_at):  # the run's time budget holds for feeds and sitemaps too
        return _discover(source, _fetcher(settings_json, limits, run_id), window, validators)


def _discover(source: Source, fetcher: Fetcher, window: tuple[date, date] | None,
              validators: dict[str, Validator] | None) -> discover.DiscoveryResult:
    # Feeds and sitemaps are asked for conditionally with what the last runs saw; a backfill
    # reads everything.
    docs = SiteDocuments(fetcher, source, validators if window is None else None)
    if window is None:
        result = discover.discover(source, docs.get, robots_sitemaps=docs.robots_sitemaps)
    else:
        # A backfill reads as much of the archive as the sitemaps list, then keeps the window.
        deep = source.model_copy(update={"max_articles_per_run": BACKFILL_MAX_ARTICLES})
        result = discover.discover(deep, docs.get, robots_sitemaps=docs.robots_sitemaps,
                                   max_sitemaps=BACKFILL_MAX_SITEMAPS)
        result.candidates = pipeline.published_within(result.candidates, *window,
                                                      source.timezone)
    result.validators = docs.validators(result.kinds)
    return result


@task(name="fetch-batch", cache_policy=NO_CACHE)
def fetch_batch(stream: FetchStream, count: int, wait: float) -> tuple[list[Page], list[FetchFailure]]:
    # The stream's lanes keep fetching between batches; this takes what has come in.
    return stream.take(count, wait)


@task(name="extract-batch", cache_policy=NO_CACHE)
def extract_batch(
    pages: list[Page], sources: dict[str, Source], now: datetime, pool: Any
) -> list[Extracted]:
    items = [
        (p.encoded, p.final_url, pipeline.extract_kwargs(p, sources[p.source_id], now)) for p in pages
    ]
    return extract.extract_many(items, executor=pool)


@task(name="check-and-write", cache_policy=NO_CACHE, retries=3,
      retry_delay_seconds=[2, 10, 30], retry_condition_fn=only_transient)
def check_and_write(
    lake: Lake, run_id: str, part: int, rows: list[pipeline.ArticleRow], pages: list[Page],
    sources: dict[str, Source], state: pipeline.LakeState, enricher: pipeline.Enricher,
) -> tuple[pipeline.CheckedBatch, dict[str, list[str]]]:
    return pipeline.check_and_write(lake, run_id, part, rows, pages, sources, state, enricher)


@task(name="commit-run", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 10, 30],
      retry_condition_fn=only_transient)
def commit_run(lake: Lake, summary: pipeline.RunSummary, enricher: pipeline.Enricher) -> str:
    summary.report = report.report_key(summary.run_id)
    return pipeline.commit_run(lake, summary, enricher)


@task(name="write-report", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=only_transient)
def write_report(lake: Lake, run_id: str) -> report.Published:
    # After the commit, from committed data only: the report shows what readers of the lake see.
    return report.publish(lake, run_id)


@contextmanager
def _progress_artifact(total: int) -> Iterator[Any]:
    # A sync caller: Prefect's async dispatch returns the id itself, not a coroutine.
    artifact = cast(UUID, create_progress_artifact(0.0, description="articles processed"))
    yield lambda done: update_progress_artifact(artifact, 100.0 * done / max(total, 1))


@flow(name="collect", log_prints=False, task_runner=runners.task_runner())
def collect(
    sources_file: str | None = None, lake: str | None = None, batch_size: int = 500,
    shared_host_limits: bool = False, run_budget: float | None = None,
) -> dict[str, Any]:
    """One collection run over every enabled source in ``sources_file`` into ``lake``
    (unset: see ``rasid_flows.where``).

    ``shared_host_limits``: hold each host's Prefect concurrency and rate limits around every
    request, so politeness holds across concurrent runs and workers (``rasid setup-prefect``
    creates the limits; a missing one fails the run).
    ``run_budget``: seconds the run may start requests for (default: RASID_RUN_BUDGET, 600);
    then it commits what it has and leaves the rest for the next run.
    """
    with rasid_logs_to_run():
        lake = where.lake(lake)
        return run(where.sources(sources_file, lake), lake, batch_size, shared_host_limits,
                   run_budget=run_budget)


def run(
    sources_file: str, lake: str, batch_size: int, shared_host_limits: bool,
    window: tuple[date, date] | None = None, run_budget: float | None = None,
) -> dict[str, Any]:
    """The collection itself, inside a flow run (collect's or backfill's). ``window``: only
    articles dated within those days, searched for through the whole archive (a backfill)."""
    logger = get_run_logger()
    settings = Settings()
    budget = Budget.starting_now(run_budget or settings.run_budget)
    sources = {s.id: s for s in config.load_sources(sources_file)}
    limits = _shared_limits(sources_file, sources) if shared_host_limits else None
    store = open_lake(lake)
    now = datetime.now(UTC)
    summary = pipeline.RunSummary(run_id=pipeline.new_run_id(now), started_at=now,
                                  names={sid: s.name for sid, s in sources.items()},
                                  source_config={sid: s.model_dump(mode="json")
                                                 for sid, s in sources.items()})
    settings_json = settings.model_dump_json()
    loop = pipeline.Run(summary, pipeline.load_state(store), progress.current().show)
    enricher = pipeline.load_enricher(store, summary.run_id, now.date(),
                                      watchlists=_watchlists(sources_file))

    # Not quote()d: a task on a Dask worker gets the wrapper itself; the dict is small.
    found = {sid: discover_source.submit(s, settings_json, limits, summary.run_id, window,
                                         loop.state.validators, budget.ends_at)
             for sid, s in sources.items()}
    queues: list[list[Candidate]] = []
    for sid, future in found.items():
        result = future.result()
        queues.append(loop.discovered(sid, result.candidates, result.failures))
        loop.read_site(sid, result)
        if result.pointers:
            logger.info("source %s: its site points to %s (pin them in the sources file to"
                        " keep them)", sid, discover.describe_pointers(result.pointers))
    loop.show("discover")

    # Tasks that leave this process (Dask) cannot take its process pool: they extract in
    # chunks, in parallel across the cluster instead.
    local = runners.in_process(FlowRunContext.get().task_runner)  # type: ignore[union-attr]
    workers = settings.extract_workers if local else 1

    jobs = [(sources[sid], queue) for sid, queue in zip(found, queues, strict=True)]
    stream = FetchStream(_fetcher(settings_json, limits, summary.run_id), jobs, budget)

    def take(count: int) -> tuple[list[Page], list[FetchFailure]]:
        # Prefect unwraps quote() before the task runs; the task's call types do not know it.
        return fetch_batch(quote(stream), count, settings.batch_seconds)  # type: ignore[call-overload,no-any-return]

    def start_extract(batch: pipeline.Batch) -> Callable[[], list[Extracted]]:
        futures = _submit_extract(batch.pages, sources, now, pool, on_cluster=not local)
        return lambda: [item for future in futures for item in future.result()]

    def store_batch(batch: pipeline.Batch, rows: list[pipeline.ArticleRow]) -> tuple[
            pipeline.CheckedBatch, dict[str, list[str]]]:
        # quote(): Prefect would walk (and rebuild) every row, page and known id looking
        # for futures, twice per task run; they hold none.
        # Prefect unwraps quote() before the task runs; the task's call types do not know it.
        return check_and_write(  # type: ignore[call-overload,no-any-return]
            store, summary.run_id, batch.part, quote(rows), quote(batch.pages), sources,
            quote(loop.state), quote(enricher))

    with extract.extraction_pool(workers) as pool, \
            _progress_artifact(sum(len(q) for q in queues)) as tick:
        loop.process(loop.fetching(stream.pending, batch_size, take, sources, now),
                     start_extract, store_batch, tick)

    flags = health.flag_sources({sid: s.as_dict() for sid, s in summary.sources.items()},
                                report.committed_runs(store))
    manifest_key = commit_run(store, summary, quote(enricher))  # type: ignore[call-overload]  # quote(), as above
    _publish(summary, write_report(store, summary.run_id))
    publish_flags(flags, "rasid-source-flags", f"run {summary.run_id}", store.uri)
    publish_watchlists(summary.watchlists, enricher.spikes(now.date()), summary.run_id, store.uri,
                       enricher.story_spikes(now.date()))
    logger.info("run %s committed: %s", summary.run_id, manifest_key)
    return summary.manifest() | {"manifest": store.uri_for(manifest_key),
                                 "flags": [f.as_dict() for f in flags]}


def _watchlists(sources_file: str) -> list[Watchlist]:
    """The watchlists of the watchlists.yaml beside the sources file (a path, a URL or an S3
    object), when there is one: a worker without a checkout reads them as it reads the
    sources."""
    found = config.read_beside(sources_file, "watchlists.yaml")
    if found is None:
        return []
    where, text = found
    try:
        return parse_watchlists(text, where)
    except ValueError as exc:  # pydantic's ValidationError included
        raise ConfigError(f"{where}: {exc}") from None


def _shared_limits(sources_file: str, sources: dict[str, Source]) -> HostLimits:
    limits = HostLimits.of(sources.values())
    if absent := missing(limits):
        raise ConfigError(
            f"Prefect has no concurrency limit {', '.join(absent)}: run "
            f"`rasid setup-prefect --sources {sources_file}` against this server first")
    return limits


EXTRACT_CHUNK = 25  # pages per task on a cluster: about a second of work, cheap to ship


def _submit_extract(
    pages: list[Page], sources: dict[str, Source], now: datetime, pool: Any, on_cluster: bool
) -> list[PrefectFuture[Any]]:
    """Start extracting ``pages``: one task (on the local process pool, if any), or chunks
    spread over the cluster."""
    if not on_cluster:
        # quote(): not walked by Prefect (see check_and_write); Dask would not carry it across.
        # Prefect unwraps it before the task runs; the task's call types do not know it.
        return [extract_batch.submit(quote(pages), sources, now, pool)]  # type: ignore[call-overload]
    chunks = [pages[i:i + EXTRACT_CHUNK] for i in range(0, len(pages), EXTRACT_CHUNK)]
    return [extract_batch.submit(chunk, sources, now, None) for chunk in chunks]


def _publish(summary: pipeline.RunSummary, published: report.Published) -> None:
    """The run's tables as Prefect artifacts, linking to the editor report."""
    rows = [{"source": sid, **{k: v for k, v in s.as_dict().items() if not isinstance(v, dict)},
             "quarantined by reason": ", ".join(f"{r}: {n}" for r, n in s.quarantine_reasons.items()),
             "errors": ", ".join(f"{r}: {n}" for r, n in s.failure_reasons.items())}
            for sid, s in sorted(summary.sources.items())]
    create_table_artifact(rows, key="rasid-run-sources", description=f"run {summary.run_id}")
    create_markdown_artifact(published.markdown, key="rasid-run-report",
                             description=f"run {summary.run_id}: the quality report")
