"""Storage faults on a real S3 endpoint: a loopback proxy in front of moto's server fails every
k-th request (503 SlowDown, 500, a connection dropped mid-upload, a write that succeeded but
was reported failed, an answer that never comes). Runs retry and end with the same lake as a
clean run; a run that cannot write says so and leaves nothing visible.

The `rasid run` processes going through the same proxy are in test_lake_processes.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import boto3
import pytest

from rasid.compact import compact
from rasid.storage import Lake, S3Store, StorageError, TransientStorageError
from tests.conftest import PLANTED_SECRET
from tests.lake_support import (
    FAULTS,
    FaultProxy,
    article,
    assert_lake_consistent,
    collect_rows,
    comparable,
    visible_files,
    visible_rows,
)

ROWS = [article(s, date(2026, 11, d), n) for s in ("sham-today", "halab-online")
        for d in (27, 28) for n in range(1, 5)]


@pytest.fixture
def bucket(s3_env: dict[str, str]) -> str:
    name = f"faults-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def faulty(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """Every 5th request fails, cycling through every kind of fault; the client waits 0.5 s
    for an answer and the proxy stalls 1 s."""
    with FaultProxy(moto_endpoint, every=5, faults=FAULTS, stall=1.0) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        yield proxy


def test_runs_and_compaction_through_faults_end_like_a_clean_run(
    bucket: str, faulty: FaultProxy
) -> None:
    lake = Lake(S3Store(bucket, "lake", read_timeout=0.5))
    collect_rows(lake, ROWS[:10], batch_size=3)
    collect_rows(lake, ROWS, batch_size=3)
    compacted = compact(lake)

    assert set(faulty.injected) == set(FAULTS), faulty.injected
    assert compacted.files_before > compacted.files_after
    assert comparable(visible_rows(lake, "articles")) == comparable(ROWS)
    assert_lake_consistent(lake)


def test_a_write_reported_failed_that_succeeded_counts_as_done(
    bucket: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every other PUT reaches the bucket and then loses its answer: the retry finds the object.
    with FaultProxy(moto_endpoint, every=2, faults=["lost-reply"], methods=["PUT"]) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        lake = Lake(S3Store(bucket, "lake"))
        collect_rows(lake, ROWS)
        assert proxy.injected["lost-reply"] >= 10
        assert comparable(visible_rows(lake, "articles")) == comparable(ROWS)
        assert_lake_consistent(lake)


def test_an_endpoint_that_keeps_failing_is_a_transient_storage_error(
    bucket: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    with FaultProxy(moto_endpoint, every=1, faults=["slowdown"], methods=["PUT"]) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        lake = Lake(S3Store(bucket, "lake"))
        gave_up = "SlowDown.*gave up after 3 attempts"
        with pytest.raises(TransientStorageError, match=gave_up) as error:
            collect_rows(lake, ROWS)
    assert proxy.requests == 3
    assert PLANTED_SECRET not in str(error.value)
    assert visible_files(lake, "articles") == [] and lake.manifests() == []


def test_a_refused_write_is_a_clear_permanent_error(
    bucket: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FaultProxy(moto_endpoint, every=1, faults=["denied"], methods=["PUT"]) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        lake = Lake(S3Store(bucket, "lake"))
        with pytest.raises(StorageError, match="refused access.*bucket policy") as error:
            collect_rows(lake, ROWS)
    assert not isinstance(error.value, TransientStorageError)
    assert proxy.requests == 1  # a refusal is not retried
    assert PLANTED_SECRET not in str(error.value)
