"""The commit protocol: nothing uncommitted is visible to a reader, and a run stopped dead before
any storage operation leaves a lake that the next run completes, with no duplicate and no loss.

Stopping "dead" is a store that raises a BaseException before its n-th write, copy or delete,
for every n a run performs: in-process, so every single step of the protocol is tried. The kill -9
tests of real processes are in test_lake_kill.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rasid import pipeline
from rasid.storage import Lake, LocalStore, S3Store, StorageError, open_lake
from tests.lake_support import (
    DyingStore,
    Killed,
    article,
    assert_lake_consistent,
    checked,
    collect_rows,
    comparable,
    page_of,
    visible_files,
    visible_rows,
)

DAY1, DAY2 = date(2026, 11, 27), date(2026, 11, 28)
PARTITION = "articles/source=sham-today/published_date=2026-11-27"
ROWS = [article(s, d, n) for s in ("sham-today", "furat-post") for d in (DAY1, DAY2)
        for n in (1, 2, 3)]


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    if request.param == "local":
        return open_lake(str(tmp_path / "lake"))
    return open_lake(request.getfixturevalue("s3_lake"))


def test_staged_files_stay_invisible_until_the_commit_publishes_them(lake: Lake) -> None:
    keys = lake.write_rows("articles", ROWS, "run-1")

    assert visible_files(lake, "articles") == []
    assert lake.committed_files("articles") == []
    lake.commit("run-1", {"files": {"articles": keys}})

    assert visible_files(lake, "articles") == sorted(keys)
    assert lake.store.list("_staging/") == []
    assert comparable(visible_rows(lake, "articles")) == comparable(ROWS)


def test_duckdb_globbing_a_local_lake_never_sees_staged_files(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    glob = f"read_parquet('{tmp_path}/articles/**/*.parquet', hive_partitioning=true)"
    keys = lake.write_rows("articles", ROWS, "run-1")
    with pytest.raises(duckdb.IOException, match="No files found"):
        duckdb.sql(f"SELECT count(*) FROM {glob}").fetchall()

    lake.commit("run-1", {"files": {"articles": keys}})
    assert duckdb.sql(f"SELECT count(*) FROM {glob}").fetchall() == [(len(ROWS),)]


def test_incremental_state_comes_only_from_committed_runs(lake: Lake) -> None:
    with pytest.raises(Killed):
        collect_rows(Lake(DyingStore(lake.store, die_at=4)), ROWS)
    from rasid.pipeline import load_state

    # the dead run staged files, committed nothing
    assert len(load_state(lake).known_ids) == 0
    collect_rows(lake, ROWS)
    known = load_state(lake).known_ids
    assert len(known) == len(ROWS) and all(row["article_id"] in known for row in ROWS)


def test_a_commit_survives_a_kill_before_its_publish(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    keys = lake.write_rows("articles", ROWS, "run-1")
    dying = Lake(DyingStore(lake.store, die_at=1))  # after the manifest, before the first copy
    with pytest.raises(Killed):
        dying.commit("run-1", {"files": {"articles": keys}})

    assert visible_files(lake, "articles") == []  # nothing visible yet, but it is committed:
    assert lake.dataset("articles").count_rows() == len(ROWS)  # manifest readers see it all
    assert lake.publish_pending() == ["run-1"]  # and the next writer publishes it
    assert visible_files(lake, "articles") == sorted(keys)


def operations_of_a_run(lake: Lake) -> list[tuple[str, str]]:
    counting = DyingStore(lake.store)
    collect_rows(Lake(counting), ROWS)
    return counting.operations


def test_a_run_killed_before_any_storage_operation_is_completed_by_the_next(tmp_path: Path) -> None:
    operations = operations_of_a_run(open_lake(str(tmp_path / "count")))
    assert len(operations) > 20  # staged puts, the manifest, copies, deletes: each a kill point
    for die_at in range(len(operations)):
        check_kill_and_rerun(open_lake(str(tmp_path / f"kill-{die_at}")), die_at)


@pytest.mark.slow
def test_a_run_killed_at_each_step_of_the_protocol_on_s3(s3_env: dict[str, str]) -> None:
    import boto3

    client = boto3.client("s3")
    client.create_bucket(Bucket="kill-count")
    operations = operations_of_a_run(Lake(S3Store("kill-count")))
    steps = [op for op, _ in operations]
    manifest = next(i for i, (op, key) in enumerate(operations) if key.startswith("_manifests/"))
    # Staging, the commit itself, just after it, publishing, and clearing the staged copies.
    for die_at in (len(operations) // 4, manifest, manifest + 1, steps.index("copy") + 3,
                   steps.index("delete"), len(operations) - 1):
        client.create_bucket(Bucket=f"kill-{die_at}")
        check_kill_and_rerun(Lake(S3Store(f"kill-{die_at}")), die_at)


def check_kill_and_rerun(lake: Lake, die_at: int) -> None:
    with pytest.raises(Killed):
        collect_rows(Lake(DyingStore(lake.store, die_at)), ROWS)
    # Whatever is visible after the kill is committed, and is each article at most once.
    committed = set(lake.committed_files("articles"))
    assert set(visible_files(lake, "articles")) <= committed, die_at
    comparable(visible_rows(lake, "articles"))
    collect_rows(lake, ROWS)
    assert comparable(visible_rows(lake, "articles")) == comparable(ROWS), die_at
    assert_lake_consistent(lake)


def test_committed_raw_archives_and_manifests_survive_a_rerun(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    collect_rows(lake, ROWS)
    collect_rows(lake, ROWS)  # nothing new: an empty run

    first, second = lake.manifests()
    assert len(first["records"]) == len(ROWS) and second["records"] == []
    assert {page.url for key in lake.committed_files("raw") for page in lake.read_raw(key)} == {
        row["url"] for row in ROWS
    }
    # Manifests are numbered in commit order.
    assert json.loads(lake.read_bytes("_manifests/000000000001.json"))["files"]


def test_a_commit_listing_unstaged_files_is_refused(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    with pytest.raises(StorageError, match="missing"):
        lake.commit("run-1", {"files": {"articles": [f"{PARTITION}/never-staged.parquet"]}})


def test_a_commit_replacing_files_another_run_replaced_first_is_refused(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    keys = lake.write_rows("articles", ROWS, "run-1")
    lake.commit("run-1", {"files": {"articles": keys}})
    merged = lake.write_rows("articles", ROWS, "run-2")
    lake.commit("run-2", {"files": {"articles": merged}, "removes": {"articles": keys}})

    again = lake.write_rows("articles", ROWS, "run-3")
    with pytest.raises(StorageError, match="another run already replaced"):
        lake.commit("run-3", {"files": {"articles": again}, "removes": {"articles": keys}})
    assert [m["run_id"] for m in lake.manifests()] == ["run-1", "run-2"]
    assert visible_files(lake, "articles") == sorted(merged)


def test_a_run_that_replaces_files_must_add_some(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    keys = lake.write_rows("articles", ROWS, "run-1")
    lake.commit("run-1", {"files": {"articles": keys}})
    with pytest.raises(ValueError, match="adds none"):
        lake.commit("run-2", {"files": {}, "removes": {"articles": keys}})


def test_local_copy_publishes_without_copying_bytes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("_staging/a/x", b"data")
    store.copy("_staging/a/x", "a/x")
    store.copy("_staging/a/x", "a/x")  # a retry: same result

    assert (tmp_path / "a/x").stat().st_ino == (tmp_path / "_staging/a/x").stat().st_ino
    assert store.list() == ["_staging/a/x", "a/x"]
    with pytest.raises(KeyError):
        store.copy("_staging/missing", "a/y")


def staged_run(writer: Lake, rows: list[dict[str, Any]]) -> pipeline.RunSummary:
    """A run that read ``writer``'s state and staged ``rows``, not yet committed."""
    pipeline.load_state(writer)
    summary = pipeline.RunSummary(run_id=pipeline.new_run_id(), started_at=datetime.now(UTC))
    batch = checked(rows, summary.run_id)
    summary.add_batch(batch, pipeline.write_batch(writer, summary.run_id, 0, batch,
                                                  [page_of(r) for r in rows]))
    return summary


