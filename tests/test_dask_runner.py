"""The collect flow on a Dask cluster (prefect-dask) writes the same lake as on threads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import duckdb
import pytest

from rasid_flows import runners
from rasid_flows.runners import RunnerSettings


def lake_rows(lake: Path) -> dict[str, set[tuple[Any, ...]]]:
    def rows(kind: str, columns: str) -> set[tuple[Any, ...]]:
        rel = f"read_parquet('{lake}/{kind}/**/*.parquet', hive_partitioning=true)"
        return {tuple(map(str, r)) for r in duckdb.sql(f"SELECT {columns} FROM {rel}").fetchall()}

    return {
        "articles": rows("articles", "source, url, title, published_date, body_hash, flags"),
        "quarantine": rows("quarantine", "source, url, reasons"),
    }


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


def test_the_runner_is_chosen_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    assert isinstance(runners.task_runner(), ThreadPoolTaskRunner)
    monkeypatch.setenv("RASID_TASK_RUNNER", "dask")
    monkeypatch.setenv("RASID_DASK_WORKERS", "3")
    runner = runners.task_runner()
    assert isinstance(runner, DaskTaskRunner) and runner.cluster_kwargs["n_workers"] == 3
    assert not runners.in_process(runner)
    monkeypatch.setenv("RASID_DASK_ADDRESS", "tcp://127.0.0.1:8786")
    assert runners.task_runner().address == "tcp://127.0.0.1:8786"


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_collect_on_two_dask_workers_writes_the_same_lake(
    demo_sources: Path, tmp_path: Path, cluster: Any
) -> None:
    from rasid_flows.collect import collect

    on_threads = collect(sources_file=str(demo_sources), lake=str(tmp_path / "threads"))

    on_dask = collect.with_options(task_runner=runners.task_runner(RunnerSettings(
        task_runner="dask", dask_address=cluster.scheduler_address)))
    with distributed.Client(cluster) as client, distributed.get_task_stream(client) as stream:
        result = on_dask(sources_file=str(demo_sources), lake=str(tmp_path / "dask"))

    ran = {(task["key"].split("-")[0], task["worker"]) for task in stream.data}
    assert {name for name, _ in ran} >= {"discover_source", "extract_batch"}  # ran on the cluster
    assert result["totals"] == on_threads["totals"] and result["totals"]["stored"] >= 40
    assert lake_rows(tmp_path / "dask") == lake_rows(tmp_path / "threads")
