"""The compaction flow: merge each partition's small Parquet files (see ``rasid.compact``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from rasid import compact as compaction
from rasid.storage import open_lake
from rasid_flows import where
from rasid_flows.collect import only_transient
from rasid_flows.run_logs import rasid_logs_to_run

MIB = 1024 * 1024


@task(name="compact-lake", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[10, 60],
      retry_condition_fn=only_transient)
def compact_lake(lake: str, target_mb: int) -> dict[str, Any]:
    # Safe to retry: a compaction that committed is finished (published) by the next attempt,
    # which then finds nothing left to merge.
    return asdict(compaction.compact(open_lake(lake), target_bytes=target_mb * MIB))


@flow(name="compact", log_prints=False)
def compact(lake: str | None = None, target_mb: int = 128) -> dict[str, Any]:
    """Merge small files per partition of ``lake`` (unset: see ``rasid_flows.where``); one run
    at a time (the deployment's concurrency limit), since two compactions of the same files
    would conflict."""
    with rasid_logs_to_run():
        result = compact_lake(where.lake(lake), target_mb)
    get_run_logger().info(
        "compaction %s: %d files -> %d in %d partitions; %d stale staged files removed",
        result["run_id"], result["files_before"], result["files_after"], result["partitions"],
        len(result["swept"]),
    )
    return result
