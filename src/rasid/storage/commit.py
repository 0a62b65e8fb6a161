"""The commit log: numbered manifests, optimistic commits and the checkpoints folded from them.

Commit ``n`` is the manifest ``_manifests/<n>.json``, written with a conditional put: of two
writers trying the same number, one wins and the other reads what was committed, checks
its own commit against it and tries ``n + 1``. So every commit has seen every commit before it,
and a run that staged an article another run committed meanwhile drops its copy (see
:meth:`CommitLog.commit`). The log is never rewritten; a checkpoint folds its first commits so
that a reader needs the checkpoint plus only the manifests after it, which S3 lists with
StartAfter.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rasid.storage import checkpoint as cp
from rasid.storage.layout import (
    CHECKPOINTS,
    LAST_CHECKPOINT,
    MANIFESTS,
    NUMBERED_END,
    manifest_key,
    manifest_seq,
    manifests_after,
)
from rasid.storage.manifest import Manifest, encode_manifest, parse_manifest
from rasid.storage.staging import Staging
from rasid.storage.stores import StorageError, Store, each, in_parallel

log = logging.getLogger(__name__)

# A checkpoint is folded once this many commits are past the last one: a run then reads at
# most this many manifests besides the checkpoint.
CHECKPOINT_EVERY = 12
# The near-duplicate window a checkpoint keeps signatures for (see rasid.pipeline.state).
NEAR_WINDOW = timedelta(days=7)
# Two writers racing for commit numbers retry this often before giving up.
_COMMIT_ATTEMPTS = 100


@dataclass
class Snapshot:
    """What a run reads before it starts: a checkpoint's state tables and the manifests
    committed after it, up to commit ``seq``."""

    checkpoint: cp.Checkpoint | None
    tables: dict[str, pa.Table]
    manifests: list[Manifest]
    seq: int


class CommitLog:
    """The manifests and checkpoints of one lake."""

    def __init__(self, store: Store, staging: Staging) -> None:
        self.store = store
        self._staging = staging
        self._cache: dict[str, Manifest] = {}
        self._tables: dict[str, pa.Table] = {}
        self._checkpoint: cp.Checkpoint | None = None
        self.near_window = NEAR_WINDOW
        self.checkpoint_every = CHECKPOINT_EVERY

    # --- reading --------------------------------------------------------------------------

    def checkpoint(self) -> cp.Checkpoint | None:
        """The checkpoint in force (read once per log; refreshed when this log writes one)."""
        if self._checkpoint is None:
            try:
                data = self.store.get(LAST_CHECKPOINT)
            except KeyError:
                return None
            self._checkpoint = _descriptor(data, self.store.uri(LAST_CHECKPOINT))
        return self._checkpoint

    def pending(self) -> list[Manifest]:
        """The manifests no checkpoint folds yet, in commit order."""
        found = self.checkpoint()
        if found is None:  # a young lake, or one from before checkpoints: list it whole
            return self._legacy() + self._numbered(self.store.list(f"{MANIFESTS}/"))
        return self.after(found.seq)

    def after(self, seq: int) -> list[Manifest]:
        """The manifests of the commits after ``seq``, in commit order."""
        keys = self.store.list_after(f"{MANIFESTS}/", manifests_after(seq), NUMBERED_END)
        return self._numbered(keys)

    def everything(self) -> list[Manifest]:
        """Every manifest ever committed, oldest first: for audits and reprocessing only (it
        reads the whole log)."""
        return self._legacy() + self._numbered(self.store.list(f"{MANIFESTS}/"))

    def checkpoint_arrays(self, found: cp.Checkpoint | None, name: str) -> dict[str, np.ndarray]:
        """The key table ``name`` of checkpoint ``found`` as numpy arrays (see
        :func:`rasid.storage.checkpoint.decode_arrays`), read now and not kept."""
        if found is None or name not in found.tables:
            return cp.key_arrays(name)
        return cp.decode_arrays(name, self.store.get(found.tables[name]))

    def checkpoint_table(self, found: cp.Checkpoint | None, name: str) -> pa.Table:
        """One table of checkpoint ``found`` (empty without one), read now and not kept."""
        if found is None or name not in found.tables:
            return cp.empty(name)
        return cp.decode_table(name, self.store.get(found.tables[name]))

    def table(self, name: str) -> pa.Table:
        """One table of the checkpoint in force (empty without one)."""
        if name not in self._tables:
            found = self.checkpoint()
            if found is None or name not in found.tables:
                return cp.empty(name)
            self._tables[name] = cp.decode_table(name, self.store.get(found.tables[name]))
        return self._tables[name]

    def snapshot(self, tables: Iterable[str]) -> Snapshot:
        found = self.checkpoint()
        pending = self.pending()
        seq = max([found.seq if found else 0, *(m.seq or 0 for m in pending)])
        return Snapshot(found, {name: self.table(name) for name in tables}, pending, seq)

    def runs(self, since: datetime | None) -> list[dict[str, Any]]:
        """Summaries of the runs started at or after ``since`` (all runs without it), oldest
        commit first; only the checkpoint segments that reach ``since`` are read."""
        start = since.timestamp() if since else float("-inf")
        found = self.checkpoint()
        summaries: list[dict[str, Any]] = []
        for segment in found.runs if found else []:
            if segment.last_started >= start:
                table = cp.decode_table("runs", self.store.get(segment.key))
                table = table.filter(pc.greater_equal(table.column("started_at"), start))
                summaries += [json.loads(s) for s in table.column("summary").to_pylist()]
        for manifest in self.pending():
            if (cp.timestamp(manifest.started_at or manifest.committed_at) or 0) >= start:
                summaries.append(manifest.summary())
        return summaries

    def live_files(self, kind: str) -> list[str]:
        """Keys of ``kind`` that committed runs added and no later run superseded."""
        live = cp.live_files(self.table("files"), self.pending())
        return [key for k, key in live if k == kind]

    # --- committing -----------------------------------------------------------------------

    def commit(
        self, manifest: Manifest, read_at: int | None,
        check: Callable[[Manifest, list[Manifest]], Manifest],
    ) -> tuple[str, Manifest]:
        """Commit ``manifest`` under the next free number; return its key and the manifest as
        committed. ``check`` sees the manifest and the commits made since ``read_at`` (the
        commit whose state the run read; None: all since the checkpoint) and returns it
        adjusted (rows another run stored dropped) or raises. The first commit of a run id
        wins: committing it again returns the first one."""
        base = self.checkpoint()
        since = read_at if read_at is not None else (base.seq if base else 0)
        seen = self.after(since) if base or read_at is not None else self.pending()
        # Rows are checked against the commits since the run read its state; a run that read
        # none (compaction, reprocessing) against those that win a race with it.
        conflicts_after = read_at if read_at is not None else max(
            [since, *(m.seq or 0 for m in seen)])
        for _ in range(_COMMIT_ATTEMPTS):
            for earlier in seen:
                if earlier.run_id == manifest.run_id:
                    log.info("run %s was already committed; its first manifest stands",
                             manifest.run_id)
                    return self._key_of(earlier), earlier
            head = max([since, *(m.seq or 0 for m in seen)])
            checked = check(manifest, [m for m in seen if (m.seq or 0) > conflicts_after])
            committed = checked.model_copy(update={
                "seq": head + 1, "committed_at": datetime.now(UTC).isoformat()})
            key = manifest_key(head + 1)
            if self.store.put(key, encode_manifest(committed), if_absent=True):
                self._cache[key] = committed
                return key, committed
            # Another writer took the number (or an earlier attempt of ours did, unseen):
            # read what was committed and try again after it.
            seen = seen + self.after(head)
        raise StorageError(f"run {manifest.run_id} could not get a commit number after "
                           f"{_COMMIT_ATTEMPTS} tries: too many writers at once")

    # --- checkpoints ----------------------------------------------------------------------

    def due(self) -> bool:
        """Whether enough commits are past the checkpoint (or a lake from before checkpoints
        has none yet) to fold a new one."""
        pending = self.pending()
        if self.checkpoint() is None and any(m.seq is None for m in pending):
            return True
        return len(pending) >= self.checkpoint_every

    def write_checkpoint(self) -> cp.Checkpoint | None:
        """Fold the pending manifests into a new checkpoint; return it (None: nothing to fold)."""
        base = self.checkpoint()
        pending = self.pending()
        if not pending:
            return base
        seq = max([base.seq if base else 0, *(m.seq or 0 for m in pending)])
        # The checkpoint says these commits are done: make sure their publishing is.
        self._staging.finish(lambda: pending)
        now = datetime.now(UTC)
        # The key tables are read into arrays a row group at a time (the largest tables, so
        # no Arrow decoding copy of them); the filter is built anew.
        keyed = {name: cp.key_table(name, self.checkpoint_arrays(base, name))
                 for name in ("known", "bodies")}
        fold = cp.Fold(keyed | {name: self.table(name) for name in cp.SCHEMAS
                                if name not in ("runs", "bloom", *keyed)},
                       self.near_window.total_seconds())
        del keyed  # the fold replaces them: the old arrays go as the new ones are built
        fold.fold(pending)
        folder = f"{CHECKPOINTS}/{seq:012d}-{uuid.uuid4().hex[:12]}"
        tables = {name: f"{folder}/{name}.parquet" for name in fold.tables}
        for name in ("known", "bodies"):  # one at a time: each is encoded whole in memory
            self._put_new(tables[name], cp.encode_table(fold.tables.pop(name)))
        each(lambda name: self._put_new(tables[name], cp.encode_table(fold.tables[name])),
             [name for name in tables if name in fold.tables])
        descriptor = cp.Checkpoint(
            seq=seq, written_at=now.isoformat(),
            near_window_days=self.near_window.total_seconds() / 86400, tables=tables,
            runs=self._run_segments(base.runs if base else [], pending, folder),
        )
        data = descriptor.model_dump_json(indent=1).encode()
        if not self.store.put(f"{CHECKPOINTS}/{seq:012d}.json", data, if_absent=True):
            # Another writer folded the same commits first: theirs stands, ours is dropped.
            each(self.store.delete, [*tables.values(),
                                     *(s.key for s in descriptor.runs if s.key.startswith(folder))])
            data = self.store.get(f"{CHECKPOINTS}/{seq:012d}.json")
            descriptor = _descriptor(data, self.store.uri(f"{CHECKPOINTS}/{seq:012d}.json"))
        self._point_to(descriptor, data)
        self._checkpoint, self._tables = descriptor, {}
        return descriptor

    def checkpoint_files(self) -> set[str]:
        """Every key the checkpoint in force reads."""
        found = self.checkpoint()
        if found is None:
            return set()
        return {*found.tables.values(), *(s.key for s in found.runs)}

    def _point_to(self, descriptor: cp.Checkpoint, data: bytes) -> None:
        # The pointer only moves forward; a writer that lost a race to a newer checkpoint
        # leaves it. (Between the read and the write another writer may move it; the cost is
        # a few more manifests to read until the next checkpoint, never a wrong state.)
        try:
            current = _descriptor(self.store.get(LAST_CHECKPOINT), LAST_CHECKPOINT)
        except KeyError:
            current = None
        if current is None or current.seq < descriptor.seq:
            self.store.put(LAST_CHECKPOINT, data)

    def _run_segments(
        self, segments: list[cp.RunSegment], pending: list[Manifest], folder: str
    ) -> list[cp.RunSegment]:
        """The runs table's segments with ``pending`` added: the last segment is rewritten
        with them while it has room, so segments hold up to RUN_SEGMENT runs each."""
        segments = list(segments)
        carried: list[pa.Table] = []
        if segments and segments[-1].runs < cp.RUN_SEGMENT:
            last = segments.pop()
            carried.append(cp.decode_table("runs", self.store.get(last.key)))
        table = pa.concat_tables([*carried, cp.runs_table(pending)])
        for n, start in enumerate(range(0, table.num_rows, cp.RUN_SEGMENT)):
            part = table.slice(start, cp.RUN_SEGMENT)
            key = f"{folder}/runs-{n}.parquet"
            self._put_new(key, cp.encode_table(part))
            seqs = part.column("seq").to_pylist()
            segments.append(cp.RunSegment(
                key=key, first_seq=seqs[0], last_seq=seqs[-1], runs=part.num_rows,
                last_started=pc.max(part.column("started_at")).as_py() or 0.0))
        return segments

    def _put_new(self, key: str, data: bytes) -> None:
        if not self.store.put(key, data, if_absent=True) and self.store.get(key) != data:
            raise StorageError(f"{self.store.uri(key)} already holds other data")

    # --- manifests ------------------------------------------------------------------------

    def _numbered(self, keys: list[str]) -> list[Manifest]:
        numbered = sorted((seq, key) for key in keys if (seq := manifest_seq(key)) is not None)
        return in_parallel(self._read, [key for _, key in numbered])

    def _legacy(self) -> list[Manifest]:
        keys = [k for k in self.store.list(f"{MANIFESTS}/")
                if manifest_seq(k) is None and k.endswith(".json")]
        found = in_parallel(self._read, keys)
        return sorted(found, key=lambda m: (m.committed_at, m.run_id))

    def _key_of(self, manifest: Manifest) -> str:
        """The key ``manifest`` was read from (its name depends on the version that wrote it)."""
        return next(key for key, found in self._cache.items() if found is manifest)

    def _read(self, key: str) -> Manifest:
        if key not in self._cache:
            try:
                self._cache[key] = parse_manifest(self.store.get(key), self.store.uri(key))
            except ValueError as exc:
                raise StorageError(str(exc)) from None
        return self._cache[key]


def _descriptor(data: bytes, where: str) -> cp.Checkpoint:
    try:
        return cp.Checkpoint.model_validate_json(data)
    except ValueError as exc:
        raise StorageError(f"checkpoint {where} is not valid: {exc}") from None

