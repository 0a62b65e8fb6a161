"""The backfill flow: collect the articles a past range of days published.

On demand (``prefect deployment run backfill/backfill -p start=... -p end=...``): the sources'
sitemaps (indexes followed deep) and feeds are read whole, and the URLs whose sitemap/feed date
or URL date falls within the days are fetched, checked and written like any collection run.
What the lake already holds is skipped, so a backfill over days a collection already covered
only adds what was missed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow

from rasid.config import ConfigError
from rasid_flows import collect, runners, where
from rasid_flows.run_logs import rasid_logs_to_run


@flow(name="backfill", log_prints=False, task_runner=runners.task_runner())
def backfill(
    start: date, end: date, sources_file: str | None = None, lake: str | None = None,
    batch_size: int = 500, shared_host_limits: bool = False, run_budget: float | None = None,
) -> dict[str, Any]:
    """Articles published from ``start`` to ``end`` (inclusive, in each source's timezone).

    ``run_budget``: as collect's; what a backfill could not fetch in time, the next
    collection run asks for first."""
    if end < start:
        raise ConfigError(f"backfill: end {end} is before start {start}")
    with rasid_logs_to_run():
        lake = where.lake(lake)
        return collect.run(where.sources(sources_file, lake), lake, batch_size,
                           shared_host_limits, window=(start, end), run_budget=run_budget)
