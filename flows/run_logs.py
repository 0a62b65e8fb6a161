"""rasid's own log lines in the flow run's logs (the UI and the API), at the chosen level.

Prefect sends its own loggers' lines to its API; rasid's (fetch failures, extraction warnings,
the progress lines) are plain ``logging`` loggers under ``rasid``. Every flow opens
``rasid_logs_to_run()``: for the length of the run, a Prefect API log handler on the
``rasid`` logger, at ``RASID_LOG_LEVEL`` (default INFO). The handler names the flow run on
each line itself, because the fetch threads and the extraction pool carry no Prefect run
context.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from prefect.context import FlowRunContext
from prefect.logging.handlers import APILogHandler

from rasid.config import load_settings

LOGGER = "rasid"


class _RunLogHandler(APILogHandler):
    def __init__(self, flow_run_id: UUID) -> None:
        super().__init__()
        self.flow_run_id = flow_run_id

    def emit(self, record: logging.LogRecord) -> None:
        if not getattr(record, "flow_run_id", None):
            record = logging.makeLogRecord({**record.__dict__, "flow_run_id": self.flow_run_id})
        super().emit(record)


@contextmanager
def rasid_logs_to_run() -> Iterator[None]:
    """Within a flow run: rasid's loggers also write to that run's logs."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        yield
        return
    level = load_settings().log_level
    handler = _RunLogHandler(context.flow_run.id)
    handler.setLevel(level)
    logger = logging.getLogger(LOGGER)
    before = logger.level
    if before == logging.NOTSET or before > handler.level:
        logger.setLevel(handler.level)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)
