"""Where a flow run's lake and sources are, on any worker, with no checkout.

A deployment names neither: a per-machine default (``./lake``) would give every worker a
lake of its own. In order, each is taken from the flow run's parameter, the worker's
environment (``RASID_LAKE``, ``RASID_SOURCES``), or a Prefect Variable (``rasid_lake``,
``rasid_sources``); the sources default to ``sources.yaml`` in the lake itself. A sources
location is a path, an http(s) URL or ``s3://bucket/key``.
"""

from __future__ import annotations

from prefect.variables import Variable

from rasid.config import ConfigError, load_settings

LAKE_VARIABLE = "rasid_lake"
SOURCES_VARIABLE = "rasid_sources"


def _variable(name: str) -> str | None:
    value = Variable.get(name, default=None)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"Prefect Variable {name} must be a string, got {type(value).__name__}")
    return value or None


def lake(given: str | None) -> str:
    found = given or load_settings().lake or _variable(LAKE_VARIABLE)
    if not found:
        raise ConfigError("no lake: pass the lake parameter, set RASID_LAKE on the worker, or "
                          f"create the Prefect Variable {LAKE_VARIABLE} (s3://bucket/prefix)")
    return found


def sources(given: str | None, lake_uri: str) -> str:
    return (given or load_settings().sources or _variable(SOURCES_VARIABLE)
            or f"{lake_uri.rstrip('/')}/sources.yaml")