def test_an_article_another_run_committed_meanwhile_is_stored_and_counted_once(
        tmp_path: Path) -> None:
    first, second = open_lake(str(tmp_path)), open_lake(str(tmp_path))
    # Both read the state before either commits.
    summaries = [staged_run(first, ROWS[:4]), staged_run(second, ROWS[2:6])]
    for lake, summary in zip((first, second), summaries, strict=True):
        pipeline.commit_run(lake, summary)

    later = open_lake(str(tmp_path)).manifests()[-1]
    assert later["duplicates_dropped"] == sorted(r["article_id"] for r in ROWS[2:4])
    assert {r["article_id"] for r in later["records"]} == {r["article_id"] for r in ROWS[4:6]}
    assert later["totals"]["stored"] == 2
    assert sum(s["stored"] for s in later["sources"].values()) == 2
    assert comparable(visible_rows(first, "articles")) == comparable(ROWS[:6])


class RacingStore:
    """A store on which another writer commits right before this writer's first manifest put:
    both writers chose the same commit number, and this one puts it second."""

    def __init__(self, inner: Any, other_commits: Callable[[], object]) -> None:
        self.inner, self.other_commits = inner, other_commits

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        if key.startswith("_manifests/") and self.other_commits is not None:
            commit, self.other_commits = self.other_commits, None
            commit()
        return bool(self.inner.put(key, data, if_absent=if_absent))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_two_writers_choosing_the_same_commit_number_store_each_article_once(
        lake: Lake) -> None:
    first_lake = Lake(lake.store)
    # Both read the state before either commits.
    runs = [staged_run(first_lake, ROWS[:4]), staged_run(lake, ROWS[2:6])]
    # The second writer has counted the commits (none) and chosen number 1 when the first
    # takes it.
    racing = Lake(RacingStore(lake.store, lambda: pipeline.commit_run(first_lake, runs[0])))
    racing.read_at = lake.read_at
    pipeline.commit_run(racing, runs[1])

    manifests = Lake(lake.store).manifests()
    assert [m["seq"] for m in manifests] == [1, 2]
    assert [m["run_id"] for m in manifests] == [runs[0].run_id, runs[1].run_id]
    assert manifests[1]["duplicates_dropped"] == sorted(r["article_id"] for r in ROWS[2:4])
    assert comparable(visible_rows(lake, "articles")) == comparable(ROWS[:6])
    assert_lake_consistent(lake)


