"""The lake and its commit protocol (the layout is in :mod:`rasid.storage.layout`).

Commit protocol, built so that a reader globbing ``articles/**/*.parquet`` never sees a file of
a run that did not commit, and a run killed at any moment can simply be run again:

1. *Stage.* Each data file is written once, under ``_staging/`` and a name unique to (run,
   partition, part): a conditional put on S3 (If-None-Match), a temporary name and an atomic
   link locally. A retried put that finds its own bytes there counts as done.
2. *Commit.* The manifest, listing the files the run adds (and, for compaction and
   reprocessing, the files it supersedes), is written last with a conditional put. That single
   write is the commit: before it the run does not exist for anyone, after it it does.
3. *Publish.* Superseded files are deleted, then each staged file is copied to its place in the
   table (one atomic object write each), then the staged copies are deleted. Publishing is
   idempotent; a commit whose staged files are still there is finished by the next writer
   (:meth:`Lake.publish_pending`), so a kill between commit and publish loses nothing.

Readers who need a snapshot read the manifests (:meth:`Lake.dataset`); readers who glob see,
during a publish, rows missing for a moment but never the same row twice.

Everything goes through the ``Store`` seam of :mod:`rasid.storage.stores`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from warcio.exceptions import ArchiveLoadFailed

from rasid import contract
from rasid.config import ConfigError
from rasid.models import Page
from rasid.storage import parquet, warc
from rasid.storage.commit import CommitLog, Snapshot
from rasid.storage.layout import (
    CHECKPOINTS,
    PROTOCOL_PREFIXES,
    STAGING,
    check_key,
    check_run_id,
    file_keys,
    hive_path,
    partition_path,
    staged_key,
)
from rasid.storage.manifest import Manifest
from rasid.storage.staging import Staging
from rasid.storage.stores import (
    LocalStore,
    S3Store,
    StorageError,
    Store,
    each,
)

log = logging.getLogger(__name__)


class Lake:
    """The lake on one store: Hive-partitioned Parquet, raw WARC, manifests and reports."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.staging = Staging(store)
        self.log = CommitLog(store, self.staging)
        # The commit whose state this lake's writer read (see snapshot); None: it read none.
        self.read_at: int | None = None

    @property
    def uri(self) -> str:
        """Where the lake is: an absolute path or ``s3://bucket/prefix``."""
        return self.store.uri("")

    def uri_for(self, key: str) -> str:
        """An absolute path or ``s3://`` URL for ``key``."""
        return self.store.uri(check_key(key))

    def link(self, key: str, expires_in: int) -> str:
        """A URL a browser opens for ``key``: ``file://`` for a local lake, a presigned HTTPS
        URL valid for ``expires_in`` seconds for S3 (its ``s3://`` address when that is 0)."""
        return self.store.link(check_key(key), expires_in)

    def partition_path(self, kind: str, values: Mapping[str, object]) -> str:
        """See the module-level :func:`partition_path`."""
        return partition_path(kind, values)

    def write_rows(
        self, kind: str, rows: list[dict[str, Any]], run_id: str, *, rows_per_file: int = 100_000
    ) -> list[str]:
        """Stage ``rows`` (dicts with every contract column) as Parquet; return the keys they
        will have once the run commits.

        One file per partition (more if it holds over ``rows_per_file`` rows), rows sorted by
        published_at, partition columns only in the path. Call it once per source and kind in a
        run: a second call that lands different articles in the same partition is refused.
        """
        check_run_id(run_id)
        partitions = contract.partition_columns(kind)
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            groups[partition_path(kind, {name: row.get(name) for name in partitions})].append(row)
        keys = []
        for path in sorted(groups):
            table = parquet.rows_table(kind, groups[path])
            keys += self.write_partition(kind, path, table, run_id, rows_per_file=rows_per_file)
        return keys

    def write_partition(
        self, kind: str, path: str, table: pa.Table, run_id: str, *, rows_per_file: int = 100_000
    ) -> list[str]:
        """Stage one partition's rows (an Arrow table with the file schema of ``kind``) as
        ``<path>/<run_id>-<n>.parquet``, sorted by published_at (where the table has it) then
        its key column (article_id for articles); return the final keys."""
        check_run_id(run_id)
        if not check_key(path).startswith(f"{kind}/"):
            raise ValueError(f"{path!r} is not a partition of {kind}")
        if not table.schema.equals(contract.arrow_schema(kind)):
            raise ValueError(f"{kind} rows for {path} do not have the contract's file schema")
        column = contract.key_column(kind)
        # By publication time, so row-group statistics prune the usual filters (a date range);
        # the key breaks ties, so a rerun writes the same bytes.
        order = [(c, "ascending") for c in ("published_at", column) if c in table.column_names]
        ordered = table.sort_by(order)
        keys = []
        for n, start in enumerate(range(0, ordered.num_rows, rows_per_file)):
            key = f"{path}/{run_id}-{n}.parquet"
            data = parquet.encode_table(ordered.slice(start, rows_per_file))
            self.staging.stage(key, data, run_id, parquet.key_values(column))
            keys.append(key)
        return keys

    def write_raw(self, source_id: str, run_id: str, pages: list[Page]) -> str | None:
        """Stage one source's fetched pages of a run as a gzipped WARC; None if no pages."""
        check_run_id(run_id)
        if not pages:
            return None
        strays = {page.source_id for page in pages} - {source_id}
        if strays:
            raise ValueError(f"write_raw({source_id!r}) got pages of {sorted(strays)}")
        fetch_date = min(page.fetched_at for page in pages).astimezone(UTC).date()
        path = hive_path("raw", [("source", source_id, False), ("fetch_date", fetch_date, True)])
        key = f"{path}/{run_id}.warc.gz"
        self.staging.stage(key, warc.write_pages(source_id, pages), run_id, warc.requested_urls)
        return key

    def read_raw(self, key: str) -> list[Page]:
        """The pages of a WARC written by :meth:`write_raw`, for re-running extraction: url as
        requested, content as the server meant it, fetched_at and candidate as first fetched."""
        try:
            data = self.store.get(check_key(key))
        except KeyError:
            data = self.store.get(staged_key(key))  # committed, not yet published
        try:
            return warc.read_pages(data)
        except (ArchiveLoadFailed, OSError, ValueError) as exc:
            raise StorageError(f"{self.uri_for(key)} is not a readable WARC: {exc}") from None

    def commit(self, run_id: str, manifest: dict[str, Any] | Manifest) -> str:
        """Commit a run by writing its manifest, after all its files are staged; then publish.

        ``manifest["files"]`` maps a kind ("articles", "quarantine", "raw", ...) to the keys the
        run adds; every listed file must be staged (or already published).
        ``manifest["removes"]``, in the same shape, lists committed files the run supersedes
        (compaction, reprocessing); if another run superseded one of them first, the commit is
        refused. The rest of the manifest is the caller's (counts, sources, timings). The first
        commit of a run id wins; committing again only finishes publishing it.

        Commits are optimistic: the articles of ``records`` that another run committed since
        this lake's state was read (:meth:`snapshot`) are dropped from this run's staged files
        and listed under ``duplicates_dropped``, so each article is stored once.
        """
        check_run_id(run_id)
        fields = manifest.model_dump() if isinstance(manifest, Manifest) else dict(manifest)
        if fields.get("run_id", run_id) != run_id:
            raise ValueError(f"manifest run_id {fields['run_id']!r} differs from {run_id!r}")
        if file_keys(fields.get("removes")) and not file_keys(fields.get("files")):
            # Publishing is finished when a run's staged files are gone: with none, a kill in
            # the middle of its deletes could not be told apart from a finished run.
            raise ValueError(f"run {run_id} replaces files but adds none")
        record = Manifest.model_validate(
            {**fields, "run_id": run_id, "committed_at": datetime.now(UTC).isoformat()})
        staged = self.staging.listing()

        def check(candidate: Manifest, since: list[Manifest]) -> Manifest:
            candidate = self.staging.drop_stored(candidate, since, staged)
            self.staging.check(candidate, staged, self.committed_files)
            return candidate

        key, committed = self.log.commit(record, self.read_at, check)
        self.staging.publish(committed, staged)
        return key

    def snapshot(
        self,
        tables: Iterable[str] = ("known", "bodies", "near", "clusters", "validators", "left"),
    ) -> Snapshot:
        """The state tables of the checkpoint in force and the manifests committed after it.
        A later :meth:`commit` on this lake is checked against what was committed since."""
        found = self.log.snapshot(tables)
        self.read_at = found.seq
        return found

    def publish_pending(self) -> list[str]:
        """Finish publishing every committed run whose staged files are still there (the
        writer was stopped between commit and publish); return their run ids, oldest first.
        Every writer calls this before it reads the lake's state; it also folds a checkpoint
        when one is due (see :mod:`rasid.storage.checkpoint`)."""
        # Runs a checkpoint folds were published before it was written.
        finished = self.staging.finish(self.log.pending)
        if self.log.due():
            self.log.write_checkpoint()
        return finished

    def write_checkpoint(self) -> None:
        """Fold every committed manifest into a new checkpoint now (compaction does, after
        its commit)."""
        self.log.write_checkpoint()

    def sweep(self, older_than: timedelta) -> list[str]:
        """Delete staged files that no committed run lists, and checkpoint files that the
        checkpoint in force does not read, older than ``older_than`` (left by writers that
        were killed, or superseded); return their keys.

        The age guard keeps the files of runs still in progress, and the checkpoint a reader
        that started earlier may still be reading."""
        self.publish_pending()
        listed = {staged_key(k) for m in self.log.pending() for k in file_keys(m.files)}
        keep = self.log.checkpoint_files()
        found = self.log.checkpoint()
        if found is not None:
            keep.add(f"{CHECKPOINTS}/{found.seq:012d}.json")
        cutoff = datetime.now(UTC) - older_than
        stale = sorted(
            key
            for key, stored in (self.store.scan(f"{STAGING}/")
                                | self.store.scan(f"{CHECKPOINTS}/")).items()
            if key not in listed and key not in keep and stored.modified < cutoff
        )
        each(self.store.delete, stale)
        return stale

    def manifests(self) -> list[dict[str, Any]]:
        """Every committed manifest, oldest commit first. This reads the whole commit log:
        for audits, tests and reprocessing, not for a run (see :meth:`collection_runs`)."""
        return [m.model_dump(mode="json") for m in self.log.everything()]

    def collection_runs(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Summaries of the collection runs started at or after ``since`` (every run without
        it), oldest commit first: compaction and reprocessing rewrite files but collect
        nothing, so reports and run history leave them out. Only the checkpoint's run
        segments that reach ``since`` are read."""
        return [m for m in self.log.runs(since) if m.get("operation", "collect") == "collect"]

    def committed_files(self, kind: str) -> list[str]:
        """The keys of ``kind`` that committed runs added and no later run superseded, in
        commit order."""
        return self.log.live_files(kind)

    def dataset(self, kind: str) -> ds.Dataset:
        """A pyarrow dataset of the committed files of a table, partition columns included."""
        staged = set(self.store.list(f"{STAGING}/{kind}/"))
        live = self.committed_files(kind)
        published = [key for key in live if staged_key(key) not in staged]
        pending = [staged_key(key) for key in live if staged_key(key) in staged]
        if not pending:
            return self._table_dataset(kind, published, kind)
        return ds.dataset([
            self._table_dataset(kind, published, kind),
            self._table_dataset(kind, pending, f"{STAGING}/{kind}"),
        ])

    def read_files(self, kind: str, keys: list[str], columns: list[str] | None = None
                   ) -> pa.Table:
        """The rows (``columns`` of them, default all) of some published files of a table,
        with the file schema (no partitions)."""
        filesystem, base = self.fs_and_path()
        paths = [f"{base}/{check_key(key)}" for key in keys]
        schema = contract.arrow_schema(kind)
        return ds.dataset(paths, schema=schema, format="parquet",
                          filesystem=filesystem).to_table(columns=columns)

    def file_sizes(self, kind: str) -> dict[str, int]:
        """The size in bytes of every published file of a table."""
        return {key: found.size for key, found in self.store.scan(f"{kind}/").items()}

    def fs_and_path(self) -> tuple[pafs.FileSystem, str]:
        """A pyarrow filesystem and the lake's base path in it, for ``pyarrow.dataset``."""
        return self.store.arrow_filesystem()

    def write_bytes(self, key: str, data: bytes) -> str:
        """Write (or replace) a file outside the commit protocol, e.g. under ``reports/``."""
        if check_key(key).split("/")[0] in PROTOCOL_PREFIXES:
            raise ValueError(f"{key!r} is written by the commit protocol, not write_bytes")
        self.store.put(key, data)
        return key

    def read_bytes(self, key: str) -> bytes:
        """The bytes at ``key``; KeyError if there are none."""
        return self.store.get(check_key(key))

    def _table_dataset(self, kind: str, keys: list[str], root: str) -> ds.Dataset:
        filesystem, base = self.fs_and_path()
        schema = contract.arrow_schema(kind, include_partitions=True)
        partitions = pa.schema([schema.field(name) for name in contract.partition_columns(kind)])
        return ds.dataset(
            [f"{base}/{key}" for key in keys],
            schema=schema,
            format="parquet",
            filesystem=filesystem,
            partitioning=ds.partitioning(partitions, flavor="hive"),
            partition_base_dir=f"{base}/{root}",
        )



def open_lake(uri: str = "lake") -> Lake:
    """Open the lake at a local path (created if needed) or at ``s3://bucket/prefix``."""
    if "@" in urlsplit(uri).netloc:  # s3://KEY:SECRET@bucket/...: refused without echoing it
        raise ConfigError("a lake URI must not hold credentials: use s3://bucket/prefix and set "
                          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if uri.startswith("s3://"):
        parts = urlsplit(uri)
        if not parts.netloc:
            raise ConfigError(f"lake URI {uri!r} names no bucket; use s3://bucket/prefix")
        store = S3Store(parts.netloc, parts.path)
        store.check()
        return Lake(store)
    if not uri or "://" in uri:
        raise ConfigError(f"unsupported lake URI {uri!r}: use a local path or s3://bucket/prefix")
    return Lake(LocalStore(Path(uri)))

