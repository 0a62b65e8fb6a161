"""Flagged sources and watchlists, said where operators look: an artifact, one warning each,
and Prefect events that automations turn into notifications (README: "Operating it with
Prefect")."""

from __future__ import annotations

from prefect import get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.events import emit_event

from rasid.enrich.watchlists import Spike
from rasid.health import SourceFlag

EVENT = "rasid.source.flagged"
MATCHED = "rasid.watchlist.matched"
SPIKE = "rasid.watchlist.spike"


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


def publish_watchlists(matched: dict[str, int], spikes: dict[str, Spike], run_id: str,
                       lake_uri: str,
                       story_spikes: dict[str, tuple[str, Spike]] | None = None) -> None:
    """One event with the run's matches per watchlist; one per watchlist, and one per story,
    whose day spiked (the story's resource is ``rasid.story.<id>``, named by its title)."""
    if matched:
        emit_event(event=MATCHED, resource={"prefect.resource.id": f"rasid.run.{run_id}"},
                   payload={"counts": matched, "lake": lake_uri, "run": run_id})
    logger = get_run_logger()
    for watchlist, found in spikes.items():
        logger.warning("watchlist %s spiked: %d articles on %s (baseline %.2f a day)",
                       watchlist, found.count, found.day, found.baseline_mean)
        emit_event(
            event=SPIKE,
            resource={"prefect.resource.id": f"rasid.watchlist.{watchlist}",
                      "prefect.resource.name": watchlist},
            payload={"day": found.day.isoformat(), "count": found.count,
                     "baseline_mean": found.baseline_mean, "threshold": found.threshold,
                     "lake": lake_uri, "run": run_id},
        )
    for story_id, (title, found) in (story_spikes or {}).items():
        logger.warning("story %s spiked: %d articles on %s (baseline %.2f a day): %s",
                       story_id, found.count, found.day, found.baseline_mean, title)
        emit_event(
            event=SPIKE,
            resource={"prefect.resource.id": f"rasid.story.{story_id}",
                      "prefect.resource.name": title or story_id},
            payload={"day": found.day.isoformat(), "count": found.count,
                     "baseline_mean": found.baseline_mean, "threshold": found.threshold,
                     "story": story_id, "title": title, "lake": lake_uri, "run": run_id},
        )
