"""What committed runs already hold: the basis of incremental runs and duplicate checks.

State comes only from committed manifests, so a run that died before its commit leaves no trace
a later run would trust.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rasid import neardup
from rasid.models import LEFT_FOR_NEXT_RUN, Candidate, Validator
from rasid.storage import Lake
from rasid.urls import url_id


# A page that failed transiently in this many runs in a row is no longer asked for unless a
# feed or sitemap lists it again: one that never answers must not cost a request every run.
MAX_RETRY_RUNS = 5


@dataclass
class LakeState:
    """What committed runs already hold: the basis of incremental runs and duplicate checks."""

    known_ids: set[str] = field(default_factory=set)
    body_owner: dict[str, str] = field(default_factory=dict)  # body_hash -> earliest article_id
    near: neardup.Index = field(default_factory=neardup.Index)  # stored articles' signatures
    # Feed and sitemap URL -> the validators its last answer carried (the latest run wins).
    validators: dict[str, Validator] = field(default_factory=dict)
    # URLs the latest run that saw them left for the next one (set aside, out of time, or
    # failed transiently), by id.
    left: dict[str, Candidate] = field(default_factory=dict)
    # Runs in a row in which a URL was tried and failed transiently, by id.
    tries: dict[str, int] = field(default_factory=dict)

    def remember(self, record: dict[str, Any]) -> None:
        self.known_ids.add(record["article_id"])
        self.left.pop(record["article_id"], None)
        self.tries.pop(record["article_id"], None)
        body_hash = record.get("body_hash")
        if record.get("kind") == "article" and body_hash:
            self.body_owner.setdefault(body_hash, record["article_id"])
        signature = neardup.decode(record.get("minhash"))
        if record.get("kind") == "article" and signature is not None:
            cluster = record.get("near_duplicate_cluster") or record["article_id"]
            self.near.add(record["article_id"], signature, cluster,
                          _timestamp(record.get("published_at")))

    def learn_validators(self, validators: dict[str, dict[str, str | None]]) -> None:
        """A later manifest's validators over earlier ones; an empty one forgets the URL's."""
        for url, record in validators.items():
            validator = Validator.of(record)
            if validator:
                self.validators[url] = validator
            else:
                self.validators.pop(url, None)

    def failed(self, failure: dict[str, Any]) -> None:
        """A committed run's failure record: a permanent failure is never asked for again; a
        page left for the next run, or that failed transiently, is, first (one that failed in
        MAX_RETRY_RUNS runs in a row waits to be found again); a feed or sitemap that failed
        (it has no candidate) is read again anyway."""
        article_id = url_id(failure["url"])
        if not failure.get("transient", True):
            self.known_ids.add(article_id)
        if failure.get("transient", True) and failure.get("candidate"):
            tried = failure.get("reason") not in LEFT_FOR_NEXT_RUN
            self.tries[article_id] = self.tries.get(article_id, 0) + tried
            if self.tries[article_id] <= MAX_RETRY_RUNS:
                self.left[article_id] = _candidate(failure["candidate"])
                return
        self.left.pop(article_id, None)

    def left_over(self, source_id: str) -> list[Candidate]:
        """The URLs of a source the last run left for this one, in the order it found them."""
        return [c for c in self.left.values() if c.source_id == source_id]


def _candidate(record: dict[str, Any]) -> Candidate:
    hint = record.get("published_hint")
    return Candidate(**{**record, "published_hint": datetime.fromisoformat(hint) if hint else None})


def _timestamp(moment: datetime | str | None) -> float | None:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.timestamp() if moment else None


def load_state(lake: Lake) -> LakeState:
    # A run killed between its commit and the end of its publish is finished first, so what
    # the state says is stored is also what readers see.
    lake.publish_pending()
    state = LakeState()
    for manifest in lake.manifests():
        for record in manifest.get("records", []):
            state.remember(record)
        for failure in manifest.get("failures", []):
            state.failed(failure)
        state.learn_validators(manifest.get("validators", {}))
    return state


def select_new(candidates: Iterable[Candidate], state: LakeState) -> list[Candidate]:
    """Drop URLs a committed run already stored or found permanently broken."""
    return [c for c in candidates if url_id(c.url) not in state.known_ids]
