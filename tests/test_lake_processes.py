"""`rasid run` as a real process against the demo site: killed with SIGKILL at random moments
and run again, or writing through a faulty S3 endpoint, it ends with the same lake as a clean
run — on a local path and on S3 (moto's server) — and nothing uncommitted is ever visible.

Every process talks to the Prefect API server of the test harness, so none pays for starting
its own.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from rasid.storage import Lake, open_lake
from tests.conftest import PLANTED_SECRET
from tests.lake_support import (
    FaultProxy,
    assert_lake_consistent,
    comparable,
    duckdb_rows,
    kill_hard,
    rasid_env,
    rasid_process,
    run_rasid,
    visible_files,
    visible_rows,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

SEED = random.randrange(1 << 30)  # printed on failure, so a failing schedule can be replayed
POLL = 0.05


@pytest.fixture(scope="module")
def env(
    demo_site: Any, prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    home = tmp_path_factory.mktemp("prefect-home")
    return rasid_env({
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_HOME": str(home),
        "RASID_ALLOW_PRIVATE_HOSTS": demo_site.allowlist(),
    })


@pytest.fixture(scope="module")
def sources(demo_site: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("sources") / "sources.yaml"
    path.write_text(demo_site.sources_yaml(), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def clean(
    env: dict[str, str], sources: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A clean run's lake: the rows every other lake must end with, and how long it took."""
    lake = tmp_path_factory.mktemp("clean") / "lake"
    started = time.monotonic()
    done = run_rasid("run", "--sources", sources, "--lake", str(lake), env=env)
    assert done.returncode == 0, done.stderr
    rows = {kind: comparable(duckdb_rows(lake, kind)) for kind in ("articles", "quarantine")}
    assert len(rows["articles"]) >= 40 and rows["quarantine"]
    return {"rows": rows, "seconds": time.monotonic() - started}


def lake_rows(lake: Lake) -> dict[str, Any]:
    return {kind: comparable(visible_rows(lake, kind)) for kind in ("articles", "quarantine")}


def phases(lake: Lake) -> Callable[[], tuple[bool, int]]:
    """(whether the run has staged files, how many runs are committed), seen from outside."""
    def probe() -> tuple[bool, int]:
        return bool(lake.store.list("_staging/")), len(lake.store.list("_manifests/"))
    return probe


def kill_at(moment: str, process: Any, probe: Callable[[], tuple[bool, int]], rng: random.Random,
            clean_seconds: float) -> str:
    """Wait for ``moment`` of the run, then kill -9 it; say what happened."""
    _, committed = probe()
    deadline = time.monotonic() + (rng.uniform(0, clean_seconds) if moment == "random" else 300)
    while process.poll() is None and time.monotonic() < deadline:
        staged, manifests = probe()
        if (moment == "staging" and staged) or (moment == "commit" and manifests > committed):
            break
        time.sleep(POLL)
    if moment == "staging":
        time.sleep(rng.uniform(0, 0.3))
    return f"{moment}: {'killed' if kill_hard(process) else 'finished first'}"


def kill_and_rerun(lake_uri: str, env: dict[str, str], sources: str, clean: dict[str, Any],
                   moments: tuple[str, ...]) -> list[str]:
    lake, rng = open_lake(lake_uri), random.Random(SEED)
    log = []
    for moment in moments:
        with rasid_process("run", "--sources", sources, "--lake", lake_uri, env=env) as process:
            log.append(kill_at(moment, process, phases(lake), rng, clean["seconds"]))
        # Right after the kill: only committed files are visible, each article at most once.
        for kind in ("articles", "quarantine"):
            assert set(visible_files(lake, kind)) <= set(lake.committed_files(kind)), log
        lake_rows(lake)
    done = run_rasid("run", "--sources", sources, "--lake", lake_uri, env=env)
    assert done.returncode == 0, done.stderr
    assert lake_rows(lake) == clean["rows"], (SEED, log)
    assert_lake_consistent(lake)
    return log


