"""Merge small Parquet files per partition (``rasid compact``).

Every collection run adds one small file to each partition it touches, and readers pay for
each file they open. Compaction rewrites a partition's small files as few files near a target
size, committed as one run that supersedes them (see the commit protocol in
:mod:`rasid.storage`): readers of manifests switch in one step, and the old files are deleted
only after the new commit. It also removes staged files that killed runs left behind.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rasid import contract
from rasid.pipeline import new_run_id
from rasid.storage import Lake

# Large enough that a reader's per-file cost vanishes, small enough to stream and to prune.
TARGET_FILE_BYTES = 128 * 1024 * 1024
# A staged file this old belongs to a run that died: no run takes a day between stage and commit.
STALE_STAGING = timedelta(days=1)


@dataclass
class CompactionResult:
    """What one compaction did."""

    run_id: str | None = None  # None when no partition needed it
    partitions: int = 0
    files_before: int = 0
    files_after: int = 0
    swept: list[str] = field(default_factory=list)  # staged files of dead runs, now deleted


def compact(
    lake: Lake,
    *,
    target_bytes: int = TARGET_FILE_BYTES,
    stale_after: timedelta = STALE_STAGING,
) -> CompactionResult:
    """Merge every partition's files smaller than ``target_bytes`` when there are two or more;
    commit the result as one run; then sweep stale staged files."""
    lake.publish_pending()
    started = datetime.now(UTC)
    result = CompactionResult()
    run_id = new_run_id(started)
    added: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    for kind in contract.TABLES:
        sizes = lake.file_sizes(kind)
        for path, keys in _small_files(lake.committed_files(kind), sizes, target_bytes).items():
            table = lake.read_files(kind, keys)
            total = sum(sizes[key] for key in keys)
            files = -(-total // target_bytes)
            rows_per_file = max(1, -(-table.num_rows // files))
            new = lake.write_partition(kind, path, table, run_id, rows_per_file=rows_per_file)
            added.setdefault(kind, []).extend(new)
            removed.setdefault(kind, []).extend(keys)
            result.partitions += 1
            result.files_before += len(keys)
            result.files_after += len(new)
    if removed:
        lake.commit(run_id, {
            "operation": "compact",
            "started_at": started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "files": added,
            "removes": removed,
        })
        result.run_id = run_id
        lake.write_checkpoint()  # runs after it read the compacted file list from there
    result.swept = lake.sweep(stale_after)
    return result


def _small_files(
    live: list[str], sizes: dict[str, int], target_bytes: int
) -> dict[str, list[str]]:
    """Partition directory -> its small committed files, for partitions with two or more."""
    by_partition: dict[str, list[str]] = defaultdict(list)
    for key in live:
        if key in sizes and sizes[key] < target_bytes:
            by_partition[key.rpartition("/")[0]].append(key)
    return {path: keys for path, keys in sorted(by_partition.items()) if len(keys) > 1}

