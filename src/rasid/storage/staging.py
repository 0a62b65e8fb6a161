"""A run's files before and after its commit: staged, checked against the commits made
meanwhile, then published (steps 1 and 3 of the commit protocol in :mod:`rasid.storage.lake`,
and the optimistic check of step 2)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from rasid import contract
from rasid.storage import parquet
from rasid.storage.layout import STAGING, file_keys, staged_key
from rasid.storage.manifest import Manifest
from rasid.storage.stores import StorageError, Store, each

log = logging.getLogger(__name__)


class Staging:
    """The staged files of the runs writing one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # Staged files this writer deleted because every row in them was stored by another
        # run: a commit that is tried again after a lost race must not list them.
        self._emptied: set[str] = set()

    def listing(self) -> set[str]:
        """The keys of every staged file now."""
        return set(self.store.list(f"{STAGING}/"))

    def stage(self, key: str, data: bytes, run_id: str,
              ids: Callable[[bytes], frozenset[str]]) -> None:
        """Write ``data`` as the staged copy of ``key``; ``ids`` reads the records of a file,
        to tell a retried write of the same batch from a clash of two."""
        staged = staged_key(key)
        if self.store.put(staged, data, if_absent=True):
            return
        existing = self.store.get(staged)
        if existing == data:  # a retried put whose first attempt had succeeded
            return
        if ids(existing) != ids(data):
            raise StorageError(
                f"{self.store.uri(key)} already holds other records of run {run_id}: write "
                "each source's rows of a run in one call"
            )
        # A retry of the same batch (the run is not committed: a committed run's staged files
        # are gone). No reader can see the earlier attempt, so it is replaced by this one.
        self.store.put(staged, data)

    def check(self, manifest: Manifest, staged: set[str],
              live: Callable[[str], list[str]]) -> None:
        """Refuse a commit whose files are not all there, or that replaces files another run
        replaced first (``live``: the committed files of a table)."""
        adds = file_keys(manifest.files)
        missing = [k for k in adds if staged_key(k) not in staged and not self.store.exists(k)]
        if missing:
            raise StorageError(
                f"cannot commit run {manifest.run_id}: {len(missing)} listed file(s) are "
                f"missing, e.g. {self.store.uri(missing[0])}"
            )
        for kind, removes in manifest.removes.items():
            gone = sorted(set(removes) - set(live(kind)))
            if gone:
                raise StorageError(
                    f"cannot commit run {manifest.run_id}: another run already replaced "
                    f"{len(gone)} of the files it replaces, e.g. {self.store.uri(gone[0])}; "
                    "run it again"
                )

    def drop_stored(self, manifest: Manifest, since: list[Manifest], staged: set[str]
                    ) -> Manifest:
        """``manifest`` without the rows that runs committed in ``since`` already stored: they
        leave its staged files, its records and its counts, and are listed under
        ``duplicates_dropped``."""
        taken = {r.article_id for m in since for r in m.records}
        dropped = {r.article_id for r in manifest.records} & taken
        if not dropped:
            return manifest
        log.warning("run %s: %d article(s) were stored by another run meanwhile; its copies "
                    "are dropped", manifest.run_id, len(dropped))
        files = {kind: self._without(keys, dropped, staged) if kind in contract.TABLES else keys
                 for kind, keys in manifest.files.items()}
        return manifest.model_copy(update={
            "files": files,
            "records": [r for r in manifest.records if r.article_id not in dropped],
            "duplicates_dropped": sorted({*manifest.duplicates_dropped, *dropped}),
            **_uncounted(manifest, dropped)})

    def publish(self, manifest: Manifest, staged: set[str]) -> None:
        """Put a committed run's staged files in their places (idempotent)."""
        # Superseded files go before their replacements arrive: a reader that globs may miss
        # rows for a moment, but never sees one twice. Staged copies go last, so while any is
        # left the publish is unfinished and the next writer redoes it (every step is idempotent).
        pending = [key for key in file_keys(manifest.files) if staged_key(key) in staged]
        if not pending:
            return
        each(self.store.delete, file_keys(manifest.removes))
        each(self._copy, pending)
        each(self.store.delete, [staged_key(key) for key in pending])
        log.debug("run %s published (%d files)", manifest.run_id, len(pending))

    def finish(self, manifests: Callable[[], Iterable[Manifest]]) -> list[str]:
        """Publish the committed runs whose staged files are still there (a writer stopped
        between its commit and the end of its publish); return their run ids, in order.
        ``manifests`` is asked for only when some staged file is left."""
        staged = self.listing()
        if not staged:
            return []
        finished = []
        for manifest in manifests():
            if any(staged_key(key) in staged for key in file_keys(manifest.files)):
                self.publish(manifest, staged)
                finished.append(manifest.run_id)
        return finished

    def _without(self, keys: list[str], ids: set[str], staged: set[str]) -> list[str]:
        kept = []
        for key in keys:
            if staged_key(key) not in staged:
                if key not in self._emptied:
                    kept.append(key)
                continue
            table = parquet.decode(self.store.get(staged_key(key)))
            if "article_id" not in table.column_names:
                kept.append(key)
                continue
            rest = table.filter(pc.invert(pc.is_in(table.column("article_id"),
                                                   pa.array(sorted(ids)))))
            if rest.num_rows == table.num_rows:
                kept.append(key)
            elif rest.num_rows:
                self.store.put(staged_key(key), parquet.encode_table(rest))
                kept.append(key)
            else:
                self.store.delete(staged_key(key))
                staged.discard(staged_key(key))
                self._emptied.add(key)
        return kept

    def _copy(self, key: str) -> None:
        try:
            self.store.copy(staged_key(key), key)
        except KeyError:
            if not self.store.exists(key):  # another writer finishing the same publish
                raise StorageError(f"staged copy of {self.store.uri(key)} vanished") from None


def _uncounted(manifest: Manifest, dropped: set[str]) -> dict[str, Any]:
    """The run's counts (``sources`` and ``totals``, when it has them) without the rows it
    dropped, so its report and the health flags count each article once."""
    extra = manifest.model_extra or {}
    sources = copy.deepcopy(extra.get("sources"))
    totals = copy.deepcopy(extra.get("totals"))
    for record in manifest.records:
        if record.article_id not in dropped:
            continue
        counter = "stored" if record.kind == "article" else "quarantined"
        for counts in (sources.get(record.source) if isinstance(sources, dict) else None,
                       totals):
            if isinstance(counts, dict) and counts.get(counter):
                counts[counter] -= 1
    return {name: value for name, value in (("sources", sources), ("totals", totals))
            if value is not None}
