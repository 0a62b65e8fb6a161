"""The commit record of a run, as a typed model validated whenever one is read.

A manifest says which files a run adds (``files``) and supersedes (``removes``), what it stored
(``records``: one per article or quarantined row, the state later runs need) and what it
could not fetch (``failures``); the rest is the run's summary (counts per source, checks,
timings), which the report and the health flags read. Fields this version does not know are
kept as they are, so a manifest written by a newer writer still reads.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class StoredRecord(BaseModel):
    """One row a run stored (an article or a quarantined row)."""

    model_config = ConfigDict(extra="allow")

    article_id: str
    url: str
    source: str | None = None
    kind: str = "article"  # "article" | "quarantine"
    body_hash: str | None = None
    minhash: str | None = None  # an article's MinHash signature (see rasid.neardup.encode)
    near_duplicate_cluster: str | None = None
    published_at: str | None = None  # ISO 8601


class FailureRecord(BaseModel):
    """A URL a run could not fetch; a permanent failure is not fetched again."""

    model_config = ConfigDict(extra="allow")

    url: str
    source_id: str | None = None
    reason: str = ""
    transient: bool = True


class Validator(BaseModel):
    """What a server said about a URL, for a conditional request next time."""

    etag: str | None = None
    last_modified: str | None = None


class Manifest(BaseModel):
    """The commit record of one run (collection, reprocessing or compaction)."""

    model_config = ConfigDict(extra="allow")

    run_id: str
    committed_at: str
    operation: str = "collect"  # "collect" | "reprocess" | "compact" | ...
    seq: int | None = None  # commit order; None for manifests written before it existed
    started_at: str | None = None
    finished_at: str | None = None
    files: dict[str, list[str]] = Field(default_factory=dict)
    removes: dict[str, list[str]] = Field(default_factory=dict)
    records: list[StoredRecord] = Field(default_factory=list)
    failures: list[FailureRecord] = Field(default_factory=list)
    # Per URL, the latest conditional-request validators (etag, Last-Modified) of the run.
    validators: dict[str, Validator] = Field(default_factory=dict)
    # Article ids this run had staged but another run committed first (not stored twice).
    duplicates_dropped: list[str] = Field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The run as the report and the health flags read it: everything but the state
        records, which only the checkpoint keeps; of those, the URLs stored (``urls``: the
        report tells a failure later fixed by them). Two weeks of runs are read for each
        report, so a record here costs a reader thousands of times over."""
        data = self.model_dump(mode="json", exclude={"validators", "records"})
        data["urls"] = [record.url for record in self.records]
        return data


def parse_manifest(data: bytes, where: str) -> Manifest:
    """A manifest read from the lake; ValueError (naming ``where``) if it is not one."""
    try:
        return Manifest.model_validate(json.loads(data))
    except (ValueError, ValidationError) as exc:
        raise ValueError(f"manifest {where} is not a valid manifest: {exc}") from None


def encode_manifest(manifest: Manifest) -> bytes:
    return json.dumps(
        manifest.model_dump(mode="json"), ensure_ascii=False, indent=2, default=_json_default
    ).encode("utf-8")


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a manifest")
