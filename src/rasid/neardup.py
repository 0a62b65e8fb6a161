"""Near-duplicates across articles: MinHash signatures and LSH over Arabic-normalised text.

A syndicated copy is rarely byte-identical: another outlet adds its dateline ("حلب - ..."),
drops a paragraph, writes another headline, spells hamza or ta marbuta its own way. Bodies are
compared as sets of word 5-grams ("shingles") of ``text.normalize_arabic``; two bodies whose
estimated Jaccard similarity reaches ``THRESHOLD`` are copies of one story.

Why numpy rather than a MinHash library: the lake keeps a signature for every stored article
(in the run manifests), so signatures must be small and their hash functions fixed forever,
and a run compares a whole batch against everything stored, so hashing and lookup must be
vectorised. Each signature is 128 minima of multiply-shift hashes, of which the low 16 bits
are kept ("b-bit MinHash": 256 bytes, and two unrelated texts agree on a value with chance
2^-16). LSH cuts it into 32 bands of 4 values; articles sharing any band are candidates, and
a candidate counts when its values agree on at least ``THRESHOLD`` of the positions.

Changing a constant below changes every signature: stored ones would no longer compare. Bump
``VERSION`` with it, and signatures of the old version are then ignored.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rasid.text import normalize_arabic

VERSION = 1
SHINGLE_WORDS = 5
PERMUTATIONS = 128
BANDS = 32  # of 4 values of 16 bits each: one 64-bit key per band
# Estimated Jaccard similarity from which two bodies are copies. With 32 bands of 4, a pair
# at 0.5 becomes a candidate with 87% chance, at 0.6 with 99%; at 0.2, 5%.
THRESHOLD = 0.5
MIN_SHINGLES = 10  # a shorter text is a caption or a stub: too little to call a copy
_WORD = re.compile(r"\w+")


def _constants(label: str, count: int) -> np.ndarray:
    """Fixed pseudo-random 64-bit numbers, the same on every machine and numpy version."""
    return np.array([int.from_bytes(hashlib.blake2b(f"rasid-minhash-{label}-{i}".encode(),
                                                    digest_size=8).digest(), "little")
                     for i in range(count)], dtype=np.uint64)


_MULTIPLIERS = _constants("a", PERMUTATIONS) | np.uint64(1)  # odd: multiply-shift hashing
_OFFSETS = _constants("b", PERMUTATIONS)
_BAND_SALTS = _constants("band", BANDS)  # one key space for all bands, without collisions
_ROLL = np.uint64(0x9E3779B97F4A7C15)


def _mix(values: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (xor-shift-multiply): spreads crc32 combinations over all bits."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    mixed: np.ndarray = values ^ (values >> np.uint64(33))
    return mixed


def shingles(text: str, *, normalized: bool = False) -> np.ndarray:
    """64-bit hashes of the text's word 5-grams, after Arabic normalisation (``normalized``:
    the text has been through ``normalize_arabic`` already)."""
    words = _WORD.findall(text if normalized else normalize_arabic(text))
    if len(words) < SHINGLE_WORDS:
        return np.empty(0, dtype=np.uint64)
    hashes = np.fromiter((zlib.crc32(w.encode()) for w in words), dtype=np.uint64,
                         count=len(words))
    count = len(words) - SHINGLE_WORDS + 1
    combined = hashes[:count].copy()
    with np.errstate(over="ignore"):
        for offset in range(1, SHINGLE_WORDS):
            combined = combined * _ROLL + hashes[offset:offset + count]
        return np.unique(_mix(combined))


def signatures(texts: Sequence[str]) -> list[np.ndarray | None]:
    """The MinHash signature (PERMUTATIONS uint16) of each text; None for a text too short."""
    sets = [shingles(text) for text in texts]
    usable = [i for i, s in enumerate(sets) if len(s) >= MIN_SHINGLES]
    out: list[np.ndarray | None] = [None] * len(texts)
    if not usable:
        return out
    values = np.concatenate([sets[i] for i in usable])
    starts = np.cumsum([0] + [len(sets[i]) for i in usable[:-1]])
    minima = np.empty((len(usable), PERMUTATIONS), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for p in range(PERMUTATIONS):
            hashed = (values * _MULTIPLIERS[p] + _OFFSETS[p]) >> np.uint64(32)
            minima[:, p] = np.minimum.reduceat(hashed, starts)
    signed = (minima & np.uint64(0xFFFF)).astype(np.uint16)
    for row, index in enumerate(usable):
        out[index] = signed[row]
    return out


def signature(text: str, *, normalized: bool = False) -> np.ndarray | None:
    """The MinHash signature of one text, as ``signatures`` gives it; the extraction workers
    compute it beside the body hash, from the same normalised body."""
    found = shingles(text, normalized=normalized)
    if len(found) < MIN_SHINGLES:
        return None
    with np.errstate(over="ignore"):
        hashed = (found[:, None] * _MULTIPLIERS[None, :] + _OFFSETS[None, :]) >> np.uint64(32)
    signed: np.ndarray = (hashed.min(axis=0) & np.uint64(0xFFFF)).astype(np.uint16)
    return signed


def to_bytes(signature: np.ndarray | None) -> bytes:
    """A signature as it travels from a worker (``Extracted.minhash``): b"" for a text too
    short to have one."""
    return b"" if signature is None else signature.astype("<u2").tobytes()


def from_bytes(raw: bytes) -> np.ndarray | None:
    """The signature ``to_bytes`` gave; None for a text too short (or a value of the wrong
    size)."""
    if len(raw) != 2 * PERMUTATIONS:
        return None
    return np.frombuffer(raw, dtype="<u2").astype(np.uint16)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float(np.mean(a == b))


def encode(signature: np.ndarray) -> str:
    """A signature as text for the run manifest (~350 characters)."""
    return f"v{VERSION}:" + base64.b64encode(signature.astype("<u2").tobytes()).decode("ascii")


def decode(value: str | None) -> np.ndarray | None:
    """The signature ``encode`` wrote; None for another version or a damaged value."""
    prefix = f"v{VERSION}:"
    if not value or not value.startswith(prefix):
        return None
    try:
        raw = base64.b64decode(value[len(prefix):], validate=True)
    except ValueError:
        return None
    if len(raw) != 2 * PERMUTATIONS:
        return None
    return np.frombuffer(raw, dtype="<u2").astype(np.uint16)


def decode_many(values: Sequence[str | None]) -> tuple[list[int], np.ndarray]:
    """The positions of the values ``encode`` wrote (this version, undamaged) and their
    signatures as one (n, PERMUTATIONS) array."""
    prefix = f"v{VERSION}:"
    kept, raw = [], []
    for position, value in enumerate(values):
        if value and value.startswith(prefix):
            try:
                data = base64.b64decode(value[len(prefix):], validate=True)
            except ValueError:
                continue
            if len(data) == 2 * PERMUTATIONS:
                kept.append(position)
                raw.append(data)
    matrix = np.frombuffer(b"".join(raw), dtype="<u2").astype(np.uint16)
    return kept, matrix.reshape(len(kept), PERMUTATIONS)


def _band_keys(signatures: np.ndarray) -> np.ndarray:
    """(n, BANDS) 64-bit keys: each band's 4 values packed, salted by the band's number."""
    packed = np.ascontiguousarray(signatures.astype("<u2")).view("<u8").astype(np.uint64)
    keys: np.ndarray = packed.reshape(len(signatures), BANDS) ^ _BAND_SALTS
    return keys


@dataclass
class _Segment:
    """Band keys in sorted order, with the index entry each belongs to."""

    keys: np.ndarray
    owners: np.ndarray

    @classmethod
    def of(cls, keys: np.ndarray, owners: np.ndarray) -> _Segment:
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], owners[order])

    def lookup(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query position, owner) for every key equal to a query key."""
        # Searched in sorted order, each search starts where the last one ended: far fewer
        # cache misses on a large segment.
        order = np.argsort(queries, kind="stable")
        low = np.searchsorted(self.keys, queries[order], "left")
        high = np.searchsorted(self.keys, queries[order], "right")
        counts = high - low
        where = np.repeat(order, counts)
        # Position within each query's run of equal keys, added to the run's start.
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return where, self.owners[np.repeat(low, counts) + within]


