"""What a Prefect server needs before ``prefect deploy``: the work pool and the per-host limits.

Run by ``rasid setup-prefect``; safe to run again (after editing the sources file, say): it
creates what is missing and brings changed limits in line.
"""

from __future__ import annotations

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL
from prefect.workers.process import ProcessWorker

from rasid import config
from rasid_flows.politeness import HostLimits, provision

WORK_POOL = "rasid-process"  # the pool prefect.yaml's deployments name


def ensure_work_pool(name: str = WORK_POOL) -> list[str]:
    with get_client(sync_client=True) as client:
        try:
            pool = client.read_work_pool(name)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(
                name=name, type="process",
                base_job_template=ProcessWorker.get_default_base_job_template()))
            return [f"created work pool {name} (process)"]
    if pool.type != "process":
        raise config.ConfigError(f"work pool {name} exists with type {pool.type!r}, not 'process'")
    return []


def api_url() -> str:
    return PREFECT_API_URL.value() or "the local ephemeral server (PREFECT_API_URL is not set)"


def setup_prefect(sources_file: str, pool: str = WORK_POOL) -> list[str]:
    """Create the work pool and every host's limits; one line per change."""
    sources = config.load_sources(sources_file)
    try:
        return ensure_work_pool(pool) + provision(HostLimits.of(sources))
    except httpx.HTTPError as exc:
        raise config.ConfigError(f"cannot reach the Prefect API at {api_url()}: {exc}") from None
