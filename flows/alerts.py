"""Flagged sources, said where operators look: an artifact, one warning each, and a Prefect
event that an automation turns into a notification (README: "Operating it with Prefect")."""

from __future__ import annotations

from prefect import get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.events import emit_event

from rasid.health import SourceFlag

EVENT = "rasid.source.flagged"


def publish_flags(flags: list[SourceFlag], key: str, description: str, lake_uri: str) -> None:
    rows = [f.as_dict() for f in flags] or [{"source": "-", "code": "-", "detail": "no source flagged"}]
    create_table_artifact(rows, key=key, description=description)
    logger = get_run_logger()
    for flag in flags:
        logger.warning("source %s flagged %s: %s", flag.source, flag.code, flag.detail)
        emit_event(
            event=EVENT,
            resource={"prefect.resource.id": f"rasid.source.{flag.source}",
                      "prefect.resource.name": flag.source},
            payload={"code": flag.code, "detail": flag.detail, "lake": lake_uri,
                     "context": description},
        )
