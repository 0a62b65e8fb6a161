"""The daily report flow: the editors' report on the latest run, and the day in one table.

Once a day: publishes the quality report (``rasid.report``) to the lake, an artifact with each
source's counts over the last 24 hours, and flags — over the whole day — the sources that
yielded nothing or whose rows were mostly quarantined, including sources in the sources file
that no run saw at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from rasid import config, health, report
from rasid.models import FUNNEL
from rasid.storage import open_lake
from rasid_flows import where
from rasid_flows.alerts import publish_flags
from rasid_flows.run_logs import rasid_logs_to_run

DAY = timedelta(hours=24)


def _started(manifest: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(manifest["started_at"])


@flow(name="daily-report", log_prints=False)
def daily_report(sources_file: str | None = None, lake: str | None = None) -> dict[str, Any]:
    """Report on the runs committed to ``lake`` in the last 24 hours (unset: see
    ``rasid_flows.where``)."""
    with rasid_logs_to_run():
        lake = where.lake(lake)
        return _report(where.sources(sources_file, lake), lake)


def _report(sources_file: str, lake: str) -> dict[str, Any]:
    store = open_lake(lake)
    manifests = report.committed_runs(store)
    if not manifests:
        get_run_logger().warning("no committed run in %s yet: nothing to report", store.uri)
        create_markdown_artifact(f"No committed run in `{store.uri}` yet.", key="rasid-daily-report")
        return {"runs": 0, "report": None, "flags": []}
    since = datetime.now(UTC) - DAY
    today = [m for m in manifests if _started(m) >= since]
    earlier = [m for m in manifests if _started(m) < since]
    sources = [s.id for s in config.load_sources(sources_file)]
    day = health.combine_runs(today, sources)
    flags = health.flag_sources(day, earlier)

    published = report.publish(store)
    create_markdown_artifact(published.markdown, key="rasid-daily-report",
                             description=f"{len(today)} run(s) since {since:%Y-%m-%d %H:%M} UTC")
    create_table_artifact(
        [{"source": sid, **{k: v for k, v in stats.items() if k in FUNNEL}}
         for sid, stats in day.items()],
        key="rasid-daily-sources", description="per source, the last 24 hours")
    publish_flags(flags, "rasid-daily-flags", "the last 24 hours", store.uri)
    return {"runs": len(today), "report": report.link(store, published.report),
            "flags": [f.as_dict() for f in flags]}
