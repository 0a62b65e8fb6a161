"""Checkpoints: the state a run needs, folded from every committed manifest into Parquet.

A checkpoint at commit ``seq`` holds what the manifests up to ``seq`` say, as tables:

- ``known``: the 16-byte key of every stored article id and permanently failed URL, sorted;
- ``recent``: the keys of ``known`` committed within ``RECENT_WINDOW`` of the latest commit,
  sorted, and ``bloom``: a Bloom filter of all of ``known``. A run asks about the URLs its
  feeds and pages list: almost all are either recent or never seen, and those two answer
  without reading ``known`` (28 MB at 1.75 million articles); only a URL the filter cannot
  rule out and that is not recent (an old link, or one false positive in a hundred) makes the
  run read ``known`` itself;
- ``bodies``: each body hash's key and the article that owns it (the earliest stored copy);
- ``near``: MinHash signatures, cluster and publication time of the articles published within
  the near-duplicate window before the latest stored one (older ones are dropped: copies
  appear within days);
- ``clusters``: each cluster the window's articles belong to, with its earliest copy;
- ``files``: the live files of each table (every table in ``data_contracts/``, plus raw and
  validations), in commit order;
- ``validators``: the latest conditional-request validators per URL;
- ``left``: the latest failure of each URL a run left for the next one (it carries the
  candidate), until a later run stores the URL or fails it otherwise;
- ``runs``: one row per run (id, seq, operation, start, its summary as JSON), in segments of
  at most ``RUN_SEGMENT`` runs, so the report's two weeks read one or two segments.

The descriptor (:class:`Checkpoint`) names the files. It is written like a run's commit:
the tables first under a name unique to the writer, then the descriptor with a conditional put
(``_checkpoints/<seq>.json``: of two writers folding the same commits one wins), then a copy
of it at ``_last_checkpoint``, the pointer readers start from. A kill before the descriptor
leaves files no one reads (swept later); a kill before the pointer leaves an older checkpoint
in force, and readers fold a few more manifests.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from rasid.storage.manifest import Manifest
from rasid.urls import url_id

# Runs per segment of the runs table: two weeks at one run every 15 minutes.
RUN_SEGMENT = 1344
FORMAT = 1

# Keys committed this long before the latest commit are in ``recent``: URLs that feeds,
# sitemaps and section pages list again are, nearly all, ones found within the last weeks.
RECENT_WINDOW = 30 * 86400.0
# Bloom filter of all known keys: bits per key and probes; 10 and 7 give 0.8 % false positives.
BLOOM_BITS_PER_KEY = 10
BLOOM_PROBES = 7

KEY = pa.binary(16)
SCHEMAS = {
    "known": pa.schema([("id", KEY)]),
    "recent": pa.schema([("id", KEY), ("committed_at", pa.float64())]),
    "bloom": pa.schema([("probes", pa.int32()), ("bits", pa.large_binary())]),
    "bodies": pa.schema([("hash", KEY), ("owner", pa.string())]),
    "near": pa.schema([("article_id", pa.string()), ("minhash", pa.string()),
                       ("cluster", pa.string()), ("published_at", pa.float64())]),
    "clusters": pa.schema([("cluster", pa.string()), ("earliest_id", pa.string()),
                           ("earliest_at", pa.float64())]),
    "files": pa.schema([("kind", pa.string()), ("key", pa.string())]),
    "validators": pa.schema([("url", pa.string()), ("etag", pa.string()),
                             ("last_modified", pa.string())]),
    "left": pa.schema([("id", pa.string()), ("failure", pa.string())]),
    "runs": pa.schema([("run_id", pa.string()), ("seq", pa.int64()),
                       ("operation", pa.string()), ("started_at", pa.float64()),
                       ("summary", pa.string())]),
}


class RunSegment(BaseModel):
    key: str
    first_seq: int
    last_seq: int
    last_started: float  # POSIX time of the latest run's start in the segment
    runs: int


class Checkpoint(BaseModel):
    """The descriptor of one checkpoint: which commits it folds and where its tables are."""

    format: int = FORMAT
    seq: int  # the last commit folded in (0: only manifests older than commit numbers)
    written_at: str
    near_window_days: float
    tables: dict[str, str]  # table name -> key of its Parquet file
    runs: list[RunSegment] = Field(default_factory=list)


def id_key(article_id: str) -> bytes:
    """A fixed 16-byte key of an article id (a url_id's own bytes when it is one)."""
    return _key(article_id, 32)


def hash_key(body_hash: str) -> bytes:
    """A fixed 16-byte key of a body hash (its first 16 bytes when it is hex sha256)."""
    return _key(body_hash, 64)


def _key(text: str, hex_length: int) -> bytes:
    if len(text) == hex_length:
        try:
            return bytes.fromhex(text)[:16]
        except ValueError:
            pass
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def timestamp(moment: str | None) -> float | None:
    return datetime.fromisoformat(moment).timestamp() if moment else None


def encode_table(table: pa.Table) -> bytes:
    """A checkpoint table as Parquet. Without dictionary encoding: the values are unique (ids,
    keys, signatures), so a dictionary saves nothing on disk and costs a reader twice the
    table's size in decoding buffers."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", row_group_size=128 * 1024,
                   use_dictionary=False)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def decode_table(name: str, data: bytes) -> pa.Table:
    table = pq.read_table(io.BytesIO(data))
    if not table.schema.equals(SCHEMAS[name]):
        raise ValueError(f"checkpoint table {name} has schema {table.schema}, not {SCHEMAS[name]}")
    return table


def decode_arrays(name: str, data: bytes) -> dict[str, np.ndarray]:
    """The fixed-width columns of a key table (``known``, ``bodies``) as numpy arrays: keys as
    16-byte strings, owners as article ids. Read one row group at a time into arrays of the
    final size, so no Arrow copy of the whole table is held beside them (on a lake of millions
    of articles that copy is the largest thing a run would hold)."""
    file = pq.ParquetFile(pa.BufferReader(data))
    if not file.schema_arrow.equals(SCHEMAS[name]):
        raise ValueError(f"checkpoint table {name} has schema {file.schema_arrow}, "
                         f"not {SCHEMAS[name]}")
    out = key_arrays(name, file.metadata.num_rows)
    at = 0
    for group in range(file.num_row_groups):
        table = file.read_row_group(group)
        count = table.num_rows
        for column, target in out.items():
            values = table.column(column).combine_chunks()
            chunk = fixed_keys(values) if column != "owner" else article_ids(values)
            if chunk.dtype.itemsize > target.dtype.itemsize:  # ids longer than url ids
                target = out[column] = target.astype(chunk.dtype)
            target[at:at + count] = chunk
        at += count
    return out


def key_arrays(name: str, rows: int = 0) -> dict[str, np.ndarray]:
    """Arrays of ``rows`` entries for a key table's columns (keys; owners as url ids)."""
    if name == "known":
        return {"id": np.empty(rows, "S16")}
    return {"hash": np.empty(rows, "S16"), "owner": np.empty(rows, "S32")}


def key_table(name: str, arrays: dict[str, np.ndarray]) -> pa.Table:
    """A key table (``known``, ``bodies``) from the numpy arrays :func:`decode_arrays` gives,
    sharing their memory where the values are all of one width."""
    columns = {}
    for column, values in arrays.items():
        if column != "owner":
            data = pa.py_buffer(np.ascontiguousarray(values, dtype="S16"))
            columns[column] = pa.Array.from_buffers(KEY, len(values), [None, data])
            continue
        lengths = np.char.str_len(values) if len(values) else np.zeros(0, dtype=np.int64)
        if len(values) and (lengths == values.dtype.itemsize).all():
            offsets = np.arange(0, values.dtype.itemsize * (len(values) + 1),
                                values.dtype.itemsize, dtype=np.int32)
            columns[column] = pa.Array.from_buffers(
                pa.string(), len(values),
                [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(values))])
        else:  # ids of other lengths: numpy pads them with zero bytes
            columns[column] = pa.array([v.decode("utf-8") for v in values.tolist()], pa.string())
    return pa.table(columns, schema=SCHEMAS[name])


