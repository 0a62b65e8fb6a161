"""The collection run as plain steps: select new candidates, build rows, check, write, commit.

The Prefect flows call these in order; a test can call them directly.

- ``state``: what committed runs hold (known ids, body owners, near-duplicate signatures)
- ``batches``: which candidates to fetch, in batches that mix sources
- ``record``: the typed article and quarantine rows, checked against the contracts
- ``rows``: a row per page, checked and split into articles and quarantine
- ``summary``: the run's counts and manifest; writing and committing a batch
- ``run``: the loop every kind of run goes through (``Run``), over ``overlap``'s three stages
- ``enrich``: between check and write, stories, mentions and watchlist matches
"""

from rasid.pipeline.batches import FIRST_BATCH, batch_sizes, published_within
from rasid.pipeline.enrich import Enricher, load_enricher
from rasid.pipeline.overlap import overlap
from rasid.pipeline.record import ArticleRow, QuarantineRow
from rasid.pipeline.rows import CheckedBatch, build_row, check_rows, extract_kwargs
from rasid.pipeline.run import Batch, Run, check_and_write
from rasid.pipeline.state import LakeState, load_state, select_new
from rasid.pipeline.summary import (
    MANIFEST_FORMAT,
    RunSummary,
    SourceStats,
    commit_run,
    failure_record,
    new_run_id,
    record_of,
    write_batch,
)

__all__ = [
    "FIRST_BATCH", "MANIFEST_FORMAT", "ArticleRow", "Batch", "CheckedBatch", "Enricher", "LakeState", "Run",
    "RunSummary", "SourceStats", "batch_sizes", "build_row", "check_and_write", "check_rows",
    "commit_run", "extract_kwargs", "failure_record", "load_enricher", "load_state", "new_run_id",
    "overlap", "published_within", "QuarantineRow",
    "record_of", "select_new", "write_batch",
]
