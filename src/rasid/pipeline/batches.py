"""Which candidates a run fetches, and in what batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from zoneinfo import ZoneInfo

from rasid import dates
from rasid.models import Candidate


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


def batch_sizes(left: Callable[[], int], batch_size: int,
                first: int = FIRST_BATCH) -> Iterator[int]:
    """How many results each next batch takes, while ``left()`` results are still to come.

    The first batch holds ``first`` and each next one twice as many, up to ``batch_size``;
    towards the end each takes half of what is left, down to ``first`` again. Extraction
    starts as soon as a few pages are in, and the last batch — checked and written while the
    extraction workers have nothing left to do — is a small one; between, batches are large
    enough that each batch's fixed costs (a validation, task runs, files) stay small. A batch
    may close before it is full (see rasid.fetch.lanes): ``left()`` is asked each time.
    """
    smallest = growing = max(1, min(first, batch_size))
    while (remaining := left()) > 0:
        yield min(growing, max(smallest, -(-remaining // 2)))  # -(-a // b): a / b rounded up
        growing = min(2 * growing, batch_size)
