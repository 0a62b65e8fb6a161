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

import functools
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rasid import neardup
from rasid.models import LEFT_FOR_NEXT_RUN, Candidate, Validator
from rasid.storage import Lake
from rasid.storage.checkpoint import Checkpoint, bloom_may_hold, fixed_keys, hash_key, id_key
from rasid.urls import url_id

NEAR_WINDOW = timedelta(days=float(os.environ.get("RASID_NEAR_WINDOW_DAYS", "7")))


def _numpy_form(key: bytes) -> bytes:
    """A key as numpy gives back an element of an "S16" array: without its trailing zero bytes
    (all keys are 16 bytes long, so this is still one key to one form)."""
    return key.rstrip(b"\0")


class KnownIds:
    """Article ids a committed run stored or found permanently broken: the checkpoint's keys
    plus a set of what came after it.

    With a checkpoint that has them, a lookup asks its ``recent`` keys and its Bloom filter
    first, and reads the full sorted key array only for an id that neither rules on (see
    :mod:`rasid.storage.checkpoint`): a run whose pages list only recent or new URLs never
    reads it."""

    def __init__(self, everything: np.ndarray | None = None, *,
                 recent: np.ndarray | None = None, bloom: tuple[int, np.ndarray] | None = None,
                 load: Callable[[], np.ndarray] | None = None) -> None:
        self._all = everything
        self._recent = recent if recent is not None else np.empty(0, dtype="S16")
        self._bloom = bloom
        self._load = load
        if self._all is None and (self._load is None or self._bloom is None):
            self._all = self._load() if self._load else np.empty(0, dtype="S16")
        self._added: set[bytes] = set()

    @property
    def loaded(self) -> bool:
        """Whether the checkpoint's full key array has been read."""
        return self._all is not None

    def _everything(self) -> np.ndarray:
        if self._all is None:
            assert self._load is not None
            self._all = self._load()
        return self._all

    def __contains__(self, article_id: object) -> bool:
        if not isinstance(article_id, str):
            return False
        key = id_key(article_id)
        if key in self._added:
            return True
        if self._all is None and self._bloom is not None:
            if _holds(self._recent, key):
                return True
            if not bloom_may_hold(self._bloom, np.array([key], dtype="S16"))[0]:
                return False
        return _holds(self._everything(), key)

    def add(self, article_id: str) -> None:
        self._added.add(id_key(article_id))

    def __len__(self) -> int:
        return len(self._everything()) + len(self._added)


def _holds(keys: np.ndarray, key: bytes) -> bool:
    return _position(keys, key) is not None


def _position(keys: np.ndarray, key: bytes) -> int | None:
    """Where ``key`` is in the sorted 16-byte ``keys``, or None."""
    at = int(np.searchsorted(keys, key))
    return at if at < len(keys) and keys[at] == _numpy_form(key) else None


