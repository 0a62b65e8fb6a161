"""One run's loop: discover → fetch (or read the archive) → extract → check → write → commit.

``Run`` owns what a run accumulates — its summary and counts, the lake state it checks
against, its progress — and the order of the stages. The callers hand it the stages as
plain callables: the collect and backfill flows hand it Prefect's task calls (fetching with
the fetcher, extraction on the pool or a cluster), ``rasid reprocess`` hands it a reader of
the raw archive. So every kind of run counts, checks, writes and commits the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from rasid.config import Source
from rasid.discover import DiscoveryResult
from rasid.models import Candidate, Extracted, FetchFailure, Page
from rasid.pipeline.batches import batch_sizes
from rasid.pipeline.enrich import Enricher
from rasid.pipeline.overlap import overlap
from rasid.pipeline.record import ArticleRow
from rasid.pipeline.rows import CheckedBatch, build_row, check_rows
from rasid.pipeline.state import LakeState, select_new
from rasid.pipeline.summary import RunSummary, SourceStats, write_batch
from rasid.storage import Lake

Files = dict[str, list[str]]
Show = Callable[[Mapping[str, SourceStats], str], None]
# Take up to this many results of the run's fetching (see rasid.fetch.lanes.FetchStream.take):
# every candidate ends as one page or one failure, taken once.
Take = Callable[[int], tuple[list[Page], list[FetchFailure]]]


@dataclass
class Batch:
    """One batch through the stages, with the settings and the clock it is processed with
    (a reprocess replays each batch with its original run's)."""

    part: int
    pages: list[Page]
    sources: Mapping[str, Source]
    clock: datetime  # "now" for the date checks; its day is the quarantine's partition
    size: int  # the candidates it stands for, for the progress

# Start extracting a batch; the returned callable waits for the result (one per page, in order).
Extract = Callable[[Batch], Callable[[], list[Extracted]]]
# Check a batch's rows and write them (and its pages' raw archive): see check_and_write.
Store = Callable[[Batch, list[ArticleRow]], tuple[CheckedBatch, Files]]


def check_and_write(
    lake: Lake, run_id: str, part: int, rows: list[ArticleRow], archive: list[Page],
    sources: Mapping[str, Source], state: LakeState, enricher: Enricher | None = None,
) -> tuple[CheckedBatch, Files]:
    """A batch after extraction: the suite splits its rows into articles and quarantine, the
    enrich stage gives the articles their stories, mentions and watchlist matches, then its
    files are written (staged until the run's commit), with ``archive`` as raw WARCs."""
    batch = check_rows(rows, dict(sources), state)
    if enricher is not None:
        batch.mentions, batch.matches = enricher.enrich(batch.articles)
    return batch, write_batch(lake, run_id, part, batch, archive)


def _quiet(sources: Mapping[str, SourceStats], stage: str) -> None:
    return None


class Run:
    """A run in progress: its counts, the state it checks against, its progress."""

    def __init__(self, summary: RunSummary, state: LakeState, show: Show = _quiet) -> None:
        self.summary = summary
        self.state = state
        self._show = show

    # -- counting, stage by stage ---------------------------------------------------------------

    def discovered(self, source_id: str, candidates: list[Candidate],
                   failures: Iterable[FetchFailure]) -> list[Candidate]:
        """Count what discovery found for a source; return the candidates to fetch: what the
        last run left for this one first, then what is new."""
        fresh = select_new(candidates, self.state)
        found = {c.url for c in fresh}
        fresh = [c for c in self.state.left_over(source_id) if c.url not in found] + fresh
        stats = self.summary.stats(source_id)
        stats.discovered, stats.new = len(candidates), len(fresh)
        self.summary.add_failures(failures)
        return fresh

    def read_site(self, source_id: str, result: DiscoveryResult) -> None:
        """Keep what discovery learnt of a site for the manifest: the validators for the next
        run's conditional requests, the pointers it followed, how much was unchanged."""
        self.summary.validators[source_id] = result.validators
        if result.pointers:
            self.summary.site_pointers[source_id] = result.pointers
        self.summary.stats(source_id).unchanged = len(result.unchanged)

    def fetched(self, pages: list[Page], failures: Iterable[FetchFailure]) -> None:
        self.summary.add_failures(failures)
        for page in pages:
            self.summary.stats(page.source_id).fetched += 1
        self.show("fetch")

    def archived(self, pages: list[Page]) -> None:
        for page in pages:
            self.summary.stats(page.source_id).archived += 1
        self.show("read")

    def show(self, stage: str) -> None:
        self._show(self.summary.sources, stage)

    # -- the loop -----------------------------------------------------------------------------

    def fetching(self, total: int, batch_size: int, take: Take,
                 sources: Mapping[str, Source], clock: datetime) -> Iterator[Batch]:
        """The first stage of a collection: the results of ``total`` candidates, fetched
        host by host, taken in batches (which mix sources, as pages come in)."""
        left = total

        def remaining() -> int:
            return left

        for part, size in enumerate(batch_sizes(remaining, batch_size)):
            pages, failures = take(size)
            self.fetched(pages, failures)
            left -= len(pages) + len(failures)
            yield Batch(part, pages, sources, clock, len(pages) + len(failures))

    def process(self, batches: Iterable[Batch], extract: Extract, store: Store,
                tick: Callable[[int], None] = lambda done: None) -> None:
        """Every batch through extraction, checks and writing, the stages overlapping;
        ``tick`` hears how many candidates are done after each batch."""
        done = 0

        def finish(batch: Batch, extracting: Callable[[], list[Extracted]]) -> None:
            nonlocal done
            self._finish(batch, extracting(), store)
            done += batch.size
            tick(done)

        overlap(batches, extract, finish)

    def _finish(self, batch: Batch, extracted: list[Extracted], store: Store) -> None:
        run_id = self.summary.run_id
        rows = [build_row(p, e, batch.sources[p.source_id], run_id, batch.clock.date())
                for p, e in zip(batch.pages, extracted, strict=True)]
        for page in batch.pages:
            self.summary.stats(page.source_id).extracted += 1
        self.show("extract")
        checked, files = store(batch, rows)
        for record in self.summary.add_batch(checked, files):
            self.state.remember(record)
        self.show("write")