def test_manifests_named_by_an_earlier_version_keep_their_place_in_the_log(
        tmp_path: Path) -> None:
    # The version before this one named commit n `<n>-<run_id>.json`.
    lake = open_lake(str(tmp_path))
    first = collect_rows(lake, ROWS[:3])
    lake.store.put(f"_manifests/000000000001-{first}.json",
                   lake.read_bytes("_manifests/000000000001.json"))
    lake.store.delete("_manifests/000000000001.json")

    again = open_lake(str(tmp_path))
    second = collect_rows(again, ROWS)  # stores the three it had not
    assert [m["run_id"] for m in again.manifests()] == [first, second]
    assert [m["seq"] for m in again.manifests()] == [1, 2]
    assert again.log.after(1)[0].run_id == second and not again.log.after(2)
    assert comparable(visible_rows(again, "articles")) == comparable(ROWS)


def test_a_commit_that_loses_the_race_twice_still_lists_only_files_it_has(lake: Lake) -> None:
    writers = [Lake(lake.store) for _ in range(3)]
    # All three read the empty lake.
    runs = [staged_run(writer, rows) for writer, rows in
            zip(writers, [ROWS[:3], ROWS[:3] + ROWS[6:9], ROWS[9:12]], strict=True)]
    pipeline.commit_run(writers[0], runs[0])
    # The second drops the first's rows (its whole file of them), then loses number 2 to the
    # third and checks again.
    racing = Lake(RacingStore(lake.store, lambda: pipeline.commit_run(writers[2], runs[2])))
    racing.read_at = writers[1].read_at
    pipeline.commit_run(racing, runs[1])

    manifests = Lake(lake.store).manifests()
    assert [m["run_id"] for m in manifests] == [runs[0].run_id, runs[2].run_id, runs[1].run_id]
    assert manifests[2]["duplicates_dropped"] == sorted(r["article_id"] for r in ROWS[:3])
    assert comparable(visible_rows(lake, "articles")) == comparable(ROWS[:3] + ROWS[6:12])
    assert_lake_consistent(lake)
