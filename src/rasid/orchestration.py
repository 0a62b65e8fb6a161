"""The seam between the command line and whatever runs flows.

The package never imports its orchestrator: ``rasid demo``, ``run`` and ``setup-prefect``
find it as an entry point in the ``rasid.orchestrator`` group, which this distribution
registers for its Prefect flows (``rasid_flows.orchestrator``; see pyproject.toml). Another
orchestrator is another entry point, and the commands stay as they are.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Protocol

from rasid.config import ConfigError

GROUP = "rasid.orchestrator"


class Orchestrator(Protocol):
    def collect(self, sources: str, lake: str, *, verbose: bool) -> dict[str, Any]:
        """One collection run; the committed run's summary (its manifest, link and flags)."""

    def setup(self, sources: str, pool: str) -> tuple[str, list[str]]:
        """Create what deployments need on the server: (the API's address, one line per change)."""


def load() -> Orchestrator:
    found = sorted(entry_points(group=GROUP), key=lambda e: e.name)
    if not found:
        raise ConfigError(f"no orchestrator is installed (entry point group {GROUP}): "
                          "reinstall rasid, e.g. pip install -e .")
    made: Orchestrator = found[0].load()()
    return made
