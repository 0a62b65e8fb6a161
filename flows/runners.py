"""Where a flow's tasks run: threads in the flow's process (the default) or a Dask cluster.

Chosen per deployment through the environment (a work pool's or a deployment's ``env`` job
variables), because a flow's task runner is fixed when its module is imported:

- ``RASID_TASK_RUNNER=threads`` (default) or ``dask``;
- ``RASID_DASK_ADDRESS=tcp://scheduler:8786`` — an existing cluster; unset, each flow run starts
  a temporary local cluster of ``RASID_DASK_WORKERS`` (default 2) worker processes.
"""

from __future__ import annotations

from typing import Any, Literal

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from pydantic_settings import BaseSettings, SettingsConfigDict

from rasid.config import load_settings


class RunnerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RASID_", extra="ignore")

    task_runner: Literal["threads", "dask"] = "threads"
    dask_address: str | None = None
    dask_workers: int = 2


# TaskRunner[Any]: the thread and Dask runners make different futures, and Prefect types a
# runner by its future invariantly, so no narrower type fits both and @flow's parameter.
def task_runner(settings: RunnerSettings | None = None) -> TaskRunner[Any]:
    settings = settings or load_settings(RunnerSettings)  # a bad value: one line, exit 3
    if settings.task_runner == "threads":
        return ThreadPoolTaskRunner()
    from prefect_dask.task_runners import DaskTaskRunner  # the optional `dask` extra

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(cluster_kwargs={
        "n_workers": settings.dask_workers, "processes": True, "dashboard_address": None,
    })


def in_process(runner: TaskRunner[Any]) -> bool:
    """True when tasks run in the flow's own process, so they may share its objects (a
    process pool, open files); otherwise whatever a task takes must travel by pickle."""
    return isinstance(runner, ThreadPoolTaskRunner)
