"""Compaction merges each partition's small files into few, atomically for readers of the
manifests, deleting the old files only after its commit; a kill at any step loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from rasid.compact import compact
from rasid.storage import Lake, open_lake
from tests.lake_support import (
    DyingStore,
    Killed,
    article,
    assert_lake_consistent,
    collect_rows,
    comparable,
    visible_files,
    visible_rows,
)

DAYS = (date(2026, 11, 27), date(2026, 11, 28))
# Three runs, each adding a file to each of the four partitions.
RUNS = [[article(s, d, n) for s in ("sham-today", "furat-post") for d in DAYS for n in (r, r + 10)]
        for r in (1, 2, 3)]
ALL = [row for run in RUNS for row in run]


def three_runs(lake: Lake) -> Lake:
    for rows in RUNS:
        collect_rows(lake, rows, batch_size=100)
    return lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return three_runs(open_lake(str(tmp_path / "lake")))


def test_compaction_merges_each_partition_into_one_file(lake: Lake) -> None:
    before = visible_files(lake, "articles")
    assert len(before) == 12

    result = compact(lake)

    after = visible_files(lake, "articles")
    assert (result.partitions, result.files_before, result.files_after) == (4, 12, 4)
    assert len(after) == 4 and not set(after) & set(before)
    assert comparable(visible_rows(lake, "articles")) == comparable(ALL)
    assert lake.dataset("articles").count_rows() == len(ALL)
    assert lake.manifests()[-1]["operation"] == "compact"
    assert_lake_consistent(lake)
    assert compact(lake).run_id is None  # nothing left to merge


def test_files_are_split_near_the_target_size(lake: Lake) -> None:
    sizes = lake.file_sizes("articles")
    result = compact(lake, target_bytes=int(sum(sizes.values()) / 4 * 0.6))
    assert result.files_after == 8  # each partition's three files become two
    assert comparable(visible_rows(lake, "articles")) == comparable(ALL)
    assert_lake_consistent(lake)


def test_a_compaction_killed_at_any_step_loses_nothing_and_shows_nothing_twice(
    tmp_path: Path,
) -> None:
    counting = DyingStore(three_runs(open_lake(str(tmp_path / "count"))).store)
    compact(Lake(counting))
    manifest = next(i for i, (_, key) in enumerate(counting.operations) if "_manifests/" in key)
    assert [op for op, _ in counting.operations[manifest + 1 :]].count("delete") >= 12

    for die_at in range(len(counting.operations)):
        lake = three_runs(open_lake(str(tmp_path / f"kill-{die_at}")))
        old = set(visible_files(lake, "articles"))
        with pytest.raises(Killed):
            compact(Lake(DyingStore(lake.store, die_at)))
        if die_at <= manifest:  # not committed: the old files are all still there
            assert set(visible_files(lake, "articles")) == old, die_at
        seen = comparable(visible_rows(lake, "articles"))  # never an article twice
        assert seen.keys() <= comparable(ALL).keys(), die_at
        compact(lake)  # the next writer finishes (or redoes) the compaction
        assert comparable(visible_rows(lake, "articles")) == comparable(ALL), die_at
        assert_lake_consistent(lake)


def test_staged_files_of_dead_runs_are_swept_once_stale(lake: Lake, tmp_path: Path) -> None:
    stale = "_staging/articles/source=sham-today/published_date=2026-11-27/dead-0000-0.parquet"
    recent = "_staging/articles/source=sham-today/published_date=2026-11-27/alive-0000-0.parquet"
    lake.store.put(stale, b"left by a killed run")
    lake.store.put(recent, b"a run still writing")
    day_ago = time.time() - 2 * 86400
    os.utime(tmp_path / "lake" / stale, (day_ago, day_ago))

    assert compact(lake).swept == [stale]
    assert lake.store.list("_staging/") == [recent]


def test_the_compact_command(lake: Lake) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rasid.cli", "compact", "--lake", lake.uri],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "merged 12 files into 4 in 4 partition(s)" in done.stdout
    assert comparable(visible_rows(lake, "articles")) == comparable(ALL)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_the_compact_flow(lake: Lake) -> None:
    from rasid_flows.compact import compact as compact_flow

    result = compact_flow(lake=lake.uri)
    assert (result["files_before"], result["files_after"]) == (12, 4)
    assert_lake_consistent(lake)


def test_the_report_still_reads_the_lake_after_a_compaction(lake: Lake, tmp_path: Path) -> None:
    compact(lake)
    assert [m.get("operation", "collect") for m in lake.manifests()][-1] == "compact"
    assert len(lake.collection_runs()) == len(RUNS)
    done = subprocess.run(
        [sys.executable, "-m", "rasid.cli", "report", "--lake", lake.uri, "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "index.html").exists()