def test_kill_9_at_random_moments_then_rerun_local(
    env: dict[str, str], sources: str, clean: dict[str, Any], tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    log = kill_and_rerun(str(lake), env, sources, clean, ("random", "commit"))
    assert any("killed" in line for line in log), log
    # DuckDB, globbing as the README says, sees exactly the clean run's rows.
    assert {kind: comparable(duckdb_rows(lake, kind)) for kind in clean["rows"]} == clean["rows"]


def test_kill_9_at_random_moments_then_rerun_s3(
    env: dict[str, str], sources: str, clean: dict[str, Any], s3_env: dict[str, str]
) -> None:
    bucket = f"kill-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    log = kill_and_rerun(f"s3://{bucket}/lake", {**env, **s3_env}, sources, clean,
                         ("staging", "commit"))
    assert any("killed" in line for line in log), log


def test_a_run_through_a_faulty_s3_endpoint_ends_like_a_clean_run(
    env: dict[str, str], sources: str, clean: dict[str, Any], s3_env: dict[str, str],
    moto_endpoint: str,
) -> None:
    bucket = f"faults-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    faults = ["slowdown", "internal", "drop", "lost-reply"]
    with FaultProxy(moto_endpoint, every=9, faults=faults) as proxy:
        done = run_rasid("run", "--sources", sources, "--lake", f"s3://{bucket}/lake",
                         env={**env, **s3_env, "AWS_ENDPOINT_URL": proxy.url})
    assert done.returncode == 0, done.stderr
    assert set(proxy.injected) == set(faults), proxy.injected
    assert PLANTED_SECRET not in done.stdout + done.stderr
    lake = open_lake(f"s3://{bucket}/lake")
    assert lake_rows(lake) == clean["rows"]
    assert_lake_consistent(lake)


def test_a_run_that_cannot_write_says_so_and_leaves_nothing_visible(
    env: dict[str, str], sources: str, s3_env: dict[str, str], moto_endpoint: str
) -> None:
    bucket = f"denied-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    with FaultProxy(moto_endpoint, every=1, faults=["denied"], methods=["PUT"]) as proxy:
        done = run_rasid("run", "--sources", sources, "--lake", f"s3://{bucket}/lake",
                         env={**env, **s3_env, "AWS_ENDPOINT_URL": proxy.url})
    assert done.returncode == 4, done.stderr  # a storage problem
    assert "refused access" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert PLANTED_SECRET not in done.stdout + done.stderr
    lake = open_lake(f"s3://{bucket}/lake")
    assert visible_files(lake, "articles") == [] and lake.manifests() == []


def two_runs_at_once(lake_uri: str, env: dict[str, str], sources: str,
                     clean: dict[str, Any]) -> None:
    """Two `rasid run` processes on one lake and one site, started together: each article is
    stored once (the later commit drops the copies the earlier one stored)."""
    with rasid_process("run", "--sources", sources, "--lake", lake_uri, env=env) as first, \
            rasid_process("run", "--sources", sources, "--lake", lake_uri, env=env) as second:
        codes = [first.wait(timeout=600), second.wait(timeout=600)]
    assert codes == [0, 0]
    lake = open_lake(lake_uri)
    assert lake_rows(lake) == clean["rows"]  # comparable() fails on an article stored twice
    assert_lake_consistent(lake)
    runs = lake.manifests()
    assert len(runs) == 2 and [m["seq"] for m in runs] == [1, 2]
    stored = [len([r for r in m["records"] if r["kind"] == "article"]) for m in runs]
    assert sum(stored) == len(clean["rows"]["articles"])


def test_two_runs_at_once_store_each_article_once_local(
    env: dict[str, str], sources: str, clean: dict[str, Any], tmp_path: Path
) -> None:
    two_runs_at_once(str(tmp_path / "lake"), env, sources, clean)


def test_two_runs_at_once_store_each_article_once_s3(
    env: dict[str, str], sources: str, clean: dict[str, Any], s3_env: dict[str, str]
) -> None:
    bucket = f"twice-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    two_runs_at_once(f"s3://{bucket}/lake", {**env, **s3_env}, sources, clean)
