"""Re-extract the lake from its raw archive, without touching the network (``rasid reprocess``).

After an extractor upgrade or a change to the checks, the committed WARCs are replayed run by
run and batch by batch, in the order they were first processed, each with the settings and the
clock of its original run. The rows produced are checked again and committed as one new run
that supersedes every article and quarantine file committed before it, so a reader never sees
an article twice (see the commit protocol in :mod:`rasid.storage`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from rasid import contract, extract
from rasid.config import ConfigError, Source
from rasid.enrich.mentions import default_matcher
from rasid.enrich.stories import Assigner
from rasid.enrich.watchlists import load_watchlists
from rasid.fetch.decoding import decode_html
from rasid.models import Encoded, Extracted, Page
from rasid.pipeline import (
    ArticleRow,
    Batch,
    CheckedBatch,
    Enricher,
    LakeState,
    Run,
    RunSummary,
    check_and_write,
    commit_run,
    extract_kwargs,
    new_run_id,
)
from rasid.storage import Lake

log = logging.getLogger(__name__)


def reprocess(
    lake: Lake, *, sources: Mapping[str, Source] | None = None, workers: int = 1,
    watchlists: str | Path | None = None,
) -> RunSummary:
    """Replay every committed WARC of ``lake`` through extraction, checks and the enrich
    stage; commit the result as one run that replaces all article, quarantine, story, mention
    and watchlist-match rows. Return its summary.

    ``sources`` overrides the source settings each run recorded in its manifest;
    ``watchlists`` is the watchlists.yaml to evaluate (none: no matches).
    """
    lake.publish_pending()
    replaced = {kind: lake.committed_files(kind) for kind in contract.TABLES}
    started = datetime.now(UTC)
    summary = RunSummary(run_id=new_run_id(started), started_at=started, operation="reprocess",
                         removes=replaced)
    run = Run(summary, LakeState())
    # Stories are recomputed from the first article on: no open story is carried in.
    enricher = Enricher(default_matcher(), Assigner(),
                        load_watchlists(watchlists) if watchlists else [], summary.run_id)

    def store(batch: Batch, rows: list[ArticleRow]) -> tuple[CheckedBatch, dict[str, list[str]]]:
        # The pages are in the archive already: only their rows (and validations) are new.
        return check_and_write(lake, summary.run_id, batch.part, rows, [], batch.sources,
                               run.state, enricher)

    with extract.extraction_pool(workers) as pool:
        def start_extract(batch: Batch) -> Callable[[], list[Extracted]]:
            items: list[tuple[str | Encoded, str, dict[str, Any]]] = [
                (p.encoded, p.final_url, extract_kwargs(p, batch.sources[p.source_id], batch.clock))
                for p in batch.pages]
            extracted = extract.extract_many(items, executor=pool)
            return lambda: extracted

        run.process(_replayed(lake, run, sources), start_extract, store)
    _carry_over(lake, summary, {record["article_id"] for record in summary.records})
    if any(replaced.values()) or any(summary.files.values()):
        commit_run(lake, summary, enricher)
    return summary


def _replayed(lake: Lake, run: Run, given: Mapping[str, Source] | None) -> Iterator[Batch]:
    """The first stage of a reprocess: each archived batch read back, with the settings and
    the clock of the run that fetched it."""
    for part, (manifest, keys) in enumerate(_batches(lake)):
        settings = _settings(manifest, given)
        pages = [_page(archived) for key in keys for archived in _archived(lake, key)]
        unknown = sorted({page.source_id for page in pages} - set(settings))
        if unknown:
            raise ConfigError(
                f"run {manifest['run_id']} recorded no settings for source(s) "
                f"{', '.join(unknown)}: pass the sources file with --sources"
            )
        run.archived(pages)
        # The original run's clock, so "date in the future" and the quarantine day come out
        # the same.
        yield Batch(part, pages, settings, datetime.fromisoformat(manifest["started_at"]),
                    len(pages))


def _batches(lake: Lake) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Each committed run's raw files, grouped as the run's batches were, oldest first."""
    live = set(lake.committed_files("raw"))
    for manifest in lake.manifests():
        batches: dict[str, list[str]] = {}
        for key in manifest.get("files", {}).get("raw", []):
            if key in live:
                # <run>-<part>.warc.gz: one file per source and batch of the run.
                batches.setdefault(key.rsplit("/", 1)[1], []).append(key)
        for keys in batches.values():
            yield manifest, keys


def _archived(lake: Lake, key: str) -> list[Page]:
    try:
        return lake.read_raw(key)
    except KeyError:  # expired by the bucket's retention rule: its rows are carried over
        log.warning("raw archive %s is gone; its rows are kept as they are", lake.uri_for(key))
        return []


def _settings(manifest: dict[str, Any], given: Mapping[str, Source] | None) -> dict[str, Source]:
    recorded = {
        sid: Source.model_validate(config)
        for sid, config in manifest.get("source_config", {}).items()
    }
    return recorded | dict(given or {})


def _page(archived: Page) -> Page:
    # Decoded exactly as the fetcher decoded it: same bytes, same Content-Type.
    content_type = next(
        (v for k, v in archived.headers.items() if k.lower() == "content-type"), None
    )
    _, encoding, encoding_source = decode_html(archived.content, content_type)
    return replace(archived, encoding=encoding, encoding_source=encoding_source)


def _carry_over(lake: Lake, summary: RunSummary, replayed: set[str]) -> None:
    """Rows with no raw page to replay (archived before WARCs were kept, or lost) are kept as
    they are, with their mentions and watchlist matches, so that superseding the old files
    loses no article. (Their stories' rows are not carried: stories are recomputed from the
    replayed articles.)"""
    unreplayed = ~pc.field("article_id").isin(sorted(replayed)) if replayed else None
    for kind in (*contract.CONTRACTS, "mentions", "watchlist_matches"):
        kept = lake.dataset(kind).to_table(filter=unreplayed)
        if kept.num_rows:
            keys = lake.write_rows(kind, kept.to_pylist(), f"{summary.run_id}-kept")
            summary.files.setdefault(kind, []).extend(keys)