@dataclass
class Cluster:
    earliest_id: str
    earliest_at: float | None  # POSIX time of publication; None when unknown


@dataclass
class Index:
    """Signatures of stored articles, each with its cluster, searchable by LSH band.

    Keys are kept in sorted segments that merge like a binary counter, so adding n articles
    in batches costs O(n log n) and a lookup O(log² n): a run stays about linear in the
    size of the lake.
    """

    clusters: list[str] = field(default_factory=list)  # each entry's cluster
    by_cluster: dict[str, Cluster] = field(default_factory=dict)
    _signatures: np.ndarray = field(
        default_factory=lambda: np.empty((0, PERMUTATIONS), dtype=np.uint16))
    _size: int = 0
    _segments: list[_Segment] = field(default_factory=list)
    _pending: list[tuple[np.ndarray, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return self._size

    def add(self, article_id: str, signature: np.ndarray, cluster: str,
            published_at: float | None) -> None:
        """One stored article; it becomes its cluster's earliest copy if it is older."""
        if self._size == len(self._signatures):  # grow by doubling: amortised O(1) per add
            grown = np.empty((max(64, 2 * self._size), PERMUTATIONS), dtype=np.uint16)
            grown[: self._size] = self._signatures[: self._size]
            self._signatures = grown
        self._signatures[self._size] = signature
        self._pending.append((signature, self._size))
        self._size += 1
        self.clusters.append(cluster)
        known = self.by_cluster.get(cluster)
        if known is None or _earlier(published_at, known.earliest_at):
            self.by_cluster[cluster] = Cluster(article_id, published_at)

    def add_many(self, article_ids: Sequence[str], signatures: np.ndarray,
                 clusters: Sequence[str], published_at: Sequence[float | None]) -> None:
        """Many stored articles at once (a checkpoint's window): the same as ``add`` for each,
        with the band keys sorted in one pass."""
        self._flush()
        count = len(article_ids)
        if not count:
            return
        grown = np.empty((self._size + count, PERMUTATIONS), dtype=np.uint16)
        grown[: self._size] = self._signatures[: self._size]
        grown[self._size:] = signatures
        owners = np.arange(self._size, self._size + count, dtype=np.int32)
        self._signatures, self._size = grown, self._size + count
        self.clusters.extend(clusters)
        for article_id, cluster, moment in zip(article_ids, clusters, published_at, strict=True):
            known = self.by_cluster.get(cluster)
            if known is None or _earlier(moment, known.earliest_at):
                self.by_cluster[cluster] = Cluster(article_id, moment)
        self._merge_in(_segment(signatures, owners))

    def _flush(self) -> None:
        if not self._pending:
            return
        sigs = np.stack([s for s, _ in self._pending])
        owners = np.array([o for _, o in self._pending], dtype=np.int32)
        self._pending = []
        self._merge_in(_segment(sigs, owners))

    def _merge_in(self, segment: _Segment) -> None:
        while self._segments and len(self._segments[-1].keys) <= len(segment.keys):
            last = self._segments.pop()
            segment = _Segment.of(np.concatenate([last.keys, segment.keys]),
                                  np.concatenate([last.owners, segment.owners]))
        self._segments.append(segment)

    def matches(self, signatures: np.ndarray) -> list[list[tuple[int, float]]]:
        """For each query signature, (entry, similarity) of the stored articles it copies."""
        self._flush()
        return _similar(self._segments, self._signatures, signatures)


def _segment(signatures: np.ndarray, owners: np.ndarray) -> _Segment:
    keys = _band_keys(signatures).ravel()
    order = np.argsort(keys, kind="stable")
    # Key i belongs to signature i // BANDS: no repeated copy of the owners is needed.
    return _Segment(keys[order], owners[order // BANDS].astype(np.int32, copy=False))


def _similar(segments: list[_Segment], owned: np.ndarray,
             queries: np.ndarray) -> list[list[tuple[int, float]]]:
    """For each query, (owner, similarity) of the owned signatures that share a band with it
    and reach THRESHOLD."""
    found: list[list[tuple[int, float]]] = [[] for _ in range(len(queries))]
    if not len(queries) or not segments:
        return found
    keys = _band_keys(queries).ravel()
    pairs = [segment.lookup(keys) for segment in segments]
    where = np.concatenate([w for w, _ in pairs]) // BANDS
    owners = np.concatenate([o for _, o in pairs])
    unique = np.unique(np.stack([where, owners], axis=1), axis=0)
    if not len(unique):
        return found
    scores = np.mean(queries[unique[:, 0]] == owned[unique[:, 1]], axis=1)
    for (query, owner), score in zip(unique.tolist(), scores.tolist(), strict=True):
        if score >= THRESHOLD:
            found[query].append((owner, score))
    return found


def _earlier(moment: float | None, than: float | None) -> bool:
    """Known times before unknown ones; equal times keep the copy that came first."""
    if moment is None:
        return False
    return than is None or moment < than


@dataclass(frozen=True)
class Item:
    """One article of a batch, in the order copies should be ranked (oldest first)."""

    article_id: str
    signature: np.ndarray | None
    published_at: float | None
    can_own: bool  # may start a cluster and be matched by later rows (passes blocking checks)


@dataclass(frozen=True)
class Verdict:
    cluster: str | None  # None: the text is too short to compare
    duplicate_of: str | None  # the cluster's earliest copy, when that is not this article


def assign(index: Index, items: Sequence[Item]) -> list[Verdict]:
    """The cluster and earliest copy of each item, against the index and earlier items.

    The index is not changed: the caller adds what it stores (``Index.add``) once stored.
    """
    usable = [i for i, item in enumerate(items) if item.signature is not None]
    signatures = [item.signature for item in items if item.signature is not None]
    matrix = np.stack(signatures) if signatures else np.empty((0, PERMUTATIONS), dtype=np.uint16)
    stored = index.matches(matrix)
    # This batch's items that may own a cluster, for the items after them.
    owners = np.array([row for row, i in enumerate(usable) if items[i].can_own], dtype=np.int64)
    earlier = _similar([_segment(matrix[owners], owners)] if len(owners) else [], matrix, matrix)
    local: dict[str, Cluster] = {}
    assigned: dict[int, str] = {}
    verdicts = [Verdict(None, None)] * len(items)
    for row, position in enumerate(usable):
        item = items[position]
        options = [(score, index.clusters[owner]) for owner, score in stored[row]]
        options += [(score, assigned[usable[other]]) for other, score in earlier[row]
                    if other < row]
        # The closest copy decides the cluster; on a tie, the copy that came first.
        cluster = max(options, key=lambda option: option[0])[1] if options else item.article_id
        assigned[position] = cluster
        known = local.get(cluster) or index.by_cluster.get(cluster)
        if known is not None and not _earlier(item.published_at, known.earliest_at):
            verdicts[position] = Verdict(cluster, known.earliest_id)
            continue
        verdicts[position] = Verdict(cluster, None)
        if item.can_own:
            local[cluster] = Cluster(item.article_id, item.published_at)
    return verdicts