def _positions(old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of the sorted keys ``new`` goes in the sorted keys ``old``, and whether it
    is there already."""
    at = np.searchsorted(old, new)
    present = np.zeros(len(new), dtype=bool)
    inside = at < len(old)
    present[inside] = old[at[inside]] == new[inside]
    return at, present


def fixed_keys(array: pa.Array) -> np.ndarray:
    """A binary(16) Arrow array as numpy 16-byte strings, without a Python object per key."""
    if len(array) == 0:
        return np.empty(0, dtype="S16")
    data = np.frombuffer(array.buffers()[1], dtype="S16", count=len(array) + array.offset)
    return data[array.offset:]


def article_ids(array: pa.Array) -> np.ndarray:
    """Article ids as numpy byte strings: straight from Arrow's buffer when every id is a
    url_id (32 characters), else through Python."""
    if len(array) == 0:
        return np.empty(0, dtype="S32")
    lengths = pc.binary_length(array)
    if array.null_count == 0 and pc.min(lengths).as_py() == pc.max(lengths).as_py() == 32:
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset:]
        return np.frombuffer(array.buffers()[2], dtype="S32", count=len(array),
                             offset=int(offsets[0]))
    return np.array([value.encode("utf-8") for value in array.to_pylist()])


def bloom_of(keys: np.ndarray) -> pa.Table:
    """The Bloom filter of ``keys`` (16-byte strings), as the one-row ``bloom`` table."""
    size = max(64, BLOOM_BITS_PER_KEY * len(keys))
    bits = np.zeros((size + 7) // 8, dtype=np.uint8)
    for start in range(0, len(keys), 1 << 18):  # in slices: the positions are 8 bytes a probe
        positions = _probes(keys[start:start + (1 << 18)], BLOOM_PROBES, len(bits) * 8)
        np.bitwise_or.at(bits, positions >> 3, (1 << (positions & 7)).astype(np.uint8))
    return pa.table({"probes": [BLOOM_PROBES], "bits": [bits.tobytes()]}, schema=SCHEMAS["bloom"])


def bloom_may_hold(bloom: tuple[int, np.ndarray], keys: np.ndarray) -> np.ndarray:
    """For each key, False when it is certainly not in the filter's set."""
    probes, bits = bloom
    if not len(keys):
        return np.zeros(0, dtype=bool)
    positions = _probes(keys, probes, len(bits) * 8)
    hit = (bits[positions >> 3] >> (positions & 7).astype(np.uint8)) & 1
    return np.asarray(hit.reshape(len(keys), probes).all(axis=1))


def _probes(keys: np.ndarray, probes: int, size: int) -> np.ndarray:
    """(len(keys) * probes) bit positions, by double hashing on the keys' own two halves
    (keys are hash digests: uniform already)."""
    halves = np.frombuffer(np.ascontiguousarray(keys, dtype="S16").tobytes(), dtype="<u8")
    first, second = halves[0::2], halves[1::2] | np.uint64(1)
    steps = np.arange(probes, dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = first[:, None] + steps[None, :] * second[:, None]
    return np.asarray((mixed % np.uint64(size)).ravel().astype(np.int64))


def empty(name: str) -> pa.Table:
    return SCHEMAS[name].empty_table()


@dataclass
class Fold:
    """A checkpoint's tables plus manifests folded on top, as the next checkpoint's tables."""

    tables: dict[str, pa.Table]
    window: float  # seconds: near rows published this long before the latest are dropped
    runs: list[Manifest] = field(default_factory=list)

    def fold(self, manifests: Iterable[Manifest]) -> None:
        manifests = list(manifests)
        self.runs += manifests
        self._known(manifests)
        self._bodies(manifests)
        self._near(manifests)
        self._files(manifests)
        self._validators(manifests)
        self._left(manifests)

    def _left(self, manifests: list[Manifest]) -> None:
        left = dict(zip(self.tables["left"].column("id").to_pylist(),
                        self.tables["left"].column("failure").to_pylist(), strict=True))
        for manifest in manifests:
            for record in manifest.records:
                left.pop(record.article_id, None)
            for failure in manifest.failures:
                key = url_id(failure.url)
                if failure.model_extra and failure.model_extra.get("candidate"):
                    left[key] = json.dumps(failure.model_dump(), ensure_ascii=False)
                else:
                    left.pop(key, None)
        self.tables["left"] = pa.table({"id": list(left), "failure": list(left.values())},
                                       schema=SCHEMAS["left"])

    def _known(self, manifests: list[Manifest]) -> None:
        keys: list[bytes] = []
        times: list[float] = []
        for manifest in manifests:
            found = [id_key(r.article_id) for r in manifest.records]
            found += [id_key(url_id(f.url)) for f in manifest.failures if not f.transient]
            keys += found
            times += [timestamp(manifest.committed_at) or 0.0] * len(found)
        old = fixed_keys(self.tables["known"].column("id").combine_chunks())
        new = np.unique(np.array(keys, dtype="S16"))
        at, present = _positions(old, new)
        self.tables["known"] = key_table("known", {"id": np.insert(old, at[~present],
                                                                    new[~present])})
        self._recent(keys, times)
        self.tables["bloom"] = bloom_of(fixed_keys(self.tables["known"].column("id")
                                                   .combine_chunks()))

    def _recent(self, keys: list[bytes], times: list[float]) -> None:
        fresh = pa.table({"id": pa.array(keys, KEY), "committed_at": times},
                         schema=SCHEMAS["recent"])
        recent = pa.concat_tables([self.tables.get("recent", empty("recent")), fresh])
        latest = pc.max(recent.column("committed_at")).as_py()
        if latest is not None:
            recent = recent.filter(
                pc.greater_equal(recent.column("committed_at"), latest - RECENT_WINDOW))
        # One row per key: its latest commit (a key is re-added when a failure is retried).
        recent = recent.sort_by([("id", "ascending"), ("committed_at", "descending")])
        ids = fixed_keys(recent.column("id").combine_chunks())
        first = np.ones(len(ids), dtype=bool)
        first[1:] = ids[1:] != ids[:-1]
        self.tables["recent"] = recent.filter(pa.array(first))

    def _bodies(self, manifests: list[Manifest]) -> None:
        new: dict[bytes, str] = {}
        for manifest in manifests:
            for record in manifest.records:
                if record.kind == "article" and record.body_hash:
                    new.setdefault(hash_key(record.body_hash), record.article_id)
        bodies = self.tables["bodies"]
        hashes = fixed_keys(bodies.column("hash").combine_chunks())
        owners = article_ids(bodies.column("owner").combine_chunks())
        keys = np.array(list(new), dtype="S16")
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        fresh = np.array([value.encode("utf-8") for value in new.values()])[order] if new else \
            np.empty(0, dtype="S32")
        at, present = _positions(hashes, keys)  # the earliest copy keeps its body
        if fresh.dtype.itemsize > owners.dtype.itemsize:
            owners = owners.astype(fresh.dtype)
        self.tables["bodies"] = key_table("bodies", {
            "hash": np.insert(hashes, at[~present], keys[~present]),
            "owner": np.insert(owners, at[~present], fresh[~present].astype(owners.dtype))})

    def _near(self, manifests: list[Manifest]) -> None:
        rows = [(r.article_id, r.minhash, r.near_duplicate_cluster or r.article_id,
                 timestamp(r.published_at))
                for m in manifests for r in m.records if r.kind == "article" and r.minhash]
        clusters = {row["cluster"]: (row["earliest_id"], row["earliest_at"])
                    for row in self.tables["clusters"].to_pylist()}
        for article_id, _, cluster, published in rows:
            known = clusters.get(cluster)
            if known is None or earlier(published, known[1]):
                clusters[cluster] = (article_id, published)
        fresh = pa.table(dict(zip(SCHEMAS["near"].names, zip(*rows, strict=True), strict=True))
                         if rows else empty("near").to_pydict(), schema=SCHEMAS["near"])
        near = pa.concat_tables([self.tables["near"], fresh])
        latest = pc.max(near.column("published_at")).as_py()
        if latest is not None:
            near = near.filter(pc.greater_equal(near.column("published_at"), latest - self.window))
        self.tables["near"] = near
        kept = set(near.column("cluster").to_pylist())
        live = [(c, e, t) for c, (e, t) in clusters.items() if c in kept]
        self.tables["clusters"] = pa.table(
            dict(zip(SCHEMAS["clusters"].names, zip(*live, strict=True), strict=True))
            if live else empty("clusters").to_pydict(), schema=SCHEMAS["clusters"])

    def _files(self, manifests: list[Manifest]) -> None:
        live = live_files(self.tables["files"], manifests)
        self.tables["files"] = pa.table(
            {"kind": [k for k, _ in live], "key": [key for _, key in live]},
            schema=SCHEMAS["files"])

    def _validators(self, manifests: list[Manifest]) -> None:
        latest = {row["url"]: row for row in self.tables["validators"].to_pylist()}
        for manifest in manifests:
            for url, validator in manifest.validators.items():
                if validator.etag is None and validator.last_modified is None:
                    latest.pop(url, None)  # the run saw none: the URL's are forgotten
                else:
                    latest[url] = {"url": url, **validator.model_dump()}
        self.tables["validators"] = pa.Table.from_pylist(
            list(latest.values()), schema=SCHEMAS["validators"])


def live_files(base: pa.Table, manifests: Iterable[Manifest]) -> list[tuple[str, str]]:
    """(kind, key) of the files live after ``manifests``, on top of a files table, in commit
    order."""
    live: dict[tuple[str, str], None] = dict.fromkeys(
        zip(base.column("kind").to_pylist(), base.column("key").to_pylist(), strict=True))
    for manifest in manifests:
        for kind, keys in manifest.removes.items():
            for key in keys:
                live.pop((kind, key), None)
        for kind, keys in manifest.files.items():
            live.update(dict.fromkeys((kind, key) for key in keys))
    return list(live)


def runs_table(manifests: list[Manifest]) -> pa.Table:
    return pa.table({
        "run_id": [m.run_id for m in manifests],
        "seq": [m.seq or 0 for m in manifests],
        "operation": [m.operation for m in manifests],
        "started_at": [timestamp(m.started_at or m.committed_at) for m in manifests],
        "summary": [json.dumps(m.summary(), ensure_ascii=False) for m in manifests],
    }, schema=SCHEMAS["runs"])


def earlier(moment: float | None, than: float | None) -> bool:
    """Known times before unknown ones (as rasid.neardup ranks copies)."""
    if moment is None:
        return False
    return than is None or moment < than