class BodyOwners:
    """body_hash -> the earliest stored article with that body: sorted arrays of the
    checkpoint's table, plus a dict for what came after it.

    The checkpoint's table (48 bytes an article) is read on the first lookup, not when the
    state is loaded: a run that stores nothing new never needs it."""

    def __init__(self, load: Callable[[], dict[str, np.ndarray]] | None = None) -> None:
        self._load = load
        self._hashes = np.empty(0, dtype="S16")
        self._owners = np.empty(0, dtype="S32")
        self._added: dict[bytes, str] = {}

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._load is not None:
            bodies = self._load()
            self._hashes, self._owners = bodies["hash"], bodies["owner"]
            self._load = None
        return self._hashes, self._owners

    def get(self, body_hash: str | None) -> str | None:
        if not body_hash:
            return None
        key = hash_key(body_hash)
        hashes, owners = self._arrays()
        at = _position(hashes, key)
        return str(owners[at].decode("utf-8")) if at is not None else self._added.get(key)

    def add(self, body_hash: str, article_id: str) -> None:
        """A body a committed run stored, unless an earlier copy owns it (the checkpoint's
        copies are earlier than any added after it: that needs no lookup now)."""
        self._added.setdefault(hash_key(body_hash), article_id)

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
    # Builds the index of the window's signatures and says where the window starts (POSIX
    # time: older articles are not indexed); None: an empty index over all time.
    near_source: Callable[[list[float | None]], tuple[neardup.Index, float]] | None = None
    _near: neardup.Index | None = field(default=None, repr=False)
    _near_since: float | None = field(default=None, repr=False)
    # Stored articles remembered before the index was built: (id, signature, cluster, time).
    _near_added: list[tuple[str, np.ndarray, str, float | None]] = field(
        default_factory=list, repr=False)
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
            self.body_owner.add(body_hash, record["article_id"])
        signature = neardup.decode(record.get("minhash"))
        if record.get("kind") == "article" and signature is not None:
            cluster = record.get("near_duplicate_cluster") or record["article_id"]
            added = (record["article_id"], signature, cluster,
                     _timestamp(record.get("published_at")))
            if self._near is None:
                self._near_added.append(added)
            else:
                self._index(*added)

    @property
    def near(self) -> neardup.Index:
        """The near-duplicate index, built when a run first compares a text: a run that stores
        nothing new never reads the window's signatures."""
        if self._near is None:
            if self.near_source is None:
                self._near = neardup.Index()
            else:
                self._near, self._near_since = self.near_source(
                    [moment for *_, moment in self._near_added])
            for added in self._near_added:
                self._index(*added)
            self._near_added = []
        return self._near

    def _index(self, article_id: str, signature: np.ndarray, cluster: str,
               published: float | None) -> None:
        since = self._near_since
        if since is None or (published is not None and published >= since):
            self.near.add(article_id, signature, cluster, published)

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
    snapshot = lake.snapshot(("validators", "left"))
    found, read = snapshot.checkpoint, lake.log.checkpoint_table

    def near_source(later: list[float | None]) -> tuple[neardup.Index, float]:
        """The window's index from the checkpoint; ``later``: the publication times of the
        articles stored after it, which also move the lake's present."""
        near = read(found, "near")
        since = _latest_published(near, later) - near_window.total_seconds()
        index = neardup.Index()
        _index_window(index, near, read(found, "clusters"), since)
        return index, since

    state = LakeState(
        _known_ids(lake, found),
        BodyOwners(functools.partial(lake.log.checkpoint_arrays, found, "bodies")),
        near_source=near_source,
    )
    state.learn_validators({row.pop("url"): row
                            for row in snapshot.tables["validators"].to_pylist()})
    for row in snapshot.tables["left"].to_pylist():
        state.failed(json.loads(row["failure"]))
    for manifest in snapshot.manifests:
        for record in manifest.records:
            state.remember(record.model_dump())
        for failure in manifest.failures:
            state.failed(failure.model_dump())
        state.learn_validators({url: v.model_dump() for url, v in manifest.validators.items()})
    return state


def _known_ids(lake: Lake, found: Checkpoint | None) -> KnownIds:
    def everything() -> np.ndarray:
        return lake.log.checkpoint_arrays(found, "known")["id"]

    if found is None or not {"recent", "bloom"} <= set(found.tables):
        return KnownIds(everything())  # a checkpoint from before recent keys and the filter
    recent = lake.log.checkpoint_table(found, "recent").column("id").combine_chunks()
    bloom = lake.log.checkpoint_table(found, "bloom")
    bits = np.frombuffer(bloom.column("bits")[0].as_py(), dtype=np.uint8)
    return KnownIds(recent=fixed_keys(recent), bloom=(bloom.column("probes")[0].as_py(), bits),
                    load=everything)


def _latest_published(near: pa.Table, later: list[float | None]) -> float:
    """The lake's present: the latest publication time of a stored article with a signature
    (infinite for a lake without one: nothing is old)."""
    column = near.column("published_at")
    times = [pc.max(column).as_py() if len(column) else None, *later]
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
