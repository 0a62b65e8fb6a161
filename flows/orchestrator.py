"""rasid's commands on Prefect: what ``rasid demo``, ``run`` and ``setup-prefect`` call
through the package's orchestrator seam (``rasid.orchestration``, entry point
``rasid.orchestrator``)."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from rasid import checks, startup
from rasid.config import load_settings


def _quiet_prefect(verbose: bool) -> None:
    # Prefect's per-task lines would bury the progress display; its API server's shutdown
    # chatter is not something a successful run should show.
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # The ephemeral API server's first start migrates a new SQLite database; on a busy small
    # machine that exceeds Prefect's default wait, and the run would fail before it began.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


class PrefectOrchestrator:
    def collect(self, sources: str, lake: str, *, verbose: bool) -> dict[str, Any]:
        _quiet_prefect(verbose)
        from rasid_flows.local_api import local_api
        from rasid_flows.runners import RunnerSettings

        load_settings(RunnerSettings)  # a bad RASID_TASK_RUNNER: one line, before Prefect starts

        # Prefect's API server (unless PREFECT_API_URL names one) boots while this imports.
        with startup.start_up_objects(), local_api() as api:
            from rasid_flows.collect import collect

            if not verbose:
                # A failed run's traceback would come from Prefect's run loggers; the command
                # says what failed in one line instead.
                for name in ("prefect.flow_runs", "prefect.task_runs"):
                    logging.getLogger(name).setLevel(logging.CRITICAL)
            if api:
                # The server needs a few more seconds on the other core; set the checks up on
                # this one meanwhile (a run that finds something new needs them, at once).
                threading.Thread(target=checks.warm_up, name="rasid-warm-up", daemon=True).start()
                api.wait_ready()
            startup.keep_start_up_objects()
            result: dict[str, Any] = collect(sources_file=sources, lake=lake)
        return result

    def setup(self, sources: str, pool: str) -> tuple[str, list[str]]:
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        from rasid_flows.setup_prefect import api_url, setup_prefect

        return api_url(), setup_prefect(sources, pool)
