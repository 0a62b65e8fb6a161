"""Checkpoints: a run reads the latest checkpoint plus the manifests after it, the state it gets
is the one the whole log gives, a lake written before checkpoints is upgraded without loss,
and a writer killed (or beaten by another) while writing one leaves a lake that works.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rasid import pipeline
from rasid.storage import Lake, LocalStore, open_lake
from rasid.storage.checkpoint import Checkpoint
from tests.lake_support import (
    DyingStore,
    Killed,
    article,
    assert_lake_consistent,
    checked,
    collect_rows,
    comparable,
    page_of,
    visible_rows,
)

DAY = date(2026, 11, 27)


def rows_of_run(run: int, per_run: int = 3) -> list[dict[str, Any]]:
    return [article("sham-today", DAY + timedelta(days=run % 3), 10 * run + n)
            for n in range(per_run)]


class CountingStore:
    """A store that counts the reads and listings a lake makes."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gets: list[str] = []
        self.lists: list[str] = []

    def get(self, key: str) -> bytes:
        self.gets.append(key)
        return bytes(self.inner.get(key))

    def list(self, prefix: str = "") -> list[str]:
        self.lists.append(prefix)
        return list(self.inner.list(prefix))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def write_old_format_run(lake: Lake, rows: list[dict[str, Any]], run_id: str,
                         committed_at: datetime) -> None:
    """A run as the version before checkpoints wrote it: files published in place and a
    manifest named by run id alone, holding every record."""
    summary = pipeline.RunSummary(run_id=run_id, started_at=committed_at)
    batch = checked(rows, run_id)
    files = pipeline.write_batch(lake, run_id, 0, batch, [page_of(r) for r in rows])
    summary.add_batch(batch, files)
    for key in [k for keys in files.values() for k in keys if not k.startswith("reports/")]:
        lake.store.copy(f"_staging/{key}", key)
        lake.store.delete(f"_staging/{key}")
    manifest = summary.manifest() | {"run_id": run_id, "committed_at": committed_at.isoformat()}
    data = json.dumps(manifest, ensure_ascii=False, indent=2, default=str).encode()
    lake.store.put(f"_manifests/{run_id}.json", data, if_absent=True)


def test_a_lake_in_the_old_format_is_upgraded_without_loss(tmp_path: Path) -> None:
    old = open_lake(str(tmp_path))
    start = datetime(2026, 11, 1, tzinfo=UTC)
    every = [rows_of_run(run) for run in range(30)]
    for run, rows in enumerate(every):
        write_old_format_run(old, rows, f"20261101T{run:04d}Z-old{run:03d}",
                             start + timedelta(minutes=15 * run))
    before = comparable(visible_rows(old, "articles"))
    assert not old.store.exists("_last_checkpoint")

    lake = open_lake(str(tmp_path))
    state = pipeline.load_state(lake)  # the first run of this version folds the history

    pointer = Checkpoint.model_validate_json(lake.read_bytes("_last_checkpoint"))
    assert pointer.seq == 0 and sum(s.runs for s in pointer.runs) == 30
    assert all(row["article_id"] in state.known_ids for rows in every for row in rows)
    assert state.body_owner.get(every[3][1]["body_hash"]) == every[3][1]["article_id"]
    collect_rows(lake, [row for rows in every for row in rows])  # nothing is new
    assert comparable(visible_rows(lake, "articles")) == before
    assert_lake_consistent(lake)
    assert len(lake.collection_runs()) == 31
    assert lake.manifests()[-1]["records"] == []  # the run after the upgrade stored nothing
    assert lake.manifests()[-1]["seq"] == 1


