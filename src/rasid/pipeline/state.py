"""What committed runs already hold: the basis of incremental runs and duplicate checks.

State comes only from committed runs, so a run that died before its commit leaves no trace a
later run would trust: the latest checkpoint (see :mod:`rasid.storage.checkpoint`) plus the
manifests committed after it.

Memory stays flat as the lake grows: the ids and body hashes of all history are sorted arrays
of 16-byte keys (32 bytes per article, not a Python set's hundreds), and near-duplicate
signatures are kept only for articles published within ``NEAR_WINDOW`` before the latest stored
one (the lake's present: now, for a lake that collects; the past, for a demo). Seven days:
syndicated copies and rewrites of a story appear within hours to a few days of the first, and
a week keeps the LSH index at about 35,000 signatures (9 MB) at 5,000 articles a day, where
all history would grow by 1.2 MB a day. An article re-published after that is not clustered
with its first copy (the exact-copy check by body hash still covers all history).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rasid import neardup
from rasid.models import LEFT_FOR_NEXT_RUN, Candidate, Validator
from rasid.storage import Lake
from rasid.storage.checkpoint import hash_key, id_key
from rasid.storage.commit import Snapshot
from rasid.urls import url_id

NEAR_WINDOW = timedelta(days=float(os.environ.get("RASID_NEAR_WINDOW_DAYS", "7")))


def _sorted_keys(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A binary(16) Arrow column as a numpy array of 16-byte strings, without a Python object
    per key."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) == 0:
        return np.empty(0, dtype="S16")
    data = np.frombuffer(array.buffers()[1], dtype="S16", count=len(array) + array.offset)
    return data[array.offset:]


def _numpy_form(key: bytes) -> bytes:
    """A key as numpy gives back an element of an "S16" array: without its trailing zero bytes
    (all keys are 16 bytes long, so this is still one key to one form)."""
    return key.rstrip(b"\0")


def _owner_ids(column: pa.ChunkedArray) -> np.ndarray:
    """Article ids as a numpy array of 32-byte strings: straight from Arrow's buffer when every
    id is a url_id (32 characters), else through Python."""
    array = column.combine_chunks()
    if len(array) == 0:
        return np.empty(0, dtype="S32")
    lengths = pc.binary_length(array)
    if array.null_count == 0 and pc.min(lengths).as_py() == pc.max(lengths).as_py() == 32:
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset:]
        return np.frombuffer(array.buffers()[2], dtype="S32", count=len(array),
                             offset=int(offsets[0]))
    return np.array(array.to_pylist(), dtype="S32")


@dataclass
class KnownIds:
    """Article ids a committed run stored or found permanently broken: a sorted array of the
    checkpoint's keys plus a set of what came after it."""

    _sorted: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="S16"))
    _added: set[bytes] = field(default_factory=set)

    def __contains__(self, article_id: object) -> bool:
        if not isinstance(article_id, str):
            return False
        key = id_key(article_id)
        if key in self._added:
            return True
        at = int(np.searchsorted(self._sorted, key))
        return at < len(self._sorted) and self._sorted[at] == _numpy_form(key)

    def add(self, article_id: str) -> None:
        self._added.add(id_key(article_id))

    def __len__(self) -> int:
        return len(self._sorted) + len(self._added)


@dataclass
class BodyOwners:
    """body_hash -> the earliest stored article with that body (sorted arrays, plus a dict for
    what came after the checkpoint)."""

    _hashes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="S16"))
    _owners: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="S32"))
    _added: dict[bytes, str] = field(default_factory=dict)

    def get(self, body_hash: str | None) -> str | None:
        if not body_hash:
            return None
        key = hash_key(body_hash)
        if key in self._added:
            return self._added[key]
        at = int(np.searchsorted(self._hashes, key))
        if at < len(self._hashes) and self._hashes[at] == _numpy_form(key):
            return str(self._owners[at].decode("utf-8"))
        return None

    def setdefault(self, body_hash: str, article_id: str) -> str:
        known = self.get(body_hash)
        if known is None:
            self._added[hash_key(body_hash)] = article_id
            return article_id
        return known

    def __contains__(self, body_hash: object) -> bool:
        return isinstance(body_hash, str) and self.get(body_hash) is not None