def test_a_run_reads_the_checkpoint_and_only_the_manifests_after_it(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    lake.log.checkpoint_every = 4
    for run in range(10):
        collect_rows(lake, rows_of_run(run))
    collect_rows(lake, rows_of_run(10))

    counting = CountingStore(LocalStore(tmp_path))
    reader = Lake(counting)
    state = pipeline.load_state(reader)

    manifests = [k for k in counting.gets if k.startswith("_manifests/")]
    folded = Checkpoint.model_validate_json(reader.read_bytes("_last_checkpoint")).seq
    assert folded == 8
    assert manifests == LocalStore(tmp_path).list("_manifests/")[folded:]
    assert "_manifests/" not in counting.lists  # the log is never listed whole
    assert all(row["article_id"] in state.known_ids for run in range(11)
               for row in rows_of_run(run))
    assert len(state.known_ids) == 33


def test_the_state_from_a_checkpoint_is_the_state_of_the_whole_log(tmp_path: Path) -> None:
    folded = open_lake(str(tmp_path / "folded"))
    folded.log.checkpoint_every = 2
    plain = open_lake(str(tmp_path / "plain"))
    plain.log.checkpoint_every = 10**6
    rows = [rows_of_run(run) for run in range(7)]
    copy = dict(rows[0][0], article_id="f" * 32, url="https://sham-today.example/copy")
    for lake in (folded, plain):
        for batch in [*rows, [copy]]:
            collect_rows(lake, batch)
    one, other = pipeline.load_state(folded), pipeline.load_state(plain)
    assert folded.log.checkpoint() is not None and plain.log.checkpoint() is None
    assert len(one.known_ids) == len(other.known_ids) == 22
    for batch in rows:
        for row in batch:
            assert row["article_id"] in one.known_ids
            assert one.body_owner.get(row["body_hash"]) == other.body_owner.get(row["body_hash"])
    assert comparable(visible_rows(folded, "articles")) == comparable(visible_rows(plain, "articles"))
    assert folded.committed_files("articles") != [] and len(
        folded.committed_files("articles")) == len(plain.committed_files("articles"))
    assert len(folded.collection_runs()) == len(plain.collection_runs()) == 8


def test_bodies_and_signatures_are_read_only_by_a_run_that_checks_a_text(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    lake.log.checkpoint_every = 2
    from rasid import neardup

    rows = [rows_of_run(run) for run in range(5)]
    signatures = {  # each text its own story
        row["article_id"]: neardup.encode(neardup.signatures(
            [" ".join(f"كلمة{row['article_id'][:6]}{i}" for i in range(60))])[0])
        for batch in rows for row in batch}
    for batch in rows:
        collect_rows(lake, batch, signatures=signatures)
    found = lake.log.checkpoint()
    assert found is not None

    counting = CountingStore(LocalStore(tmp_path))
    state = pipeline.load_state(Lake(counting))  # a run with manifests after the checkpoint
    assert found.tables["bodies"] not in counting.gets
    assert found.tables["near"] not in counting.gets
    # The window's signatures are read when a text is first compared, with the articles
    # committed after the checkpoint in the index as well.
    assert len(state.near) == 15 and counting.gets.count(found.tables["near"]) == 1
    # The first body looked up reads them; a copy of a folded article is found, and so is one
    # of an article committed after the checkpoint.
    assert state.body_owner.get(rows[0][1]["body_hash"]) == rows[0][1]["article_id"]
    assert state.body_owner.get(rows[4][2]["body_hash"]) == rows[4][2]["article_id"]
    assert counting.gets.count(found.tables["bodies"]) == 1
    assert state.body_owner.get("0" * 64) is None
    # A copy stored later never takes a body from its earlier owner.
    state.body_owner.add(rows[0][1]["body_hash"], "e" * 32)
    assert state.body_owner.get(rows[0][1]["body_hash"]) == rows[0][1]["article_id"]


def test_known_ids_answer_from_the_recent_keys_and_the_filter(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    lake.log.checkpoint_every = 10**6
    runs = [rows_of_run(run) for run in range(4)]
    for rows in runs:
        collect_rows(lake, rows)
    # The first run was committed 40 days before the others: out of the recent keys.
    first = lake.store.list("_manifests/")[0]
    manifest = json.loads(lake.store.get(first))
    manifest["committed_at"] = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    lake.store.put(first, json.dumps(manifest).encode())
    lake = open_lake(str(tmp_path))  # not the manifests this one read before
    lake.write_checkpoint()
    found = lake.log.checkpoint()
    assert found is not None

    counting = CountingStore(LocalStore(tmp_path))
    state = pipeline.load_state(Lake(counting))
    assert all(row["article_id"] in state.known_ids for rows in runs[1:] for row in rows)
    never = [f"{n:032x}" for n in range(5)]
    assert not any(article_id in state.known_ids for article_id in never)
    assert found.tables["known"] not in counting.gets and not state.known_ids.loaded
    # An old id the filter cannot rule out is looked up in the full keys, once.
    assert all(row["article_id"] in state.known_ids for row in runs[0])
    assert counting.gets.count(found.tables["known"]) == 1
    assert len(state.known_ids) == 12


def test_the_bloom_filter_holds_every_key_and_few_others() -> None:
    import numpy as np

    from rasid.storage import checkpoint as cp

    rng = np.random.default_rng(7)
    keys = np.sort(rng.integers(0, 256, (20_000, 16), dtype=np.uint8).view("S16").ravel())
    table = cp.bloom_of(keys)
    bloom = (table.column("probes")[0].as_py(),
             np.frombuffer(table.column("bits")[0].as_py(), dtype=np.uint8))
    assert cp.bloom_may_hold(bloom, keys).all()
    others = rng.integers(0, 256, (20_000, 16), dtype=np.uint8).view("S16").ravel()
    assert cp.bloom_may_hold(bloom, others).mean() < 0.02


@pytest.mark.parametrize("die_at", range(12))
def test_a_writer_killed_while_writing_a_checkpoint_leaves_a_working_lake(
    tmp_path: Path, die_at: int
) -> None:
    lake = open_lake(str(tmp_path))
    lake.log.checkpoint_every = 10**6
    for run in range(4):
        collect_rows(lake, rows_of_run(run))
    dying = Lake(DyingStore(lake.store, die_at=die_at))
    with contextlib.suppress(Killed):
        dying.log.write_checkpoint()
    fresh = open_lake(str(tmp_path))
    fresh.log.checkpoint_every = 2
    collect_rows(fresh, rows_of_run(4))
    state = pipeline.load_state(open_lake(str(tmp_path)))
    assert len(state.known_ids) == 15
    assert len(visible_rows(fresh, "articles")) == 15
    assert_lake_consistent(fresh)
    assert len(fresh.collection_runs()) == 5


def test_two_writers_folding_the_same_commits_agree_on_one_checkpoint(tmp_path: Path) -> None:
    first, second = open_lake(str(tmp_path)), open_lake(str(tmp_path))
    for lake in (first, second):
        lake.log.checkpoint_every = 10**6
    for run in range(3):
        collect_rows(first, rows_of_run(run))
    won = first.log.write_checkpoint()
    assert won is not None
    # The second writer read the lake before the first one's pointer was written.
    second.store.delete("_last_checkpoint")
    got = second.log.write_checkpoint()

    assert got == won  # the conditional put of the descriptor let only the first one in
    pointer = Checkpoint.model_validate_json(second.read_bytes("_last_checkpoint"))
    assert pointer == won
    folders = {key.split("/")[1] for key in second.store.list("_checkpoints/") if key.count("/") > 1}
    assert folders == {won.tables["known"].split("/")[1]}  # the loser's files are gone
    assert len(pipeline.load_state(open_lake(str(tmp_path))).known_ids) == 9


def test_a_commit_after_the_checkpoint_killed_before_its_publish_is_finished(
    tmp_path: Path,
) -> None:
    lake = open_lake(str(tmp_path))
    lake.log.checkpoint_every = 10**6
    for run in range(3):
        collect_rows(lake, rows_of_run(run))
    lake.log.write_checkpoint()
    state = pipeline.load_state(lake)
    summary = pipeline.RunSummary(run_id=pipeline.new_run_id(), started_at=datetime.now(UTC))
    rows = rows_of_run(3)
    batch = checked(rows, summary.run_id)
    files = pipeline.write_batch(lake, summary.run_id, 0, batch, [page_of(r) for r in rows])
    summary.add_batch(batch, files)
    dying = Lake(DyingStore(lake.store, die_at=1))  # after the manifest, before the first copy
    dying.read_at = lake.read_at
    with pytest.raises(Killed):
        pipeline.commit_run(dying, summary)
    assert len(visible_rows(lake, "articles")) == 9  # committed, its files not yet in place
    assert len(state.known_ids) == 9

    again = open_lake(str(tmp_path))
    state = pipeline.load_state(again)
    assert len(state.known_ids) == 12
    assert len(visible_rows(again, "articles")) == 12
    assert_lake_consistent(again)


def test_the_near_duplicate_index_covers_only_the_window(tmp_path: Path) -> None:
    from rasid import neardup

    lake = open_lake(str(tmp_path))
    lake.log.checkpoint_every = 1
    now = datetime.now(UTC)
    body = " ".join(f"كلمة{i}" for i in range(40))
    signature = neardup.encode(neardup.signatures([body])[0])
    for age_days, n in ((30, 1), (1, 2)):
        summary = pipeline.RunSummary(run_id=pipeline.new_run_id(), started_at=now)
        url = f"https://sham-today.example/{n}"
        summary.records.append({
            "article_id": f"{n:032x}", "url": url, "source": "sham-today", "kind": "article",
            "body_hash": f"{n:064x}", "title": "t", "minhash": signature,
            "near_duplicate_cluster": f"{1:032x}",
            "published_at": (now - timedelta(days=age_days)).isoformat(),
        })
        summary.files = {"validations": [lake.write_bytes(f"reports/x-{n}.json", b"{}")]}
        pipeline.commit_run(lake, summary)
    state = pipeline.load_state(lake, near_window=timedelta(days=7))
    assert len(state.near) == 1  # the article of a month ago is not indexed
    assert state.near.by_cluster[f"{1:032x}"].earliest_id == f"{1:032x}"  # still its cluster's first
    assert len(pipeline.load_state(open_lake(str(tmp_path)), near_window=timedelta(days=60)).near) == 1


def test_urls_left_for_the_next_run_survive_a_checkpoint(tmp_path: Path) -> None:
    from rasid.models import LEFT_FOR_NEXT_RUN

    lake = open_lake(str(tmp_path))
    lake.log.checkpoint_every = 1
    reason = min(LEFT_FOR_NEXT_RUN)
    summary = pipeline.RunSummary(run_id=pipeline.new_run_id(), started_at=datetime.now(UTC))
    url = "https://sham-today.example/news/left"
    summary.failures.append({"url": url, "source_id": "sham-today", "reason": reason,
                             "detail": "", "transient": True,
                             "candidate": {"url": url, "source_id": "sham-today", "via": "feed",
                                           "published_hint": None, "title_hint": None}})
    summary.files = {"validations": [lake.write_bytes("reports/left.json", b"{}")]}
    pipeline.commit_run(lake, summary)
    pipeline.load_state(lake)  # folds it into a checkpoint

    state = pipeline.load_state(open_lake(str(tmp_path)))
    assert open_lake(str(tmp_path)).log.checkpoint() is not None
    assert [c.url for c in state.left_over("sham-today")] == [url]


def test_ids_and_body_hashes_ending_in_zero_bytes_are_found(tmp_path: Path) -> None:
    """numpy hands back the elements of a fixed-width bytes array without trailing zero
    bytes: a key ending in one must still be found after a checkpoint."""
    lake = open_lake(str(tmp_path))
    lake.log.checkpoint_every = 1
    rows = [dict(article("sham-today", DAY, n), article_id=f"{n:02x}" + "ab" * 13 + "0000",
                 body_hash="cd" * 14 + f"{n:02x}" + "00" * 17) for n in range(3)]
    collect_rows(lake, rows)
    pipeline.load_state(lake)  # folds the checkpoint
    state = pipeline.load_state(open_lake(str(tmp_path)))
    assert open_lake(str(tmp_path)).log.checkpoint() is not None
    assert all(row["article_id"] in state.known_ids for row in rows)
    assert all(state.body_owner.get(row["body_hash"]) == row["article_id"] for row in rows)