# A page that failed transiently in this many runs in a row is no longer asked for unless a
# feed or sitemap lists it again: one that never answers must not cost a request every run.
MAX_RETRY_RUNS = 5


@dataclass
class LakeState:
    """What committed runs already hold: the basis of incremental runs and duplicate checks."""

    known_ids: KnownIds = field(default_factory=KnownIds)
    body_owner: BodyOwners = field(default_factory=BodyOwners)
    near: neardup.Index = field(default_factory=neardup.Index)  # the window's signatures
    near_since: float | None = None  # POSIX time: older articles are not indexed
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
            published = _timestamp(record.get("published_at"))
            if self.near_since is None or (published is not None and published >= self.near_since):
                self.near.add(record["article_id"], signature, cluster, published)

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


def load_state(lake: Lake, near_window: timedelta | None = None) -> LakeState:
    """The state of ``lake`` for a run: near-duplicates indexed over ``near_window`` (default
    ``NEAR_WINDOW``)."""
    near_window = near_window or NEAR_WINDOW
    # A run killed between its commit and the end of its publish is finished first, so what
    # the state says is stored is also what readers see.
    lake.log.near_window = near_window
    lake.publish_pending()
    snapshot = lake.snapshot()
    since = _latest_published(snapshot) - near_window.total_seconds()
    bodies = snapshot.tables["bodies"]
    state = LakeState(
        KnownIds(_sorted_keys(snapshot.tables["known"].column("id"))),
        BodyOwners(_sorted_keys(bodies.column("hash")), _owner_ids(bodies.column("owner"))),
        near_since=since,
    )
    state.learn_validators({row.pop("url"): row
                            for row in snapshot.tables["validators"].to_pylist()})
    for row in snapshot.tables["left"].to_pylist():
        state.failed(json.loads(row["failure"]))
    _index_window(state.near, snapshot.tables["near"], snapshot.tables["clusters"], since)
    for manifest in snapshot.manifests:
        for record in manifest.records:
            state.remember(record.model_dump())
        for failure in manifest.failures:
            state.failed(failure.model_dump())
        state.learn_validators({url: v.model_dump() for url, v in manifest.validators.items()})
    return state


def _latest_published(snapshot: Snapshot) -> float:
    near = snapshot.tables["near"].column("published_at")
    times = [pc.max(near).as_py() if len(near) else None]
    times += [_timestamp(r.published_at) for m in snapshot.manifests for r in m.records
              if r.kind == "article" and r.minhash]
    return max((t for t in times if t is not None), default=float("inf"))


def _index_window(index: neardup.Index, near: pa.Table, clusters: pa.Table, since: float) -> None:
    near = near.filter(pc.greater_equal(near.column("published_at"), since))
    kept, signatures = neardup.decode_many(near.column("minhash").to_pylist())
    ids, members = near.column("article_id").to_pylist(), near.column("cluster").to_pylist()
    times = near.column("published_at").to_pylist()
    index.add_many([ids[i] for i in kept], signatures, [members[i] for i in kept],
                   [times[i] for i in kept])
    # A cluster's first copy may be older than the window: the checkpoint remembers it.
    wanted = set(index.by_cluster)
    for cluster, earliest, at in zip(*(clusters.column(c).to_pylist() for c in clusters.column_names),
                                     strict=True):
        if cluster in wanted:
            index.by_cluster[cluster] = neardup.Cluster(earliest, at)


def select_new(candidates: Iterable[Candidate], state: LakeState) -> list[Candidate]:
    """Drop URLs a committed run already stored or found permanently broken."""
    return [c for c in candidates if url_id(c.url) not in state.known_ids]
